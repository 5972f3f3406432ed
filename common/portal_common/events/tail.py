"""``events tail``: watch the event bus live, for ops and for debugging.

    events tail                       # every source in the catalogue
    events tail --source news         # one exchange (repeatable)
    events tail --source news --type article_published --count 1 --timeout 30

It binds its own exclusive, auto-deleted queue to each ``<source>.events`` exchange, so it
takes nothing away from the services' queues. One JSON envelope per line on stdout (``--pretty``
indents); a body that breaks the catalogue is still shown, with a warning on stderr.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import pika

from portal_common.events import catalogue
from portal_common.settings import get_settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="events", description="Tools for the portal's event bus.")
    sub = parser.add_subparsers(dest="command", required=True)
    tail = sub.add_parser("tail", help="print events as they are published")
    tail.add_argument("--source", action="append", choices=catalogue.sources(),
                      help="event source (exchange <source>.events); default: all")
    tail.add_argument("--type", action="append", dest="types", help="only these event types")
    tail.add_argument("--count", type=int, default=0, help="exit after this many events")
    tail.add_argument("--timeout", type=float, default=0, help="exit (status 1) after N seconds")
    tail.add_argument("--pretty", action="store_true", help="indent the JSON")
    tail.add_argument("--amqp-uri", default=None, help="default: $AMQP_URI")
    sub.add_parser("catalogue", help="list the events of the catalogue")
    return parser


def _print_catalogue() -> int:
    for (source, type_), spec in sorted(catalogue.specs().items()):
        print(f"{spec.exchange:<18} {type_:<26} {spec.status:<8} {spec.description}")
    return 0


def tail(args) -> int:
    params = pika.URLParameters(args.amqp_uri or os.environ.get("AMQP_URI") or get_settings().amqp_uri)
    params.connection_attempts = 3
    connection = pika.BlockingConnection(params)
    channel = connection.channel()
    queue = channel.queue_declare("", exclusive=True, auto_delete=True).method.queue
    for source in args.source or catalogue.sources():
        exchange = catalogue.exchange_for(source)
        channel.exchange_declare(exchange, exchange_type="topic", durable=True)
        for key in args.types or ["#"]:
            channel.queue_bind(queue, exchange, routing_key=key)
    print(f"listening on {', '.join(args.source or catalogue.sources())} …", file=sys.stderr,
          flush=True)

    seen = 0
    deadline = time.monotonic() + args.timeout if args.timeout else None
    try:
        for method, _props, body in channel.consume(queue, auto_ack=True, inactivity_timeout=1):
            if deadline is not None and time.monotonic() >= deadline:
                return 1
            if method is None:  # a quiet second: look at the deadline again
                continue
            try:
                envelope = json.loads(body)
                catalogue.validate(envelope)
            except (ValueError, catalogue.UnknownEvent, catalogue.InvalidEvent) as exc:
                print(f"warning: {exc}", file=sys.stderr)
                envelope = {"raw": body.decode("utf-8", "replace")}
            print(json.dumps(envelope, ensure_ascii=False, indent=2 if args.pretty else None),
                  flush=True)
            seen += 1
            if args.count and seen >= args.count:
                return 0
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        try:
            connection.close()
        except Exception:
            pass


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "catalogue":
        return _print_catalogue()
    return tail(args)


if __name__ == "__main__":
    sys.exit(main())
