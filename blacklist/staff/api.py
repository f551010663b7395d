"""Staff API sign-in: ``POST /api/v1/auth/token`` (API.md) and revoking the token in use."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from blacklist.db import get_session
from blacklist.staff import auth, services
from blacklist.web.api import BEARER

blp = Blueprint(
    "auth", __name__, url_prefix="/api/v1/auth", description="员工接口登录：获取与撤销访问令牌"
)


class TokenRequest(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=256))


class TokenResponse(Schema):
    token = fields.String(required=True, metadata={"description": "Bearer 令牌，只显示一次"})
    expires_at = fields.DateTime(required=True)


@blp.route("/token")
class Token(MethodView):
    @blp.arguments(TokenRequest)
    @blp.response(201, TokenResponse)
    @blp.alt_response(401, description="用户名或密码错误，或账号已锁定")
    def post(self, data):
        """Exchange a username and password for a bearer token (expires; revocable)."""
        session = get_session()
        user = services.authenticate(
            session, data["username"], data["password"], ip=auth.client_ip(), clock=auth.clock()
        )
        token, row = services.issue_api_token(
            session, user, lifetime=auth.token_lifetime(), ip=auth.client_ip(), clock=auth.clock()
        )
        return {"token": token, "expires_at": row.expires_at}

    @blp.response(204)
    @blp.doc(security=BEARER)
    @auth.staff_api()
    def delete(self):
        """Revoke the token used for this call."""
        from flask import g

        services.revoke_api_token(
            get_session(), g.api_token, actor=auth.api_actor(), clock=auth.clock()
        )
