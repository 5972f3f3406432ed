"""Analytics benchmarks: page-view ingest, and the visitor counter's latency under load.

``pageview_ingest``: N page-view events go through the gateway's own publisher
(``gateway.pageviews.PageViewPublisher``: bounded buffer, pika, confirms, batches) into
RabbitMQ and are consumed and counted by the real analytics service process (batch consumer,
roll-ups in MongoDB/FerretDB). Throughput is N ÷ the time from the first event offered to
the visitor total reaching N; the figures are then checked exact (total, days, pages), some
events are published again, and the figures must not move. The baseline, in the same run and
on the same broker: the same publisher feeding a raw pika consumer that only decodes and
acknowledges (no framework, no database).

``visitors_latency``: ``GET /api/v1/analytics/visitors`` through the gateway (gunicorn,
cached 2 s) while ~1,000 page views/s are counted (published by a process of its own): reads
arriving at 1,000/s whatever the answers take (open loop, ``measure_arrivals``: how visitors
arrive, one counter read per page), then 8 clients asking as fast as they are answered
(saturation); and ``analytics.visitors`` over Nameko RPC (uncached). The baseline is the same
read made directly on MongoDB, measured the same way.
"""
from __future__ import annotations

import json
import multiprocessing
import os
import random
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pika
from nameko.standalone.rpc import ClusterRpcProxy

from analytics.visits import local_day
from bench import processes
from bench.harness import http_getter, machine, measure, measure_arrivals, report, save
from gateway.api.analytics import VISITORS_TTL_S
from gateway.pageviews import PageViewPublisher
from portal_common.events import new_event, utc_now_iso
from portal_common.mongo import make_client
from portal_common.rabbit_admin import temporary_vhost
from portal_common.settings import Settings

BIN = Path(sys.executable).parent
INGEST_EVENTS = 40_000
REPLAYED = 4_000
LATENCY_CALLS = 4_000
CONCURRENCY = 8
ARRIVALS_PER_S = 1_000
ARRIVAL_SECONDS = 10
VISITORS_PATH = "/api/v1/analytics/visitors"
STEADY_AFTER_S = 5  # page views counted before the counter's latency is measured
SERVICE_QUEUE = "evt-gateway-page_viewed--analytics.handle_page_viewed"




def _events(count: int) -> list[dict]:
    rng = random.Random(6)
    paths = [f"/tin-tuc/bai-{i}" for i in range(60)] + ["/", "/van-ban", "/binh-chon"]
    referrers = [None, None, "https://www.google.com/", "https://facebook.com/ldld"]
    return [new_event("gateway", "page_viewed", {
        "path": rng.choice(paths), "referrer": rng.choice(referrers), "title": None,
        "visitor": f"{rng.randrange(3000):032x}", "viewed_at": utc_now_iso()})
        for _ in range(count)]


def _offer_all(publisher: PageViewPublisher, events: list[dict]) -> None:
    for event in events:
        while not publisher.offer(event):  # the buffer is bounded: wait, never drop
            time.sleep(0.001)


def _wait(predicate, timeout: float, interval: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def _queue_ready_count(amqp_uri: str, queue: str) -> int:
    connection = pika.BlockingConnection(pika.URLParameters(amqp_uri))
    try:
        return connection.channel().queue_declare(queue, passive=True).method.message_count
    finally:
        connection.close()


class Platform:
    """The analytics service (and, when asked, the gateway) in a vhost and namespace of their own."""

    def __init__(self, amqp_uri: str, tmp: Path, gateway: bool = False):
        self.namespace = f"bench{uuid.uuid4().hex[:8]}"
        self.amqp_uri = amqp_uri
        self.settings = Settings(_env_file=None, PORTAL_NAMESPACE=self.namespace)
        self.env = {**os.environ, "AMQP_URI": amqp_uri, "PORTAL_NAMESPACE": self.namespace,
                    "PORTAL_VAR_DIR": str(tmp / "var"), "ANALYTICS_HTTP_PORT": str(processes.free_port()),
                    "GATEWAY_PORT": str(processes.free_port()), "LOG_LEVEL": "WARNING",
                    "GATEWAY_WORKERS": "2", "GATEWAY_THREADS": "8"}
        self.tmp = tmp
        self.processes = []
        self.mongo = make_client("bench", settings=self.settings)
        self.db = self.mongo[self.settings.database_name("analytics")]
        self.gateway = gateway

    def _spawn(self, name: str, command: list, health: str):
        self.processes.append(processes.start(command, self.env, self.tmp / f"{name}.log",
                                              health))

    def __enter__(self):
        self._spawn("analytics", [BIN / "portal-nameko", "run", "--config",
                                  "services/analytics/config.yaml",
                                  "analytics.service:AnalyticsService"],
                    f"http://127.0.0.1:{self.env['ANALYTICS_HTTP_PORT']}/healthz")
        if self.gateway:
            self._spawn("gateway", [BIN / "gunicorn", "--config", "gateway/gunicorn.conf.py",
                                    "gateway.wsgi:app"],
                        f"http://127.0.0.1:{self.env['GATEWAY_PORT']}/healthz")
        return self

    def __exit__(self, exc_type, *exc):
        for process in self.processes:
            processes.stop(process)
        if exc_type is not None:  # say why, before the temporary directory goes
            for log in sorted(self.tmp.glob("*.log")):
                print(f"--- {log.name} (last lines)\n{log.read_text()[-3000:]}", file=sys.stderr)
        self.mongo.drop_database(self.settings.database_name("analytics"))
        self.mongo.drop_database(self.settings.database_name("gateway"))
        self.mongo.close()

    def total(self) -> int:
        doc = self.db["counters"].find_one({"_id": "total"}, {"views": 1})
        return int(doc["views"]) if doc else 0

    def figures(self) -> dict:
        days = list(self.db["counters"].find({"_id": {"$regex": "^day:"}}))
        return {"total": self.total(),
                "days": sum(int(d.get("views", 0)) for d in days),
                "pages": sum(sum(d.get("paths", {}).values()) for d in days),
                "visitors": sum(int(d.get("visitors", 0)) for d in days)}


def _ingest(amqp_uri: str, events: list[dict], consumed) -> float:
    """Offer every event to a fresh gateway publisher; seconds until ``consumed()`` is all."""
    publisher = PageViewPublisher(amqp_uri, capacity=10_000)
    started = time.perf_counter()
    feeder = threading.Thread(target=_offer_all, args=(publisher, events))
    feeder.start()
    if not _wait(lambda: consumed() >= len(events), timeout=300):
        raise RuntimeError(f"only {consumed()} of {len(events)} consumed; "
                           f"{publisher.pending()} not yet confirmed by the broker")
    elapsed = time.perf_counter() - started
    feeder.join()
    publisher.stop()
    return elapsed


def run_pageview_ingest() -> str:
    events = _events(INGEST_EVENTS)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        with temporary_vhost(f"bench_{uuid.uuid4().hex[:8]}") as amqp_uri:
            count_file = tmp / "raw-count"
            raw = processes.start([sys.executable, "-m", "bench.raw_pageview_consumer",
                                   amqp_uri, count_file], {**os.environ, "AMQP_URI": amqp_uri},
                                  tmp / "raw.log", count_file.exists, timeout=60)
            try:
                raw_seconds = _ingest(amqp_uri, events,
                                      lambda: int(count_file.read_text() or 0))
            finally:
                processes.stop(raw)
        with temporary_vhost(f"bench_{uuid.uuid4().hex[:8]}") as amqp_uri, \
                Platform(amqp_uri, tmp) as platform:
            seconds = _ingest(amqp_uri, events, platform.total)
            counted = platform.figures()
            expected_visitors = len({e["data"]["visitor"] for e in events})
            exact = (counted["total"] == counted["days"] == counted["pages"] == len(events)
                     and counted["visitors"] == expected_visitors)
            replay = PageViewPublisher(amqp_uri, capacity=10_000)
            _offer_all(replay, events[:REPLAYED])
            replay.stop(timeout=60)
            _wait(lambda: _queue_ready_count(amqp_uri, SERVICE_QUEUE) == 0, timeout=60, interval=0.2)
            time.sleep(2)  # the last batch in the consumer's hands
            unchanged = platform.figures() == counted
    rows.append(("analytics service: consumed, counted in roll-ups", len(events), seconds))
    rows.append(("raw pika consumer: decode + ack only", len(events), raw_seconds))
    ratio = (len(events) / seconds) / (len(events) / raw_seconds)
    lines = [
        "## Page-view ingest: the analytics service vs a raw pika consumer", "",
        f"{machine()['date']}, {machine()['cpus']} CPUs, Python {machine()['python']}. "
        "Same RabbitMQ, same run, same publisher (the gateway's PageViewPublisher: confirms, "
        "batches); the clock runs from the first event offered to the last one counted "
        "(consumed, for the baseline). Two cores shared with other work: figures are noisy.", "",
        "| path | events | seconds | events/s |", "|---|---:|---:|---:|",
        *[f"| {name} | {n:,} | {s:.2f} | {n / s:,.0f} |" for name, n, s in rows], "",
        f"Throughput ratio (service ÷ raw): **{ratio:.2f}×**. Target ≥ 3,000 page views/s: "
        f"**{'met' if len(events) / seconds >= 3000 else 'NOT met'}**.", "",
        f"Counts exact afterwards (total = per-day sum = per-page sum = {len(events):,}; "
        f"unique visitors = {expected_visitors:,}): **{'yes' if exact else 'NO'}** "
        f"({json.dumps(counted)}). After republishing {REPLAYED:,} of the same events: "
        f"figures unchanged: **{'yes' if unchanged else 'NO'}**.",
    ]
    return save("pageview_ingest", lines, {
        "machine": machine(),
        "rows": [{"name": n, "events": c, "seconds": s, "per_second": c / s} for n, c, s in rows],
        "ratio": ratio, "exact": exact, "unchanged_after_replay": unchanged,
        "figures": counted})


def _background_views(amqp_uri: str, stop, per_second: int = 1000) -> None:
    """~``per_second`` page views a second into the broker, until ``stop`` (a process of its
    own: the load must not share a GIL with the clients that measure)."""
    publisher = PageViewPublisher(amqp_uri, capacity=10_000)
    while not stop.is_set():
        started = time.perf_counter()
        _offer_all(publisher, _events(per_second // 10))
        time.sleep(max(0.0, 0.1 - (time.perf_counter() - started)))
    publisher.stop(timeout=5)


def run_visitors_latency() -> str:
    context = multiprocessing.get_context("fork")
    with tempfile.TemporaryDirectory() as tmp, \
            temporary_vhost(f"bench_{uuid.uuid4().hex[:8]}") as amqp_uri, \
            Platform(amqp_uri, Path(tmp), gateway=True) as platform:
        base = f"http://127.0.0.1:{platform.env['GATEWAY_PORT']}"
        stop = context.Event()
        load = context.Process(target=_background_views, args=(amqp_uri, stop), daemon=True)
        load.start()
        try:
            _wait(lambda: platform.total() > 0, timeout=30)
            time.sleep(STEADY_AFTER_S)  # past the start: the day's collections made, caches full
            counted_before, clock_before = platform.total(), time.perf_counter()

            def rpc_caller():
                proxy = ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=10).start()
                return lambda _i: proxy.analytics.visitors()

            def mongo_caller():  # a client of its own: callers may run in forked processes
                counters = make_client("bench", settings=platform.settings)[
                    platform.settings.database_name("analytics")]["counters"]
                day = f"day:{local_day(datetime.now(timezone.utc))}"
                return lambda _i: list(counters.find({"_id": {"$in": ["total", day]}},
                                                     {"views": 1, "visitors": 1}))

            gateway_caller = http_getter(base, [VISITORS_PATH], expect=b'"total"', timeout=5)
            # open loop: one counter read per page view, as every page shows the counter
            arriving = measure_arrivals(
                f"GET /api/v1/analytics/visitors (gateway, cached {VISITORS_TTL_S} s)",
                gateway_caller, rate=ARRIVALS_PER_S, seconds=ARRIVAL_SECONDS)
            arriving_base = measure_arrivals("direct MongoDB read of the counters",
                                             mongo_caller, rate=ARRIVALS_PER_S,
                                             seconds=ARRIVAL_SECONDS)
            # closed loop: 8 clients asking as fast as answers come (saturation)
            baseline = measure("direct MongoDB read of the counters", mongo_caller,
                               calls=LATENCY_CALLS, concurrency=CONCURRENCY)
            gateway = measure(f"GET /api/v1/analytics/visitors (gateway, cached "
                              f"{VISITORS_TTL_S} s)", gateway_caller, calls=LATENCY_CALLS,
                              concurrency=CONCURRENCY)
            rpc = measure("analytics.visitors over Nameko RPC (uncached)", rpc_caller,
                          calls=LATENCY_CALLS // 4, concurrency=CONCURRENCY)
            views_per_s = (platform.total() - counted_before) / (
                time.perf_counter() - clock_before)
        finally:
            stop.set()
            load.join(timeout=30)
    return report("visitors_latency", "Visitor counter latency under page-view load",
                  [(arriving, arriving_base), (gateway, baseline), (rpc, baseline)],
                  notes=f"Page views counted meanwhile: {views_per_s:,.0f}/s (a separate "
                        f"process publishes ~1,000/s; measured from {STEADY_AFTER_S} s after the "
                        f"first was counted). First row: {ARRIVALS_PER_S:,} counter "
                        f"reads/s arriving for {ARRIVAL_SECONDS} s whatever the answers take "
                        "(open loop; latency from the time each read was due), as visitors "
                        "arrive; the others: 8 clients asking as fast as answers come "
                        "(saturation). HTTP clients: the standard library's, keep-alive (4 "
                        "processes in the open loop, 8 threads in the closed one). Target: "
                        "p99 < 20 ms through the gateway. "
                        "Two shared cores: noisy.")


if __name__ == "__main__":
    sys.exit(print(run_visitors_latency()))
