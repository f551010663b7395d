"""Courts and staff accounts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from blacklist.core.actor import Actor, ActorKind, Role
from blacklist.db import Base, str_enum


class Court(Base):
    """A people's court. ``parent`` is the next higher court (reconsideration goes there, Art. 12)."""

    __tablename__ = "courts"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    province: Mapped[str] = mapped_column(String(20), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("courts.id"))
    created_at: Mapped[datetime]

    parent: Mapped[Court | None] = relationship(remote_side=[id])


class StaffUser(Base):
    """A member of a court's staff. The password is stored as a salted scrypt hash only."""

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    court_id: Mapped[int] = mapped_column(ForeignKey("courts.id"), index=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[Role] = mapped_column(str_enum(Role, 16))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    #: Consecutive failed sign-ins; reset by a successful one. At the limit the account is locked.
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    #: Bumped on password change or deactivation: every web session signed in before is void.
    session_version: Mapped[int] = mapped_column(default=1)

    court: Mapped[Court] = relationship()

    def as_actor(self, ip: str | None = None) -> Actor:
        return Actor(
            kind=ActorKind.STAFF,
            name=self.display_name or self.username,
            user_id=self.id,
            court_id=self.court_id,
            role=self.role,
            ip=ip,
        )


class ApiToken(Base):
    """A bearer token for the staff API (API.md). Only its SHA-256 is stored: the token is 256
    random bits, so a fast hash is enough and a stolen database holds no usable token."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]

    user: Mapped[StaffUser] = relationship()
