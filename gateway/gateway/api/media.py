"""Media (image and PDF uploads), photo albums ("Album Ảnh") and newsletter issues ("Bản tin
Công đoàn"). The news service owns and checks them; this module carries bytes and JSON.

Media are content-addressed (the id is a hash of the bytes), so a media URL names immutable
content: answers carry a strong ``ETag`` and ``Cache-Control: public, max-age=31536000,
immutable``, ``If-None-Match`` is answered 304 without asking the service, and each worker keeps
recently served files in a small memory cache.
"""
from __future__ import annotations

import base64
import os
import re
import threading
from collections import OrderedDict
from flask import Blueprint, Response, current_app, g, jsonify, request
from pydantic import BaseModel, ConfigDict, Field

from gateway.accounts import require_roles
from gateway.caching import cached
from gateway.contract import ListPage, operation
from gateway.inputs import UnsupportedMediaType, json_body, query_args
from portal_common.errors import Invalid, NotFound, validated
from portal_common.schemas import Page
from portal_common.schemas.news import (AlbumIn, AlbumPatch, MediaQuery, NewsletterIn,
                                        NewsletterPatch)

bp = Blueprint("media", __name__, url_prefix="/api/v1")
WRITERS = ("admin", "editor")
# the largest upload the gateway reads (the service applies 10 MB to images, 20 MB to PDFs)
MEDIA_MAX_BYTES = int(os.environ.get("MEDIA_MAX_BYTES", 20 * 1024 * 1024 + 64 * 1024))
MEDIA_MEMORY_BYTES = int(os.environ.get("MEDIA_MEMORY_BYTES", 32 * 1024 * 1024))
IMMUTABLE = "public, max-age=31536000, immutable"
_ID = re.compile(r"^[0-9a-f]{32}$")
VARIANTS = ("thumb", "large")
SERVED_TYPES = ("image/jpeg", "image/png", "image/webp", "application/pdf")


class _Memory:
    """Recently served media bytes, bounded by their total size (per worker)."""

    def __init__(self, limit: int):
        self.limit, self.size = limit, 0
        self.items: OrderedDict[str, tuple[str, bytes]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            item = self.items.get(key)
            if item is not None:
                self.items.move_to_end(key)
            return item

    def put(self, key, content_type, data):
        if len(data) > self.limit // 8:
            return
        with self.lock:
            if key in self.items:
                return
            self.items[key] = (content_type, data)
            self.size += len(data)
            while self.size > self.limit:
                _, (_, old) = self.items.popitem(last=False)
                self.size -= len(old)


_memory = _Memory(MEDIA_MEMORY_BYTES)


# -- models ------------------------------------------------------------------------------------
class MediaForm(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    caption: str | None = Field(None, max_length=500)
    credit: str | None = Field(None, max_length=200)


class Media(BaseModel):
    id: str = Field(examples=["3f2a9c0d5b7e4f1a8c6d2e9b0a1f3c5d"])
    kind: str = Field(examples=["image"], description="image or pdf")
    content_type: str = Field(examples=["image/jpeg"])
    filename: str | None = None
    size: int
    width: int | None = None
    height: int | None = None
    pages: int | None = Field(None, description="pages of a PDF")
    caption: str | None = None
    credit: str | None = None
    uploaded_by: str | None = None
    uploaded_at: str | None = None
    url: str = Field(examples=["/api/v1/media/3f2a9c0d5b7e4f1a8c6d2e9b0a1f3c5d"])
    variants: dict[str, str] = Field(description="generated sizes: thumb (320 px), large "
                                     "(1280 px), WebP")


class MediaLink(BaseModel):
    media_id: str
    url: str
    thumb_url: str | None = None
    large_url: str | None = None


class AlbumImage(MediaLink):
    caption: str | None = Field(None, examples=["Quang cảnh Hội nghị tuyên vận xã Bảo Nhai"])
    credit: str | None = None
    alt: str | None = None


class AlbumSummary(BaseModel):
    id: str
    slug: str
    title: str
    description: str = ""
    event_date: str | None = None
    published: bool
    published_at: str | None = None
    cover: MediaLink | None = None
    image_count: int


class Album(AlbumSummary):
    images: list[AlbumImage]


class Newsletter(BaseModel):
    id: str
    number: int = Field(examples=[3])
    year: int = Field(examples=[2020])
    issue_date: str = Field(examples=["2020-01-18"])
    title: str = Field(examples=["Bản tin Công đoàn số 3/2020"])
    summary: str = ""
    published: bool
    cover: MediaLink | None = None
    pdf: MediaLink


class NewsletterQuery(Page):
    year: int | None = Field(None, ge=1900, le=2100)


UPLOAD_SCHEMA = {
    "type": "object", "required": ["file"],
    "properties": {
        "file": {"type": "string", "format": "binary",
                 "description": "JPEG, PNG or WebP (≤ 10 MB) or PDF (≤ 20 MB); the type is "
                                "decided by decoding the content, not by its name"},
        "caption": {"type": "string", "maxLength": 500},
        "credit": {"type": "string", "maxLength": 200},
    },
}
BINARY_RESPONSE = {"200": {
    "description": "The file (immutable: cache it)",
    "headers": {"ETag": {"schema": {"type": "string"}},
                "Cache-Control": {"schema": {"type": "string"}}},
    "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in SERVED_TYPES}},
    "304": {"description": "Not modified"}}


def _rpc():
    return current_app.extensions["rpc"]


# -- media -------------------------------------------------------------------------------------
@bp.post("/media")
@operation(tags=["media"], body_media_type="multipart/form-data", body_schema=UPLOAD_SCHEMA,
           response=Media, status=201,
           extra_responses={200: {"description": "The same bytes were uploaded before: that media",
                                  "content": {"application/json": {
                                      "schema": {"$ref": "#/components/schemas/Media"}}}}})
@require_roles(*WRITERS)
def upload_media():
    """Upload an image or a PDF (editor, admin) as ``multipart/form-data`` with ``file``
    (and optional ``caption``, ``credit``): 201 with the media and the URLs of its
    thumbnails; the same bytes again answer 200 with the same media. 413 above the size
    limit, 415 for anything that does not decode as JPEG, PNG, WebP or PDF."""
    request.max_content_length = MEDIA_MAX_BYTES
    if request.mimetype != "multipart/form-data":
        raise UnsupportedMediaType("send the file as multipart/form-data (field 'file')")
    upload = request.files.get("file")
    form = validated(MediaForm, request.form.to_dict())
    if upload is None:
        raise Invalid("no file", [{"field": "file", "message": "send the file in the field 'file'"}])
    data = upload.read()
    answer = _rpc().call("news", "store_media", base64.b64encode(data).decode("ascii"),
                         upload.filename or "upload", g.user["sub"], form.caption, form.credit)
    return jsonify(answer["media"]), (201 if answer["created"] else 200)


@bp.get("/media")
@operation(tags=["media"], query=MediaQuery, response=ListPage[Media])
@require_roles(*WRITERS)
def list_media():
    """Uploaded media, newest first (editor, admin), to pick images for articles and albums."""
    query = query_args(MediaQuery)
    return jsonify(_rpc().call("news", "list_media", query.kind, query.page, query.per_page))


@bp.get("/media/<media_id>")
@operation(tags=["media"], extra_responses=BINARY_RESPONSE, cached=True)
def get_media(media_id: str):
    """An uploaded file as it was uploaded."""
    return _serve(media_id, "original")


@bp.get("/media/<media_id>/<variant>")
@operation(tags=["media"], extra_responses=BINARY_RESPONSE, cached=True)
def get_media_variant(media_id: str, variant: str):
    """A generated size of an image: ``thumb`` (320 px) or ``large`` (1280 px), WebP."""
    return _serve(media_id, variant)


def _serve(media_id: str, variant: str) -> Response:
    if not _ID.match(media_id) or (variant != "original" and variant not in VARIANTS):
        raise NotFound(f"no media '{media_id}'" + ("" if variant == "original" else f"/{variant}"))
    etag = f"{media_id}-{variant}"
    if request.if_none_match.contains(etag):
        response = Response(status=304)
        response.set_etag(etag)
        response.headers["Cache-Control"] = IMMUTABLE
        return response
    key = f"{media_id}/{variant}"
    item = _memory.get(key)
    if item is None:
        answer = _rpc().call("news", "get_media", media_id, variant)
        item = (answer["content_type"], base64.b64decode(answer["data"]))
        _memory.put(key, *item)
    content_type, data = item
    response = Response(data, mimetype=content_type)
    response.set_etag(etag)
    response.headers["Cache-Control"] = IMMUTABLE
    if content_type == "application/pdf":
        response.headers["Content-Disposition"] = f'inline; filename="{media_id}.pdf"'
    return response


# -- albums ------------------------------------------------------------------------------------
@bp.get("/albums")
@operation(tags=["albums"], query=Page, response=ListPage[AlbumSummary], cached=True)
@cached(ttl=1)
def list_albums():
    """Published photo albums, newest first."""
    query = query_args(Page)
    return jsonify(_rpc().call("news", "list_albums", query.page, query.per_page))


@bp.get("/albums/<album_id>")
@operation(tags=["albums"], response=Album, cached=True)
@cached(ttl=1)
def get_album(album_id: str):
    """A published album (by id or slug) with its captioned images and their sizes."""
    return jsonify(_rpc().call("news", "get_album", album_id))


@bp.get("/newsroom/albums")
@operation(tags=["albums"], query=Page, response=ListPage[AlbumSummary])
@require_roles(*WRITERS)
def list_albums_for_staff():
    """Every album, published or not, newest first (editor, admin)."""
    query = query_args(Page)
    return jsonify(_rpc().call("news", "list_albums", query.page, query.per_page, True))


@bp.get("/newsroom/albums/<album_id>")
@operation(tags=["albums"], response=Album)
@require_roles(*WRITERS)
def get_album_for_staff(album_id: str):
    """Any album by id or slug, published or not (editor, admin)."""
    return jsonify(_rpc().call("news", "get_album", album_id, True))


@bp.post("/albums")
@operation(tags=["albums"], body=AlbumIn, response=Album, status=201)
@require_roles(*WRITERS)
def create_album():
    """Create an album of uploaded images with captions (editor, admin); 422 names an image
    that was never uploaded."""
    body = json_body(AlbumIn).model_dump(mode="json")
    return jsonify(_rpc().call("news", "create_album", body, g.user["sub"])), 201


@bp.patch("/albums/<album_id>")
@operation(tags=["albums"], body=AlbumPatch, response=Album)
@require_roles(*WRITERS)
def update_album(album_id: str):
    """Change an album (editor, admin): only the fields sent change."""
    body = json_body(AlbumPatch).model_dump(mode="json", exclude_unset=True)
    return jsonify(_rpc().call("news", "update_album", album_id, body, g.user["sub"]))


@bp.delete("/albums/<album_id>")
@operation(tags=["albums"], status=204)
@require_roles(*WRITERS)
def delete_album(album_id: str):
    """Delete an album (editor, admin); its images stay in the media library."""
    _rpc().call("news", "delete_album", album_id)
    return Response(status=204)


# -- newsletters -------------------------------------------------------------------------------
@bp.get("/newsletters")
@operation(tags=["newsletters"], query=NewsletterQuery, response=ListPage[Newsletter],
           cached=True)
@cached(ttl=1)
def list_newsletters():
    """Published issues of the union newsletter, newest first; ``year`` narrows them."""
    query = query_args(NewsletterQuery)
    return jsonify(_rpc().call("news", "list_newsletters", query.year, query.page,
                               query.per_page))


@bp.get("/newsletters/<issue_id>")
@operation(tags=["newsletters"], response=Newsletter, cached=True)
@cached(ttl=1)
def get_newsletter(issue_id: str):
    """One published issue with its cover and PDF links."""
    return jsonify(_rpc().call("news", "get_newsletter", issue_id))


@bp.get("/newsroom/newsletters")
@operation(tags=["newsletters"], query=NewsletterQuery, response=ListPage[Newsletter])
@require_roles(*WRITERS)
def list_newsletters_for_staff():
    """Every newsletter issue, published or not (editor, admin)."""
    query = query_args(NewsletterQuery)
    return jsonify(_rpc().call("news", "list_newsletters", query.year, query.page,
                               query.per_page, True))


@bp.post("/newsletters")
@operation(tags=["newsletters"], body=NewsletterIn, response=Newsletter, status=201,
           errors=(409,))
@require_roles(*WRITERS)
def create_newsletter():
    """Add an issue (editor, admin): number, date, cover image, PDF (both uploaded first).
    409 if that number exists in that year."""
    body = json_body(NewsletterIn).model_dump(mode="json")
    return jsonify(_rpc().call("news", "create_newsletter", body, g.user["sub"])), 201


@bp.patch("/newsletters/<issue_id>")
@operation(tags=["newsletters"], body=NewsletterPatch, response=Newsletter, errors=(409,))
@require_roles(*WRITERS)
def update_newsletter(issue_id: str):
    """Change an issue (editor, admin)."""
    body = json_body(NewsletterPatch).model_dump(mode="json", exclude_unset=True)
    return jsonify(_rpc().call("news", "update_newsletter", issue_id, body, g.user["sub"]))


@bp.delete("/newsletters/<issue_id>")
@operation(tags=["newsletters"], status=204)
@require_roles(*WRITERS)
def delete_newsletter(issue_id: str):
    """Delete an issue (editor, admin)."""
    _rpc().call("news", "delete_newsletter", issue_id)
    return Response(status=204)

