"""The base of every API schema: marshmallow with Chinese error messages (user-facing text is
Chinese, STYLE.md), unknown fields refused, and the error body of API.md.

marshmallow keeps its messages in English on each field class (``default_error_messages``). Rather
than patching those classes for the whole process, ``Schema.on_bind_field`` translates the messages
of every field bound to one of our schemas, including the items of lists and the keys and values of
dicts. A message given explicitly to a field (``error_messages={...}``) is kept as it is.
Validators carry their own messages: use ``length``, ``one_of`` and ``value_range`` below.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import marshmallow
from marshmallow import fields, validate

REQUIRED = "此项为必填"
NOT_NULL = "不能为空"
INVALID = "格式不正确"
NOT_A_CHOICE = "取值不在允许范围内"
UNKNOWN_FIELD = "未知字段"

#: Chinese for marshmallow's message keys; every other key (``invalid``, ``format``, ``type``,
#: ``special``...) means the value has the wrong type or format.
_FIELD_MESSAGES = {
    "required": REQUIRED,
    "null": NOT_NULL,
    "validator_failed": "取值不正确",
    "unknown": NOT_A_CHOICE,  # fields.Enum
    "too_large": "数值过大",
    "invalid_awareness": "时间格式不正确（须含时区）",
}


def _english_defaults(field: fields.Field) -> dict[str, str]:
    messages: dict[str, str] = {}
    for cls in reversed(type(field).__mro__):
        messages.update(getattr(cls, "default_error_messages", {}))
    return messages


def translate(field: fields.Field) -> None:
    """Give ``field`` (and the fields inside it) Chinese messages, keeping explicit ones."""
    defaults = _english_defaults(field)
    field.error_messages = {
        key: _FIELD_MESSAGES.get(key, INVALID) if message == defaults.get(key) else message
        for key, message in field.error_messages.items()
    }
    inner: list[Any] = [
        getattr(field, "inner", None),
        getattr(field, "key_field", None),
        getattr(field, "value_field", None),
        *(getattr(field, "tuple_fields", None) or ()),
    ]
    for sub in inner:
        if isinstance(sub, fields.Field):
            translate(sub)


class Schema(marshmallow.Schema):
    """Base schema of the API: Chinese messages; unknown fields are refused (marshmallow's default
    ``RAISE``, kept so that a misspelt field is an error, not silently ignored)."""

    error_messages = {"unknown": UNKNOWN_FIELD, "type": INVALID}  # noqa: RUF012

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        translate(field_obj)


def length(min: int | None = None, max: int | None = None) -> validate.Length:
    """``validate.Length`` for text, in Chinese."""
    if min is not None and max is not None:
        message = "长度应为{min}至{max}个字符"
    elif max is not None:
        message = "不能超过{max}个字符"
    else:
        message = "至少{min}个字符"
    return validate.Length(min=min, max=max, error=message)


def one_of(choices: Iterable[Any]) -> validate.OneOf:
    """``validate.OneOf`` in Chinese, naming the values allowed."""
    return validate.OneOf(list(choices), error=NOT_A_CHOICE + "（可选：{choices}）")


def value_range(min: int | None = None, max: int | None = None) -> validate.Range:
    """``validate.Range`` (inclusive) in Chinese."""
    if min is not None and max is not None:
        message = "应在{min}至{max}之间"
    elif max is not None:
        message = "不能大于{max}"
    else:
        message = "不能小于{min}"
    return validate.Range(min=min, max=max, error=message)


class ApiErrorSchema(Schema):
    """Every error of the API (API.md): ``errors`` maps a dotted field name to its messages."""

    code = fields.Integer(required=True, metadata={"example": 422})
    status = fields.String(required=True, metadata={"example": "Unprocessable Entity"})
    message = fields.String(required=True, metadata={"example": "提交的信息有误"})
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        required=True,
        metadata={"example": {"subject.id_number": ["身份证号码校验位不正确"]}},
    )
