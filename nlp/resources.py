"""Find the project's own data files in ``corpora/``, installed or not."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["corpus_path"]


def corpus_path(name: str) -> Path:
    """Return the path of a file shipped in the ``corpora`` package.

    Args:
        name: File name inside ``corpora/``, for example ``"taxonomy.yaml"``.

    Raises:
        FileNotFoundError: The file is not part of the installed corpora.
    """
    path = Path(str(resources.files("corpora").joinpath(name)))
    if not path.is_file():
        raise FileNotFoundError(f"corpora/{name} is missing from this installation of Minyi")
    return path
