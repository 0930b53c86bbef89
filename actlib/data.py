"""Small toy data sets, generated in code (no downloads), a real one that ships offline
(scikit-learn's handwritten digits), and input standardisation.

Every generator has the signature ``name(n, rng=None, noise=...)`` and returns ``(X, y)``:
``X`` a float64 array of shape (n, d) and ``y`` a 1-D array of length n (int class labels
0, 1, ... for the classification sets, float targets for ``noisy_line``). Points are
shuffled so that consecutive mini-batches mix the classes. ``rng`` is a
``numpy.random.Generator`` (``None``: a fresh, unseeded one). `digits` is the exception: a
fixed, real data set, loaded from the copy bundled with scikit-learn.
"""
import math
import numbers

import numpy as np

from actlib.init import as_generator

__all__ = ["two_moons", "spirals", "xor", "noisy_line", "standardise", "minibatches", "digits",
           "names", "get"]


def _count(n):
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n <= 0:
        raise ValueError(f"n (the number of points) must be a positive integer, got {n!r}")
    return int(n)


def _noise(noise):
    if isinstance(noise, bool) or not isinstance(noise, numbers.Real) \
            or not math.isfinite(float(noise)) or noise < 0:
        raise ValueError(f"noise (a standard deviation) must be a finite number >= 0, "
                         f"got {noise!r}")
    return float(noise)


def _split(n, k):
    """Class sizes: n points over k classes as evenly as possible (the first get the extra)."""
    return [n // k + (i < n % k) for i in range(k)]


def _shuffled(rng, X, y):
    order = rng.permutation(len(y))
    return X[order], y[order]


def two_moons(n, rng=None, noise=0.1):
    """Two interleaving half circles, labels 0 and 1.

    Class 0 lies on (cos t, sin t) and class 1 on (1 − cos t, ½ − sin t), t ~ U(0, π);
    Gaussian noise of standard deviation ``noise`` is added to both coordinates.
    Not linearly separable; one small hidden layer separates it.
    """
    n, noise, rng = _count(n), _noise(noise), as_generator(rng)
    n0, n1 = _split(n, 2)
    t0, t1 = rng.uniform(0.0, math.pi, n0), rng.uniform(0.0, math.pi, n1)
    upper = np.column_stack([np.cos(t0), np.sin(t0)])
    lower = np.column_stack([1.0 - np.cos(t1), 0.5 - np.sin(t1)])
    X = np.vstack([upper, lower]) + rng.normal(0.0, noise, (n, 2))
    y = np.repeat([0, 1], [n0, n1])
    return _shuffled(rng, X, y)


def spirals(n, rng=None, noise=0.05, classes=2, turns=1.5):
    """``classes`` interleaved spiral arms, labels 0 … classes−1.

    Arm k is r·(cos θ, sin θ) with radius r ~ U(0, 1) and angle θ = 2π·turns·r + 2πk/classes;
    Gaussian noise of standard deviation ``noise`` is added to both coordinates.
    """
    n, noise, rng = _count(n), _noise(noise), as_generator(rng)
    if isinstance(classes, bool) or not isinstance(classes, numbers.Integral) or classes < 2:
        raise ValueError(f"classes must be an integer >= 2, got {classes!r}")
    if isinstance(turns, bool) or not isinstance(turns, numbers.Real) or not turns > 0:
        raise ValueError(f"turns must be a positive number, got {turns!r}")
    sizes = _split(n, int(classes))
    y = np.repeat(np.arange(classes), sizes)
    r = rng.uniform(0.0, 1.0, n)
    theta = 2.0 * math.pi * turns * r + 2.0 * math.pi * y / classes
    X = r[:, None] * np.column_stack([np.cos(theta), np.sin(theta)])
    X = X + rng.normal(0.0, noise, (n, 2))
    return _shuffled(rng, X, y)


def xor(n, rng=None, noise=0.25):
    """The XOR problem as four Gaussian blobs around (±1, ±1), labels 0 and 1.

    A blob's label is 1 when the signs of its centre's coordinates differ (x₁·x₂ < 0) and
    0 when they agree; each point is its centre plus N(0, noise²) in both coordinates.
    No straight line separates the two classes.
    """
    n, noise, rng = _count(n), _noise(noise), as_generator(rng)
    corner = np.repeat(np.arange(4), _split(n, 4))
    centres = np.array([[1.0, 1.0], [-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]])
    X = centres[corner] + rng.normal(0.0, noise, (n, 2))
    y = (corner >= 2).astype(int)
    return _shuffled(rng, X, y)


def noisy_line(n, rng=None, noise=0.1, slope=2.0, intercept=1.0, x_range=(-1.0, 1.0)):
    """A regression set: y = slope·x + intercept + ε, x ~ U(x_range), ε ~ N(0, noise²).

    Returns X of shape (n, 1) and float targets y of shape (n,).
    """
    n, noise, rng = _count(n), _noise(noise), as_generator(rng)
    low, high = (float(v) for v in x_range)
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(f"x_range must be two finite numbers (low, high) with low < high, "
                         f"got {x_range!r}")
    x = rng.uniform(low, high, n)
    y = slope * x + intercept + rng.normal(0.0, noise, n)
    return x[:, None], y


def standardise(X, mean=None, std=None):
    """Rescale every column of ``X`` to mean 0 and standard deviation 1: (X − μ) / σ.

    μ and σ are the column means and (population) standard deviations of ``X`` unless given
    (pass the training set's to transform a test set the same way). Returns
    ``(X_standardised, mean, std)``. A constant column (σ = 0) raises ValueError.
    """
    X = np.asarray(X, dtype=float)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (samples, features), got shape {X.shape}")
    mean = X.mean(axis=0) if mean is None else np.asarray(mean, dtype=float)
    std = X.std(axis=0) if std is None else np.asarray(std, dtype=float)
    if np.any(std <= 0):
        bad = np.flatnonzero(np.broadcast_to(std, X.shape[1:]) <= 0).tolist()
        raise ValueError(f"cannot standardise: column(s) {bad} have standard deviation 0 "
                         f"(constant); drop them or pass std explicitly")
    return (X - mean) / std, mean, std


def minibatches(X, y, batch_size, rng=None, shuffle=True):
    """One epoch's mini-batches: a list of ``(X_batch, y_batch)`` that partitions the data.

    The n rows are put in a random order (``rng.permutation(n)``; none when ``shuffle`` is
    False), then cut into consecutive batches of ``batch_size`` rows; the last batch holds
    the n mod batch_size rows left over when n is not a multiple. Every row appears in
    exactly one batch, and ``X`` and ``y`` stay aligned. ``batch_size = n`` gives batch
    gradient descent, ``batch_size = 1`` stochastic gradient descent. Copies are returned.
    """
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim == 0 or y.ndim == 0 or len(X) != len(y):
        raise ValueError(f"X and y must have the same number of rows, got shapes {X.shape} "
                         f"and {y.shape}")
    n = len(y)
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) \
            or batch_size < 1:
        raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
    order = as_generator(rng).permutation(n) if shuffle else np.arange(n)
    return [(X[order[i:i + batch_size]], y[order[i:i + batch_size]])
            for i in range(0, n, int(batch_size))]


def digits():
    """scikit-learn's handwritten digits: 1,797 images of 8 × 8 pixels, labels 0–9.

    Returns ``(X, y)``: ``X`` a float64 array of shape (1797, 64), each row an image read
    row by row, with the pixels' grey levels 0 … 16 divided by 16 so that they lie in
    [0, 1]; ``y`` an int64 array of shape (1797,) holding the digit shown (each of the ten
    digits appears between 174 and 183 times). The rows keep the order of the file (not
    shuffled). The data ships with scikit-learn (``sklearn.datasets.load_digits``), so
    nothing is downloaded; scikit-learn is imported only when this function is called, and
    a clear ImportError says how to install it when it is missing.
    """
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ImportError("actlib.data.digits() needs scikit-learn: "
                          "pip install 'scikit-learn>=1.3'") from None
    bunch = load_digits()
    X = np.asarray(bunch.data, dtype=np.float64) / 16.0
    y = np.asarray(bunch.target, dtype=np.int64)
    return X, y


_REGISTRY = {fn.__name__: fn for fn in (two_moons, spirals, xor, noisy_line)}


def names():
    """Names of the toy data sets."""
    return list(_REGISTRY)


def get(name):
    """The data-set generator registered under ``name`` (ValueError listing valid names)."""
    if not isinstance(name, str) or name not in _REGISTRY:
        raise ValueError(f"unknown data set {name!r}; valid names: {', '.join(_REGISTRY)}")
    return _REGISTRY[name]
