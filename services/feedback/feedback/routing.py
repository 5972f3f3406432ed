"""The unit tree and routing: which union level answers a feedback.

Units form a tree (LĐLĐ tỉnh › LĐLĐ huyện/thành phố › công đoàn cơ sở; sector unions under the
province). A moderator responsible for a unit is responsible for every unit under it.

Routing tries, in order: the admin's rules (lowest ``priority`` first; every condition given in
a rule must hold: topic, district, a phrase of the workplace, kind), then a grassroots union
whose known workplaces match the sender's workplace, then the district's union, then the root
of the tree. Matching of workplaces and phrases is folded (no diacritics, any case).
"""
from __future__ import annotations

from typing import Any, Iterable

from feedback.text import contains_phrase, fold, words


class UnitTree:
    def __init__(self, units: Iterable[dict[str, Any]]):
        self.units = {u["_id"]: u for u in units}
        self.children: dict[str | None, list[str]] = {}
        for slug, unit in sorted(self.units.items(), key=lambda i: (i[1].get("order", 0), i[0])):
            self.children.setdefault(unit.get("parent"), []).append(slug)

    def __contains__(self, slug: str) -> bool:
        return slug in self.units

    def name(self, slug: str | None) -> str | None:
        return self.units[slug]["name"] if slug in self.units else slug

    def roots(self) -> list[str]:
        return [s for s in self.children.get(None, []) if s in self.units]

    def subtree(self, slug: str) -> set[str]:
        """``slug`` and every unit under it."""
        found, stack = set(), [slug]
        while stack:
            current = stack.pop()
            if current in found:
                continue
            found.add(current)
            stack.extend(self.children.get(current, []))
        return found

    def scope(self, slugs: Iterable[str]) -> set[str]:
        out: set[str] = set()
        for slug in slugs:
            out |= self.subtree(slug)
        return out

    def path(self, slug: str) -> list[str]:
        trail, seen = [], set()
        while slug and slug in self.units and slug not in seen:
            seen.add(slug)
            trail.append(slug)
            slug = self.units[slug].get("parent")
        return list(reversed(trail))

    def district_unit(self, district: str | None) -> str | None:
        if not district:
            return None
        for slug, unit in self.units.items():
            if unit.get("type") == "district" and unit.get("district") == district:
                return slug
        return None


def route(tree: UnitTree, rules: Iterable[dict[str, Any]], *, topic: str | None,
          district: str | None, workplace: str | None, kind: str) -> tuple[str | None, str]:
    """(unit slug, why) for a new feedback."""
    workplace_words = words(workplace or "")
    for rule in sorted(rules, key=lambda r: (r.get("priority", 100), r["_id"])):
        if rule.get("topic") and rule["topic"] != topic:
            continue
        if rule.get("district") and rule["district"] != district:
            continue
        if rule.get("kind") and rule["kind"] != kind:
            continue
        if rule.get("workplace_contains") and not contains_phrase(
                workplace_words, rule["workplace_contains"]):
            continue
        if rule["unit"] in tree:
            return rule["unit"], f"rule {rule['_id']}"
    if workplace_words:
        for slug, unit in tree.units.items():
            if unit.get("type") != "grassroots":
                continue
            if any(contains_phrase(workplace_words, w) for w in unit.get("workplaces", ())):
                return slug, "workplace"
        # the district named inside the workplace ("…, Bát Xát")
        folded = fold(workplace or "")
        for slug, unit in tree.units.items():
            if unit.get("type") == "district" and unit.get("district") and \
                    fold(unit["district"].replace("-", " ")) in folded:
                district = district or unit["district"]
    unit = tree.district_unit(district)
    if unit:
        return unit, "district"
    roots = tree.roots()
    if roots:
        return roots[0], "default"
    return None, "no units configured"
