"""What every benchmark shares: the fixtures the generator leaves behind, the result record, medians,
ports, and the environment a benchmarked server runs with.

Every figure is a median over several runs, reported beside a baseline measured in the same run on
the same data, and a ratio. The machine is shared and noisy: the ratio is the figure that counts.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WORK_DIR = ROOT / "bench" / ".work"
DEFAULT_FIXTURES = WORK_DIR / "fixtures.json"
PYTHON = sys.executable


@dataclass
class Fixtures:
    """What the generator made that a benchmark needs to act as a client: credentials of the bench
    partners and staff (synthetic, made by the generator, never real), and samples of identifiers
    and names that are (or are not) on the list. Written by ``bench.generate`` beside the database;
    kept in ``bench/.work/`` (ignored by git)."""

    database_url: str
    listings: int
    seed: int
    #: The generator's "today" (Beijing): terms end and deletions fall due relative to it.
    as_of: str
    #: code -> {"key", "secret", "measures": [...], "scope"}
    partners: dict[str, dict[str, Any]]
    #: {"court_code", "username", "password", "api_token"}: a judge of a basic court.
    staff: dict[str, str]
    #: "listed_person_ids", "legal_rep_ids", "org_codes", "unlisted_person_ids",
    #: "common_names" (exact names that are on the list, often several times), "public_ids".
    sample: dict[str, list[str]]
    #: Counts of what was written, by table.
    counts: dict[str, int] = field(default_factory=dict)

    def save(self, path: Path = DEFAULT_FIXTURES) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), ensure_ascii=False, indent=1), encoding="utf-8")
        os.chmod(tmp, 0o600)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path = DEFAULT_FIXTURES) -> Fixtures:
        return cls(**json.loads(Path(path).read_text(encoding="utf-8")))

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith("postgresql")


@dataclass
class Result:
    """One benchmarked path. ``value`` and ``baseline`` are medians of ``runs`` / ``baseline_runs``.
    ``higher_is_better`` says how ``ratio`` reads: throughput ratios are value / baseline, latency
    ratios baseline / value, so a ratio of 1.0 always means "as fast as the baseline" and less is
    slower."""

    name: str
    metric: str
    unit: str
    runs: list[float]
    baseline_name: str | None = None
    baseline_runs: list[float] = field(default_factory=list)
    higher_is_better: bool = True
    #: The issue's target, e.g. {"min_ratio": 0.7} or {"min": 50000} or {"max": 20}.
    target: dict[str, float] = field(default_factory=dict)
    #: Anything else worth reporting (p50/p95/p99, peak memory, item counts, the profile's top).
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def value(self) -> float:
        return median(self.runs)

    @property
    def baseline(self) -> float | None:
        return median(self.baseline_runs) if self.baseline_runs else None

    @property
    def ratio(self) -> float | None:
        base = self.baseline
        if not base or not self.value:
            return None
        return self.value / base if self.higher_is_better else base / self.value

    @property
    def met(self) -> bool | None:
        """Whether the target is met; None when there is no target."""
        if not self.target:
            return None
        checks = []
        if "min_ratio" in self.target:
            checks.append(self.ratio is not None and self.ratio >= self.target["min_ratio"])
        if "min" in self.target:
            checks.append(self.value >= self.target["min"])
        if "max" in self.target:
            checks.append(self.value <= self.target["max"])
        return all(checks)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(value=self.value, baseline=self.baseline, ratio=self.ratio, met=self.met)
        return data


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def repeat(times: int, measure: Callable[[], float]) -> list[float]:
    return [measure() for _ in range(times)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def app_env(fixtures: Fixtures, **extra: str) -> dict[str, str]:
    """The environment a benchmarked app process runs with: the bench database, no in-process
    scheduler, no rate limits (the load generator is one client hammering on purpose), and nothing
    of the developer's own ``BLACKLIST_*`` settings but the identity keys (the generator encrypted
    with the same ones)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BLACKLIST_")}
    for name in ("BLACKLIST_ID_HASH_KEY", "BLACKLIST_ID_ENCRYPTION_KEY"):
        if name in os.environ:
            env[name] = os.environ[name]
    env.update(
        BLACKLIST_CONFIG="development",
        BLACKLIST_DATABASE_URL=fixtures.database_url,
        BLACKLIST_SCHEDULER_IN_PROCESS="false",
        BLACKLIST_RATELIMIT_ENABLED="false",
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env
