"""A WSGI app under gunicorn in its own process group, for the load generator to drive."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.common import PYTHON, WORK_DIR, free_port


@dataclass(frozen=True)
class Served:
    url: str
    pid: int


@contextmanager
def gunicorn(
    app: str,
    env: dict[str, str],
    *,
    workers: int = 2,
    threads: int = 1,
    ready_path: str = "/healthz",
    log_name: str = "gunicorn",
) -> Iterator[Served]:
    """Serve ``app`` ("module:variable") with gunicorn on a free loopback port; yield its base URL
    and the master's pid.
    ``ready_path`` must answer (any status below 500) before the benchmark starts. The server's
    output goes to ``bench/.work/<log_name>.log``."""
    port = free_port()
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    log_path = WORK_DIR / f"{log_name}.log"
    log = open(log_path, "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [
            PYTHON, "-m", "gunicorn", app,
            "--bind", f"127.0.0.1:{port}",
            "--workers", str(workers),
            "--threads", str(threads),
            "--worker-class", "gthread" if threads > 1 else "sync",
            "--backlog", "2048",
            "--timeout", "600",
            "--log-level", "warning",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(proc, base + ready_path, log_path)
        yield Served(base, proc.pid)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def _wait_ready(proc: subprocess.Popen, url: str, log_path: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited ({proc.returncode}); see {log_path}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError as error:
            if error.code < 500:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer {url} within {timeout:.0f} s; see {log_path}")


def worker_pids(master_pid: int) -> list[int]:
    """The gunicorn master's children (its workers), for memory sampling."""
    path = Path(f"/proc/{master_pid}/task/{master_pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []
