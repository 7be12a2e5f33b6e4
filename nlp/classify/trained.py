"""A classifier trained on the user's own labels: character n-gram TF-IDF + logistic regression.

A first supervised model (the classification issue deepens it). Saved as a folder with a readable
``manifest.json`` (labels, library versions, data hash, cross-validated scores) and the fitted
estimator in ``model.joblib``.
"""

from __future__ import annotations

import hashlib
import json
import platform
from pathlib import Path

import numpy as np

from ..errors import ConfigError, NotFittedError
from .base import Prediction
from .taxonomy import ABSTAIN

__all__ = ["TrainedClassifier"]

FORMAT = "minyi-trained-classifier/1"


class TrainedClassifier:
    """Supervised text classifier with the regularisation picked by cross-validation.

    Args:
        c_grid: Values of logistic regression's ``C`` tried by cross-validation.
        folds: Cross-validation folds (fewer when a class has fewer examples).
        abstain_below: Below this probability the opinion is marked ``待人工``.
        seed: Seed of the fold split.
    """

    def __init__(self, c_grid: tuple[float, ...] = (2.0, 8.0, 32.0), folds: int = 3, abstain_below: float = 0.0, seed: int = 0):
        self.c_grid = c_grid
        self.folds = folds
        self.abstain_below = abstain_below
        self.seed = seed

    def _estimator(self, c: float):
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline

        return make_pipeline(
            TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), min_df=2, sublinear_tf=True, max_features=200_000),
            LogisticRegression(C=c, max_iter=2000),
        )

    def fit(self, texts: list[str], labels: list[str]) -> TrainedClassifier:
        """Pick ``C`` by stratified cross-validation (macro-F1), then fit on all rows."""
        from sklearn.model_selection import StratifiedKFold, cross_val_score

        if len(texts) != len(labels):
            raise ConfigError(f"{len(texts)} texts but {len(labels)} labels")
        counts = {label: labels.count(label) for label in set(labels)}
        if len(counts) < 2:
            raise ConfigError(f"training needs at least two labels, got {sorted(counts)}")
        folds = max(2, min(self.folds, min(counts.values())))
        scores = {}
        if min(counts.values()) >= 2:
            split = StratifiedKFold(n_splits=folds, shuffle=True, random_state=self.seed)
            for c in self.c_grid:
                scores[c] = float(np.mean(cross_val_score(self._estimator(c), texts, labels, cv=split, scoring="f1_macro")))
        best = max(scores, key=scores.get) if scores else self.c_grid[0]
        self.model_ = self._estimator(best).fit(texts, labels)
        self.labels_ = [str(x) for x in self.model_.classes_]
        self.manifest_ = {
            "format": FORMAT,
            "labels": self.labels_,
            "examples": counts,
            "C": best,
            "cv_macro_f1": {str(c): round(s, 4) for c, s in scores.items()},
            "cv_folds": folds if scores else 0,
            "data_sha256": hashlib.sha256("\n".join(f"{t}\t{y}" for t, y in zip(texts, labels)).encode()).hexdigest(),
            "versions": _versions(),
        }
        return self

    def predict(self, texts: list[str], tokens: list[list[str]] | None = None) -> list[Prediction]:
        """Classify normalised texts (``tokens`` is unused: the model reads characters)."""
        if not hasattr(self, "model_"):
            raise NotFittedError("TrainedClassifier is not fitted; call fit() or TrainedClassifier.load()")
        if not texts:
            return []
        proba = self.model_.predict_proba(texts)
        out = []
        for row in proba:
            order = np.argsort(-row)[:3]
            alternatives = [(self.labels_[i], round(float(row[i]), 4)) for i in order]
            label, p = alternatives[0]
            out.append(Prediction(ABSTAIN if p < self.abstain_below else label, "", p, [], alternatives))
        return out

    def save(self, folder: str | Path) -> Path:
        """Write ``manifest.json`` and ``model.joblib`` into ``folder``."""
        import joblib

        if not hasattr(self, "model_"):
            raise NotFittedError("nothing to save: the classifier is not fitted")
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        joblib.dump(self.model_, folder / "model.joblib")
        (folder / "manifest.json").write_text(json.dumps(self.manifest_, ensure_ascii=False, indent=2), encoding="utf-8")
        return folder

    @classmethod
    def load(cls, folder: str | Path, abstain_below: float = 0.0) -> TrainedClassifier:
        """Load a model folder written by :meth:`save`.

        Raises:
            ConfigError: The folder is not a Minyi model, is damaged, or was written by an
                incompatible scikit-learn.
        """
        import joblib

        folder = Path(folder)
        manifest_path = folder / "manifest.json"
        if not manifest_path.is_file():
            raise ConfigError(f"{folder} is not a Minyi model folder (no manifest.json); train one with `minyi train`")
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as e:
            raise ConfigError(f"the model manifest {manifest_path} is damaged: {e}") from e
        if manifest.get("format") != FORMAT:
            raise ConfigError(f"{folder} holds a model of format {manifest.get('format')!r}; this Minyi reads {FORMAT!r}")
        trained_with = manifest.get("versions", {}).get("scikit-learn")
        if trained_with != _versions()["scikit-learn"]:
            raise ConfigError(
                f"the model in {folder} was trained with scikit-learn {trained_with}, this install has "
                f"{_versions()['scikit-learn']}; retrain it with `minyi train`"
            )
        try:
            model = joblib.load(folder / "model.joblib")
        except Exception as e:  # a damaged pickle raises many types
            raise ConfigError(f"cannot load {folder / 'model.joblib'}; is it damaged? ({e})") from e
        clf = cls(abstain_below=abstain_below)
        clf.model_, clf.labels_, clf.manifest_ = model, list(manifest["labels"]), manifest
        return clf


def _versions() -> dict[str, str]:
    import sklearn

    from .. import __version__

    return {"minyi": __version__, "scikit-learn": sklearn.__version__, "python": platform.python_version()}
