"""Dependencies: settings, the shared pipeline, API-key checking and rate limiting."""

from __future__ import annotations

import hmac
import time
from collections import defaultdict, deque
from functools import lru_cache
from typing import Annotated

from fastapi import Depends, Header, HTTPException

from nlp import Pipeline, PipelineConfig

from .settings import Settings, get_settings

__all__ = ["SettingsDep", "PipelineDep", "ApiKey", "get_pipeline", "require_key"]

SettingsDep = Annotated[Settings, Depends(get_settings)]


@lru_cache(maxsize=4)
def _pipeline(taxonomy: str | None, model: str | None) -> Pipeline:
    return Pipeline(PipelineConfig(taxonomy=taxonomy, classifier=model or "lexicon"))


def get_pipeline(settings: SettingsDep) -> Pipeline:
    """One pipeline per configuration, built on first use and shared by requests."""
    return _pipeline(settings.taxonomy, settings.model)


PipelineDep = Annotated[Pipeline, Depends(get_pipeline)]

_calls: dict[str, deque] = defaultdict(deque)


def require_key(settings: SettingsDep, authorization: Annotated[str | None, Header()] = None) -> str:
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
