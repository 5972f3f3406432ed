"""``POST /api/v1/auth/token``: username and password for a short-lived access token."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from pydantic import BaseModel, ConfigDict, Field

from gateway.contract import operation
from gateway.inputs import json_body
from gateway.problems import problem

bp = Blueprint("auth", __name__, url_prefix="/api/v1/auth")


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=200)


class Token(BaseModel):
    access_token: str
    token_type: str = Field(examples=["Bearer"])
    expires_in: int = Field(examples=[900])


@bp.post("/token")
@operation(tags=["auth"], body=TokenRequest, response=Token, errors=(401,), calls_services=False)
def issue_token():
    """``{"username", "password"}`` → ``{access_token, token_type, expires_in}``; 401 when the
    credentials are wrong or the account is disabled (the same answer for both)."""
    body = json_body(TokenRequest)
    accounts = current_app.extensions["accounts"]
    user = accounts.authenticate(body.username, body.password)
    if user is None:
        return problem(401, "Unauthorized", "wrong username or password")
    return jsonify(accounts.issue_token(user))
