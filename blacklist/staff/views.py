"""Staff sign-in pages: /staff/login and /staff/logout."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from blacklist.core.errors import NotAuthenticated
from blacklist.db import get_session
from blacklist.staff import auth, services

bp = Blueprint("staff", __name__, url_prefix="/staff", template_folder="templates")


@bp.route("/login", methods=["GET", "POST"])
def login():
    next_url = auth.safe_next(request.values.get("next"))
    if request.method == "GET":
        if auth.current_user() is not None:
            return redirect(next_url or url_for("listing.dashboard"))
        return render_template("staff/login.html", next=next_url, username="", error=None)
    username = request.form.get("username", "")
    try:
        user = services.authenticate(
            get_session(),
            username,
            request.form.get("password", ""),
            ip=auth.client_ip(),
            clock=auth.clock(),
        )
    except NotAuthenticated as error:
        return (
            render_template(
                "staff/login.html", next=next_url, username=username, error=error.message
            ),
            401,
        )
    auth.login(user)
    return redirect(next_url or url_for("listing.dashboard"))


@bp.post("/logout")
def logout():
    user = auth.current_user()
    if user is not None:
        services.record_logout(get_session(), user, ip=auth.client_ip(), clock=auth.clock())
    auth.logout()
    flash("您已安全退出")
    return redirect(url_for("staff.login"))
