"""Analytics rules that need no server: pseudonyms, bots, percentages, summary ranges."""
from datetime import date

import pytest

from analytics.polls import percentages
from analytics.visits import label_key, referrer_host
from gateway.visitor_ids import is_bot, visitor_hash, voter_id
from portal_common.errors import Invalid, validated
from portal_common.schemas.analytics import PollDraft, SummaryRange

PHONE = ("Mozilla/5.0 (Linux; Android 13; SM-A145F) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/120.0.0.0 Mobile Safari/537.36")


def test_the_visitor_id_depends_on_the_salt_of_the_day_and_never_shows_the_address():
    today = visitor_hash("salt-of-today", "10.0.0.1", PHONE)
    assert today == visitor_hash("salt-of-today", "10.0.0.1", PHONE)
    assert today != visitor_hash("salt-of-tomorrow", "10.0.0.1", PHONE)
    assert today != visitor_hash("salt-of-today", "10.0.0.2", PHONE)
    assert len(today) == 32 and "10.0.0.1" not in today


def test_a_voter_has_one_pseudonym_per_poll_that_does_not_change_with_the_day():
    first = voter_id("key", "poll-1", "10.0.0.1", PHONE)
    assert first == voter_id("key", "poll-1", "10.0.0.1", PHONE)
    assert first != voter_id("key", "poll-2", "10.0.0.1", PHONE)
    assert len(first) == 32


@pytest.mark.parametrize("user_agent, bot", [
    (PHONE, False),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0", False),
    ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", True),
    ("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", True),
    ("python-requests/2.32.3", True),
    ("curl/8.5.0", True),
    ("", True),
])
def test_bots_are_recognised_by_their_user_agent(user_agent, bot):
    assert is_bot(user_agent) is bot


@pytest.mark.parametrize("counts, shares", [
    ([1, 1, 1], [33.4, 33.3, 33.3]),
    ([2, 1], [66.7, 33.3]),
    ([0, 0], [0.0, 0.0]),
    ([5, 0], [100.0, 0.0]),
])
def test_percentages_add_up_to_exactly_one_hundred(counts, shares):
    assert percentages(counts) == shares


def test_referrers_are_kept_as_hosts_only():
    assert referrer_host("https://www.google.com/search?q=ho+ten+so+dien+thoai") == "google.com"
    assert referrer_host(None) == "(direct)" and referrer_host("not a url") == "(direct)"
    assert label_key("path", "/a.b") != label_key("referrer", "/a.b")
    assert "." not in label_key("path", "/a.b")


def test_a_poll_needs_distinct_options_and_a_window_that_closes_after_it_opens():
    with pytest.raises(Invalid) as bad:
        validated(PollDraft, {"question": "Câu hỏi?", "options": ["A", "a"]})
    assert bad.value.errors[0]["field"] == "options"
    with pytest.raises(Invalid):
        validated(PollDraft, {"question": "Câu hỏi?", "options": ["A", "B"],
                              "opens_at": "2026-12-02T00:00:00Z",
                              "closes_at": "2026-12-01T00:00:00Z"})
    with pytest.raises(Invalid):  # a time without a zone is ambiguous
        validated(PollDraft, {"question": "Câu hỏi?", "options": ["A", "B"],
                              "closes_at": "2026-12-01T00:00:00"})


def test_a_summary_range_is_ordered_and_at_most_a_year_and_a_day():
    ok = validated(SummaryRange, {"from": "2026-11-01", "to": "2026-11-30"})
    assert (ok.from_, ok.to) == (date(2026, 11, 1), date(2026, 11, 30))
    for bad in ({"from": "2026-11-30", "to": "2026-11-01"},
                {"from": "2025-01-01", "to": "2026-11-30"}, {"from": "2026-13-01", "to": "x"}):
        with pytest.raises(Invalid):
            validated(SummaryRange, bad)
