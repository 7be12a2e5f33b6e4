"""Service settings from the environment and ``.env`` (prefix ``MINYI_``)."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "get_settings"]


class Settings(BaseSettings):
    """Everything the service reads from its environment.

    ``MINYI_API_KEYS`` holds the accepted keys, separated by commas; with none set, every
    ``/v1`` call is refused.
    """

    model_config = SettingsConfigDict(env_prefix="MINYI_", env_file=".env", extra="ignore")

    api_keys: str = ""
    database_url: str = ""
    taxonomy: str | None = None
    model: str | None = None
    max_texts: int = 1000
    max_text_chars: int = 5000
    max_body_bytes: int = 10 * 1024 * 1024
    rate_limit_per_minute: int = 600

    @property
    def keys(self) -> list[str]:
        return [k.strip() for k in self.api_keys.split(",") if k.strip()]


@lru_cache
def get_settings() -> Settings:
    """The settings, read once; tests override this dependency."""
    return Settings()
