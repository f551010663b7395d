"""The JSON API (flask-smorest): one ``Api`` for the app, the OpenAPI document at
/api/openapi.json and the docs at /api/docs. Errors are rendered by ``web/errors.py`` in API.md's
shape, so flask-smorest's own error handler is not registered."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from flask import Flask, Response
from flask_smorest import Api

from blacklist.web.schemas import ApiErrorSchema


class BlacklistApi(Api):
    def _register_error_handlers(self) -> None:
        """Errors are handled in one place for pages and API alike (``web/errors.py``)."""


api = BlacklistApi()

BEARER = [{"bearerAuth": []}]


def error_responses(blueprint: Any, descriptions: dict[int, str]) -> Callable[..., Callable]:
    """``errors(401, 422)``: a decorator documenting the error responses a call of ``blueprint``
    can give, in API.md's error shape, each with its description from ``descriptions``."""

    def errors(*codes: int) -> Callable:
        def decorator(view: Callable) -> Callable:
            for code in reversed(codes):
                view = blueprint.alt_response(
                    code, schema=ApiErrorSchema, description=descriptions[code]
                )(view)
            return view

        return decorator

    return errors


def init_app(app: Flask) -> None:
    api.init_app(
        app,
        spec_kwargs={
            "info": {
                "description": "失信被执行人名单系统 API（API.md）。员工接口使用 Bearer 令牌："
                "POST /api/v1/auth/token 获取。"
            }
        },
    )
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "description": "staff API token"}
    )
    api.spec.components.security_scheme(
        "partnerKey",
        {"type": "http", "scheme": "bearer", "description": "partner API key (bpk_…)"},
    )


def fast_json(data: Any, status: int = 200) -> Response:
    """A JSON response serialized with orjson, for the hot paths that answer with thousands of
    records (the partner feed): the data is already in its final shape, so running it through the
    marshmallow schema again and Flask's json provider only cost time (issue #8 profile:
    30% of a feed request). The view keeps ``@blp.response(schema)`` for the OpenAPI document;
    flask-smorest passes a ``Response`` through as is. Output is UTF-8 (no ``\\u`` escapes), like
    the app's json provider (``ensure_ascii = False``)."""
    return Response(orjson.dumps(data), status=status, mimetype="application/json")
