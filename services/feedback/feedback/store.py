"""The feedback service's store: records, their workflow, the taxonomy, units and rules.

Every state change of a record is ONE single-document update that also appends the audit entry
(``history``) and stages its events in the document's ``outbox``; a ``revision`` condition makes
a concurrent change retry instead of overwriting. The record's ``_id`` is its tracking code, so
storing a redelivered intake message is a no-op.
"""
from __future__ import annotations

import re
import secrets
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from feedback import taxonomy, workdays
from feedback.routing import UnitTree, route
from feedback.text import contact_hash, fold, sketch, sketch_similarity
from portal_common.errors import Conflict, Forbidden, Invalid, NotFound
from portal_common.events import iso_utc, new_event
from portal_common.events import outbox
from portal_common.schemas.feedback import (
    OPEN_STATUSES, RESOLVED_STATUSES, Actor, DueDays, FeedbackChange, InboxQuery, IntakeMessage,
    RoutingRule, TopicIn, UnitIn)

# which status may follow which (closed, rejected and duplicate are final)
TRANSITIONS: dict[str, set[str]] = {
    "received": {"assigned", "in_progress", "answered", "rejected", "duplicate"},
    "assigned": {"in_progress", "answered", "rejected", "duplicate"},
    "in_progress": {"answered", "rejected", "duplicate"},
    "answered": {"closed", "in_progress"},
    "closed": set(),
    "rejected": set(),
    "duplicate": set(),
}
STATUS_LABELS = {"received": "Đã tiếp nhận", "assigned": "Đã chuyển đơn vị xử lý",
                 "in_progress": "Đang xử lý", "answered": "Đã trả lời", "closed": "Đã kết thúc",
                 "rejected": "Không thụ lý", "duplicate": "Trùng lặp"}
DUPLICATE_WINDOW = timedelta(days=30)
DUPLICATE_THRESHOLD = 0.6
DUPLICATE_CANDIDATES = 20   # the sender's most recent records compared (kept per sender)
DUPLICATE_LINKS = 5         # at most this many links per record: a flood stays cheap
CONFIG_TTL_S = 5.0          # topics, units, rules and due days are re-read at most this often
ERASED = "[đã xoá theo yêu cầu]"


def _iso(value: datetime | None) -> str | None:
    return iso_utc(value) if value is not None else None


def _now() -> datetime:
    return datetime.now(timezone.utc)


class FeedbackStore:
    def __init__(self, database: Database):
        self.feedback = database["feedback"]
        self.topics = database["topics"]
        self.units = database["units"]
        self.rules = database["routing_rules"]
        self.config = database["config"]
        self.senders = database["senders"]
        self._hash_key: str | None = None
        self._cache: dict[str, tuple[float, Any]] = {}

    def _cached(self, name: str, load):
        """Small configuration read at most every CONFIG_TTL_S (another replica's edit shows
        within that time; this process's own edits at once)."""
        hit = self._cache.get(name)
        if hit is None or time.monotonic() - hit[0] > CONFIG_TTL_S:
            hit = self._cache[name] = (time.monotonic(), load())
        return hit[1]

    def _forget_cache(self) -> None:
        self._cache.clear()

    # set-up --------------------------------------------------------------------------------
    def ensure_indexes(self) -> None:
        self.feedback.create_index([("unit", ASCENDING), ("received_at", DESCENDING)])
        self.feedback.create_index([("status", ASCENDING), ("due_at", ASCENDING)])
        self.feedback.create_index([("received_at", DESCENDING)])
        for topic in taxonomy.DEFAULT_TOPICS:  # the default taxonomy, once; admins edit it
            fields = {k: v for k, v in topic.items() if k != "slug"}
            self.topics.update_one({"_id": topic["slug"]},
                                   {"$setOnInsert": {**fields, "active": True}}, upsert=True)

    def hash_key(self) -> str:
        """The service's own key for contact hashes, made once and kept in its database."""
        if self._hash_key is None:
            try:
                self.config.update_one({"_id": "contact-hash-key"},
                                       {"$setOnInsert": {"value": secrets.token_hex(32)}},
                                       upsert=True)
            except DuplicateKeyError:
                pass  # two workers made it at once; the first one's key is kept
            self._hash_key = self.config.find_one({"_id": "contact-hash-key"})["value"]
        return self._hash_key

    def due_days(self) -> dict[str, int]:
        return self._cached("due-days", self._load_due_days)

    def _load_due_days(self) -> dict[str, int]:
        doc = self.config.find_one({"_id": "due-days"}) or {}
        return DueDays.model_validate({k: v for k, v in doc.items() if k != "_id"}).model_dump()

    def set_due_days(self, days: DueDays) -> dict[str, int]:
        self.config.update_one({"_id": "due-days"}, {"$set": days.model_dump()}, upsert=True)
        self._forget_cache()
        return self.due_days()

    # taxonomy, units, rules ------------------------------------------------------------------
    def list_topics(self) -> list[dict[str, Any]]:
        return [self._topic_out(t) for t in self.topics.find().sort(
            [("order", ASCENDING), ("_id", ASCENDING)])]

    def put_topic(self, slug: str, topic: TopicIn) -> dict[str, Any]:
        doc = self.topics.find_one_and_update({"_id": slug}, {"$set": topic.model_dump()},
                                              upsert=True, return_document=ReturnDocument.AFTER)
        self._forget_cache()
        return self._topic_out(doc)

    @staticmethod
    def _topic_out(doc: dict[str, Any]) -> dict[str, Any]:
        return {"slug": doc["_id"], "name": doc["name"], "keywords": doc.get("keywords", []),
                "order": doc.get("order", 0), "active": doc.get("active", True)}

    def topic_names(self) -> dict[str, str]:
        return {t["slug"]: t["name"] for t in self._topics()}

    def _topics(self) -> list[dict[str, Any]]:
        return self._cached("topics", lambda: [{**t, "slug": t["_id"]} for t in self.topics.find()])

    def tree(self) -> UnitTree:
        return self._cached("units", lambda: UnitTree(self.units.find()))

    def _rules(self) -> list[dict[str, Any]]:
        return self._cached("rules", lambda: list(self.rules.find()))

    def list_units(self) -> list[dict[str, Any]]:
        tree = self.tree()
        return [self._unit_out(tree.units[s], tree) for s in sorted(
            tree.units, key=lambda s: (len(tree.path(s)), tree.units[s].get("order", 0), s))]

    def put_unit(self, slug: str, unit: UnitIn) -> dict[str, Any]:
        tree = self.tree()
        if unit.parent is not None:
            if unit.parent not in tree:
                raise Invalid("unknown parent unit",
                              [{"field": "parent", "message": f"no unit '{unit.parent}'"}])
            if slug in tree and unit.parent in tree.subtree(slug):
                raise Invalid("a unit cannot be placed under itself",
                              [{"field": "parent", "message": "would make a cycle"}])
        doc = self.units.find_one_and_update({"_id": slug}, {"$set": unit.model_dump()},
                                             upsert=True, return_document=ReturnDocument.AFTER)
        self._forget_cache()
        return self._unit_out(doc, self.tree())

    @staticmethod
    def _unit_out(doc: dict[str, Any], tree: UnitTree) -> dict[str, Any]:
        return {"slug": doc["_id"], "name": doc["name"], "type": doc["type"],
                "parent": doc.get("parent"), "district": doc.get("district"),
                "workplaces": doc.get("workplaces", []),
                "expects_reports": doc.get("expects_reports", True), "order": doc.get("order", 0),
                "path": tree.path(doc["_id"])}

    def list_rules(self) -> list[dict[str, Any]]:
        return [self._rule_out(r) for r in self.rules.find().sort(
            [("priority", ASCENDING), ("_id", ASCENDING)])]

    def replace_rules(self, rules: list[RoutingRule]) -> list[dict[str, Any]]:
        tree = self.tree()
        bad = [{"field": f"rules[{i}].unit", "message": f"no unit '{r.unit}'"}
               for i, r in enumerate(rules) if r.unit not in tree]
        if bad:
            raise Invalid("unknown unit in a rule", bad)
        ids = [r.id for r in rules]
        for rule in rules:
            fields = rule.model_dump(exclude={"id"})
            self.rules.replace_one({"_id": rule.id}, fields, upsert=True)
        self.rules.delete_many({"_id": {"$nin": ids}})
        self._forget_cache()
        return self.list_rules()

    @staticmethod
    def _rule_out(doc: dict[str, Any]) -> dict[str, Any]:
        return {"id": doc["_id"], **{k: doc.get(k) for k in (
            "priority", "topic", "district", "workplace_contains", "kind", "unit")}}

    # intake -----------------------------------------------------------------------------------
    def store_submission(self, message: IntakeMessage) -> tuple[dict[str, Any], bool]:
        """Store one intake message; (record, created). A redelivered code stores nothing."""
        existing = self.feedback.find_one({"_id": message.tracking_code}, {"outbox": 0})
        if existing is not None:
            return existing, False
        now = _now()
        topics = self._topics()
        text_for_topic = message.text + (" " + message.report.trends if message.report else "")
        suggested = taxonomy.suggest(text_for_topic, topics)
        known_topics = {t["slug"] for t in topics}
        topic = next((t for t in (message.topic, message.report.topic if message.report else None)
                      if t and t in known_topics), suggested)
        tree = self.tree()
        contact = message.contact.model_dump() if message.contact else None
        workplace = (contact or {}).get("workplace")
        if message.unit and message.unit in tree:
            unit, why = message.unit, "chosen by staff"
        elif message.report and message.report.unit in tree:
            unit, why = message.report.unit, "the reporting unit"
        else:
            unit, why = route(tree, self._rules(), topic=topic, district=message.district,
                              workplace=workplace, kind=message.kind)
        due = workdays.due_at(now, self.due_days()[message.kind])
        chash = contact_hash(self.hash_key(), contact)
        text_sketch = sketch(message.text)
        sender_keys = [k for k in (f"c:{chash}" if chash else None,
                                   f"s:{message.sender}" if message.sender else None) if k]
        similar = self._near_duplicates(text_sketch, sender_keys, now)
        actor = message.submitted_by or "public"
        history = [{"at": now, "by": actor, "action": "received", "to": "received",
                    "note": f"kênh {message.channel}"},
                   {"at": now, "by": "system", "action": "routed", "to": unit,
                    "note": why},
                   {"at": now, "by": "system", "action": "topic_suggested", "to": suggested,
                    "note": None if topic == suggested else f"topic given: {topic}"}]
        doc = {
            "_id": message.tracking_code, "tracking_code": message.tracking_code,
            "kind": message.kind, "channel": message.channel,
            "text": message.text, "search_text": fold(message.text),
            "contact": contact, "consent": message.consent, "contact_hash": chash,
            "sender": message.sender, "district": message.district,
            "report": message.report.model_dump() if message.report else None,
            "meeting": message.meeting.model_dump(mode="json") if message.meeting else None,
            "submitted_by": message.submitted_by, "submitted_at": message.submitted_at,
            "received_at": now, "updated_at": now,
            "status": "received", "topic": topic, "topic_suggested": suggested,
            "unit": unit, "assignee": None, "due_at": due,
            "public_answer": None, "answered_at": None, "resolved_at": None,
            "reason": None, "duplicate_of": None, "similar_to": [s for s, _ in similar],
            "notes": [], "history": history, "erased_at": None, "revision": 1,
            "outbox": [new_event("feedback", "feedback_received", {
                "feedback_id": message.tracking_code, "tracking_code": message.tracking_code,
                "kind": message.kind, "channel": message.channel, "topic": topic, "unit": unit,
                "received_at": iso_utc(now)})],
        }
        try:
            self.feedback.insert_one(doc)
        except DuplicateKeyError:  # a concurrent redelivery stored it first
            return self.feedback.find_one({"_id": message.tracking_code}, {"outbox": 0}), False
        self._remember_sender(sender_keys, message.tracking_code, text_sketch, now)
        for other, _score in similar:  # the link goes both ways; a lost one is only a hint
            # bounded without a condition: a record is among its sender's last
            # DUPLICATE_CANDIDATES only, so it collects at most that many links
            self.feedback.update_one({"_id": other},
                                     {"$addToSet": {"similar_to": message.tracking_code}})
        return doc, True

    def _near_duplicates(self, text_sketch: list[int], sender_keys: list[str],
                         now: datetime) -> list[tuple[str, float]]:
        """Recent records of the same sender (keyed contact hash, or the pseudonymous sender id
        of an anonymous one) whose texts nearly match (Jaccard of word 3-shingles ≥ 0.6,
        estimated from sketches). One read by ``_id`` per sender key: no scan, whatever the
        number of records."""
        best: dict[str, float] = {}
        for doc in self.senders.find({"_id": {"$in": sender_keys}}) if sender_keys else ():
            for entry in doc.get("recent", []):
                if entry["at"] < now - DUPLICATE_WINDOW:
                    continue
                score = sketch_similarity(text_sketch, entry["sketch"])
                if score >= DUPLICATE_THRESHOLD:
                    best[entry["code"]] = max(score, best.get(entry["code"], 0.0))
        return sorted(best.items(), key=lambda item: -item[1])[:DUPLICATE_LINKS]

    def _remember_sender(self, sender_keys: list[str], code: str, text_sketch: list[int],
                         now: datetime) -> None:
        """Keep the sender's last DUPLICATE_CANDIDATES sketches (read-modify-write: two
        submissions of one sender at the same instant may keep only one — it is a hint)."""
        for key in sender_keys:
            doc = self.senders.find_one({"_id": key}) or {}
            recent = [e for e in doc.get("recent", []) if e["code"] != code]
            recent = (recent + [{"code": code, "at": now, "sketch": text_sketch}])
            self.senders.update_one({"_id": key}, {"$set": {
                "recent": recent[-DUPLICATE_CANDIDATES:]}}, upsert=True)

    # reading -----------------------------------------------------------------------------------
    def public_view(self, code: str) -> dict[str, Any]:
        doc = self.feedback.find_one({"_id": code}, {
            "kind": 1, "status": 1, "received_at": 1, "updated_at": 1, "due_at": 1,
            "public_answer": 1, "answered_at": 1, "unit": 1})
        if doc is None:
            raise NotFound("no feedback with this code (a submission just sent may take a few "
                           "seconds to appear)")
        tree = self.tree()
        return {"tracking_code": doc["_id"], "kind": doc["kind"], "status": doc["status"],
                "status_label": STATUS_LABELS[doc["status"]],
                "received_at": _iso(doc["received_at"]), "updated_at": _iso(doc["updated_at"]),
                "due_at": _iso(doc.get("due_at")),
                "unit_name": tree.name(doc.get("unit")) if doc.get("unit") else None,
                "public_answer": doc.get("public_answer"),
                "answered_at": _iso(doc.get("answered_at"))}

    def _scope_filter(self, actor: Actor, tree: UnitTree) -> dict[str, Any]:
        if "admin" in actor.roles:
            return {}
        if "moderator" in actor.roles:
            return {"unit": {"$in": sorted(tree.scope(actor.units))}}
        raise Forbidden("feedback is for moderators and admins")

    def _load_for(self, code: str, actor: Actor, tree: UnitTree) -> dict[str, Any]:
        doc = self.feedback.find_one({"_id": code}, {"outbox": 0})
        if doc is None:
            raise NotFound(f"no feedback {code}")
        if "admin" not in actor.roles:
            if "moderator" not in actor.roles or doc.get("unit") not in tree.scope(actor.units):
                raise Forbidden("this feedback belongs to a unit you are not responsible for")
        return doc

    def get(self, code: str, actor: Actor) -> dict[str, Any]:
        tree = self.tree()
        return self.staff_view(self._load_for(code, actor, tree), tree, self.topic_names(),
                               full=True)

    def inbox(self, query: InboxQuery, actor: Actor) -> dict[str, Any]:
        tree = self.tree()
        match: dict[str, Any] = dict(self._scope_filter(actor, tree))
        if query.unit:
            wanted = tree.subtree(query.unit)
            if "unit" in match:
                wanted &= set(match["unit"]["$in"])
            match["unit"] = {"$in": sorted(wanted)}
        if query.status:
            match["status"] = {"$in": query.status.split(",")}
        for field in ("topic", "kind", "channel"):
            if getattr(query, field):
                match[field] = getattr(query, field)
        now = _now()
        if query.overdue is True:
            match["due_at"] = {"$lt": now}
            match.setdefault("status", {"$in": list(OPEN_STATUSES)})
            if "$in" in match["status"]:
                match["status"] = {"$in": [s for s in match["status"]["$in"] if s in OPEN_STATUSES]}
        elif query.overdue is False:
            match["$or"] = [{"due_at": {"$gte": now}},
                            {"status": {"$nin": list(OPEN_STATUSES)}}]
        received: dict[str, Any] = {}
        if query.received_from:
            received["$gte"] = datetime.combine(query.received_from, datetime.min.time(),
                                                workdays.LOCAL).astimezone(timezone.utc)
        if query.received_to:
            received["$lt"] = datetime.combine(query.received_to + timedelta(days=1),
                                               datetime.min.time(),
                                               workdays.LOCAL).astimezone(timezone.utc)
        if received:
            match["received_at"] = received
        if query.q:
            for word in fold(query.q).split():
                match.setdefault("$and", []).append({"search_text": {"$regex": re.escape(word)}})
        total = self.feedback.count_documents(match)
        cursor = (self.feedback.find(match, {"outbox": 0, "history": 0, "notes": 0,
                                             "search_text": 0})
                  .sort([("received_at", DESCENDING), ("_id", ASCENDING)])
                  .skip((query.page - 1) * query.per_page).limit(query.per_page))
        names = self.topic_names()
        return {"items": [self.staff_view(d, tree, names) for d in cursor],
                "page": query.page, "per_page": query.per_page, "total": total}

    def staff_view(self, doc: dict[str, Any], tree: UnitTree, topic_names: dict[str, str], *,
                   full: bool = False) -> dict[str, Any]:
        now = _now()
        out = {
            "id": doc["_id"], "tracking_code": doc["_id"], "kind": doc["kind"],
            "channel": doc["channel"], "status": doc["status"], "text": doc.get("text"),
            "contact": doc.get("contact"), "consent": doc.get("consent", False),
            "district": doc.get("district"),
            "topic": doc.get("topic"), "topic_name": topic_names.get(doc.get("topic")),
            "topic_suggested": doc.get("topic_suggested"),
            "unit": doc.get("unit"), "unit_name": tree.name(doc.get("unit")),
            "assignee": doc.get("assignee"),
            "received_at": _iso(doc["received_at"]), "updated_at": _iso(doc.get("updated_at")),
            "due_at": _iso(doc.get("due_at")),
            "overdue": bool(doc["status"] in OPEN_STATUSES and doc.get("due_at")
                            and doc["due_at"] < now),
            "public_answer": doc.get("public_answer"), "answered_at": _iso(doc.get("answered_at")),
            "resolved_at": _iso(doc.get("resolved_at")), "reason": doc.get("reason"),
            "duplicate_of": doc.get("duplicate_of"), "similar_to": doc.get("similar_to", []),
            "report": doc.get("report"), "meeting": doc.get("meeting"),
            "submitted_by": doc.get("submitted_by"), "erased": doc.get("erased_at") is not None,
            "revision": doc.get("revision", 1),
        }
        if full:
            out["notes"] = [{"at": _iso(n["at"]), "by": n["by"], "text": n["text"]}
                            for n in doc.get("notes", [])]
            out["history"] = [{"at": _iso(h["at"]), "by": h["by"], "action": h["action"],
                               "from": h.get("from"), "to": h.get("to"), "note": h.get("note")}
                              for h in doc.get("history", [])]
        return out

    # workflow --------------------------------------------------------------------------------
    def change(self, code: str, change: FeedbackChange, actor: Actor
               ) -> tuple[dict[str, Any], bool]:
        """Apply a staff change; returns (record, events staged). Raises NotFound, Forbidden,
        Invalid (a transition the workflow does not allow, a missing reason), Conflict."""
        for _ in range(5):
            tree = self.tree()
            doc = self._load_for(code, actor, tree)
            if change.revision is not None and change.revision != doc["revision"]:
                raise Conflict(f"feedback {code} is at revision {doc['revision']}, "
                               f"not {change.revision}; reload it")
            update, events = self._plan(doc, change, actor, tree)
            if not update:
                return self.get(code, actor), False
            update.setdefault("$set", {}).update(updated_at=_now(),
                                                 revision=doc["revision"] + 1)
            if events:  # merged into the same $push as the history: one atomic update
                update.setdefault("$push", {}).update(outbox.stage(events)["$push"])
            result = self.feedback.update_one({"_id": code, "revision": doc["revision"]}, update)
            if result.modified_count == 1:
                return self.get(code, actor), bool(events)
        raise Conflict(f"feedback {code} is being changed by someone else; try again")

    def _plan(self, doc: dict[str, Any], change: FeedbackChange, actor: Actor,
              tree: UnitTree) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        now, who = _now(), actor.username
        sets: dict[str, Any] = {}
        history: list[dict[str, Any]] = []
        notes: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        topic, unit = doc.get("topic"), doc.get("unit")

        if change.topic is not None and change.topic != topic:
            if not self.topics.find_one({"_id": change.topic}):
                raise Invalid("unknown topic", [{"field": "topic",
                                                 "message": f"no topic '{change.topic}'"}])
            history.append({"at": now, "by": who, "action": "topic_changed", "from": topic,
                            "to": change.topic, "note": change.note})
            sets["topic"] = topic = change.topic
        if change.unit is not None and change.unit != unit:
            if change.unit not in tree:
                raise Invalid("unknown unit", [{"field": "unit",
                                                "message": f"no unit '{change.unit}'"}])
            history.append({"at": now, "by": who, "action": "reassigned", "from": unit,
                            "to": change.unit, "note": change.note})
            sets["unit"] = unit = change.unit
        if change.assignee is not None and change.assignee != doc.get("assignee"):
            history.append({"at": now, "by": who, "action": "assignee_changed",
                            "from": doc.get("assignee"), "to": change.assignee,
                            "note": change.note})
            sets["assignee"] = change.assignee
        if change.internal_note is not None:
            notes.append({"at": now, "by": who, "text": change.internal_note})
            history.append({"at": now, "by": who, "action": "note_added", "from": None,
                            "to": None, "note": None})
        answer = doc.get("public_answer")
        if change.public_answer is not None and change.public_answer != answer:
            history.append({"at": now, "by": who, "action": "answer_written", "from": None,
                            "to": None, "note": change.note})
            sets["public_answer"] = answer = change.public_answer

        status = doc["status"]
        target = change.status
        if target is None and change.public_answer is not None and status in OPEN_STATUSES:
            target = "answered"  # writing the public answer of an open feedback answers it
        if target == status:
            target = None  # already there (a re-assignment is recorded as "reassigned" above)
        if target is not None and target not in TRANSITIONS[status]:
            raise Invalid(f"a feedback that is {status} cannot become {target}",
                          [{"field": "status", "message": "allowed: " + (", ".join(
                              sorted(TRANSITIONS[status])) or "nothing (final)")}])
        if target is not None:
            if target in ("rejected", "duplicate") and not (change.reason or change.note):
                raise Invalid(f"{target} needs a reason",
                              [{"field": "reason", "message": "required"}])
            if target == "duplicate":
                original = change.duplicate_of
                if not original or original == doc["_id"] or not self.feedback.find_one(
                        {"_id": original}, {"_id": 1}):
                    raise Invalid("duplicate of what?", [{"field": "duplicate_of", "message":
                                  "the tracking code of another stored feedback"}])
                sets["duplicate_of"] = original
            if target == "answered" and not answer:
                raise Invalid("an answer is needed", [{"field": "public_answer",
                                                       "message": "required to answer"}])
            if target in ("rejected", "duplicate"):
                sets["reason"] = change.reason or change.note
            if target in RESOLVED_STATUSES and not doc.get("resolved_at"):
                sets["resolved_at"] = now
            if target in OPEN_STATUSES:
                sets["resolved_at"] = None
            if target == "answered":
                sets["answered_at"] = now
            sets["status"] = target
            history.append({"at": now, "by": who, "action": "status_changed", "from": status,
                            "to": target, "note": change.reason or change.note})
            events.append(new_event("feedback", "feedback_status_changed", {
                    "feedback_id": doc["_id"], "status": target, "previous_status": status,
                    "topic": topic, "unit": unit, "changed_at": iso_utc(now)}))
            if target == "answered":
                events.append(new_event("feedback", "feedback_answered", {
                    "feedback_id": doc["_id"], "answered_at": iso_utc(now),
                    "topic": topic, "unit": unit}))
        if not (sets or history or notes):
            return {}, []
        update: dict[str, Any] = {}
        if sets:
            update["$set"] = sets
        push: dict[str, Any] = {}
        if history:
            push["history"] = {"$each": history}
        if notes:
            push["notes"] = {"$each": notes}
        if push:
            update["$push"] = push
        return update, events

    # privacy ---------------------------------------------------------------------------------
    def erase_personal_data(self, code: str, actor: Actor, note: str | None) -> dict[str, Any]:
        """Remove the sender's contact and the free text (and the collaborator's texts); the
        kind, topic, unit, status and dates stay, so statistics do not change."""
        if "admin" not in actor.roles:
            raise Forbidden("erasing personal data is for admins")
        doc = self.feedback.find_one({"_id": code}, {"_id": 1, "report": 1, "contact_hash": 1,
                                                     "sender": 1})
        if doc is None:
            raise NotFound(f"no feedback {code}")
        keys = [k for k in (f"c:{doc['contact_hash']}" if doc.get("contact_hash") else None,
                            f"s:{doc['sender']}" if doc.get("sender") else None) if k]
        for sender in self.senders.find({"_id": {"$in": keys}}) if keys else ():
            self.senders.update_one({"_id": sender["_id"]}, {"$set": {"recent": [
                e for e in sender.get("recent", []) if e["code"] != code]}})
        now = _now()
        sets: dict[str, Any] = {"contact": None, "consent": False, "text": ERASED,
                                "search_text": "", "sender": None, "contact_hash": None, "erased_at": now,
                                "notes": [], "updated_at": now}
        if doc.get("report"):
            sets["report.trends"] = ERASED
            sets["report.proposals"] = None
        self.feedback.update_one({"_id": code}, {
            "$set": sets, "$push": {"history": {"at": now, "by": actor.username,
                                                "action": "personal_data_erased", "from": None,
                                                "to": None, "note": note}}})
        return self.get(code, actor)
