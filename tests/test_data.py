"""Tests of actlib.data: shapes, labels, geometry without noise, determinism, errors."""
import math

import numpy as np
import pytest

from actlib import data

CLASSIFICATION = ["two_moons", "spirals", "xor"]


@pytest.mark.parametrize("name", data.names())
@pytest.mark.parametrize("n", [1, 7, 200])
def test_shapes_and_dtypes(name, n):
    X, y = data.get(name)(n, rng=np.random.default_rng(0))
    assert X.ndim == 2 and X.shape[0] == n and X.dtype == np.float64
    assert y.shape == (n,)
    assert np.all(np.isfinite(X)) and np.all(np.isfinite(y))


@pytest.mark.parametrize("name", CLASSIFICATION)
def test_labels_balanced_and_shuffled(name):
    X, y = data.get(name)(401, rng=np.random.default_rng(1))
    assert np.issubdtype(y.dtype, np.integer)
    counts = np.bincount(y)
    assert counts.max() - counts.min() <= 2      # xor: two corners per class
    # shuffled: the first half is not a single class
    assert len(np.unique(y[: len(y) // 2])) > 1


@pytest.mark.parametrize("name", data.names())
def test_seeded_is_deterministic(name):
    f = data.get(name)
    a = f(50, rng=np.random.default_rng(3))
    b = f(50, rng=np.random.default_rng(3))
    c = f(50, rng=np.random.default_rng(4))
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    assert not np.array_equal(a[0], c[0])


def test_two_moons_geometry_without_noise():
    X, y = data.two_moons(300, rng=np.random.default_rng(5), noise=0.0)
    up, low = X[y == 0], X[y == 1]
    assert np.allclose(np.hypot(up[:, 0], up[:, 1]), 1.0) and np.all(up[:, 1] >= 0)
    assert np.allclose(np.hypot(low[:, 0] - 1.0, low[:, 1] - 0.5), 1.0)
    assert np.all(low[:, 1] <= 0.5)


def test_spirals_geometry_without_noise():
    X, y = data.spirals(300, rng=np.random.default_rng(6), noise=0.0, classes=3, turns=1.0)
    r = np.hypot(X[:, 0], X[:, 1])
    assert np.all(r <= 1.0) and set(np.unique(y)) == {0, 1, 2}
    theta = 2 * math.pi * r + 2 * math.pi * y / 3
    assert np.allclose(X, r[:, None] * np.column_stack([np.cos(theta), np.sin(theta)]))


def test_xor_labels_follow_signs_without_noise():
    X, y = data.xor(100, rng=np.random.default_rng(7), noise=0.0)
    assert np.all(np.abs(X) == 1.0)
    assert np.array_equal(y, (X[:, 0] * X[:, 1] < 0).astype(int))


def test_xor_is_not_linearly_separable():
    """Least squares on [x, 1] cannot classify XOR better than chance-ish (≤ 75 %)."""
    X, y = data.xor(400, rng=np.random.default_rng(8), noise=0.1)
    A = np.column_stack([X, np.ones(len(X))])
    w = np.linalg.lstsq(A, y - 0.5, rcond=None)[0]
    assert np.mean((A @ w > 0) == (y == 1)) <= 0.75


def test_noisy_line_exact_without_noise_and_fit_with_noise():
    X, y = data.noisy_line(50, rng=np.random.default_rng(9), noise=0.0, slope=-3.0,
                           intercept=0.5, x_range=(2.0, 4.0))
    assert X.shape == (50, 1) and np.all((X >= 2.0) & (X <= 4.0))
    assert np.allclose(y, -3.0 * X[:, 0] + 0.5)
    X, y = data.noisy_line(20000, rng=np.random.default_rng(10), noise=0.3)
    slope, intercept = np.polyfit(X[:, 0], y, 1)
    # standard error of the slope: σ / (√N · std(x)) with std(x) = 1/√3 on U(−1, 1)
    se = 0.3 / (math.sqrt(20000) / math.sqrt(3.0))
    assert abs(slope - 2.0) < 5 * se and abs(intercept - 1.0) < 5 * 0.3 / math.sqrt(20000)
    assert abs(np.std(y - (2.0 * X[:, 0] + 1.0)) - 0.3) < 0.01


@pytest.mark.parametrize("name", data.names())
@pytest.mark.parametrize("n", [0, -3, 2.5, True, "10"])
def test_bad_n(name, n):
    with pytest.raises(ValueError, match="positive integer"):
        data.get(name)(n)


@pytest.mark.parametrize("name", data.names())
def test_bad_noise_and_rng(name):
    with pytest.raises(ValueError, match="noise"):
        data.get(name)(10, noise=-0.1)
    with pytest.raises(TypeError, match="Generator"):
        data.get(name)(10, rng=0)


def test_bad_extra_parameters():
    with pytest.raises(ValueError, match="classes"):
        data.spirals(10, classes=1)
    with pytest.raises(ValueError, match="turns"):
        data.spirals(10, turns=0)
    with pytest.raises(ValueError, match="x_range"):
        data.noisy_line(10, x_range=(1.0, 1.0))


def test_unknown_dataset_lists_names():
    with pytest.raises(ValueError) as err:
        data.get("circles")
    assert all(n in str(err.value) for n in data.names())


def test_standardise():
    rng = np.random.default_rng(11)
    X = rng.normal([500.0, -3.0], [100.0, 0.01], size=(1000, 2))
    Xs, mean, std = data.standardise(X)
    assert np.allclose(Xs.mean(axis=0), 0.0, atol=1e-12)
    assert np.allclose(Xs.std(axis=0), 1.0)
    X2 = rng.normal([500.0, -3.0], [100.0, 0.01], size=(10, 2))
    Xs2, _, _ = data.standardise(X2, mean, std)
    assert np.allclose(Xs2, (X2 - mean) / std)
    with pytest.raises(ValueError, match=r"column\(s\) \[1\]"):
        data.standardise(np.column_stack([X[:, 0], np.ones(1000)]))
    with pytest.raises(ValueError, match="2-D"):
        data.standardise(np.ones(5))


# ------------------------------------------------------------------------------ digits
def test_digits_shape_range_labels_and_counts():
    X, y = data.digits()
    assert X.shape == (1797, 64) and X.dtype == np.float64
    assert y.shape == (1797,) and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    # grey levels 0 … 16 scaled by 1/16: every pixel is a multiple of 1/16
    assert np.array_equal(X * 16, np.round(X * 16))
    assert sorted(np.unique(y).tolist()) == list(range(10))
    assert np.bincount(y).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    # the file's order, the same on every call, and fresh arrays each time
    X2, y2 = data.digits()
    assert np.array_equal(X, X2) and np.array_equal(y, y2) and X2 is not X
    assert y[:10].tolist() == list(range(10))


def test_digits_rows_are_the_8x8_images_read_row_by_row():
    from sklearn.datasets import load_digits

    X, _ = data.digits()
    images = load_digits().images
    assert np.array_equal(X[5].reshape(8, 8), images[5] / 16.0)


def test_digits_without_scikit_learn_says_how_to_install(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)    # import now fails
    with pytest.raises(ImportError, match=r"^actlib\.data\.digits\(\) needs scikit-learn: "
                                          r"pip install 'scikit-learn>=1\.3'$"):
        data.digits()
