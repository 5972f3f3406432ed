"""Starting a service while a backend is still down.

A service should start, say "not ready" on /readyz and answer 503, rather than crash-loop
because its database or search engine is late; what it must prepare on the backend (indexes,
aliases) is done in the background as soon as the backend answers.
"""
from __future__ import annotations

import logging
from typing import Callable

import eventlet

log = logging.getLogger(__name__)

MAX_DELAY_S = 30.0


def prepare_in_background(container, action: Callable[[], None], *, what: str,
                          retry_on: tuple[type[BaseException], ...]) -> None:
    """Run ``action`` in a thread the container manages, retrying with backoff until it works."""

    def run():
        delay = 0.5
        while True:
            try:
                action()
                return
            except retry_on as exc:
                log.warning("%s of %s not done yet (%s); retrying in %.0fs", what,
                            container.service_name, type(exc).__name__, delay)
                eventlet.sleep(delay)
                delay = min(delay * 2, MAX_DELAY_S)

    container.spawn_managed_thread(run, identifier=f"prepare {what}")
