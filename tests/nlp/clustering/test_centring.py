import numpy as np

from nlp.clustering.centring import REFERENCE_WEIGHT, centre, reference_mean


class Counted:
    """An encoder of this test's own: a fixed vector per text, counting its calls."""

    def __init__(self):
        self.calls = 0

    def __call__(self, texts):
        self.calls += 1
        return np.array([[len(t) % 7, len(t) % 3, 1.0] for t in texts], dtype=np.float32)


def test_reference_mean_is_cached_for_shipped_encoders(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    encode = Counted()
    computed = reference_mean(encode, "use")
    saved = list((tmp_path / "minyi").glob("reference-*.npy"))
    assert len(saved) == 1 and encode.calls == 1
    assert np.array_equal(reference_mean(encode, "use"), computed)
    assert encode.calls == 1  # read from the cache: nothing encoded
    saved[0].write_bytes(b"damaged")
    assert np.allclose(reference_mean(encode, "use"), computed)  # computed again, saved again
    assert encode.calls == 2 and np.array_equal(np.load(saved[0]), computed)
    reference_mean(encode)  # not cached without a name
    assert encode.calls == 3 and len(list((tmp_path / "minyi").glob("*.npy"))) == 1


def test_centre_takes_out_the_blended_mean_and_scales_to_unit_length():
    points = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], dtype=np.float16)
    point_of = np.array([0, 0, 1, 2])  # the first point stands for two opinions
    reference = np.array([0.5, 0.0])
    expected = points.astype(np.float64)
    mean = ([2, 1, 1] @ expected + REFERENCE_WEIGHT * reference) / (4 + REFERENCE_WEIGHT)
    expected = expected - mean
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    centred = centre(points, point_of, reference)
    assert centred is points  # in place
    assert np.allclose(centred.astype(np.float64), expected, atol=1e-3)
