"""Vietnamese text as the feedback service compares it: folded, shingled, hashed.

``fold`` lowercases, turns đ into d and drops every diacritic, so "lương", "LUONG" and "luong"
are the same word for topic rules, the inbox's text filter and near-duplicate detection.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
import zlib

_WORD = re.compile(r"[a-z0-9]+")


def fold(text: str) -> str:
    """``"Bảo hiểm Xã hội, ĐÓNG"`` → ``"bao hiem xa hoi, dong"``."""
    text = (text or "").lower().replace("đ", "d")
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed
                                                if unicodedata.category(c) != "Mn"))


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def contains_phrase(folded_words: list[str], phrase: str) -> bool:
    """True if the words of ``phrase`` appear consecutively (whole words, folded)."""
    needle = words(phrase)
    if not needle:
        return False
    n = len(needle)
    return any(folded_words[i:i + n] == needle for i in range(len(folded_words) - n + 1))


def shingles(text: str, size: int = 3) -> set[tuple[str, ...]]:
    tokens = words(text)
    if len(tokens) < size:
        return {tuple(tokens)} if tokens else set()
    return {tuple(tokens[i:i + size]) for i in range(len(tokens) - size + 1)}


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of the word 3-shingles of two texts (0..1)."""
    sa, sb = shingles(a), shingles(b)
    if not sa or not sb:
        return 0.0
    return len(sa & sb) / len(sa | sb)


SKETCH_SIZE = 128


def sketch(text: str) -> list[int]:
    """The smallest ``SKETCH_SIZE`` CRC-32 values of the text's word 3-shingles (a bottom-k
    sketch): enough to estimate how alike two texts are without keeping the text itself."""
    return sorted({zlib.crc32(" ".join(s).encode()) for s in shingles(text)})[:SKETCH_SIZE]


def sketch_similarity(a: list[int], b: list[int]) -> float:
    """Jaccard estimate of two sketches (exact when both texts have ≤ SKETCH_SIZE shingles)."""
    if not a or not b:
        return 0.0
    union = sorted(set(a) | set(b))[:SKETCH_SIZE]
    both = set(a) & set(b)
    return sum(1 for h in union if h in both) / len(union)


def contact_hash(key: str, contact: dict | None) -> str | None:
    """A keyed hash of the sender's phone digits or e-mail, to link their submissions without
    searching personal data; erased with the contact."""
    if not contact:
        return None
    phone = re.sub(r"\D", "", contact.get("phone") or "")
    if phone.startswith("84"):
        phone = "0" + phone[2:]
    email = (contact.get("email") or "").strip().lower()
    basis = phone or email
    if not basis:
        return None
    return hmac.new(key.encode(), basis.encode(), hashlib.sha256).hexdigest()[:32]
