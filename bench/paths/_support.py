"""Helpers the write-side and pull/push paths share: the identity vault the app would use, a
``Database`` on the bench database (in this process, for the push worker and the scheduler's
sweeps), a raw DB-API connection for the baselines, and the partner rows the paths act for."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from bench.common import Fixtures


def vault():
    """The identity vault built as ``create_app`` builds it: the ``BLACKLIST_ID_*`` keys when set
    (``app_env`` passes them on to the served app), the development keys otherwise."""
    from blacklist.core.identity import IdentityVault
    from config import Config

    return IdentityVault.from_config(
        os.environ.get("BLACKLIST_ID_HASH_KEY") or Config.ID_HASH_KEY,
        os.environ.get("BLACKLIST_ID_ENCRYPTION_KEY") or Config.ID_ENCRYPTION_KEY,
        os.environ.get("BLACKLIST_ID_ENCRYPTION_OLD_KEYS") or Config.ID_ENCRYPTION_OLD_KEYS,
    )


def database(fixtures: Fixtures):
    """The app's ``Database`` (engine, session factory, vault) on the bench database."""
    import blacklist.models  # noqa: F401  (every mapper configured)
    from blacklist.db import Database

    return Database(fixtures.database_url, vault=vault())


def driver_connect(url: str) -> Any:
    """A plain DB-API connection for a baseline: psycopg (autocommit off) on PostgreSQL,
    sqlite3 on SQLite (WAL, as the app sets it)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        import psycopg

        dsn = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
        return psycopg.connect(dsn)
    conn = sqlite3.connect(parsed.database, timeout=30, isolation_level=None)
    conn.execute("PRAGMA busy_timeout=30000")
    conn.execute("PRAGMA journal_mode=WAL")
    return conn


def placeholder(conn: Any) -> str:
    """The DB-API parameter marker of ``conn``'s driver."""
    return "?" if isinstance(conn, sqlite3.Connection) else "%s"


@dataclass(frozen=True)
class PartnerRow:
    id: int
    code: str
    measures: int
    scope: str

    @property
    def types(self) -> tuple[str, ...]:
        return ("restriction", "listing") if self.scope == "both" else (self.scope,)


def partner_row(conn: Any, code: str) -> PartnerRow:
    p = placeholder(conn)
    cur = conn.cursor()
    cur.execute(f"SELECT id, code, measures, scope FROM partners WHERE code = {p}", (code,))
    row = cur.fetchone()
    cur.close()
    conn.rollback()
    if row is None:
        raise LookupError(f"no partner {code!r} in the bench database")
    return PartnerRow(int(row[0]), row[1], int(row[2]), row[3])


# --------------------------------------------------------------------------------------------------
# Memory of a process


def rss_kib(pid: int) -> dict[str, int]:
    """``VmRSS`` and ``VmHWM`` (peak resident set) of a process, in KiB."""
    out: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            out[name] = int(value.split()[0])
    return out


class RssSampler:
    """Samples a process's ``VmRSS`` every ``interval`` seconds in a thread; ``peak`` is the
    largest sample (KiB). ``mark()`` returns the largest sample so far (e.g. at half an export)."""

    def __init__(self, pid: int, interval: float = 0.02) -> None:
        self.pid = pid
        self.interval = interval
        self.peak = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.sample()
            time.sleep(self.interval)

    def sample(self) -> int:
        try:
            rss = rss_kib(self.pid)["VmRSS"]
        except (OSError, KeyError):
            return self.peak
        self.peak = max(self.peak, rss)
        self.samples += 1
        return rss

    def mark(self) -> int:
        self.sample()
        return self.peak

    def __enter__(self) -> RssSampler:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()
