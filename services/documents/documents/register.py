"""The document register in MongoDB: the source of truth the search index is built from.

Every change bumps the document's ``revision`` and sets ``needs_indexing``; the indexer writes
that revision to Elasticsearch (external versioning: an older write never wins) and then, in
one update, records it as indexed and stages the event that announces it (``document_indexed``,
or ``document_removed`` for a removed document) in the document's outbox. A removed document
stays as a tombstone (``deleted``) so the removal itself reaches the index and the event bus.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any, Iterator

import gridfs
from pymongo import ReturnDocument
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from portal_common.errors import Conflict, NotFound
from portal_common.events import new_event, outbox
from portal_common.schemas.documents import (RELATIONS, VALIDITY_STATUSES, DocumentIn,
                                             DocumentPatch)

from documents.numbers import number_key, parse_number

PUBLIC_SUMMARY_FIELDS = {"_id": 1, "number": 1, "type": 1, "title": 1, "issued_date": 1,
                         "status": 1, "number_key": 1}


def _iso(value) -> str | None:
    return value.isoformat() if value else None


class DocumentRegister:
    def __init__(self, database: Database):
        self.documents = database["documents"]
        self.files = gridfs.GridFSBucket(database, bucket_name="attachments")

    def ensure_indexes(self) -> None:
        self.documents.create_index("number_key", unique=True)
        self.documents.create_index("needs_indexing")
        self.documents.create_index("relations.target_key")
        self.documents.create_index("updated_at")

    number_key = staticmethod(number_key)

    # -- writes --------------------------------------------------------------------------------

    def new_record(self, document: DocumentIn, now: datetime | None = None) -> dict[str, Any]:
        """The MongoDB record of a new document (not yet stored)."""
        now = now or datetime.now(timezone.utc)
        return {
            "_id": uuid.uuid4().hex,
            "number": document.number, "number_key": number_key(document.number),
            "number_parts": parse_number(document.number).as_index(),
            "type": document.type, "issuer": document.issuer, "signer": document.signer,
            "issued_date": _iso(document.issued_date),
            "effective_date": _iso(document.effective_date),
            "status": document.status, "fields": document.fields,
            "title": document.title, "text": document.text,
            "relations": [{"relation": r.relation, "number": r.number,
                           "target_key": number_key(r.number)} for r in document.relations],
            "attachments": [],
            "revision": 1, "indexed_revision": 0, "needs_indexing": True, "deleted": False,
            "created_at": now, "updated_at": now, "outbox": [],
        }

    def create(self, document: DocumentIn) -> dict[str, Any]:
        doc = self.new_record(document)
        try:
            self.documents.insert_one(doc)
        except DuplicateKeyError:
            raise Conflict(f"document {document.number} is already in the register") from None
        return doc

    def update(self, document_id: str, patch: DocumentPatch) -> dict[str, Any]:
        """Change what ``patch`` sets; the new revision is indexed next. Raises NotFound."""
        changes = patch.model_dump(exclude_unset=True)
        for name in ("issued_date", "effective_date"):
            if name in changes:
                changes[name] = _iso(changes[name])
        if "relations" in changes:
            changes["relations"] = [{"relation": r["relation"], "number": r["number"],
                                     "target_key": number_key(r["number"])}
                                    for r in changes["relations"]]
        now = datetime.now(timezone.utc)
        doc = self.documents.find_one_and_update(
            {"_id": document_id, "deleted": {"$ne": True}},
            {"$set": {**changes, "needs_indexing": True, "updated_at": now},
             "$inc": {"revision": 1}},
            return_document=ReturnDocument.AFTER)  # no projection: FerretDB lacks it here
        if doc is None:
            raise NotFound(f"no document {document_id}")
        return doc

    def remove(self, document_id: str) -> dict[str, Any]:
        """Withdraw a document: it leaves search at once (next indexing) and its number is free
        for a new registration. Raises NotFound."""
        now = datetime.now(timezone.utc)
        doc = self.documents.find_one_and_update(
            {"_id": document_id, "deleted": {"$ne": True}},
            {"$set": {"deleted": True, "deleted_at": now, "updated_at": now,
                      "needs_indexing": True, "number_key": f"{document_id}:removed"},
             "$inc": {"revision": 1}},
            return_document=ReturnDocument.AFTER)  # no projection: FerretDB lacks it here
        if doc is None:
            raise NotFound(f"no document {document_id}")
        return doc

    def add_attachment(self, document_id: str, *, filename: str, content_type: str,
                       data: bytes, text: str) -> dict[str, Any]:
        """Store an original file (GridFS) and its extracted text with the document."""
        self.get(document_id)
        file_id = self.files.upload_from_stream(
            filename, data, metadata={"document_id": document_id, "content_type": content_type})
        attachment = {"id": str(file_id), "filename": filename, "content_type": content_type,
                      "size": len(data), "text": text}
        doc = self.documents.find_one_and_update(
            {"_id": document_id, "deleted": {"$ne": True}},
            {"$push": {"attachments": attachment}, "$inc": {"revision": 1},
             "$set": {"needs_indexing": True, "updated_at": datetime.now(timezone.utc)}},
            return_document=ReturnDocument.AFTER)  # no projection: FerretDB lacks it here
        if doc is None:
            self.files.delete(file_id)
            raise NotFound(f"no document {document_id}")
        return doc

    def attachment(self, document_id: str, attachment_id: str) -> tuple[dict[str, Any], bytes]:
        doc = self.get(document_id)
        for attachment in doc.get("attachments", []):
            if attachment["id"] == attachment_id:
                from bson import ObjectId
                stream = self.files.open_download_stream(ObjectId(attachment_id))
                return attachment, stream.read()
        raise NotFound(f"document {document_id} has no attachment {attachment_id}")

    def mark_indexed(self, doc: dict[str, Any]) -> None:
        """Record that ``doc`` at its revision is in the index, with its event, in one update."""
        if doc.get("deleted"):
            event = new_event("documents", "document_removed", {
                "document_id": doc["_id"], "number": doc["number"]})
        else:
            event = new_event("documents", "document_indexed", {
                "document_id": doc["_id"], "number": doc["number"], "type": doc["type"],
                "title": doc["title"], "issued_date": doc.get("issued_date")})
        update = {"$set": {"indexed_revision": doc["revision"], "needs_indexing": False}}
        update.update(outbox.stage([event]))
        self.documents.update_one({"_id": doc["_id"], "revision": doc["revision"],
                                   "indexed_revision": {"$lt": doc["revision"]}}, update)

    # -- reads ---------------------------------------------------------------------------------

    def get(self, document_id: str) -> dict[str, Any]:
        doc = self.documents.find_one({"_id": document_id, "deleted": {"$ne": True}},
                                      {"outbox": 0})
        if doc is None:
            raise NotFound(f"no document {document_id}")
        return doc

    def find_by_number(self, number: str) -> dict[str, Any] | None:
        return self.documents.find_one({"number_key": number_key(number),
                                        "deleted": {"$ne": True}}, {"outbox": 0})

    def not_indexed(self, limit: int = 100) -> list[dict[str, Any]]:
        """Documents whose current revision is not in the search index yet (a flag, because
        FerretDB cannot compare two fields of a document in a query)."""
        return list(self.documents.find({"needs_indexing": True}, {"outbox": 0}).limit(limit))

    def searchable(self, since: datetime | None = None) -> Iterator[dict[str, Any]]:
        """Every document that belongs in the index (changed since ``since``, if given)."""
        query: dict[str, Any] = {"deleted": {"$ne": True}}
        if since is not None:
            query = {"updated_at": {"$gte": since}}  # removals too: the index must drop them
        return self.documents.find(query, {"outbox": 0}).sort("_id", 1)

    def relations_of(self, doc: dict[str, Any]) -> list[dict[str, Any]]:
        """The document's relations both ways: what it states, and what others state about it."""
        out = []
        keys = [r["target_key"] for r in doc.get("relations", [])]
        targets = {d["number_key"]: d for d in self.documents.find(
            {"number_key": {"$in": keys}, "deleted": {"$ne": True}}, PUBLIC_SUMMARY_FIELDS)} \
            if keys else {}
        for relation in doc.get("relations", []):
            target = targets.get(relation["target_key"])
            out.append({"relation": relation["relation"], "direction": "outgoing",
                        "label": RELATIONS[relation["relation"]][0],
                        "number": target["number"] if target else relation["number"],
                        "document": self._summary(target) if target else None})
        for other in self.documents.find({"relations.target_key": doc["number_key"],
                                          "deleted": {"$ne": True}},
                                         {**PUBLIC_SUMMARY_FIELDS, "relations": 1}).limit(200):
            for relation in other.get("relations", []):
                if relation["target_key"] == doc["number_key"]:
                    out.append({"relation": relation["relation"], "direction": "incoming",
                                "label": RELATIONS[relation["relation"]][1],
                                "number": other["number"], "document": self._summary(other)})
        return out

    # -- shapes --------------------------------------------------------------------------------

    @staticmethod
    def _summary(doc: dict[str, Any]) -> dict[str, Any]:
        return {"id": doc["_id"], "number": doc["number"], "type": doc["type"],
                "title": doc["title"], "issued_date": doc.get("issued_date")}

    @staticmethod
    def to_public(doc: dict[str, Any], relations: list[dict[str, Any]] | None = None
                  ) -> dict[str, Any]:
        status = doc.get("status") or "unknown"
        return {"id": doc["_id"], "number": doc["number"], "type": doc["type"],
                "issuer": doc["issuer"], "signer": doc.get("signer"),
                "issued_date": doc.get("issued_date"),
                "effective_date": doc.get("effective_date"),
                "status": status, "status_label": VALIDITY_STATUSES[status],
                "fields": doc.get("fields", []),
                "title": doc["title"], "text": doc.get("text", ""),
                "attachments": [{k: a[k] for k in ("id", "filename", "content_type", "size")}
                                for a in doc.get("attachments", [])],
                "relations": relations or []}

    @staticmethod
    def to_search(doc: dict[str, Any]) -> dict[str, Any]:
        issued = doc.get("issued_date")
        parts = doc.get("number_parts") or parse_number(doc["number"]).as_index()
        return {"kind": "document", "ref_id": doc["_id"], "number": doc["number"],
                "num": {**parts, "key": number_key(doc["number"])},
                "doc_type": doc["type"], "issuer": doc["issuer"], "signer": doc.get("signer"),
                "status": doc.get("status") or "unknown", "fields": doc.get("fields", []),
                "title": doc["title"], "body": doc.get("text", ""),
                "attachments": "\n".join(a.get("text", "") for a in doc.get("attachments", [])),
                "date": issued, "year": int(issued[:4]) if issued else None,
                "effective_date": doc.get("effective_date")}
