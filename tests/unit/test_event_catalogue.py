"""The event catalogue is the contract: code cannot emit what it does not describe."""
import re
from pathlib import Path

import pytest

from portal_common.events import catalogue, new_event

ROOT = Path(__file__).resolve().parents[2]
CODE_DIRS = ["common", "services", "gateway"]
EMIT = re.compile(r'new_event\(\s*"(?P<source>[a-z_]+)"\s*,\s*"(?P<type>[a-z_]+)"')


def _emitted_in_code():
    found = set()
    for folder in CODE_DIRS:
        for path in (ROOT / folder).rglob("*.py"):
            for match in EMIT.finditer(path.read_text("utf-8")):
                found.add((match["source"], match["type"]))
    return found


def test_every_event_the_code_emits_is_in_the_catalogue():
    emitted = _emitted_in_code()
    assert emitted, "the scan found no emitted events at all"
    missing = emitted - set(catalogue.specs())
    assert not missing, f"emitted but not in contracts/asyncapi.yaml: {sorted(missing)}"


def test_every_live_event_of_the_catalogue_is_emitted_by_the_code():
    live = {key for key, spec in catalogue.specs().items() if spec.status == catalogue.LIVE}
    assert live - _emitted_in_code() == set()


def test_the_catalogue_covers_the_product_minimum():
    minimum = {("news", "article_published"), ("news", "article_updated"),
               ("news", "article_unpublished"), ("documents", "document_indexed"),
               ("documents", "document_removed"), ("feedback", "feedback_received"),
               ("feedback", "feedback_status_changed"), ("feedback", "feedback_answered"),
               ("analytics", "poll_vote_recorded"), ("gateway", "page_viewed")}
    assert minimum <= set(catalogue.specs())


def _page_view(**data):
    payload = {"path": "/tin-tuc", "viewed_at": "2026-11-26T08:00:00.000Z", **data}
    return new_event("gateway", "page_viewed", payload)


def test_a_valid_envelope_passes():
    spec = catalogue.validate(_page_view(referrer=None, title="Trang chủ"))
    assert spec.exchange == "gateway.events"


def test_an_event_missing_from_the_catalogue_is_refused():
    with pytest.raises(catalogue.UnknownEvent):
        catalogue.validate(new_event("news", "article_liked", {}))


@pytest.mark.parametrize("change, where", [
    (lambda e: e["data"].pop("path"), "data"),
    (lambda e: e["data"].update(path="no-leading-slash"), "data/path"),
    (lambda e: e["data"].update(extra="not allowed"), "data"),
    (lambda e: e.update(event_id="not-hex"), "event_id"),
    (lambda e: e.update(version=0), "version"),
    (lambda e: e.update(occurred_at="yesterday"), "occurred_at"),
])
def test_an_event_that_breaks_its_schema_is_refused_with_the_place(change, where):
    event = _page_view()
    change(event)
    with pytest.raises(catalogue.InvalidEvent, match=where):
        catalogue.validate(event)


def test_the_envelope_has_the_product_fields_in_utc():
    event = new_event("gateway", "page_viewed", {"path": "/", "viewed_at": "2026-01-01T00:00:00Z"})
    assert set(event) >= {"event_id", "type", "source", "occurred_at", "version", "data"}
    assert event["occurred_at"].endswith("Z")
    assert new_event("gateway", "page_viewed", {})["event_id"] != event["event_id"]
