"""NB-SVM: linear SVMs on features scaled by naive-Bayes log-count ratios (Wang & Manning 2012,
"Baselines and Bigrams"). Imported when a model is trained or loaded (it needs scikit-learn)."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.svm import LinearSVC
from sklearn.utils.validation import check_is_fitted

__all__ = ["NBLinearSVC"]


class NBLinearSVC(ClassifierMixin, BaseEstimator):
    """Linear SVMs, one per class against the rest, each on the features scaled by their
    log-count ratio ``r = log((p / |p|) / (q / |q|))``, with ``p`` and ``q`` the smoothed numbers
    of documents holding the feature inside the class and outside it. Words typical of a class
    count for more from the start, which helps where classes share most of their words.

    ``coef_`` holds the weights on the unscaled features (``r`` times the SVM's), so the model is
    one linear function per class, as a linear SVM is. With two classes there is one function,
    positive for the second class, as with ``LinearSVC``.

    Args:
        C: The SVMs' regularisation.
        alpha: Smoothing added to the counts.
        random_state: Seed of liblinear's shuffling of the rows (left unseeded, two fits on the
            same rows differ in the fourth decimal of their probabilities).
    """

    def __init__(self, C: float = 1.0, alpha: float = 0.5, random_state: int | None = 0):
        self.C = C
        self.alpha = alpha
        self.random_state = random_state

    def fit(self, x, y, sample_weight=None) -> NBLinearSVC:
        """Fit; ``sample_weight`` weighs each row in the counts and in the SVMs' losses."""
        y = np.asarray(y)
        self.classes_ = np.unique(y)
        weight = (
            np.ones(len(y))
            if sample_weight is None
            else np.asarray(sample_weight, dtype=np.float64)
        )
        present = (x > 0).astype(np.float64)
        targets = self.classes_[1:] if len(self.classes_) == 2 else self.classes_
        members = (y[:, None] == targets[None, :]).astype(np.float64) * weight[:, None]
        within = np.asarray(
            (present.T @ members).T
        )  # (weighted) documents holding each feature, per class
        everywhere = np.asarray(present.T @ weight).ravel()
        coefs, intercepts = [], []
        for k, label in enumerate(targets):
            inside = y == label
            p = self.alpha + within[k]
            q = self.alpha + everywhere - within[k]
            r = np.log((p / p.sum()) / (q / q.sum()))
            svm = LinearSVC(C=self.C, random_state=self.random_state).fit(
                x.multiply(r).tocsr(), inside.astype(int), sample_weight=sample_weight
            )
            coefs.append(svm.coef_[0] * r)
            intercepts.append(svm.intercept_[0])
        self.coef_, self.intercept_ = np.array(coefs), np.array(intercepts)
        return self

    def decision_function(self, x) -> np.ndarray:
        check_is_fitted(self)
        scores = np.asarray(x @ self.coef_.T) + self.intercept_
        return scores[:, 0] if len(self.classes_) == 2 else scores

    def predict(self, x) -> np.ndarray:
        scores = self.decision_function(x)
        return (
            self.classes_[(scores > 0).astype(int)]
            if scores.ndim == 1
            else self.classes_[scores.argmax(axis=1)]
        )
