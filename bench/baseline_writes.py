"""The write-side baseline of ``listing_creation``: a minimal Flask + SQLAlchemy app that stores the
same rows a listing draft stores (a subject, a case, a listing in ``draft``), from the same JSON
body, with nothing else: no bearer-token check, no schema, no validation of the ID number, the
case number or the grounds, no duplicate check, no journal lock, no audit entry, and a two-field
answer instead of the staff view. Derived columns are computed as the app computes them (keyed hash
and encryption of the ID number, the name and case-number search keys), so the rows are the same.

    BLACKLIST_DATABASE_URL=... BENCH_STAFF_USERNAME=bench-judge gunicorn bench.baseline_writes:app
"""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime

from flask import Flask, Response, request
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

import blacklist.models  # noqa: F401  (every mapper configured)
from bench.paths._support import vault as make_vault
from blacklist.core.identity import mask_id_number
from blacklist.core.names import normalize_name
from blacklist.db import Database
from blacklist.listing.models import Case, Listing, Subject
from blacklist.listing.rules import ListingStatus, SubjectKind, case_number_key
from blacklist.staff.models import StaffUser

app = Flask(__name__)
vault = make_vault()
# The app's engine set-up (pool pre-ping; on SQLite WAL, busy timeout and BEGIN IMMEDIATE).
engine = Database(os.environ["BLACKLIST_DATABASE_URL"], vault=vault).engine
Session = sessionmaker(engine, expire_on_commit=False)
with Session() as _session:
    _user = _session.scalar(
        select(StaffUser).where(StaffUser.username == os.environ["BENCH_STAFF_USERNAME"])
    )
    USER_ID, COURT_ID = _user.id, _user.court_id


@app.get("/healthz")
def healthz() -> Response:
    return Response("ok", mimetype="text/plain")


@app.post("/api/v1/listings")
def create_listing() -> tuple[Response, int]:
    body = json.loads(request.get_data())
    person, case = body["subject"], body["case"]
    number = person["id_number"]
    now = datetime.now(UTC)
    subject = Subject(
        kind=SubjectKind(person["kind"]),
        name=person["name"],
        name_key=normalize_name(person["name"]),
        id_hash=vault.hash(number),
        id_cipher=vault.encrypt(number),
        id_masked=mask_id_number(number),
        sex="male" if int(number[16]) % 2 else "female",
        birth_date=date(int(number[6:10]), int(number[10:12]), int(number[12:14])),
    )
    listing = Listing(
        court_id=COURT_ID,
        subject=subject,
        case=Case(
            court_id=COURT_ID,
            case_number=case["case_number"],
            case_number_key=case_number_key(case["case_number"]),
            filed_on=date.fromisoformat(case["filed_on"]),
            basis_document_number=case["basis_document_number"],
            basis_issuer=case["basis_issuer"],
            obligation=case["obligation"],
            amount_due=case.get("amount_due"),
            created_at=now,
        ),
        status=ListingStatus.DRAFT,
        grounds=sorted(body["grounds"]),
        exemptions=body.get("exemptions") or {},
        grace_days=body.get("grace_days", 0),
        by_creditor=False,
        created_by_id=USER_ID,
        created_at=now,
        updated_at=now,
    )
    with Session() as session:
        session.add(listing)
        session.commit()
        answer = {"id": listing.id, "public_id": listing.public_id}
    return Response(json.dumps(answer), mimetype="application/json"), 201
