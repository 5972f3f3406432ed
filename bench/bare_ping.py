"""The baseline of the serving benchmark: a Flask app with one small JSON endpoint and nothing else."""
from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/ping")
def ping():
    return jsonify(items=[{"slug": "tin-tuc-su-kien", "name": "Tin tức - Sự kiện"}])
