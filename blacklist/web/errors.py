"""Errors map to HTTP in one place: JSON ``{"code", "status", "message", "errors"}`` under /api
(API.md), a Chinese HTML page elsewhere."""

from __future__ import annotations

from http import HTTPStatus

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from blacklist.core.errors import DomainError


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def error_body(code: int, message: str, errors: dict | None = None) -> dict:
    return {
        "code": code,
        "status": HTTPStatus(code).phrase,
        "message": message,
        "errors": errors or {},
    }


def _render(code: int, message: str, errors: dict | None = None):
    if _wants_json():
        return jsonify(error_body(code, message, errors)), code
    return render_template("error.html", code=code, message=message, errors=errors or {}), code


def init_app(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain_error(error: DomainError):
        response = _render(error.status, error.message, error.errors)
        if error.status == 401:
            if _wants_json():
                response[0].headers["WWW-Authenticate"] = 'Bearer realm="blacklist"'
            else:
                from flask import redirect, url_for

                return redirect(url_for("staff.login", next=request.full_path.rstrip("?")))
        return response

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        code = error.code or 500
        data = getattr(error, "data", None) or {}
        errors = flatten_errors(data.get("errors") or data.get("messages") or {})
        message = data.get("message") or _CHINESE.get(code) or error.description
        if code == 400 and "CSRF" in (error.description or ""):
            message = "表单已过期或缺少安全令牌，请刷新页面后重新提交"
        response = _render(code, message, errors)
        for name, value in (data.get("headers") or {}).items():
            response[0].headers[name] = value
        return response

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return _render(500, _CHINESE[500])


def flatten_errors(errors: dict, prefix: str = "") -> dict[str, list[str]]:
    """webargs nests validation errors by location and field (``{"json": {"subject": {"name":
    [...]}}}``); API.md wants ``{"subject.name": [...]}``."""
    flat: dict[str, list[str]] = {}
    for key, value in errors.items():
        if not prefix and key in ("json", "query", "form", "path", "headers", "files"):
            name = ""
        else:
            name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            flat.update(flatten_errors(value, name))
        else:
            messages = value if isinstance(value, list) else [value]
            flat.setdefault(name or "_schema", []).extend(
                _WEBARGS_MESSAGES.get(str(m), str(m)) for m in messages
            )
    return flat


_WEBARGS_MESSAGES = {"Invalid JSON body.": "请求体不是有效的 JSON"}

_CHINESE = {
    400: "请求格式不正确",
    401: "请先登录",
    403: "您没有权限执行此操作",
    404: "未找到该页面或记录",
    405: "不支持该请求方法",
    409: "当前状态下不能执行此操作",
    413: "上传内容过大",
    422: "提交的信息有误",
    429: "请求过于频繁，请稍后再试",
    500: "系统内部错误，请稍后再试",
}
