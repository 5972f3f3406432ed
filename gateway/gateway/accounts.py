"""Staff accounts and access tokens: argon2 password hashes, short-lived JWTs, role checks.

Accounts live in the gateway's own database (``<namespace>_gateway.users``). Tokens are HS256
JWTs signed with ``JWT_SECRET`` (or a key made once into ``var/jwt-secret``); the algorithm is
pinned when verifying so a token cannot choose its own.
"""
from __future__ import annotations

import functools
import time
from datetime import datetime, timezone
from typing import Any, Callable, Iterable

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, g, request
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from gateway.problems import problem

ROLES = ("admin", "editor", "moderator", "collaborator")
ALGORITHM = "HS256"
ISSUER = "union-portal"
_hasher = PasswordHasher()
# verifying against this keeps an unknown username as slow as a wrong password
_DUMMY_HASH = _hasher.hash("not-a-real-password")


class Accounts:
    def __init__(self, users: Collection, signing_key: str, token_ttl_s: int):
        self.users = users
        self.signing_key = signing_key
        self.token_ttl_s = token_ttl_s

    def ensure_user(self, username: str, password: str, roles: Iterable[str],
                    units: Iterable[str] = ()) -> bool:
        """Create the account if absent; returns True when it was created."""
        try:
            self.users.insert_one({
                "_id": username, "password_hash": _hasher.hash(password),
                "roles": sorted(set(roles)), "units": sorted(set(units)), "disabled": False,
                "created_at": datetime.now(timezone.utc)})
            return True
        except DuplicateKeyError:
            return False

    def authenticate(self, username: str, password: str) -> dict[str, Any] | None:
        user = self.users.find_one({"_id": username})
        try:
            _hasher.verify(user["password_hash"] if user else _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            return None
        if not user or user.get("disabled"):
            return None
        return user

    def issue_token(self, user: dict[str, Any]) -> dict[str, Any]:
        now = int(time.time())
        claims = {"sub": user["_id"], "roles": user.get("roles", []),
                  "units": user.get("units", []), "iat": now, "nbf": now,
                  "exp": now + self.token_ttl_s, "iss": ISSUER}
        return {"access_token": jwt.encode(claims, self.signing_key, algorithm=ALGORITHM),
                "token_type": "Bearer", "expires_in": self.token_ttl_s}

    def verify_token(self, token: str) -> dict[str, Any]:
        return jwt.decode(token, self.signing_key, algorithms=[ALGORITHM], issuer=ISSUER,
                          options={"require": ["exp", "iat", "sub"]})


def require_roles(*roles: str) -> Callable:
    """Allow the view only to a bearer of a valid token with one of ``roles``: 401 without a
    valid token, 403 with the wrong role."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {unknown}")

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            header = request.headers.get("Authorization", "")
            scheme, _, token = header.partition(" ")
            challenge = {"WWW-Authenticate": 'Bearer realm="union-portal"'}
            if scheme.lower() != "bearer" or not token:
                return problem(401, "Unauthorized", "a bearer token is required",
                               headers=challenge)
            try:
                claims = current_app.extensions["accounts"].verify_token(token.strip())
            except jwt.PyJWTError:
                return problem(401, "Unauthorized", "the token is invalid or expired",
                               headers=challenge)
            if not set(claims.get("roles", [])) & set(roles):
                return problem(403, "Forbidden",
                               f"this needs one of the roles: {', '.join(roles)}")
            g.user = claims
            return view(*args, **kwargs)

        wrapped.required_roles = roles
        return wrapped

    return decorator
