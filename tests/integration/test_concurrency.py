"""The concurrency stack (Nameko 2.14, eventlet 0.33, PyMongo 4.15) under concurrent RPC."""
import eventlet
from nameko.standalone.rpc import ClusterRpcProxy

from news.service import NewsService


def test_concurrent_rpc_calls_that_each_write_and_read_mongodb_all_answer_correctly(
        start_service, service_config):
    start_service(NewsService, max_workers=20)
    with ClusterRpcProxy(service_config, timeout=30) as rpc:
        rpc.news.ensure_category({"slug": "ban-tuyen-giao", "name": "Ban Tuyên giáo"})

    def create_then_read(i):
        # one proxy per green thread: a standalone proxy is not shared between callers
        with ClusterRpcProxy(service_config, timeout=30) as rpc:
            created = rpc.news.create_article({
                "title": f"Bản tin công đoàn số {i}", "body_html": f"<p>Số {i}</p>",
                "category": "ban-tuyen-giao"}, f"editor{i}")
            read = rpc.news.get_article_by_id(created["id"])
            return i, created, read

    pool = eventlet.GreenPool(40)
    results = list(pool.imap(create_then_read, range(80)))

    assert len(results) == 80
    assert len({created["id"] for _, created, _ in results}) == 80
    for i, created, read in results:
        assert read["title"] == f"Bản tin công đoàn số {i}"
        assert read["id"] == created["id"]
        assert read["body_html"] == f"<p>Số {i}</p>"
