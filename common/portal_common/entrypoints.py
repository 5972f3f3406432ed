"""Nameko entrypoints with the platform's conventions.

``rpc`` is Nameko's, with the domain errors (``PortalError``: not found, invalid, conflict,
forbidden) declared as expected: they are answers to the caller, logged as warnings, not as
failures of the service.
"""
from __future__ import annotations

from nameko.rpc import rpc as _nameko_rpc

from portal_common.errors import PortalError


def rpc(fn=None, *, expected_exceptions=(PortalError,), **kwargs):
    decorator = _nameko_rpc(expected_exceptions=expected_exceptions, **kwargs)
    return decorator(fn) if fn is not None else decorator
