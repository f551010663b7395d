"""Synthetic national-scale data straight into the schema (issue #8, DOMAIN.md §9).

    python -m bench.generate --listings 10000000 --database postgresql+psycopg://…/blacklist_bench
    python -m bench.generate --check --database …      # the consistency checks only

What it makes, on an empty database it migrates first:

- **Through the app's own services** (so they are exactly what the app would write, audited): the
  working-day calendar, ~2,900 courts in all 31 provinces (a high court per province, an
  intermediate court per prefecture, basic courts per county, from the GB/T 2260 codes python-stdnum
  ships), a judge with an API token, the partners of DOCS/partners.md plus a push partner, and at
  the end the full performances of the listings the performance sweep will delete.
- **In bulk** (COPY on PostgreSQL, executemany on SQLite): N published listings with their subjects,
  cases, consumption orders (every published listing carries one), the restrictions projection and
  the change log, as publication would have left them. ~20% of debtors are organisations with a
  legal representative (whom the consumption order binds too). ID numbers and credit codes are valid
  (check characters, real address codes of the court's county, adults only); names follow the
  surname frequencies of ``blacklist.demo``, so 王伟 and 李娜 occur many times, as in life; the
  name of a person is a function of their ID number, so the same person has the same name wherever
  they appear. Identifiers are hashed and encrypted with the configured identity vault.
- **Work for the sweeps**: a small share of termed listings whose term ended (the expiry sweep
  deletes them) and of listings fully performed more than three working days ago (the performance
  sweep deletes them).

The bulk rows are built here rather than by the services (which would take days at ten million);
``check`` proves them equal to what the services produce: the change-log payloads of a random
sample are compared with ``listing_record`` / ``restriction_record`` computed by the app from the
stored rows, identifiers are decrypted and re-validated, and the counts of the projection and the
change log are reconciled with the listings over the whole database. The audit journal holds one
entry for the bulk load (with its counts) and stays a valid chain.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import multiprocessing
import os
import random
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from bench.common import DEFAULT_FIXTURES, Fixtures
from bench.geography import CourtSpec, courts
from blacklist.listing.rules import add_years

#: Listings per unit of work (one COPY per table per chunk).
CHUNK = 20_000
ORGANISATION_SHARE = 0.20
#: Share of ground-1-only listings (no term: they end only by deletion, Art. 2).
UNTERMED_SHARE = 0.70
BENCH_COURT = "C110105"  # 北京市朝阳区人民法院: the bench judge's court
BENCH_PASSWORD = "bench-password-1"  # a synthetic account on a synthetic database
SAMPLE_SIZE = 2000

#: The bench partners (docs/partners.md's typical registrations, plus one to push to).
PARTNERS = (
    ("caac", "中国民用航空局（订座系统）", "flight", "restriction"),
    ("railway", "中国国家铁路集团有限公司", "hsr_any_seat,emu_first_class,soft_sleeper", "restriction"),
    ("exit_entry", "国家移民管理局", "exit", "restriction"),
    ("credit_ref", "中国人民银行征信中心", "credit_record", "listing"),
    ("bank", "某商业银行", "credit,financing", "listing"),
    ("bench_push", "推送基准测试接收方", "flight,credit_record", "both"),
)  # fmt: skip

#: The tables the bulk load writes, in foreign-key order.
BULK_TABLES = (
    "subjects", "bound_persons", "cases", "listings", "restriction_orders", "restrictions",
    "changes",
)  # fmt: skip


# --------------------------------------------------------------------------------------------------
# The plan: everything a worker needs to build its chunk, deterministic for the seed


@dataclass(frozen=True)
class Plan:
    listings: int
    seed: int
    as_of: date
    now: datetime
    courts: tuple[tuple[int, CourtSpec], ...]  # (id, spec) of the courts that list
    weights: tuple[float, ...]  # cumulative
    bench_court_id: int
    hash_key: bytes
    encryption_key: bytes
    key_id: str
    expiring_every: int
    performed_every: int

    def chunks(self) -> range:
        return range((self.listings + CHUNK - 1) // CHUNK)

    def bounds(self, chunk: int) -> tuple[int, int]:
        return chunk * CHUNK, min(self.listings, (chunk + 1) * CHUNK)

    def kinds(self, chunk: int) -> list[bool]:
        """Whether each listing of the chunk is an organisation's (drawn first, on their own, so
        the main process can number every chunk's rows before the chunks are built)."""
        lo, hi = self.bounds(chunk)
        rng = random.Random(f"{self.seed}:kinds:{chunk}")
        return [
            rng.random() < ORGANISATION_SHARE and not self.is_performed(i) for i in range(lo, hi)
        ]

    def is_expiring(self, i: int) -> bool:
        return i % self.expiring_every == 1

    def is_performed(self, i: int) -> bool:
        return i % self.performed_every == 2 and not self.is_expiring(i)


@dataclass(frozen=True)
class Offsets:
    """Where a chunk's rows start in each table (ids and change seqs are assigned up front)."""

    bound_person_id: int
    restriction_id: int
    seq: int


def _offsets(plan: Plan, seq_start: int) -> list[Offsets]:
    result, bound, restriction, seq = [], 1, 1, seq_start + 1
    for chunk in plan.chunks():
        result.append(Offsets(bound, restriction, seq))
        lo, hi = plan.bounds(chunk)
        organisations = sum(plan.kinds(chunk))
        people = hi - lo
        bound += organisations
        restriction += 2 * people + organisations
        seq += 3 * people + organisations
    return result


# --------------------------------------------------------------------------------------------------
# Building one chunk's rows


def _names():
    from blacklist import demo

    return (
        demo._SURNAME_CHOICES,
        demo._SURNAME_WEIGHTS,
        demo._GIVEN_MALE,
        demo._GIVEN_FEMALE,
        demo._BRAND,
        demo._TRADES,
    )


_SURNAMES, _SURNAME_CUM, _GIVEN_M, _GIVEN_F, _BRAND, _TRADES = _names()

try:  # orjson (a dev dependency) is ~10x faster than json for the change log's payloads
    import orjson

    def _json(value: Any) -> str:
        return orjson.dumps(value).decode()

except ImportError:  # pragma: no cover - the stdlib does the same, slower

    def _json(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


#: NULL in COPY's text format. Every value a builder emits is already COPY text (see ``COLUMNS``).
N = "\\N"
_SURNAME_TOTAL = _SURNAME_CUM[-1]
_CHECK_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_OBLIGATIONS = (
    "支付货款{amount}元及利息",
    "偿还借款本金{amount}元及逾期利息",
    "支付工程款{amount}元",
    "支付租金{amount}元及违约金",
    "赔偿损失{amount}元",
    "支付劳动报酬{amount}元",
)


def _check_char(body: str) -> str:
    """ISO 7064 MOD 11-2 of a resident ID number (GB 11643-1999)."""
    total = sum(int(d) * w for d, w in zip(body, _CHECK_WEIGHTS, strict=True))
    return "10X98765432"[total % 11]


def _person_name(digest: bytes) -> str:
    """A name that is a function of the person (the HMAC of their ID number): the same person
    has the same name in every listing; surnames weighted as in life; 1 in 6 given names has one
    character, so common names (王伟, 李娜) repeat many times over ten million people."""
    pick = int.from_bytes(digest[:8], "big")
    point = pick % _SURNAME_TOTAL
    lo, hi = 0, len(_SURNAME_CUM) - 1
    while lo < hi:  # bisect over the cumulative weights
        mid = (lo + hi) // 2
        if _SURNAME_CUM[mid] > point:
            hi = mid
        else:
            lo = mid + 1
    pool = _GIVEN_F if digest[8] & 1 else _GIVEN_M
    given = pool[digest[9] % len(pool)]
    if digest[10] % 6:
        given += pool[digest[11] % len(pool)]
    return _SURNAMES[lo] + given


@lru_cache(maxsize=65536)
def _name_key(name: str) -> str:
    from blacklist.core.names import normalize_name

    return normalize_name(name)


class _Builder:
    """Builds the rows of one chunk. Row tuples follow ``COLUMNS``."""

    def __init__(self, plan: Plan) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        from blacklist.core.identity import organisation_code_check_char, uscc_check_char
        from blacklist.listing.rules import GROUND_LABELS, Ground
        from blacklist.restrictions.catalogue import codes_of
        from blacklist.restrictions.rules import consumption_order_mask, listing_measures_mask

        self.plan = plan
        self.aead = AESGCM(plan.encryption_key)
        self.aad = plan.key_id.encode()
        self.org_check = organisation_code_check_char
        self.uscc_check = uscc_check_char
        self.ground_labels = {g.value: GROUND_LABELS[g] for g in Ground}
        self.order_mask = consumption_order_mask()
        from blacklist.listing.rules import SubjectKind

        self.listing_mask = {
            "person": listing_measures_mask(SubjectKind.PERSON),
            "organisation": listing_measures_mask(SubjectKind.ORGANISATION),
        }
        self.codes = {m: codes_of(m) for m in (self.order_mask, *self.listing_mask.values())}
        self.exemptions_none = {
            "has_security": None,
            "seized_assets_sufficient": None,
            "later_in_order": None,
        }
        self.exemptions_answered = dict.fromkeys(self.exemptions_none, False)

    # identifiers ------------------------------------------------------------------------------

    def encrypt(self, identifier: str, rng: random.Random) -> str:
        nonce = rng.randbytes(12)  # deterministic for the seed; unique per (seed, chunk, draw)
        sealed = self.aead.encrypt(nonce, identifier.encode(), self.aad)
        return f"{self.plan.key_id}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def person(self, rng: random.Random, court: CourtSpec, on: date) -> dict[str, Any]:
        code = (
            court.address_codes[rng.randrange(len(court.address_codes))]
            if rng.random() < 0.8
            else rng.choice(self.plan.courts)[1].address_codes[0]
        )
        age_days = rng.randrange(19 * 365 + 5, 75 * 365)  # adults only (Art. 4)
        birth = on - timedelta(days=age_days)
        sequence = rng.randrange(0, 900)  # 900–999 are kept for people who are not listed
        body = f"{code}{birth:%Y%m%d}{sequence:03d}"
        number = body + _check_char(body)
        digest = hmac.new(self.plan.hash_key, number.encode(), hashlib.sha256).digest()
        return {
            "number": number,
            "name": _person_name(digest),
            "hash": digest.hex(),
            "cipher": self.encrypt(number, rng),
            "masked": number[:10] + "****" + number[14:],
            "sex": "male" if sequence % 2 else "female",
            "birth_date": birth.isoformat(),
        }

    def organisation(self, i: int, rng: random.Random, court: CourtSpec) -> dict[str, Any]:
        serial, org8 = i, ""
        for _ in range(6):  # the listing index, written in the code's alphabet: unique
            serial, digit = divmod(serial, 31)
            org8 = _USCC_ALPHABET[digit] + org8
        org8 = "MA" + org8
        body = "91" + court.address_codes[0] + org8 + self.org_check(org8)
        code = body + self.uscc_check(body)
        trades = len(_TRADES)
        n = i // trades  # (brand, trade) is unique for the first ~800,000 organisations
        brand = _BRAND[n % 34] + _BRAND[(n // 34) % 34] + _BRAND[(n // 1156) % 34]
        trade = _TRADES[i % trades]
        suffix = "股份有限公司" if rng.random() < 0.1 else "有限公司"
        name = f"{court.name.removesuffix('人民法院')[:6]}{brand}{trade}{suffix}"
        return {
            "number": code,
            "name": name,
            "hash": hmac.new(self.plan.hash_key, code.encode(), hashlib.sha256).hexdigest(),
            "cipher": self.encrypt(code, rng),
            "masked": code,
        }

    # one chunk --------------------------------------------------------------------------------

    def chunk(self, chunk: int, offsets: Offsets) -> tuple[dict[str, list[tuple]], dict]:
        plan = self.plan
        lo, hi = plan.bounds(chunk)
        kinds = plan.kinds(chunk)
        rng = random.Random(f"{plan.seed}:rows:{chunk}")
        rows: dict[str, list[tuple]] = {table: [] for table in BULK_TABLES}
        # Public ids as the app makes them (base32 of 80 random bits): 10 bytes make exactly 16
        # characters, so one call encodes the whole chunk's.
        ids = base64.b32encode(rng.randbytes(20 * (hi - lo))).decode().lower()
        sample: dict[str, list[str]] = {
            "listed_person_ids": [],
            "legal_rep_ids": [],
            "org_codes": [],
            "common_names": [],
            "public_ids": [],
            "performed_listing_ids": [],
            "expiring_listing_ids": [],
        }
        bound_id, restriction_id, seq = (
            offsets.bound_person_id,
            offsets.restriction_id,
            offsets.seq,
        )
        per_chunk = max(1, SAMPLE_SIZE * CHUNK // max(plan.listings, 1))
        for i, organisation in zip(range(lo, hi), kinds, strict=True):
            lid = i + 1
            expiring, performed = plan.is_expiring(i), plan.is_performed(i)
            if performed:
                court_id, court = next(c for c in plan.courts if c[0] == plan.bench_court_id)
            else:
                court_id, court = rng.choices(plan.courts, cum_weights=plan.weights)[0]
            # Dates: a termed listing still running was decided less than two years ago.
            termed = expiring or (not performed and rng.random() >= UNTERMED_SHARE)
            if expiring:
                decided = plan.as_of - timedelta(days=730 + rng.randrange(0, 3))
            elif termed:
                decided = plan.as_of - timedelta(days=rng.randrange(20, 700))
            elif performed:
                decided = plan.as_of - timedelta(days=rng.randrange(60, 700))
            else:
                decided = plan.as_of - timedelta(days=rng.randrange(20, 8 * 365))
            ends_on = add_years(decided, 2) if termed else None
            filed = decided - timedelta(days=rng.randrange(30, 400))
            at = datetime(decided.year, decided.month, decided.day, 1, tzinfo=UTC) + timedelta(
                seconds=rng.randrange(0, 30000)
            )
            if termed:
                grounds = [
                    rng.choice(
                        (
                            "evades",
                            "false_asset_report",
                            "obstructs",
                            "breaches_consumption_order",
                            "breaches_settlement",
                        )
                    )
                ]
                if rng.random() < 0.3:
                    grounds.insert(0, "refuses_with_ability")
            else:
                grounds = ["refuses_with_ability"]
            exemptions = (
                self.exemptions_answered if "refuses_with_ability" in grounds
                else self.exemptions_none
            )  # fmt: skip
            public_id = ids[32 * (i - lo) : 32 * (i - lo) + 16]
            order_public_id = ids[32 * (i - lo) + 16 : 32 * (i - lo) + 32]
            sid, decided_s, at_s = str(lid), decided.isoformat(), at.isoformat()
            court_s = str(court_id)

            # Subject (and the legal representative of an organisation).
            kind = "organisation" if organisation else "person"
            if organisation:
                debtor = self.organisation(i, rng, court)
                rep = self.person(rng, court, decided)
                rows["subjects"].append((
                    sid, kind, debtor["name"], _name_key(debtor["name"]), debtor["hash"],
                    debtor["cipher"], debtor["masked"], N, N,
                ))  # fmt: skip
                rows["bound_persons"].append((
                    str(bound_id), sid, "legal_representative", rep["name"],
                    _name_key(rep["name"]), rep["hash"], rep["cipher"], rep["masked"], rep["sex"],
                    rep["birth_date"],
                ))  # fmt: skip
                bound_id += 1
            else:
                debtor = self.person(rng, court, decided)
                rep = None
                rows["subjects"].append((
                    sid, kind, debtor["name"], _name_key(debtor["name"]), debtor["hash"],
                    debtor["cipher"], debtor["masked"], debtor["sex"], debtor["birth_date"],
                ))  # fmt: skip

            # Case.
            number = rng.randrange(1, 30000)
            case_number = f"（{filed.year}）{court.case_code}执{number}号"
            case_key = f"({filed.year}){court.case_code}执{number}号"
            amount = Decimal(int(10 ** rng.uniform(3.5, 7.3)) // 100 * 100 + 100).quantize(
                Decimal("0.01")
            )
            basis = f"（{filed.year - 1}）{court.case_code}民初{rng.randrange(100, 30000)}号"
            obligation = _OBLIGATIONS[rng.randrange(len(_OBLIGATIONS))].format(amount=amount)
            rows["cases"].append((
                sid, court_s, case_number, case_key, filed.isoformat(), basis, court.name,
                obligation, str(amount), at_s,
            ))  # fmt: skip

            # Listing: signed and published on the decision day (no grace period).
            by_creditor = rng.random() < 0.4
            creditor = _person_name(rng.randbytes(12)) if by_creditor else None
            rows["listings"].append((
                sid, public_id, court_s, sid, sid, "published", _json(grounds),
                _json(exemptions), "0", "t" if by_creditor else "f", creditor or N,
                _name_key(creditor) if creditor else N,
                (decided - timedelta(days=rng.randrange(1, 15))).isoformat() if by_creditor else N,
                case_number, decided_s, decided_s, decided_s, "0",
                ends_on.isoformat() if ends_on else N, N, N, "f",
                N, N, N, N, N, N, N, N, at_s, at_s, "1", _name_key(debtor["name"]),
            ))  # fmt: skip

            # The listing's consumption order, issued on publication.
            rows["restriction_orders"].append((
                sid, order_public_id, "consumption", court_s, sid, N, N, N, N, N,
                str(self.order_mask), "active", N, N, decided_s, N, N, N, N, N, at_s, N,
            ))  # fmt: skip

            # The listing record, then the projection rows and their records.
            performance_amount = "0.00"
            listing_payload = {
                "public_id": public_id, "kind": kind, "name": debtor["name"],
                "id_cipher": debtor["cipher"],
                "sex": None if organisation else debtor["sex"],
                "birth_date": None if organisation else debtor["birth_date"],
                "legal_representative": (
                    {"name": rep["name"], "id_cipher": rep["cipher"]} if rep else None
                ),
                "bound_persons": [],
                "court": {"code": court.code, "name": court.name, "province": court.province},
                "case_number": case_number, "filed_on": filed.isoformat(),
                "basis_document_number": basis, "basis_issuer": court.name,
                "obligation": obligation, "amount_due": f"{amount:.2f}",
                "performance": "none", "performed_amount": performance_amount,
                "unperformed_amount": f"{amount:.2f}",
                "grounds": grounds, "conduct": [self.ground_labels[g] for g in grounds],
                "decision_number": case_number, "decided_on": decided_s,
                "published_on": decided_s,
                "ends_on": ends_on.isoformat() if ends_on else None, "extension_years": 0,
            }  # fmt: skip
            listing_mask = self.listing_mask[kind]
            rows["changes"].append((
                str(seq), "listing", "upsert", f"listing:{public_id}", str(listing_mask),
                "listing", sid, _json(listing_payload), at_s,
            ))  # fmt: skip
            seq += 1
            source_listing = {
                "kind": "listing", "public_id": public_id, "listing_public_id": public_id,
                "court": court.name, "case_number": case_number,
            }  # fmt: skip
            source_order = {
                "kind": "consumption_order", "public_id": order_public_id,
                "listing_public_id": public_id, "court": court.name, "case_number": case_number,
            }  # fmt: skip
            people = [("debtor", kind, debtor)]
            if rep:
                people.append(("legal_representative", "person", rep))
            projection = [("listing", N, *people[0], listing_mask, source_listing)]
            projection += [
                ("consumption_order", sid, role, pkind, p, self.order_mask, source_order)
                for role, pkind, p in people
            ]
            for source_kind, order_id, role, pkind, p, mask, source in projection:
                rid = str(restriction_id)
                rows["restrictions"].append((
                    rid, source_kind, order_id, sid, court_s, role, pkind, p["name"],
                    _name_key(p["name"]), p["hash"], p["cipher"], p["masked"], str(mask),
                    decided_s, "t", N, N, N,
                ))  # fmt: skip
                record = {
                    "person": {"kind": pkind, "name": p["name"], "id_cipher": p["cipher"]},
                    "role": role, "measures": self.codes[mask], "since": decided_s,
                    "source": source,
                }  # fmt: skip
                rows["changes"].append((
                    str(seq), "restriction", "upsert", f"restriction:{rid}", str(mask),
                    "restriction", rid, _json(record), at_s,
                ))  # fmt: skip
                restriction_id += 1
                seq += 1

            # Samples for the clients of the benchmarks.
            if performed:
                sample["performed_listing_ids"].append(str(lid))
            elif expiring:
                sample["expiring_listing_ids"].append(str(lid))
            elif len(sample["public_ids"]) < per_chunk:
                sample["public_ids"].append(public_id)
                if organisation:
                    sample["org_codes"].append(debtor["number"])
                    sample["legal_rep_ids"].append(rep["number"])
                else:
                    sample["listed_person_ids"].append(debtor["number"])
                    sample["common_names"].append(debtor["name"])
        return rows, sample


COLUMNS: dict[str, tuple[str, ...]] = {
    "subjects": (
        "id", "kind", "name", "name_key", "id_hash", "id_cipher", "id_masked", "sex", "birth_date",
    ),
    "bound_persons": (
        "id", "subject_id", "role", "name", "name_key", "id_hash", "id_cipher", "id_masked", "sex",
        "birth_date",
    ),
    "cases": (
        "id", "court_id", "case_number", "case_number_key", "filed_on", "basis_document_number",
        "basis_issuer", "obligation", "amount_due", "created_at",
    ),
    "listings": (
        "id", "public_id", "court_id", "subject_id", "case_id", "status", "grounds", "exemptions",
        "grace_days", "by_creditor", "creditor_name", "creditor_key", "applied_on",
        "decision_number", "decided_on", "publish_on", "published_on", "extension_years",
        "ends_on", "deletion_due_on", "deletion_due_reason", "early_deletion_proposed",
        "removal_kind", "removal_reason", "removal_note", "removed_on", "created_by_id",
        "submitted_by_id", "approved_by_id", "removed_by_id", "created_at", "updated_at",
        "version", "name_key",
    ),
    "restriction_orders": (
        "id", "public_id", "kind", "court_id", "listing_id", "subject_id", "case_id",
        "person_role", "organisation_name", "organisation_code", "measures", "status",
        "decision_number", "reasons", "issued_on", "issued_by_id", "lifted_on", "lift_reason",
        "lift_note", "lifted_by_id", "created_at", "updated_at",
    ),
    "restrictions": (
        "id", "source_kind", "order_id", "listing_id", "court_id", "role", "person_kind",
        "person_name", "person_name_key", "person_hash", "person_cipher", "person_masked",
        "measures", "since", "is_active", "lifted_on", "lifted_at", "lift_reason",
    ),
    "changes": (
        "seq", "type", "action", "key", "measures", "entity_kind", "entity_id", "payload",
        "created_at",
    ),
}  # fmt: skip


# --------------------------------------------------------------------------------------------------
# Writing: COPY on PostgreSQL


def _copy_text(rows: list[tuple[str, ...]]) -> bytes:
    """COPY's text format. The builders emit COPY text already (dates ISO, ``N`` for NULL, t/f);
    what could hold a tab, a newline or a backslash (JSON, names) is checked here, once per table,
    and escaped if it ever does."""
    text = "\n".join(map("\t".join, rows)) + "\n"
    if "\\" in text.replace("\\N", "") or "\r" in text or text.count("\n") != len(rows):
        text = "".join("\t".join(map(_escape, row)) + "\n" for row in rows)
    return text.encode()


def _escape(value: str) -> str:
    if value == N:
        return value
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
        .replace("\r", "\\r")
    )  # fmt: skip


def _libpq_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


_WORKER: dict[str, Any] = {}


def _pg_worker_init(plan: Plan, url: str) -> None:
    import psycopg

    _WORKER["builder"] = _Builder(plan)
    _WORKER["conn"] = psycopg.connect(_libpq_url(url), autocommit=False)
    _WORKER["conn"].execute("SET synchronous_commit = off")


def _pg_chunk(args: tuple[int, Offsets]) -> tuple[int, dict]:
    chunk, offsets = args
    rows, sample = _WORKER["builder"].chunk(chunk, offsets)
    conn = _WORKER["conn"]
    with conn.cursor() as cur:
        for table in BULK_TABLES:
            if not rows[table]:
                continue
            columns = ", ".join(COLUMNS[table])
            with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                copy.write(_copy_text(rows[table]))
    conn.commit()
    return chunk, sample


def _pg_secondary_objects(conn, tables: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """The DDL of the bulk tables' indexes (but primary keys) and foreign keys and unique
    constraints, to drop before the load and recreate after (a COPY into indexed tables is several
    times slower than building the indexes once)."""
    constraints = conn.execute(
        """
        SELECT format('ALTER TABLE %%I ADD CONSTRAINT %%I %%s', c.conrelid::regclass::text,
                      c.conname, pg_get_constraintdef(c.oid)),
               format('ALTER TABLE %%I DROP CONSTRAINT %%I', c.conrelid::regclass::text, c.conname)
        FROM pg_constraint c
        WHERE c.contype IN ('f', 'u') AND c.conrelid::regclass::text = ANY(%s)
           OR c.contype = 'f' AND c.confrelid::regclass::text = ANY(%s)
        """,
        (list(tables), list(tables)),
    ).fetchall()
    indexes = conn.execute(
        """
        SELECT i.indexdef, format('DROP INDEX %%I', i.indexname)
        FROM pg_indexes i
        WHERE i.tablename = ANY(%s) AND i.schemaname = current_schema()
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
        """,
        (list(tables),),
    ).fetchall()
    return [c[0] for c in constraints] + [i[0] for i in indexes], [c[1] for c in constraints] + [
        i[1] for i in indexes
    ]


def _pg_recreate(url: str, ddl: list[str]) -> None:
    """Recreate indexes (two at a time, one per core) and then the constraints."""
    import psycopg

    indexes = [d for d in ddl if d.startswith("CREATE")]
    constraints = [d for d in ddl if not d.startswith("CREATE")]
    # Unique constraints first (they build indexes the foreign keys may use), then the rest.
    constraints.sort(key=lambda d: "FOREIGN KEY" in d)
    with multiprocessing.get_context("fork").Pool(2) as pool:
        pool.map(
            _pg_execute,
            [(url, d) for d in indexes + [c for c in constraints if "FOREIGN KEY" not in c]],
        )
    with psycopg.connect(_libpq_url(url), autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '1GB'")
        for statement in constraints:
            if "FOREIGN KEY" in statement:
                conn.execute(statement)


def _pg_execute(args: tuple[str, str]) -> None:
    import psycopg

    url, statement = args
    with psycopg.connect(_libpq_url(url), autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '1GB'")
        conn.execute(statement)


def _load_postgres(url: str, plan: Plan, offsets: list[Offsets], progress) -> dict:
    import psycopg

    with psycopg.connect(_libpq_url(url), autocommit=True) as conn:
        create, drop = _pg_secondary_objects(conn, BULK_TABLES)
        for statement in drop:
            conn.execute(statement)
    samples: dict[int, dict] = {}
    work = [(chunk, offsets[chunk]) for chunk in plan.chunks()]
    try:
        with multiprocessing.get_context("fork").Pool(
            2, initializer=_pg_worker_init, initargs=(plan, url)
        ) as pool:
            for chunk, sample in pool.imap_unordered(_pg_chunk, work):
                samples[chunk] = sample
                progress(len(samples), len(work))
    finally:
        started = time.monotonic()
        _pg_recreate(url, create)
        print(f"  indexes and constraints rebuilt in {time.monotonic() - started:.0f} s",
              flush=True)  # fmt: skip
    with psycopg.connect(_libpq_url(url), autocommit=True) as conn:
        for table in BULK_TABLES:
            key = "seq" if table == "changes" else "id"
            sequence = conn.execute(
                "SELECT pg_get_serial_sequence(%s, %s)", (table, key)
            ).fetchone()[0]
            if sequence:
                conn.execute(
                    f"SELECT setval(%s, (SELECT coalesce(max({key}), 1) FROM {table}))",
                    (sequence,),
                )
        conn.execute("VACUUM ANALYZE")
    return samples


# --------------------------------------------------------------------------------------------------
# Writing: executemany on SQLite


def _load_sqlite(db, plan: Plan, offsets: list[Offsets], progress) -> dict:
    from sqlalchemy import insert

    from blacklist.db import Base

    builder = _Builder(plan)
    samples = {}
    for chunk in plan.chunks():
        rows, samples[chunk] = builder.chunk(chunk, offsets[chunk])
        with db.engine.begin() as conn:
            for table in BULK_TABLES:
                if rows[table]:
                    model = Base.metadata.tables[table]
                    parse = [_python_value(model.c[name].type) for name in COLUMNS[table]]
                    records = [
                        {
                            name: None if text == N else convert(text)
                            for name, convert, text in zip(COLUMNS[table], parse, row, strict=True)
                        }
                        for row in rows[table]
                    ]
                    conn.execute(insert(model), records)
        progress(chunk + 1, len(plan.chunks()))
    return samples


def _python_value(column_type):
    """COPY text back to the Python value SQLAlchemy binds, by the column's type."""
    from sqlalchemy import JSON, Boolean, Date, DateTime, Integer, Numeric

    from blacklist.db import UTCDateTime

    if isinstance(column_type, JSON):
        return json.loads
    if isinstance(column_type, Boolean):
        return lambda text: text == "t"
    if isinstance(column_type, (UTCDateTime, DateTime)):
        return datetime.fromisoformat
    if isinstance(column_type, Date):
        return date.fromisoformat
    if isinstance(column_type, Numeric):
        return Decimal
    if isinstance(column_type, Integer):
        return int
    return str


# --------------------------------------------------------------------------------------------------
# The whole run


def generate(
    url: str,
    *,
    listings: int,
    seed: int = 1,
    fixtures_path: Path | str = DEFAULT_FIXTURES,
    as_of: date | None = None,
    quiet: bool = False,
) -> Fixtures:
    """Fill an empty database (migrated here) with ``listings`` published listings and everything
    around them; write and return the ``Fixtures`` the benchmarks use."""
    from sqlalchemy import func, select

    from blacklist import create_app
    from blacklist.audit import services as audit
    from blacklist.core.actor import Actor
    from blacklist.core.clock import CHINA_TZ, FixedClock
    from blacklist.db import get_db
    from blacklist.migrate import upgrade_database
    from blacklist.staff.models import Court

    def say(text: str) -> None:
        if not quiet:
            print(text, flush=True)

    started = time.monotonic()
    app = create_app({"DATABASE_URL": url, "SCHEDULER_IN_PROCESS": False, "TESTING": False})
    db = get_db(app)
    upgrade_database(db.engine)
    with db.session() as session:
        if session.scalar(select(func.count()).select_from(Court)):
            raise SystemExit(f"{_safe(url)} already holds data: generate into an empty database")
    as_of = as_of or datetime.now(CHINA_TZ).date()
    clock = FixedClock(datetime(as_of.year, as_of.month, as_of.day, 9, tzinfo=CHINA_TZ))
    system = Actor.system("bench-generate")

    say(f"setting up courts, staff and partners in {_safe(url)}")
    court_ids, staff, partners = _setup(db, clock, system, seed)
    vault = db.vault
    specs = {c.code: c for c in courts()}
    listing_courts = tuple(
        (court_ids[code], spec) for code, spec in specs.items() if spec.level != "high"
    )
    weights, total = [], 0.0
    for _id, spec in listing_courts:  # basic courts carry most enforcement cases
        total += 1.0 if spec.level == "basic" else 0.4
        weights.append(total)
    due = max(10, min(listings // 200, 5000)) if listings >= 50 else 1
    plan = Plan(
        listings=listings,
        seed=seed,
        as_of=as_of,
        now=clock.now(),
        courts=listing_courts,
        weights=tuple(weights),
        bench_court_id=court_ids[BENCH_COURT],
        hash_key=vault._hash_key,
        encryption_key=_encryption_key(app),
        key_id=vault.key_id,
        expiring_every=max(3, listings // due),
        performed_every=max(3, listings // due),
    )
    with db.session() as session:
        from blacklist.changelog.writer import last_seq

        seq_start = last_seq(session)
    offsets = _offsets(plan, seq_start)

    last_report = [0.0]

    def progress(done: int, total_chunks: int) -> None:
        if time.monotonic() - last_report[0] > 15 or done == total_chunks:
            last_report[0] = time.monotonic()
            rate = min(done * CHUNK, listings) / (time.monotonic() - load_started)
            say(f"  {min(done * CHUNK, listings):,}/{listings:,} listings ({rate:,.0f}/s)")

    say(f"writing {listings:,} listings in {len(plan.chunks())} chunk(s)")
    load_started = time.monotonic()
    if db.dialect == "postgresql":
        db.dispose()
        samples = _load_postgres(url, plan, offsets, progress)
    else:
        samples = _load_sqlite(db, plan, offsets, progress)
    sample: dict[str, list[str]] = {}
    for chunk in sorted(samples):
        for name, values in samples[chunk].items():
            sample.setdefault(name, []).extend(values)

    say("recording full performances for the performance sweep")
    _record_performances(db, sample["performed_listing_ids"], staff, as_of)
    counts = _counts(db)
    with db.session() as session:
        audit.record(
            session, system, "bench.data_generated", None, clock=clock,
            after={"listings": listings, "seed": seed, "as_of": as_of, "counts": counts},
        )  # fmt: skip
        session.commit()
    sample["unlisted_person_ids"] = _unlisted(seed, 2000)
    fixtures = Fixtures(
        database_url=url,
        listings=listings,
        seed=seed,
        as_of=as_of.isoformat(),
        partners=partners,
        staff=staff,
        sample=sample,
        counts=counts,
    )
    fixtures.save(Path(fixtures_path))
    db.dispose()
    say(f"done in {time.monotonic() - started:.0f} s: {counts}")
    return fixtures


def _safe(url: str) -> str:
    """The URL without a password, for messages."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _encryption_key(app) -> bytes:
    key_b64 = app.config["ID_ENCRYPTION_KEY"].strip().rpartition(":")[2]
    return base64.b64decode(key_b64)


def _setup(db, clock, system, seed: int) -> tuple[dict[str, int], dict, dict]:
    from datetime import timedelta as _td

    from sqlalchemy import select

    from blacklist.core.actor import Role
    from blacklist.holidays.services import seed_from_chinesecalendar
    from blacklist.partners import services as partners
    from blacklist.staff import services as staff
    from blacklist.staff.models import Court

    with db.session() as session:
        seed_from_chinesecalendar(session, actor=system, clock=clock)
        session.commit()
        for spec in courts():
            staff.create_court(
                session, code=spec.code, name=spec.name, province=spec.province,
                parent_code=spec.parent, actor=system, clock=clock,
            )  # fmt: skip
        court_ids = {code: id_ for code, id_ in session.execute(select(Court.code, Court.id))}
        judge = staff.create_staff_user(
            session, court_code=BENCH_COURT, role=Role.JUDGE, username="bench-judge",
            password=BENCH_PASSWORD, display_name="基准测试法官", actor=system, clock=clock,
        )  # fmt: skip
        token, _row = staff.issue_api_token(
            session, judge, lifetime=_td(days=365), ip=None, clock=clock
        )
        credentials = {}
        for code, name, measures, scope in PARTNERS:
            _partner, creds = partners.create_partner(
                session, code=code, name=name, measures=measures, scope=scope,
                actor=system, clock=clock,
            )  # fmt: skip
            credentials[code] = {
                "key": creds.api_key,
                "secret": creds.signing_secret,
                "measures": measures.split(","),
                "scope": scope,
            }
    staff_info = {
        "court_code": BENCH_COURT,
        "username": "bench-judge",
        "password": BENCH_PASSWORD,
        "api_token": token,
    }
    return court_ids, staff_info, credentials


def _record_performances(db, listing_ids: list[str], staff_info: dict, as_of: date) -> None:
    """Full performance a week ago, recorded by the judge through the listing service: the order
    is lifted, the change log told, and the deletion falls due three working days later (Art. 10),
    so on ``as_of`` the performance sweep has these to delete."""
    from sqlalchemy import select

    from blacklist.core.clock import CHINA_TZ, FixedClock
    from blacklist.listing import services
    from blacklist.listing.inputs import PaymentIn
    from blacklist.listing.models import Listing
    from blacklist.staff.models import StaffUser

    paid_on = as_of - timedelta(days=7)
    clock = FixedClock(datetime(paid_on.year, paid_on.month, paid_on.day, 15, tzinfo=CHINA_TZ))
    with db.session() as session:
        judge = session.scalar(
            select(StaffUser).where(StaffUser.username == staff_info["username"])
        )
        actor = judge.as_actor()
    for listing_id in listing_ids:
        with db.session() as session:
            listing = session.get(Listing, int(listing_id))
            services.record_performance(
                session, listing.id,
                PaymentIn(amount=listing.case.amount_due, performed_on=paid_on, full=True),
                actor=actor, clock=clock,
            )  # fmt: skip


def _counts(db) -> dict[str, int]:
    from sqlalchemy import text

    with db.session() as session:
        return {
            table: session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in (*BULK_TABLES, "courts", "audit_entries")
        }


def _unlisted(seed: int, count: int) -> list[str]:
    """Valid ID numbers of adults nobody listed: sequence codes 900–999 are never drawn for
    listed people or legal representatives."""
    rng = random.Random(f"{seed}:unlisted")
    specs = [c for c in courts() if c.level == "basic"]
    numbers = []
    for _ in range(count):
        code = rng.choice(specs).address_codes[0]
        birth = date(1950, 1, 1) + timedelta(days=rng.randrange(0, 50 * 365))
        body = f"{code}{birth:%Y%m%d}{rng.randrange(900, 1000):03d}"
        numbers.append(body + _check_char(body))
    return numbers


# --------------------------------------------------------------------------------------------------
# Consistency checks


def check(url: str, *, sample_size: int = 500, seed: int = 7, quiet: bool = False) -> list[str]:
    """Problems found (none means consistent). Over the whole database: the audit chain, the change
    log's seqs, the projection against the listings and orders. On a random sample of listings:
    the change log's last payloads equal what the app's own record functions make of the stored
    rows; identifiers decrypt, validate, hash and mask as the app would store them."""
    from sqlalchemy import func, select, text

    from blacklist import create_app
    from blacklist.audit import services as audit
    from blacklist.changelog.models import Change
    from blacklist.core.identity import mask_id_number, parse_credit_code, parse_resident_id
    from blacklist.db import get_db
    from blacklist.listing.models import Listing
    from blacklist.listing.records import listing_record
    from blacklist.restrictions.models import Restriction
    from blacklist.restrictions.projection import restriction_record

    app = create_app({"DATABASE_URL": url, "SCHEDULER_IN_PROCESS": False})
    db = get_db(app)
    problems: list[str] = []

    def count(sql: str) -> int:
        return session.execute(text(sql)).scalar_one()

    def expect(sql: str, wanted: int | str, what: str) -> None:
        got = count(sql)
        wanted_value = count(wanted) if isinstance(wanted, str) else wanted
        if got != wanted_value:
            problems.append(f"{what}: {got} ≠ {wanted_value}")

    with db.session() as session:
        result = audit.verify(session)
        if not getattr(result, "ok", result):
            problems.append(f"audit chain broken: {result}")
        expect("SELECT count(*) FROM changes", "SELECT coalesce(max(seq), 0) FROM changes",
               "change log seqs are not gap-free (count vs max seq)")  # fmt: skip
        expect(
            "SELECT count(*) FROM restrictions r JOIN listings l ON l.id = r.listing_id "
            "WHERE r.source_kind = 'listing' AND r.is_active AND l.status = 'published'",
            "SELECT count(*) FROM listings WHERE status = 'published'",
            "published listings without exactly one active listing restriction",
        )
        expect(
            "SELECT count(*) FROM restrictions WHERE source_kind = 'listing' AND is_active",
            "SELECT count(*) FROM listings WHERE status = 'published'",
            "active listing restrictions of listings not published",
        )
        expect(
            "SELECT count(*) FROM restrictions r JOIN restriction_orders o ON o.id = r.order_id "
            "WHERE r.is_active AND o.status = 'active' AND o.listing_id IS NOT NULL",
            "SELECT (SELECT count(*) FROM restriction_orders o WHERE o.status = 'active' "
            "AND o.listing_id IS NOT NULL) + (SELECT count(*) FROM bound_persons b "
            "JOIN listings l ON l.subject_id = b.subject_id JOIN restriction_orders o "
            "ON o.listing_id = l.id AND o.status = 'active')",
            "active order restrictions ≠ the people active listing orders bind",
        )
        expect(
            "SELECT count(*) FROM restrictions r JOIN restriction_orders o ON o.id = r.order_id "
            "WHERE r.is_active AND o.status <> 'active'",
            0,
            "active restrictions of lifted orders",
        )
        expect(
            "SELECT count(*) FROM listings l JOIN subjects s ON s.id = l.subject_id "
            "WHERE l.name_key <> s.name_key",
            0,
            "listings whose name_key is not their subject's",
        )
        expect(
            "SELECT count(*) FROM listings l WHERE l.status = 'published' AND NOT EXISTS "
            "(SELECT 1 FROM changes c WHERE c.key = 'listing:' || l.public_id)",
            0,
            "published listings the change log never announced",
        )

        ids = list(session.scalars(select(Listing.id).where(Listing.status == "published")
                                   .order_by(func.random()).limit(sample_size)))  # fmt: skip
        vault = db.vault
        for listing in session.scalars(select(Listing).where(Listing.id.in_(ids))):
            where = f"listing {listing.id}"
            last = _last_payload(session, Change, f"listing:{listing.public_id}")
            if last != listing_record(listing):
                problems.append(f"{where}: the change log's record differs from listing_record")
            subject = listing.subject
            number = vault.decrypt(subject.id_cipher)
            if vault.hash(number) != subject.id_hash:
                problems.append(f"{where}: id_hash is not the vault's hash of the identifier")
            try:
                if subject.kind.value == "person":
                    parsed = parse_resident_id(number)
                    if (subject.id_masked != mask_id_number(number)
                            or subject.birth_date != parsed.birth_date
                            or subject.sex != parsed.sex.value):  # fmt: skip
                        problems.append(f"{where}: masked form, birth date or sex disagree")
                else:
                    parse_credit_code(number)
                    if not subject.bound_persons:
                        problems.append(f"{where}: organisation without a legal representative")
                for person in subject.bound_persons:
                    parse_resident_id(vault.decrypt(person.id_cipher))
            except Exception as error:
                problems.append(f"{where}: invalid identifier ({type(error).__name__})")
            for row in session.scalars(
                select(Restriction).where(
                    Restriction.listing_id == listing.id, Restriction.is_active.is_(True)
                )
            ):
                if _last_payload(session, Change, row.key) != restriction_record(row, listing):
                    problems.append(f"{where}: {row.key}'s record differs from restriction_record")
    db.dispose()
    if not quiet:
        print(f"{len(problems)} problem(s)" + "".join(f"\n  {p}" for p in problems[:50]))
    return problems


def _last_payload(session, change_model, key: str):
    from sqlalchemy import select

    return session.scalar(
        select(change_model.payload)
        .where(change_model.key == key)
        .order_by(change_model.seq.desc())
        .limit(1)
    )


# --------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.generate", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--listings", type=int, default=100_000)
    parser.add_argument("--database", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--fixtures", type=Path, default=DEFAULT_FIXTURES)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--as-of", type=date.fromisoformat, default=None,
                        help="the generator's today (default: today in Beijing)")  # fmt: skip
    parser.add_argument("--check", action="store_true", help="only run the consistency checks")
    parser.add_argument("--no-check", action="store_true", help="skip the checks after generating")
    args = parser.parse_args(argv)
    if not args.database:
        parser.error("--database (or BENCH_DATABASE_URL) is required")
    if not args.check:
        generate(args.database, listings=args.listings, seed=args.seed,
                 fixtures_path=args.fixtures, as_of=args.as_of)  # fmt: skip
        if args.no_check:
            return 0
    started = time.monotonic()
    problems = check(args.database)
    print(f"consistency checks took {time.monotonic() - started:.0f} s")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
