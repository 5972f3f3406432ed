"""Domain errors keep their type and field details across Nameko RPC (serialise → deserialise)."""
import pytest
from nameko.exceptions import deserialize, serialize

from portal_common.errors import Conflict, Forbidden, Invalid, NotFound, validated
from portal_common.schemas.news import ArticleDraft


@pytest.mark.parametrize("error_cls, status", [(NotFound, 404), (Invalid, 422), (Conflict, 409),
                                               (Forbidden, 403)])
def test_a_domain_error_comes_back_as_itself_with_its_status(error_cls, status):
    original = error_cls("no article x", [{"field": "slug", "message": "unknown"}])
    restored = deserialize(serialize(original))
    assert isinstance(restored, error_cls)
    assert restored.status == status
    assert restored.detail == "no article x"
    assert restored.errors == [{"field": "slug", "message": "unknown"}]


def test_validation_names_every_invalid_field():
    with pytest.raises(Invalid) as caught:
        validated(ArticleDraft, {"title": "x", "category": "Not A Slug", "unknown": 1})
    fields = {e["field"] for e in caught.value.errors}
    assert fields == {"title", "body_html", "category", "unknown"}
