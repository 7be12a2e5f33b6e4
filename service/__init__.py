"""HTTP service over :class:`nlp.Pipeline` (FastAPI; install with ``pip install "minyi[service]"``)."""

__all__: list[str] = []
