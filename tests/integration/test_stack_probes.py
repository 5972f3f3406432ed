"""The local stack's readiness probes against the real servers (and against nothing)."""
import sys
from pathlib import Path

from portal_common.settings import get_settings

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "deploy" / "local"))
from portalstack import net, settings  # noqa: E402


def test_the_mongodb_ping_gets_ok_from_the_real_server_and_false_from_a_closed_port():
    host, port = settings.host_port(get_settings().mongo_uri, 27017)
    assert net.mongo_ping(host, port)
    assert not net.mongo_ping("127.0.0.1", 9, timeout=1)


def test_the_elasticsearch_probe_reads_the_cluster_status():
    assert net.es_health(get_settings().elasticsearch_url) in ("green", "yellow")
    assert net.es_health("http://127.0.0.1:9", timeout=1) is None
