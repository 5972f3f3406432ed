"""The document register in MongoDB: the source of truth the search index is built from."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from portal_common.errors import Conflict, NotFound
from portal_common.events import new_event, outbox

from portal_common.schemas.documents import DocumentIn


class DocumentRegister:
    def __init__(self, database: Database):
        self.documents = database["documents"]

    def ensure_indexes(self) -> None:
        self.documents.create_index("number_key", unique=True)
        self.documents.create_index("needs_indexing")

    @staticmethod
    def number_key(number: str) -> str:
        """One spelling per number, so "100-KL/TW" and "100 kl/tw" are the same document."""
        return "".join(ch for ch in number.upper() if ch.isalnum())

    def create(self, document: DocumentIn) -> dict[str, Any]:
        now = datetime.now(timezone.utc)
        doc = {
            "_id": uuid.uuid4().hex,
            "number": document.number, "number_key": self.number_key(document.number),
            "type": document.type, "issuer": document.issuer,
            "issued_date": document.issued_date.isoformat() if document.issued_date else None,
            "title": document.title, "text": document.text,
            "revision": 1, "indexed_revision": 0, "needs_indexing": True,
            "created_at": now, "updated_at": now, "outbox": [],
        }
        try:
            self.documents.insert_one(doc)
        except DuplicateKeyError:
            raise Conflict(f"document {document.number} is already in the register") from None
        return doc

    def get(self, document_id: str) -> dict[str, Any]:
        doc = self.documents.find_one({"_id": document_id}, {"outbox": 0})
        if doc is None:
            raise NotFound(f"no document {document_id}")
        return doc

    def find_by_number(self, number: str) -> dict[str, Any] | None:
        return self.documents.find_one({"number_key": self.number_key(number)}, {"outbox": 0})

    def mark_indexed(self, doc: dict[str, Any]) -> None:
        """Record that ``doc`` at its revision is searchable, with its event, in one update."""
        event = new_event("documents", "document_indexed", {
            "document_id": doc["_id"], "number": doc["number"], "type": doc["type"],
            "title": doc["title"], "issued_date": doc.get("issued_date")})
        update = {"$set": {"indexed_revision": doc["revision"], "needs_indexing": False}}
        update.update(outbox.stage([event]))
        self.documents.update_one({"_id": doc["_id"], "indexed_revision": {"$lt": doc["revision"]}},
                                  update)

    def not_indexed(self, limit: int = 100) -> list[dict[str, Any]]:
        """Documents whose current revision is not in the search index yet (a flag, because
        FerretDB cannot compare two fields of a document in a query)."""
        return list(self.documents.find({"needs_indexing": True}, {"outbox": 0}).limit(limit))

    @staticmethod
    def to_public(doc: dict[str, Any]) -> dict[str, Any]:
        return {"id": doc["_id"], "number": doc["number"], "type": doc["type"],
                "issuer": doc["issuer"], "issued_date": doc.get("issued_date"),
                "title": doc["title"], "text": doc.get("text", "")}

    @staticmethod
    def to_search(doc: dict[str, Any]) -> dict[str, Any]:
        return {"kind": "document", "ref_id": doc["_id"], "number": doc["number"],
                "doc_type": doc["type"], "issuer": doc["issuer"], "title": doc["title"],
                "body": doc.get("text", ""), "date": doc.get("issued_date"),
                "revision": doc["revision"]}
