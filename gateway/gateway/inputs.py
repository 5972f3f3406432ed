"""Reading request input safely: JSON only, bounded, no MongoDB operators, typed by pydantic."""
from __future__ import annotations

from typing import Any, TypeVar

from flask import request
from pydantic import BaseModel

from portal_common.errors import Invalid, PortalError, validated

M = TypeVar("M", bound=BaseModel)


class UnsupportedMediaType(PortalError):
    status = 415
    title = "Unsupported media type"


class BadRequest(PortalError):
    status = 400
    title = "Bad request"


def _operator_keys(value: Any, path: str = "") -> list[str]:
    """Paths of keys that MongoDB would read as operators or nested fields ($x, a.b)."""
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}" if path else str(key)
            if str(key).startswith("$") or "." in str(key):
                found.append(here)
            found.extend(_operator_keys(item, here))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(_operator_keys(item, f"{path}[{index}]"))
    return found


def json_body(model: type[M]) -> M:
    """The request's JSON body as ``model``; 415 if not JSON, 400 if unparsable, 422 if invalid."""
    if not request.is_json:
        raise UnsupportedMediaType("send the body as application/json")
    payload = request.get_json(silent=True)
    if payload is None:
        raise BadRequest("the body is not valid JSON")
    if not isinstance(payload, dict):
        raise Invalid("invalid input", [{"field": "body", "message": "must be a JSON object"}])
    bad = _operator_keys(payload)
    if bad:
        raise Invalid("invalid input", [{"field": p, "message": "keys may not start with '$' or contain '.'"}
                                        for p in bad[:20]])
    return validated(model, payload)


def query_args(model: type[M]) -> M:
    """Query-string parameters as ``model`` (unknown parameters are refused, 422)."""
    return validated(model, request.args.to_dict())
