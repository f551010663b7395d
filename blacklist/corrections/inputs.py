"""What the correction forms and the staff API carry, as plain values (the services check them)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AttachmentIn:
    """An uploaded file as received: the name and type the browser gave (trusted for nothing) and
    the bytes."""

    filename: str | None
    data: bytes


@dataclass(frozen=True)
class CorrectionIn:
    """Art. 11: the listed person's request, filed on the public form."""

    public_id: str
    id_number: str
    applicant_name: str
    ground: str
    explanation: str
    contact: str | None = None
    attachments: tuple[AttachmentIn, ...] = ()


@dataclass(frozen=True)
class DecisionIn:
    """The enforcing court's decision (Art. 12): ``accept`` with a remedy, or ``reject``."""

    decision: str
    reasons: str
    remedy: str | None = None


@dataclass(frozen=True)
class ReconsiderationIn:
    """The applicant's request to the next higher court (Art. 12)."""

    id_number: str
    reasons: str
    attachments: tuple[AttachmentIn, ...] = ()


@dataclass(frozen=True)
class ReconsiderationDecisionIn:
    """The higher court's decision: ``upheld`` or ``overturned`` with the remedy it orders."""

    outcome: str
    reasons: str
    remedy: str | None = None
    #: The higher court's own document number (执复案号); derived in its own series if blank.
    decision_number: str | None = None
