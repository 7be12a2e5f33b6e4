"""A fitted multinomial logistic regression kept as plain arrays (the built-in model's views),
and the softmax they share."""

from __future__ import annotations

import numpy as np

__all__ = ["Linear", "softmax"]


class Linear:
    """A fitted multinomial logistic regression as arrays: the probabilities are the softmax of
    ``x @ coef.T + intercept``."""

    def __init__(self, coef: np.ndarray, intercept: np.ndarray, classes: list[str]):
        self.coef = coef
        self.intercept = intercept
        self.classes = classes

    @classmethod
    def fit(
        cls,
        x,
        y,
        c: float,
        weights: np.ndarray,
        class_weight=None,
        start: Linear | None = None,
        steps: int = 3000,
    ) -> Linear:
        """Logistic regression with ``C = c``; starting from ``start``'s weights when given, and
        stopping after at most ``steps`` steps of L-BFGS."""
        import warnings

        from sklearn.exceptions import ConvergenceWarning
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(
            C=c, max_iter=steps, class_weight=class_weight, warm_start=start is not None
        )
        if start is not None:
            model.coef_ = start.coef.astype(np.float64)
            model.intercept_ = start.intercept.astype(np.float64)
            model.classes_ = np.array(start.classes)
        with warnings.catch_warnings():  # stopping early is meant
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(x, y, sample_weight=weights)
        return cls(model.coef_, model.intercept_, [str(c) for c in model.classes_])

    def proba(self, x) -> np.ndarray:
        return softmax(np.asarray(x @ self.coef.T) + self.intercept)

    def aligned(self, classes: np.ndarray, x) -> np.ndarray:
        """``proba`` with columns in ``classes`` order (a class it never saw gets 0)."""
        proba = self.proba(x)
        out = np.zeros((proba.shape[0], len(classes)))
        where = {c: i for i, c in enumerate(self.classes)}
        for j, c in enumerate(classes):
            if c in where:
                out[:, j] = proba[:, where[c]]
        return out


def softmax(log_p: np.ndarray) -> np.ndarray:
    p = np.exp(log_p - log_p.max(axis=1, keepdims=True))
    return p / p.sum(axis=1, keepdims=True)
