"""Imports every feature's models so ``Base.metadata`` knows every table (Alembic, tests)."""

from blacklist.audit import models as audit_models
from blacklist.changelog import models as changelog_models
from blacklist.corrections import models as corrections_models
from blacklist.documents import models as documents_models
from blacklist.holidays import models as holidays_models
from blacklist.listing import models as listing_models
from blacklist.partners import models as partners_models
from blacklist.restrictions import models as restrictions_models
from blacklist.scheduler import models as scheduler_models
from blacklist.staff import models as staff_models

__all__ = [
    "audit_models",
    "changelog_models",
    "corrections_models",
    "documents_models",
    "holidays_models",
    "listing_models",
    "partners_models",
    "restrictions_models",
    "scheduler_models",
    "staff_models",
]
