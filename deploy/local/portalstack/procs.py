"""Processes we start: each in its own process group, its pid in ``var/run/<name>.pid``, its output in
``var/log/<name>.log``. A pid file is trusted only while its process lives and is the one that was
started: ``<name>.ticks`` keeps the process's start time (clock ticks since boot, immune to wall-clock
jumps), so a stale pid file left by a crash or a reboot is recognised and cleaned, even if the pid
was reused.
"""

import contextlib
import os
import signal
import subprocess
import threading
import time
from datetime import datetime
from pathlib import Path

from .paths import LOG, ROOT, RUN, rel
from .settings import OWNER_MARKER


def _stat_fields(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat from the state on (the command name may contain spaces)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2:].split()


def pid_alive(pid: int) -> bool:
    """True for a live process; a zombie (exited, not reaped by its parent) counts as dead."""
    fields = _stat_fields(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def start_ticks(pid: int) -> int | None:
    fields = _stat_fields(pid)
    return None if fields is None else int(fields[19])


def group_members(pgid: int) -> list[int]:
    members = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat_fields(int(entry))
            if fields and fields[0] not in ("Z", "X") and int(fields[2]) == pgid:
                members.append(int(entry))
    return members


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "?"


@contextlib.contextmanager
def interrupts_deferred():
    """Hold Ctrl-C until the block ends, so a process is never started without its pid file."""
    if threading.current_thread() is not threading.main_thread():
        # Only the main thread ever sees KeyboardInterrupt: a worker thread is never cut short.
        yield
        return
    pending = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: pending.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if pending:
            raise KeyboardInterrupt()


class Managed:
    """One long-running process of ours, known by name."""

    def __init__(self, name: str, log: Path | None = None):
        self.name = name
        self.pidfile = RUN / f"{name}.pid"
        self.log = log or LOG / f"{name}.log"

    def pid(self) -> int | None:
        """The live pid from the pid file; removes the file when it is stale."""
        try:
            pid = int(self.pidfile.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            self._forget()
            return None
        try:
            expected = int(self.ticksfile.read_text().strip())
        except (OSError, ValueError):
            expected = None
        # Dead, or the pid now belongs to an unrelated process started later: not ours.
        if not pid_alive(pid) or (expected is not None and start_ticks(pid) != expected):
            self._forget()
            return None
        return pid

    @property
    def ticksfile(self) -> Path:
        return self.pidfile.with_suffix(".ticks")

    def _forget(self) -> None:
        """Remove the pid file and its companions (<name>.ticks, <name>.address)."""
        for path in (self.pidfile, self.ticksfile, self.pidfile.with_suffix(".address")):
            path.unlink(missing_ok=True)

    def running(self) -> bool:
        return self.pid() is not None

    def spawn(self, argv: list[str], env: dict, cwd: Path = ROOT) -> int:
        """Start in the background, in a new session (Ctrl-C in the terminal does not reach it)."""
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.pidfile.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log:
            stamp = datetime.now().isoformat(timespec="seconds")
            log.write(f"\n===== {stamp} started by make: {' '.join(map(str, argv))}\n".encode())
            log.flush()
            with interrupts_deferred():
                process = subprocess.Popen(
                    [str(a) for a in argv], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                    stdout=log, stderr=subprocess.STDOUT, start_new_session=True, close_fds=True)
                self.ticksfile.write_text(f"{start_ticks(process.pid)}\n")
                temporary = self.pidfile.with_suffix(".pid.tmp")
                temporary.write_text(f"{process.pid}\n")
                temporary.replace(self.pidfile)
        # Forget the Popen object without a ResourceWarning: the process outlives this command.
        process.returncode = 0
        return process.pid

    def stop(self, timeout: float = 20.0) -> int | None:
        """SIGTERM the process group, SIGKILL it after ``timeout``. Returns the pid that was stopped."""
        pid = self.pid()
        if pid is None:
            return None
        terminate_group(pid, timeout)
        self._forget()
        return pid


def terminate_group(pgid: int, timeout: float) -> None:
    """SIGTERM every process of a group, wait, then SIGKILL what is left."""
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            pass
        except PermissionError:
            with contextlib.suppress(OSError):
                os.kill(pgid, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not pid_alive(pgid) and not group_members(pgid):
                return
            time.sleep(0.2)


def leftovers() -> list[int]:
    """Processes carrying our marker (started by this stack, or by one of its processes), except us."""
    marker = f"{OWNER_MARKER}={ROOT}".encode()
    exclude = set()
    pid = os.getpid()
    while pid > 1:  # ourselves and our ancestors (make, the shell, .ci/run)
        exclude.add(pid)
        fields = _stat_fields(pid)
        pid = int(fields[1]) if fields else 0
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) in exclude:
            continue
        try:
            environ = Path(f"/proc/{entry}/environ").read_bytes()
        except OSError:
            continue
        if marker in environ.split(b"\0") and pid_alive(int(entry)):
            found.append(int(entry))
    return found


def sweep(say) -> None:
    """Stop processes of ours that no pid file knows about (pid file lost, children left behind)."""
    # epmd is left to RabbitMQ.after_stop(): it is stopped only when no other Erlang node uses it.
    pids = [pid for pid in leftovers() if not command_line(pid).split(" ")[0].endswith("epmd")]
    if not pids:
        return
    say("stopping leftover processes of this stack: " +
        ", ".join(f"{pid} ({command_line(pid)[:60]})" for pid in pids))
    for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and any(pid_alive(pid) for pid in pids):
            time.sleep(0.2)
        pids = [pid for pid in pids if pid_alive(pid)]
        if not pids:
            return


def run_logged(argv: list, log: Path, what: str, timeout: float, env: dict | None = None,
               cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """Run an install step with its output in ``log``; a failure names the step and shows the log tail."""
    from .ui import Failure, tail
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        out.write(f"\n===== {datetime.now().isoformat(timespec='seconds')} $ {' '.join(map(str, argv))}\n".encode())
        out.flush()
        try:
            result = subprocess.run([str(a) for a in argv], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                    stdout=out, stderr=subprocess.STDOUT, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise Failure(f"{what}: still running after {timeout:.0f}s, gave up", tail(log)) from None
        except FileNotFoundError:
            raise Failure(f"{what}: {argv[0]} not found") from None
    if result.returncode != 0:
        raise Failure(f"{what} failed (exit {result.returncode}); full output in {rel(log)}", tail(log))
    return result
