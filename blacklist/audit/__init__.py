"""The audit journal: append-only, hash-chained record of every act (DOMAIN.md §8)."""

from blacklist.audit.models import AppendOnlyViolation, AuditEntry
from blacklist.audit.services import VerifyResult, history, jsonable, recent, record, verify

__all__ = [
    "AppendOnlyViolation",
    "AuditEntry",
    "VerifyResult",
    "history",
    "jsonable",
    "recent",
    "record",
    "verify",
]
