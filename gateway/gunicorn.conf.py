"""Gunicorn settings of the gateway. Threads, not eventlet: the gateway blocks on RPC replies,
and threaded workers keep Flask, pika and the RPC pool simple.

Defaults (``GATEWAY_WORKERS=2``, ``GATEWAY_THREADS=8``) come from ``bench/gateway_serving.py``
(results in ``bench/results/gateway_serving.md``): on a 2-core machine, 2, 4 or 8 threads per
worker and 1, 2 or 4 workers were within the run-to-run noise for cached and RPC-backed reads,
so the choice follows the rules the figures did not contradict: one worker per core (more only
add memory, connections and separate caches), and enough threads per worker that requests
waiting on a slow service (each holds a thread up to ``RPC_TIMEOUT_S``) do not stall cached
reads. On a bigger pod set ``GATEWAY_WORKERS`` to its cores.
"""
import os

bind = f"{os.environ.get('GATEWAY_HOST', '127.0.0.1')}:{os.environ.get('GATEWAY_PORT', '8080')}"
worker_class = "gthread"
workers = int(os.environ.get("GATEWAY_WORKERS", "2"))
threads = int(os.environ.get("GATEWAY_THREADS", "8"))
timeout = 30
graceful_timeout = 20
keepalive = 5
# the request line and headers are bounded before Flask sees them (the body: MAX_BODY_BYTES)
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
accesslog = None  # the app logs requests as JSON itself
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()


def worker_exit(server, worker):
    """Publish the page views still buffered before a worker goes away (restart, scale down),
    then close the worker's connections."""
    from gateway.app import shutdown

    app = worker.wsgi  # the app this worker loaded (None if loading it failed)
    if app is not None and not shutdown(app):
        server.log.warning("page views still buffered at exit were not published")


def post_worker_init(worker):
    """The app is loaded: hide it from the garbage collector's full passes, which walked all
    of it (60-90 ms pauses every few seconds under load, most of the gateway's p99)."""
    from portal_common.observability import freeze_loaded_objects

    freeze_loaded_objects()
