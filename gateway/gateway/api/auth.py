"""Signing in: ``POST /api/v1/auth/token`` (username and password), ``POST /api/v1/auth/refresh``
(a refresh token for a new pair), ``POST /api/v1/auth/logout`` (end a sign-in),
``GET /api/v1/auth/me`` (who the token belongs to)."""
from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify
from pydantic import BaseModel, ConfigDict, Field

from gateway import limits
from gateway.accounts import ROLES, LockedOut, RefreshRefused, require_roles
from gateway.contract import operation
from gateway.inputs import json_body
from gateway.limits import client_address
from gateway.problems import problem

bp = Blueprint("auth", __name__, url_prefix="/api/v1/auth")


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"username": "bientap.hoa", "password": "mot-cau-mat-khau-dai"}]})

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class RefreshRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: str = Field(min_length=1, max_length=200,
                               examples=["3q2-7wX0b1n8Jm0yF4kz3fQyJp9zN1t6m5H2c8e0aQw"])


class Token(BaseModel):
    access_token: str = Field(description="a JWT (HS256); send it as `Authorization: Bearer …`")
    token_type: str = Field(examples=["Bearer"])
    expires_in: int = Field(examples=[900], description="seconds the access token is valid")
    refresh_token: str = Field(description="opaque; trade it once at /api/v1/auth/refresh")
    refresh_expires_in: int = Field(examples=[1209600])


class Me(BaseModel):
    username: str = Field(examples=["bientap.hoa"])
    roles: list[str] = Field(examples=[["editor"]])
    units: list[str] = Field(examples=[[]])
    expires_at: int = Field(description="when the access token expires (Unix time)")


@bp.post("/token")
@operation(tags=["auth"], body=TokenRequest, response=Token, errors=(401,), calls_services=False)
@limits.login
def issue_token():
    """``{"username", "password"}`` → an access token and a refresh token.

    401 when the credentials are wrong or the account is disabled (the same answer for both).
    After repeated failures for a username or from an address, sign-in is locked for a while:
    429 with ``Retry-After``, whether or not the username exists."""
    body = json_body(TokenRequest)
    accounts = current_app.extensions["accounts"]
    try:
        user = accounts.authenticate(body.username, body.password, client_address())
    except LockedOut as locked:
        return problem(429, "Too Many Requests",
                       "too many failed sign-ins; try again after Retry-After seconds",
                       headers={"Retry-After": str(locked.retry_after)})
    if user is None:
        return problem(401, "Unauthorized", "wrong username or password")
    return jsonify(accounts.issue_token(user))


@bp.post("/refresh")
@operation(tags=["auth"], body=RefreshRequest, response=Token, errors=(401,),
           calls_services=False)
@limits.login
def refresh_token():
    """``{"refresh_token"}`` → a new access token and a new refresh token.

    A refresh token works once. 401 when it is unknown, expired or revoked (disabled account,
    new password), or was already used — a used token coming back revokes every token of its
    sign-in, so a stolen one is worthless once its owner has used it."""
    body = json_body(RefreshRequest)
    try:
        return jsonify(current_app.extensions["accounts"].refresh(body.refresh_token))
    except RefreshRefused:
        return problem(401, "Unauthorized", "the refresh token is not valid; sign in again")


@bp.post("/logout")
@operation(tags=["auth"], body=RefreshRequest, status=204, calls_services=False)
@limits.login
def sign_out():
    """``{"refresh_token"}``: end this sign-in; its refresh tokens stop working (204, also when
    the token was unknown or already revoked). The short-lived access token expires by itself."""
    current_app.extensions["accounts"].sign_out(json_body(RefreshRequest).refresh_token)
    return "", 204


@bp.get("/me")
@operation(tags=["auth"], response=Me, calls_services=False)
@require_roles(*ROLES)
def me():
    """The signed-in staff user: ``{username, roles, units, expires_at}``."""
    claims = g.user
    return jsonify(username=claims["sub"], roles=claims.get("roles", []),
                   units=claims.get("units", []), expires_at=claims["exp"])
