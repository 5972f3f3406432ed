"""``portal-admin``: one-shot administration of the platform.

    portal-admin bootstrap     # admin account (+ demo content unless DEMO_DATA=0); idempotent
    portal-admin feedback-report --period 2026-Q4 [--unit ldld-bat-xat] [--format text|csv|json]

The admin password is ``ADMIN_PASSWORD`` when set; otherwise one is generated, printed once and
kept in ``var/admin-password`` (mode 0600). Demo content goes through the services' own RPC
entrypoints (the seed article through the ``news-import`` tool), so it obeys the same rules and
emits the same events as content made by editors.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path
from datetime import datetime, timezone

from portal_common.logs import configure_logging
from portal_common.mongo import make_client

from gateway import demo
from gateway.app import accounts_from
from gateway.demo import feedback as feedback_demo
from gateway.intake import IntakePublisher
from gateway.problems import ServiceTimeout, ServiceUnavailable
from gateway.rpc import RpcPool
from gateway.settings import get_gateway_settings


def _admin(settings) -> str:
    client = make_client("portal-admin", settings=settings)
    accounts = accounts_from(settings, client)
    password_file = settings.secret_file("admin-password")
    password = settings.admin_password
    generated = password is None
    if generated:
        password = secrets.token_urlsafe(18)
    created = accounts.ensure_user("admin", password, ["admin"])
    client.close()
    if not created:
        return "admin account exists (unchanged)"
    if generated:
        password_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(password + "\n")
        return (f"admin account created; password (shown once): {password}\n"
                f"  kept in {password_file} (readable by its owner only)")
    return "admin account created with the password from ADMIN_PASSWORD"


def _wait_for(rpc: RpcPool, service: str, method: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            rpc.call(service, method)
            return
        except (ServiceUnavailable, ServiceTimeout):
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


def _import_seed_article() -> list[str]:
    """The seed article goes through ``news-import``, the same tool editors use for their
    archives: re-running it leaves the article unchanged."""
    tool = Path(sys.executable).with_name("news-import")
    command = [str(tool) if tool.exists() else (shutil.which("news-import") or "news-import"),
               str(demo.SEED_ARTICLE), "--actor", "admin", "--quiet"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    lines = [line.strip() for line in result.stdout.splitlines() if line.strip()]
    if result.returncode != 0:
        raise RuntimeError("news-import of the seed article failed:\n" + "\n".join(lines)
                           + result.stderr[-2000:])
    return [f"seed article {line}" for line in lines]


def _demo(settings) -> list[str]:
    rpc = RpcPool(settings.amqp_uri, size=2, timeout=15)
    done = []
    try:
        for service, probe in (("news", "list_categories"), ("analytics", "visitors")):
            _wait_for(rpc, service, probe)
        for category in demo.CATEGORIES:
            rpc.call("news", "ensure_category", category)
        done.extend(_import_seed_article())
        for document in demo.DOCUMENTS:
            if rpc.call("documents", "find_document", document["number"]) is None:
                rpc.call("documents", "create_document", document)
                done.append(f"document {document['number']} registered")
        poll = rpc.call("analytics", "ensure_poll", demo.POLL, "admin")
        done.append(f"poll: /api/v1/polls/{poll['id']}")
        base = rpc.call("analytics", "ensure_visitor_base", demo.VISITOR_BASE_TOTAL)
        done.append(f"visitor counter continues from {base['base_total']}")
        done.extend(_feedback_demo(rpc, settings))
    finally:
        rpc.close()
    return done


def _quarter(moment: datetime) -> str:
    return f"{moment.year}-Q{(moment.month - 1) // 3 + 1}"


def _feedback_demo(rpc: RpcPool, settings) -> list[str]:
    """The unit tree of Lào Cai, routing rules, and a few submissions through the real intake
    queue (fixed tracking codes: a second bootstrap stores nothing twice)."""
    _wait_for(rpc, "feedback", "list_topics")
    for unit in feedback_demo.UNITS:
        rpc.call("feedback", "put_unit", unit["slug"],
                 {k: v for k, v in unit.items() if k != "slug"})
    rpc.call("feedback", "replace_routing_rules", {"rules": feedback_demo.ROUTING_RULES})
    intake = IntakePublisher(settings.amqp_uri, size=1, timeout=15)
    now = datetime.now(timezone.utc)
    try:
        for item in feedback_demo.FEEDBACK:
            message = json.loads(json.dumps(item))
            if message.get("report"):
                message["report"]["period"] = _quarter(now)
            message["submitted_at"] = now.strftime("%Y-%m-%dT%H:%M:%S.000Z")
            intake.submit(message, message["channel"])
    finally:
        intake.close()
    return [f"feedback: {len(feedback_demo.UNITS)} units, {len(feedback_demo.ROUTING_RULES)} "
            f"routing rules, {len(feedback_demo.FEEDBACK)} sample submissions queued"]


def feedback_report(period: str, unit: str | None, fmt: str) -> int:
    """Print a periodic feedback report (as an admin sees it)."""
    settings = get_gateway_settings()
    rpc = RpcPool(settings.amqp_uri, size=1, timeout=30)
    actor = {"username": "portal-admin", "roles": ["admin"], "units": []}
    try:
        if fmt == "json":
            print(json.dumps(rpc.call("feedback", "report", period, unit, actor),
                             ensure_ascii=False, indent=2))
        elif fmt == "csv":
            sys.stdout.write(rpc.call("feedback", "report_csv", period, unit, actor))
        else:
            print(rpc.call("feedback", "report_text", period, unit, actor))
    finally:
        rpc.close()
    return 0


def bootstrap() -> int:
    settings = get_gateway_settings()
    print(_admin(settings))
    if settings.demo_data:
        for line in _demo(settings):
            print(f"demo: {line}")
    else:
        print("demo: skipped (DEMO_DATA=0)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="portal-admin", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("bootstrap", help="create the admin account and load the demo content")
    report = sub.add_parser("feedback-report", help="print a periodic feedback report")
    report.add_argument("--period", default=_quarter(datetime.now(timezone.utc)),
                        help="2026-Q4 (default: this quarter), 2026-11 or 2026")
    report.add_argument("--unit", default=None, help="a unit slug (default: the whole tree)")
    report.add_argument("--format", choices=("text", "csv", "json"), default="text")
    args = parser.parse_args(argv)
    configure_logging("portal-admin", os.environ.get("LOG_LEVEL", "WARNING"))
    if args.command == "bootstrap":
        return bootstrap()
    if args.command == "feedback-report":
        return feedback_report(args.period, args.unit, args.format)
    return 2


if __name__ == "__main__":
    sys.exit(main())
