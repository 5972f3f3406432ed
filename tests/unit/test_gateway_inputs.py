"""The gateway's input rules, without any server: JSON only, no MongoDB operators."""
import pytest

from gateway.inputs import _operator_keys
from gateway.pageviews import visitor_hash


@pytest.mark.parametrize("payload, bad", [
    ({"title": "x"}, []),
    ({"$where": "1"}, ["$where"]),
    ({"a": {"b.c": 1}}, ["a.b.c"]),
    ({"tags": [{"$gt": ""}]}, ["tags[0].$gt"]),
])
def test_keys_that_mongodb_would_read_as_operators_are_found(payload, bad):
    assert _operator_keys(payload) == bad


def test_the_visitor_id_is_stable_within_a_day_and_changes_the_next_day():
    today = visitor_hash("k", "10.0.0.1", "Firefox", day="2026-11-26")
    assert today == visitor_hash("k", "10.0.0.1", "Firefox", day="2026-11-26")
    assert today != visitor_hash("k", "10.0.0.1", "Firefox", day="2026-11-27")
    assert today != visitor_hash("k", "10.0.0.2", "Firefox", day="2026-11-26")
    assert len(today) == 32 and "10.0.0.1" not in today
