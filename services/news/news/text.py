"""Text rules of the newsroom: readable ASCII slugs, the HTML that may reach a reader, bylines."""
from __future__ import annotations

import html
import re

import nh3
from slugify import slugify

MAX_SLUG_LENGTH = 120
FALLBACK_SLUG = "bai-viet"
# path segments under /api/v1/news/ that are routes of their own, never articles
RESERVED_SLUGS = frozenset({"most-read", "drafts", "revisions", "schedule", "publish", "unpublish"})
_LOOKS_LIKE_ID = re.compile(r"^[0-9a-f]{32}$")

# What an article body may contain: the structure of a news page (paragraphs, headings, lists,
# links, tables, images with captions). Scripts, styles, event handlers and javascript: links
# are not in the allowlist, so nh3 drops them.
ALLOWED_TAGS = {
    "p", "br", "h2", "h3", "h4", "h5", "h6", "strong", "b", "em", "i", "u", "s", "sub", "sup",
    "blockquote", "ul", "ol", "li", "a", "table", "thead", "tbody", "tfoot", "tr", "th", "td",
    "caption", "figure", "figcaption", "img", "hr", "span",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
}


def make_slug(title: str) -> str:
    """``Kết quả sau 5 năm …`` → ``ket-qua-sau-5-nam-…``: đ → d, diacritics dropped.

    Never one of the reserved route names and never 32 hex digits (an id), so a path segment
    under ``/news/`` always means one thing."""
    # slugify transliterates đ/Đ to d, and drops the combining marks of Vietnamese letters
    slug = slugify(title, max_length=MAX_SLUG_LENGTH, word_boundary=True) or FALLBACK_SLUG
    return safe_slug(slug)


def safe_slug(slug: str) -> str:
    if slug in RESERVED_SLUGS or _LOOKS_LIKE_ID.match(slug):
        return f"{slug[:MAX_SLUG_LENGTH - 4]}-bai"
    return slug


def looks_like_id(value: str) -> bool:
    return bool(_LOOKS_LIKE_ID.match(value or ""))


def sanitize_html(body_html: str) -> str:
    return nh3.clean(body_html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                     url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer")


def plain_text(body_html: str) -> str:
    """The words of an HTML body, for search indexing and summaries."""
    text = nh3.clean(body_html.replace("</p>", "</p>\n").replace("<br>", "\n"), tags=set())
    return " ".join(html.unescape(text).split())


_CREDIT_PART = re.compile(r"^\s*(bài|tin|bài viết|ảnh|tin, ảnh|tin và ảnh|bài và ảnh|bài, ảnh)"
                          r"\s*:\s*(.+?)\s*$", re.IGNORECASE)


def parse_credits(credits: str | None) -> dict[str, str | None]:
    """``"Bài: Tiến Sỹ; Ảnh: Đồng Hồng - PT"`` → ``{"author": "Tiến Sỹ", "photo":
    "Đồng Hồng - PT"}``: the byline the seed page prints, split into who wrote and who
    photographed ("Tin, ảnh: X" credits X with both). Unlabelled credits are the author."""
    out: dict[str, str | None] = {"author": None, "photo": None}
    if not credits:
        return out
    for part in re.split(r"[;\n]", credits):
        if not part.strip():
            continue
        match = _CREDIT_PART.match(part)
        if not match:
            out["author"] = out["author"] or part.strip()
            continue
        label, name = match.group(1).lower(), match.group(2)
        if "ảnh" in label:
            out["photo"] = name
        if label.startswith(("bài", "tin")):
            out["author"] = name
    return out
