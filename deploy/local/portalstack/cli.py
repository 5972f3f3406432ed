"""Commands behind the Makefile: up, down, status, logs, test, bench, clean."""

import argparse
import os
import shutil
import sys
import time
import traceback
from concurrent.futures import ThreadPoolExecutor, wait
from urllib.parse import urlsplit, urlunsplit

from . import apps, pyenv
from .infra import RABBITMQ, SERVERS, RabbitMQ
from .paths import LOG, ROOT, VAR, ensure_dirs, rel
from .procs import leftovers, sweep
from .settings import child_env, platform_env
from .ui import Cancelled, Failure, cancelled, report_failure, say, took


def _in_parallel(jobs: dict) -> dict:
    """Run independent steps (installs and server start-ups) side by side; fail if any failed."""
    results, failures = {}, []
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        futures = {pool.submit(job): name for name, job in jobs.items()}
        pending = set(futures)
        try:
            while pending:
                _, pending = wait(pending, timeout=0.5)
        except KeyboardInterrupt:
            cancelled.set()  # waits in the workers stop at their next poll; installs get the SIGINT too
            raise
        for future, name in futures.items():
            error = future.exception()
            if error is None:
                results[name] = future.result()
            elif isinstance(error, Failure):
                failures.append(error)
            elif not isinstance(error, Cancelled):
                failures.append(Failure(f"{name}: unexpected error {error!r}",
                                        "".join(traceback.format_exception(error))))
    if failures:
        for failure in failures[:-1]:
            report_failure(failure)
        raise failures[-1]
    return results


def ensure_infra() -> dict:
    """RabbitMQ, FerretDB, Elasticsearch and the Python env, each started or installed only if missing."""
    ensure_dirs()
    jobs = {server.name: server.ensure for server in SERVERS}
    jobs["python env"] = pyenv.ensure
    return _in_parallel(jobs)


def _without_credentials(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[-1]))


def cmd_up(args) -> int:
    started = time.monotonic()
    say("make up: starting the platform (a first run installs and builds everything: several minutes)")
    where = ensure_infra()
    apps.start_all()
    env = platform_env()
    gateway = f"http://127.0.0.1:{env['GATEWAY_PORT']}"
    password_file = os.path.join(env["PORTAL_VAR_DIR"], "admin-password")
    password = ("the ADMIN_PASSWORD you exported" if os.environ.get("ADMIN_PASSWORD")
                else f"in {rel(password_file)} (readable by its owner only)")
    rows = [
        ("gateway API", gateway + "/api/v1/news", ""),
        ("readiness, metrics", f"{gateway}/readyz, {gateway}/metrics", ""),
        ("RabbitMQ management", _without_credentials(env["RABBIT_MANAGEMENT_URI"]) +
         ("  (guest/guest)" if "//guest:guest@" in env["RABBIT_MANAGEMENT_URI"] else ""),
         where.get("rabbitmq", "")),
        ("Elasticsearch", env["ELASTICSEARCH_URL"], where.get("elasticsearch", "")),
        ("MongoDB (FerretDB)", env["MONGO_URI"], where.get("ferretdb", "")),
    ]
    say(f"platform ready in {took(started)}")
    for label, url, origin in rows:
        print(f"  {label:<21} {url}" + (f"  [{origin}]" if origin else ""))
    print(f"  {'admin password':<21} user 'admin', password {password}")
    print("  logs: make logs [SERVICE=news] [FOLLOW=1]    state: make status    stop: make down")
    return 0


def cmd_down(args) -> int:
    say("make down: stopping everything this stack started")
    apps.stop_all()  # first: they hold connections to the servers
    with ThreadPoolExecutor(max_workers=len(SERVERS)) as pool:
        list(pool.map(lambda server: server.stop(), SERVERS))
    sweep(say)
    RABBITMQ.after_stop()  # epmd, once every node of ours is gone (also those the sweep found)
    left = leftovers()
    if left:
        say(f"WARNING: still running: {left}")
        return 1
    say("nothing of this stack is running")
    return 0


def cmd_status(args) -> int:
    rows = [("COMPONENT", "STATE", "PID", "ADDRESS", "WHERE")]
    for server in SERVERS:
        pid = server.process.pid()
        where = server.where()
        if pid:
            state = "running" if server.ready() else "running (not ready)"
        else:
            state = "running" if where == "external" else "stopped"
        address = server.local_address() if pid else server.display_address()
        if isinstance(server, RabbitMQ):
            address += f" (management {_without_credentials(server.management_url)})"
        rows.append((server.name, state, str(pid or "-"), address, where))
    rows.append(("python env", pyenv.state(), "-", rel(pyenv.VENV), "local" if pyenv.exists() else "-"))
    rows.extend((name, state, str(pid), url, where) for name, state, pid, url, where in apps.status_rows())
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    return 0


def cmd_logs(args) -> int:
    if args.service:
        files = [LOG / f"{args.service}.log"]
        if not files[0].exists():
            names = sorted(path.stem for path in LOG.glob("*.log"))
            print(f"no log for '{args.service}' in {rel(LOG)}; logs: {', '.join(names) or 'none yet'}",
                  file=sys.stderr)
            return 1
    else:
        files = sorted(LOG.glob("*.log"))
        if not files:
            print(f"no logs yet in {rel(LOG)} (make up writes them)", file=sys.stderr)
            return 1
    argv = ["tail", "-n", str(args.lines)] + (["-F"] if args.follow else []) + [rel(f) for f in files]
    sys.stdout.flush()
    os.chdir(ROOT)
    os.execvp("tail", argv)


def _run_in_venv(module: str, extra: list) -> int:
    ensure_infra()
    python = pyenv.PYTHON
    argv = [str(python), "-m", module, *extra]
    say(f"running {rel(python)} -m {' '.join([module, *extra])}")
    sys.stdout.flush()
    sys.stderr.flush()
    os.chdir(ROOT)
    os.execve(str(python), argv, child_env())  # its exit code is make's exit code


def cmd_test(args) -> int:
    # `make test ARGS=tests/unit` narrows the run; without a path of its own, pytest runs all of tests/.
    paths = [arg for arg in args.extra if not arg.startswith("-") and (ROOT / arg.split("::")[0]).exists()]
    return _run_in_venv("pytest", [*([] if paths else ["tests"]), *args.extra])


def cmd_bench(args) -> int:
    return _run_in_venv("bench", args.extra)


def cmd_clean(args) -> int:
    code = cmd_down(args)
    if code != 0:
        print("not removing var/: something is still running", file=sys.stderr)
        return code
    if VAR.exists():
        shutil.rmtree(VAR)
        say(f"removed {rel(VAR)}/: data of RabbitMQ, FerretDB and Elasticsearch, logs, admin password, built tools")
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="stack.py", description=__doc__)
    sub = root.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="install and start everything; return when the gateway is ready")
    up.set_defaults(func=cmd_up)
    sub.add_parser("down", help="stop everything this stack started").set_defaults(func=cmd_down)
    sub.add_parser("status", help="what runs, where").set_defaults(func=cmd_status)
    logs = sub.add_parser("logs", help="tail var/log/*.log")
    logs.add_argument("--service", help="only this log (e.g. news, gateway, rabbitmq)")
    logs.add_argument("--follow", action="store_true", help="keep following")
    logs.add_argument("--lines", type=int, default=50)
    logs.set_defaults(func=cmd_logs)
    for name, func, text in (("test", cmd_test, "infra + env, then pytest tests ARGS"),
                             ("bench", cmd_bench, "infra + env, then python -m bench ARGS")):
        command = sub.add_parser(name, help=text)
        command.add_argument("extra", nargs=argparse.REMAINDER)
        command.set_defaults(func=func)
    sub.add_parser("clean", help="down, then delete var/ (all local data)").set_defaults(func=cmd_clean)
    return root


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    if getattr(args, "extra", None) and args.extra[0] == "--":
        args.extra = args.extra[1:]
    try:
        return args.func(args)
    except Failure as failure:
        report_failure(failure)
        return 1
    except (KeyboardInterrupt, Cancelled):
        print("\ninterrupted: every process started so far has its pid file in var/run/; "
              "`make down` stops them", file=sys.stderr)
        return 130
