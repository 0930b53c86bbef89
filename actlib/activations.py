r"""Activation functions, their derivatives and the registry that describes them.

Every activation of the course is *one registry entry* (an :class:`Activation`): its value,
its derivative, its SymPy form, its parameters with defaults, the facts shown in the
comparison table and its limits at ±inf.  The comparison table, the plots, the widgets and
the tests all read the same registry, so adding an activation is one ``_register(...)`` call.

>>> from actlib import activations as A
>>> A.names()[:4]
['heaviside', 'bipolar_step', 'linear', 'sigmoid']
>>> f = A.get("sigmoid")
>>> float(f(0.0)), float(f.grad(0.0))
(0.5, 0.25)
>>> float(A.sigmoid(-1000.0)), float(A.tanh.grad(30.0))   # no overflow, no lost digits
(0.0, 3.5237056497879005e-26)

Conventions (pinned for the whole course)
-----------------------------------------
* ``ReLU'(0) = 0``; ``leaky_relu'(0) = prelu'(0) = alpha``; ``ELU'(0) = alpha`` (the
  ``x <= 0`` branch).
* The step functions have derivative 0 everywhere; at the threshold the true derivative does
  not exist (it is a Dirac impulse) and 0 is the convention.
* ``gelu`` is the exact form ``x Φ(x)``; the tanh approximation is its own entry
  ``gelu_tanh`` (largest gap to the exact form ≈ 4.7e-4, near ``|x| ≈ 2.7``).
* Parameter constraints: ``leaky_relu`` and ``elu`` need ``alpha >= 0`` (a negative slope
  would make them non-monotonic, which is not what these functions are), ``prelu``'s
  ``alpha`` is learned and may be any real number, ``swish`` needs ``beta >= 0``.
  Parameters must be finite real scalars.

Table facts (``f.info``)
------------------------
``formula``/``derivative`` (LaTeX), ``range``, ``derivative_range``, ``cost`` and ``solved``
(the problem it answered) are strings; the booleans are defined so they can be checked:
``monotonic`` (non-decreasing, with the default parameters), ``smooth`` (infinitely
differentiable: no piecewise definition; ELU with alpha = 1 is C¹ but not C²),
``zero_centred`` (odd, f(-x) = -f(x) away from the threshold: outputs symmetric about 0).
``saturating`` is a string naming where f flattens out, f'(x) -> 0: "no", "left (...)" for
x -> -inf (ReLU, ELU, SELU, softplus, GELU, SiLU, Mish), "both sides" (sigmoid, tanh) or
"everywhere" (the steps); ``kind`` is "ridge" or "folding".

Numerics (the contract, checked by ``tests/test_activations*.py``)
-------------------------------------------------------------------
In float64, for every finite input and at ±inf: values within 8 ulp of the exact value and
derivatives within 64 ulp, wherever the exact value is larger than 1e-300 in magnitude and
away from the derivative's own zeros.  No overflow, invalid operation or NumPy warning for any
finite input; ±inf give the limits; nan gives nan.  Underflow of a result that is truly
smaller than the smallest float is the correctly rounded answer, not an error: it is silenced
locally (``np.errstate(under="ignore")``), every other floating-point condition is *avoided*
by the formulas, not silenced.

Inputs: Python scalars, ints and bools give float64; float16/float32/float64 arrays keep their
dtype.  float32 input is computed in float32 where that is accurate (the piecewise-linear
functions, sigmoid, tanh, ELU, SiLU, mish, softplus and their derivatives where marked:
within 4 float32 ulp, tested), otherwise in float64 and rounded once (within 1 float32 ulp).
Elementwise functions run over the input in blocks of ``_BLOCK`` elements, so a call
allocates the output plus a few block-sized temporaries (about one input-sized array of
extra memory in total) and stays in cache.  Performance (``tools/bench_activations.py``):
within 2× the time of the naive NumPy one-liner, 6× where compensated arithmetic is needed
(exact GELU, gelu_tanh's tail, swish with β not a power of two, softmax/log_softmax).
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

try:
    import scipy.special as _sc
except ImportError:      # a check kernel whose exercise may not use SciPy hides it
    from actlib import _special as _sc

__all__ = [
    "Activation", "get", "names", "table", "prelu_grad_alpha", "SELU_ALPHA", "SELU_LAMBDA",
    "GELU_TANH_COEFF", "GELU_TANH_MAX_GAP",
    "heaviside", "bipolar_step", "linear", "sigmoid", "tanh", "relu", "leaky_relu", "prelu",
    "elu", "selu", "gelu", "gelu_tanh", "silu", "swish", "mish", "softplus", "softmax",
    "log_softmax",
]

#: SELU constants of Klambauer et al. (2017), the fixed point of mean 0 / variance 1.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_LAMBDA = 1.0507009873554804934193349852946
_SELU_ALPHA_STR = "1.6732632423543772848170429916717"
_SELU_LAMBDA_STR = "1.0507009873554804934193349852946"
_SELU_LA = 1.7580993408473768  # λ·α correctly rounded from the 32-digit constants

#: The cubic coefficient of the tanh approximation of GELU (Hendrycks & Gimpel, 2016).
GELU_TANH_COEFF = 0.044715
#: max_x |gelu(x) - gelu_tanh(x)|, attained near |x| ≈ 2.7 (checked in the tests).
GELU_TANH_MAX_GAP = 4.73e-4

# double-double constants: value = hi + lo to ~32 digits (checked against mpmath in the tests)
_RSQRT2 = 0.7071067811865476                                  # 1/√2
_INV_SQRT_2PI = 0.3989422804014327                            # 1/√(2π)
_SQRT_HALF_PI = 1.2533141373155003                            # √(π/2)
_K1_HI, _K1_LO = 1.5957691216057308, -9.96930880911092e-17    # 2·√(2/π)
_K3_HI, _K3_LO = 0.07135481627260025, -6.175149918155315e-19  # 2·0.044715·√(2/π)

_BLOCK = 1 << 15          # elements per block of the elementwise driver (256 KiB in float64)
_SPLITTER = 134217729.0   # 2**27 + 1, Veltkamp/Dekker splitting of a float64
_FLOAT_MAX = float(np.finfo(np.float64).max)


# ----------------------------------------------------------------------------------------
# error-free transformations (double-double arithmetic), used where one rounding of an
# argument would be amplified by the function (σ and Φ far in their lower tails)
# ----------------------------------------------------------------------------------------
def _split(a):
    """Veltkamp split: a = hi + lo exactly, hi and lo with at most 26 significant bits."""
    c = _SPLITTER * a
    hi = c - (c - a)
    return hi, a - hi


def _two_prod(a, b):
    """Dekker's product: a·b = p + e exactly (|a|, |b| < 1e290, no underflow)."""
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def _two_sum(a, b):
    """Knuth's sum: a + b = s + e exactly, whatever the magnitudes."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _exp_neg_half_square(x):
    """exp(-x²/2) with x² formed exactly (hi + lo), so |x| ≤ 40 costs no extra error.

    Rounding x² once would change the exponent by up to x²/2·2⁻⁵³, i.e. ~400 ulp at x = 37.
    """
    hi, lo = _two_prod(x, x)
    return np.exp(-0.5 * hi) * (1.0 - 0.5 * lo)


def _expit_dd(zh, zl):
    """σ(zh + zl) for a double-double argument: σ(zh)·(1 + σ(-zh)·zl), since (ln σ)' = σ(-z)."""
    return _sc.expit(zh) * (1.0 + _sc.expit(-zh) * zl)


# ----------------------------------------------------------------------------------------
# the registry entry
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Param:
    default: Any
    kind: str  # "real" (any finite real), "nonneg" (finite, >= 0) or "axis" (an int)
    symbol: str = ""


@dataclass(eq=False)
class Activation:
    """One activation: value, derivative, SymPy form, parameters and table facts.

    Call it like a function, ``f(x, **params)``; ``f.grad(x, **params)`` is the derivative
    (elementwise, or the Jacobian along ``axis`` for softmax/log_softmax);
    ``f.symbolic(**params)`` the SymPy expression in ``x = Symbol("x", real=True)``;
    ``f.params`` the parameter defaults; ``f.info`` the comparison-table facts.
    """

    name: str
    _value: Callable = field(repr=False)
    _grad: Callable = field(repr=False)
    _symbolic: Callable = field(repr=False)
    _params: dict = field(default_factory=dict, repr=False)
    info: dict = field(default_factory=dict, repr=False)
    _limits: Callable | None = field(default=None, repr=False)       # params -> (f(-inf), f(inf))
    _grad_limits: Callable | None = field(default=None, repr=False)  # params -> (f'(-inf), f'(inf))
    elementwise: bool = True
    doc: str = field(default="", repr=False)

    def __post_init__(self):
        self.__doc__ = self.doc

    # -- parameters ---------------------------------------------------------------------
    @property
    def params(self) -> dict:
        """Parameter names and their defaults, e.g. ``{"alpha": 0.01}``."""
        return {k: p.default for k, p in self._params.items()}

    @property
    def param_symbols(self) -> dict:
        """Parameter name -> the SymPy symbol used for it in :meth:`symbolic`."""
        import sympy as sp
        return {k: sp.Symbol(p.symbol or k, real=True) for k, p in self._params.items()
                if p.kind != "axis"}

    def _bind(self, args, kwargs) -> dict:
        names_ = list(self._params)
        if len(args) > len(names_):
            raise TypeError(f"{self.name}() takes x and at most {len(names_)} parameter(s) "
                            f"{names_}; got {len(args)} extra positional argument(s)")
        given = dict(zip(names_, args))
        for k, v in kwargs.items():
            if k not in self._params:
                allowed = ", ".join(names_) if names_ else "none"
                raise TypeError(f"{self.name}() got an unknown parameter {k!r}; "
                                f"its parameters are: {allowed}")
            if k in given:
                raise TypeError(f"{self.name}() got parameter {k!r} twice")
            given[k] = v
        out = {}
        for k, p in self._params.items():
            out[k] = _check_param(self.name, k, given.get(k, p.default), p.kind)
        return out

    # -- evaluation -----------------------------------------------------------------------
    def __call__(self, x, *args, **kwargs):
        return self._evaluate(self._value, self._limits, x, args, kwargs)

    def grad(self, x, *args, **kwargs):
        """Derivative df/dx at x (same shape as x; softmax-like: Jacobian, shape (..., n, n))."""
        return self._evaluate(self._grad, self._grad_limits, x, args, kwargs)

    def _evaluate(self, kernel, limits, x, args, kwargs):
        """Run ``kernel`` (value or derivative) on x: whole-array for softmax-like entries,
        through the blockwise elementwise driver (with the limits at ±inf) otherwise."""
        params = self._bind(args, kwargs)
        arr, dtype = _as_input(x, self.name)
        if not self.elementwise:
            return kernel(arr, dtype, **params)
        lims = limits(**params) if limits else None
        return _elementwise(kernel, arr, dtype, params, lims)

    def symbolic(self, **params):
        """The SymPy expression in ``x`` (parameters as symbols unless a value is given)."""
        import sympy as sp
        for k in params:
            if k not in self._params:
                raise TypeError(f"{self.name}.symbolic() got an unknown parameter {k!r}; "
                                f"its parameters are: {', '.join(self._params) or 'none'}")
        syms = self.param_symbols
        values = {}
        for k, sym in syms.items():
            if k in params:
                v = _check_param(self.name, k, params[k], self._params[k].kind)
                values[k] = sp.Rational(repr(v)) if isinstance(v, float) else sp.sympify(v)
            else:
                values[k] = sym
        return self._symbolic(sp, sp.Symbol("x", real=True), **values)

    def __repr__(self):
        ps = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"<Activation {self.name}({'x' + (', ' + ps if ps else '')})>"


def _check_param(fname, name, value, kind):
    if kind == "axis":
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
            raise TypeError(f"{fname}: axis must be an int, got {value!r}")
        return int(value)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
            value = value.item()
        else:
            raise TypeError(f"{fname}: parameter {name} must be a real number (a scalar), "
                            f"got {type(value).__name__} {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{fname}: parameter {name} must be finite, got {value!r}")
    if kind == "nonneg" and value < 0:
        raise ValueError(f"{fname}: parameter {name} must be >= 0, got {value!r}")
    return value


def _as_input(x, fname):
    """x as an ndarray of a real dtype, and the dtype of the result."""
    if isinstance(x, (str, bytes)):
        raise TypeError(f"{fname}: input must be numbers (scalar or array), got a string {x!r}")
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError) as exc:
        raise TypeError(f"{fname}: input could not be turned into a numeric array: {exc}") from exc
    kind = arr.dtype.kind
    if kind == "f":
        return arr, arr.dtype
    if kind in "iub":
        return arr.astype(np.float64), np.dtype(np.float64)
    what = "complex" if kind == "c" else f"dtype {arr.dtype}"
    raise TypeError(f"{fname}: input must be real numbers (bool, int or float), got {what}")


def _finish(out, shape):
    out = out.reshape(shape)
    return out[()] if out.ndim == 0 else out


def _elementwise(kernel, arr, dtype, params, limits):
    """Apply ``kernel`` (finite 1-D block -> block) over arr block by block.

    The kernel computes in float64, or in float32 for float32 input when it is marked
    ``native32`` (accurate to a couple of float32 ulp there, checked in the tests).  It never
    sees inf or nan: non-finite entries are replaced by 0 for the kernel and their results
    set afterwards (nan -> nan, ±inf -> the registered limits).
    """
    if getattr(kernel, "whole", False) and arr.dtype == dtype:
        with np.errstate(under="ignore"):
            return _finish(kernel(arr, **params), arr.shape)
    work = np.float32 if dtype == np.float32 and getattr(kernel, "native32", False) \
        else np.float64
    flat = arr.reshape(-1)
    out = np.empty(flat.shape, dtype=dtype)
    with np.errstate(under="ignore"):
        for start in range(0, flat.size, _BLOCK):
            block = flat[start:start + _BLOCK]
            if block.dtype != work:
                block = block.astype(work)
            if np.isfinite(block).all():
                out[start:start + _BLOCK] = kernel(block, **params)
                continue
            bad = ~np.isfinite(block)
            res = kernel(np.where(bad, work(0), block), **params)
            with np.errstate(invalid="ignore"):  # nan compares false, quietly
                pinf, ninf = block == np.inf, block == -np.inf
            res[bad] = np.nan
            if limits is not None:
                res[ninf], res[pinf] = limits
            out[start:start + _BLOCK] = res
    return _finish(out, arr.shape)


def _native32(fn):
    fn.native32 = True
    return fn


# ----------------------------------------------------------------------------------------
# kernels: finite 1-D input (float64, or float32 where marked native32) -> output of the
# same dtype.  Written with in-place ufuncs on SIMD-vectorised NumPy functions (exp, log,
# expm1, tanh) rather than scipy's scalar loops, to stay close to the naive one-liners.
# ----------------------------------------------------------------------------------------
_EXP_ARG_MAX = {np.dtype(np.float64): 709.0, np.dtype(np.float32): 88.0}  # exp() finite


def _whole(fn):
    """Mark a kernel that is exact in any float dtype and handles inf/nan itself: it is
    applied to the whole array at once (no blocks, no dtype round trip)."""
    fn.native32 = fn.whole = True
    return fn


@_native32
def _heaviside(x, threshold):
    return (x > threshold).astype(x.dtype)


@_native32
def _bipolar(x, threshold):
    out = (x > threshold).astype(x.dtype)
    out *= 2
    out -= 1
    return out


@_whole
def _zero_grad(x, threshold):
    out = np.abs(x, out=np.empty_like(x))   # an array even for 0-d input
    np.minimum(out, 0, out=out)      # 0 everywhere, nan stays nan (also at ±inf: 0)
    return out


@_whole
def _linear(x):
    return np.array(x, copy=True)


@_whole
def _one(x):
    out = np.abs(x, out=np.empty_like(x))   # an array even for 0-d input
    np.minimum(out, 0, out=out)
    out += 1                         # 1 everywhere, nan stays nan
    return out


def _sig(x):
    """σ(x) = 1/(1 + e^(-x)) with -x capped so e^(-x) stays finite; exact tail below.

    1/(1 + e^(-x)) has no cancellation: the only danger of the textbook form is overflow of
    e^(-x) for x < -709, where σ(x) = e^x/(1 + e^x) = e^x to double precision.
    """
    lim = _EXP_ARG_MAX[x.dtype]
    t = np.negative(x)
    np.minimum(t, lim, out=t)
    np.exp(t, out=t)
    t += 1
    np.reciprocal(t, out=t)
    tail = x < -lim
    if tail.any():
        t[tail] = np.exp(x[tail])
    return t


_sigmoid = _native32(lambda x: _sig(x))


@_native32
def _sigmoid_grad(x):
    # σ'(x) = e/(1+e)² with e = exp(-|x|) <= 1: never exponentiates a positive number, no
    # subtraction, so it keeps all digits even where σ' ~ 1e-300.
    e = np.abs(x)
    np.negative(e, out=e)
    np.exp(e, out=e)
    d = e + 1
    d *= d
    e /= d
    return e


@_whole
def _tanh(x):
    return np.tanh(x)                # NumPy's tanh: ±inf -> ±1, nan -> nan, ~1 ulp


@_native32
def _tanh_grad(x):
    # 1 - tanh²(x) = sech²(x) = 4e/(1+e)² with e = exp(-2|x|): no cancellation in the tails.
    e = np.abs(x)
    np.minimum(e, 0.5 * _EXP_ARG_MAX[x.dtype], out=e)   # capped: 2|x| stays finite
    e *= -2
    np.exp(e, out=e)
    d = e + 1
    d *= d
    e *= 4
    e /= d
    return e


@_whole
def _relu(x):
    return np.maximum(x, x.dtype.type(0))   # nan -> nan, ±inf -> 0 / inf


@_native32
def _relu_grad(x):
    return (x > 0).astype(x.dtype)


@_native32
def _leaky(x, alpha):
    if 0.0 <= alpha <= 1.0:
        return np.maximum(x, x * x.dtype.type(alpha))
    return np.where(x > 0, x, x * x.dtype.type(alpha))


@_native32
def _leaky_grad(x, alpha):
    return np.where(x > 0, x.dtype.type(1), x.dtype.type(alpha))


@_native32
def _elu(x, alpha):
    # expm1 only sees x <= 0: no overflow, and no cancellation of e^x - 1 near 0.
    t = np.minimum(x, 0)
    np.expm1(t, out=t)
    t *= x.dtype.type(alpha)
    return np.where(x > 0, x, t)


@_native32
def _elu_grad(x, alpha):
    # α·e^x directly, not ELU(x) + α (which would cancel for x -> -inf).
    t = np.minimum(x, 0)
    np.exp(t, out=t)
    t *= x.dtype.type(alpha)
    return np.where(x > 0, x.dtype.type(1), t)


def _selu(x):
    t = np.minimum(x, 0.0)
    np.expm1(t, out=t)
    t *= _SELU_LA
    return np.where(x > 0, SELU_LAMBDA * x, t)


def _selu_grad(x):
    t = np.minimum(x, 0.0)
    np.exp(t, out=t)
    t *= _SELU_LA
    return np.where(x > 0, SELU_LAMBDA, t)


def _gelu(x):
    out = np.empty_like(x)
    neg = x < 0
    if not neg.all():
        pos = ~neg
        xp = x[pos]
        # x >= 0: Φ(x) = erfc(-x/√2)/2 lies in [1/2, 1]; the rounding of x/√2 is harmless.
        out[pos] = 0.5 * xp * _sc.erfc(xp * -_RSQRT2)
    if neg.any():
        # x < 0: Φ(x) = erfcx(-x/√2)·exp(-x²/2)/2.  erfcx is well conditioned (its argument
        # rounding costs < 1 ulp) and x² is formed exactly, so no digit is lost in the tail.
        # Below -40 the result underflows to -0.
        xn = np.maximum(x[neg], -40.0)
        out[neg] = (xn * 0.5) * _sc.erfcx(xn * -_RSQRT2) * _exp_neg_half_square(xn)
    return out


def _gelu_grad(x):
    out = np.empty_like(x)
    neg = x < 0
    if not neg.all():
        pos = ~neg
        xp = np.minimum(x[pos], 40.0)  # xφ(x) is 0 beyond 40; keeps x² finite
        out[pos] = 0.5 * _sc.erfc(xp * -_RSQRT2) + xp * _INV_SQRT_2PI * np.exp(-0.5 * xp * xp)
    if neg.any():
        # GELU'(x) = Φ(x) + xφ(x) = φ(x)·(√(π/2)·erfcx(-x/√2) + x): one exp, computed with
        # an exact x², times a sum that only cancels near the zero of GELU' (x ≈ -0.7518).
        xn = np.maximum(x[neg], -40.0)
        phi = _INV_SQRT_2PI * _exp_neg_half_square(xn)
        out[neg] = phi * (_SQRT_HALF_PI * _sc.erfcx(xn * -_RSQRT2) + xn)
    return out


def _gelu_tanh_z(x):
    """z = 2√(2/π)(x + 0.044715x³) = x·(k1 + k3·x²) as a double-double (zh, zl)."""
    xh, xl = _split(x)
    sh = x * x
    sl = ((xh * xh - sh) + 2.0 * xh * xl) + xl * xl           # x² = sh + sl exactly
    ph, pl = _two_prod(np.float64(_K3_HI), sh)
    pl = pl + (_K3_HI * sl + _K3_LO * sh)                     # k3·x² = ph + pl
    wh, wl = _two_sum(np.float64(_K1_HI), ph)
    wl = wl + (pl + _K1_LO)                                   # k1 + k3·x² = wh + wl
    zh, zl = _two_prod(x, wh)
    return zh, zl + x * wl


def _gelu_tanh_parts(x):
    """σ(z) = (1 + tanh(z/2))/2, z = 2√(2/π)(x + 0.044715x³), accurate to a few ulp."""
    xc = np.clip(x, -30.0, 30.0)                   # σ(z) is 0 / 1 beyond; keeps x³ finite
    z = xc * xc
    z *= _K3_HI
    z += _K1_HI
    z *= xc
    s = _sig(z)
    far = x < -1.0
    if far.any():
        # For z -> -inf, σ(z) ≈ e^z: an error δ in z becomes a relative error δ, and |z| goes
        # up to ~700 before σ(z) < 1e-300.  So there z is formed in double-double arithmetic.
        s[far] = _expit_dd(*_gelu_tanh_z(xc[far]))
    return s, xc, z


def _gelu_tanh(x):
    # 0.5·x·(1 + tanh(u)) = x·σ(2u): no 1 + tanh cancellation for negative x.
    s, _, _ = _gelu_tanh_parts(x)
    s *= x
    return s


def _gelu_tanh_grad(x):
    # d/dx [x σ(z)] = σ(z)·(1 + x·z'·σ(-z)),  z' = k1 + 3·k3·x²
    s, xc, z = _gelu_tanh_parts(x)
    dz = xc * xc
    dz *= 3.0 * _K3_HI
    dz += _K1_HI
    dz *= xc
    dz *= _sig(-z)
    dz += 1.0
    dz *= s
    return dz


def _swish_sigma(x, beta):
    """(σ(βx), βx) to a few ulp, with βx formed exactly where σ is in its exponential tail."""
    if beta == 1.0:
        return _sig(x), x
    if beta == 0.0:
        return np.full(x.shape, 0.5), np.zeros(x.shape)
    lim = 800.0 / beta
    xc = np.clip(x, -lim, lim)                      # σ is saturated beyond |βx| = 800
    z = beta * xc
    s = _sig(z)
    if math.frexp(beta)[0] != 0.5 and beta < 1e290:  # βx not exact unless β is a power of 2
        # the rounding of βx costs |βx|/2 ulp of σ(βx) in the tail: compensate beyond -8
        far = z < -8.0
        if far.any():
            zh, zl = _two_prod(xc[far], np.float64(beta))
            s[far] = _expit_dd(zh, zl)
    return s, z


def _swish(x, beta):
    s, _ = _swish_sigma(x, beta)
    s *= x
    return s


def _swish_grad(x, beta):
    # d/dx x σ(βx) = σ(βx)·(1 + βx·σ(-βx))
    s, z = _swish_sigma(x, beta)
    t = _sig(-z)
    t *= z
    t += 1
    t *= s
    return t


@_native32
def _silu(x):
    s = _sig(x)
    s *= x
    return s


def _silu_grad(x):
    # σ(x) + x·σ'(x) with σ'(x) = e·d², e = exp(-|x|), d = 1/(1 + e): one exp, no 1 - σ.
    e = np.abs(x)
    np.negative(e, out=e)
    np.exp(e, out=e)
    d = e + 1
    np.reciprocal(d, out=d)
    s = np.where(x >= 0, d, e * d)
    e *= d
    e *= d
    e *= x
    e += s
    return e


def _mish_parts(x):
    # tanh(softplus(x)) = n/(n + 2) with n = u(u + 2), u = e^x: a ratio of positive terms.
    # u is capped at e^40 (20 in float32): beyond, n/(n+2) is 1 to working precision.
    cap = 40.0 if x.dtype == np.float64 else 20.0
    u = np.minimum(x, cap)
    np.exp(u, out=u)
    n = u + 2
    n *= u
    return u, n


@_native32
def _mish(x):
    _, n = _mish_parts(x)
    t = n + 2
    np.divide(n, t, out=t)
    t *= x
    return t


def _mish_grad(x):
    # mish' = tanh(sp) + x·σ(x)·sech²(sp), sech²(sp) = 4(n+1)/(n+2)² = 4(1+u)²/(n+2)², so the
    # second term is 4·x·u(1+u)/(n+2)² (x capped like u: the term is 0 beyond).
    u, n = _mish_parts(x)
    d = n + 2
    t = n / d
    d *= d
    q = u + 1
    q *= u
    q *= np.minimum(x, 40.0)
    q *= 4
    q /= d
    q += t
    return q


@_native32
def _softplus(x):
    # ln(1 + e^x) = max(x, 0) + log1p(e^{-|x|}): the exponential never sees a positive number
    # and log1p keeps the tiny values for x -> -inf (softplus(-700) = e^-700, not 0).
    t = np.abs(x)
    np.negative(t, out=t)
    np.exp(t, out=t)
    np.log1p(t, out=t)
    t += np.maximum(x, 0)
    return t


# ----------------------------------------------------------------------------------------
# softmax and log_softmax (along an axis)
# ----------------------------------------------------------------------------------------
def _softmax_block(x):
    """For a finite 2-D block (rows = distributions): (s, c, logs), c = 1 - s accurately.

    With m the row max and d = x - m formed exactly (d + err, Knuth's two-sum):
    e = exp(d)·(1 + err), the argmax term is e = 1 and r = Σ_{j≠argmax} e_j, so
    s = e/(1 + r), log s = (d - log1p(r)) + err and 1 - s_argmax = r/(1 + r).
    Forming d exactly matters: exp amplifies an error δ in d into a relative error δ, and
    with logits of magnitude 1000 one rounding of x - m is already ~1e-13.
    """
    m = x.max(axis=1, keepdims=True)
    # x - m >= -MAX: only clips when the exact x - m is below -1.8e308 (set to -inf below)
    floor = np.where(m > 0, m - _FLOAT_MAX, -_FLOAT_MAX)
    d, err = _two_sum(np.maximum(x, floor), -m)
    e = np.exp(d)
    e *= 1.0 + err
    rows = np.arange(x.shape[0])
    k = np.argmax(x, axis=1)
    e[rows, k] = 0.0
    r = e.sum(axis=1, keepdims=True)
    e[rows, k] = 1.0
    total = 1.0 + r
    s = e / total
    c = 1.0 - s
    c[rows, k] = (r / total)[:, 0]
    logs = (d - np.log1p(r)) + err
    logs[x < floor] = -np.inf
    return s, c, logs


def _softmax_block_any(x):
    """Like :func:`_softmax_block` for blocks that may hold nan or ±inf (limits, see docs)."""
    fin = np.isfinite(x)
    if fin.all():
        return _softmax_block(x)
    with np.errstate(invalid="ignore"):
        pinf = x == np.inf
        ninf = x == -np.inf
    nan_entry = np.isnan(x)
    finmax = np.max(np.where(fin, x, -np.inf), axis=1, keepdims=True)
    finmax = np.where(np.isfinite(finmax), finmax, 0.0)
    s, c, logs = _softmax_block(np.where(fin, x, finmax - 1000.0))
    s[ninf], c[ninf], logs[ninf] = 0.0, 1.0, -np.inf
    npinf = pinf.sum(axis=1)
    one = npinf == 1
    if one.any():
        oh = pinf[one]
        s[one] = np.where(oh, 1.0, 0.0)
        c[one] = np.where(oh, 0.0, 1.0)
        logs[one] = np.where(oh, 0.0, -np.inf)
    undefined = nan_entry.any(axis=1) | (npinf > 1) | ninf.all(axis=1)
    s[undefined] = c[undefined] = logs[undefined] = np.nan
    return s, c, logs


def _check_axis(fname, arr, axis):
    if arr.ndim == 0:
        raise ValueError(f"{fname} needs an array with at least 1 dimension (a vector of "
                         f"logits); got a scalar")
    if not -arr.ndim <= axis < arr.ndim:
        raise ValueError(f"{fname}: axis {axis} is out of range for an array with ndim "
                         f"{arr.ndim}; allowed: {-arr.ndim} .. {arr.ndim - 1}")
    return axis % arr.ndim


def _softmax_apply(fname, arr, dtype, axis, want):
    """Run the block kernel along ``axis``; ``want`` picks 's' or 'logs' (values)."""
    axis = _check_axis(fname, arr, axis)
    moved = np.moveaxis(arr, axis, -1)
    n = moved.shape[-1]
    flat = moved.reshape(-1, n)                       # a view for the usual last-axis case
    out = np.empty(flat.shape, dtype=dtype)
    rows = max(1, _BLOCK // max(n, 1))
    with np.errstate(under="ignore"):
        for start in range(0, flat.shape[0], rows):
            s, _, logs = _softmax_block_any(flat[start:start + rows].astype(np.float64))
            out[start:start + rows] = s if want == "s" else logs
    return np.moveaxis(out.reshape(moved.shape), -1, axis)


def _softmax_value(arr, dtype, axis):
    return _softmax_apply("softmax", arr, dtype, axis, "s")


def _log_softmax_value(arr, dtype, axis):
    return _softmax_apply("log_softmax", arr, dtype, axis, "logs")


def _softmax_jacobian(fname, arr, dtype, axis, log):
    axis = _check_axis(fname, arr, axis)
    moved = np.moveaxis(arr, axis, -1)
    n = moved.shape[-1]
    flat = moved.reshape(-1, n).astype(np.float64)
    with np.errstate(under="ignore"):
        s, c, _ = _softmax_block_any(flat)
        idx = np.arange(n)
        if log:   # ∂ log s_i / ∂x_j = δ_ij - s_j
            jac = np.broadcast_to(-s[:, None, :], (flat.shape[0], n, n)).copy()
            jac[:, idx, idx] = c
        else:     # ∂ s_i / ∂x_j = s_i (δ_ij - s_j)
            jac = -s[:, :, None] * s[:, None, :]
            jac[:, idx, idx] = s * c
        jac = jac.astype(dtype, copy=False)
    return jac.reshape(moved.shape[:-1] + (n, n))


def _softmax_grad(arr, dtype, axis):
    return _softmax_jacobian("softmax", arr, dtype, axis, log=False)


def _log_softmax_grad(arr, dtype, axis):
    return _softmax_jacobian("log_softmax", arr, dtype, axis, log=True)


# ----------------------------------------------------------------------------------------
# the registry
# ----------------------------------------------------------------------------------------
_REGISTRY: dict[str, Activation] = {}


def _register(name, value, grad, symbolic, *, params=None, info, limits=None,
              grad_limits=None, elementwise=True, doc=""):
    act = Activation(name, value, grad, symbolic, params or {}, info, limits, grad_limits,
                     elementwise, doc)
    _REGISTRY[name] = act
    return act


def _const(lo, hi):
    return lambda **_: (lo, hi)


def _info(formula, derivative, rng, monotonic, smooth, zero_centred, saturating, drange,
          cost, solved, kind="ridge"):
    """One row of the comparison table; ``saturating`` names the side(s) where f′ -> 0."""
    return {"formula": formula, "derivative": derivative, "range": rng,
            "monotonic": monotonic, "smooth": smooth, "zero_centred": zero_centred,
            "saturating": saturating, "derivative_range": drange, "cost": cost,
            "solved": solved, "kind": kind}


# The "saturating" column says where f flattens out (f' -> 0): "no", "left" (x -> -inf),
# "right", "both sides", or "everywhere" for the steps.  ReLU's negative side is flat (hard
# saturation at 0); ELU and SELU saturate softly towards -alpha and -lambda*alpha (lesson 4).
_SAT_NO, _SAT_BOTH = "no", "both sides"
_SAT_FLAT = "everywhere (f' = 0)"
_SAT_LEFT0 = "left (f -> 0)"

_THRESHOLD = {"threshold": _Param(0.0, "real", "theta")}

heaviside = _register(
    "heaviside", _heaviside, _zero_grad,
    lambda sp, x, threshold: sp.Piecewise((1, x > threshold), (0, True)),
    params=_THRESHOLD, limits=_const(0.0, 1.0), grad_limits=_const(0.0, 0.0),
    info=_info(r"H(x)=\begin{cases}1 & x>\theta\\ 0 & x\le\theta\end{cases}",
               r"0 \text{ (undefined at } x=\theta)", "{0, 1}", True, False, False, _SAT_FLAT,
               "{0}", "lowest",
               "first model neuron (McCulloch-Pitts 1943, perceptron): fires or not; "
               "its zero gradient is why smooth activations replaced it"),
    doc="""Heaviside (unipolar) step: 1 where x > threshold, else 0.

    Derivative: 0 everywhere (convention; at x = threshold the derivative does not exist).
    Gradient descent gets no signal through it, which is why sigmoids replaced it.
    """)

bipolar_step = _register(
    "bipolar_step", _bipolar, _zero_grad,
    lambda sp, x, threshold: sp.Piecewise((1, x > threshold), (-1, True)),
    params=_THRESHOLD, limits=_const(-1.0, 1.0), grad_limits=_const(0.0, 0.0),
    info=_info(r"\operatorname{sgn}_\theta(x)=\begin{cases}+1 & x>\theta\\ -1 & x\le\theta\end{cases}",
               r"0 \text{ (undefined at } x=\theta)", "{-1, +1}", True, False, True, _SAT_FLAT,
               "{0}", "lowest",
               "bipolar threshold unit (sign): zero-centred outputs for the perceptron"),
    doc="""Bipolar step (sign): +1 where x > threshold, else -1.  Derivative 0 (convention).""")

linear = _register(
    "linear", _linear, _one, lambda sp, x: x,
    limits=_const(-np.inf, np.inf), grad_limits=_const(1.0, 1.0),
    info=_info(r"f(x)=x", r"1", "(-inf, inf)", True, True, True, _SAT_NO, "{1}", "lowest",
               "regression outputs; stacked linear layers collapse into one linear map"),
    doc="""Identity f(x) = x, derivative 1.  The right output for unbounded regression.""")

sigmoid = _register(
    "sigmoid", _sigmoid, _sigmoid_grad, lambda sp, x: 1 / (1 + sp.exp(-x)),
    limits=_const(0.0, 1.0), grad_limits=_const(0.0, 0.0),
    info=_info(r"\sigma(x)=\frac{1}{1+e^{-x}}", r"\sigma(x)\,(1-\sigma(x))", "(0, 1)", True,
               True, False, _SAT_BOTH, "(0, 0.25]", "medium (one exp)",
               "differentiable replacement of the step (trainable by gradient descent); "
               "probability output; but saturates -> vanishing gradients"),
    doc=r"""Logistic sigmoid σ(x) = 1 / (1 + e^(-x)).

    Derivative σ'(x) = e^(-x)/(1 + e^(-x))² = σ(x)(1 - σ(x)) = σ(x)σ(-x), computed as
    e/(1 + e)² with e = exp(-|x|).  The value is 1/(1 + e^(-x)) with -x capped at 709 (so
    e^(-x) never overflows; the naive form overflows for x < -709) and e^x below -709, where
    σ(x) = e^x to double precision: the same accuracy as ``scipy.special.expit`` but on
    NumPy's vectorised exp (expit is a scalar loop, ~5× slower).  The derivative avoids
    1 - σ(x), which loses every digit for x > 37 (σ'(40) = 4.2e-18, not 0).
    """)

tanh = _register(
    "tanh", _tanh, _tanh_grad, lambda sp, x: sp.tanh(x),
    limits=_const(-1.0, 1.0), grad_limits=_const(0.0, 0.0),
    info=_info(r"\tanh(x)=\frac{e^x-e^{-x}}{e^x+e^{-x}}=2\sigma(2x)-1", r"1-\tanh^2(x)",
               "(-1, 1)", True, True, True, _SAT_BOTH, "(0, 1]", "medium (one exp)",
               "zero-centred sigmoid (faster learning than the logistic); still saturates"),
    doc=r"""Hyperbolic tangent tanh(x) = 2σ(2x) - 1, range (-1, 1), zero-centred.

    Derivative 1 - tanh²(x) = sech²(x), computed as 4e/(1 + e)² with e = exp(-2|x|): the naive
    1 - tanh² is exactly 0 for |x| > 19 although the true value is 4e^(-2|x|).
    """)

relu = _register(
    "relu", _relu, _relu_grad, lambda sp, x: sp.Piecewise((x, x > 0), (0, True)),
    limits=_const(0.0, np.inf), grad_limits=_const(0.0, 1.0),
    info=_info(r"\max(0,x)", r"\begin{cases}1 & x>0\\0 & x\le 0\end{cases}", "[0, inf)",
               True, False, False, "left (flat: f' = 0 for x < 0)", "{0, 1}", "lowest",
               "vanishing gradients of sigmoid/tanh (no saturation for x > 0), sparse "
               "activations, cheap.  Rectifying units date back to Fukushima (1969); "
               "Glorot et al. (2011) trained deep rectifier nets without unsupervised "
               "pre-training.  Problem: dying ReLU"),
    doc="""Rectified linear unit max(0, x).  Derivative 1 for x > 0, 0 for x <= 0 (ReLU'(0) = 0).""")

_ALPHA_LEAKY = {"alpha": _Param(0.01, "nonneg")}
_ALPHA_PRELU = {"alpha": _Param(0.25, "real")}

leaky_relu = _register(
    "leaky_relu", _leaky, _leaky_grad,
    lambda sp, x, alpha: sp.Piecewise((x, x > 0), (alpha * x, True)),
    params=_ALPHA_LEAKY, limits=lambda alpha: (-np.inf if alpha > 0 else 0.0, np.inf),
    grad_limits=lambda alpha: (alpha, 1.0),
    info=_info(r"\begin{cases}x & x>0\\ \alpha x & x\le 0\end{cases}\ (\alpha=0.01)",
               r"\begin{cases}1 & x>0\\ \alpha & x\le 0\end{cases}", "(-inf, inf)", True,
               False, False, _SAT_NO, "{alpha, 1}", "lowest",
               "dying ReLU: a small slope alpha keeps a gradient for x < 0"),
    doc="""Leaky ReLU: x for x > 0, alpha·x for x <= 0 (= max(alpha x, x) when alpha <= 1).

    Derivative 1 for x > 0, alpha for x <= 0 (so the derivative at 0 is alpha).
    alpha must be >= 0 (default 0.01).
    """)

prelu = _register(
    "prelu", _leaky, _leaky_grad,
    lambda sp, x, alpha: sp.Piecewise((x, x > 0), (alpha * x, True)),
    params=_ALPHA_PRELU,
    limits=lambda alpha: (-np.inf if alpha > 0 else (np.inf if alpha < 0 else 0.0), np.inf),
    grad_limits=lambda alpha: (alpha, 1.0),
    info=_info(r"\begin{cases}x & x>0\\ \alpha x & x\le 0\end{cases}\ (\alpha\text{ learned})",
               r"\begin{cases}1 & x>0\\ \alpha & x\le 0\end{cases},\ "
               r"\frac{\partial f}{\partial\alpha}=\min(x,0)", "(-inf, inf)", True, False,
               False, _SAT_NO, "{alpha, 1}", "lowest",
               "dying ReLU, with the negative slope learned from data (He et al. 2015)"),
    doc="""Parametric ReLU: x for x > 0, alpha·x for x <= 0, alpha learned (default 0.25).

    alpha may be any real number (it is trained).  df/dx = 1 (x > 0) or alpha (x <= 0);
    df/dalpha = min(x, 0), see :func:`prelu_grad_alpha`.  (monotonic only for alpha >= 0)
    """)

elu = _register(
    "elu", _elu, _elu_grad,
    lambda sp, x, alpha: sp.Piecewise((x, x > 0), (alpha * (sp.exp(x) - 1), True)),
    params={"alpha": _Param(1.0, "nonneg")},
    limits=lambda alpha: (-alpha, np.inf), grad_limits=lambda alpha: (0.0, 1.0),
    info=_info(r"\begin{cases}x & x>0\\ \alpha(e^x-1) & x\le 0\end{cases}",
               r"\begin{cases}1 & x>0\\ \alpha e^x = f(x)+\alpha & x\le 0\end{cases}",
               "(-alpha, inf)", True, False, False, "left (f -> -alpha)", "(0, 1]", "medium (one exp)",
               "dying ReLU and the non-zero mean of ReLU outputs: negative values push "
               "the mean towards 0 (Clevert et al. 2015)"),
    doc="""Exponential linear unit: x for x > 0, alpha·(e^x - 1) for x <= 0 (alpha >= 0, default 1).

    Derivative 1 for x > 0, alpha·e^x = ELU(x) + alpha for x <= 0.  Computed with expm1 on
    min(x, 0) (no overflow in the unused branch, no cancellation of e^x - 1 near 0) and
    alpha·exp(x) for the derivative (ELU(x) + alpha would cancel as x -> -inf).
    Continuously differentiable (C¹) only for alpha = 1, and never C² (the second
    derivative jumps from alpha to 0 at x = 0), so not smooth.
    """)

selu = _register(
    "selu", _selu, _selu_grad,
    lambda sp, x: sp.Float(_SELU_LAMBDA_STR, 40) * sp.Piecewise(
        (x, x > 0), (sp.Float(_SELU_ALPHA_STR, 40) * (sp.exp(x) - 1), True)),
    limits=_const(-_SELU_LA, np.inf), grad_limits=_const(0.0, SELU_LAMBDA),
    info=_info(r"\lambda\begin{cases}x & x>0\\ \alpha(e^x-1) & x\le 0\end{cases},\ "
               r"\alpha\approx1.6733,\ \lambda\approx1.0507",
               r"\lambda\begin{cases}1 & x>0\\ \alpha e^x & x\le 0\end{cases}",
               "(-lambda*alpha, inf)", True, False, False, "left (f -> -lambda*alpha)",
               "(0, lambda*alpha]",
               "medium (one exp)",
               "self-normalising: activations keep mean 0 / variance 1 from layer to layer "
               "(with LeCun-normal init), no batch norm needed (Klambauer et al. 2017)"),
    doc="""Scaled ELU: λ·ELU_α(x) with α = SELU_ALPHA ≈ 1.6732632423543772848170429916717 and
    λ = SELU_LAMBDA ≈ 1.0507009873554804934193349852946.

    Derivative λ for x > 0, λα·e^x for x <= 0 (computed with the correctly rounded λα).
    """)

gelu = _register(
    "gelu", _gelu, _gelu_grad,
    lambda sp, x: x / 2 * (1 + sp.erf(x / sp.sqrt(2))),
    limits=_const(-0.0, np.inf), grad_limits=_const(0.0, 1.0),
    info=_info(r"x\,\Phi(x)=\tfrac12 x\left(1+\operatorname{erf}(x/\sqrt2)\right)",
               r"\Phi(x)+x\,\varphi(x)", "[-0.170, inf)", False, True, False, _SAT_LEFT0,
               "[-0.129, 1.129]", "high (erfc)",
               "smooth, non-monotonic ReLU-like gate weighting x by Φ(x) "
               "(Hendrycks & Gimpel 2016); default of transformers (BERT, GPT)"),
    doc=r"""Exact GELU(x) = x·Φ(x) = 0.5·x·erfc(-x/√2), Φ the standard normal CDF.

    Derivative Φ(x) + x·φ(x), φ(x) = exp(-x²/2)/√(2π); it is zero at x ≈ -0.7518.

    Stability: 0.5·x·(1 + erf(x/√2)) cancels for x < 0 and is 0 from x ≈ -8.3 on, although
    GELU(-30) ≈ -1.5e-196.  Here, for x >= 0, 0.5·x·erfc(-x/√2) (erfc ∈ [1, 2]); for x < 0,
    Φ(x) = 0.5·erfcx(-x/√2)·exp(-x²/2) with the scaled complementary error function erfcx
    (well conditioned) and x² formed exactly (double-double), since one rounding of x² or of
    x/√2 is amplified ~x² times by the Gaussian tail.  The derivative for x < 0 is
    φ(x)·(√(π/2)·erfcx(-x/√2) + x): no cancellation except at its own zero.  This compensated
    arithmetic costs ~1.4-2× the naive one-liner (bench; the accepted bound is 6×).
    """)

gelu_tanh = _register(
    "gelu_tanh", _gelu_tanh, _gelu_tanh_grad,
    lambda sp, x: x / 2 * (1 + sp.tanh(sp.sqrt(2 / sp.pi) *
                                       (x + sp.Rational(44715, 10**6) * x**3))),
    limits=_const(-0.0, np.inf), grad_limits=_const(0.0, 1.0),
    info=_info(r"\tfrac12 x\left(1+\tanh\!\left(\sqrt{2/\pi}\,(x+0.044715x^3)\right)\right)",
               r"\sigma(z)\left(1+x z'\sigma(-z)\right),\ z=2\sqrt{2/\pi}(x+0.044715x^3)",
               "[-0.170, inf)", False, True, False, _SAT_LEFT0, "[-0.129, 1.129]",
               "medium (one exp)",
               "cheaper approximation of GELU (max gap 4.7e-4) used by BERT/GPT-2"),
    doc=r"""tanh approximation of GELU: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).

    Computed as x·σ(z), z = 2√(2/π)(x + 0.044715x³), because 1 + tanh(u) = 2σ(2u) does not
    cancel for negative x.  For x < -1, σ(z) ≈ e^z amplifies any error of z (|z| up to ~700
    before the value drops below 1e-300), so z is formed in double-double arithmetic and
    σ(zh + zl) = σ(zh)(1 + σ(-zh)·zl).  Largest gap to the exact :func:`gelu`: ≈ 4.7e-4
    (GELU_TANH_MAX_GAP).  Derivative σ(z)·(1 + x·z'·σ(-z)), z' = 2√(2/π)(1 + 3·0.044715x²).
    The compensated branch runs only for x < -1; the whole is still faster than the naive
    one-liner (which evaluates x**3 and tanh); the accepted bound is 6×.
    """)

silu = _register(
    "silu", _silu, _silu_grad, lambda sp, x: x / (1 + sp.exp(-x)),
    limits=_const(-0.0, np.inf), grad_limits=_const(0.0, 1.0),
    info=_info(r"x\,\sigma(x)", r"\sigma(x)\left(1+x(1-\sigma(x))\right)", "[-0.278, inf)",
               False, True, False, _SAT_LEFT0, "[-0.100, 1.100]", "medium (one exp)",
               "smooth, non-monotonic self-gated ReLU (SiLU; Swish with beta = 1)"),
    doc=r"""SiLU x·σ(x) (= swish with β = 1).  Derivative σ(x)·(1 + x·σ(-x)), zero at x ≈ -1.2785.

    The derivative is computed as σ(x) + x·σ'(x), σ'(x) = e/(1 + e)² with e = exp(-|x|): no
    overflow, and no 1 - σ(x) (which cancels for large x).
    """)

swish = _register(
    "swish", _swish, _swish_grad, lambda sp, x, beta: x / (1 + sp.exp(-beta * x)),
    params={"beta": _Param(1.0, "nonneg")},
    limits=lambda beta: (-0.0 if beta > 0 else -np.inf, np.inf),
    grad_limits=lambda beta: (0.0, 1.0) if beta > 0 else (0.5, 0.5),
    info=_info(r"x\,\sigma(\beta x)", r"\sigma(\beta x)\left(1+\beta x(1-\sigma(\beta x))\right)",
               "[-0.278/beta, inf)", False, True, False, _SAT_LEFT0, "[-0.100, 1.100]",
               "medium (one exp)",
               "found by automatic search (Ramachandran et al. 2017): smooth, "
               "non-monotonic; beta -> inf gives ReLU, beta = 0 gives x/2"),
    doc=r"""Swish x·σ(βx), β >= 0 (default 1, = SiLU).  Derivative σ(βx)·(1 + βx·σ(-βx)).

    When β is not a power of two, βx is rounded; in σ's exponential tail that rounding is
    amplified |βx| times, so there βx is formed exactly (Dekker product) and σ evaluated on
    the double-double argument.
    """)

mish = _register(
    "mish", _mish, _mish_grad, lambda sp, x: x * sp.tanh(sp.log(1 + sp.exp(x))),
    limits=_const(-0.0, np.inf), grad_limits=_const(0.0, 1.0),
    info=_info(r"x\tanh(\operatorname{softplus}(x))",
               r"\tanh(\operatorname{sp}(x))+x\,\sigma(x)\operatorname{sech}^2(\operatorname{sp}(x))",
               "[-0.309, inf)", False, True, False, _SAT_LEFT0, "[-0.1125, 1.0885]",
               "high (exp, divisions)",
               "smooth, non-monotonic, self-regularised (Misra 2019); strong in vision"),
    doc=r"""Mish x·tanh(softplus(x)).

    With n = e^x(e^x + 2), tanh(softplus(x)) = n/(n + 2), written with e = exp(-|x|) as
    (e² + 2e)/(e² + 2e + 2) for x <= 0 and (1 + 2e)/(1 + 2e + 2e²) for x > 0: no overflow, no
    cancellation.  Derivative tanh(sp) + x·σ(x)·sech²(sp), sech²(sp) = 4(n + 1)/(n + 2)²,
    zero at x ≈ -1.1924.
    """)

softplus = _register(
    "softplus", _softplus, _sigmoid, lambda sp, x: sp.log(1 + sp.exp(x)),
    limits=_const(0.0, np.inf), grad_limits=_const(0.0, 1.0),
    info=_info(r"\ln(1+e^x)", r"\sigma(x)", "(0, inf)", True, True, False, _SAT_LEFT0, "(0, 1)",
               "high (exp and log)", "smooth approximation of ReLU (its derivative is the sigmoid)"),
    doc=r"""Softplus ln(1 + e^x), the smooth ReLU; derivative σ(x).

    Computed as max(x, 0) + log1p(exp(-|x|)): the naive form overflows for x > 709 and
    returns 0 instead of e^x for x < -37.
    """)

_AXIS = {"axis": _Param(-1, "axis")}

softmax = _register(
    "softmax", _softmax_value, _softmax_grad,
    lambda sp, x: sp.exp(x) / (sp.exp(x) + sp.exp(sp.Symbol("y", real=True))),
    params=_AXIS, elementwise=False,
    info=_info(r"s_i=\frac{e^{x_i}}{\sum_j e^{x_j}}", r"\frac{\partial s_i}{\partial x_j}"
               r"=s_i(\delta_{ij}-s_j)", "(0, 1), sums to 1", True, True, False, _SAT_BOTH,
               "[-0.25, 0.25]", "medium (n exps, a sum)",
               "multi-class output: a probability vector over mutually exclusive classes "
               "(generalises the sigmoid: 2 logits = sigma of the difference)", kind="folding"),
    doc=r"""Softmax along ``axis``: s_i = e^(x_i) / Σ_j e^(x_j).

    Stable form: with m = max_j x_j, s_i = e^(x_i - m)/Σ_j e^(x_j - m); no exponent is
    positive, the largest term is exactly 1.  x_i - m is formed exactly (two-sum) because
    exp turns its rounding error into a relative error of ~|x| ulp for logits of magnitude
    |x| (compensated arithmetic, accepted cost: within 6× the naive one-liner).
    ``grad`` is the Jacobian J[..., i, j] = ∂s_i/∂x_j = s_i(δ_ij - s_j), shape (..., n, n)
    with ``axis`` moved to the end.  Limits: -inf logits get probability 0; a row with
    exactly one +inf is one-hot; a row with nan, with several +inf or with only -inf is nan.
    ``symbolic()`` is the first output of the 2-logit case, e^x/(e^x + e^y), y = Symbol("y").
    """)

log_softmax = _register(
    "log_softmax", _log_softmax_value, _log_softmax_grad,
    lambda sp, x: x - sp.log(sp.exp(x) + sp.exp(sp.Symbol("y", real=True))),
    params=_AXIS, elementwise=False,
    info=_info(r"x_i-\log\sum_j e^{x_j}", r"\delta_{ij}-s_j", "(-inf, 0)", True, True, False,
               "right (own logit -> +inf: f -> 0)", "(-1, 1)", "medium (n exps, a sum, a log)",
               "log-probabilities for the cross-entropy loss without under/overflow "
               "(log-sum-exp)", kind="folding"),
    doc=r"""Log-softmax along ``axis``: x_i - log Σ_j e^(x_j), via log-sum-exp.

    Computed as (x_i - m) - log1p(Σ_{j≠k} e^(x_j - m)), k the argmax, m = x_k, with x_i - m
    formed exactly: log1p keeps the tiny log-probability of a dominant class (e.g. -1e-20)
    that log(1 + tiny) would round to 0.  ``grad``: Jacobian δ_ij - s_j, shape (..., n, n).
    ``symbolic()``: first output of the 2-logit case, x - log(e^x + e^y).
    """)


# ----------------------------------------------------------------------------------------
# public helpers
# ----------------------------------------------------------------------------------------
def prelu_grad_alpha(x, alpha=0.25):
    """∂ PReLU(x; alpha) / ∂ alpha = min(x, 0) (0 for x > 0, x for x <= 0).

    ``alpha`` does not enter the result but is validated like in :func:`prelu`.  Sum this
    over the elements that share one alpha to get the gradient of a loss w.r.t. alpha.
    """
    _check_param("prelu_grad_alpha", "alpha", alpha, "real")
    arr, dtype = _as_input(x, "prelu_grad_alpha")
    return _finish(np.minimum(arr, 0).astype(dtype, copy=False), arr.shape)


def names() -> list[str]:
    """The registered activation names, in course order."""
    return list(_REGISTRY)


def get(name) -> Activation:
    """The registered :class:`Activation` called ``name`` (an Activation passes through).

    Raises ValueError for an unknown name (the message lists the valid ones).
    """
    if isinstance(name, Activation):
        return name
    if not isinstance(name, str):
        raise TypeError(f"activation name must be a string, got {type(name).__name__}")
    key = name.strip().lower().replace("-", "_")
    if key not in _REGISTRY:
        raise ValueError(f"unknown activation {name!r}; valid names: {', '.join(_REGISTRY)}")
    return _REGISTRY[key]


def table() -> list[dict]:
    """One row per activation for the comparison table: ``{"name": ..., **info}``."""
    return [{"name": n, **a.info} for n, a in _REGISTRY.items()]
