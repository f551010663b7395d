"""The baseline WSGI app of the partner-check benchmark: the least a Flask app can do to answer the
same question, so that the ratio app / baseline measures what the project's own layers cost.

``POST /api/v1/partner/checks`` takes the partner API's body (``{"measure", "people": [{"id_number"}]}``)
and, for each person, does the lookup the real check does: the HMAC of the ID number with the same
key (the app's ``IdentityVault``, keyed from the same settings), then one indexed query on the
projection, ``restrictions`` by ``(person_hash, is_active)`` with the measure's bit, and answers a
small JSON (restricted or not, role, measures, since). Nothing else: no authentication (the header
is ignored), no marshmallow or flask-smorest, no check-digit validation, no join to name the
source (court, case number), no access log, plain SQLAlchemy Core on a pooled engine.

Configured like the app, from the environment ``bench.common.app_env`` builds:
``BLACKLIST_DATABASE_URL``, and ``BLACKLIST_ID_HASH_KEY`` / ``BLACKLIST_ID_ENCRYPTION_KEY`` (the
development keys of ``config.Config`` when unset, as in the app). Serve it with
``gunicorn bench.baseline_app:app``.
"""

from __future__ import annotations

import os
import unicodedata

from flask import Flask, jsonify, request
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    select,
    text,
)

from blacklist.core.identity import IdentityVault
from blacklist.restrictions.catalogue import codes_of, mask_of
from config import Config

#: The columns of the projection the lookup reads (``blacklist.restrictions.models.Restriction``).
restrictions = Table(
    "restrictions",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("role", String(32)),
    Column("person_hash", String(64)),
    Column("measures", BigInteger),
    Column("since", Date),
    Column("is_active", Boolean),
)


def _database_url() -> str:
    url = os.environ.get("BLACKLIST_DATABASE_URL")
    if not url:
        raise RuntimeError("BLACKLIST_DATABASE_URL must be set (bench.common.app_env sets it)")
    return url


def _vault() -> IdentityVault:
    return IdentityVault.from_config(
        os.environ.get("BLACKLIST_ID_HASH_KEY") or Config.ID_HASH_KEY,
        os.environ.get("BLACKLIST_ID_ENCRYPTION_KEY") or Config.ID_ENCRYPTION_KEY,
    )


engine = create_engine(_database_url())
vault = _vault()
app = Flask(__name__)


def _canonical(raw: str) -> str:
    """What the app hashes for a well-formed 18-character number: NFKC, no spaces, upper case."""
    return "".join(unicodedata.normalize("NFKC", raw or "").split()).upper()


@app.post("/api/v1/partner/checks")
def check():
    body = request.get_json()
    bit = mask_of([body["measure"]])
    people = body["people"]
    hashes = [vault.hash(_canonical(p["id_number"])) for p in people]
    reasons: dict[str, list[dict]] = {}
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                restrictions.c.person_hash,
                restrictions.c.role,
                restrictions.c.measures,
                restrictions.c.since,
            )
            .where(
                restrictions.c.person_hash.in_(sorted(set(hashes))),
                restrictions.c.is_active.is_(True),
                restrictions.c.measures.op("&")(bit) != 0,
            )
            .order_by(restrictions.c.id)
        )
        for row in rows:
            reasons.setdefault(row.person_hash, []).append(
                {"role": row.role, "measures": codes_of(row.measures), "since": str(row.since)}
            )
    return jsonify(
        results=[
            {"id_number": p["id_number"], "restricted": h in reasons, "reasons": reasons.get(h, [])}
            for p, h in zip(people, hashes, strict=True)
        ]
    )


@app.get("/healthz")
def healthz():
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    return {"status": "ok"}
