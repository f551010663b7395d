"""Publication: what the public sees of the list (DOMAIN.md §6) — search, record pages, the
restricted-people list and statistics, for the public pages and the public API alike."""
