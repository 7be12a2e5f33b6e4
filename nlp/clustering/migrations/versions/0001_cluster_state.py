"""Cluster state: meta, clusters, members, runs.

State files written before migrations existed already hold these tables; they are adopted as
they are.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "meta" not in existing:
        op.create_table(
            "meta",
            sa.Column("key", sa.String(64), primary_key=True),
            sa.Column("value", sa.Text, nullable=False),
        )
    if "clusters" not in existing:
        op.create_table(
            "clusters",
            sa.Column("id", sa.String(32), primary_key=True),
            sa.Column("period", sa.String(16), nullable=False),
            sa.Column("number", sa.Integer, nullable=False),
            sa.Column("centroid", sa.LargeBinary, nullable=False),
            sa.Column("size", sa.Integer, nullable=False),
            sa.Column("places", sa.Text, nullable=False),
            sa.Column("title", sa.Text, nullable=False, server_default=""),
            sa.Column("created_at", sa.String(32), nullable=False),
            sa.Column("updated_at", sa.String(32), nullable=False),
        )
    if "members" not in existing:
        op.create_table(
            "members",
            sa.Column("text_key", sa.String(64), primary_key=True),
            sa.Column("cluster_id", sa.String(32), sa.ForeignKey("clusters.id"), nullable=False),
            sa.Column("added_at", sa.String(32), nullable=False),
        )
        op.create_index("members_cluster", "members", ["cluster_id"])
    if "runs" not in existing:
        op.create_table(
            "runs",
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("started_at", sa.String(32), nullable=False),
            sa.Column("source", sa.Text, nullable=False),
            sa.Column("rows", sa.Integer, nullable=False),
            sa.Column("new_clusters", sa.Integer, nullable=False),
            sa.Column("config", sa.Text, nullable=False),
        )


def downgrade() -> None:
    for name in ("runs", "members", "clusters", "meta"):
        op.drop_table(name)
