"""The gateway's gunicorn settings for the bare baseline app (bench/bare_flask.py): the same
file, minus the hook that flushes the gateway's page-view buffer (the bare app has none)."""
from pathlib import Path

exec(compile((Path(__file__).resolve().parents[1] / "gateway" / "gunicorn.conf.py").read_text(),
             "gateway/gunicorn.conf.py", "exec"))
del worker_exit  # noqa: F821  (defined by the gateway's settings just executed)
