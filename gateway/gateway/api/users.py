"""Staff accounts, managed by admins: ``/api/v1/users``.

An account has a ``username``, ``roles`` (``admin``, ``editor``, ``moderator`` — the feedback
officers —, ``collaborator``) and ``units``: the union levels (district LĐLĐ, sector union,
grassroots union) a moderator or collaborator works for. Admins create accounts, change roles
and units, reset passwords and disable accounts; there is no deletion (an account's name stays
on what it wrote). Any change ends the access tokens issued before it; disabling and a new
password also revoke the refresh tokens, so a disabled user is out within ``ACCOUNT_CACHE_S``.
"""
from __future__ import annotations

from typing import Literal

from flask import Blueprint, current_app, g, jsonify, url_for
from pydantic import (BaseModel, ConfigDict, Field, ValidationInfo, field_validator,
                      model_validator)
from pymongo.errors import DuplicateKeyError
from typing_extensions import Annotated

from gateway.accounts import (PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, UNIT_SCOPED_ROLES,
                              Accounts, password_problem, public_user, require_roles)
from gateway.contract import ListPage, operation
from gateway.inputs import json_body, query_args
from portal_common.errors import Conflict, Invalid, NotFound
from portal_common.schemas import Page

bp = Blueprint("users", __name__, url_prefix="/api/v1/users")

Role = Literal["admin", "editor", "moderator", "collaborator"]
Unit = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,79}$",
                            examples=["ldld-huyen-bat-xat"])]
Username = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]{2,63}$",
                                examples=["ctv.nguyen-van-a"],
                                description="3–64 characters: a–z, 0–9, `.`, `_`, `-`")]
Password = Annotated[str, Field(min_length=PASSWORD_MIN_LENGTH, max_length=PASSWORD_MAX_LENGTH,
                                description="at least 12 characters; a passphrase is best")]


def _scope_problem(roles, units) -> str | None:
    if set(roles) & set(UNIT_SCOPED_ROLES) and "admin" not in roles and not units:
        return "moderators and collaborators need at least one unit"
    return None


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "username": "ctv.nguyen-van-a", "password": "nam-bat-du-luan-co-so-2024",
        "roles": ["collaborator"], "units": ["ldld-huyen-bat-xat"]}]})

    username: Username
    password: Password
    roles: list[Role] = Field(min_length=1, max_length=4)
    units: list[Unit] = Field(default=[], max_length=50, validate_default=True)

    @field_validator("password")
    @classmethod
    def _policy(cls, password: str, info: ValidationInfo) -> str:
        problem = password_problem(password, info.data.get("username"))
        if problem:
            raise ValueError(f"password {problem}")
        return password

    @field_validator("units")
    @classmethod
    def _scoped(cls, units: list[str], info: ValidationInfo) -> list[str]:
        problem = _scope_problem(info.data.get("roles") or [], units)
        if problem:
            raise ValueError(problem)
        return units


class UserPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"disabled": True}, {"roles": ["moderator"], "units": ["cong-doan-nganh-y-te"]},
        {"password": "mot-mat-khau-moi-that-dai"}]})

    roles: list[Role] | None = Field(None, min_length=1, max_length=4)
    units: list[Unit] | None = Field(None, max_length=50)
    disabled: bool | None = None
    password: Password | None = None

    @model_validator(mode="after")
    def _something(self):
        if not self.model_fields_set or all(
                getattr(self, name) is None for name in self.model_fields_set):
            raise ValueError("give at least one of roles, units, disabled, password")
        return self


class User(BaseModel):
    username: str = Field(examples=["ctv.nguyen-van-a"])
    roles: list[Role] = Field(examples=[["collaborator"]])
    units: list[str] = Field(examples=[["ldld-huyen-bat-xat"]])
    disabled: bool = False
    created_at: str | None = Field(None, examples=["2024-03-01T08:00:00Z"])
    updated_at: str | None = Field(None, examples=["2024-03-02T08:00:00Z"])


class UsersQuery(Page):
    role: Role | None = None
    disabled: bool | None = None
    per_page: int = Field(50, ge=1, le=100)


def _accounts() -> Accounts:
    return current_app.extensions["accounts"]


@bp.post("")
@operation(tags=["users"], body=UserIn, response=User, status=201, errors=(409,),
           calls_services=False)
@require_roles("admin")
def create_user():
    """Create a staff account (admin): 201 with the account; 409 if the username is taken.

    The password needs at least 12 characters and must not contain the username; moderators
    and collaborators need at least one unit."""
    body = json_body(UserIn)
    try:
        user = _accounts().create_user(body.username, body.password, body.roles, body.units)
    except DuplicateKeyError:
        raise Conflict(f"the username {body.username} is taken") from None
    response = jsonify(public_user(user))
    response.status_code = 201
    response.headers["Location"] = url_for("users.get_user", username=body.username)
    return response


@bp.get("")
@operation(tags=["users"], query=UsersQuery, response=ListPage[User], calls_services=False)
@require_roles("admin")
def list_users():
    """Staff accounts by username (admin), optionally only one ``role`` or only (not)
    ``disabled`` ones: ``{items, page, per_page, total}``."""
    query = query_args(UsersQuery)
    users, total = _accounts().list_users(page=query.page, per_page=query.per_page,
                                          role=query.role, disabled=query.disabled)
    return jsonify(items=[public_user(u) for u in users], page=query.page,
                   per_page=query.per_page, total=total)


@bp.get("/<username>")
@operation(tags=["users"], response=User, calls_services=False)
@require_roles("admin")
def get_user(username: str):
    """One staff account (admin); 404 if none."""
    user = _accounts().get_user(username)
    if user is None:
        raise NotFound(f"no account {username}")
    return jsonify(public_user(user))


@bp.patch("/<username>")
@operation(tags=["users"], body=UserPatch, response=User, errors=(409,), calls_services=False)
@require_roles("admin")
def update_user(username: str):
    """Change roles, units, disable/enable, or set a new password (admin).

    The account's earlier access tokens stop working (its holder signs in or refreshes to get
    the new roles); disabling or a new password also revokes its refresh tokens. 409 when the
    change would leave no enabled admin."""
    body = json_body(UserPatch)
    accounts = _accounts()
    user = accounts.get_user(username)
    if user is None:
        raise NotFound(f"no account {username}")
    if body.password is not None:
        problem = password_problem(body.password, username)
        if problem:
            raise Invalid("invalid input", [{"field": "password", "message": f"password {problem}"}])
    roles = body.roles if body.roles is not None else user.get("roles", [])
    units = body.units if body.units is not None else user.get("units", [])
    problem = _scope_problem(roles, units)
    if problem:
        raise Invalid("invalid input", [{"field": "units", "message": problem}])
    loses_admin = "admin" in user.get("roles", []) and not user.get("disabled") and (
        "admin" not in roles or body.disabled)
    if loses_admin and accounts.enabled_admins() <= 1:
        raise Conflict("this is the last enabled admin; make another admin first")
    if username == g.user["sub"] and body.disabled:
        raise Conflict("an admin cannot disable their own account")
    updated = accounts.update_user(username, roles=body.roles, units=body.units,
                                   disabled=body.disabled, password=body.password)
    if updated is None:
        raise NotFound(f"no account {username}")
    return jsonify(public_user(updated))
