"""Classification quality: per-class precision/recall/F1, macro-F1, confusion, calibration."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["evaluate", "expected_calibration_error"]


def expected_calibration_error(
    correct: Sequence[bool], confidence: Sequence[float], bins: int = 10
) -> float:
    """Mean gap between confidence and accuracy over equal-width confidence bins, weighted by
    the share of rows in each bin (0: confidence means exactly what it says)."""
    correct = np.asarray(correct, dtype=float)
    confidence = np.clip(np.asarray(confidence, dtype=float), 0, 1)
    if len(correct) == 0:
        return 0.0
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    gap = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            gap += abs(correct[inside].mean() - confidence[inside].mean()) * inside.mean()
    return float(gap)


def evaluate(
    truth: Sequence[str], predicted: Sequence[str], confidence: Sequence[float] | None = None
) -> dict:
    """Scores of ``predicted`` against ``truth``.

    Macro-F1 is taken over the true classes: a prediction outside them (another class, 待人工)
    costs recall and is not a class of its own.
    """
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    truth, predicted = [str(t) for t in truth], [str(p) for p in predicted]
    labels = sorted(set(truth))
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=labels, zero_division=0
    )
    columns = labels + sorted(set(predicted) - set(labels))
    matrix = confusion_matrix(truth, predicted, labels=columns)[: len(labels)]
    correct = [t == p for t, p in zip(truth, predicted)]
    return {
        "rows": len(truth),
        "accuracy": round(float(np.mean(correct)), 4) if truth else 0.0,
        "macro_f1": round(float(np.mean(f1)), 4),
        "ece": round(expected_calibration_error(correct, confidence), 4)
        if confidence is not None
        else None,
        "per_class": {
            label: {
                "precision": round(float(p), 4),
                "recall": round(float(r), 4),
                "f1": round(float(f), 4),
                "support": int(s),
            }
            for label, p, r, f, s in zip(labels, precision, recall, f1, support)
        },
        "confusion": {"true": labels, "predicted": columns, "matrix": matrix.tolist()},
    }
