"""Domain errors. Services raise these; ``web/errors.py`` maps them to HTTP in one place.

Messages are Chinese (they reach court staff and the public); ``errors`` maps a field name to its
messages so forms can show them beside the field and the API can return them under ``errors``.
"""

from __future__ import annotations

from enum import Enum
from typing import TypeVar


class DomainError(Exception):
    """Base of every error a user can cause. ``status`` is the HTTP status it maps to."""

    status = 400

    def __init__(self, message: str, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}

    def __str__(self) -> str:
        if not self.errors:
            return self.message
        details = "; ".join(f"{f}: {' '.join(m)}" for f, m in self.errors.items())
        return f"{self.message} ({details})"

    @classmethod
    def on(cls, field: str, message: str) -> DomainError:
        """An error about one field: ``ValidationFailed.on("grounds", "请选择失信情形")``."""
        return cls(message, {field: [message]})


class ValidationFailed(DomainError):
    """The input breaks a rule (wrong check digit, a minor, no grounds...): 422."""

    status = 422


class NotAuthenticated(DomainError):
    """No valid credentials (no session, an expired or revoked token): 401."""

    status = 401


class NotAllowed(DomainError):
    """The actor may not do this (wrong role): 403."""

    status = 403


class NotFound(DomainError):
    """It does not exist, or the actor may not see it (another court's listing): 404."""

    status = 404


class Conflict(DomainError):
    """The act does not fit the current state (approving a removed listing): 409."""

    status = 409


class Gone(DomainError):
    """It existed but is no longer kept (a feed cursor older than the retention window): 410."""

    status = 410


class ErrorCollector:
    """Gather field errors from several checks so a form shows them all at once:

    errors = ErrorCollector()
    rid = errors.check(parse_resident_id, raw, "subject.id_number")
    name = errors.check(clean_name, raw_name, field="subject.name")
    errors.raise_if_any("被执行人信息有误")
    """

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def check(self, func, /, *args, **kwargs):
        try:
            return func(*args, **kwargs)
        except ValidationFailed as error:
            self.add(error)
            return None

    def add(self, error: ValidationFailed) -> None:
        for field, messages in (error.errors or {"_": [error.message]}).items():
            self.errors.setdefault(field, []).extend(messages)

    def raise_if_any(self, message: str = "提交的信息有误") -> None:
        if self.errors:
            raise ValidationFailed(message, self.errors)


E = TypeVar("E", bound=Enum)


def parse_choice(choices: type[E], value: str, field: str, label: str) -> E:
    """``value`` as a member of the enum ``choices``, or a 422 on ``field``: "未知的{label}：…"
    (a filter or a choice typed by hand must fail clearly, never silently match nothing)."""
    try:
        return choices(value)
    except ValueError:
        raise ValidationFailed.on(field, f"未知的{label}：{value}") from None
