"""Find the project's own data files in ``corpora/``, installed or not."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterable
from functools import cache
from importlib import resources
from pathlib import Path

import yaml

from nlp.core.errors import ConfigError

__all__ = ["cache_folder", "corpus_path", "jionlp", "load_yaml", "read_fragments"]


def cache_folder() -> Path:
    """The user cache folder, where models built from ``corpora/`` are kept between runs."""
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("minyi", appauthor=False))


@cache
def jionlp():
    """The jionlp package, imported once with its banner kept off stdout (it prints one on
    import, which would mix into the terminal and into stdout pipes)."""
    with contextlib.redirect_stdout(io.StringIO()):
        import jionlp

    return jionlp


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


def load_yaml(
    path: str | Path | None, default: str, what: str, required: Iterable[str] = ()
) -> dict:
    """Read a YAML mapping: ``path``, or ``corpora/<default>`` when ``None``.

    Args:
        what: What the file is, for error messages ("the scoring config").
        required: Keys the mapping must have.

    Raises:
        ConfigError: The file cannot be read, is not a mapping, or lacks a required key.
    """
    path = Path(path) if path else corpus_path(default)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise ConfigError(f"cannot read {what} {path}: {e}") from e
    if not isinstance(data, dict):
        raise ConfigError(f"{what} {path} must be a mapping")
    for key in required:
        if key not in data:
            raise ConfigError(f"{what} {path} lacks {key!r}")
    return data


def read_fragments() -> list[tuple[str, str]]:
    """``(topic, text)`` of each fragment in ``corpora/fragments.txt``, with ``{place}`` left out."""
    out = []
    for line in corpus_path("fragments.txt").read_text(encoding="utf-8").splitlines():
        if "\t" in line and not line.startswith("#"):
            topic, text = line.split("\t", 1)
            out.append((topic, text.replace("{place}", "")))
    return out
