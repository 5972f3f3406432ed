"""The three servers the platform needs: RabbitMQ, FerretDB (MongoDB protocol) and Elasticsearch.

Each one is either *local* (installed and started by us, data under var/, stopped by `make down`) or
*external* (something already answers at its address: used as it is, never started or stopped).
"""

import json
import os
import secrets
import shutil
import stat
import string
import subprocess
import time
from pathlib import Path

from . import net, system
from .paths import BUILD, DEPLOY, INSTALL_LOG, ROOT, TOOLS, VAR, rel
from .procs import Managed, run_logged
from .settings import OWNER_MARKER, child_env, host_port, is_loopback, platform_env, user_set
from .ui import Failure, say, tail, took, warn


class Server:
    """What RabbitMQ, FerretDB and Elasticsearch have in common; subclasses fill in the specifics."""

    name = ""         # also the pid file and log name
    url_var = ""      # the environment variable holding its address
    default_port = 0
    start_timeout = 60.0
    stop_timeout = 20.0

    def __init__(self):
        self.process = Managed(self.name)

    # -- address ---------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return platform_env()[self.url_var]

    @property
    def address(self) -> tuple[str, int]:
        return host_port(self.url, self.default_port)

    def display_address(self) -> str:
        host, port = self.address
        return f"{host}:{port}"

    @property
    def address_file(self) -> Path:
        return self.process.pidfile.with_suffix(".address")

    def local_address(self) -> str:
        """Where our own server listens (recorded when it was started)."""
        try:
            return self.address_file.read_text().strip()
        except OSError:
            return self.display_address()

    # -- probes (overridden) ---------------------------------------------------------------------
    def answers(self) -> bool:
        """Some server (ours or not) listens at the address."""
        return net.tcp_open(*self.address)

    def ready(self) -> bool:
        """The server is fully usable."""
        return self.answers()

    # -- lifecycle (overridden) ------------------------------------------------------------------
    def install(self) -> None:
        """Install or build what start() needs; quick when already done."""

    def spawn(self) -> None:
        raise NotImplementedError

    def after_stop(self) -> None:
        """Clean-up after the process is gone."""

    # -- shared logic ----------------------------------------------------------------------------
    def where(self) -> str:
        if self.process.running():
            return "local"
        return "external" if self.answers() else "-"

    def ensure(self) -> str:
        """Make the server available: reuse ours, use an external one, or install and start one."""
        pid = self.process.pid()
        if pid is not None and self.local_address() != self.display_address():
            raise Failure(f"{self.name}: {self.url_var} points at {self.display_address()}, but this stack's own "
                          f"{self.name} runs at {self.local_address()}; run `make down` first to switch")
        if pid is not None:
            if not self.ready():
                started = time.monotonic()
                say(f"{self.name}: already started (pid {pid}), waiting until it is ready")
                net.wait_for(self.ready, self.name, self.start_timeout, self.process, self.process.log)
                say(f"{self.name} ready in {took(started)}")
            else:
                say(f"{self.name} already running (pid {pid}, {self.display_address()})")
            return "local"
        if self.answers():
            origin = (f"{self.url_var} is set" if user_set(self.url_var)
                      else "already running, not started by this stack")
            say(f"{self.name}: using the external server at {self.display_address()} ({origin}); "
                "it is neither started nor stopped here")
            self.check_external()
            return "external"
        host, _ = self.address
        if not is_loopback(host):
            raise Failure(f"{self.name}: {self.url_var}={self.url} does not answer, and it is not a local "
                          f"address this stack could start a server on; start that server or unset {self.url_var}")
        self.install()
        started = time.monotonic()
        say(f"starting {self.name} on {self.display_address()}")
        self.spawn()
        self.address_file.write_text(self.display_address() + "\n")
        net.wait_for(self.ready, f"{self.name} on {self.display_address()}", self.start_timeout,
                     self.process, self.process.log)
        say(f"{self.name} started (pid {self.process.pid()}) and ready in {took(started)}")
        return "local"

    def check_external(self) -> None:
        """Warn when an external server lacks something the platform needs."""

    def stop(self) -> None:
        pid = self.process.pid()
        if pid is None:
            if self.answers():
                say(f"{self.name}: external server at {self.display_address()} left alone")
            self.after_stop()
            return
        started = time.monotonic()
        self.graceful_stop()
        self.process.stop(self.stop_timeout)
        self.after_stop()
        say(f"{self.name} stopped (pid {pid}) in {took(started)}")

    def graceful_stop(self) -> None:
        """A server-specific shutdown request before SIGTERM (default: none)."""


class RabbitMQ(Server):
    """Debian's rabbitmq-server, run as our own node with everything under var/rabbitmq/."""

    name = "rabbitmq"
    url_var = "AMQP_URI"
    default_port = 5672
    start_timeout = 120.0
    stop_timeout = 30.0
    package = "rabbitmq-server"
    node = "portal@localhost"
    bin_dir = Path("/usr/lib/rabbitmq/bin")   # the real scripts, not the wrappers that su to 'rabbitmq'

    def __init__(self):
        super().__init__()
        self.base = VAR / "rabbitmq"

    @property
    def management_url(self) -> str:
        return platform_env()["RABBIT_MANAGEMENT_URI"].rstrip("/")

    def management_ok(self) -> bool:
        return net.http_ok(self.management_url + "/api/overview")

    def ready(self) -> bool:
        return self.answers() and self.management_ok()

    def check_external(self) -> None:
        if not self.management_ok():
            shown = self.management_url.split("@")[-1]
            warn(f"no RabbitMQ management API at {shown} (tests create a vhost per test "
                 "through it): enable the rabbitmq_management plugin there or set RABBIT_MANAGEMENT_URI")

    # -- install -------------------------------------------------------------------------------------
    def install(self) -> None:
        version = system.installed_version(self.package)
        if version and (self.bin_dir / "rabbitmq-server").exists():
            say(f"{self.package} already installed ({version})")
            return
        started = time.monotonic()
        say(f"installing {self.package} with apt-get (first run only, about a minute; output in {system.apt_log()})")
        # no_service_start: the package's init script must not start a system-wide broker on our ports.
        system.apt_install([self.package], no_service_start=True)
        self._stop_system_broker()
        say(f"{self.package} installed (apt) in {took(started)}")

    def _stop_system_broker(self) -> None:
        """If the package started its own broker anyway, stop it: ours uses the same ports."""
        brokers = [pid for pid in _pids_matching("beam") if "rabbit" in _cmdline(pid) and not _ours(pid)]
        if not brokers:
            return
        warn(f"the {self.package} package started a system broker (pid {brokers[0]}); stopping it")
        for argv in (["/usr/sbin/rabbitmqctl", "stop"], ["service", "rabbitmq-server", "stop"]):
            try:
                subprocess.run(system.privileged(argv), capture_output=True, timeout=120, check=False)
            except (OSError, subprocess.TimeoutExpired):
                continue
            if not any(_alive(pid) for pid in brokers):
                break
        else:
            subprocess.run(system.privileged(["kill", *map(str, brokers)]), check=False)
        _epmd_kill()

    # -- start / stop --------------------------------------------------------------------------------
    def _env(self) -> dict:
        return child_env({
            "HOME": str(self.base),  # the Erlang cookie shared by the server and rabbitmqctl
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.address[1]),
            "RABBITMQ_MNESIA_BASE": str(self.base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.base / "log"),
            "RABBITMQ_PID_FILE": str(self.base / "rabbitmq.pid"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.base / "enabled_plugins"),
            "RABBITMQ_CONFIG_FILE": str(self.base / "rabbitmq.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(self.base / "advanced.config"),
            # An empty env file: settings in /etc/rabbitmq/rabbitmq-env.conf must not leak into our node.
            "RABBITMQ_CONF_ENV_FILE": str(self.base / "rabbitmq-env.conf"),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            # Erlang distribution (port 25672) on loopback only, like everything else here.
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        })

    def _write_config(self) -> None:
        for directory in (self.base, self.base / "mnesia", self.base / "log"):
            directory.mkdir(parents=True, exist_ok=True)
        cookie = self.base / ".erlang.cookie"
        if not cookie.exists():
            cookie.write_text("".join(secrets.choice(string.ascii_uppercase) for _ in range(32)))
        os.chmod(cookie, 0o400)  # Erlang refuses a cookie others can read
        _, management_port = host_port(self.management_url, 15672)
        template = string.Template((DEPLOY / "rabbitmq" / "rabbitmq.conf").read_text())
        (self.base / "rabbitmq.conf").write_text(template.substitute(management_port=management_port))
        shutil.copyfile(DEPLOY / "rabbitmq" / "enabled_plugins", self.base / "enabled_plugins")
        (self.base / "rabbitmq-env.conf").write_text("# intentionally empty: see deploy/local/portalstack/infra.py\n")

    def rabbitmqctl(self, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess:
        return subprocess.run([str(self.bin_dir / "rabbitmqctl"), "-n", self.node, *args], env=self._env(),
                              cwd=self.base, capture_output=True, text=True, timeout=timeout)

    def _nodes_up(self) -> bool:
        try:
            return self.rabbitmqctl("await_startup", "--timeout", "5", timeout=30).returncode == 0
        except subprocess.TimeoutExpired:
            return False

    def spawn(self) -> None:
        host, management_port = host_port(self.management_url, 15672)
        if net.tcp_open(host, management_port):
            raise Failure(f"rabbitmq: port {management_port} (management API) is already used by another process")
        self._write_config()
        # If no epmd runs yet, the node starts one; it inherits our marker, which is how
        # after_stop() knows that this epmd is ours to stop.
        self.process.spawn([self.bin_dir / "rabbitmq-server"], self._env(), cwd=self.base)
        # Boot checked by rabbitmqctl first (clear errors), then the management API the tests use.
        net.wait_for(self._nodes_up, f"rabbitmq node {self.node} (rabbitmqctl await_startup)",
                     self.start_timeout, self.process, self.process.log, interval=1.0)

    def graceful_stop(self) -> None:
        try:
            self.rabbitmqctl("stop", str(self.base / "rabbitmq.pid"), timeout=60)
        except subprocess.TimeoutExpired:
            warn("rabbitmqctl stop did not finish in 60s; terminating the broker")

    def after_stop(self) -> None:
        """Stop the Erlang port mapper if our node started it (an epmd that was already there stays)."""
        ours = [pid for pid in _pids_matching("epmd") if _ours(pid) and _alive(pid)]
        if not ours:
            return
        # `epmd -kill` refuses while other nodes are registered: someone else's node is never cut off.
        _epmd_kill()
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in ours) and time.monotonic() < deadline:
            time.sleep(0.2)
        if any(_alive(pid) for pid in ours):
            warn("epmd still runs (other Erlang nodes are registered with it); left alone")
        else:
            say("epmd stopped")


class FerretDB(Server):
    """FerretDB built from its Go module (SQLite backend, data in var/ferretdb/)."""

    name = "ferretdb"
    url_var = "MONGO_URI"
    default_port = 27017
    start_timeout = 60.0
    version = "v1.24.2"
    module = "github.com/FerretDB/FerretDB"
    binary = TOOLS / "ferretdb"

    def ready(self) -> bool:
        return net.mongo_ping(*self.address)

    def answers(self) -> bool:
        return net.tcp_open(*self.address)

    def check_external(self) -> None:
        if not self.ready():
            warn(f"the server at {self.display_address()} does not answer a MongoDB ping")

    def built_version(self) -> str | None:
        if not self.binary.exists():
            return None
        try:
            out = subprocess.run([str(self.binary), "--version"], capture_output=True, text=True, timeout=30).stdout
        except (OSError, subprocess.TimeoutExpired):
            return None
        for line in out.splitlines():
            if line.startswith("version:"):
                return line.split(":", 1)[1].strip()
        return None

    def install(self) -> None:
        found = self.built_version()
        if found == self.version:
            say(f"ferretdb {self.version} already built ({rel(self.binary)})")
            return
        go = shutil.which("go") or ("/usr/local/go/bin/go" if Path("/usr/local/go/bin/go").exists() else None)
        if go is None:
            raise Failure("ferretdb: the Go toolchain ('go') is needed to build FerretDB and was not found")
        started = time.monotonic()
        log = INSTALL_LOG / "ferretdb-build.log"
        say(f"building ferretdb {self.version} from the Go module proxy (first run only, about a minute; "
            f"output in {rel(log)})")
        env = dict(os.environ, GOWORK="off", GOFLAGS="")
        # `go install` of this module panics at start-up (its build/version/version.txt is generated,
        # not published), so build from a copy of the module source with that file written.
        module_dir = _go_download(go, f"{self.module}@{self.version}", log, env)
        source = BUILD / "ferretdb-src"
        if source.exists():
            _make_writable(source)
            shutil.rmtree(source)
        shutil.copytree(module_dir, source, symlinks=True)
        _make_writable(source)
        (source / "build" / "version" / "version.txt").write_text(self.version + "\n")
        self.binary.parent.mkdir(parents=True, exist_ok=True)
        run_logged([go, "build", "-o", str(self.binary), "./cmd/ferretdb"], log, "go build (FerretDB)", 1800,
                   env, cwd=source)
        if self.built_version() != self.version:
            raise Failure(f"ferretdb: the built binary does not report version {self.version}", "")
        say(f"ferretdb {self.version} built (go) in {took(started)}")

    def spawn(self) -> None:
        _, port = self.address
        data = VAR / "ferretdb"
        state = VAR / "ferretdb-state"
        data.mkdir(parents=True, exist_ok=True)
        state.mkdir(parents=True, exist_ok=True)
        self.process.spawn([
            self.binary, "--handler=sqlite", f"--sqlite-url=file:{data}/",
            f"--listen-addr=127.0.0.1:{port}", "--telemetry=disable", "--log-level=warn",
            "--debug-addr=-",            # no debug HTTP listener (it would take 127.0.0.1:8088)
            f"--state-dir={state}",
        ], child_env(), cwd=VAR)


class Elasticsearch(Server):
    """One real Elasticsearch 8 node from the launcher in deploy/local/elasticsearch/."""

    name = "elasticsearch"
    url_var = "ELASTICSEARCH_URL"
    default_port = 9200
    start_timeout = 120.0
    stop_timeout = 60.0

    launcher = DEPLOY / "elasticsearch"

    def answers(self) -> bool:
        return net.http_answers(self.url.rstrip("/") + "/", timeout=2.0)

    def ready(self) -> bool:
        return net.es_health(self.url) in ("green", "yellow")

    def check_external(self) -> None:
        if not self.ready():
            warn(f"the server at {self.url} does not report a green or yellow cluster health")

    def _script(self, name: str) -> Path:
        script = self.launcher / name
        if not script.exists():
            raise Failure(f"elasticsearch: {rel(script)} does not exist yet (the Elasticsearch launcher "
                          "provides build.sh and run.sh)")
        return script

    def install(self) -> None:
        build = self._script("build.sh")
        self._script("run.sh")
        started = time.monotonic()
        log = INSTALL_LOG / "elasticsearch-build.log"
        say(f"building the Elasticsearch launcher if needed ({rel(build)}: Maven, minutes the first time; "
            f"output in {rel(log)})")
        run_logged(["bash", build], log, f"elasticsearch build ({rel(build)})", 2400, child_env())
        if time.monotonic() - started < 5:
            say(f"elasticsearch launcher up to date (checked in {took(started)})")
        else:
            say(f"elasticsearch launcher built (maven) in {took(started)}")

    def spawn(self) -> None:
        home = VAR / "elasticsearch"
        home.mkdir(parents=True, exist_ok=True)
        self.process.spawn(["bash", self._script("run.sh"), "--home", home, "--http-port", str(self.address[1])],
                           child_env())


def _go_download(go: str, module: str, log: Path, env: dict) -> Path:
    """Fetch a module into the Go module cache (via the proxy) and return its directory."""
    with open(log, "ab") as errors:
        errors.write(f"\n===== $ go mod download -json {module}\n".encode())
        errors.flush()
        try:
            result = subprocess.run([go, "mod", "download", "-json", module], cwd=BUILD, env=env,
                                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=errors, timeout=900)
        except subprocess.TimeoutExpired:
            raise Failure(f"go mod download {module}: no answer after 900s", tail(log)) from None
    try:
        info = json.loads(result.stdout)
    except ValueError:
        info = {}
    if result.returncode != 0 or not info.get("Dir"):
        reason = info.get("Error") or result.stdout.decode(errors="replace")[-1000:]
        raise Failure(f"go mod download {module} failed: {reason}", tail(log))
    return Path(info["Dir"])


def _make_writable(tree: Path) -> None:
    for directory, _, files in os.walk(tree):
        os.chmod(directory, os.stat(directory).st_mode | stat.S_IWUSR)
        for name in files:
            path = os.path.join(directory, name)
            if not os.path.islink(path):
                os.chmod(path, os.stat(path).st_mode | stat.S_IWUSR)


def _epmd_kill() -> None:
    try:
        subprocess.run(["epmd", "-kill"], capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        pass


def _pids_matching(word: str) -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit() and word in _cmdline(int(p))]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _ours(pid: int) -> bool:
    try:
        return f"{OWNER_MARKER}={ROOT}".encode() in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return False


def _alive(pid: int) -> bool:
    from .procs import pid_alive
    return pid_alive(pid)


RABBITMQ = RabbitMQ()
SERVERS = (RABBITMQ, FerretDB(), Elasticsearch())
