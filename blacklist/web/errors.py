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
        return _render(error.status, error.message, error.errors)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        code = error.code or 500
        return _render(code, _CHINESE.get(code, error.description or HTTPStatus(code).phrase))

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return _render(500, _CHINESE[500])


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
