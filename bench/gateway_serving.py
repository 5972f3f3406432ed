"""Serving the gateway with gunicorn: which workers × threads, measured against a bare Flask app.

For a few worker × thread combinations, the real gateway (``gateway/gunicorn.conf.py``, the
news service running behind it in a vhost and namespace of its own) answers, under 32
concurrent keep-alive clients:

- a public cached GET (``/api/v1/categories``: an answer from the worker's memory, with ETag);
- an RPC-backed GET (the same route with an ``Authorization`` header, which is never cached:
  every request is a Nameko RPC call to the news service and a MongoDB read);

and, as the baseline of each, a bare Flask endpoint returning a small JSON object, served by
gunicorn with the same worker class, workers and threads in the same run. The ratio is what
the gateway's own work (request id, metrics, security headers, logging, cache, RPC) costs
over Flask itself. The client runs on the same machine, so absolute numbers are bounded by it.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
import uuid
from pathlib import Path


from bench import processes
from bench.harness import http_getter, measure, report
from portal_common.rabbit_admin import temporary_vhost

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CONCURRENCY = 32
CALLS = 1600
COMBINATIONS = ((1, 8), (2, 4), (2, 8), (4, 4), (4, 8))




def _getter(port: int, path: str, headers: dict | None = None):
    return http_getter(f"http://127.0.0.1:{port}", [path], headers)


def _drop_namespace(env: dict, namespace: str) -> None:
    from pymongo import MongoClient

    client = MongoClient(env.get("MONGO_URI", "mongodb://127.0.0.1:27017/"))
    for name in client.list_database_names():
        if name.startswith(f"{namespace}_"):
            client.drop_database(name)
    client.close()


def run() -> str:
    namespace = f"bench{uuid.uuid4().hex[:8]}"
    pairs, tmp = [], Path(tempfile.mkdtemp(prefix="bench-gateway-"))
    with temporary_vhost(namespace) as amqp_uri:
        env = {**os.environ, "AMQP_URI": amqp_uri, "PORTAL_NAMESPACE": namespace,
               "PORTAL_VAR_DIR": str(tmp / "var"), "NEWS_HTTP_PORT": str(processes.free_port()),
               "LOG_LEVEL": "INFO", "EVENTLET_NO_GREENDNS": "yes"}
        news = processes.start([BIN / "portal-nameko", "run", "--config", "services/news/config.yaml",
                       "news.service:NewsService"], env, tmp / "news.log",
                      f"http://127.0.0.1:{env['NEWS_HTTP_PORT']}/healthz")
        try:
            for workers, threads in COMBINATIONS:
                setting = f"{workers} workers × {threads} threads"
                port, bare_port = processes.free_port(), processes.free_port()
                gateway = processes.start(
                    [BIN / "gunicorn", "--config", "gateway/gunicorn.conf.py", "gateway.wsgi:app"],
                    {**env, "GATEWAY_PORT": str(port), "GATEWAY_WORKERS": str(workers),
                     "GATEWAY_THREADS": str(threads)},
                    tmp / f"gateway-{workers}x{threads}.log", f"http://127.0.0.1:{port}/healthz")
                bare = processes.start(
                    [BIN / "gunicorn", "--worker-class", "gthread", "--workers", workers,
                     "--threads", threads, "--keep-alive", "5", "--bind",
                     f"127.0.0.1:{bare_port}", "bench.bare_ping:app"],
                    env, tmp / f"bare-{workers}x{threads}.log",
                    f"http://127.0.0.1:{bare_port}/ping")
                try:
                    baseline = measure(f"bare Flask GET /ping [{setting}]",
                                       _getter(bare_port, "/ping"), calls=CALLS,
                                       concurrency=CONCURRENCY, warmup=CONCURRENCY * 4)
                    cached = measure(f"gateway cached GET /api/v1/categories [{setting}]",
                                     _getter(port, "/api/v1/categories"), calls=CALLS,
                                     concurrency=CONCURRENCY, warmup=CONCURRENCY * 4)
                    rpc = measure(f"gateway RPC-backed GET /api/v1/categories [{setting}]",
                                  _getter(port, "/api/v1/categories",
                                          {"Authorization": "Bearer uncached"}),
                                  calls=CALLS, concurrency=CONCURRENCY, warmup=CONCURRENCY * 4)
                    pairs += [(cached, baseline), (rpc, baseline)]
                finally:
                    processes.stop(gateway)
                    processes.stop(bare)
        finally:
            processes.stop(news)
            _drop_namespace(env, namespace)
            shutil.rmtree(tmp, ignore_errors=True)
    return report(
        "gateway_serving", "Gateway serving: gunicorn workers × threads vs a bare Flask app",
        pairs, notes=f"{CONCURRENCY} concurrent keep-alive clients on the same machine; each "
        "baseline is a bare Flask endpoint on gunicorn gthread with the same workers and threads, "
        "measured in the same run; the RPC-backed GET calls the news service (Nameko) which "
        "reads MongoDB (FerretDB). Ratios are measured ÷ baseline.")
