"""Nameko RPC round trip against a raw AMQP request/reply written with pika, same broker, same run.

Both servers run in their own processes; both clients send the same small JSON body and wait
for the answer on a reply queue. The Nameko side is the platform's own RPC as the gateway uses
it: the service on ``portal_common.entrypoints.rpc`` (unconfirmed replies), the client the
gateway's ``RpcPool`` (transient, confirmed requests). The ratio says what that RPC layer costs
over the wire protocol itself.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import uuid
from pathlib import Path

import pika
from nameko.standalone.rpc import ClusterRpcProxy

from bench import processes
from bench.harness import measure, report
from gateway.rpc import RpcPool
from portal_common.rabbit_admin import temporary_vhost

ROOT = Path(__file__).resolve().parents[1]
PAYLOAD = {"text": "Bạn quan tâm mục gì nhất trong website của chúng tôi?", "n": 0}
SERIAL_CALLS = 2000
CONCURRENT_CALLS = 2000
CONCURRENCY = 8


class RawClient:
    """One pika connection doing request/reply the plain AMQP way."""

    def __init__(self, amqp_uri: str):
        self.connection = pika.BlockingConnection(pika.URLParameters(amqp_uri))
        self.channel = self.connection.channel()
        self.reply_queue = self.channel.queue_declare("", exclusive=True).method.queue
        self.channel.basic_consume(self.reply_queue, self._on_reply, auto_ack=True)
        self.expected = self.response = None

    def _on_reply(self, _channel, _method, props, body):
        if props.correlation_id == self.expected:
            self.response = body

    def __call__(self, i: int):
        self.expected, self.response = uuid.uuid4().hex, None
        self.channel.basic_publish("", "bench-raw-echo", json.dumps({**PAYLOAD, "n": i}).encode(),
                                   pika.BasicProperties(reply_to=self.reply_queue,
                                                        correlation_id=self.expected,
                                                        content_type="application/json"))
        while self.response is None:
            self.connection.process_data_events(time_limit=None)
        return json.loads(self.response)


def _nameko_caller(amqp_uri: str):
    """Each client calls the way the gateway does: its pool of proxies (transient requests,
    the service's presence checked at most once a second)."""
    def make():
        pool = RpcPool(amqp_uri, size=1, timeout=30)
        return lambda i: pool.call("bench_echo", "echo", {**PAYLOAD, "n": i})
    return make


def run() -> str:
    vhost = f"bench_{uuid.uuid4().hex[:8]}"
    with temporary_vhost(vhost) as amqp_uri, tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        config_file = tmp / "echo.yaml"
        config_file.write_text(f"AMQP_URI: {amqp_uri}\nmax_workers: 10\n")
        config = {"AMQP_URI": amqp_uri}
        probe = ClusterRpcProxy(config, timeout=2)

        def nameko_ready():
            try:
                with probe as rpc:
                    return rpc.bench_echo.echo(1) == 1
            except Exception:
                return False

        bin_dir = Path(sys.executable).parent
        env = {**os.environ, "AMQP_URI": amqp_uri}
        raw_log = tmp / "raw.log"
        servers = []
        try:
            servers.append(processes.start([bin_dir / "portal-nameko", "run", "--config",
                                            config_file, "bench.echo_service:EchoService"],
                                           env, tmp / "nameko.log", nameko_ready, timeout=60))
            servers.append(processes.start([sys.executable, "-m", "bench.raw_echo_server",
                                            amqp_uri], env, raw_log,
                                           lambda: "ready" in raw_log.read_text(), timeout=60))
            pairs = []
            for calls, concurrency in ((SERIAL_CALLS, 1), (CONCURRENT_CALLS, CONCURRENCY)):
                baseline = measure("raw pika request/reply", lambda: RawClient(amqp_uri),
                                   calls=calls, concurrency=concurrency)
                measured = measure("Nameko RPC (gateway's RpcPool)", _nameko_caller(amqp_uri),
                                   calls=calls, concurrency=concurrency)
                pairs.append((measured, baseline))
        finally:
            for server in servers:
                processes.stop(server)
    return report("rpc_roundtrip", "RPC round trip: Nameko vs raw AMQP (pika)", pairs,
                  notes="Same RabbitMQ, same run; each server in its own process; "
                        "ratios are measured ÷ baseline (throughput below 1× and latency above "
                        "1× mean Nameko costs more).")
