"""The gateway's input rules, without any server: JSON only, no MongoDB operators."""
import pytest

from gateway.inputs import _operator_keys


@pytest.mark.parametrize("payload, bad", [
    ({"title": "x"}, []),
    ({"$where": "1"}, ["$where"]),
    ({"a": {"b.c": 1}}, ["a.b.c"]),
    ({"tags": [{"$gt": ""}]}, ["tags[0].$gt"]),
])
def test_keys_that_mongodb_would_read_as_operators_are_found(payload, bad):
    assert _operator_keys(payload) == bad

