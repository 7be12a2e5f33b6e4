"""The service's own table: batch jobs (SQLAlchemy).

It lives in the service's database, next to the cluster state that
:class:`~nlp.clustering.store.ClusterStore` keeps there, but it belongs to the service: the
library never reads it, and its schema is not the library's. :func:`create_tables` makes it when
the service opens a database where it is missing. Databases that an earlier version upgraded
already hold it (the library's migration 0002 made it then) with the same columns, and are used as
they are.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

__all__ = ["batches", "create_tables", "metadata"]

_LOCK_ID = 0x6D696E7962  # PostgreSQL advisory lock: two servers starting together make it once

metadata = sa.MetaData()

batches = sa.Table(
    "batches",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),  # queued, running, done, failed
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
    # host:pid of the process running it
    sa.Column("owner", sa.String(128), nullable=False, server_default=""),
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("updated_at", sa.String(32), nullable=False),
    sa.Index("batches_status", "status"),
)


def create_tables(engine: Engine) -> None:
    """Make the service's tables where they are missing; tables already there are kept."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:id)"), {"id": _LOCK_ID})
        metadata.create_all(conn, checkfirst=True)
