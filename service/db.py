"""The service's own tables (SQLAlchemy): batch jobs, API keys and the audit log.

They live in the service's database, next to the cluster state that
:class:`~nlp.clustering.store.ClusterStore` keeps there, but they belong to the service: the
library never reads them, and their schema is not the library's. :func:`create_tables` makes them
when the service opens a database where they are missing. Databases that an earlier version
upgraded already hold ``batches`` (the library's migration 0002 made it then); the columns added
since are added to it in place.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

__all__ = ["api_keys", "audit", "batches", "create_tables", "metadata", "open_database"]

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
    # host:pid of the worker process running it
    sa.Column("owner", sa.String(128), nullable=False, server_default=""),
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("updated_at", sa.String(32), nullable=False),
    # the name of the key that uploaded it (empty for jobs older than keys with names)
    sa.Column("created_by", sa.String(128), nullable=False, server_default=""),
    sa.Index("batches_status", "status"),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("name", sa.String(128), primary_key=True),
    sa.Column("hash", sa.String(64), nullable=False, unique=True),  # SHA-256 of the key, hex
    sa.Column("scope", sa.String(16), nullable=False),  # read, write, admin
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("revoked_at", sa.String(32), nullable=True),
)

audit = sa.Table(
    "audit",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.String(32), nullable=False),
    sa.Column("who", sa.String(128), nullable=False),  # a key's name
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("target", sa.Text, nullable=False, server_default=""),
    sa.Column("detail", sa.Text, nullable=False, server_default=""),
    sa.Index("audit_at", "at"),
)

_ADDED = {"batches": ["created_by"]}  # columns added since a table was first made


def create_tables(engine: Engine) -> None:
    """Make the service's tables and columns where they are missing; rows already there are
    kept."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:id)"), {"id": _LOCK_ID})
        metadata.create_all(conn, checkfirst=True)
        inspector = sa.inspect(conn)
        for name, columns in _ADDED.items():
            have = {c["name"] for c in inspector.get_columns(name)}
            for column in columns:
                if column not in have:
                    col = metadata.tables[name].c[column]
                    kind = col.type.compile(conn.dialect)
                    default = col.server_default.arg
                    added = f"{column} {kind} NOT NULL DEFAULT '{default}'"
                    conn.exec_driver_sql(f"ALTER TABLE {name} ADD COLUMN {added}")


def open_database(place: str) -> Engine:
    """The engine of the database at ``place`` (a URL, a ``.sqlite`` file or a state folder),
    migrated, with the service's tables made where they are missing (for the command line)."""
    from nlp.clustering.store import ClusterStore

    engine = ClusterStore(place).engine
    create_tables(engine)
    return engine
