"""Text rules of the newsroom: readable ASCII slugs and the HTML that may reach a reader."""
from __future__ import annotations

import html

import nh3
from slugify import slugify

MAX_SLUG_LENGTH = 120

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
    """``Kết quả sau 5 năm …`` → ``ket-qua-sau-5-nam-…``: đ → d, diacritics dropped."""
    # slugify transliterates đ/Đ to d, and drops the combining marks of Vietnamese letters
    return slugify(title, max_length=MAX_SLUG_LENGTH, word_boundary=True) or "bai-viet"


def sanitize_html(body_html: str) -> str:
    return nh3.clean(body_html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                     url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer")


def plain_text(body_html: str) -> str:
    """The words of an HTML body, for search indexing and summaries."""
    text = nh3.clean(body_html.replace("</p>", "</p>\n").replace("<br>", "\n"), tags=set())
    return " ".join(html.unescape(text).split())
