"""Weight initialisers for a dense layer.

Every initialiser has the signature ``name(shape, rng=None)`` (extra parameters keyword-only)
and returns a float64 array of ``shape = (fan_in, fan_out)``: ``fan_in`` inputs feed each of
the ``fan_out`` units, so ``z = x @ W`` for a batch ``x`` of shape (batch, fan_in).

The random ones draw from a plain normal or uniform distribution (no truncation), with the
variance their rule prescribes:

=================  ==============================  =====================================
name               distribution                    variance
=================  ==============================  =====================================
``normal``         N(0, std²)                      std²
``uniform``        U(−limit, limit)                limit² / 3
``xavier_normal``  N(0, 2/(fan_in + fan_out))      2 / (fan_in + fan_out)   (Glorot 2010)
``xavier_uniform`` U(±√(6/(fan_in + fan_out)))     2 / (fan_in + fan_out)
``he_normal``      N(0, 2/fan_in)                  2 / fan_in               (He et al. 2015)
``he_uniform``     U(±√(6/fan_in))                 2 / fan_in
``lecun_normal``   N(0, 1/fan_in)                  1 / fan_in               (LeCun et al. 1998)
=================  ==============================  =====================================

A uniform distribution on (−L, L) has variance L²/3, so the bound L = √(3·variance) gives a
uniform initialiser the same variance as its normal twin.

``rng`` must be a ``numpy.random.Generator`` (``None`` makes a fresh, unseeded
``np.random.default_rng()``); pass a seeded one for reproducible weights.

Example
-------
>>> import numpy as np
>>> from actlib import init
>>> W = init.he_normal((500, 500), rng=np.random.default_rng(0))
>>> W.shape, round(float(W.var() * 500 / 2), 2)
((500, 500), 1.0)
"""
import math
import numbers

import numpy as np

__all__ = ["as_generator",
           "zeros", "constant", "normal", "uniform", "xavier_uniform", "xavier_normal",
           "he_uniform", "he_normal", "lecun_normal", "fans", "get", "names", "Network"]


# --- argument checking -----------------------------------------------------------------
def fans(shape):
    """Return ``(fan_in, fan_out)`` of a weight shape ``(fan_in, fan_out)``.

    Raises ValueError (with what was received and what is allowed) unless ``shape`` is a
    sequence of exactly two positive integers.
    """
    if isinstance(shape, (str, bytes)) or not hasattr(shape, "__len__"):
        raise ValueError(f"shape must be a 2-tuple (fan_in, fan_out) of positive integers, "
                         f"got {shape!r}")
    if len(shape) != 2:
        raise ValueError(f"shape must have exactly 2 entries (fan_in, fan_out) for a dense "
                         f"weight matrix, got {len(shape)}: {tuple(shape)!r}")
    for label, value in zip(("fan_in", "fan_out"), shape):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise ValueError(f"{label} must be a positive integer, got {value!r} "
                             f"(type {type(value).__name__}) in shape {tuple(shape)!r}")
        if value <= 0:
            raise ValueError(f"{label} must be a positive integer, got {value} "
                             f"in shape {tuple(shape)!r}")
    return int(shape[0]), int(shape[1])


def as_generator(rng):
    """``rng`` itself when it is a Generator, a fresh one when None, else a TypeError.

    The course's rule for randomness: every random function takes an explicit
    ``numpy.random.Generator``; `actlib.data`, `actlib.nn` and `actlib.surfaces` use this too.
    """
    if rng is None:
        return np.random.default_rng()
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator (e.g. np.random.default_rng(0)) "
                        f"or None, got {type(rng).__name__}")
    return rng


def _scale(value, label):
    """A finite, non-negative float parameter, or a ValueError naming it."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{label} must be a finite non-negative number, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{label} must be a finite non-negative number, got {value}")
    return value


# --- deterministic ----------------------------------------------------------------------
def zeros(shape, rng=None):
    """All weights 0: W = 0. Every unit of the layer then computes the same thing and
    receives the same gradient, so the units never become different (the symmetry problem).
    ``rng`` is accepted for a uniform signature and not used."""
    return np.zeros(fans(shape))


def constant(shape, *, value=0.1, rng=None):
    """All weights equal to ``value``: W = c. Same symmetry problem as ``zeros``.
    ``rng`` is accepted for a uniform signature and not used."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) \
            or not math.isfinite(float(value)):
        raise ValueError(f"value must be a finite number, got {value!r}")
    return np.full(fans(shape), float(value))


# --- random with a given scale ------------------------------------------------------------
def normal(shape, *, std=0.01, rng=None):
    """W ~ N(0, std²) elementwise, plain (untruncated) normal; variance std²."""
    std = _scale(std, "std")
    return as_generator(rng).normal(0.0, std, size=fans(shape))


def uniform(shape, *, limit=0.05, rng=None):
    """W ~ U(−limit, limit) elementwise; variance limit²/3."""
    limit = _scale(limit, "limit")
    return as_generator(rng).uniform(-limit, limit, size=fans(shape))


# --- variance-scaling rules ----------------------------------------------------------------
def xavier_normal(shape, rng=None):
    """Xavier/Glorot normal: W ~ N(0, σ²) with σ² = 2 / (fan_in + fan_out).

    Keeps the variance of activations (forward) and of gradients (backward) roughly
    constant through layers of a unit-slope, zero-centred activation such as tanh.
    """
    fan_in, fan_out = fans(shape)
    return normal(shape, std=math.sqrt(2.0 / (fan_in + fan_out)), rng=rng)


def xavier_uniform(shape, rng=None):
    """Xavier/Glorot uniform: W ~ U(−L, L) with L = √(6 / (fan_in + fan_out)),
    so Var W = L²/3 = 2 / (fan_in + fan_out)."""
    fan_in, fan_out = fans(shape)
    return uniform(shape, limit=math.sqrt(6.0 / (fan_in + fan_out)), rng=rng)


def he_normal(shape, rng=None):
    """He/Kaiming normal: W ~ N(0, 2 / fan_in).

    ReLU zeroes half of its inputs, halving the second moment; the factor 2 restores it,
    so the activations' scale stays constant through a deep ReLU network.
    """
    fan_in, _ = fans(shape)
    return normal(shape, std=math.sqrt(2.0 / fan_in), rng=rng)


def he_uniform(shape, rng=None):
    """He/Kaiming uniform: W ~ U(−L, L) with L = √(6 / fan_in), so Var W = 2 / fan_in."""
    fan_in, _ = fans(shape)
    return uniform(shape, limit=math.sqrt(6.0 / fan_in), rng=rng)


def lecun_normal(shape, rng=None):
    """LeCun normal: W ~ N(0, 1 / fan_in), so z = x @ W has the variance of x's entries.
    With SELU it keeps activations at mean 0, variance 1 through depth (self-normalising)."""
    fan_in, _ = fans(shape)
    return normal(shape, std=math.sqrt(1.0 / fan_in), rng=rng)


# --- registry -------------------------------------------------------------------------------
_REGISTRY = {fn.__name__: fn for fn in (zeros, constant, normal, uniform, xavier_uniform,
                                         xavier_normal, he_uniform, he_normal, lecun_normal)}


def names():
    """The registered initialiser names, in the order of the lesson."""
    return list(_REGISTRY)


def get(name):
    """The initialiser registered under ``name``.

    Raises TypeError for a non-string and ValueError listing the valid names for an
    unknown one.
    """
    if not isinstance(name, str):
        raise TypeError(f"initialiser name must be a string, got {type(name).__name__}; "
                        f"valid names: {', '.join(_REGISTRY)}")
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown initialiser {name!r}; valid names: "
                         f"{', '.join(_REGISTRY)}") from None


# --- a whole network ---------------------------------------------------------------------------
class Network:
    """The initialiser of a whole dense network by one registered rule.

    ``Network(name)(sizes, rng)`` returns ``[(W_1, b_1), ..., (W_L, b_L)]`` for the layer sizes
    ``sizes = [n_0, n_1, ..., n_L]``: each ``W_l = get(name)((n_{l-1}, n_l), rng)``, drawn in
    layer order from the one generator, and each ``b_l`` zeros of length ``n_l``. The capstone's
    ``train`` takes any callable of this form as its ``initialiser``; the grader sends this one
    to a student's kernel by its name, so a check can train with an initialiser other than the
    default.

    >>> import numpy as np
    >>> params = Network("xavier_normal")([4, 3, 2], np.random.default_rng(0))
    >>> [(W.shape, b.shape) for W, b in params]
    [((4, 3), (3,)), ((3, 2), (2,))]
    """

    def __init__(self, name):
        get(name)                    # a clear error for an unknown rule
        self.name = name

    def __call__(self, sizes, rng=None):
        try:
            sizes = [int(n) for n in sizes]
        except (TypeError, ValueError):
            raise TypeError(f"sizes must be a list of layer widths, got {sizes!r}") from None
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(f"sizes must hold at least two positive widths, got {sizes}")
        rng, rule = as_generator(rng), get(self.name)
        return [(rule((a, b), rng), np.zeros(b)) for a, b in zip(sizes[:-1], sizes[1:])]

    def __repr__(self):
        return f"init.Network({self.name!r})"

    def __eq__(self, other):
        return isinstance(other, Network) and other.name == self.name

    def __hash__(self):
        return hash(("init.Network", self.name))
