"""Property-based fuzzing of the served OpenAPI document (schemathesis) against the running
gateway: for every operation a bounded number of generated requests — valid ones and, as
negative cases, ones that break the schema — and no answer may be a 5xx, break its declared
schema, status code or content type. Staff operations are called with an admin token.

Each request comes from an address of its own (``X-Forwarded-For``; the platform trusts one
proxy hop) so that sign-in lockouts and rate limits meant for abusers do not stop the fuzzer.
The totals are printed (run with ``-s`` to see them).
"""
import collections
import random
import time

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance,
                                               response_schema_conformance,
                                               status_code_conformance)

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance,
          content_type_conformance]
EXAMPLES = {GenerationMode.POSITIVE: 8, GenerationMode.NEGATIVE: 4}


def _address() -> str:
    return f"10.{random.randint(0, 255)}.{random.randint(0, 255)}.{random.randint(1, 254)}"


def _visitors_total(url):
    return requests.get(f"{url}/api/v1/analytics/visitors", timeout=10).json()["total"]


def test_no_operation_answers_5xx_or_breaks_its_documented_contract(platform, admin_token):
    schema = schemathesis.openapi.from_url(f"{platform.url}/api/v1/openapi.json", timeout=10)
    session = requests.Session()
    totals = {"operations": 0, "cases": 0, "failures": []}
    statuses = collections.Counter()
    started = time.monotonic()
    for result in schema.get_all_operations():
        operation = result.ok()
        secured = bool(operation.definition.raw.get("security"))
        totals["operations"] += 1
        has_input = bool(operation.definition.raw.get("parameters")
                         or operation.definition.raw.get("requestBody"))
        for mode, examples in EXAMPLES.items():
            if mode is GenerationMode.NEGATIVE and not has_input:
                continue  # nothing to break
            failures = []

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=examples, deadline=None, database=None,
                      phases=[Phase.explicit, Phase.generate],
                      suppress_health_check=list(HealthCheck))
            def fuzz(case):
                totals["cases"] += 1
                headers = {"X-Forwarded-For": _address()}
                if secured:
                    headers["Authorization"] = f"Bearer {admin_token}"
                try:
                    response = case.call_and_validate(base_url=platform.url, session=session,
                                                      headers=headers, checks=CHECKS, timeout=15)
                    statuses[response.status_code // 100 * 100] += 1
                except Exception as exc:  # collect every finding instead of stopping
                    failures.append(f"{operation.label} [{mode.value}]: "
                                    f"{type(exc).__name__}: {str(exc)[:1500]}")

            try:
                fuzz()
            except Unsatisfiable:  # nothing to break: an operation without any input
                assert mode is GenerationMode.NEGATIVE, operation.label
            totals["failures"].extend(failures[:3])
    elapsed = time.monotonic() - started
    print(f"\nschemathesis: {totals['operations']} operations, {totals['cases']} cases, "
          f"{len(totals['failures'])} failures, {elapsed:.1f}s; answers by class {dict(statuses)}")
    assert totals["operations"] >= 15 and totals["cases"] >= totals["operations"] * 4
    assert statuses[200] and statuses[400]  # both accepted and refused requests were made
    assert totals["failures"] == [], "\n\n".join(totals["failures"])


@pytest.fixture(autouse=True)
def _let_page_views_settle(platform):
    """Fuzzed beacons are counted asynchronously: wait until the counter stops moving, so that
    a later test reading it sees only its own."""
    yield
    previous, stable_since = None, time.monotonic()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        current = _visitors_total(platform.url)
        if current != previous:
            previous, stable_since = current, time.monotonic()
        elif time.monotonic() - stable_since > 3:
            return
        time.sleep(0.5)
