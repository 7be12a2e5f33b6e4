"""Stored opinions, and cluster descriptions for filtering.

This revision also made the service's table of batch jobs (``batches``) until that table moved
to the service (``service/db.py``), which now makes it where it is missing: databases upgraded
by an earlier version keep theirs, with the same columns, and the service goes on using it.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("clusters") as batch:
        batch.add_column(sa.Column("level1", sa.String(64), nullable=False, server_default=""))
        batch.add_column(sa.Column("level2", sa.String(64), nullable=False, server_default=""))
        batch.add_column(sa.Column("department", sa.String(128), nullable=False, server_default=""))
        batch.add_column(sa.Column("heat", sa.Float, nullable=False, server_default="0"))
        batch.add_column(sa.Column("first_seen", sa.String(32), nullable=False, server_default=""))
        batch.add_column(sa.Column("last_seen", sa.String(32), nullable=False, server_default=""))
        batch.add_column(sa.Column("summary", sa.Text, nullable=False, server_default="{}"))
    op.create_index("clusters_heat", "clusters", ["heat"])
    op.create_table(
        "opinions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(200), nullable=False, unique=True),
        sa.Column("external_id", sa.String(190), nullable=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False, server_default=""),
        sa.Column("time", sa.String(32), nullable=False, server_default=""),
        sa.Column("source", sa.String(128), nullable=False, server_default=""),
        sa.Column("place", sa.String(200), nullable=False, server_default=""),
        sa.Column("places", sa.Text, nullable=False, server_default=""),
        sa.Column("user", sa.String(200), nullable=False, server_default=""),
        sa.Column("level1", sa.String(64), nullable=False, server_default=""),
        sa.Column("level2", sa.String(64), nullable=False, server_default=""),
        sa.Column("confidence", sa.Float, nullable=True),
        sa.Column("department", sa.String(128), nullable=False, server_default=""),
        sa.Column("keywords", sa.Text, nullable=False, server_default=""),
        sa.Column("cluster_id", sa.String(32), nullable=False),
        sa.Column("vector", sa.LargeBinary, nullable=True),
        sa.Column("words", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", sa.String(32), nullable=False),
    )
    op.create_index("opinions_cluster", "opinions", ["cluster_id"])


def downgrade() -> None:
    op.drop_table("opinions")
    op.drop_index("clusters_heat", "clusters")
    with op.batch_alter_table("clusters") as batch:
        for name in (
            "summary",
            "last_seen",
            "first_seen",
            "heat",
            "department",
            "level2",
            "level1",
        ):
            batch.drop_column(name)
