"""Catch-up pacing: scan at start, on every tick after a failure, otherwise at the interval."""
from portal_common.pacing import Pace


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_the_first_tick_scans_then_the_next_scan_waits_for_the_interval():
    clock = Clock()
    pace = Pace(300, clock)
    assert pace.due()
    clock.now += 5
    assert not pace.due()
    clock.now += 294
    assert not pace.due()
    clock.now += 1
    assert pace.due()
    assert not pace.due()


def test_a_known_failure_makes_the_next_tick_scan_once():
    clock = Clock()
    pace = Pace(300, clock)
    assert pace.due()
    pace.soon()
    clock.now += 5
    assert pace.due()
    clock.now += 5
    assert not pace.due()  # nothing new was reported: back to the interval


def test_an_urgent_caller_scans_at_once_and_restarts_the_interval():
    clock = Clock()
    pace = Pace(300, clock)
    assert pace.due()
    clock.now += 100
    assert pace.due(urgent=True)
    clock.now += 250
    assert not pace.due()
    clock.now += 50
    assert pace.due()
