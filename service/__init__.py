"""HTTP service over :class:`nlp.Pipeline` (FastAPI; install with ``pip install "minyi[service]"``)."""

from .main import create_app

__all__ = ["create_app"]
