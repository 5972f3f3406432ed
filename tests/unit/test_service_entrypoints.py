"""Service entrypoints without a broker or a database (Nameko's ``worker_factory``).

The dependencies are replaced by mocks here on purpose: these tests pin down what an entrypoint
does with its dependencies. What the dependencies do against real servers is tested in
tests/integration.
"""
import pytest
from nameko.rpc import Rpc as NamekoRpc
from nameko.testing.services import worker_factory

from analytics.service import AnalyticsService
from documents.service import DocumentsService
from feedback.service import FeedbackService
from news.service import NewsService
from portal_common import entrypoints
from portal_common.errors import Invalid
from portal_common.events import new_event


@pytest.mark.parametrize("service", [AnalyticsService, DocumentsService, FeedbackService,
                                     NewsService], ids=lambda cls: cls.name)
def test_every_rpc_method_uses_the_platform_entrypoint(service):
    """One consumer kind per service queue: a second kind (Nameko's own ``rpc``) would be
    handed calls meant for the other's methods and answer them "method not found"."""
    kinds = {name: type(entrypoint) for name in dir(service)
             for entrypoint in getattr(getattr(service, name), "nameko_entrypoints", ())
             if isinstance(entrypoint, NamekoRpc)}
    assert kinds, f"{service.name} has no RPC methods"
    assert set(kinds.values()) == {entrypoints.Rpc}, kinds


def _published_event(article_id="a1", revision=2):
    return new_event("news", "article_published", {
        "article_id": article_id, "slug": "bai-viet", "title": "Bài viết", "summary": "Tóm tắt",
        "body_text": "Nội dung", "category": {"slug": "ban-tuyen-giao", "name": "Ban Tuyên giáo"},
        "published_at": "2026-11-20T08:00:00.000Z", "revision": revision})


def test_publishing_a_draft_relays_the_event_of_its_revision_record():
    service = worker_factory(NewsService)
    event = _published_event()
    service.articles.publish.return_value = ({"id": "a1", "status": "published"}, "a1:0000002")
    service.articles.revisions.find_one.return_value = {"_id": "a1:0000002", "outbox": [event]}

    assert service.publish_article("a1", "editor1") == {"id": "a1", "status": "published"}
    service.publish_event.assert_called_once_with(event)
    service.articles.revisions.update_one.assert_called_once_with(
        {"_id": "a1:0000002"}, {"$pull": {"outbox": event}})


def test_publishing_an_already_published_article_publishes_nothing():
    service = worker_factory(NewsService)
    service.articles.publish.return_value = ({"id": "a1"}, None)
    service.publish_article("a1", "editor1")
    service.publish_event.assert_not_called()


def test_an_event_that_the_broker_refuses_stays_in_the_outbox_for_the_sweep():
    service = worker_factory(NewsService)
    event = _published_event()
    service.articles.publish.return_value = ({"id": "a1"}, "a1:0000002")
    service.articles.revisions.find_one.return_value = {"_id": "a1:0000002", "outbox": [event]}
    service.publish_event.side_effect = ConnectionError("broker away")

    service.publish_article("a1", "editor1")  # the write succeeded; the caller is not failed
    service.articles.revisions.update_one.assert_not_called()


@pytest.mark.parametrize("path, slug", [
    ("/tin-tuc/ban-tuyen-giao/ket-qua-sau-5-nam", "ket-qua-sau-5-nam"),
    ("/news/hoi-nghi.html?utm_source=zalo", "hoi-nghi"),
    ("/tin-tuc/hoi-nghi/", "hoi-nghi"),
    ("/", None),
    ("/tìm-kiếm", None),
])
def test_a_viewed_path_names_the_article_slug_it_ends_with(path, slug):
    from news.service import slug_of_path
    assert slug_of_path(path) == slug


def test_a_page_view_of_an_article_is_counted_with_its_event_id():
    service = worker_factory(NewsService)
    event = new_event("gateway", "page_viewed", {"path": "/tin-tuc/hoi-nghi",
                                                 "viewed_at": "2026-11-26T08:00:00.000Z"})
    NewsService.handle_page_viewed.__wrapped__(service, event)
    slug, viewed, event_id = service.articles.count_view.call_args.args
    assert slug == "hoi-nghi" and event_id == event["event_id"] and viewed.tzinfo is not None


def test_a_published_article_is_indexed_at_its_revision():
    service = worker_factory(DocumentsService)
    handler = DocumentsService.handle_article_published.__wrapped__  # without the inbox wrapper
    handler(service, _published_event("a9", revision=7))

    (doc_id, document), kwargs = service.search_index.put.call_args
    assert doc_id == "article-a9" and kwargs == {"revision": 7}
    assert document["kind"] == "article" and document["category_name"] == "Ban Tuyên giáo"


def test_search_names_the_invalid_parameters():
    service = worker_factory(DocumentsService)
    with pytest.raises(Invalid) as caught:
        service.search("", kind="video", page=0)
    assert {e["field"] for e in caught.value.errors} == {"q", "kind", "page"}
    service.search_index.search.assert_not_called()


@pytest.mark.parametrize("value", [-1, True, "331663", 1.5])
def test_the_visitor_base_must_be_a_non_negative_integer(value):
    service = worker_factory(AnalyticsService)
    with pytest.raises(Invalid):
        service.ensure_visitor_base(value)
    service.visits.ensure_base_total.assert_not_called()
