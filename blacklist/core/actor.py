"""Who acts. Every service takes an ``Actor`` so the audit log can name a person (Art. 13), and so
the scheduler and the CLI act through the same services as court staff."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ActorKind(StrEnum):
    STAFF = "staff"
    SYSTEM = "system"
    PARTNER = "partner"
    PUBLIC = "public"


class Role(StrEnum):
    """Staff roles (DOMAIN.md §1)."""

    CLERK = "clerk"
    JUDGE = "judge"
    ADMIN = "admin"
    AUDITOR = "auditor"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.CLERK: "执行员/书记员",
    Role.JUDGE: "执行法官",
    Role.ADMIN: "法院管理员",
    Role.AUDITOR: "审计员",
}


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    name: str
    user_id: int | None = None
    court_id: int | None = None
    role: Role | None = None
    ip: str | None = None

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        """The system itself (scheduler jobs, migrations, seeding)."""
        return cls(kind=ActorKind.SYSTEM, name=name)

    @property
    def is_system(self) -> bool:
        return self.kind is ActorKind.SYSTEM

    def has_role(self, *roles: Role) -> bool:
        return self.kind is ActorKind.STAFF and self.role in roles
