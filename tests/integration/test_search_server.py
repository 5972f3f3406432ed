"""The Elasticsearch server in use does what the platform relies on: the official client accepts
it, Vietnamese folding (đ → d), highlights, aggregations, bulk, atomic alias swaps, suggesters.
Locally that proves the Maven-built launcher (deploy/local/elasticsearch) is a real ES 8."""
import subprocess
import sys
from pathlib import Path

from portal_common.settings import get_settings

SMOKE = Path(__file__).resolve().parents[2] / "deploy/local/elasticsearch/smoke_test.py"


def test_the_search_server_passes_the_conformance_smoke_test(namespace):
    result = subprocess.run([sys.executable, str(SMOKE), get_settings().elasticsearch_url,
                             f"{namespace}_smoke"], capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SMOKE OK" in result.stdout
