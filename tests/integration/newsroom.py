"""A running news service for integration tests (real RabbitMQ and MongoDB-protocol server)."""
from __future__ import annotations

import io

import pytest
from nameko.testing.services import entrypoint_hook
from PIL import Image

from news.service import NewsService
from portal_common.mongo import make_client
from portal_common.settings import get_settings

CATEGORIES = [
    {"slug": "tin-tuc-su-kien", "name": "Tin tức - Sự kiện", "order": 1},
    {"slug": "ban-tuyen-giao", "name": "Ban Tuyên giáo", "parent": "tin-tuc-su-kien", "order": 1},
    {"slug": "ban-to-chuc", "name": "Ban Tổ chức", "parent": "tin-tuc-su-kien", "order": 2},
]


class Newsroom:
    """Calls the service's entrypoints the way the gateway does, minus the broker round trip."""

    def __init__(self, container):
        self.container = container

    def __getattr__(self, method):
        def call(*args, **kwargs):
            with entrypoint_hook(self.container, method) as hook:
                return hook(*args, **kwargs)
        return call

    def draft(self, title="Hội nghị tuyên vận xã Bảo Nhai", category="ban-tuyen-giao", **fields):
        return self.create_article({"title": title, "body_html": "<p>Nội dung</p>",
                                    "category": category, **fields}, "editor1")

    def published(self, title="Hội nghị tuyên vận xã Bảo Nhai", **fields):
        return self.publish_article(self.draft(title, **fields)["id"], "editor1")

    @staticmethod
    def database():
        return make_client("test")[get_settings().database_name("news")]


@pytest.fixture
def newsroom(start_service):
    """A running news service with the seed page's categories (and one more)."""
    room = Newsroom(start_service(NewsService))
    for category in CATEGORIES:
        room.ensure_category(category)
    return room


def image_bytes(fmt="JPEG", size=(1600, 900), color=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, fmt)
    return out.getvalue()
