"""Feedback intake: ``POST /api/v1/feedback`` (202 once the broker confirmed the message on the
durable queue) against raw pika confirmed publishes of the same body to a queue declared the same
way, same broker, same run. Then: how long from the 202 until the service has stored it, and a
restart of the feedback service in the middle of a burst (every 202 must be stored once).

The real processes run (the feedback service under ``portal-nameko``, the gateway under gunicorn)
in a vhost and namespace of their own; nothing of a running platform is touched.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime
from itertools import count
from pathlib import Path

import pika
import requests
from pymongo import MongoClient

from bench import processes
from bench.harness import measure, percentile, report
from portal_common.rabbit_admin import temporary_vhost
from portal_common.schemas.feedback import INTAKE_QUEUE_ARGUMENTS
from portal_common.settings import Settings

BODY = {"kind": "feedback", "district": "bat-xat",
        "text": "Công ty ở Bát Xát chậm trả lương tháng 11 cho công nhân, đề nghị công đoàn can thiệp."}
SERIAL, CONCURRENT, CONCURRENCY = 200, 400, 8
RESTART_BURST = 320
COUNTER = count()
PACED = 40
TEXTS = [
    "Công ty ở Bát Xát chậm trả lương tháng {n} cho công nhân, đề nghị công đoàn can thiệp.",
    "Xưởng {n} thiếu đồ bảo hộ lao động, công nhân lo ngại tai nạn lao động.",
    "Doanh nghiệp chưa đóng bảo hiểm xã hội cho {n} người lao động từ đầu năm.",
    "Đề nghị tổ chức bữa ăn ca tốt hơn cho {n} công nhân ca đêm.",
    "Người lao động bị yêu cầu làm thêm giờ quá {n} giờ mỗi tháng.",
    "Xin hỏi thủ tục kết nạp đoàn viên công đoàn cho {n} người mới vào làm.",
]




class RawConfirmed:
    """The baseline: one pika connection in confirm mode, persistent messages, a quorum queue."""

    def __init__(self, amqp_uri: str):
        self.connection = pika.BlockingConnection(pika.URLParameters(amqp_uri))
        self.channel = self.connection.channel()
        self.channel.confirm_delivery()
        self.channel.queue_declare("bench-raw-intake", durable=True,
                                   arguments=dict(INTAKE_QUEUE_ARGUMENTS,
                                                  **{"x-dead-letter-routing-key": "bench"}))
        self.body = json.dumps({**BODY, "tracking_code": "GY-AAAA-AAAA"},
                               ensure_ascii=False).encode()

    def __call__(self, i: int) -> None:
        self.channel.basic_publish("", "bench-raw-intake", self.body, mandatory=True,
                                   properties=pika.BasicProperties(delivery_mode=2,
                                                                   content_type="application/json"))


class HttpSubmitter:
    def __init__(self, url: str, accepted: list):
        self.session = requests.Session()
        self.url, self.accepted = url, accepted

    def __call__(self, i: int) -> None:
        # different people: different texts and user agents (so no two are near-duplicates
        # of one sender, which is the rare case, not the load)
        n = next(COUNTER)
        body = {**BODY, "text": TEXTS[n % len(TEXTS)].format(n=n)}
        response = self.session.post(self.url, json=body, timeout=30,
                                     headers={"User-Agent": f"bench-{n}"})
        if response.status_code != 202:
            raise RuntimeError(f"{response.status_code}: {response.text[:300]}")
        self.accepted.append((response.json()["tracking_code"], time.time()))


class Processes:
    """The processes of a run by name, so that one can be stopped and started again."""

    def __init__(self, env: dict, workdir: Path):
        self.env, self.workdir = env, workdir
        self.running: dict[str, subprocess.Popen] = {}

    def start(self, name: str, command: list[str], health: str) -> None:
        self.running[name] = processes.start(command, self.env, self.workdir / f"{name}.log",
                                             health)

    def stop(self, name: str) -> None:
        process = self.running.pop(name, None)
        if process is not None:
            processes.stop(process)


def _wait_count(records, expected: int, timeout: float = 120) -> int:
    deadline = time.monotonic() + timeout
    count = records.count_documents({})
    while count < expected and time.monotonic() < deadline:
        time.sleep(0.5)
        count = records.count_documents({})
    return count


def run() -> str:
    namespace = f"bench{uuid.uuid4().hex[:8]}"
    bin_dir = Path(sys.executable).parent
    settings = Settings()
    mongo = MongoClient(settings.mongo_uri, tz_aware=True)
    with temporary_vhost(namespace) as amqp_uri, tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        ports = {"FEEDBACK_HTTP_PORT": processes.free_port(), "GATEWAY_PORT": processes.free_port()}
        env = {**os.environ, "AMQP_URI": amqp_uri, "PORTAL_NAMESPACE": namespace,
               "PORTAL_VAR_DIR": str(tmp / "var"), "LOG_LEVEL": "WARNING",
               "RATE_LIMIT_FEEDBACK": "1000000/minute", "GATEWAY_WORKERS": "2",
               "GATEWAY_THREADS": "8", **{k: str(v) for k, v in ports.items()}}
        procs = Processes(env, tmp)
        feedback = [str(bin_dir / "portal-nameko"), "run", "--config",
                    "services/feedback/config.yaml", "feedback.service:FeedbackService"]
        feedback_health = f"http://127.0.0.1:{ports['FEEDBACK_HTTP_PORT']}/healthz"
        records = mongo[f"{namespace}_feedback"]["feedback"]
        try:
            procs.start("feedback", feedback, feedback_health)
            procs.start("gateway", [str(bin_dir / "gunicorn"), "--config",
                                    "gateway/gunicorn.conf.py", "gateway.wsgi:app"],
                        f"http://127.0.0.1:{ports['GATEWAY_PORT']}/healthz")
            url = f"http://127.0.0.1:{ports['GATEWAY_PORT']}/api/v1/feedback"

            accepted: list[tuple[str, float]] = []
            pairs = []
            for calls, concurrency in ((SERIAL, 1), (CONCURRENT, CONCURRENCY)):
                baseline = measure("raw pika confirmed publish (quorum queue)",
                                   lambda: RawConfirmed(amqp_uri), calls=calls * 2,
                                   concurrency=concurrency)
                measured = measure("POST /api/v1/feedback → 202", lambda: HttpSubmitter(
                    url, accepted), calls=calls, concurrency=concurrency, warmup=16)
                pairs.append((measured, baseline))

            # the service drains what the two runs queued: its storing rate
            drain_started = time.monotonic()
            stored = _wait_count(records, len(accepted), timeout=300)
            drain_s = time.monotonic() - drain_started

            # 202 → stored at a pace a province sends (one every 100 ms, nothing queued): the
            # service's received_at (set as it stores) minus the client's clock at the 202
            paced: list[tuple[str, float]] = []
            submit = HttpSubmitter(url, paced)
            for i in range(PACED):
                submit(i)
                time.sleep(0.1)
            _wait_count(records, stored + len(paced), timeout=120)
            times = {d["_id"]: d["received_at"].timestamp()
                     for d in records.find({"_id": {"$in": [c for c, _ in paced]}},
                                           {"received_at": 1})}
            lags = [(times[code] - t202) * 1000 for code, t202 in paced if code in times]

            # a restart of the feedback service in the middle of a burst
            before = records.count_documents({})
            burst: list[tuple[str, float]] = []
            failures: list[str] = []

            def send(n: int) -> None:
                submit = HttpSubmitter(url, burst)
                for i in range(n):
                    try:
                        submit(i)
                    except Exception as exc:  # counted, reported: a refusal is not a loss
                        failures.append(str(exc)[:120])
                    time.sleep(0.05)  # the burst lasts a few seconds: the restart falls in it

            threads = [threading.Thread(target=send, args=(RESTART_BURST // CONCURRENCY,))
                       for _ in range(CONCURRENCY)]
            for thread in threads:
                thread.start()
            while len(burst) < RESTART_BURST // 4:
                time.sleep(0.01)
            stop_requested = len(burst)
            procs.stop("feedback")  # graceful: in-flight workers finish, the rest is requeued
            stopped_at = len(burst)
            procs.start("feedback", feedback, feedback_health)
            restarted_at = len(burst)
            for thread in threads:
                thread.join()
            codes = [code for code, _ in burst]
            deadline = time.monotonic() + 300
            found = records.count_documents({"_id": {"$in": codes}})
            while found < len(codes) and time.monotonic() < deadline:
                time.sleep(1)
                found = records.count_documents({"_id": {"$in": codes}})
            after = records.count_documents({})
        finally:
            procs.stop("gateway")
            procs.stop("feedback")
            for name in mongo.list_database_names():
                if name.startswith(f"{namespace}_"):
                    mongo.drop_database(name)
            mongo.close()

    restart = (f"Restart during load: {len(burst)} × 202 in a burst of {RESTART_BURST} "
               f"({len(failures)} refused with 503, not accepted), the feedback service asked to stop "
               f"after {stop_requested} 202s, stopped after {stopped_at} "
               f"and back after {restarted_at}; stored afterwards: {found} of {len(burst)} "
               f"(lost: {len(burst) - found}; duplicates: {after - before - found}).")
    latency = (f"The service stored the {stored} submissions of those two runs in {drain_s:.0f} s "
               f"after the last 202 ({stored / max(drain_s, 0.001):.0f}/s while draining: the "
               f"queue absorbs bursts faster than FerretDB takes them). 202 → stored at a paced "
               f"{PACED} submissions, one per 100 ms: p50 {statistics.median(lags):.1f} ms, "
               f"p99 {percentile(lags, 0.99):.1f} ms (the service's received_at minus the "
               f"client's clock at the 202, same machine).")
    notes = ("Same RabbitMQ, same run. Baseline: raw pika publishes with confirms of the same "
             "body to a quorum queue declared like feedback.intake. Measured: HTTP through "
             "gunicorn (2 workers × 8 threads), validation, a tracking code and a confirmed "
             "publish per request. " + latency + " " + restart +
             f" Run on a 2-core machine shared with other work ({datetime.now():%H:%M}); "
             "compare ratios, not absolute numbers.")
    return report("feedback_intake", "Feedback intake: 202s through the gateway vs raw "
                  "confirmed publishes", pairs, notes=notes)
