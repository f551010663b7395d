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


def test_a_snapshot_read_in_small_batches_is_the_same_snapshot(
    app, client, session, clock, monkeypatch
):
    """The snapshot is read by keyset in batches (``feed.SNAPSHOT_BATCH``): with batches of two,
    restriction and listing records alike come out complete, once each, in the same order."""
    from blacklist.partners import feed

    fast_password_hashing(monkeypatch)
    court = setup_court(session, clock)
    for n in range(5):
        draft = person_draft(
            name=f"王{n}", id_number=resident_id(sequence=f"45{n}"),
            case_number=f"(2024)京0105执9{n}号",
        )  # fmt: skip
        publish_listing(session, clock, court, draft)
    _id, key, _secret = register_partner(
        session, clock, code="both", measures="flight,credit_record", scope="both"
    )
    session.commit()
    session.close()

    def snapshot() -> list[str]:
        response = client.get("/api/v1/partner/snapshot", headers=partner_headers(key))
        assert response.status_code == 200
        return response.get_data(as_text=True).splitlines()

    whole = snapshot()
    monkeypatch.setattr(feed, "SNAPSHOT_BATCH", 2)
    batched = snapshot()

    assert batched == whole
    types = [json.loads(line)["type"] for line in whole]
    # Each person: the listing row (credit_record) and the consumption order row (flight).
    assert types.count("listing") == 5 and types.count("restriction") == 10
    assert len({json.loads(line)["key"] for line in whole}) == len(whole)
