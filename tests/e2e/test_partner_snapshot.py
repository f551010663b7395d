"""The snapshot streams from one consistent read without holding up the court's writes."""

from __future__ import annotations

import json

from tests.factories import (
    fast_password_hashing,
    person_draft,
    publish_listing,
    resident_id,
    setup_court,
)
from tests.partner_factories import partner_headers, register_partner


def test_writes_go_on_while_a_snapshot_streams_and_it_shows_the_state_it_started_from(
    app, client, database, session, clock, monkeypatch
):
    fast_password_hashing(monkeypatch)
    court = setup_court(session, clock)
    first = publish_listing(session, clock, court)
    _id, key, _secret = register_partner(session, clock, code="caac", measures="flight")
    session.commit()
    session.close()

    response = client.get("/api/v1/partner/snapshot", headers=partner_headers(key), buffered=False)
    assert response.status_code == 200
    chunks = response.iter_encoded()
    head = [next(chunks)]
    seq = int(response.headers["X-Feed-Seq"])

    # Mid-stream, a court publishes (on SQLite this would wait for the write lock and fail with
    # "database is locked" if the snapshot held a write transaction).
    with database.session() as writer:
        draft = person_draft(
            name="王五", id_number=resident_id(sequence="457"), case_number="(2024)京0105执9号"
        )
        second = publish_listing(writer, clock, court, draft)
        writer.commit()
        second_id = second.public_id

    body = b"".join(head + list(chunks)).decode()
    response.close()
    lines = [json.loads(line) for line in body.splitlines()]
    sources = {line["record"]["source"]["listing_public_id"] for line in lines}
    assert sources == {first.public_id}
    assert second_id not in body

    feed = client.get(f"/api/v1/partner/feed?after={seq}", headers=partner_headers(key)).get_json()
    assert {i["record"]["source"]["listing_public_id"] for i in feed["items"]} == {second_id}
