"""Service settings from the environment and ``.env`` (prefix ``MINYI_``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "get_settings", "load_settings"]


class Settings(BaseSettings):
    """Everything the service reads from its environment.

    ``MINYI_API_KEYS`` holds admin keys, separated by commas; keys with names and scopes are
    made by ``minyi keys add`` and kept (hashed) in the database. With neither, every ``/v1``
    call is refused.
    """

    model_config = SettingsConfigDict(env_prefix="MINYI_", env_file=".env", extra="ignore")

    api_keys: str = ""
    database_url: str = ""  # empty: a SQLite file in the user data folder
    data_dir: str = ""  # uploads and batch outputs; empty: next to the default database
    taxonomy: str | None = None
    model: str | None = None
    mask_pii: bool = True  # mask personal data before anything is stored
    max_texts: int = 1000
    max_text_chars: int = 5000
    max_body_bytes: int = 10 * 1024 * 1024
    max_upload_bytes: int = 200 * 1024 * 1024
    rate_limit_per_minute: int = 600
    auth_failures_per_minute: int = 30  # per client address; more are answered 429
    batch_workers: int = 1  # batch worker processes per server process
    job_memory_mb: int = 0  # address-space limit of a worker process; 0: none
    keep_uploads: bool = False  # keep an uploaded file once its batch is done or failed
    # The key of stored keys and pseudonyms (MINYI_SECRET; see nlp.core.secrets): servers that
    # share a database share it. Empty: the secret beside a SQLite file, else this user's.
    secret: str = ""
    job_lease_seconds: float = 60.0  # a running job not heard from for this long is taken up again

    @property
    def database(self) -> str:
        from nlp.clustering.db import default_database_url

        return self.database_url or default_database_url()

    @property
    def data_folder(self) -> Path:
        if self.data_dir:
            folder = Path(self.data_dir)
        else:
            from platformdirs import user_data_dir

            folder = Path(user_data_dir("minyi", appauthor=False))
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        return folder

    @property
    def keys(self) -> list[str]:
        return [k.strip() for k in self.api_keys.split(",") if k.strip()]


@lru_cache
def load_settings() -> Settings:
    """The settings, read once."""
    return Settings()


async def get_settings() -> Settings:
    """The settings dependency (read once); ``create_app(settings)`` overrides it."""
    return load_settings()
