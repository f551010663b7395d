"""A thin wrapper over wrk (https://github.com/wg/wrk): the HTTP load generator the benchmarks
drive a served app with.

``run_wrk`` writes the requests (path and body, one per line) and a Lua script into
``bench/.work/``, runs ``wrk -t T -c C -d Ds --latency -s script.lua URL`` and parses what it
prints: requests/s, the latency percentiles (p50/p90/p95/p99, from a JSON line the script's
``done()`` prints; p50/p90/p99 also from the ``--latency`` table, as a cross-check), socket errors
and non-2xx responses.

The script rotates over the requests (each wrk thread starting at its own offset), so a run asks
for many different people or names rather than one cached answer. wrk keeps going on errors: a run
that saw any non-2xx answer or socket error raises ``LoadError`` instead of returning figures (a
benchmark that measured 401s is worthless). Before the run, ``preflight`` sends the first requests
once with urllib, so a misconfigured run fails at once with the server's own error message.
"""

from __future__ import annotations

import base64
import json
import math
import os
import pickle
import re
import select
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.common import PYTHON, ROOT, WORK_DIR, median

WRK = "/usr/bin/wrk"
#: Printed by the Lua ``done()`` before its JSON, so the line can be found among wrk's own output.
_MARK = "BENCH-WRK-JSON "
#: How many requests ``preflight`` sends before the run by default.
PREFLIGHT = 3


class LoadError(RuntimeError):
    """The load run could not be measured: wrk is missing or failed, or the server answered
    something other than 2xx (or the connection failed) during the run."""


@dataclass(frozen=True)
class Request:
    """One request of the rotation: a path with its query string, and a body (``None``: none)."""

    path: str
    body: str | None = None


@dataclass
class LoadResult:
    """What one wrk run measured. Latencies are in milliseconds."""

    requests: int
    duration_s: float
    requests_per_s: float
    latency_ms: dict[str, float]
    #: wrk's socket errors: connect, read, write, timeout.
    socket_errors: dict[str, int]
    #: Responses with a status outside 200–299 (wrk counts >= 400; 3xx are caught by ``preflight``).
    non_2xx: int
    bytes: int
    threads: int
    connections: int
    #: Percentiles as the ``--latency`` table printed them (ms), and wrk's own Requests/sec line.
    text_latency_ms: dict[str, float] = field(default_factory=dict)
    text_requests_per_s: float | None = None

    @property
    def p50(self) -> float:
        return self.latency_ms["p50"]

    @property
    def p95(self) -> float:
        return self.latency_ms["p95"]

    @property
    def p99(self) -> float:
        return self.latency_ms["p99"]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def require_wrk() -> str:
    """The path of wrk, or ``LoadError`` saying how to get it."""
    path = WRK if Path(WRK).exists() else shutil.which("wrk")
    if not path:
        raise LoadError("wrk is not installed (expected at /usr/bin/wrk): apt-get install wrk")
    return path


def run_wrk(
    url: str,
    requests: Iterable[Request],
    *,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    duration: float = 10,
    threads: int = 1,
    connections: int = 4,
    timeout: float = 10,
    name: str = "load",
    preflight: int = PREFLIGHT,
) -> LoadResult:
    """Drive ``url`` (scheme, host, port; the paths come from ``requests``) with wrk for
    ``duration`` seconds, rotating over ``requests``; raise ``LoadError`` unless every response
    was 2xx and no connection failed.

    ``headers`` go on every request (e.g. ``Authorization``, ``Content-Type``). ``name`` names the
    files written into ``bench/.work/`` (``wrk-<name>.lua``, ``wrk-<name>.requests``,
    ``wrk-<name>.out``)."""
    wrk = require_wrk()
    items = list(requests)
    if not items:
        raise ValueError("no requests to send")
    if any("\n" in r.path or "\t" in r.path for r in items):
        raise ValueError("a request path contains a tab or a newline")
    if any(r.body is not None and "\n" in r.body for r in items):
        raise ValueError("a request body contains a newline (serialise JSON compactly)")
    headers = dict(headers or {})
    base = url.rstrip("/")
    if preflight:
        check_requests(base, items[:preflight], method=method, headers=headers)

    WORK_DIR.mkdir(parents=True, exist_ok=True)
    requests_path = WORK_DIR / f"wrk-{name}.requests"
    script_path = WORK_DIR / f"wrk-{name}.lua"
    output_path = WORK_DIR / f"wrk-{name}.out"
    requests_path.write_text(
        "".join(f"{r.path}\t{r.body or ''}\n" for r in items), encoding="utf-8"
    )
    script_path.write_text(_lua_script(requests_path, method, headers, threads), encoding="utf-8")
    seconds = max(1, round(duration))
    command = [
        wrk,
        "-t", str(threads),
        "-c", str(max(connections, threads)),
        "-d", f"{seconds}s",
        "--timeout", f"{max(1, round(timeout))}s",
        "--latency",
        "-s", str(script_path),
        base,
    ]  # fmt: skip
    try:
        proc = subprocess.run(
            command, capture_output=True, text=True, timeout=seconds + timeout + 30, check=False
        )
    except subprocess.TimeoutExpired as error:
        raise LoadError(f"wrk did not finish: {' '.join(command)}") from error
    output_path.write_text(proc.stdout + proc.stderr, encoding="utf-8")
    if proc.returncode != 0:
        raise LoadError(f"wrk exited {proc.returncode}: {proc.stderr.strip() or proc.stdout}")
    result = parse_output(proc.stdout, threads=threads, connections=max(connections, threads))
    try:
        _fail_on_errors(result, name, output_path)
    except LoadError as error:
        culprit = ""
        if result.non_2xx:
            # Name a culprit: send every request of the rotation again, up to the first non-2xx.
            try:
                check_requests(base, items, method=method, headers=headers, when="when re-sent")
            except LoadError as found:
                culprit = f"; {found}"
        raise LoadError(f"{error}{culprit}") from None
    return result


def check_requests(
    base: str,
    items: Iterable[Request],
    *,
    method: str,
    headers: Mapping[str, str],
    when: str = "before the run",
) -> None:
    """Send each request once (urllib, no redirects followed); ``LoadError`` with the server's
    answer unless it is 2xx."""
    opener = urllib.request.build_opener(_NoRedirect())
    for item in items:
        data = item.body.encode("utf-8") if item.body is not None else None
        request = urllib.request.Request(
            base + item.path, data=data, method=method, headers=dict(headers)
        )
        try:
            with opener.open(request, timeout=30) as response:
                status, body = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, body = error.code, error.read()
        except OSError as error:
            raise LoadError(f"{method} {base}{item.path} failed: {error}") from error
        if not 200 <= status < 300:
            raise LoadError(
                f"{method} {base}{item.path} answered {status} {when}: "
                f"{body[:500].decode('utf-8', 'replace')}"
            )


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _fail_on_errors(result: LoadResult, name: str, output_path: Path) -> None:
    problems = []
    if result.non_2xx:
        problems.append(f"{result.non_2xx} non-2xx responses")
    errors = {k: v for k, v in result.socket_errors.items() if v}
    if errors:
        problems.append(f"socket errors {errors}")
    if result.requests == 0:
        problems.append("no request completed")
    if problems:
        raise LoadError(
            f"load run {name!r} is not a valid measurement: {'; '.join(problems)} "
            f"(of {result.requests} requests); wrk's output: {output_path}"
        )


def parse_output(stdout: str, *, threads: int, connections: int) -> LoadResult:
    """The figures of a wrk run from its standard output (see ``_lua_script`` for the JSON line)."""
    line = next((x for x in stdout.splitlines() if x.startswith(_MARK)), None)
    if line is None:
        raise LoadError(f"wrk printed no summary (was the script's done() run?):\n{stdout}")
    data = json.loads(line[len(_MARK) :])
    duration_s = data["duration_us"] / 1e6
    latency = {k: v / 1000 for k, v in data["latency_us"].items()}
    errors = data["errors"]
    return LoadResult(
        requests=data["requests"],
        duration_s=duration_s,
        requests_per_s=data["requests"] / duration_s if duration_s else 0.0,
        latency_ms=latency,
        socket_errors={k: errors[k] for k in ("connect", "read", "write", "timeout")},
        non_2xx=errors["status"],
        bytes=data["bytes"],
        threads=threads,
        connections=connections,
        text_latency_ms=_text_percentiles(stdout),
        text_requests_per_s=_text_rps(stdout),
    )


_UNITS_MS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0, "h": 3600000.0}


def _text_percentiles(stdout: str) -> dict[str, float]:
    """The ``--latency`` table ("     50%    1.23ms")."""
    found = {}
    for pct, number, unit in re.findall(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s|m|h)\s*$", stdout, re.M):
        found[f"p{pct}"] = float(number) * _UNITS_MS[unit]
    return found


def _text_rps(stdout: str) -> float | None:
    match = re.search(r"^Requests/sec:\s+([\d.]+)", stdout, re.M)
    return float(match[1]) if match else None


def _lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string literal is a valid Lua string literal for our text


def _lua_script(requests_path: Path, method: str, headers: Mapping[str, str], threads: int) -> str:
    header_lines = "\n".join(
        f"  [{_lua_string(k)}] = {_lua_string(v)}," for k, v in sorted(headers.items())
    )
    return f"""-- Written by bench/load.py: rotate over the requests in {requests_path.name}.
local method = {_lua_string(method)}
local headers = {{
{header_lines}
}}
local requests = {{}}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

function init(args)
  local file = assert(io.open({_lua_string(str(requests_path))}, "r"))
  for line in file:lines() do
    local tab = string.find(line, "\\t", 1, true)
    local path = string.sub(line, 1, tab - 1)
    local body = string.sub(line, tab + 1)
    if body == "" then body = nil end
    table.insert(requests, wrk.format(method, path, headers, body))
  end
  file:close()
  -- Each thread starts at its own place in the rotation.
  index = (id or 0) * math.floor(#requests / {threads})
end

function request()
  index = index % #requests + 1
  return requests[index]
end

function done(summary, latency, requests_done)
  local e = summary.errors
  io.write(string.format(
    '{_MARK}{{"requests": %d, "duration_us": %d, "bytes": %d, '
    .. '"errors": {{"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}}, '
    .. '"latency_us": {{"p50": %d, "p90": %d, "p95": %d, "p99": %d, "mean": %.1f, "max": %d}}}}\\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(95),
    latency:percentile(99), latency.mean, latency.max))
end
"""


# --------------------------------------------------------------------------------------------------
# Baselines that drive the database directly: the same concurrency as the served app's workers


def in_processes(
    target: str, args_list: list[tuple], *, duration: float, ready_timeout: float = 60
) -> list[Any]:
    """Run ``target(*args)`` ("module:function") in one fresh Python process per ``args``: it
    prepares (connects, loads) and returns a function ``work(until)`` that loads the database until
    the wall-clock time ``until`` and returns what it measured (picklable). Every process is
    prepared before any starts working, and they all work during the same ``duration`` seconds.
    Returns their results in order; a failure in a process raises ``LoadError`` with its traceback.

    Plain subprocesses (``python -c``) rather than ``multiprocessing``: nothing depends on how the
    calling program's ``__main__`` can be re-imported."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    procs = []
    try:
        for args in args_list:
            proc = subprocess.Popen(
                [PYTHON, "-c", "from bench.load import _process_main; _process_main()"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
                cwd=ROOT,
            )
            proc.stdin.write(_pack((target, args)) + b"\n")
            proc.stdin.flush()
            procs.append(proc)
        for index, proc in enumerate(procs):
            line = _read_line(proc, ready_timeout)
            if line != b"ready":
                raise LoadError(
                    f"baseline process {index} failed while preparing:\n{_failure(proc, line)}"
                )
        start_at = time.time() + 0.05
        for proc in procs:
            proc.stdin.write(f"{start_at!r} {duration!r}\n".encode())
            proc.stdin.flush()
        outcomes = []
        for index, proc in enumerate(procs):
            line = _read_line(proc, duration + ready_timeout)
            if not line.startswith(b"result "):
                raise LoadError(f"baseline process {index} failed:\n{_failure(proc, line)}")
            outcomes.append(_unpack(line[len(b"result ") :]))
        return outcomes
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            for stream in (proc.stdin, proc.stdout, proc.stderr):
                stream.close()


def _process_main() -> None:
    """The baseline process: ``_pack((target, args))`` on stdin, "ready" when prepared, then
    "<start_at> <duration>" on stdin, then "result <_pack(outcome)>" on stdout."""
    import importlib

    out = sys.stdout.buffer
    target, args = _unpack(sys.stdin.buffer.readline().strip())
    module, _, function = target.partition(":")
    work = getattr(importlib.import_module(module), function)(*args)
    out.write(b"ready\n")
    out.flush()
    start_at, duration = (float(x) for x in sys.stdin.readline().split())
    sleep_until(start_at)
    outcome = work(start_at + duration)
    out.write(b"result " + _pack(outcome) + b"\n")
    out.flush()


def _pack(value: Any) -> bytes:
    return base64.b64encode(pickle.dumps(value))


def _unpack(data: bytes) -> Any:
    return pickle.loads(base64.b64decode(data))


def _read_line(proc: subprocess.Popen, timeout: float) -> bytes:
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    if not ready:
        return b"(no answer within %d s)" % timeout
    return proc.stdout.readline().strip()


def _failure(proc: subprocess.Popen, line: bytes) -> str:
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    return (
        line.decode("utf-8", "replace") + "\n" + proc.stderr.read().decode("utf-8", "replace")
    ).strip()


def sleep_until(moment: float) -> None:
    delay = moment - time.time()
    if delay > 0:
        time.sleep(delay)


def percentile(sorted_values: list[float], pct: float) -> float:
    """Nearest-rank percentile of already sorted values (0.0 for none)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def libpq_url(url: str) -> str:
    """A SQLAlchemy PostgreSQL URL (``postgresql+psycopg://…``) as psycopg/libpq takes it."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def sqlite_path(url: str) -> str:
    from sqlalchemy.engine import make_url

    database = make_url(url).database
    if not database or database == ":memory:":
        raise ValueError("an in-memory SQLite database cannot be benchmarked across processes")
    return database


# --------------------------------------------------------------------------------------------------
# Reporting and profiles


def latency_details(results: list[LoadResult], who: str) -> dict[str, Any]:
    """Medians over runs of requests/s and the latency percentiles, keys prefixed with ``who``."""
    if not results:
        return {}
    return {
        f"{who}_requests_per_s": median([r.requests_per_s for r in results]),
        f"{who}_p50_ms": median([r.p50 for r in results]),
        f"{who}_p95_ms": median([r.p95 for r in results]),
        f"{who}_p99_ms": median([r.p99 for r in results]),
    }


def profile_run(
    master_pid: int, name: str, duration: float, drive: Callable[[], LoadResult]
) -> dict[str, Any]:
    """One extra run, ``drive()``, under ``py_spy``: not counted among the measured runs (the
    sampler takes CPU from the workers on a small machine), reported beside them."""
    with py_spy(master_pid, name, duration) as info:
        result = drive()
    info["profile_run_requests_per_s"] = result.requests_per_s
    return info


@contextmanager
def py_spy(master_pid: int, name: str, duration: float) -> Iterator[dict[str, Any]]:
    """Sample a gunicorn master's workers with py-spy (``--subprocesses``, non-blocking) while the
    body runs; write the collapsed stacks to ``bench/.work/profile-<name>.txt`` (flamegraph.pl and
    speedscope read them) and fill the yielded dict with the file's path and the top frames. A
    missing or failing py-spy leaves a note instead of failing the benchmark."""
    info: dict[str, Any] = {}
    exe = Path(PYTHON).parent / "py-spy"
    spy = str(exe) if exe.exists() else shutil.which("py-spy")
    if not spy:
        info["profile_error"] = "py-spy is not installed"
        yield info
        return
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    out = WORK_DIR / f"profile-{name}.txt"
    log = WORK_DIR / f"profile-{name}.log"
    with open(log, "wb") as log_file:
        proc = subprocess.Popen(
            [
                spy, "record", "--pid", str(master_pid), "--subprocesses", "--nonblocking",
                "--format", "raw", "--rate", "250", "--full-filenames", "--output", str(out),
                "--duration", str(max(1, round(duration))),
            ],
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            yield info
        finally:
            try:
                proc.wait(timeout=duration + 30)
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGINT)
                proc.wait(timeout=30)
    if proc.returncode != 0 or not out.exists():
        info["profile_error"] = f"py-spy exited {proc.returncode}: see {log}"
        return
    info["profile_file"] = str(out)
    info.update(summarise_profile(out))


def summarise_profile(path: Path, top: int = 12) -> dict[str, Any]:
    """Where the workers spent their samples, as shares of all samples: the top frames by self time
    (the leaf, by line), and the project's functions by total time (anywhere on the stack)."""
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    root = str(ROOT) + "/"
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        samples += n
        frames = [f for f in stack.split(";") if not f.startswith(("process ", "thread "))]
        if not frames:
            continue
        own[_short_frame(frames[-1], root)] += n
        project = {f for f in frames if root in f and "/site-packages/" not in f}
        for function in {re.sub(r":\d+\)$", ")", _short_frame(f, root)) for f in project}:
            total[function] += n
    if not samples:
        return {"profile_samples": 0}
    return {
        "profile_samples": samples,
        "profile_top_self": [(f, round(n / samples, 3)) for f, n in own.most_common(top)],
        "profile_top_project": [(f, round(n / samples, 3)) for f, n in total.most_common(top)],
    }


def _short_frame(frame: str, root: str) -> str:
    """``function (path:line)`` with the path relative to site-packages or to the project."""
    frame = re.sub(r"[^ ()]*/(site-packages|lib/python3\.\d+)/", "", frame)
    return frame.replace(root, "")


# --------------------------------------------------------------------------------------------------
# Running one path by hand


def path_cli(run: Callable[..., list], argv: list[str] | None = None, *, prog: str) -> int:
    """``python -m bench.paths.<path> [--fixtures F] [--runs N] [--quick] [--profile]``: run one
    path's benchmarks on existing fixtures and print its results as JSON (``bench.run`` runs them
    all and writes ``bench/results.json``)."""
    import argparse

    from bench.common import DEFAULT_FIXTURES, Fixtures

    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("--fixtures", type=Path, default=DEFAULT_FIXTURES)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one ~1 s run (a smoke run)")
    parser.add_argument("--profile", action="store_true", help="one more run under py-spy")
    args = parser.parse_args(argv)
    results = run(
        Fixtures.load(args.fixtures), runs=args.runs, quick=args.quick, profile=args.profile
    )
    print(json.dumps([r.as_dict() for r in results], ensure_ascii=False, indent=1, default=str))
    return 0
