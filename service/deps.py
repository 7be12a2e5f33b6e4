"""Dependencies: settings, the shared pipeline, API-key checking and rate limiting.

They are ``async`` (none of them blocks once its objects are built), so FastAPI runs them on the
event loop instead of sending each one to the thread pool.
"""

from __future__ import annotations

import hmac
import time
from collections import defaultdict, deque
from functools import lru_cache
from typing import Annotated

from fastapi import Depends, Header, HTTPException
from sqlalchemy.engine import Engine

from nlp import Pipeline, PipelineConfig
from nlp.clustering.store import ClusterStore
from service.db import create_tables
from service.settings import Settings, get_settings

__all__ = [
    "ApiKey",
    "DatabaseDep",
    "PipelineDep",
    "SettingsDep",
    "StoreDep",
    "StoredPipelineDep",
    "get_database",
    "get_pipeline",
    "get_store",
    "get_stored_pipeline",
    "require_key",
]

SettingsDep = Annotated[Settings, Depends(get_settings)]


@lru_cache(maxsize=4)
def _pipeline(taxonomy: str | None, model: str | None) -> Pipeline:
    return Pipeline(PipelineConfig(taxonomy=taxonomy, classifier=model or "lexicon"))


async def get_pipeline(settings: SettingsDep) -> Pipeline:
    """One pipeline per configuration, built on first use and shared by requests."""
    return _pipeline(settings.taxonomy, settings.model)


PipelineDep = Annotated[Pipeline, Depends(get_pipeline)]


@lru_cache(maxsize=4)
def _store(url: str) -> ClusterStore:
    """The cluster state in the database at ``url`` (migrated when opened), with the service's
    own tables made where they are missing."""
    store = ClusterStore(url)
    create_tables(store.engine)
    return store


async def get_store(settings: SettingsDep) -> ClusterStore:
    """The cluster state shared by requests and batch jobs."""
    return _store(settings.database)


StoreDep = Annotated[ClusterStore, Depends(get_store)]


async def get_database(settings: SettingsDep) -> Engine:
    """The database itself, for the service's own tables (batch jobs)."""
    return _store(settings.database).engine


DatabaseDep = Annotated[Engine, Depends(get_database)]


@lru_cache(maxsize=8)
def _stored_pipeline(url: str, taxonomy: str | None, model: str | None, mask_pii: bool, drafts: str = "none") -> Pipeline:
    """A pipeline over the database at ``url`` that shares the classify pipeline's loaded parts
    (``drafts="none"`` for single opinions; batch jobs draft as the CLI does)."""
    config = PipelineConfig(taxonomy=taxonomy, classifier=model or "lexicon", mask_pii=mask_pii, drafts=drafts)
    shared = _pipeline(taxonomy, model)  # reuse its loaded parts
    return Pipeline(config, store=_store(url), classifier=shared.classifier, taxonomy=shared.taxonomy, tokenizer=shared.tokenizer)


async def get_stored_pipeline(settings: SettingsDep) -> Pipeline:
    """The pipeline that stores opinions and assigns clusters against the database."""
    return _stored_pipeline(settings.database, settings.taxonomy, settings.model, settings.mask_pii)


StoredPipelineDep = Annotated[Pipeline, Depends(get_stored_pipeline)]

_calls: dict[str, deque] = defaultdict(deque)


async def require_key(settings: SettingsDep, authorization: Annotated[str | None, Header()] = None) -> str:
    """The caller's API key, checked in constant time; 401 when missing or wrong, 429 when over the limit."""
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not given:
        raise HTTPException(401, "missing or invalid API key", headers={"WWW-Authenticate": "Bearer"})
    # Compare against every key so that timing does not tell which one nearly matched.
    matched = [k for k in settings.keys if hmac.compare_digest(k.encode(), given.encode())]
    if not matched:
        raise HTTPException(401, "missing or invalid API key", headers={"WWW-Authenticate": "Bearer"})
    key = matched[0]
    window = _calls[key]
    now = time.monotonic()
    while window and now - window[0] > 60:
        window.popleft()
    if len(window) >= settings.rate_limit_per_minute:
        raise HTTPException(429, f"rate limit of {settings.rate_limit_per_minute} requests a minute reached; retry later", headers={"Retry-After": "60"})
    window.append(now)
    return key


ApiKey = Annotated[str, Depends(require_key)]
