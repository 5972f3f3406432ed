"""Photo albums ("Album Ảnh") and newsletter issues ("Bản tin Công đoàn").

Both point at uploaded media by id (``media.files``, see news.media); a reference to a media
that does not exist, or of the wrong kind, is refused with 422 naming the field.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime, timezone
from typing import Any

from pymongo import DESCENDING
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from portal_common.errors import Conflict, Invalid, NotFound
from portal_common.events import iso_utc
from portal_common.schemas.news import AlbumIn, AlbumPatch, NewsletterIn, NewsletterPatch

from news.text import looks_like_id, make_slug


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _store_date(value):
    return value.isoformat() if isinstance(value, date) else value


class Library:
    def __init__(self, database: Database):
        self.albums = database["albums"]
        self.newsletters = database["newsletters"]
        self.media_files = database["media.files"]

    def ensure_indexes(self) -> None:
        self.albums.create_index("slug", unique=True)
        self.albums.create_index([("published", 1), ("published_at", DESCENDING)])
        self.newsletters.create_index([("year", 1), ("number", 1)], unique=True)
        self.newsletters.create_index([("published", 1), ("issue_date", DESCENDING)])

    def _require_media(self, refs: list[tuple[str, str | None]], kind: str) -> None:
        errors = [{"field": field, "message": f"no uploaded {kind} '{media_id}'"}
                  for field, media_id in refs
                  if media_id and not self.media_files.find_one(
                      {"_id": media_id, "metadata.variant": "original", "metadata.kind": kind},
                      {"_id": 1})]
        if errors:
            raise Invalid(f"unknown {kind}", errors)

    # albums ------------------------------------------------------------------------------------
    def create_album(self, album: AlbumIn, actor: str) -> dict[str, Any]:
        self._check_album_media(album.images, album.cover_media_id)
        now = _now()
        doc = {"_id": uuid.uuid4().hex, "title": album.title, "description": album.description,
               "event_date": _store_date(album.event_date),
               "images": [i.model_dump() for i in album.images],
               "cover_media_id": album.cover_media_id, "published": album.published,
               "published_at": now if album.published else None,
               "created_at": now, "created_by": actor, "updated_at": now, "updated_by": actor}
        base = make_slug(album.title)
        for n in range(1, 51):
            doc["slug"] = base if n == 1 else f"{base[:115]}-{n}"
            try:
                self.albums.insert_one(doc)
                return self.album_out(doc)
            except DuplicateKeyError:
                continue
        raise Conflict(f"no free slug for '{base}'")

    def _check_album_media(self, images, cover_media_id) -> None:
        refs = [(f"images.{n}.media_id", i.media_id) for n, i in enumerate(images or [])]
        refs.append(("cover_media_id", cover_media_id))
        self._require_media(refs, "image")

    def update_album(self, album_id: str, patch: AlbumPatch, actor: str) -> dict[str, Any]:
        current = self._album(album_id)
        changes = patch.model_dump(exclude_unset=True)
        self._check_album_media(patch.images if "images" in changes else [],
                                changes.get("cover_media_id"))
        if "event_date" in changes:
            changes["event_date"] = _store_date(changes["event_date"])
        if changes.get("published") and not current.get("published_at"):
            changes["published_at"] = _now()
        changes.update(updated_at=_now(), updated_by=actor)
        self.albums.update_one({"_id": current["_id"]}, {"$set": changes})
        return self.album_out(self._album(current["_id"]))

    def delete_album(self, album_id: str) -> None:
        if self.albums.delete_one({"_id": self._album(album_id)["_id"]}).deleted_count == 0:
            raise NotFound(f"no album '{album_id}'")

    def _album(self, ref: str) -> dict[str, Any]:
        doc = self.albums.find_one({"_id": ref} if looks_like_id(ref) else {"slug": ref})
        if doc is None:
            raise NotFound(f"no album '{ref}'")
        return doc

    def get_album(self, ref: str, *, staff: bool = False) -> dict[str, Any]:
        doc = self._album(ref)
        if not staff and not doc.get("published"):
            raise NotFound(f"no album '{ref}'")
        return self.album_out(doc)

    def list_albums(self, page: int, per_page: int, *, staff: bool = False) -> dict[str, Any]:
        query = {} if staff else {"published": True}
        total = self.albums.count_documents(query)
        cursor = (self.albums.find(query).sort([("published_at", DESCENDING),
                                                ("created_at", DESCENDING)])
                  .skip((page - 1) * per_page).limit(per_page))
        return {"items": [self.album_out(d, summary_only=True) for d in cursor], "page": page,
                "per_page": per_page, "total": total}

    @staticmethod
    def album_out(doc: dict[str, Any], summary_only: bool = False) -> dict[str, Any]:
        images = doc.get("images") or []
        cover = doc.get("cover_media_id") or (images[0]["media_id"] if images else None)
        out = {"id": doc["_id"], "slug": doc["slug"], "title": doc["title"],
               "description": doc.get("description", ""), "event_date": doc.get("event_date"),
               "published": bool(doc.get("published")),
               "published_at": iso_utc(doc["published_at"]) if doc.get("published_at") else None,
               "cover": _media_urls(cover), "image_count": len(images)}
        if not summary_only:
            out["images"] = [{**image, **_media_urls(image["media_id"])} for image in images]
        return out

    # newsletters --------------------------------------------------------------------------------
    def create_newsletter(self, issue: NewsletterIn, actor: str) -> dict[str, Any]:
        self._check_newsletter_media(issue.cover_media_id, issue.pdf_media_id)
        now = _now()
        doc = {"_id": uuid.uuid4().hex, "number": issue.number, "year": issue.issue_date.year,
               "issue_date": issue.issue_date.isoformat(),
               "title": issue.title or f"Bản tin Công đoàn số {issue.number}/{issue.issue_date.year}",
               "summary": issue.summary, "cover_media_id": issue.cover_media_id,
               "pdf_media_id": issue.pdf_media_id, "published": issue.published,
               "created_at": now, "created_by": actor, "updated_at": now, "updated_by": actor}
        try:
            self.newsletters.insert_one(doc)
        except DuplicateKeyError:
            raise Conflict(f"issue {issue.number} of {issue.issue_date.year} exists already"
                           ) from None
        return self.newsletter_out(doc)

    def _check_newsletter_media(self, cover_media_id, pdf_media_id) -> None:
        self._require_media([("cover_media_id", cover_media_id)], "image")
        self._require_media([("pdf_media_id", pdf_media_id)], "pdf")

    def update_newsletter(self, issue_id: str, patch: NewsletterPatch, actor: str
                          ) -> dict[str, Any]:
        current = self._newsletter(issue_id)
        changes = patch.model_dump(exclude_unset=True)
        self._check_newsletter_media(changes.get("cover_media_id"), changes.get("pdf_media_id"))
        if "issue_date" in changes:
            changes["year"] = changes["issue_date"].year
            changes["issue_date"] = changes["issue_date"].isoformat()
        changes.update(updated_at=_now(), updated_by=actor)
        try:
            self.newsletters.update_one({"_id": current["_id"]}, {"$set": changes})
        except DuplicateKeyError:
            raise Conflict("another issue has this number in this year") from None
        return self.newsletter_out(self._newsletter(current["_id"]))

    def delete_newsletter(self, issue_id: str) -> None:
        self.newsletters.delete_one({"_id": self._newsletter(issue_id)["_id"]})

    def _newsletter(self, issue_id: str) -> dict[str, Any]:
        doc = self.newsletters.find_one({"_id": issue_id})
        if doc is None:
            raise NotFound(f"no newsletter issue '{issue_id}'")
        return doc

    def get_newsletter(self, issue_id: str, *, staff: bool = False) -> dict[str, Any]:
        doc = self._newsletter(issue_id)
        if not staff and not doc.get("published"):
            raise NotFound(f"no newsletter issue '{issue_id}'")
        return self.newsletter_out(doc)

    def list_newsletters(self, year: int | None, page: int, per_page: int, *,
                         staff: bool = False) -> dict[str, Any]:
        query: dict[str, Any] = {} if staff else {"published": True}
        if year:
            query["year"] = year
        total = self.newsletters.count_documents(query)
        cursor = (self.newsletters.find(query).sort([("issue_date", DESCENDING),
                                                     ("number", DESCENDING)])
                  .skip((page - 1) * per_page).limit(per_page))
        return {"items": [self.newsletter_out(d) for d in cursor], "page": page,
                "per_page": per_page, "total": total}

    @staticmethod
    def newsletter_out(doc: dict[str, Any]) -> dict[str, Any]:
        return {"id": doc["_id"], "number": doc["number"], "year": doc["year"],
                "issue_date": doc["issue_date"], "title": doc["title"],
                "summary": doc.get("summary", ""), "published": bool(doc.get("published")),
                "cover": _media_urls(doc.get("cover_media_id")),
                "pdf": _media_urls(doc["pdf_media_id"], variants=False)}


def _media_urls(media_id: str | None, variants: bool = True) -> dict[str, Any] | None:
    if not media_id:
        return None
    base = f"/api/v1/media/{media_id}"
    out: dict[str, Any] = {"media_id": media_id, "url": base}
    if variants:
        out.update(thumb_url=f"{base}/thumb", large_url=f"{base}/large")
    return out
