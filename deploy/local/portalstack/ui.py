"""Progress output and user-facing errors.

Every step prints one line, prefixed by the time since the command started, so a first start that
takes minutes shows what it is doing: ``[ 12.4s] rabbitmq-server installed (apt) in 10.5s``.
"""

import sys
import threading
import time
from collections import deque
from pathlib import Path

_STARTED = time.monotonic()
_PRINT_LOCK = threading.Lock()

# Set when the user presses Ctrl-C: the waits running in worker threads give up at their next poll.
cancelled = threading.Event()


def say(message: str) -> None:
    with _PRINT_LOCK:
        print(f"[{time.monotonic() - _STARTED:6.1f}s] {message}", flush=True)


def took(since: float) -> str:
    return f"{time.monotonic() - since:.1f}s"


def warn(message: str) -> None:
    say(f"WARNING: {message}")


class Failure(Exception):
    """Something the user has to act on. The message names what failed; ``details`` is e.g. a log tail."""

    def __init__(self, message: str, details: str = ""):
        super().__init__(message)
        self.details = details


class Cancelled(Exception):
    """Raised inside a wait when the user pressed Ctrl-C."""


def tail(path: Path, lines: int = 30) -> str:
    """The last ``lines`` lines of a log file, headed by its name, or a note that it does not exist."""
    try:
        with open(path, "r", encoding="utf-8", errors="replace") as handle:
            last = deque(handle, maxlen=lines)
    except OSError:
        return f"(no log at {path})"
    # Only the latest run: each start appends a "===== <time> started by make" header.
    headers = [i for i, line in enumerate(last) if line.startswith("===== ")]
    if headers:
        last = list(last)[headers[-1]:]
    from .paths import rel
    body = "".join(last).rstrip("\n") or "(empty)"
    return f"--- last {lines} lines of {rel(path)} ---\n{body}\n---"


def report_failure(failure: Failure) -> None:
    with _PRINT_LOCK:
        print(f"ERROR: {failure}", file=sys.stderr, flush=True)
        if failure.details:
            print(failure.details, file=sys.stderr, flush=True)
