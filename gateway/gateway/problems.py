"""Errors as ``application/problem+json`` (RFC 9457), and the one table mapping failures to HTTP.

Every error leaves the gateway as a problem document: validation (422, with one entry per
field), remote domain errors (their own status), an unreachable service or broker (503), a slow
one (504), and anything unexpected (500, logged with its correlation id, no stack trace sent).
"""
from __future__ import annotations

import logging
import socket

from flask import Flask, Response, json, request
from nameko.exceptions import RemoteError, RpcTimeout, UnknownService
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from portal_common.errors import PortalError, field_errors_from_pydantic
from portal_common.logs import current_correlation_id

log = logging.getLogger(__name__)

PROBLEM = "application/problem+json"

# exception type names of backends that a service reports through a RemoteError
UNAVAILABLE_REMOTE = {
    "ServerSelectionTimeoutError", "AutoReconnect", "NetworkTimeout", "ConnectionFailure",
    "ConnectionError", "ConnectionTimeout", "TransportError", "Unavailable",
}


class ServiceUnavailable(Exception):
    """A service, the broker or a backend cannot be reached now."""

    def __init__(self, detail: str, retry_after: int = 5):
        super().__init__(detail)
        self.detail, self.retry_after = detail, retry_after


class ServiceTimeout(Exception):
    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


def problem(status: int, title: str, detail: str = "", *, errors=None, headers=None,
            type_: str = "about:blank") -> Response:
    body = {"type": type_, "title": title, "status": status, "detail": detail,
            "instance": request.path if request else None}
    if errors:
        body["errors"] = errors
    cid = current_correlation_id()
    if cid:
        body["request_id"] = cid
    response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM)
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(PortalError)
    def _domain(exc: PortalError):
        return problem(exc.status, exc.title, exc.detail, errors=exc.errors or None)

    @app.errorhandler(ValidationError)
    def _validation(exc: ValidationError):
        return problem(422, "Invalid input", "the request breaks the schema",
                       errors=field_errors_from_pydantic(exc))

    @app.errorhandler(ServiceUnavailable)
    def _unavailable(exc: ServiceUnavailable):
        return problem(503, "Service unavailable", exc.detail,
                       headers={"Retry-After": str(exc.retry_after)})

    @app.errorhandler(ServiceTimeout)
    def _timeout(exc: ServiceTimeout):
        return problem(504, "Service timeout", exc.detail)

    @app.errorhandler(RemoteError)
    def _remote(exc: RemoteError):
        if exc.exc_type in UNAVAILABLE_REMOTE:
            return problem(503, "Service unavailable",
                           "a backend of the service does not answer; try again shortly",
                           headers={"Retry-After": "5"})
        log.error("unexpected remote error %s: %s", exc.exc_type, exc.value)
        return problem(500, "Internal error", "the service failed; the error was logged")

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        headers = {}
        detail = exc.description or ""
        if exc.code == 405 and exc.valid_methods:
            headers["Allow"] = ", ".join(exc.valid_methods)
        elif exc.code == 413:
            detail = f"the body may be at most {app.config['MAX_CONTENT_LENGTH']} bytes"
        elif exc.code == 429:
            limits = app.extensions.get("rate_limits")
            headers["Retry-After"] = str(limits.retry_after() if limits else 60)
            detail = f"rate limit {detail} exceeded; try again after Retry-After seconds"
        elif exc.code and exc.code >= 500:
            log.error("%s on %s %s: %s", exc.code, request.method, request.path, detail)
            detail = "an unexpected error was logged"
        return problem(exc.code or 500, exc.name, detail, headers=headers)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return problem(500, "Internal error", "an unexpected error was logged")


def translate_rpc_failure(exc: BaseException, service: str) -> Exception | None:
    """Map a transport failure of an RPC call to the gateway's own exception, or None."""
    if isinstance(exc, RpcTimeout):
        return ServiceTimeout(f"the {service} service did not answer in time")
    if isinstance(exc, UnknownService):
        return ServiceUnavailable(f"the {service} service is not running")
    if isinstance(exc, (ConnectionError, socket.error, OSError)):
        return ServiceUnavailable("the message broker cannot be reached")
    return None
