"""Shared building blocks of the union-portal processes.

Each module here is one contract or one pattern that several services need, kept in one place:
``settings`` (configuration from the environment), ``errors`` (typed errors that cross RPC),
``events`` (envelope, catalogue, publisher, outbox relay, idempotent consumers), ``mongo`` and
``observability`` (Nameko dependency providers), ``logs`` (JSON logging with a correlation id).
"""
