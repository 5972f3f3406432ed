"""``portal-nameko``: Nameko's own command line, started the way our services need.

    portal-nameko run --config services/news/config.yaml news.service:NewsService

Eventlet's green DNS resolver names getaddrinfo's second keyword ``socktype``, while PyMongo
4.15 calls ``getaddrinfo(..., type=SOCK_STREAM)``: every MongoDB connection fails with a
TypeError under the green resolver. ``EVENTLET_NO_GREENDNS`` must be set before eventlet is
imported, so it is set here, before Nameko is. Name resolution then uses the system resolver,
which only runs when a new connection is opened (the client pools them).
"""
from __future__ import annotations

import os


def main() -> None:
    os.environ.setdefault("EVENTLET_NO_GREENDNS", "yes")
    from nameko.cli.main import main as nameko_main

    nameko_main()


if __name__ == "__main__":
    main()
