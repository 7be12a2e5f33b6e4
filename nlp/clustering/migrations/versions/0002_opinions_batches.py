"""Stored opinions, cluster descriptions for filtering, and batch jobs.

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
    op.create_table(
        "batches",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("filename", sa.Text, nullable=False),
        sa.Column("folder", sa.Text, nullable=False),
        sa.Column("options", sa.Text, nullable=False, server_default="{}"),
        sa.Column("stage", sa.String(32), nullable=False, server_default=""),
        sa.Column("done", sa.Integer, nullable=False, server_default="0"),
        sa.Column("total", sa.Integer, nullable=False, server_default="0"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("error", sa.Text, nullable=False, server_default=""),
        sa.Column("summary", sa.Text, nullable=False, server_default="{}"),
        sa.Column("lease_until", sa.Float, nullable=False, server_default="0"),
        sa.Column("owner", sa.String(128), nullable=False, server_default=""),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("updated_at", sa.String(32), nullable=False),
    )
    op.create_index("batches_status", "batches", ["status"])


def downgrade() -> None:
    op.drop_table("batches")
    op.drop_table("opinions")
    op.drop_index("clusters_heat", "clusters")
    with op.batch_alter_table("clusters") as batch:
        for name in ("summary", "last_seen", "first_seen", "heat", "department", "level2", "level1"):
            batch.drop_column(name)
