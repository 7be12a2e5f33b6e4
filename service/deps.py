"""Dependencies: settings, the shared pipeline, the database and the caller.

They are ``async`` (none of them blocks once its objects are built), so FastAPI runs them on the
event loop instead of sending each one to the thread pool. Keys, scopes and limits are checked
before the app by :class:`service.middleware.Guard`; :func:`get_caller` hands the caller on.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import event
from sqlalchemy.engine import Engine

from nlp import Pipeline, PipelineConfig
from nlp.clustering.store import ClusterStore
from nlp.core.secrets import parse_secret
from service.db import create_tables
from service.keys import Caller
from service.settings import Settings, get_settings

__all__ = [
    "CallerDep",
    "DatabaseDep",
    "PipelineDep",
    "ReaderDep",
    "SettingsDep",
    "StoreDep",
    "StoredPipelineDep",
    "get_caller",
    "get_database",
    "get_pipeline",
    "get_reader",
    "get_store",
    "get_stored_pipeline",
]

SettingsDep = Annotated[Settings, Depends(get_settings)]


@lru_cache(maxsize=4)
def _pipeline(taxonomy: str | None, model: str | None) -> Pipeline:
    return Pipeline(
        PipelineConfig(taxonomy=taxonomy, classifier=model or PipelineConfig.classifier)
    )


async def get_pipeline(settings: SettingsDep) -> Pipeline:
    """One pipeline per configuration, built on first use and shared by requests."""
    return _pipeline(settings.taxonomy, settings.model)


PipelineDep = Annotated[Pipeline, Depends(get_pipeline)]


def _secret(secret: str) -> bytes | None:
    return parse_secret(secret) if secret else None


@lru_cache(maxsize=4)
def _store(url: str, secret: str = "") -> ClusterStore:
    """The cluster state in the database at ``url`` (migrated when opened), with the service's
    own tables made where they are missing; ``secret`` as ``MINYI_SECRET`` gives it."""
    store = ClusterStore(url, secret=_secret(secret))
    create_tables(store.engine)
    return store


@lru_cache(maxsize=4)
def _reader(url: str, secret: str = "") -> ClusterStore:
    """The same database for reading only. On SQLite its transactions begin DEFERRED: in WAL
    mode a reader takes no lock and never waits for a writer (the library's engine begins every
    transaction IMMEDIATE, which a writer needs and a reader must not wait for)."""
    writer = _store(url, secret).engine
    if writer.dialect.name != "sqlite":
        return _store(url, secret)
    engine = sa.create_engine(writer.url, future=True)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, record):
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA busy_timeout=5000")
        dbapi_connection.execute("PRAGMA query_only=1")

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN DEFERRED")

    return ClusterStore(engine, secret=_secret(secret))


async def get_store(settings: SettingsDep) -> ClusterStore:
    """The cluster state shared by requests and batch jobs."""
    return _store(settings.database, settings.secret)


StoreDep = Annotated[ClusterStore, Depends(get_store)]


async def get_reader(settings: SettingsDep) -> ClusterStore:
    """The cluster state for routes that only read it."""
    return _reader(settings.database, settings.secret)


ReaderDep = Annotated[ClusterStore, Depends(get_reader)]


async def get_database(settings: SettingsDep) -> Engine:
    """The database itself, for the service's own tables (batch jobs, keys, audit)."""
    return _store(settings.database, settings.secret).engine


DatabaseDep = Annotated[Engine, Depends(get_database)]


@lru_cache(maxsize=8)
def _stored_pipeline(
    url: str,
    taxonomy: str | None,
    model: str | None,
    mask_pii: bool,
    drafts: str = "none",
    secret: str = "",
) -> Pipeline:
    """A pipeline over the database at ``url`` that shares the classify pipeline's loaded parts
    (``drafts="none"`` for single opinions; batch jobs draft as the CLI does)."""
    config = PipelineConfig(
        taxonomy=taxonomy,
        classifier=model or PipelineConfig.classifier,
        mask_pii=mask_pii,
        drafts=drafts,
    )
    shared = _pipeline(taxonomy, model)  # reuse its loaded parts
    return Pipeline(
        config,
        store=_store(url, secret),
        classifier=shared.classifier,
        taxonomy=shared.taxonomy,
        tokenizer=shared.tokenizer,
    )


async def get_stored_pipeline(settings: SettingsDep) -> Pipeline:
    """The pipeline that stores opinions and assigns clusters against the database."""
    return _stored_pipeline(
        settings.database,
        settings.taxonomy,
        settings.model,
        settings.mask_pii,
        secret=settings.secret,
    )


StoredPipelineDep = Annotated[Pipeline, Depends(get_stored_pipeline)]


_bearer = HTTPBearer(auto_error=False, description="A key from `minyi keys add` or MINYI_API_KEYS")


async def get_caller(
    request: Request,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    """The caller whose key the middleware accepted (the bearer scheme is named here so that
    the OpenAPI schema shows it)."""
    caller = request.scope.get("state", {}).get("caller")
    if caller is None:  # a route outside /v1 asked for it: a wiring mistake, not the caller's
        raise HTTPException(401, "missing or invalid API key")
    return caller


CallerDep = Annotated[Caller, Depends(get_caller)]
