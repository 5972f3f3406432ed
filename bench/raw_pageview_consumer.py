"""The ingest baseline: drain page views with pika and nothing else (no framework, no database).

Declares the same kind of queue the analytics service consumes (quorum, bound to
``gateway.events`` / ``page_viewed``), decodes each JSON body, acknowledges in batches
(``multiple``), and writes how many it consumed to a file every 0.1 s, until killed.
Run as ``python -m bench.raw_pageview_consumer AMQP_URI COUNT_FILE``.
"""
import json
import sys
import time
from pathlib import Path

import pika

QUEUE = "bench-raw-pageviews"
PREFETCH = 1000
ACK_EVERY = 250


def main(amqp_uri: str, count_file: str) -> None:
    out = Path(count_file)
    connection = pika.BlockingConnection(pika.URLParameters(amqp_uri))
    channel = connection.channel()
    channel.exchange_declare("gateway.events", exchange_type="topic", durable=True)
    channel.queue_declare(QUEUE, durable=True, arguments={"x-queue-type": "quorum"})
    channel.queue_bind(QUEUE, "gateway.events", routing_key="page_viewed")
    channel.basic_qos(prefetch_count=PREFETCH)
    state = {"consumed": 0, "unacked": 0, "last_tag": 0, "written": 0.0}

    def flush(ch):
        if state["unacked"]:
            ch.basic_ack(state["last_tag"], multiple=True)
            state["unacked"] = 0

    def on_message(ch, method, _props, body):
        json.loads(body)
        state["consumed"] += 1
        state["unacked"] += 1
        state["last_tag"] = method.delivery_tag
        if state["unacked"] >= ACK_EVERY:
            flush(ch)

    channel.basic_consume(QUEUE, on_message)
    out.write_text("0")
    print("ready", flush=True)
    while True:
        connection.process_data_events(time_limit=0.1)
        flush(channel)
        now = time.monotonic()
        if now - state["written"] >= 0.1:
            out.write_text(str(state["consumed"]))
            state["written"] = now


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
