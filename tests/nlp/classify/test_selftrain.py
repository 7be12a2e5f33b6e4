import numpy as np

from nlp.classify.selftrain import ADAPT_MIN_PROBA, most_confident


def test_self_training_learns_only_from_rows_more_likely_in_their_class_than_not():
    # Class 0: five sure rows. Class 1: a class the batch hardly holds, put there unsurely
    # (a post of another class that the model leaned to): its best rows are still unsure.
    proba = np.array(
        [
            [0.95, 0.05, 0.00],
            [0.90, 0.10, 0.00],
            [0.85, 0.15, 0.00],
            [0.80, 0.20, 0.00],
            [0.75, 0.25, 0.00],
            [0.30, 0.45, 0.25],
            [0.35, 0.40, 0.25],
        ]
    )
    keep = most_confident(proba)
    assert keep[:3].all() and not keep[3:5].any()  # the most confident 60% of class 0
    assert not keep[5:].any()  # the top of class 1 is below the bar, so none of it is learnt
    assert proba[5].max() < ADAPT_MIN_PROBA
    sure = proba.copy()
    sure[5] = [0.2, 0.7, 0.1]
    assert most_confident(sure)[5]
