"""The bare baseline of bench/news_reads.py: a Flask app answering the same JSON documents from
memory, served by gunicorn with the gateway's own settings (``gateway/gunicorn.conf.py``).
It has none of the gateway's work: no routing to services, no cache lookup, no metrics,
headers or correlation ids. ``BENCH_BARE_JSON`` names a file ``{"article": …, "list": …}``."""
import json
import os

from flask import Flask, jsonify

app = Flask(__name__)
app.json.ensure_ascii = False
app.json.sort_keys = False
with open(os.environ["BENCH_BARE_JSON"], encoding="utf-8") as source:
    DOCUMENTS = json.load(source)


@app.get("/article")
def article():
    return jsonify(DOCUMENTS["article"])


@app.get("/list")
def listing():
    return jsonify(DOCUMENTS["list"])


@app.get("/healthz")
def healthz():
    return jsonify(status="ok")
