"""Privacy: columns filled from input cells become Text (PostgreSQL refused an opinion's cell
longer than its VARCHAR), and membership keys hold a keyed hash, not the text.

The keys themselves are rewritten by :class:`~nlp.clustering.store.ClusterStore` when it opens a
database whose ``meta`` has no ``keys`` row: the rewrite needs the state's secret, which a
migration does not have.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_OPINIONS = {
    "external_id": sa.String(190),
    "time": sa.String(32),
    "source": sa.String(128),
    "place": sa.String(200),
    "user": sa.String(200),
    "department": sa.String(128),
    "reviewed_department": sa.String(128),
}
_CLUSTERS = {"department": sa.String(128), "first_seen": sa.String(32), "last_seen": sa.String(32)}


def upgrade() -> None:
    for table, columns in (("opinions", _OPINIONS), ("clusters", _CLUSTERS)):
        with op.batch_alter_table(table) as batch:
            for name, old in columns.items():
                batch.alter_column(name, existing_type=old, type_=sa.Text)


def downgrade() -> None:
    for table, columns in (("opinions", _OPINIONS), ("clusters", _CLUSTERS)):
        with op.batch_alter_table(table) as batch:
            for name, old in columns.items():
                batch.alter_column(name, existing_type=sa.Text, type_=old)
