"""Periodic reports (month ``2024-03``, quarter ``2024-Q1``, year ``2024``) for a unit and the
units under it.

Counting runs in Python over a bounded projection (a few small fields per record, at most
``MAX_RECORDS``): FerretDB has no ``$facet``, the median needs the values anyway, and a
province's quarter is thousands of records, not millions. Periods are calendar periods in
Hà Nội time.
"""
from __future__ import annotations

import csv
import io
import re
import statistics
from collections import Counter, defaultdict
from datetime import date, datetime, timezone
from typing import Any

from feedback.routing import UnitTree
from feedback.workdays import LOCAL
from portal_common.errors import Invalid
from portal_common.events import iso_utc
from portal_common.schemas.feedback import OPEN_STATUSES, STATUSES

MAX_RECORDS = 200_000
RECURRING_PERIODS = 3  # a topic recurs when it came up in at least 2 of the last 3 periods


class Period:
    def __init__(self, label: str):
        match = re.fullmatch(r"((?:19|20)\d{2})(?:-(?:(0[1-9]|1[0-2])|Q([1-4])))?", label or "")
        if not match:
            raise Invalid("invalid period", [{"field": "period",
                                              "message": "2024, 2024-03 or 2024-Q1 (years 1900-2099)"}])
        year = int(match[1])
        if match[2]:
            self.kind, first, months = "month", int(match[2]), 1
        elif match[3]:
            self.kind, first, months = "quarter", (int(match[3]) - 1) * 3 + 1, 3
        else:
            self.kind, first, months = "year", 1, 12
        self.label, self.year, self.first_month, self.months = label, year, first, months
        self.start_day = date(year, first, 1)
        end_month = first + months
        self.end_day = date(year + (end_month - 1) // 12, (end_month - 1) % 12 + 1, 1)

    @property
    def start(self) -> datetime:
        return datetime.combine(self.start_day, datetime.min.time(), LOCAL).astimezone(timezone.utc)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.end_day, datetime.min.time(), LOCAL).astimezone(timezone.utc)

    def previous(self) -> "Period":
        month = self.first_month - self.months
        year = self.year
        if month < 1:
            month += 12
            year -= 1
        if self.kind == "year":
            return Period(str(self.year - 1))
        if self.kind == "quarter":
            return Period(f"{year}-Q{(month - 1) // 3 + 1}")
        return Period(f"{year}-{month:02d}")

    def overlaps_label(self, label: str) -> bool:
        """Does an opinion report's own period (``2024-03`` / ``2024-Q1``) fall in this one?"""
        try:
            other = Period(label)
        except Invalid:
            return False
        return other.start_day < self.end_day and self.start_day < other.end_day


FIELDS = {"kind": 1, "channel": 1, "status": 1, "topic": 1, "unit": 1, "received_at": 1,
          "resolved_at": 1, "due_at": 1, "report.unit": 1, "report.period": 1}


def build(feedback, tree: UnitTree, topic_names: dict[str, str], period: Period,
          unit: str | None, now: datetime | None = None) -> dict[str, Any]:
    now = now or datetime.now(timezone.utc)
    root = unit or (tree.roots()[0] if tree.roots() else None)
    if unit and unit not in tree:
        raise Invalid("unknown unit", [{"field": "unit", "message": f"no unit '{unit}'"}])
    scope = sorted(tree.subtree(root)) if root else None
    in_scope: dict[str, Any] = {"unit": {"$in": scope}} if scope is not None else {}

    oldest = period
    for _ in range(RECURRING_PERIODS - 1):
        oldest = oldest.previous()
    received_docs = list(feedback.find(
        {**in_scope, "received_at": {"$gte": oldest.start, "$lt": period.end}},
        FIELDS).limit(MAX_RECORDS))
    resolved_docs = list(feedback.find(
        {**in_scope, "resolved_at": {"$gte": period.start, "$lt": period.end}},
        FIELDS).limit(MAX_RECORDS))
    this = [d for d in received_docs if d["received_at"] >= period.start]
    cutoff = min(now, period.end)

    def overdue(doc) -> bool:
        due = doc.get("due_at")
        if due is None or due >= cutoff:
            return False
        resolved = doc.get("resolved_at")
        return resolved is None or resolved > due

    def days(doc) -> float:
        return (doc["resolved_at"] - doc["received_at"]).total_seconds() / 86400

    def median(docs) -> float | None:
        values = [days(d) for d in docs if d.get("resolved_at") and d.get("received_at")]
        return round(statistics.median(values), 1) if values else None

    # per topic / unit / status / kind ---------------------------------------------------------
    rows: dict[str, dict[str, dict[str, Any]]] = {"topic": {}, "unit": {}}
    for group in rows:
        for doc in this:
            key = doc.get(group) or "-"
            row = rows[group].setdefault(key, {"received": 0, "resolved": 0, "open": 0,
                                              "overdue": 0, "_resolved": []})
            row["received"] += 1
            if doc["status"] in OPEN_STATUSES:
                row["open"] += 1
            if overdue(doc):
                row["overdue"] += 1
        for doc in resolved_docs:
            key = doc.get(group) or "-"
            row = rows[group].setdefault(key, {"received": 0, "resolved": 0, "open": 0,
                                              "overdue": 0, "_resolved": []})
            row["resolved"] += 1
            row["_resolved"].append(doc)

    def finish(group: str, name_of) -> list[dict[str, Any]]:
        out = []
        for key, row in rows[group].items():
            out.append({group: key, "name": name_of(key), "received": row["received"],
                        "resolved": row["resolved"], "open": row["open"],
                        "overdue": row["overdue"],
                        "median_resolution_days": median(row["_resolved"])})
        return sorted(out, key=lambda r: (-r["received"], -r["resolved"], r[group]))

    by_status = Counter(d["status"] for d in this)
    by_kind = Counter(d["kind"] for d in this)
    by_channel = Counter(d.get("channel") for d in this)

    # recurring topics over the last periods --------------------------------------------------
    periods = [period]
    for _ in range(RECURRING_PERIODS - 1):
        periods.append(periods[-1].previous())
    counts: dict[str, list[int]] = defaultdict(lambda: [0] * RECURRING_PERIODS)
    for doc in received_docs:
        for index, p in enumerate(periods):
            if p.start <= doc["received_at"] < p.end:
                counts[doc.get("topic") or "-"][index] += 1
    recurring = sorted(
        ({"topic": t, "name": topic_names.get(t, t), "periods": [p.label for p in periods],
          "counts": c} for t, c in counts.items()
         if c[0] > 0 and sum(1 for n in c if n) >= 2),
        key=lambda r: (-sum(r["counts"]), r["topic"]))

    # collaborators: which units reported in the period --------------------------------------
    reported: Counter[str] = Counter()
    for doc in received_docs:
        report = doc.get("report") or {}
        if doc.get("kind") == "opinion_report" and report.get("unit") and (
                period.overlaps_label(report.get("period", ""))):
            reported[report["unit"]] += 1
    expected = [s for s in (scope or []) if tree.units[s].get("expects_reports", True)
                and tree.units[s].get("type") != "province"]
    return {
        "period": period.label, "kind": period.kind,
        "from": period.start_day.isoformat(),
        "to": date.fromordinal(period.end_day.toordinal() - 1).isoformat(),
        "unit": {"slug": root, "name": tree.name(root) if root else None},
        "generated_at": iso_utc(now),
        "totals": {
            "received": len(this), "resolved": len(resolved_docs),
            "open": sum(1 for d in this if d["status"] in OPEN_STATUSES),
            "overdue": sum(1 for d in this if overdue(d)),
            "median_resolution_days": median(resolved_docs),
        },
        "by_topic": finish("topic", lambda k: topic_names.get(k, k)),
        "by_unit": finish("unit", lambda k: tree.name(k)),
        "by_status": [{"status": s, "count": by_status.get(s, 0)} for s in STATUSES],
        "by_kind": [{"kind": k, "count": n} for k, n in sorted(by_kind.items())],
        "by_channel": [{"channel": k, "count": n} for k, n in sorted(by_channel.items())],
        "recurring_topics": recurring,
        "collaborators": {
            "reported": [{"unit": u, "name": tree.name(u), "reports": reported[u]}
                         for u in sorted(reported, key=lambda u: tree.path(u))
                         if scope is None or u in scope],
            "not_reported": [{"unit": u, "name": tree.name(u)}
                             for u in sorted(expected, key=lambda u: tree.path(u))
                             if u not in reported],
        },
    }


STATUS_NAMES = {"received": "Đã tiếp nhận", "assigned": "Đã chuyển", "in_progress": "Đang xử lý",
                "answered": "Đã trả lời", "closed": "Đã kết thúc", "rejected": "Không thụ lý",
                "duplicate": "Trùng lặp"}


def to_csv(report: dict[str, Any]) -> str:
    """The report as one CSV table: a ``section`` column, then key, name and the figures. Whoever
    writes it out adds the UTF-8 BOM (``CSV_BOM``) so spreadsheet programs read Vietnamese."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["section", "key", "name", "received", "resolved", "open", "overdue",
                     "median_resolution_days", "count"])
    totals = report["totals"]
    writer.writerow(["total", report["unit"]["slug"] or "", report["unit"]["name"] or "",
                     totals["received"], totals["resolved"], totals["open"], totals["overdue"],
                     _num(totals["median_resolution_days"]), ""])
    for section, key in (("topic", "topic"), ("unit", "unit")):
        for row in report[f"by_{section}"]:
            writer.writerow([section, row[key], row["name"] or "", row["received"],
                             row["resolved"], row["open"], row["overdue"],
                             _num(row["median_resolution_days"]), ""])
    for row in report["by_status"]:
        writer.writerow(["status", row["status"], STATUS_NAMES[row["status"]], "", "", "", "", "",
                         row["count"]])
    for row in report["by_kind"]:
        writer.writerow(["kind", row["kind"], "", "", "", "", "", "", row["count"]])
    for row in report["recurring_topics"]:
        writer.writerow(["recurring_topic", row["topic"], row["name"], "", "", "", "", "",
                         " / ".join(f"{p}: {n}" for p, n in zip(row["periods"], row["counts"]))])
    for row in report["collaborators"]["reported"]:
        writer.writerow(["collaborators_reported", row["unit"], row["name"], "", "", "", "", "",
                         row["reports"]])
    for row in report["collaborators"]["not_reported"]:
        writer.writerow(["collaborators_not_reported", row["unit"], row["name"], "", "", "", "",
                         "", 0])
    return out.getvalue()


def _num(value) -> str:
    return "" if value is None else f"{value:.1f}"


def to_text(report: dict[str, Any]) -> str:
    """A plain-text rendering for the terminal (``portal-admin feedback-report``)."""
    t = report["totals"]
    lines = [f"BÁO CÁO TIẾP NHẬN VÀ GIẢI QUYẾT Ý KIẾN — {report['period']} "
             f"({report['from']} … {report['to']})",
             f"Đơn vị: {report['unit']['name']} (gồm các đơn vị trực thuộc)", "",
             f"Tiếp nhận {t['received']} · đã giải quyết {t['resolved']} · còn mở {t['open']} · "
             f"quá hạn {t['overdue']} · thời gian giải quyết trung vị "
             f"{_num(t['median_resolution_days']) or '–'} ngày", "",
             f"{'Theo chủ đề':44} {'nhận':>5} {'xong':>5} {'mở':>4} {'quá hạn':>8} {'trung vị':>9}"]
    for row in report["by_topic"]:
        lines.append(f"  {row['name'][:42]:42} {row['received']:5} {row['resolved']:5} "
                     f"{row['open']:4} {row['overdue']:8} {_num(row['median_resolution_days']):>9}")
    lines += ["", f"{'Theo đơn vị':44} {'nhận':>5} {'xong':>5} {'mở':>4} {'quá hạn':>8} {'trung vị':>9}"]
    for row in report["by_unit"]:
        lines.append(f"  {str(row['name'])[:42]:42} {row['received']:5} {row['resolved']:5} "
                     f"{row['open']:4} {row['overdue']:8} {_num(row['median_resolution_days']):>9}")
    lines += ["", "Theo trạng thái: " + ", ".join(
        f"{STATUS_NAMES[r['status']]} {r['count']}" for r in report["by_status"] if r["count"])]
    lines += ["Chủ đề lặp lại: " + ("; ".join(
        f"{r['name']} ({', '.join(f'{p}: {n}' for p, n in zip(r['periods'], r['counts']))})"
        for r in report["recurring_topics"]) or "không có")]
    c = report["collaborators"]
    lines += ["Cộng tác viên đã báo cáo: " + (", ".join(
        f"{r['name']} ({r['reports']})" for r in c["reported"]) or "không có"),
        "Chưa báo cáo: " + (", ".join(r["name"] for r in c["not_reported"]) or "không có")]
    return "\n".join(lines)
