"""The database behind cluster state, stored opinions and review decisions (SQLAlchemy).

One schema serves the CLI (``--state DIR`` → a SQLite file in that folder), notebooks and the
HTTP service (``MINYI_DATABASE_URL``: a SQLite file in the user data folder by default, or
``postgresql+psycopg://…``). The schema is created and upgraded by the Alembic migrations in
``nlp/clustering/migrations`` whenever a database is opened. Only
:class:`~nlp.clustering.store.ClusterStore` reads and writes these tables; the service keeps
its batch jobs in a table of its own (``service/db.py``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from nlp.core.errors import ConfigError
from nlp.core.secrets import private_folder

__all__ = [
    "BATCH",
    "StoredClusters",
    "clusters",
    "connect",
    "database_url",
    "decisions",
    "default_database_url",
    "final_cluster",
    "joinable",
    "members",
    "meta",
    "meta_value",
    "metadata",
    "opinions",
    "place_sets",
    "place_sets_json",
    "rows_in",
    "runs",
]

BATCH = 500  # values in one IN (…): well under SQLite's limit on bound parameters

metadata = sa.MetaData()

meta = sa.Table(
    "meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

clusters = sa.Table(
    "clusters",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("period", sa.String(16), nullable=False),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column(
        "centroid", sa.LargeBinary, nullable=False
    ),  # sum of the members' centred unit vectors, float32
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("places", sa.Text, nullable=False),  # JSON list
    # The distinct places its members name, member by member (migration 0005): JSON list of lists.
    sa.Column("place_sets", sa.Text, nullable=False, server_default="[]"),
    sa.Column("title", sa.Text, nullable=False, server_default=""),
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("updated_at", sa.String(32), nullable=False),
    # Filled from the latest description of the cluster (migration 0002).
    sa.Column("level1", sa.String(64), nullable=False, server_default=""),
    sa.Column("level2", sa.String(64), nullable=False, server_default=""),
    sa.Column("department", sa.Text, nullable=False, server_default=""),
    sa.Column("heat", sa.Float, nullable=False, server_default="0"),
    sa.Column("first_seen", sa.Text, nullable=False, server_default=""),
    sa.Column("last_seen", sa.Text, nullable=False, server_default=""),
    sa.Column(
        "summary", sa.Text, nullable=False, server_default="{}"
    ),  # JSON: one row of clusters.csv
    # Review (migration 0003): status in the closed loop, fields a reviewer set (JSON: title,
    # level1, level2, department; they win over every later description), and the cluster a
    # merged cluster now lives in.
    sa.Column("status", sa.String(16), nullable=False, server_default="待核实"),
    sa.Column("review", sa.Text, nullable=False, server_default="{}"),
    sa.Column("merged_into", sa.String(32), nullable=True),
)

members = sa.Table(
    "members",
    metadata,
    sa.Column("text_key", sa.String(64), primary_key=True),  # keyed hash of the text (0004)
    sa.Column("cluster_id", sa.String(32), sa.ForeignKey("clusters.id"), nullable=False),
    sa.Column("added_at", sa.String(32), nullable=False),
)

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("started_at", sa.String(32), nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("rows", sa.Integer, nullable=False),
    sa.Column("new_clusters", sa.Integer, nullable=False),
    sa.Column("config", sa.Text, nullable=False),
)

opinions = sa.Table(
    "opinions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    # "ext:<external id>", or "hk:<keyed hash>" of its content (see ClusterStore.stored_key)
    sa.Column("key", sa.String(200), nullable=False, unique=True),
    sa.Column("external_id", sa.Text, nullable=True),
    sa.Column("text", sa.Text, nullable=False),  # masked unless masking is off
    sa.Column("title", sa.Text, nullable=False, server_default=""),
    # Migration 0004: what comes from input cells is Text, whatever its length.
    sa.Column("time", sa.Text, nullable=False, server_default=""),
    sa.Column("source", sa.Text, nullable=False, server_default=""),
    sa.Column("place", sa.Text, nullable=False, server_default=""),
    sa.Column("places", sa.Text, nullable=False, server_default=""),
    sa.Column("user", sa.Text, nullable=False, server_default=""),  # a pseudonym unless --keep-pii
    sa.Column("level1", sa.String(64), nullable=False, server_default=""),
    sa.Column("level2", sa.String(64), nullable=False, server_default=""),
    sa.Column("confidence", sa.Float, nullable=True),
    sa.Column("department", sa.Text, nullable=False, server_default=""),
    sa.Column("keywords", sa.Text, nullable=False, server_default=""),
    sa.Column("cluster_id", sa.String(32), nullable=False),
    sa.Column("vector", sa.LargeBinary, nullable=True),  # centred unit vector, float32
    sa.Column(
        "words", sa.Text, nullable=False, server_default=""
    ),  # its words, space-separated (for keywords)
    sa.Column("created_at", sa.String(32), nullable=False),
    # Migration 0003: the key of its row in `members` (exact duplicates share one), and labels a
    # reviewer gave it (empty when not reviewed).
    sa.Column("text_key", sa.String(64), nullable=True),
    sa.Column("reviewed_level1", sa.String(64), nullable=False, server_default=""),
    sa.Column("reviewed_level2", sa.String(64), nullable=False, server_default=""),
    sa.Column("reviewed_department", sa.Text, nullable=False, server_default=""),
)

decisions = sa.Table(
    "decisions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("uid", sa.String(36), nullable=False, unique=True),  # survives export and import
    sa.Column("at", sa.String(32), nullable=False),
    sa.Column("who", sa.String(128), nullable=False),
    sa.Column("why", sa.Text, nullable=False, server_default=""),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("args", sa.Text, nullable=False),  # JSON
    sa.Column(
        "before", sa.Text, nullable=False
    ),  # JSON: the rows it changed, as they were (for undo)
    sa.Column("undone_at", sa.String(32), nullable=True),
    sa.Column("undone_by", sa.String(128), nullable=True),
)


def rows_in(conn: Connection, query, column, values: Sequence, *, scalars: bool = False) -> list:
    """The rows of ``query`` whose ``column`` is one of ``values``, asked for a batch at a time
    (or their first columns, with ``scalars``)."""
    values = list(values)
    out = []
    for start in range(0, len(values), BATCH):
        result = conn.execute(query.where(column.in_(values[start : start + BATCH])))
        out.extend(result.scalars() if scalars else result)
    return out


def meta_value(conn: Connection, key: str) -> str | None:
    """The value stored under ``key`` in the ``meta`` table, or ``None``."""
    return conn.execute(sa.select(meta.c.value).where(meta.c.key == key)).scalar()


@dataclass(frozen=True)
class StoredClusters:
    """The stored clusters as a new opinion meets them.

    Attributes:
        ids: Each cluster's id (a cluster merged by review under the id it went into).
        centroids: Each cluster's mean vector, of unit length.
        scale: The length of each mean: a vector's mean cosine with the members is its cosine
            with the unit centroid times this.
        places: What the members name, together.
        level2: The cluster's level-2 class ('' when not described).
        place_sets: The distinct places its members name, member by member (a cluster stored
            before they were kept: what they name together, as one).
        within: The mean cosine of each cluster's pairs of members (-1 for a cluster of one),
            for the merge rule's relative test.
    """

    ids: list[str]
    centroids: np.ndarray
    scale: np.ndarray
    places: list[set[str]]
    level2: list[str]
    place_sets: list[list[frozenset[str]]]
    within: np.ndarray


def joinable(rows: Sequence) -> StoredClusters:
    """The clusters of ``rows`` (of ``clusters``: id, centroid, size, places, place_sets, level2,
    merged_into) as a new opinion meets them; a merged cluster under the id it went into."""
    if not rows:
        empty = np.zeros(0)
        return StoredClusters([], np.zeros((0, 0), dtype=np.float32), empty, [], [], [], empty)
    into = {r.id: r.merged_into for r in rows if r.merged_into}
    sums = np.stack([np.frombuffer(r.centroid, dtype=np.float32) for r in rows])
    norms = np.maximum(np.linalg.norm(sums, axis=1), 1e-12)
    # A cluster that took in another by review counts the other's members in its size, but
    # their vectors stay in the other's row: its own sum holds its size less theirs.
    taken: dict[str, int] = {}
    for r in rows:
        if r.merged_into:
            taken[r.merged_into] = taken.get(r.merged_into, 0) + r.size
    sizes = np.array([r.size - taken.get(r.id, 0) for r in rows], dtype=np.float64)
    sizes = np.maximum(sizes, 1.0)
    length, pairs = norms.astype(np.float64) ** 2, sizes * sizes - sizes  # members of unit length
    return StoredClusters(
        ids=[final_cluster(r.id, into) for r in rows],
        centroids=sums / norms[:, None],
        scale=norms / sizes,
        places=[set(json.loads(r.places)) for r in rows],
        level2=[r.level2 or "" for r in rows],
        place_sets=[place_sets(r) for r in rows],
        within=np.where(pairs > 0, (length - sizes) / np.maximum(pairs, 1.0), -1.0),
    )


def place_sets(row) -> list[frozenset[str]]:
    """The distinct places a stored cluster's members name, member by member (``place_sets``);
    for a cluster stored before they were kept (``[]``), what its members name together, as one."""
    sets = [frozenset(s) for s in json.loads(row.place_sets)]
    together = json.loads(row.places)
    return sets or ([frozenset(together)] if together else [])


def place_sets_json(sets: Iterable[Iterable[str]]) -> str:
    """Distinct non-empty sets of places as ``place_sets`` holds them: a JSON list of sorted
    lists, in order."""
    distinct = sorted({tuple(sorted(s)) for s in sets if s})
    return json.dumps([list(s) for s in distinct], ensure_ascii=False)


def final_cluster(cluster_id: str, into: dict[str, str]) -> str:
    """The cluster that ``cluster_id`` was (perhaps in several steps) merged into, or itself."""
    seen = {cluster_id}
    while cluster_id in into and into[cluster_id] not in seen:
        cluster_id = into[cluster_id]
        seen.add(cluster_id)
    return cluster_id


def default_database_url() -> str:
    """A SQLite file in the user's data folder (``~/.local/share/minyi/minyi.sqlite`` on Linux)."""
    from platformdirs import user_data_dir

    folder = Path(user_data_dir("minyi", appauthor=False))
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'minyi.sqlite'}"


def database_url(place: str | Path) -> str:
    """A database URL from a URL, a ``.sqlite``/``.db`` file or a state folder."""
    text = str(place)
    if "://" in text:
        return text
    path = Path(place)
    path = path if path.suffix in (".sqlite", ".db") else path / "minyi.sqlite"
    private_folder(path.parent)
    if not path.exists():  # readable by its owner only; SQLite gives its -wal and -shm the same
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    return f"sqlite:///{path}"


def connect(place: str | Path, *, migrate: bool = True) -> Engine:
    """An engine for ``place`` (see :func:`database_url`) with the schema brought up to date.

    Raises:
        ConfigError: The database cannot be opened, is not a Minyi database, or is newer than
            this Minyi.
    """
    url = database_url(place)
    try:
        # No statement's values in any error message or log: they are opinions' contents.
        engine = sa.create_engine(url, future=True, hide_parameters=True)
    except (sa.exc.ArgumentError, ImportError) as e:
        raise ConfigError(f"cannot use database {_safe(url)}: {e}") from e
    if engine.dialect.name == "sqlite":
        _sqlite_setup(engine)
    if migrate:
        upgrade(engine)
    return engine


def upgrade(engine: Engine) -> None:
    """Run the Alembic migrations up to the newest revision."""
    from alembic import command
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    script = ScriptDirectory.from_config(config)
    try:
        with engine.begin() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
            if current is not None and current not in {s.revision for s in script.walk_revisions()}:
                raise ConfigError(
                    f"database {_safe(str(engine.url))} has schema revision {current}, newer than this Minyi; upgrade Minyi"
                )
            if current == script.get_current_head():
                return
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
    except sa.exc.DatabaseError as e:
        raise ConfigError(
            f"database {_safe(str(engine.url))} cannot be opened as a Minyi database ({e.orig})"
        ) from e


def _safe(url: str) -> str:
    """The URL without its password, for messages and logs."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "<invalid URL>"


def _sqlite_setup(engine: Engine) -> None:
    """WAL, a busy timeout, foreign keys, and write transactions that take the lock at BEGIN, so
    that two processes never both read the same "next cluster number" (SQLAlchemy's recipe)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        # Deleted rows (purged opinions, keys rewritten) are overwritten, not left in free pages.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
