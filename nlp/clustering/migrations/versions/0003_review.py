"""Review: decisions with who/when/why, cluster status and reviewed fields, reviewed labels of
opinions, and the link from an opinion to its cluster-membership key.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("clusters") as batch:
        batch.add_column(
            sa.Column("status", sa.String(16), nullable=False, server_default="待核实")
        )
        batch.add_column(sa.Column("review", sa.Text, nullable=False, server_default="{}"))
        batch.add_column(sa.Column("merged_into", sa.String(32), nullable=True))
    with op.batch_alter_table("opinions") as batch:
        batch.add_column(sa.Column("text_key", sa.String(64), nullable=True))
        batch.add_column(
            sa.Column("reviewed_level1", sa.String(64), nullable=False, server_default="")
        )
        batch.add_column(
            sa.Column("reviewed_level2", sa.String(64), nullable=False, server_default="")
        )
        batch.add_column(
            sa.Column("reviewed_department", sa.String(128), nullable=False, server_default="")
        )
    op.create_index("opinions_text_key", "opinions", ["text_key"])
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("uid", sa.String(36), nullable=False, unique=True),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("who", sa.String(128), nullable=False),
        sa.Column("why", sa.Text, nullable=False, server_default=""),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("args", sa.Text, nullable=False),
        sa.Column("before", sa.Text, nullable=False),
        sa.Column("undone_at", sa.String(32), nullable=True),
        sa.Column("undone_by", sa.String(128), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("decisions")
    op.drop_index("opinions_text_key", "opinions")
    with op.batch_alter_table("opinions") as batch:
        for name in ("text_key", "reviewed_level1", "reviewed_level2", "reviewed_department"):
            batch.drop_column(name)
    with op.batch_alter_table("clusters") as batch:
        for name in ("status", "review", "merged_into"):
            batch.drop_column(name)
