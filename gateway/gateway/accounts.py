"""Staff accounts and access: argon2 password hashes, short-lived JWTs, refresh tokens, roles,
unit scope, and a login guard that locks out guessing.

Everything lives in the gateway's own database (``<namespace>_gateway``), so every gunicorn
worker and every replica agrees:

- ``users``: ``_id`` = username, ``password_hash`` (argon2id), ``roles``, ``units``,
  ``disabled``, ``token_version`` (bumped by every change that must end existing access:
  disabling, a new password, other roles or units).
- ``refresh_tokens``: ``_id`` = SHA-256 of an opaque random token (the token itself is never
  stored), its ``user``, ``family`` (one per login), ``expires_at``, ``used_at``, ``revoked``.
  A refresh token works once: using it gives a new pair and marks it used. Presenting a used
  one again means it was stolen (or replayed), so the whole family is revoked.
- ``login_failures``: failed logins counted per username (``u:<name>``) and per client address
  (``a:<address>``) in a window; past the threshold the key is locked for a while and login
  answers 429 with ``Retry-After`` whether or not the user exists.

Access tokens are HS256 JWTs signed with ``JWT_SECRET`` (or a key made once into
``var/jwt-secret``); the algorithm is pinned when verifying. They carry ``sub``, ``roles``,
``units`` and ``ver`` (the account's ``token_version``). Each staff request checks the account
(cached for ``ACCOUNT_CACHE_S`` seconds per worker): a disabled account or an older ``ver`` is
401, so disabling someone ends their access within that time.
"""
from __future__ import annotations

import functools
import hashlib
import math
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Iterable

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, g, request
from prometheus_client import Counter
from pymongo import ASCENDING, ReturnDocument
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from gateway.problems import problem

ROLES = ("admin", "editor", "moderator", "collaborator")
# roles whose work is limited to the units (union levels) listed on their account
UNIT_SCOPED_ROLES = ("moderator", "collaborator")
ALGORITHM = "HS256"
ISSUER = "union-portal"
_hasher = PasswordHasher()
# verifying against this keeps an unknown username as slow as a wrong password
_DUMMY_HASH = _hasher.hash("not-a-real-password")

LOGINS = Counter("portal_gateway_logins_total", "Login attempts", ["outcome"])
REFRESHES = Counter("portal_gateway_token_refreshes_total", "Refresh-token uses", ["outcome"])


class LockedOut(Exception):
    """Too many failed logins for this username or address: try again after ``retry_after``."""

    def __init__(self, retry_after: int):
        super().__init__(f"locked for {retry_after}s")
        self.retry_after = retry_after


class RefreshRefused(Exception):
    """The refresh token is unknown, expired, revoked or was already used."""


@dataclass(frozen=True)
class LoginPolicy:
    max_failures_per_user: int = 5
    max_failures_per_address: int = 20
    window_s: int = 900
    lockout_s: int = 900


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def public_user(user: dict[str, Any]) -> dict[str, Any]:
    """An account as the API shows it (never the password hash)."""
    def iso(value):
        return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z") if value else None

    created = user.get("created_at")
    if created is not None and created.tzinfo is None:
        created = created.replace(tzinfo=timezone.utc)
    updated = user.get("updated_at")
    if updated is not None and updated.tzinfo is None:
        updated = updated.replace(tzinfo=timezone.utc)
    return {"username": user["_id"], "roles": list(user.get("roles", [])),
            "units": list(user.get("units", [])), "disabled": bool(user.get("disabled")),
            "created_at": iso(created), "updated_at": iso(updated)}


class Accounts:
    def __init__(self, database: Database | Collection, signing_key: str, token_ttl_s: int, *,
                 refresh_ttl_s: int = 14 * 86400, cache_s: float = 5.0,
                 login_policy: LoginPolicy = LoginPolicy()):
        if isinstance(database, Collection):  # the users collection, as callers used to pass
            database = database.database
        self.users = database["users"]
        self.refresh_tokens = database["refresh_tokens"]
        self.login_failures = database["login_failures"]
        self.signing_key = signing_key
        self.token_ttl_s = token_ttl_s
        self.refresh_ttl_s = refresh_ttl_s
        self.cache_s = cache_s
        self.policy = login_policy
        self._states: dict[str, tuple[float, dict | None]] = {}
        self._states_lock = threading.Lock()
        self._indexes_ready = False

    def ensure_indexes(self) -> None:
        if self._indexes_ready:
            return
        self.refresh_tokens.create_index([("user", ASCENDING)])
        self.refresh_tokens.create_index([("family", ASCENDING)])
        self._indexes_ready = True

    # -- accounts --------------------------------------------------------------------------
    def ensure_user(self, username: str, password: str, roles: Iterable[str],
                    units: Iterable[str] = ()) -> bool:
        """Create the account if absent; returns True when it was created."""
        try:
            self.create_user(username, password, roles, units)
            return True
        except DuplicateKeyError:
            return False

    def create_user(self, username: str, password: str, roles: Iterable[str],
                    units: Iterable[str] = ()) -> dict[str, Any]:
        """Insert a new account; DuplicateKeyError if the username is taken."""
        now = now_utc()
        user = {"_id": username, "password_hash": _hasher.hash(password),
                "roles": sorted(set(roles)), "units": sorted(set(units)), "disabled": False,
                "token_version": 1, "created_at": now, "updated_at": now}
        self.users.insert_one(user)
        return user

    def get_user(self, username: str) -> dict[str, Any] | None:
        return self.users.find_one({"_id": username})

    def list_users(self, *, page: int, per_page: int, role: str | None = None,
                   disabled: bool | None = None) -> tuple[list[dict], int]:
        query: dict[str, Any] = {}
        if role is not None:
            query["roles"] = role
        if disabled is not None:
            query["disabled"] = disabled
        total = self.users.count_documents(query)
        users = list(self.users.find(query).sort("_id", ASCENDING)
                     .skip((page - 1) * per_page).limit(per_page))
        return users, total

    def update_user(self, username: str, *, roles: Iterable[str] | None = None,
                    units: Iterable[str] | None = None, disabled: bool | None = None,
                    password: str | None = None) -> dict[str, Any] | None:
        """Change an account. Every change ends the access tokens issued before it (their
        ``ver`` is now old); disabling or a new password also revokes every refresh token."""
        changes: dict[str, Any] = {"updated_at": now_utc()}
        if roles is not None:
            changes["roles"] = sorted(set(roles))
        if units is not None:
            changes["units"] = sorted(set(units))
        if disabled is not None:
            changes["disabled"] = disabled
        if password is not None:
            changes["password_hash"] = _hasher.hash(password)
        user = self.users.find_one_and_update(
            {"_id": username}, {"$set": changes, "$inc": {"token_version": 1}},
            return_document=ReturnDocument.AFTER)
        if user is not None and (disabled or password is not None):
            self.revoke_refresh_tokens(username)
        self.forget(username)
        return user

    def enabled_admins(self) -> int:
        return self.users.count_documents({"roles": "admin", "disabled": False})

    # -- the state a staff request is checked against ---------------------------------------
    def state(self, username: str) -> dict[str, Any] | None:
        """``{disabled, token_version}`` of an account, cached for ``cache_s`` seconds."""
        now = time.monotonic()
        cached = self._states.get(username)
        if cached is not None and now - cached[0] < self.cache_s:
            return cached[1]
        user = self.users.find_one({"_id": username}, {"disabled": 1, "token_version": 1})
        state = None if user is None else {"disabled": bool(user.get("disabled")),
                                           "token_version": int(user.get("token_version", 1))}
        with self._states_lock:
            if len(self._states) > 10_000:
                self._states.clear()
            self._states[username] = (now, state)
        return state

    def forget(self, username: str) -> None:
        with self._states_lock:
            self._states.pop(username, None)

    # -- login -------------------------------------------------------------------------------
    def _failure_keys(self, username: str, address: str) -> list[tuple[str, int]]:
        return [(f"u:{username.lower()}", self.policy.max_failures_per_user),
                (f"a:{address}", self.policy.max_failures_per_address)]

    def check_lockout(self, username: str, address: str) -> None:
        """Raise LockedOut while the username or the address is locked."""
        now = time.time()
        keys = [key for key, _ in self._failure_keys(username, address)]
        locked = [doc["locked_until"] for doc in self.login_failures.find({"_id": {"$in": keys}})
                  if doc.get("locked_until", 0) > now]
        if locked:
            raise LockedOut(max(1, math.ceil(max(locked) - now)))

    def record_failure(self, username: str, address: str) -> None:
        now = time.time()
        for key, limit in self._failure_keys(username, address):
            # a window that ended starts again from zero
            self.login_failures.update_one(
                {"_id": key, "window_start": {"$lt": now - self.policy.window_s}},
                {"$set": {"count": 0, "window_start": now}})
            doc = self.login_failures.find_one_and_update(
                {"_id": key}, {"$inc": {"count": 1}, "$setOnInsert": {"window_start": now}},
                upsert=True, return_document=ReturnDocument.AFTER)
            if doc["count"] >= limit:
                self.login_failures.update_one(
                    {"_id": key}, {"$set": {"locked_until": now + self.policy.lockout_s}})

    def clear_failures(self, username: str) -> None:
        # only the username's count: a success must not reset an address that guesses others
        self.login_failures.delete_one({"_id": f"u:{username.lower()}"})

    def authenticate(self, username: str, password: str, address: str = "") -> dict[str, Any] | None:
        """The account if the credentials are right and it is enabled, else None. Raises
        LockedOut (before checking anything) while the username or address is locked."""
        self.check_lockout(username, address)
        user = self.users.find_one({"_id": username})
        try:
            _hasher.verify(user["password_hash"] if user else _DUMMY_HASH, password)
            ok = user is not None and not user.get("disabled")
        except (VerificationError, InvalidHashError):
            ok = False
        if not ok:
            self.record_failure(username, address)
            LOGINS.labels("failed").inc()
            return None
        self.clear_failures(username)
        LOGINS.labels("ok").inc()
        if _hasher.check_needs_rehash(user["password_hash"]):
            self.users.update_one({"_id": username},
                                  {"$set": {"password_hash": _hasher.hash(password)}})
        return user

    # -- tokens ------------------------------------------------------------------------------
    def issue_token(self, user: dict[str, Any], family: str | None = None) -> dict[str, Any]:
        """An access token and a new refresh token (of ``family``, or of a new one)."""
        now = int(time.time())
        claims = {"sub": user["_id"], "roles": user.get("roles", []),
                  "units": user.get("units", []), "ver": int(user.get("token_version", 1)),
                  "iat": now, "nbf": now, "exp": now + self.token_ttl_s, "iss": ISSUER,
                  "jti": uuid.uuid4().hex}
        refresh = secrets.token_urlsafe(32)
        self.ensure_indexes()
        self.refresh_tokens.insert_one({
            "_id": _hash_token(refresh), "user": user["_id"],
            "family": family or uuid.uuid4().hex, "created_at": now_utc(),
            "expires_at": now + self.refresh_ttl_s, "used_at": None, "revoked": False})
        return {"access_token": jwt.encode(claims, self.signing_key, algorithm=ALGORITHM),
                "token_type": "Bearer", "expires_in": self.token_ttl_s,
                "refresh_token": refresh, "refresh_expires_in": self.refresh_ttl_s}

    def refresh(self, token: str) -> dict[str, Any]:
        """Trade a refresh token for a new pair (the old one is used up). A token used twice
        revokes its whole family. Raises RefreshRefused."""
        digest = _hash_token(token)
        now = time.time()
        claimed = self.refresh_tokens.find_one_and_update(
            {"_id": digest, "used_at": None, "revoked": False},
            {"$set": {"used_at": now}}, return_document=ReturnDocument.AFTER)
        if claimed is None:
            known = self.refresh_tokens.find_one({"_id": digest})
            if known is not None and known.get("used_at") is not None:
                # a rotated token came back: whoever holds the family now must log in again
                self.refresh_tokens.update_many({"family": known["family"]},
                                                {"$set": {"revoked": True}})
                REFRESHES.labels("reused").inc()
            else:
                REFRESHES.labels("unknown").inc()
            raise RefreshRefused()
        if claimed["expires_at"] <= now:
            REFRESHES.labels("expired").inc()
            raise RefreshRefused()
        user = self.users.find_one({"_id": claimed["user"]})
        if user is None or user.get("disabled"):
            REFRESHES.labels("disabled").inc()
            raise RefreshRefused()
        REFRESHES.labels("ok").inc()
        return self.issue_token(user, family=claimed["family"])

    def sign_out(self, token: str) -> bool:
        """Revoke the sign-in (the family) a refresh token belongs to; False if unknown."""
        known = self.refresh_tokens.find_one({"_id": _hash_token(token)}, {"family": 1})
        if known is None:
            return False
        self.refresh_tokens.update_many({"family": known["family"]}, {"$set": {"revoked": True}})
        return True

    def revoke_refresh_tokens(self, username: str) -> None:
        self.refresh_tokens.update_many({"user": username}, {"$set": {"revoked": True}})

    def verify_token(self, token: str) -> dict[str, Any]:
        return jwt.decode(token, self.signing_key, algorithms=[ALGORITHM], issuer=ISSUER,
                          options={"require": ["exp", "iat", "sub"]})


_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="union-portal"'}


def require_roles(*roles: str) -> Callable:
    """Allow the view only to a bearer of a valid token with one of ``roles``: 401 without a
    valid token (or for a disabled account, or a token older than the account's last change),
    403 with the wrong role. The claims are in ``g.user`` (``sub``, ``roles``, ``units``)."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {unknown}")

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            header = request.headers.get("Authorization", "")
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                return problem(401, "Unauthorized", "a bearer token is required",
                               headers=_CHALLENGE)
            accounts: Accounts = current_app.extensions["accounts"]
            try:
                claims = accounts.verify_token(token.strip())
            except jwt.PyJWTError:
                return problem(401, "Unauthorized", "the token is invalid or expired",
                               headers=_CHALLENGE)
            state = accounts.state(str(claims["sub"]))
            if (state is None or state["disabled"]
                    or claims.get("ver") != state["token_version"]):
                return problem(401, "Unauthorized",
                               "the token was revoked (the account changed); sign in again",
                               headers=_CHALLENGE)
            if not set(claims.get("roles", [])) & set(roles):
                return problem(403, "Forbidden",
                               f"this needs one of the roles: {', '.join(roles)}")
            g.user = claims
            return view(*args, **kwargs)

        wrapped.required_roles = roles
        return wrapped

    return decorator


def unit_scope() -> set[str] | None:
    """The units the current staff user may act on: None means every unit (admins, and staff
    without a unit-scoped role); for moderators and collaborators the account's units. Call it
    inside a view protected by ``require_roles``."""
    claims = g.user
    roles = set(claims.get("roles", []))
    if "admin" in roles or not roles & set(UNIT_SCOPED_ROLES):
        return None
    return set(claims.get("units", []))


def in_scope(unit: str | None) -> bool:
    """Whether the current staff user may act on something belonging to ``unit``."""
    scope = unit_scope()
    return scope is None or (unit is not None and unit in scope)


PASSWORD_MIN_LENGTH = 12
PASSWORD_MAX_LENGTH = 200


def password_problem(password: str, username: str | None = None) -> str | None:
    """Why ``password`` is not acceptable, or None. At least 12 characters (a passphrase is
    best), not mostly one character, and not containing the username."""
    if len(password) < PASSWORD_MIN_LENGTH:
        return f"must have at least {PASSWORD_MIN_LENGTH} characters"
    if len(password) > PASSWORD_MAX_LENGTH:
        return f"must have at most {PASSWORD_MAX_LENGTH} characters"
    if len(set(password)) < 5:
        return "must use at least 5 different characters"
    if username and len(username) >= 3 and username.lower() in password.lower():
        return "must not contain the username"
    return None
