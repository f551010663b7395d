"""person hash statistics

PostgreSQL estimates the distinct values of ``restrictions.person_hash`` from a 30,000-row sample,
so at ten million listings it believed each hash had ~25 rows: a 500-person partner check got a
parallel plan that took 450 ms instead of 11 ms (issue #8). Nearly every hash is one person's, with
one to three rows: ``n_distinct = -0.5`` (half as many distinct values as rows) says so, whatever
the sample. SQLite keeps no such estimate.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 21:20:00
"""

from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE restrictions ALTER COLUMN person_hash SET (n_distinct = -0.5)")
        op.execute("ANALYZE restrictions")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE restrictions ALTER COLUMN person_hash RESET (n_distinct)")
