"""The scheduler (DESIGN.md §7): sweeps over rows that are due — grace periods ended, deletions
due, terms ended — deadline alerts, the nightly audit check and change-log pruning. Every job is
idempotent and catches up after downtime, because the durable state is the list itself; only one
scheduler runs jobs at a time (``runner``: a PostgreSQL advisory lock, a file lock on SQLite)."""
