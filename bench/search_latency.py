"""Document search latency at 16 concurrent clients: through the gateway vs straight to
Elasticsearch, same queries, same run; and bulk import throughput (documents/s).

The register is generated from templates (bench/search_corpus.py) and imported with the real
``documents-import`` command into the namespace ``benchsearch``. It is kept between runs: when
the corpus fingerprint (generator version, seed, size) is unchanged, the import is skipped and
the last import's figure is reported again. Size: ``BENCH_SEARCH_DOCS`` (default 50,000).

Gateway requests carry an ``Authorization`` header, which makes the response cache step aside:
every request goes gateway → RPC → documents service → Elasticsearch. The direct side sends the
requests the documents service sends for the same query (recorded from ``SearchIndex``) straight
to Elasticsearch. Both sides use the same light keep-alive client (``http.client``), so the
load generator takes little of the two cores from the servers it measures. Every row is
measured on a warm engine: 30,000 direct searches go first, unreported. A fourth row
measures a read path the platform does not serve, for a decision still open: the same gateway
running the service's search code in its own process (``bench/proposed_search_read.py``).
"""
from __future__ import annotations

import functools
import http.client
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import requests
from elasticsearch import Elasticsearch
from prometheus_client.parser import text_string_to_metric_families
from pymongo import MongoClient

from bench import processes
from bench.harness import Figure, http_getter, machine, measure, save
from bench.search_corpus import QUERIES, fingerprint, generate, number_queries, write_jsonl
from portal_common.rabbit_admin import temporary_vhost
from portal_common.schemas.documents import DocumentSearchQuery
from portal_common.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
NAMESPACE = "benchsearch"
CONCURRENCY = 16
CALLS = int(os.environ.get("BENCH_SEARCH_CALLS", "3200"))
WARMUP_SEARCHES = 30_000
PROPOSED_PATH = "/bench/documents/search"  # bench/proposed_search_read.py




def _env(**extra) -> dict:
    return {**os.environ, "PORTAL_NAMESPACE": NAMESPACE, "LOG_LEVEL": "WARNING", **extra}


def _prepare_corpus(size: int, settings: Settings, amqp_uri: str) -> dict:
    """Import the corpus unless the same one is already indexed; returns the import figures."""
    mongo = MongoClient(settings.mongo_uri)
    meta = mongo[f"{NAMESPACE}_documents"]["bench_meta"]
    stamp = meta.find_one({"_id": "corpus"})
    es = Elasticsearch(settings.elasticsearch_url, request_timeout=60)
    alias = f"{NAMESPACE}_search"
    if stamp and stamp.get("fingerprint") == fingerprint(size) and es.indices.exists_alias(
            name=alias) and es.count(index=alias)["count"] >= size:
        mongo.close()
        es.close()
        return {**stamp["import"], "reused": True}
    mongo.drop_database(f"{NAMESPACE}_documents")
    es.indices.delete(index=f"{NAMESPACE}_*", expand_wildcards="all", ignore_unavailable=True)
    es.close()
    documents = generate(size)
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "corpus.jsonl"
        write_jsonl(documents, source)
        started = time.perf_counter()
        result = subprocess.run(
            [str(ROOT / ".venv" / "bin" / "documents-import"), str(source), "--quiet",
             "--batch", "1000", "--rejects", str(Path(tmp) / "rejected.csv")],
            env=_env(AMQP_URI=amqp_uri), capture_output=True, text=True, timeout=1800)
        seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"documents-import failed:\n{result.stderr[-3000:]}")
    report = json.loads(result.stdout.strip().splitlines()[-1])
    figures = {"documents": report["imported"], "rejected": report["rejected"],
               "seconds": round(seconds, 1), "per_second": round(report["imported"] / seconds)}
    meta.replace_one({"_id": "corpus"}, {"_id": "corpus", "fingerprint": fingerprint(size),
                                         "import": figures}, upsert=True)
    mongo.close()
    return {**figures, "reused": False}




def _poster(es_url: str, bodies: list[list[tuple[str, bytes]]]):
    """The same Elasticsearch requests the documents service makes for each query, sent
    straight to Elasticsearch with the same light client as ``harness.http_getter``."""
    parts = urlsplit(es_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    headers = {"Content-Type": "application/json"}

    def call(i: int) -> None:
        for path, body in bodies[i % len(bodies)]:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            assert response.status == 200, response.status
    return call


# the client's keyword arguments that are spelled otherwise in a search body
_BODY_KEYS = {"from_": "from", "source": "_source"}


def _service_requests(settings: Settings, queries: list[str]) -> list[list[tuple[str, bytes]]]:
    """For each query, the search requests ``SearchIndex.search_documents`` sends (recorded
    from the real code, on the real index): the direct side's bodies."""
    from documents.search_index import SearchIndex

    client = Elasticsearch(settings.elasticsearch_url, request_timeout=30)
    recorded: list[tuple[str, bytes]] = []

    class Recorder:
        indices = client.indices

        def search(self, *, index, **body):
            recorded.append((f"/{index}/_search", json.dumps(
                {_BODY_KEYS.get(k, k): v for k, v in body.items() if v is not None}).encode()))
            return client.search(index=index, **body)

    search_index = SearchIndex(Recorder(), f"{NAMESPACE}_search")
    search_index.ready = True
    out = []
    for q in queries:
        recorded.clear()
        search_index.search_documents(DocumentSearchQuery(q=q))
        out.append(list(recorded))
    client.close()
    return out


def _wait_for_startup_scan(metrics_url: str, timeout: float = 300) -> None:
    """Wait until the documents service finished its first catch-up scan of the register
    (``portal_catch_up_scan_seconds``): start-up work, not what a search costs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for family in text_string_to_metric_families(requests.get(metrics_url, timeout=5).text):
            if family.name == "portal_catch_up_scan_seconds" and any(
                    sample.name.endswith("_count") and sample.value >= 1
                    for sample in family.samples):
                return
        time.sleep(1)
    raise RuntimeError("the documents service did not finish its start-up catch-up scan")


def run() -> str:
    size = int(os.environ.get("BENCH_SEARCH_DOCS", "50000"))
    settings = Settings()
    queries = QUERIES + number_queries(generate(size))
    vhost = f"bench_{uuid.uuid4().hex[:8]}"
    with temporary_vhost(vhost) as amqp_uri, tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        imported = _prepare_corpus(size, settings, amqp_uri)
        ports = {"DOCUMENTS_HTTP_PORT": str(processes.free_port()), "GATEWAY_PORT": str(processes.free_port())}
        proposed_port = str(processes.free_port())
        env = _env(AMQP_URI=amqp_uri, PORTAL_VAR_DIR=str(tmp / "var"), DEMO_DATA="0",
                   GATEWAY_WORKERS=os.environ.get("GATEWAY_WORKERS", "2"),
                   GATEWAY_THREADS=os.environ.get("GATEWAY_THREADS", "8"),
                   RPC_POOL_SIZE="16", **ports)
        bin_dir = ROOT / ".venv" / "bin"
        servers = []
        try:
            servers.append(processes.start([str(bin_dir / "portal-nameko"), "run", "--config",
                                   "services/documents/config.yaml",
                                   "documents.service:DocumentsService"], env,
                                  tmp / "documents.log",
                                  f"http://127.0.0.1:{ports['DOCUMENTS_HTTP_PORT']}/readyz"))
            servers.append(processes.start([str(bin_dir / "gunicorn"), "--config",
                                   "gateway/gunicorn.conf.py", "gateway.wsgi:app"], env,
                                  tmp / "gateway.log",
                                  f"http://127.0.0.1:{ports['GATEWAY_PORT']}/readyz"))
            servers.append(processes.start([str(bin_dir / "gunicorn"), "--config",
                                   "gateway/gunicorn.conf.py", "bench.proposed_search_read:app"],
                                  {**env, "GATEWAY_PORT": proposed_port,
                                   "PORTAL_VAR_DIR": str(tmp / "proposed-var")},
                                  tmp / "proposed.log", f"http://127.0.0.1:{proposed_port}/readyz"))
            # steady state: the service's start-up catch-up scan of the register is done
            _wait_for_startup_scan(f"http://127.0.0.1:{ports['DOCUMENTS_HTTP_PORT']}/metrics")
            base = f"http://127.0.0.1:{ports['GATEWAY_PORT']}/api/v1/documents/search"

            paths = [f"{urlsplit(base).path}?{urlencode({'q': q})}" for q in queries]
            # any Authorization header makes the public cache step aside: full path
            bypass = {"Authorization": "Bearer benchmark-bypasses-the-cache"}
            gateway_caller = http_getter(base, paths, bypass)
            cached_caller = http_getter(base, paths)
            proposed_caller = http_getter(
                f"http://127.0.0.1:{proposed_port}{PROPOSED_PATH}",
                [f"{PROPOSED_PATH}?{urlencode({'q': q})}" for q in queries], bypass)
            requests_to_es = _service_requests(settings, queries)
            direct_caller = functools.partial(_poster, settings.elasticsearch_url,
                                              requests_to_es)
            # a freshly started Elasticsearch speeds up over its first ~25,000 searches (the
            # JVM compiling its hot paths, caches filling): 221 searches/s in the first 1,600,
            # ~540/s after 30,000. Measured cold, the first row (direct) ran at half speed and
            # flattered every ratio to it, so all rows are measured on a warm engine
            measure("warm-up, not reported", direct_caller, calls=WARMUP_SEARCHES,
                    concurrency=CONCURRENCY, warmup=0)

            direct = measure("straight to Elasticsearch (same query body)", direct_caller,
                             calls=CALLS, concurrency=CONCURRENCY, warmup=64)
            through = measure("gateway → RPC → documents → Elasticsearch", gateway_caller,
                              calls=CALLS, concurrency=CONCURRENCY, warmup=64)
            cached = measure("gateway, public response cache (the same queries repeated)",
                             cached_caller, calls=CALLS, concurrency=CONCURRENCY, warmup=64)
            proposed = measure("gateway with the search in its own process (proposed read "
                               "path, not served)", proposed_caller, calls=CALLS,
                               concurrency=CONCURRENCY, warmup=64)
        finally:
            for server in servers:
                processes.stop(server)
    return _report(size, imported, through, direct, cached, proposed, len(queries))


def _row(figure: Figure, suffix: str = "") -> str:
    return (f"| {figure.name}{suffix} | {figure.calls} | {figure.per_second:,.0f} | "
            f"{figure.p50_ms:.1f} | {figure.p99_ms:.1f} |")


def _ratio(label: str, figure: Figure, baseline: Figure) -> str:
    return (f"| ratio {label} ÷ direct | | {figure.per_second / baseline.per_second:.2f}× | "
            f"{figure.p50_ms / baseline.p50_ms:.2f}× | {figure.p99_ms / baseline.p99_ms:.2f}× |")


def _report(size, imported, through, direct, cached, proposed, query_count) -> str:
    m = machine()
    reuse = (" (index reused from an earlier run of the same corpus; import figure from that "
             "run)" if imported["reused"] else "")
    lines = [
        "## Document search: gateway vs Elasticsearch, 16 concurrent clients", "",
        f"{m['date']}, {m['cpus']} CPUs (shared with other work while measured), Python "
        f"{m['python']}. Corpus: {size:,} generated documents; {query_count} distinct queries "
        "(words with and without diacritics, document numbers in several spellings), "
        "round-robin; every request with facets, highlights and the number parser. Clients: "
        "16 threads, each with a keep-alive connection (standard library client).", "",
        "| path | calls | req/s | p50 ms | p99 ms |", "|---|---:|---:|---:|---:|",
        _row(through), _row(direct, " (baseline)"), _ratio("gateway", through, direct),
        _row(cached), _row(proposed), _ratio("proposed", proposed, direct), "",
        "The proposed row is the gateway app unchanged plus one route running the documents "
        "service's search code in the gateway process (`bench/proposed_search_read.py`): what "
        "the decision open in docs/decisions.md (\"Search: the uncached path's cost is the RPC "
        "hop\") would give. The platform serves the first row.", "",
        "| bulk import (`documents-import`, batches of 1,000: validate, MongoDB insert_many, "
        "Elasticsearch streaming_bulk, events) | documents | seconds | documents/s |",
        "|---|---:|---:|---:|",
        f"| {size:,}-document JSON lines file{reuse} | {imported['documents']:,} | "
        f"{imported['seconds']} | {imported['per_second']:,} |",
    ]
    return save("search_latency", lines, {
        "machine": m, "corpus_size": size, "queries": query_count, "import": imported,
        "gateway": through.as_dict(), "direct": direct.as_dict(),
        "gateway_cached": cached.as_dict(), "proposed_in_process": proposed.as_dict()})


if __name__ == "__main__":
    sys.exit(print(run()))
