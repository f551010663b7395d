"""index bound persons by subject

Every load of an organisation's listing reads its bound persons by ``subject_id``; without the index
that was a scan of the whole table (a second per listing at ten million listings: issue #8).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 19:57:48.916744
"""

from alembic import op
import sqlalchemy as sa
import blacklist.db


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('bound_persons', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bound_persons_subject_id'), ['subject_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('bound_persons', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bound_persons_subject_id'))

