"""Public news reads at 32 concurrent clients: the real gateway (gunicorn, the news service
over RPC, the event-invalidated cache) next to the same data read straight from MongoDB and
next to a bare Flask endpoint served by gunicorn with the same settings, all in one run.

Figures: ``GET /api/v1/news/{slug}`` and ``GET /api/v1/news`` as the public gets them (cached,
revalidated by events), the same two with an ``Authorization`` header (never cached: every
request goes gateway → RPC → news service → MongoDB), a direct pymongo read of the same
documents, and the bare endpoint answering the same JSON from memory. Clients are threads, each
with its own keep-alive HTTP connection (``http.client``) — on a 2-core machine the load
generator shares the CPUs with the servers, which bounds every HTTP figure.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import requests
from nameko.standalone.rpc import ClusterRpcProxy
from pymongo import DESCENDING, MongoClient

from bench import processes
from bench.harness import http_getter, measure, report
from portal_common.rabbit_admin import temporary_vhost
from portal_common.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
CONCURRENCY = 32
CALLS = 6400
DIRECT_CALLS = 640
UNCACHED_CALLS = 320
ARTICLES = 60
P99_TARGET_MS = 50.0






def _seed(amqp_uri: str) -> list[dict]:
    """Categories and ARTICLES published articles of realistic size, through the service."""
    body = "".join(f"<p>Đoạn {n}: các cấp công đoàn tỉnh Lào Cai đã tích cực đổi mới, nâng cao "
                   f"chất lượng công tác nắm bắt dư luận xã hội trong CNVCLĐ.</p>" for n in range(12))
    published = []
    with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=30) as rpc:
        rpc.news.ensure_category({"slug": "tin-tuc-su-kien", "name": "Tin tức - Sự kiện"})
        rpc.news.ensure_category({"slug": "ban-tuyen-giao", "name": "Ban Tuyên giáo",
                                  "parent": "tin-tuc-su-kien"})
        for n in range(ARTICLES):
            draft = rpc.news.create_article({
                "title": f"Hội nghị tuyên vận số {n} của Liên đoàn Lao động tỉnh Lào Cai",
                "summary": "Nắm bắt và phản ánh dư luận xã hội trong đoàn viên, người lao động.",
                "body_html": body, "category": "ban-tuyen-giao",
                "credits": "Bài: Tiến Sỹ; Ảnh: Đồng Hồng - PT", "source_unit": "LĐLĐ tỉnh Lào Cai",
                "tags": ["dư luận xã hội"]}, "bench")
            published.append(rpc.news.publish_article(draft["id"], "bench"))
    return published


def _getter(port: int, path: str, headers: dict | None = None):
    return http_getter(f"http://127.0.0.1:{port}", [path], headers)


def _mongo_callers(mongo_uri: str, database: str, slug: str):
    client = MongoClient(mongo_uri, maxPoolSize=CONCURRENCY + 4, tz_aware=True)
    articles = client[database]["articles"]
    categories = client[database]["categories"]

    def one():
        return lambda _i: articles.find_one({"slug": slug, "status": "published"}, {"outbox": 0})

    def page():
        # what the list needs: the page, the total and the category tree
        def call(_i):
            list(articles.find({"status": "published", "category": {"$in": ["ban-tuyen-giao"]}},
                               {"body_html": 0}).sort([("published_at", DESCENDING)]).limit(20))
            articles.count_documents({"status": "published", "category": {"$in": ["ban-tuyen-giao"]}})
            list(categories.find({}))
        return call
    return client, one, page


def run() -> str:
    namespace = f"bench{uuid.uuid4().hex[:8]}"
    settings = Settings()
    bin_dir = Path(sys.executable).parent
    started: list[subprocess.Popen] = []
    with temporary_vhost(namespace) as amqp_uri, tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        env = {**os.environ, "AMQP_URI": amqp_uri, "PORTAL_NAMESPACE": namespace,
               "PORTAL_VAR_DIR": str(tmp / "var"), "LOG_LEVEL": "WARNING",
               "NEWS_HTTP_PORT": str(processes.free_port()), "JWT_SECRET": "b" * 40, "DEMO_DATA": "0"}
        gateway_port, bare_port = processes.free_port(), processes.free_port()
        try:
            started.append(processes.start(
                [str(bin_dir / "portal-nameko"), "run", "--config", "services/news/config.yaml",
                 "news.service:NewsService"], env, tmp / "news.log",
                f"http://127.0.0.1:{env['NEWS_HTTP_PORT']}/healthz"))
            articles = _seed(amqp_uri)
            started.append(processes.start(
                [str(bin_dir / "gunicorn"), "--config", "gateway/gunicorn.conf.py",
                 "gateway.wsgi:app"], {**env, "GATEWAY_PORT": str(gateway_port)},
                tmp / "gateway.log", f"http://127.0.0.1:{gateway_port}/healthz"))
            slug = articles[ARTICLES // 2]["slug"]
            article_path, list_path = f"/api/v1/news/{slug}", "/api/v1/news?category=ban-tuyen-giao"
            gateway = f"http://127.0.0.1:{gateway_port}"
            documents = {"article": requests.get(gateway + article_path, timeout=10).json(),
                         "list": requests.get(gateway + list_path, timeout=10).json()}
            (tmp / "bare.json").write_text(json.dumps(documents, ensure_ascii=False), "utf-8")
            started.append(processes.start(
                [str(bin_dir / "gunicorn"), "--config", "bench/bare_gunicorn.conf.py",
                 "bench.bare_flask:app"],
                {**env, "GATEWAY_PORT": str(bare_port), "BENCH_BARE_JSON": str(tmp / "bare.json")},
                tmp / "bare.log", f"http://127.0.0.1:{bare_port}/healthz"))
            # the gateway's cache listens for news events once a request asked for it
            time.sleep(1.0)

            mongo, mongo_one, mongo_page = _mongo_callers(
                settings.mongo_uri, f"{namespace}_news", slug)
            pairs = []
            try:
                run_one = lambda name, make, calls=CALLS: measure(  # noqa: E731
                    name, make, calls=calls, concurrency=CONCURRENCY, warmup=CONCURRENCY * 4)
                bare_article = run_one("bare Flask JSON (gunicorn)", _getter(bare_port, "/article"))
                bare_list = run_one("bare Flask JSON (gunicorn)", _getter(bare_port, "/list"))
                direct_article = run_one("pymongo find_one", mongo_one, DIRECT_CALLS)
                direct_list = run_one("pymongo page + count + categories", mongo_page,
                                      DIRECT_CALLS)
                cached_article = run_one("GET /api/v1/news/{slug} (cached)",
                                         _getter(gateway_port, article_path))
                cached_list = run_one("GET /api/v1/news (cached)",
                                      _getter(gateway_port, list_path))
                uncached = {"Authorization": "Bearer bench"}  # never served from the cache
                rpc_article = run_one("GET /api/v1/news/{slug} (uncached: RPC)",
                                      _getter(gateway_port, article_path, uncached),
                                      UNCACHED_CALLS)
                rpc_list = run_one("GET /api/v1/news (uncached: RPC)",
                                   _getter(gateway_port, list_path, uncached), UNCACHED_CALLS)
                pairs = [(cached_article, bare_article), (cached_list, bare_list),
                         (cached_article, direct_article), (cached_list, direct_list),
                         (rpc_article, direct_article), (rpc_list, direct_list)]
            finally:
                mongo.close()
        finally:
            for process in reversed(started):
                processes.stop(process)
            client = MongoClient(settings.mongo_uri, serverSelectionTimeoutMS=3000)
            for name in client.list_database_names():
                if name.startswith(f"{namespace}_"):
                    client.drop_database(name)
            client.close()
    verdict = (f"Target: cached article read ≥ 0.5× the bare endpoint's throughput "
               f"(measured {cached_article.per_second / bare_article.per_second:.2f}×) with p99 "
               f"< {P99_TARGET_MS:.0f} ms (measured {cached_article.p99_ms:.1f} ms).")
    return report("news_reads", f"News reads at {CONCURRENCY} concurrent clients: gateway vs "
                  "bare Flask vs direct MongoDB", pairs,
                  notes=f"Same run, same machine; gateway and bare app under gunicorn with "
                        f"gateway/gunicorn.conf.py (gthread, GATEWAY_WORKERS × GATEWAY_THREADS); "
                        f"{ARTICLES} published articles; the load generator (Python threads, "
                        f"keep-alive http.client) shares the 2 CPUs with the servers. {verdict}")
