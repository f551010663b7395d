"""Courts and court staff: who may act, and for which court (DOMAIN.md §1)."""
