"""Gunicorn settings of the gateway. Threads, not eventlet: the gateway blocks on RPC replies,
and threaded workers keep Flask, pika and the RPC pool simple. Counts are overridable from the
environment; issue 7 chooses them from a benchmark."""
import os

bind = f"{os.environ.get('GATEWAY_HOST', '127.0.0.1')}:{os.environ.get('GATEWAY_PORT', '8080')}"
worker_class = "gthread"
workers = int(os.environ.get("GATEWAY_WORKERS", "2"))
threads = int(os.environ.get("GATEWAY_THREADS", "8"))
timeout = 30
graceful_timeout = 20
keepalive = 5
accesslog = None  # the app logs requests as JSON itself
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()


def worker_exit(server, worker):
    """Publish the page views still buffered before a worker goes away (restart, scale down)."""
    from gateway.wsgi import app

    if not app.extensions["pageviews"].stop():
        server.log.warning("page views still buffered at exit were not published")
