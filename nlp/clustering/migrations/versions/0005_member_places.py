"""Member by member places: each stored cluster keeps the distinct sets of places its members
name, so that a new opinion joins it only if it shares a place with every member that names one
(as clusters of one run merge). Clusters stored before keep ``[]`` and are judged by the places
their members name together, as before.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("clusters") as batch:
        batch.add_column(sa.Column("place_sets", sa.Text, nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("clusters") as batch:
        batch.drop_column("place_sets")
