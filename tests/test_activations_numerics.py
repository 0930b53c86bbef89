"""Numerical contract of ``actlib.activations``: ulp errors against mpmath, via SymPy.

The reference for every activation is its own SymPy form ``f.symbolic()`` (and
``sympy.diff`` of it for the derivative), lambdified to mpmath and evaluated at high
precision (raised until two evaluations agree to 30 digits, so even the cancelling
``1 - tanh(x)**2`` that SymPy produces is resolved).  The float64/float32 results are
compared in ulp:

* values within 8 ulp, derivatives within 64 ulp (float64), 1 ulp (float32), wherever the
  exact value is larger than 1e-300 (float32: the smallest normal) and outside a small band
  around the derivative's own zeros (there the absolute error is checked instead);
* where the exact value is smaller, the computed value must be tiny too.

Run ``python tests/test_activations_numerics.py`` to print the measured maxima per function.
"""
from __future__ import annotations

import functools
import math

import mpmath
import numpy as np
import pytest
import scipy.special as sc
import sympy as sp

from actlib import activations as A

X = sp.Symbol("x", real=True)
Y = sp.Symbol("y", real=True)

VALUE_ULP, GRAD_ULP, F32_ULP = 8, 64, 4
TINY = {np.float64: 1e-300, np.float32: float(np.finfo(np.float32).tiny)}
ZERO_BAND = 0.05          # |x - x0| below which a derivative zero x0 is "near"
ZERO_BAND_ABS = 2e-16
MAX_DPS = 400     # absolute error allowed inside that band

ELEMENTWISE = [n for n in A.names() if A.get(n).elementwise]
# every entry with its defaults, plus parameter values that exercise other code paths
CASES = [(n, ()) for n in ELEMENTWISE] + [
    ("heaviside", (("threshold", 0.3),)), ("bipolar_step", (("threshold", -2.5),)),
    ("leaky_relu", (("alpha", 0.2),)), ("prelu", (("alpha", -0.3),)),
    ("elu", (("alpha", 0.5),)), ("swish", (("beta", 1.7),)), ("swish", (("beta", 0.5),)),
    ("swish", (("beta", 0.0),)),
]
CASE_IDS = [n + "".join(f"-{k}={v}" for k, v in p) for n, p in CASES]


def _grid() -> np.ndarray:
    """Points over [-1000, 1000], dense near 0, all exactly representable in float32."""
    rng = np.random.default_rng(20240611)
    mags = np.concatenate([np.logspace(-8, 3, 45), [1e-8, 30.0, 745.0, 1000.0]])
    pts = np.concatenate([[0.0], mags, -mags, np.linspace(-1000, 1000, 161),
                          np.linspace(-40, 40, 241), rng.uniform(-40, 40, 120),
                          rng.uniform(-3, 3, 60)])
    return np.unique(pts.astype(np.float32).astype(np.float64))


GRID = _grid()
SPECIAL = np.array([-np.inf, np.inf, np.nan])


# ---------------------------------------------------------------------------------------
# high-precision reference
# ---------------------------------------------------------------------------------------
def hp_eval(fun, xv):
    """fun(mpf(xv)) correct to ~30 significant digits.

    mpmath loses a term t added to 1 when |t| < 10**-dps (1 + e^-700 is 1 at 50 digits), and
    two evaluations at moderate precisions then agree on the same wrong value.  So the
    precision is raised to 50 + the number of decimal places of the result below 1
    (|result| = 1e-296 -> 346 digits) and the value is confirmed 40 digits higher.  A result
    below 1e-350 at MAX_DPS digits is returned as it is: it only has to be known to be tiny
    (the terms of these expressions are at most ~1e9 in size, far from 1e50).
    """
    x = mpmath.mpf(xv)
    dps = 50
    for _ in range(10):
        with mpmath.workdps(dps):
            v = fun(x)
        if not isinstance(v, mpmath.mpf):          # an exact constant (a Piecewise branch)
            return mpmath.mpf(v)
        need = 10**6 if v == 0 else 50 + max(0, int(-mpmath.log10(abs(v))))
        if need > MAX_DPS:               # |v| < 1e-350: resolved enough to know it is tiny
            if dps >= MAX_DPS:
                return v
            need = MAX_DPS
        if need > dps:
            dps = need
            continue
        with mpmath.workdps(dps + 40):
            check = fun(x)
        if abs(check - v) <= abs(check) * mpmath.mpf(10) ** -30:
            return check
        dps += 200
    raise AssertionError(f"reference did not converge at x = {xv!r}")


@functools.lru_cache(maxsize=None)
def _lambdified(name, params):
    f = A.get(name)
    # parameters as the exact binary value of the float the numeric code receives
    values = {**f.params, **dict(params)}
    expr = f.symbolic().subs({f.param_symbols[k]: sp.Rational(v) for k, v in values.items()})
    return (sp.lambdify(X, expr, "mpmath"), sp.lambdify(X, sp.diff(expr, X), "mpmath"))


@functools.lru_cache(maxsize=None)
def reference(name, params, kind):
    """Reference values (mpf) of f ('value') or f' ('grad') on GRID, cached per session."""
    fun = _lambdified(name, params)[0 if kind == "value" else 1]
    return tuple(hp_eval(fun, v) for v in GRID)


@functools.lru_cache(maxsize=None)
def grad_zeros(name, params):
    """The zeros of f' inside the grid range, located from the reference's sign changes."""
    ref = reference(name, params, "grad")
    dfun = _lambdified(name, params)[1]
    zeros = []
    for i in range(len(GRID) - 1):
        a, b = ref[i], ref[i + 1]
        if a != 0 and b != 0 and (a > 0) != (b > 0) and abs(GRID[i]) < 100:
            with mpmath.workdps(30):
                lo, hi = mpmath.mpf(GRID[i]), mpmath.mpf(GRID[i + 1])
                for _ in range(80):                     # bisection
                    mid = (lo + hi) / 2
                    if (dfun(mid) > 0) == (a > 0):
                        lo = mid
                    else:
                        hi = mid
                if abs(dfun(lo)) < 1e-12:               # a zero, not a jump (prelu, alpha<0)
                    zeros.append(float(lo))
    return tuple(zeros)


def ulp_errors(computed, ref, dtype):
    """(ulp errors where |ref| >= tiny, absolute values where |ref| < tiny)."""
    computed = np.asarray(computed, dtype=np.float64)
    ulps, small = np.full(len(ref), np.nan), np.full(len(ref), np.nan)
    for i, (c, r) in enumerate(zip(computed, ref)):
        if abs(r) >= TINY[dtype]:
            spacing = float(np.spacing(dtype(abs(float(r)))))
            ulps[i] = float(abs(mpmath.mpf(float(c)) - r)) / spacing if np.isfinite(c) else np.inf
        else:
            small[i] = abs(c)
    return ulps, small


def check(fun, name, params, kind, dtype=np.float64):
    """Worst ulp error of ``fun`` on GRID and the list of failures (empty = contract met)."""
    tol = {(np.float64, "value"): VALUE_ULP, (np.float64, "grad"): GRAD_ULP}.get(
        (dtype, kind), F32_ULP)
    ref = reference(name, params, kind)
    computed = np.asarray(fun(GRID.astype(dtype)), dtype=np.float64)
    ulps, small = ulp_errors(computed, ref, dtype)
    near = np.zeros(len(GRID), bool)
    if kind == "grad":
        for x0 in grad_zeros(name, params):
            near |= np.abs(GRID - x0) < ZERO_BAND
    failures = []
    worst = 0.0
    for i, xv in enumerate(GRID):
        if np.isnan(ulps[i]):
            if small[i] > 4 * TINY[dtype]:
                failures.append(f"x={xv!r}: exact {mpmath.nstr(ref[i], 5)} is tiny, got {computed[i]!r}")
        elif near[i]:
            abs_err = abs(float(mpmath.mpf(float(computed[i])) - ref[i]))
            if abs_err > max(ZERO_BAND_ABS, 2 * tol * float(np.spacing(dtype(abs(float(ref[i])))))):
                failures.append(f"x={xv!r} (near a zero of f'): abs error {abs_err:.3g}")
        else:
            worst = max(worst, ulps[i])
            if not ulps[i] <= tol:
                failures.append(f"x={xv!r}: {ulps[i]:.3g} ulp (exact "
                                f"{mpmath.nstr(ref[i], 17)}, got {computed[i]!r})")
    return worst, failures


def _bind(name, params, kind):
    f = A.get(name)
    kw = dict(params)
    return (lambda x: f(x, **kw)) if kind == "value" else (lambda x: f.grad(x, **kw))


# ---------------------------------------------------------------------------------------
# the ulp contract
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["value", "grad"])
@pytest.mark.parametrize(("name", "params"), CASES, ids=CASE_IDS)
def test_ulp_float64(name, params, kind):
    worst, failures = check(_bind(name, params, kind), name, params, kind, np.float64)
    assert not failures, f"{name}{dict(params)} {kind}: {len(failures)} points off:\n" + \
        "\n".join(failures[:10])


@pytest.mark.parametrize("kind", ["value", "grad"])
@pytest.mark.parametrize(("name", "params"), CASES, ids=CASE_IDS)
def test_ulp_float32(name, params, kind):
    f = _bind(name, params, kind)
    assert f(np.float32([1.0])).dtype == np.float32
    worst, failures = check(f, name, params, kind, np.float32)
    assert not failures, f"{name}{dict(params)} {kind} (float32):\n" + "\n".join(failures[:10])


@pytest.mark.parametrize(("name", "params"), CASES, ids=CASE_IDS)
def test_limits_at_inf_and_nan(name, params):
    """±inf give the limits of the (high-precision) function, nan gives nan."""
    f = A.get(name)
    kw = dict(params)
    val, der = f(SPECIAL, **kw), f.grad(SPECIAL, **kw)
    assert np.isnan(val[2]) and np.isnan(der[2]), "nan in must give nan out"
    fun, dfun = _lambdified(name, params)
    for i, big in enumerate((-1e12, 1e12)):
        for got, g in ((val[i], fun), (der[i], dfun)):
            with mpmath.workdps(30):
                lim = g(mpmath.mpf(big))          # the function far out approximates the limit
            if abs(lim) > 1e6:
                assert got == math.copysign(np.inf, float(lim)), (name, big, got, lim)
            else:
                assert got == pytest.approx(float(lim), rel=1e-12, abs=1e-300), (name, big, got, lim)


# ---------------------------------------------------------------------------------------
# the checks can fail: deliberately wrong (naive) implementations are caught
# ---------------------------------------------------------------------------------------
def _naive(fun):
    def wrapped(x):
        with np.errstate(all="ignore"):
            return fun(np.asarray(x, dtype=np.float64))
    return wrapped


def _naive_sigmoid(x):
    return 1 / (1 + np.exp(-x))


NAIVE = [
    ("sigmoid", "grad", lambda x: _naive_sigmoid(x) * (1 - _naive_sigmoid(x))),
    ("tanh", "grad", lambda x: 1 - np.tanh(x) ** 2),
    ("gelu", "value", lambda x: 0.5 * x * (1 + sc.erf(x / np.sqrt(2)))),
    ("gelu", "grad", lambda x: 0.5 * (1 + sc.erf(x / np.sqrt(2)))
     + x * np.exp(-x * x / 2) / np.sqrt(2 * np.pi)),
    ("gelu_tanh", "value", lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi)
                                                       * (x + 0.044715 * x ** 3)))),
    ("softplus", "value", lambda x: np.log(1 + np.exp(x))),
    ("elu", "grad", lambda x: np.where(x > 0, 1.0, np.expm1(x) + 1.0)),
    ("mish", "value", lambda x: x * np.tanh(np.log(1 + np.exp(x)))),
    ("silu", "value", lambda x: x / (1 + np.exp(-x))),    # overflow, but exact values?
]


@pytest.mark.parametrize(("name", "kind", "fun"), NAIVE[:-1], ids=[f"{n}-{k}" for n, k, _ in NAIVE[:-1]])
def test_naive_implementations_fail_the_ulp_check(name, kind, fun):
    worst, failures = check(_naive(fun), name, (), kind)
    assert failures, f"the ulp check did not catch the naive {name} {kind}"


def test_gelu_tanh_without_compensation_fails():
    """Evaluating x·σ(z) with z rounded once (no double-double) loses digits in the tail."""
    def once_rounded(x):
        z = 2 * np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)
        return x * sc.expit(z)
    worst, failures = check(_naive(once_rounded), "gelu_tanh", (), "value")
    assert worst > VALUE_ULP or failures


def test_exclusion_band_is_narrow():
    """The derivative zeros found are the known ones, so the bands exclude little."""
    known = {"gelu": -0.7517916, "gelu_tanh": -0.75179, "silu": -1.2784645, "mish": -1.1923847}
    for name, x0 in known.items():
        zeros = grad_zeros(name, ())
        assert len(zeros) == 1 and zeros[0] == pytest.approx(x0, abs=1e-3), (name, zeros)
    for name in ("sigmoid", "tanh", "softplus", "elu", "selu"):
        assert grad_zeros(name, ()) == ()


# ---------------------------------------------------------------------------------------
# derivatives against finite differences
# ---------------------------------------------------------------------------------------
FD_POINTS = np.array([-30.0, -7.3, -2.2, -1.0, -0.4, -0.05, 0.05, 0.4, 1.0, 2.2, 7.3, 30.0])


def _fd_check(f, df, params, kinks):
    x = FD_POINTS[np.all(np.abs(FD_POINTS[:, None] - np.array(kinks)[None, :]) > 0.01, axis=1)] \
        if kinks else FD_POINTS
    h = 1e-5 * np.maximum(1.0, np.abs(x))
    fd = (f(x + h, **params) - f(x - h, **params)) / (2 * h)
    return np.max(np.abs(fd - df(x, **params)) / np.maximum(1e-3, np.abs(fd)))


@pytest.mark.parametrize(("name", "params"), CASES, ids=CASE_IDS)
def test_grad_matches_finite_differences(name, params):
    f, kw = A.get(name), dict(params)
    kinks = [kw.get("threshold", 0.0)]
    assert _fd_check(f, f.grad, kw, kinks) < 1e-6


def test_finite_difference_check_can_fail():
    wrong = lambda x: A.sigmoid(x) * (1 - A.sigmoid(x)) * 1.001      # noqa: E731
    assert _fd_check(A.sigmoid, lambda x: wrong(x), {}, []) > 1e-6


@pytest.mark.parametrize("axis", [-1, 0])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_jacobian_matches_finite_differences(name, axis):
    f = A.get(name)
    rng = np.random.default_rng(3)
    x = rng.normal(0, 3, (4, 5))
    jac = f.grad(x, axis=axis)                   # axis moved to the end
    xm = np.moveaxis(x, axis, -1)
    h = 1e-6
    for j in range(xm.shape[-1]):
        step = np.zeros_like(xm)
        step[..., j] = h
        plus = np.moveaxis(f(np.moveaxis(xm + step, -1, axis), axis=axis), axis, -1)
        minus = np.moveaxis(f(np.moveaxis(xm - step, -1, axis), axis=axis), axis, -1)
        np.testing.assert_allclose(jac[..., :, j], (plus - minus) / (2 * h), atol=1e-8)


# ---------------------------------------------------------------------------------------
# softmax / log_softmax against mpmath, including logits of magnitude 1000
# ---------------------------------------------------------------------------------------
def _softmax_ref(row):
    with mpmath.workdps(60):
        xs = [mpmath.mpf(float(v)) for v in row]
        m = max(xs)
        k = xs.index(m)
        rest = mpmath.fsum(mpmath.exp(v - m) for j, v in enumerate(xs) if j != k)
        e = [mpmath.exp(v - m) for v in xs]
        s = [v / (1 + rest) for v in e]
        logs = [v - m - mpmath.log1p(rest) for v in xs]   # log(1 + 1e-176) is not 0
        # 1 - s_i as the sum of the others (1 - s_i at 60 digits would be 0 for s_i ≈ 1 - 1e-176)
        c = [mpmath.fsum(e[j] for j in range(len(e)) if j != i) / (1 + rest) for i in range(len(e))]
    return s, logs, c


def _softmax_rows():
    rng = np.random.default_rng(7)
    rows = [rng.normal(0, 1, 6), rng.normal(0, 30, 6), rng.uniform(-1000, 1000, 6),
            np.array([1000.0, -1000.0, 0.0, 999.9, -0.3, 1000.3]),
            np.array([50.0, 0.0, 0.0, 0.0, 0.0, 0.0]), np.array([1e-8, -1e-8, 0, 0, 0, 0]),
            np.array([745.0, -745.0, 30, -30, 1, 2]), rng.uniform(-40, 40, 6)]
    return np.array(rows).astype(np.float32).astype(np.float64)   # exact in float32 too


SOFTMAX_ROWS = _softmax_rows()


@functools.lru_cache(maxsize=None)
def _softmax_refs():
    return [_softmax_ref(r) for r in SOFTMAX_ROWS]


def _softmax_ulp(values, which, dtype=np.float64):
    worst = 0.0
    for row_vals, (s, logs, _) in zip(values, _softmax_refs()):
        ref = s if which == "s" else logs
        for c, r in zip(row_vals, ref):
            if abs(r) < TINY[dtype]:
                assert abs(c) <= 4 * TINY[dtype]
                continue
            worst = max(worst, float(abs(mpmath.mpf(float(c)) - r))
                        / float(np.spacing(dtype(abs(float(r))))))
    return worst


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("name", "which"), [("softmax", "s"), ("log_softmax", "logs")])
def test_softmax_ulp(name, which, dtype):
    out = A.get(name)(SOFTMAX_ROWS.astype(dtype))
    assert out.dtype == dtype
    tol = VALUE_ULP if dtype == np.float64 else F32_ULP
    assert _softmax_ulp(out, which, dtype) <= tol


def test_softmax_ulp_check_can_fail():
    """The textbook 'subtract the max' softmax and log(softmax) are not ulp-accurate."""
    x = SOFTMAX_ROWS
    e = np.exp(x - x.max(-1, keepdims=True))
    naive_s = e / e.sum(-1, keepdims=True)
    with np.errstate(divide="ignore"):
        naive_log = (x - x.max(-1, keepdims=True)) - np.log(e.sum(-1, keepdims=True))
    naive_log_of_s = np.log(np.maximum(naive_s, 1e-300))
    assert _softmax_ulp(naive_log, "logs") > VALUE_ULP or _softmax_ulp(naive_s, "s") > VALUE_ULP
    assert _softmax_ulp(naive_log_of_s, "logs") > VALUE_ULP


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_jacobian_ulp(name):
    jac = A.get(name).grad(SOFTMAX_ROWS)
    worst = 0.0
    for J, (s, _, c) in zip(jac, _softmax_refs()):
        n = len(s)
        for i in range(n):
            for j in range(n):
                with mpmath.workdps(60):
                    delta_minus_s = c[i] if i == j else -s[j]
                    r = s[i] * delta_minus_s if name == "softmax" else delta_minus_s
                if abs(r) < 1e-300:
                    assert abs(J[i, j]) <= 4e-300
                    continue
                worst = max(worst, float(abs(mpmath.mpf(float(J[i, j])) - r))
                            / float(np.spacing(abs(float(r)))))
    assert worst <= GRAD_ULP


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_symbolic_two_logit_case(name):
    """symbolic() is the first output of the 2-logit case; its x and y derivatives are the
    first row of the Jacobian."""
    f = A.get(name)
    expr = f.symbolic()
    val = sp.lambdify((X, Y), expr, "mpmath")
    dx = sp.lambdify((X, Y), sp.diff(expr, X), "mpmath")
    dy = sp.lambdify((X, Y), sp.diff(expr, Y), "mpmath")
    pairs = np.array([[0.3, -1.2], [5.0, 5.0], [-20.0, 3.0], [30.0, -30.0], [700.0, 0.0]])
    out, jac = f(pairs), f.grad(pairs)
    for (a, b), o, J in zip(pairs, out, jac):
        ref = [hp_eval(lambda t: g(t, mpmath.mpf(b)), a) for g in (val, dx, dy)]
        for got, r in zip((o[0], J[0, 0], J[0, 1]), ref):
            assert abs(mpmath.mpf(float(got)) - r) <= max(1e-300, 64 * np.spacing(abs(float(r))))


# ---------------------------------------------------------------------------------------
# constants
# ---------------------------------------------------------------------------------------
def test_double_double_constants():
    with mpmath.workdps(50):
        c = mpmath.sqrt(2 / mpmath.pi)
        pairs = [((A._K1_HI, A._K1_LO), 2 * c), ((A._K3_HI, A._K3_LO), 2 * c * mpmath.mpf("0.044715"))]
        for (hi, lo), exact in pairs:
            assert abs(mpmath.mpf(hi) + mpmath.mpf(lo) - exact) < abs(exact) * 1e-31
        singles = [(A._RSQRT2, 1 / mpmath.sqrt(2)), (A._INV_SQRT_2PI, 1 / mpmath.sqrt(2 * mpmath.pi)),
                   (A._SQRT_HALF_PI, mpmath.sqrt(mpmath.pi / 2)),
                   (A._SELU_LA, mpmath.mpf(A._SELU_ALPHA_STR) * mpmath.mpf(A._SELU_LAMBDA_STR))]
        for got, exact in singles:
            assert got == float(exact), (got, exact)    # correctly rounded


def test_selu_constants_are_the_fixed_point():
    """For z ~ N(0, 1): E[selu(z)] = 0 and E[selu(z)^2] = 1 give alpha and lambda.

    With E[e^{tz}; z <= 0] = e^{t²/2} Φ(-t):
    E[selu] = λ(1/√(2π) + α(√e Φ(-1) - 1/2)),
    E[selu²] = λ²(1/2 + α²(e² Φ(-2) - 2√e Φ(-1) + 1/2)).
    """
    with mpmath.workdps(40):
        phi_c = lambda t: mpmath.ncdf(-t)       # noqa: E731
        alpha = -(1 / mpmath.sqrt(2 * mpmath.pi)) / (mpmath.sqrt(mpmath.e) * phi_c(1) - 0.5)
        second = 0.5 + alpha ** 2 * (mpmath.e ** 2 * phi_c(2) - 2 * mpmath.sqrt(mpmath.e) * phi_c(1) + 0.5)
        lam = 1 / mpmath.sqrt(second)
        assert abs(alpha - mpmath.mpf(A._SELU_ALPHA_STR)) < 1e-30
        assert abs(lam - mpmath.mpf(A._SELU_LAMBDA_STR)) < 1e-30
    assert A.SELU_ALPHA == float(mpmath.mpf(A._SELU_ALPHA_STR))
    assert A.SELU_LAMBDA == float(mpmath.mpf(A._SELU_LAMBDA_STR))


def test_gelu_tanh_max_gap():
    x = np.linspace(-8, 8, 160001)
    gap = np.abs(A.gelu(x) - A.gelu_tanh(x))
    assert gap.max() == pytest.approx(A.GELU_TANH_MAX_GAP, rel=0.01)
    assert 2.5 < abs(x[np.argmax(gap)]) < 2.9


# ---------------------------------------------------------------------------------------
# measured maxima, for the report:  python tests/test_activations_numerics.py
# ---------------------------------------------------------------------------------------
def measured_maxima():
    """Yield one row per case: worst ulp error (f64 value, f64 grad, f32 value, f32 grad)."""
    for (name, params), cid in zip(CASES, CASE_IDS):
        row = [cid]
        for dtype in (np.float64, np.float32):
            for kind in ("value", "grad"):
                worst, failures = check(_bind(name, params, kind), name, params, kind, dtype)
                row.append(f"{worst:.2f}" + ("" if not failures else f" ({len(failures)} fail)"))
        yield row
    for name, which in (("softmax", "s"), ("log_softmax", "logs")):
        v64 = _softmax_ulp(A.get(name)(SOFTMAX_ROWS), which)
        yield [name, f"{v64:.2f}", "", "", ""]


if __name__ == "__main__":
    print(f"{'case':28s} {'f64 value':>10s} {'f64 grad':>10s} {'f32 value':>10s} {'f32 grad':>10s}")
    for r in measured_maxima():
        print(f"{r[0]:28s} " + " ".join(f"{c:>10s}" for c in r[1:]), flush=True)
