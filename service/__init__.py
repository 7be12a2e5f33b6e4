"""HTTP service over :class:`nlp.Pipeline`.

FastAPI; install with ``pip install "minyi[service]"``.
"""

from service.main import create_app

__all__ = ["create_app"]
