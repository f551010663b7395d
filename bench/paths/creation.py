"""Listing creation: drafts per second created through the staff API.

Measured: ``POST /api/v1/listings`` as the bench judge (bearer token from the fixtures), through
gunicorn (2 sync workers), from a client with ``threads`` concurrent connections, each posting its
share of valid, distinct synthetic drafts: a natural-person debtor with a valid resident ID number
(GB 11643 check digit from python-stdnum, as ``blacklist.demo`` makes them; an adult born in
Beijing's Chaoyang district), a distinct enforcement case number, grounds ``evades`` (no Art. 3
exemption questions). Every answer must be ``201``. The app does everything a court's system gets:
token check, schema, validation of the ID number, name and case number, the duplicate check under
the journal lock, hashing and encryption of the number, the audit entry, the staff view in the
answer.

Baseline: ``bench/baseline_writes.py``, a minimal Flask + SQLAlchemy endpoint under the same
gunicorn set-up that stores the same rows (subject, case, listing) from the same bodies with no
validation, no token check, no lock and no audit, and answers two fields. The two servers run side
by side and the runs alternate (app, baseline, app, …) so drift hits both alike.

Drafts stay in the database as drafts: they are never published, so no partner, search or check
sees them. Case numbers and ID numbers are drawn at random per invocation, so the path can run again
on the same database.
"""

from __future__ import annotations

import http.client
import json
import random
import threading
import time
from datetime import date, timedelta
from urllib.parse import urlsplit

from bench.common import Fixtures, Result, app_env
from bench.paths._support import driver_connect
from bench.server import gunicorn

FULL_LISTINGS = 200
QUICK_LISTINGS = 20
THREADS = 4

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"
_GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂玉华建国红文辉鹏飞宇晨"
#: Address codes of Beijing districts (GB/T 2260), the bench court's city.
_ADDRESS = ("110101", "110102", "110105", "110106", "110107", "110108", "110109", "110111")


def run(
    fixtures: Fixtures,
    *,
    runs: int = 3,
    quick: bool = False,
    listings: int | None = None,
    threads: int = THREADS,
) -> list[Result]:
    per_run = listings or (QUICK_LISTINGS if quick else FULL_LISTINGS)
    runs = 1 if quick else runs
    maker = DraftMaker(random.Random())  # fresh numbers every invocation: re-runnable
    token = fixtures.staff["api_token"]
    before = _count_listings(fixtures)
    app_env_ = app_env(fixtures)
    base_env = app_env(fixtures, BENCH_STAFF_USERNAME=fixtures.staff["username"])
    with (
        gunicorn("wsgi:app", app_env_, workers=2, log_name="creation") as served,
        gunicorn(
            "bench.baseline_writes:app", base_env, workers=2, log_name="creation_baseline"
        ) as baseline,
    ):
        # Warm both (imports, first connections, the calendar cache) outside the measurement.
        post_all(served.url, token, maker.batch(2 * threads), threads)
        post_all(baseline.url, token, maker.batch(2 * threads), threads)
        app_runs, base_runs, statuses = [], [], {}
        for _ in range(runs):
            created, seconds, statuses = post_all(served.url, token, maker.batch(per_run), threads)
            app_runs.append(created / seconds)
            made, seconds, _ = post_all(baseline.url, token, maker.batch(per_run), threads)
            base_runs.append(made / seconds)
    after = _count_listings(fixtures)
    return [
        Result(
            name="listing_creation",
            metric=f"listing drafts created per second via POST /api/v1/listings "
            f"({threads} client threads, 2 workers)",
            unit="listings/s",
            runs=app_runs,
            baseline_name="a minimal Flask+SQLAlchemy endpoint inserting the same rows "
            "(bench/baseline_writes.py)",
            baseline_runs=base_runs,
            details={
                "per_run": per_run,
                "threads": threads,
                "statuses": statuses,
                "listings_added": after - before,
                "listings_expected": 2 * runs * per_run + 4 * threads,
            },
        )
    ]


class DraftMaker:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()
        self.today = date.today()

    def resident_id(self) -> str:
        from stdnum.cn import ric

        while True:
            age = self.rng.randint(20, 70)
            birth = self.today - timedelta(days=age * 365 + self.rng.randint(10, 350))
            body = f"{self.rng.choice(_ADDRESS)}{birth:%Y%m%d}{self.rng.randrange(1000):03d}"
            number = body + ric.calc_check_digit(body + "0")
            if number not in self.used:
                self.used.add(number)
                return number

    def case_serial(self) -> str:
        while True:
            serial = str(self.rng.randrange(10**7, 10**8))
            if serial not in self.used:
                self.used.add(serial)
                return serial

    def draft(self) -> bytes:
        name = self.rng.choice(_SURNAMES) + "".join(self.rng.sample(_GIVEN, 2))
        serial = self.case_serial()
        year = self.today.year
        amount = self.rng.randrange(1_000, 5_000_000)
        body = {
            "subject": {"kind": "person", "name": name, "id_number": self.resident_id()},
            "case": {
                "case_number": f"({year})京0105执{serial}号",
                "filed_on": (self.today - timedelta(days=60)).isoformat(),
                "basis_document_number": f"({year - 1})京0105民初{serial}号",
                "basis_issuer": "北京市朝阳区人民法院",
                "obligation": f"支付货款人民币{amount}元及利息",
                "amount_due": f"{amount}.00",
            },
            "grounds": ["evades"],
        }
        return json.dumps(body, ensure_ascii=False).encode()

    def batch(self, n: int) -> list[bytes]:
        return [self.draft() for _ in range(n)]


def post_all(
    base_url: str, token: str, bodies: list[bytes], threads: int
) -> tuple[int, float, dict[str, int]]:
    """POST every body from ``threads`` threads (each its own connection and share); return the
    201s, the wall time, and the statuses seen. Anything but 201 fails the run."""
    parts = urlsplit(base_url)
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json; charset=utf-8",
    }
    statuses: dict[str, int] = {}
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(threads + 1)

    def worker(share: list[bytes]) -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
        start.wait()
        try:
            for body in share:
                conn.request("POST", "/api/v1/listings", body=body, headers=headers)
                response = conn.getresponse()
                answer = response.read()
                with lock:
                    statuses[str(response.status)] = statuses.get(str(response.status), 0) + 1
                    if response.status != 201 and len(errors) < 3:
                        errors.append(f"{response.status} {answer[:300]!r}")
        finally:
            conn.close()

    pool = [
        threading.Thread(target=worker, args=(bodies[i::threads],), daemon=True)
        for i in range(threads)
    ]
    for t in pool:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in pool:
        t.join()
    seconds = time.perf_counter() - t0
    if errors:
        raise RuntimeError(f"POST {base_url}/api/v1/listings failed: {errors}")
    return statuses.get("201", 0), seconds, statuses


def _count_listings(fixtures: Fixtures) -> int:
    conn = driver_connect(fixtures.database_url)
    try:
        cur = conn.cursor()
        cur.execute("SELECT count(*) FROM listings")
        count = cur.fetchone()[0]
        cur.close()
        return count
    finally:
        conn.close()
