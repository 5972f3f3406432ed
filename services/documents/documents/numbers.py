"""Vietnamese document numbers (số ký hiệu): their parts, in registered numbers and in queries.

A number such as "100-KL/TW", "4290/QĐ-TLĐ", "145/2020/NĐ-CP" or "45/2019/QH14" has up to four
parts: the ordinal (100), the year (2020), the type code (KL, QĐ, NĐ …) and the issuer code (TW,
TLĐ, CP, QH14). People type them in every spelling: "100 KL/TW", "kl 100", "kết luận 100",
"ket luan 100", "qđ 4290/qđ-tlđ", "nghi dinh 43/2013". ``parse_number`` splits a registered
number into its parts (indexed as keywords); ``parse_query`` finds such a number inside a search
query, so the search can boost documents whose parts match exactly.

Everything is compared folded: lower case, no diacritics, đ → d.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from portal_common.schemas.documents import DOCUMENT_TYPES, canonical_type, fold

__all__ = ["DOCUMENT_TYPES", "NumberParts", "QueryNumber", "canonical_type", "fold",
           "number_key", "parse_number", "parse_query", "types_for_word"]

# abbreviations people type for a type, besides its code ("qđ" is both Quyết định and Quy định)
_EXTRA_ALIASES = {"Bộ luật": ["bl", "blld"], "Luật": ["l"], "Văn bản hợp nhất": ["vbhn"]}
_FOLDED_TYPES: dict[str, str] = {fold(name): name for name in DOCUMENT_TYPES}
_CODE_TYPES: dict[str, list[str]] = {}
for _name, _code in DOCUMENT_TYPES.items():
    if _code:
        _CODE_TYPES.setdefault(fold(_code), []).append(_name)
for _name, _aliases in _EXTRA_ALIASES.items():
    for _alias in _aliases:
        _CODE_TYPES.setdefault(_alias, []).append(_name)
# longest first, so "nghi quyet lien tich" wins over "nghi quyet"
_TYPE_WORDS = sorted(set(_FOLDED_TYPES) | set(_CODE_TYPES), key=len, reverse=True)
_TYPE_CODES = {fold(code) for code in DOCUMENT_TYPES.values() if code}


def types_for_word(word: str) -> list[str]:
    """The types a folded word or code stands for ("qd" → Quyết định, Quy định)."""
    word = " ".join(word.split())
    if word in _FOLDED_TYPES:
        return [_FOLDED_TYPES[word]]
    return list(_CODE_TYPES.get(word, []))


@dataclass(frozen=True)
class NumberParts:
    """The parts of a document number, folded and upper-cased ("NĐ" → "ND")."""

    ordinal: str | None = None
    year: str | None = None
    type_code: str | None = None
    issuer_code: str | None = None

    def as_index(self) -> dict[str, str | None]:
        return {"ordinal": self.ordinal, "year": self.year, "type_code": self.type_code,
                "issuer_code": self.issuer_code}


def number_key(number: str) -> str:
    """One spelling per number ("100-KL/TW", "100 kl/tw" → "100KLTW"), diacritics folded."""
    return "".join(ch for ch in fold(number).upper() if ch.isalnum())


def _ordinal(digits: str) -> str:
    return digits.lstrip("0") or "0"


def _is_year(digits: str) -> bool:
    return len(digits) == 4 and 1945 <= int(digits) <= 2099


def _split_tail(tail: str) -> tuple[str | None, str | None]:
    """"kl/tw" → (KL, TW); "nd-cp" → (ND, CP); "qh14" → (None, QH14); "tt-bldtbxh" → (TT, …)."""
    parts = [p for p in re.split(r"[-/\s]+", tail) if p]
    if not parts:
        return None, None
    if parts[0] in _TYPE_CODES or parts[0] in _CODE_TYPES:
        code, rest = parts[0], parts[1:]
    else:
        code, rest = None, parts
    issuer = "-".join(rest) if rest else None
    return (code.upper() if code else None), (issuer.upper() if issuer else None)


def parse_number(number: str) -> NumberParts:
    """Split a registered number into its parts.

    >>> parse_number("145/2020/NĐ-CP")
    NumberParts(ordinal='145', year='2020', type_code='ND', issuer_code='CP')
    """
    folded = fold(number).strip()
    match = re.match(r"^(\d+)\s*(?:[-/.]\s*((?:19|20)\d\d)(?!\d))?\s*[-/.\s]?\s*(.*)$", folded)
    if not match:
        code, issuer = _split_tail(folded)
        return NumberParts(type_code=code, issuer_code=issuer)
    ordinal, year, tail = match.groups()
    code, issuer = _split_tail(tail.strip(" -/."))
    return NumberParts(ordinal=_ordinal(ordinal), year=year, type_code=code, issuer_code=issuer)


@dataclass
class QueryNumber:
    """What a query says about a document number and type."""

    ordinal: str | None = None
    year: str | None = None            # the year of the number ("43/2013") or a year on its own
    type_code: str | None = None
    issuer_code: str | None = None
    types: list[str] = field(default_factory=list)   # types named by word or code
    year_only: bool = False            # the year stood alone ("luat bhxh 2014")
    words: str = ""                    # the query without its number and year, as typed

    @property
    def has_number(self) -> bool:
        return self.ordinal is not None


# an ordinal, optionally "/year", optionally a tail of codes: "100-kl/tw", "145/2020/nd-cp",
# "100 kl/tw", "43/2013", "4290/qd-tld", "45/2019/qh14"
_NUMBER = re.compile(
    r"(?<![\w])(?P<ord>\d{1,5})"
    r"(?:\s*[-/.]\s*(?P<year>(?:19|20)\d\d)(?!\d))?"
    r"(?:(?P<sep>\s*[-/]\s*|\s+)(?P<tail>[a-z]{1,10}\d{0,2}(?:\s*[-/]\s*[a-z]{1,12}\d{0,2}){0,2}))?"
    r"(?![\w])")
_WORD = re.compile(r"[a-z]+")


def _type_before(text: str) -> list[str]:
    """The type named by the words right before a number ("ket luan so", "qd")."""
    text = re.sub(r"\b(so|số)\s*$", "", text).rstrip(" :.,")
    for word in _TYPE_WORDS:
        if text == word or text.endswith(" " + word):
            return types_for_word(word)
    return []


def parse_query(query: str) -> QueryNumber:
    """Find a document number and the type named in a free-text query.

    >>> parse_query("kết luận 100").ordinal, parse_query("kl 100").types
    ('100', ['Kết luận'])
    """
    typed = " ".join(unicodedata.normalize("NFC", query).split())
    # folded character by character, so positions in ``folded`` are positions in ``typed``
    folded = "".join((fold(ch) or " ")[0] for ch in typed)
    result = QueryNumber()
    spans: list[tuple[int, int]] = []
    for match in _NUMBER.finditer(folded):
        digits, year, sep, tail = match.group("ord"), match.group("year"), match.group("sep"), \
            match.group("tail")
        code = issuer = None
        if tail:
            first = re.split(r"[-/\s]+", tail)[0]
            # "100 kl/tw" or "100-kl": a code; "2012 cong doan": words, not a code
            if sep and sep.strip() or first in _TYPE_CODES or first in _CODE_TYPES:
                code, issuer = _split_tail(tail)
            else:
                tail = None
        before = _type_before(folded[:match.start()].rstrip())
        uncoded = before and not any(DOCUMENT_TYPES[name] for name in before)
        if not tail and not year and (not before or uncoded) and _is_year(digits):
            # "luat bhxh 2014", "luật 2012": a year; laws carry no ordinal people remember
            result.types = result.types or list(before)
            if result.year is None:
                result.year, result.year_only = digits, True
            spans.append((match.start(), match.end("ord")))
            continue
        if result.ordinal is not None:
            continue  # the first number is the one looked for
        spans.append((match.start(), match.end("tail") if tail
                      else match.end("year") if year else match.end("ord")))
        result.ordinal, result.year_only = _ordinal(digits), False
        result.year = year or result.year
        result.type_code, result.issuer_code = code, issuer
        for name in before:
            if name not in result.types:
                result.types.append(name)
        if code and not result.types:
            result.types.extend(types_for_word(code.lower()))
    if not result.types:
        # a type named anywhere ("luat cong doan", "chi thi ve du luan") is a hint
        padded = f" {folded} "
        for word in _TYPE_WORDS:
            if len(word) > 2 and f" {word} " in padded:
                result.types = types_for_word(word)
                break
    kept, position = [], 0
    for start, end in spans:
        kept.append(typed[position:start])
        position = end
    kept.append(typed[position:])
    result.words = " ".join("".join(kept).split())
    if result.types and result.type_code is None and result.ordinal is not None:
        codes = {DOCUMENT_TYPES[name] for name in result.types if DOCUMENT_TYPES[name]}
        if len(codes) == 1:
            result.type_code = fold(codes.pop()).upper()
    return result
