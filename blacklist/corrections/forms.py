"""The correction pages' forms: browser fields (and uploaded files) into the values of
``inputs.py``. Parsing only reads; every rule is checked by the services, whose field errors carry
the same names as the form fields (``public_id``, ``id_number``, ``explanation``, ``attachments``,
``reasons``...), so an error is shown beside its field."""

from __future__ import annotations

from werkzeug.datastructures import FileStorage, MultiDict

from blacklist.corrections.inputs import (
    AttachmentIn,
    CorrectionIn,
    DecisionIn,
    ReconsiderationDecisionIn,
    ReconsiderationIn,
)

#: Fields of the public request form echoed back when it is shown again (never the ID number).
CORRECTION_FIELDS = ("public_id", "applicant_name", "contact", "ground", "explanation")


def read_files(files: MultiDict, name: str, max_bytes: int) -> tuple[AttachmentIn, ...]:
    """The files of one ``<input type=file multiple>``: empty inputs skipped; each read up to one
    byte past ``max_bytes`` (enough for the service to refuse it, never more in memory)."""
    items = []
    storage: FileStorage
    for storage in files.getlist(name):
        if not storage or not storage.filename:
            continue
        items.append(
            AttachmentIn(filename=storage.filename, data=storage.stream.read(max_bytes + 1))
        )
    return tuple(items)


def values_of(form: MultiDict, names: tuple[str, ...]) -> dict[str, str]:
    return {name: (form.get(name) or "")[:4000] for name in names}


def parse_correction(form: MultiDict, files: MultiDict, max_bytes: int) -> CorrectionIn:
    return CorrectionIn(
        public_id=form.get("public_id") or "",
        id_number=form.get("id_number") or "",
        applicant_name=form.get("applicant_name") or "",
        ground=form.get("ground") or "",
        explanation=form.get("explanation") or "",
        contact=form.get("contact") or None,
        attachments=read_files(files, "attachments", max_bytes),
    )


def parse_reconsideration(form: MultiDict, files: MultiDict, max_bytes: int) -> ReconsiderationIn:
    return ReconsiderationIn(
        id_number=form.get("id_number") or "",
        reasons=form.get("reasons") or "",
        attachments=read_files(files, "attachments", max_bytes),
    )


def parse_decision(form: MultiDict) -> DecisionIn:
    return DecisionIn(
        decision=form.get("decision") or "",
        reasons=form.get("reasons") or "",
        remedy=form.get("remedy") or None,
    )


def parse_reconsideration_decision(form: MultiDict) -> ReconsiderationDecisionIn:
    return ReconsiderationDecisionIn(
        outcome=form.get("outcome") or "",
        reasons=form.get("reasons") or "",
        remedy=form.get("remedy") or None,
        decision_number=(form.get("decision_number") or "").strip()[:100] or None,
    )
