"""What a court must do about correction requests, with due dates (Art. 12): reviews (the
enforcing court, 15 days), carrying out accepted requests (the enforcing court, 3 working days)
and reconsiderations to decide (the next higher court, 15 days). For the dashboard panel
(``templates/corrections/_dashboard_panel.html``) and the staff list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from blacklist.corrections.models import CorrectionRequest, CorrectionStatus, Reconsideration
from blacklist.listing.models import Listing, Subject

#: Kinds of work, as the panel names them.
KIND_LABELS = {
    "review": "审查纠正申请",
    "carry_out": "落实纠正",
    "reconsideration": "复议待决定",
}
#: Plain days before a deadline from which it shows as near.
SOON_DAYS = 3


@dataclass(frozen=True)
class CorrectionDeadline:
    kind: str
    reference: str
    debtor: str
    due_on: date
    days_left: int

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]

    @property
    def urgency(self) -> str:
        """``overdue``, ``soon`` (within three days) or ``ok``: the row's CSS class."""
        if self.days_left < 0:
            return "overdue"
        return "soon" if self.days_left <= SOON_DAYS else "ok"

    @property
    def left_text(self) -> str:
        if self.days_left < 0:
            return f"已逾期{-self.days_left}天"
        return "今天到期" if self.days_left == 0 else f"{self.days_left}天"


def open_deadlines(session: Session, *, court_id: int | None = None) -> list[tuple]:
    """Every open deadline as ``(kind, request id, reference, court to act, listing id, debtor
    name, due date)``; with ``court_id``, only those that court must meet."""
    base = (
        select(
            CorrectionRequest.id,
            CorrectionRequest.reference,
            CorrectionRequest.court_id,
            CorrectionRequest.listing_id,
            Subject.name,
        )
        .join(Listing, Listing.id == CorrectionRequest.listing_id)
        .join(Subject, Subject.id == Listing.subject_id)
    )
    review = base.add_columns(CorrectionRequest.review_due_on).where(
        CorrectionRequest.status == CorrectionStatus.RECEIVED
    )
    carry_out = base.add_columns(CorrectionRequest.carry_out_due_on).where(
        CorrectionRequest.status == CorrectionStatus.ACCEPTED,
        CorrectionRequest.carry_out_due_on.is_not(None),
    )
    reconsideration = (
        select(
            CorrectionRequest.id,
            CorrectionRequest.reference,
            Reconsideration.court_id,
            CorrectionRequest.listing_id,
            Subject.name,
            Reconsideration.decision_due_on,
        )
        .join(Reconsideration, Reconsideration.request_id == CorrectionRequest.id)
        .join(Listing, Listing.id == CorrectionRequest.listing_id)
        .join(Subject, Subject.id == Listing.subject_id)
        .where(CorrectionRequest.status == CorrectionStatus.UNDER_RECONSIDERATION)
    )
    if court_id is not None:
        review = review.where(CorrectionRequest.court_id == court_id)
        carry_out = carry_out.where(CorrectionRequest.court_id == court_id)
        reconsideration = reconsideration.where(Reconsideration.court_id == court_id)
    rows = []
    for kind, query in (
        ("review", review),
        ("carry_out", carry_out),
        ("reconsideration", reconsideration),
    ):
        rows.extend((kind, *row) for row in session.execute(query))
    return rows


def deadlines_for_court(session: Session, court_id: int, today: date) -> list[CorrectionDeadline]:
    """What the court must do, nearest deadline first: requests to review and accepted requests
    to carry out (as enforcing court), reconsiderations to decide (as the next higher court)."""
    items = [
        CorrectionDeadline(
            kind=kind,
            reference=reference,
            debtor=name,
            due_on=due_on,
            days_left=(due_on - today).days,
        )
        for kind, _id, reference, _court, _listing, name, due_on in open_deadlines(
            session, court_id=court_id
        )
    ]
    return sorted(items, key=lambda d: (d.due_on, d.reference))
