"""Measuring and reporting: latency samples, percentiles, throughput, the results table."""
from __future__ import annotations

import gc
import http.client
import json
import multiprocessing
import os
import platform
import statistics
import threading
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass
class Figure:
    name: str          # what was measured
    mode: str          # "serial" or "8 concurrent"
    calls: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def per_second(self) -> float:
        return self.calls / self.seconds

    def as_dict(self) -> dict:
        """The figure as a results file keeps it (``per_second`` included)."""
        return {**asdict(self), "per_second": self.per_second}


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def keep_gc_out_of_samples() -> None:
    """Hide what the measuring process holds so far from its garbage collector's full passes.

    A benchmark process has imported the whole portal (tens of MB of objects); a full pass
    walks all of it, and in a forked client it also copies every page it touches (copy on
    write): 150-450 ms during which that client sends nothing, charged to the server as p99.
    Called at the start of every measurement and in every forked client."""
    gc.freeze()


def measure(name: str, make_caller: Callable[[], Callable[[int], None]], *, calls: int,
            concurrency: int = 1, warmup: int = 50) -> Figure:
    """Run ``calls`` calls spread over ``concurrency`` threads, each with its own caller."""
    per_thread = calls // concurrency
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    callers = [make_caller() for _ in range(concurrency)]
    for caller in callers:
        for i in range(warmup // concurrency or 1):
            caller(i)
    keep_gc_out_of_samples()
    barrier = threading.Barrier(concurrency + 1)

    def work(index: int) -> None:
        caller, samples = callers[index], latencies[index]
        barrier.wait()
        for i in range(per_thread):
            started = time.perf_counter()
            caller(i)
            samples.append(time.perf_counter() - started)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(concurrency)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    samples = [s for chunk in latencies for s in chunk]
    return Figure(name=name, mode="serial" if concurrency == 1 else f"{concurrency} concurrent",
                  calls=len(samples), seconds=elapsed,
                  p50_ms=statistics.median(samples) * 1000, p99_ms=percentile(samples, 0.99) * 1000)


def measure_arrivals(name: str, make_caller: Callable[[], Callable[[int], None]], *,
                     rate: float, seconds: float, clients: int = 4,
                     warmup: int = 20) -> Figure:
    """Open-loop load: calls arrive at ``rate`` per second whatever the answers take, spread
    over ``clients`` processes (each with its own connection); a call's latency counts from the
    time it was *due*, so a call that had to wait for the one before it is charged that wait
    (no coordinated omission). This is how visitors arrive; ``measure`` instead keeps N
    callers busy, which measures the server at saturation."""
    context = multiprocessing.get_context("fork")
    per_client = rate / clients
    ready, go = context.Barrier(clients + 1), context.Event()
    results = context.Queue()
    start_at = context.Value("d", 0.0)

    def client(index: int) -> None:
        keep_gc_out_of_samples()  # first: a full pass would copy the parent's heap
        caller = make_caller()
        for i in range(warmup):
            caller(i)
        ready.wait()
        go.wait()
        start = start_at.value  # read once: the shared value's lock must not couple the clients
        begin = start + index / rate  # the clients' schedules interleave
        samples, i = [], 0
        while True:
            due = begin + i / per_client
            if due - start >= seconds:
                break
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            caller(i)
            samples.append(time.perf_counter() - due)
            i += 1
        results.put(samples)

    workers = [context.Process(target=client, args=(n,), daemon=True) for n in range(clients)]
    for worker in workers:
        worker.start()
    ready.wait(timeout=120)
    start_at.value = time.perf_counter() + 0.05
    go.set()
    samples = [s for _ in workers for s in results.get(timeout=seconds + 600)]
    elapsed = time.perf_counter() - start_at.value
    for worker in workers:
        worker.join(timeout=10)
    return Figure(name=name, mode=f"{rate:,.0f}/s arriving ({clients} clients)",
                  calls=len(samples), seconds=elapsed, p50_ms=statistics.median(samples) * 1000,
                  p99_ms=percentile(samples, 0.99) * 1000)


def http_getter(base_url: str, paths: list[str], headers: dict | None = None, *,
                expect: bytes | None = None, timeout: float = 30) -> Callable[[], Callable]:
    """A ``make_caller`` for keep-alive GETs with the standard library's client: call ``i`` asks
    for ``paths[i % len(paths)]`` and fails unless the answer is 200 (and holds ``expect``).
    ``requests`` would spend ~0.7 ms of CPU a call, taken from the servers measured on the
    same two cores. A connection the server closed while idle (gunicorn's ``keepalive``) is
    opened again, as a browser would."""
    parts = urlsplit(base_url)

    def make() -> Callable[[int], None]:
        state = {"connection": None}

        def call(i: int) -> None:
            path = paths[i % len(paths)]
            for attempt in (1, 2):
                if state["connection"] is None:
                    state["connection"] = http.client.HTTPConnection(parts.hostname, parts.port,
                                                                     timeout=timeout)
                try:
                    state["connection"].request("GET", path, headers=headers or {})
                    response = state["connection"].getresponse()
                    body = response.read()
                    break
                except (http.client.RemoteDisconnected, ConnectionError):
                    state["connection"].close()
                    state["connection"] = None
                    if attempt == 2:
                        raise
            if response.status != 200 or (expect is not None and expect not in body):
                raise RuntimeError(f"GET {path}: {response.status}")
        return call
    return make


def save(bench: str, lines: list[str], data: dict) -> str:
    """Print a benchmark's table and keep it: ``results/<bench>.md`` and ``.json``."""
    text = "\n".join(lines) + "\n"
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{bench}.md").write_text(text, encoding="utf-8")
    (RESULTS / f"{bench}.json").write_text(json.dumps(data, indent=2, ensure_ascii=False),
                                           encoding="utf-8")
    return text


def machine() -> dict:
    return {"cpus": os.cpu_count(), "python": platform.python_version(),
            "system": f"{platform.system()} {platform.release()}",
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}


def report(bench: str, title: str, pairs: list[tuple[Figure, Figure]], notes: str = "") -> str:
    """Print and save a table: each measured figure beside its baseline, with ratios."""
    lines = [f"## {title}", "", f"{machine()['date']}, {machine()['cpus']} CPUs, "
             f"Python {machine()['python']}. {notes}".strip(), "",
             "| measured | mode | calls/s | p50 ms | p99 ms | baseline | calls/s | p50 ms | p99 ms "
             "| throughput ratio | p50 ratio | p99 ratio |",
             "|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|"]
    for measured, baseline in pairs:
        lines.append(
            f"| {measured.name} | {measured.mode} | {measured.per_second:,.0f} | "
            f"{measured.p50_ms:.2f} | {measured.p99_ms:.2f} | {baseline.name} | "
            f"{baseline.per_second:,.0f} | {baseline.p50_ms:.2f} | {baseline.p99_ms:.2f} | "
            f"{measured.per_second / baseline.per_second:.2f}× | "
            f"{measured.p50_ms / baseline.p50_ms:.2f}× | {measured.p99_ms / baseline.p99_ms:.2f}× |")
    return save(bench, lines, {
        "machine": machine(),
        "pairs": [{"measured": m.as_dict(), "baseline": b.as_dict()} for m, b in pairs]})
