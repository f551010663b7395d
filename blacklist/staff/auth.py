"""Who is asking: the signed-in staff member of a web request (session cookie) or of an API call
(bearer token), as an ``Actor`` for the services. Every page and endpoint under /staff and
/api/v1 (but the token call) goes through ``staff_page`` or ``staff_api``.

Web sessions end after ``SESSION_IDLE_MINUTES`` without a request, after
``SESSION_MAX_HOURS`` in all, on logout, and when the account's ``session_version`` moves (password
set, account deactivated).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, g, redirect, request, session, url_for

from blacklist.core.actor import Actor, Role
from blacklist.core.clock import Clock, SystemClock
from blacklist.core.errors import NotAllowed, NotAuthenticated
from blacklist.db import get_session
from blacklist.staff import services
from blacklist.staff.models import StaffUser


def clock() -> Clock:
    """The app's clock (tests put a FixedClock in ``app.config["CLOCK"]``)."""
    return current_app.config.get("CLOCK") or SystemClock()


def client_ip() -> str | None:
    return request.remote_addr


# --------------------------------------------------------------------------------------------------
# Web sessions


def login(user: StaffUser) -> None:
    """Start a fresh session for the user (a new session id: no fixation)."""
    session.clear()
    session.permanent = True
    now = int(time.time())
    session["uid"] = user.id
    session["sv"] = user.session_version
    session["since"] = now
    session["seen"] = now


def logout() -> None:
    session.clear()


def current_user() -> StaffUser | None:
    """The signed-in staff member of this web request, or None."""
    if "staff_user" in g:
        return g.staff_user
    g.staff_user = None
    uid = session.get("uid")
    if uid is None:
        return None
    now = int(time.time())
    idle = current_app.config["SESSION_IDLE_MINUTES"] * 60
    longest = current_app.config["SESSION_MAX_HOURS"] * 3600
    if now - session.get("seen", 0) > idle or now - session.get("since", 0) > longest:
        session.clear()
        return None
    user = get_session().get(StaffUser, uid)
    if user is None or not user.is_active or user.session_version != session.get("sv"):
        session.clear()
        return None
    session["seen"] = now
    g.staff_user = user
    return user


def current_actor() -> Actor:
    user = g.get("staff_user") or current_user()
    if user is None:
        raise NotAuthenticated("请先登录")
    return user.as_actor(ip=client_ip())


def safe_next(target: str | None) -> str | None:
    """Only a local path may be a redirect target after login (no open redirect)."""
    if not target or "\\" in target or any(ord(c) < 32 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def staff_page(*roles: Role) -> Callable:
    """Pages: a signed-in staff member (else redirect to the login page), with one of ``roles``
    if given (else 403)."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any):
            user = current_user()
            if user is None:
                return redirect(url_for("staff.login", next=request.full_path.rstrip("?")))
            if roles and user.role not in roles:
                raise NotAllowed("您的角色不能访问此页面")
            return view(*args, **kwargs)

        return wrapper

    return decorator


# --------------------------------------------------------------------------------------------------
# API bearer tokens


def api_user() -> StaffUser:
    """The staff member behind this API call's bearer token (401 otherwise)."""
    if "staff_user" in g and g.staff_user is not None:
        return g.staff_user
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("缺少访问令牌：请在 Authorization 头中提供 Bearer 令牌")
    user, row = services.resolve_api_token(get_session(), token.strip(), clock=clock())
    g.staff_user, g.api_token = user, row
    return user


def staff_api(*roles: Role) -> Callable:
    """API endpoints: a valid bearer token (else 401), with one of ``roles`` if given (else 403)."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any):
            user = api_user()
            if roles and user.role not in roles:
                raise NotAllowed("您的角色不能执行此操作")
            return view(*args, **kwargs)

        return wrapper

    return decorator


def api_actor() -> Actor:
    return api_user().as_actor(ip=client_ip())


def token_lifetime() -> timedelta:
    return timedelta(hours=current_app.config["API_TOKEN_HOURS"])
