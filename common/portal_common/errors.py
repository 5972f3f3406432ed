"""Typed errors that services raise and the gateway turns into HTTP problem documents.

Nameko serialises an exception raised by an RPC method and, when the class is registered with
``deserialize_to_instance``, the caller gets an instance of the same class back instead of a
generic ``RemoteError``. Each class carries its HTTP status so the mapping lives here once.
"""
from __future__ import annotations

from typing import Any

from nameko.exceptions import deserialize_to_instance


class PortalError(Exception):
    """Base of the domain errors; ``detail`` is safe to show to a client."""

    status = 500
    title = "Internal error"

    def __init__(self, detail: str = "", errors: list[dict[str, Any]] | None = None):
        super().__init__(detail, errors or [])
        self.detail = detail
        self.errors = errors or []

    def __str__(self) -> str:
        return self.detail


@deserialize_to_instance
class NotFound(PortalError):
    status = 404
    title = "Not found"


@deserialize_to_instance
class Invalid(PortalError):
    """Input that breaks a rule; ``errors`` lists ``{"field", "message"}`` per bad field."""

    status = 422
    title = "Invalid input"


@deserialize_to_instance
class Conflict(PortalError):
    status = 409
    title = "Conflict"


@deserialize_to_instance
class Forbidden(PortalError):
    status = 403
    title = "Forbidden"


@deserialize_to_instance
class TooLarge(PortalError):
    """An upload or a body over its size limit."""

    status = 413
    title = "Too large"


@deserialize_to_instance
class UnsupportedMedia(PortalError):
    """An upload whose content is not of an accepted type (checked by decoding it)."""

    status = 415
    title = "Unsupported media type"


@deserialize_to_instance
class Unavailable(PortalError):
    """A backend the service needs (database, search engine) does not answer."""

    status = 503
    title = "Service unavailable"


def field_errors_from_pydantic(exc) -> list[dict[str, str]]:
    """Turn a pydantic ``ValidationError`` into the ``errors`` list of a problem document."""
    out = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err.get("loc", ()) if p != "__root__") or "body"
        out.append({"field": loc, "message": err.get("msg", "invalid")})
    return out


def validated(model, payload):
    """``model.model_validate(payload)``, raising ``Invalid`` with one entry per bad field."""
    from pydantic import ValidationError

    try:
        return model.model_validate(payload if payload is not None else {})
    except ValidationError as exc:
        raise Invalid("invalid input", field_errors_from_pydantic(exc)) from None


def _backend_unavailable() -> tuple[type[BaseException], ...]:
    """Exceptions meaning "a backend does not answer right now" (worth waiting out)."""
    from pymongo.errors import ConnectionFailure

    errors: list[type[BaseException]] = [ConnectionFailure, Unavailable]
    try:  # only the services that use Elasticsearch have its transport installed
        from elastic_transport import ConnectionError as EsConnectionError
        from elastic_transport import ConnectionTimeout as EsConnectionTimeout
        errors += [EsConnectionError, EsConnectionTimeout]
    except ImportError:
        pass
    return tuple(errors)


BACKEND_UNAVAILABLE = _backend_unavailable()
