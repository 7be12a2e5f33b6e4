import pytest

from nlp.classify.evaluation import evaluate, expected_calibration_error


def test_calibration_error_is_zero_when_confidence_matches_accuracy():
    assert expected_calibration_error([True, False], [0.5, 0.5]) == 0.0
    assert expected_calibration_error([True, True], [0.5, 0.5]) == pytest.approx(0.5)


def test_evaluate_counts_predictions_outside_the_true_classes_as_misses():
    report = evaluate(
        ["供暖", "供暖", "道路", "道路"], ["供暖", "待人工", "道路", "供暖"], [0.9, 0.2, 0.8, 0.6]
    )
    assert report["per_class"]["供暖"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    assert report["macro_f1"] == pytest.approx((0.5 + 2 / 3) / 2, abs=1e-4)
    assert report["confusion"]["predicted"] == ["供暖", "道路", "待人工"]
    assert report["confusion"]["matrix"] == [[1, 0, 1], [1, 1, 0]]
    assert 0 < report["ece"] < 1
