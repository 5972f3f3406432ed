"""Uploaded media: images (JPEG, PNG, WebP) with generated thumbnails, and PDFs (newsletters).

Stored with GridFS (``media.files`` / ``media.chunks`` in the service's own database): plain
collections and a unique index, which FerretDB 1.24 serves as MongoDB does (tested on it; see
docs/decisions.md). A file's id is the first 32 hex digits of its SHA-256, so uploading the same
bytes twice gives the same media (idempotent), and an id names immutable content: the gateway
can answer ``If-None-Match`` and let browsers cache for a year.

Types are decided by decoding, never by the file name or the client's Content-Type: an image
must open and fully decode with Pillow as JPEG, PNG or WebP; a PDF must parse with pypdf.
Decoding and resizing run in a real OS thread (``eventlet.tpool``) so that a large photo does
not stall the service's other green threads or its AMQP heartbeats.
"""
from __future__ import annotations

import base64
import hashlib
import io
import os
import warnings
from datetime import datetime, timezone
from typing import Any

import gridfs
from eventlet import tpool
from PIL import Image, ImageOps, UnidentifiedImageError
from pymongo import DESCENDING
from pymongo.database import Database
from pypdf import PdfReader
from pypdf.errors import PyPdfError

from portal_common.errors import Invalid, NotFound, TooLarge, UnsupportedMedia
from portal_common.events import iso_utc

IMAGE_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
PDF = "application/pdf"
# generated sizes (longest side, pixels); served at /api/v1/media/{id}/{variant}
VARIANTS = {"thumb": 320, "large": 1280}
VARIANT_FORMAT, VARIANT_TYPE = "WEBP", "image/webp"
MAX_IMAGE_BYTES = int(os.environ.get("NEWS_MEDIA_MAX_IMAGE_BYTES", 10 * 1024 * 1024))
MAX_PDF_BYTES = int(os.environ.get("NEWS_MEDIA_MAX_PDF_BYTES", 20 * 1024 * 1024))
MAX_PIXELS = 50_000_000  # larger images are decompression bombs or not meant for the web


def media_id_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:32]


def inspect_upload(data: bytes) -> dict[str, Any]:
    """What the bytes are, decided by decoding them; raises UnsupportedMedia or TooLarge.

    Returns ``{"kind", "content_type", "width", "height", "pages", "variants": {name: bytes}}``.
    CPU-bound: called through ``tpool``."""
    if data[:5] == b"%PDF-":
        if len(data) > MAX_PDF_BYTES:
            raise TooLarge(f"a PDF may have at most {MAX_PDF_BYTES} bytes")
        try:
            pages = len(PdfReader(io.BytesIO(data), strict=False).pages)
        except (PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
            raise UnsupportedMedia(f"the file starts like a PDF but cannot be read: {exc}") from None
        if pages < 1:
            raise UnsupportedMedia("the PDF has no pages")
        return {"kind": "pdf", "content_type": PDF, "width": None, "height": None,
                "pages": pages, "variants": {}}
    if len(data) > MAX_IMAGE_BYTES:
        raise TooLarge(f"an image may have at most {MAX_IMAGE_BYTES} bytes")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                fmt = probe.format
                if fmt not in IMAGE_FORMATS:
                    raise UnsupportedMedia(f"{fmt or 'this'} images are not accepted; "
                                           "send JPEG, PNG or WebP")
                if probe.width * probe.height > MAX_PIXELS:
                    raise TooLarge(f"an image may have at most {MAX_PIXELS} pixels")
                probe.verify()
            with Image.open(io.BytesIO(data)) as image:
                image.load()  # a truncated or corrupt file fails here, not in a reader's browser
                upright = ImageOps.exif_transpose(image)
                variants = {name: _resized(upright, edge) for name, edge in VARIANTS.items()}
                width, height = upright.size
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning,
            SyntaxError, OSError, ValueError) as exc:
        if isinstance(exc, (Image.DecompressionBombError, Image.DecompressionBombWarning)):
            raise TooLarge(f"an image may have at most {MAX_PIXELS} pixels") from None
        raise UnsupportedMedia("the file is not a readable JPEG, PNG or WebP image, nor a PDF"
                               ) from None
    return {"kind": "image", "content_type": IMAGE_FORMATS[fmt], "width": width, "height": height,
            "pages": None, "variants": variants}


def _resized(image: Image.Image, edge: int) -> bytes:
    copy = image.copy()
    if copy.mode not in ("RGB", "RGBA"):
        copy = copy.convert("RGBA" if "A" in copy.getbands() or copy.mode == "P" else "RGB")
    copy.thumbnail((edge, edge), Image.Resampling.LANCZOS)  # never enlarges
    out = io.BytesIO()
    copy.save(out, VARIANT_FORMAT, quality=82, method=4)
    return out.getvalue()


class MediaStore:
    def __init__(self, database: Database):
        self.bucket = gridfs.GridFSBucket(database, bucket_name="media")
        self.files = database["media.files"]

    def ensure_indexes(self) -> None:
        self.files.create_index([("metadata.kind", 1), ("uploadDate", DESCENDING)])

    def store(self, data: bytes, filename: str, actor: str, *, caption: str | None = None,
              credit: str | None = None) -> tuple[dict[str, Any], bool]:
        """Keep an upload; returns (media, created). The same bytes again are the same media."""
        if not data:
            raise Invalid("empty file", [{"field": "file", "message": "the file is empty"}])
        media_id = media_id_of(data)
        existing = self.files.find_one({"_id": media_id})
        if existing is not None:
            return self.describe_doc(existing), False
        facts = tpool.execute(inspect_upload, data)
        now = datetime.now(timezone.utc)
        common = {"kind": facts["kind"], "uploaded_by": actor, "uploaded_at": iso_utc(now)}
        # variants first, the original last: an original in the store means a complete media
        for name, blob in facts["variants"].items():
            self._put(f"{media_id}-{name}", f"{name}.webp", blob,
                      {**common, "variant": name, "content_type": VARIANT_TYPE, "of": media_id})
        self._put(media_id, os.path.basename(filename or "upload")[:200], data, {
            **common, "variant": "original", "content_type": facts["content_type"],
            "width": facts["width"], "height": facts["height"], "pages": facts["pages"],
            "sha256": hashlib.sha256(data).hexdigest(), "caption": caption, "credit": credit,
            "variants": sorted(facts["variants"])})
        return self.describe(media_id), True

    def _put(self, file_id: str, filename: str, blob: bytes, metadata: dict) -> None:
        try:
            self.bucket.upload_from_stream_with_id(file_id, filename, blob, metadata=metadata)
        except gridfs.errors.FileExists:
            # a concurrent or interrupted upload of the same bytes: replace it with a whole one
            self.bucket.delete(file_id)
            self.bucket.upload_from_stream_with_id(file_id, filename, blob, metadata=metadata)

    def describe(self, media_id: str) -> dict[str, Any]:
        doc = self.files.find_one({"_id": media_id, "metadata.variant": "original"})
        if doc is None:
            raise NotFound(f"no media '{media_id}'")
        return self.describe_doc(doc)

    @staticmethod
    def describe_doc(doc: dict[str, Any]) -> dict[str, Any]:
        meta = doc.get("metadata") or {}
        base = f"/api/v1/media/{doc['_id']}"
        return {"id": doc["_id"], "kind": meta.get("kind"), "content_type": meta.get("content_type"),
                "filename": doc.get("filename"), "size": doc.get("length"),
                "width": meta.get("width"), "height": meta.get("height"), "pages": meta.get("pages"),
                "caption": meta.get("caption"), "credit": meta.get("credit"),
                "uploaded_by": meta.get("uploaded_by"), "uploaded_at": meta.get("uploaded_at"),
                "url": base,
                "variants": {name: f"{base}/{name}" for name in meta.get("variants") or []}}

    def read(self, media_id: str, variant: str = "original") -> dict[str, Any]:
        """The bytes of a media (base64, for JSON RPC) and their type."""
        file_id = media_id if variant == "original" else f"{media_id}-{variant}"
        if variant != "original" and variant not in VARIANTS:
            raise NotFound(f"no variant '{variant}'")
        doc = self.files.find_one({"_id": file_id})
        if doc is None or (variant == "original" and (doc.get("metadata") or {}).get("variant")
                           != "original"):
            raise NotFound(f"no media '{media_id}'" + ("" if variant == "original"
                                                       else f" in size '{variant}'"))
        data = self.bucket.open_download_stream(file_id).read()
        return {"id": media_id, "variant": variant, "content_type": doc["metadata"]["content_type"],
                "data": base64.b64encode(data).decode("ascii"), "length": len(data)}

    def list(self, kind: str | None, page: int, per_page: int) -> dict[str, Any]:
        query: dict[str, Any] = {"metadata.variant": "original"}
        if kind:
            query["metadata.kind"] = kind
        total = self.files.count_documents(query)
        cursor = (self.files.find(query).sort([("uploadDate", DESCENDING), ("_id", 1)])
                  .skip((page - 1) * per_page).limit(per_page))
        return {"items": [self.describe_doc(d) for d in cursor], "page": page,
                "per_page": per_page, "total": total}

    def exists(self, media_id: str, kind: str) -> bool:
        return self.files.find_one({"_id": media_id, "metadata.variant": "original",
                                    "metadata.kind": kind}, {"_id": 1}) is not None


def decode_upload(data_b64: str) -> bytes:
    try:
        return base64.b64decode(data_b64, validate=True)
    except (ValueError, TypeError):
        raise Invalid("the file is not valid base64", [{"field": "file", "message": "not base64"}]
                      ) from None


__all__ = ["MediaStore", "inspect_upload", "media_id_of", "decode_upload", "VARIANTS",
           "MAX_IMAGE_BYTES", "MAX_PDF_BYTES"]
