"""The registry API of ``actlib.activations``: names, errors, dtypes, hygiene, properties.

Accuracy against mpmath lives in ``test_activations_numerics.py``.
"""
from __future__ import annotations

import math
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from actlib import activations as A

X = sp.Symbol("x", real=True)
NAMES = A.names()
ELEMENTWISE = [n for n in NAMES if A.get(n).elementwise]
FOLDING = [n for n in NAMES if not A.get(n).elementwise]
COURSE_ORDER = ["heaviside", "bipolar_step", "linear", "sigmoid", "tanh", "relu", "leaky_relu",
                "prelu", "elu", "selu", "gelu", "gelu_tanh", "silu", "swish", "mish",
                "softplus", "softmax", "log_softmax"]
EXTREMES = np.array([0.0, -0.0, 1e-8, -1e-8, 30.0, -30.0, 40.0, -40.0, 745.0, -745.0,
                     1000.0, -1000.0, 1e300, -1e300, 1.7e308, -1.7e308, 5e-324, -5e-324,
                     np.inf, -np.inf, np.nan])
ROOT = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------------------------------
# registry
# ---------------------------------------------------------------------------------------
def test_names_in_course_order():
    assert NAMES == COURSE_ORDER


@pytest.mark.parametrize("name", NAMES)
def test_get_returns_the_entry(name):
    f = A.get(name)
    assert isinstance(f, A.Activation) and f.name == name
    assert getattr(A, name) is f                       # module-level function = entry
    assert A.get(f) is f and A.get(name.upper()) is f
    assert f.__doc__ and len(f.__doc__) > 40           # the formula is documented


def test_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match="unknown activation 'sigmod'") as exc:
        A.get("sigmod")
    for n in NAMES:
        assert n in str(exc.value)
    with pytest.raises(TypeError, match="must be a string"):
        A.get(3)


def test_params_defaults():
    assert A.get("leaky_relu").params == {"alpha": 0.01}
    assert A.get("prelu").params == {"alpha": 0.25}
    assert A.get("elu").params == {"alpha": 1.0}
    assert A.get("swish").params == {"beta": 1.0}
    assert A.get("heaviside").params == {"threshold": 0.0}
    assert A.get("softmax").params == {"axis": -1}
    for n in ("sigmoid", "tanh", "relu", "selu", "gelu", "gelu_tanh", "silu", "mish",
              "softplus", "linear"):
        assert A.get(n).params == {}


@pytest.mark.parametrize("name", NAMES)
def test_table_row_and_info_keys(name):
    keys = {"formula", "derivative", "range", "monotonic", "smooth", "zero_centred",
            "saturating", "derivative_range", "cost", "solved", "kind"}
    info = A.get(name).info
    assert keys <= set(info)
    assert info["kind"] in ("ridge", "folding")
    assert (info["kind"] == "folding") == (name in FOLDING)
    for k in ("monotonic", "smooth", "zero_centred"):
        assert isinstance(info[k], bool), (name, k)
    assert isinstance(info["saturating"], str) and info["saturating"], (name, "saturating")
    assert info["solved"] and info["formula"]
    rows = A.table()
    assert [r["name"] for r in rows] == NAMES
    assert rows[NAMES.index(name)] == {"name": name, **info}


# ---------------------------------------------------------------------------------------
# the table's facts are true (checked numerically on a grid)
# ---------------------------------------------------------------------------------------
GRID = np.linspace(-12, 12, 4801)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_info_facts_hold(name):
    f, info = A.get(name), A.get(name).info
    y, dy = f(GRID), f.grad(GRID)
    if info["monotonic"]:
        assert np.all(np.diff(y) >= 0), "claims monotonic"
    else:
        assert np.any(np.diff(y) < 0), "claims non-monotonic"
    off = GRID[np.abs(GRID - f.params.get("threshold", 0.0)) > 1e-9]
    assert bool(np.all(f(-off) == -f(off))) == info["zero_centred"], "zero_centred = odd"
    flat_left, flat_right = abs(f.grad(-1e3)) < 1e-12, abs(f.grad(1e3)) < 1e-12
    side = {(False, False): "no", (True, False): "left", (False, True): "right",
            (True, True): ("both sides", "everywhere")}[flat_left, flat_right]
    assert info["saturating"].startswith(side), (
        f"saturating says {info['saturating']!r}; f' -> 0 on the left: {flat_left}, "
        f"on the right: {flat_right}")
    if info["saturating"].startswith("everywhere"):
        assert np.all(dy == 0), "claims f' = 0 everywhere"
    has_piecewise = f.symbolic(**f.params).has(sp.Piecewise)
    assert has_piecewise == (not info["smooth"]), "smooth = no piecewise definition"
    assert np.all(np.isfinite(dy))


def test_relu_family_facts():
    assert A.relu.grad(0.0) == 0.0                       # ReLU'(0) = 0, pinned
    assert A.leaky_relu.grad(0.0) == 0.01 and A.prelu.grad(0.0) == 0.25
    assert A.elu.grad(0.0) == 1.0 and A.elu.grad(0.0, alpha=0.5) == 0.5
    assert A.leaky_relu(-2.0) == -0.02
    assert A.heaviside(0.0) == 0.0 and A.heaviside(1e-300) == 1.0
    assert A.bipolar_step(0.0) == -1.0 and A.bipolar_step(0.5, threshold=1.0) == -1.0
    assert np.all(A.heaviside.grad(np.array([-1.0, 0.0, 1.0])) == 0)


def test_prelu_grad_alpha():
    x = np.array([-3.0, -0.5, 0.0, 2.0])
    np.testing.assert_array_equal(A.prelu_grad_alpha(x, alpha=0.1), [-3.0, -0.5, 0.0, 0.0])
    a = sp.Symbol("alpha", real=True)
    d = sp.lambdify(X, sp.diff(A.prelu.symbolic(), a), "numpy")
    for xv in x:
        assert A.prelu_grad_alpha(xv) == d(xv)
    h = 1e-6
    fd = (A.prelu(x, alpha=0.3 + h) - A.prelu(x, alpha=0.3 - h)) / (2 * h)
    np.testing.assert_allclose(A.prelu_grad_alpha(x, 0.3), fd, atol=1e-9)
    assert A.prelu_grad_alpha(np.float32([-1.0])).dtype == np.float32


# ---------------------------------------------------------------------------------------
# input handling and errors
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_dtype_and_shape_preserved(name, dtype):
    f = A.get(name)
    x = np.linspace(-3, 3, 24).reshape(2, 3, 4).astype(dtype)
    y, g = f(x), f.grad(x)
    assert y.dtype == dtype and g.dtype == dtype
    assert y.shape == x.shape
    assert g.shape == (x.shape if f.elementwise else x.shape + (4,))


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_scalars_and_ints_give_float64(name):
    f = A.get(name)
    for v in (2, 2.0, np.int32(2), True):
        out = f(v)
        assert isinstance(out, np.float64) and np.ndim(out) == 0
    assert f([1, 2]).dtype == np.float64
    assert f(np.float32(2.0)).dtype == np.float32


def test_large_arrays_span_several_blocks():
    x = np.linspace(-50, 50, 3 * A._BLOCK + 17)
    x[5], x[-3], x[A._BLOCK] = np.inf, -np.inf, np.nan
    for name in ELEMENTWISE:
        f = A.get(name)
        whole = f(x)
        pieces = np.concatenate([f(x[i:i + 1000]) for i in range(0, x.size, 1000)])
        np.testing.assert_array_equal(whole, pieces)
    xs = np.random.default_rng(0).normal(0, 5, (3 * A._BLOCK // 10 + 3, 10))
    np.testing.assert_array_equal(A.softmax(xs), np.concatenate([A.softmax(r[None]) for r in xs]))


def test_non_contiguous_input():
    x = np.linspace(-5, 5, 60).reshape(6, 10)
    np.testing.assert_array_equal(A.gelu(x[:, ::2]), A.gelu(np.ascontiguousarray(x[:, ::2])))
    np.testing.assert_array_equal(A.softmax(x.T, axis=0), A.softmax(x, axis=1).T)


@pytest.mark.parametrize("bad", ["1.0", b"1", None, 1 + 2j, np.array([1j]), [1, "a"],
                                 np.array(["x"]), object(), [[1, 2], [3]]])
@pytest.mark.parametrize("name", ["sigmoid", "relu", "softmax"])
def test_non_numeric_input_is_a_type_error(name, bad):
    with pytest.raises(TypeError, match=name):
        A.get(name)(bad)


@pytest.mark.parametrize(("name", "kwargs", "exc", "msg"), [
    ("leaky_relu", {"alpha": -0.1}, ValueError, "alpha must be >= 0"),
    ("elu", {"alpha": -1.0}, ValueError, "alpha must be >= 0"),
    ("swish", {"beta": -1.0}, ValueError, "beta must be >= 0"),
    ("leaky_relu", {"alpha": np.nan}, ValueError, "finite"),
    ("prelu", {"alpha": np.inf}, ValueError, "finite"),
    ("prelu", {"alpha": "0.1"}, TypeError, "real number"),
    ("prelu", {"alpha": np.array([0.1, 0.2])}, TypeError, "real number"),
    ("elu", {"beta": 1.0}, TypeError, "unknown parameter 'beta'.*alpha"),
    ("sigmoid", {"alpha": 1.0}, TypeError, "parameters are: none"),
    ("softmax", {"axis": 1.5}, TypeError, "axis must be an int"),
])
def test_bad_parameters(name, kwargs, exc, msg):
    f = A.get(name)
    with pytest.raises(exc, match=msg):
        f(np.ones(3), **kwargs)
    with pytest.raises(exc, match=msg):
        f.grad(np.ones(3), **kwargs)


def test_parameters_positional_and_valid_edge_values():
    assert A.leaky_relu(-1.0, 0.1) == A.leaky_relu(-1.0, alpha=0.1) == -0.1
    assert A.prelu(-2.0, alpha=-0.5) == 1.0                    # prelu: any real alpha
    assert A.leaky_relu(-2.0, alpha=0) == 0.0 and A.swish(3.0, beta=0) == 1.5
    with pytest.raises(TypeError, match="at most 1 parameter"):
        A.leaky_relu(1.0, 0.1, 0.2)
    with pytest.raises(TypeError, match="twice"):
        A.leaky_relu(1.0, 0.1, alpha=0.2)


@pytest.mark.parametrize("name", FOLDING)
def test_axis_errors(name):
    f = A.get(name)
    with pytest.raises(ValueError, match=r"axis 2 is out of range .* ndim 2; allowed: -2 \.\. 1"):
        f(np.ones((2, 3)), axis=2)
    with pytest.raises(ValueError, match="axis -3 is out of range"):
        f.grad(np.ones((2, 3)), axis=-3)
    with pytest.raises(ValueError, match="at least 1 dimension"):
        f(1.0)


def test_symbolic_parameters():
    a = sp.Symbol("alpha", real=True)
    assert A.leaky_relu.symbolic() == sp.Piecewise((X, X > 0), (a * X, True))
    assert A.leaky_relu.symbolic(alpha=0.01) == sp.Piecewise((X, X > 0), (X / 100, True))
    assert A.swish.symbolic().free_symbols == {X, sp.Symbol("beta", real=True)}
    assert A.gelu_tanh.symbolic().has(sp.Rational(44715, 10**6))
    assert A.prelu.param_symbols == {"alpha": a}
    with pytest.raises(TypeError, match="unknown parameter"):
        A.relu.symbolic(alpha=1)
    with pytest.raises(ValueError, match=">= 0"):
        A.elu.symbolic(alpha=-1)


# ---------------------------------------------------------------------------------------
# hygiene: no warnings, no floating-point exceptions, at any extreme input
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", NAMES)
def test_no_warnings_at_extremes(name, dtype):
    f = A.get(name)
    x = EXTREMES.astype(dtype) if dtype == np.float64 else \
        np.array([v for v in EXTREMES if not np.isfinite(v) or abs(v) < 3e38], dtype)
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        variants = [{}] + ([{"alpha": 0.3}] if "alpha" in f.params else []) + \
                   ([{"beta": 1.7}, {"beta": 0.0}] if "beta" in f.params else [])
        for kw in variants:
            if f.elementwise:
                y, g = f(x, **kw), f.grad(x, **kw)
                finite_in = np.isfinite(x)
                assert np.isfinite(y[finite_in]).all() or name in ("linear", "relu",
                                                                   "leaky_relu", "prelu",
                                                                   "elu", "selu", "gelu",
                                                                   "gelu_tanh", "silu",
                                                                   "swish", "mish",
                                                                   "softplus")
                assert np.isfinite(g[finite_in]).all(), "derivative must be finite"
                assert np.isnan(y[np.isnan(x)]).all() and np.isnan(g[np.isnan(x)]).all()
            else:
                rows = np.array([[1000.0, -1000.0, 0.0], [-745.0, 745.0, 30.0],
                                 [1e38, -1e38, 0.0], [np.inf, 0.0, 1.0],
                                 [-np.inf, -np.inf, 1.0], [np.nan, 0.0, 0.0]], dtype)
                y, g = f(rows), f.grad(rows)
                assert np.isfinite(g[:4]).all()
                assert np.isnan(y[5]).all() and np.isnan(g[5]).all()


def test_unbounded_functions_stay_finite_for_finite_input():
    big = np.array([1e300, -1e300, 1.7e308, -1.7e308])       # selu(1.7e308) = 1.79e308
    with np.errstate(all="raise"):
        for name in ELEMENTWISE:
            assert np.all(np.isfinite(A.get(name)(big))), name


def test_softmax_limits():
    np.testing.assert_array_equal(A.softmax(np.array([np.inf, 0.0, -np.inf])), [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(A.log_softmax(np.array([np.inf, 0.0])), [0.0, -np.inf])
    np.testing.assert_array_equal(A.softmax(np.array([-np.inf, 0.0, 0.0])), [0.0, 0.5, 0.5])
    assert np.isnan(A.softmax(np.array([np.inf, np.inf]))).all()
    assert np.isnan(A.softmax(np.array([-np.inf, -np.inf]))).all()
    np.testing.assert_array_equal(A.softmax(np.array([1000.0, -1000.0])), [1.0, 0.0])
    np.testing.assert_array_equal(A.log_softmax(np.array([1000.0, -1000.0])), [0.0, -2000.0])
    assert A.log_softmax(np.array([50.0, 0.0]))[0] == pytest.approx(-math.exp(-50), rel=1e-15)


# ---------------------------------------------------------------------------------------
# properties (hypothesis)
# ---------------------------------------------------------------------------------------
reals = st.floats(-1e3, 1e3, allow_nan=False)
pairs = st.tuples(reals, reals)


@settings(max_examples=200, deadline=None)
@given(pairs)
def test_monotonic_functions_are_monotonic(p):
    a, b = sorted(p)
    for name in ELEMENTWISE:
        if A.get(name).info["monotonic"]:
            assert A.get(name)(a) <= A.get(name)(b), name


@settings(max_examples=200, deadline=None)
@given(reals)
def test_sigmoid_tanh_identities(x):
    assert A.sigmoid(-x) == pytest.approx(1 - A.sigmoid(x), abs=2e-16)
    assert A.tanh(x) == pytest.approx(2 * A.sigmoid(2 * x) - 1, abs=4e-16)
    assert A.softplus.grad(x) == A.sigmoid(x)
    assert A.silu(x) == A.swish(x, beta=1.0)
    assert A.selu(x) == pytest.approx(A.SELU_LAMBDA * A.elu(x, alpha=A.SELU_ALPHA), rel=4e-16, abs=1e-300)
    if x <= 0:
        assert A.elu.grad(x, alpha=0.7) == pytest.approx(A.elu(x, alpha=0.7) + 0.7, abs=4e-16)
    assert 0 <= A.sigmoid(x) <= 1 and -1 <= A.tanh(x) <= 1 and A.softplus(x) >= 0
    assert A.gelu(x) >= -0.17 and A.silu(x) >= -0.279 and A.mish(x) >= -0.31


@settings(max_examples=150, deadline=None)
@given(st.lists(reals, min_size=1, max_size=8), st.floats(-500, 500, allow_nan=False))
def test_softmax_properties(xs, shift):
    x = np.array(xs)
    s, logs = A.softmax(x), A.log_softmax(x)
    assert s.sum() == pytest.approx(1.0, rel=1e-14) and np.all(s >= 0)
    np.testing.assert_allclose(A.softmax(x + shift), s, rtol=1e-9, atol=1e-300)  # shift invariance
    keep = s > 1e-300
    np.testing.assert_allclose(np.log(s[keep]), logs[keep], rtol=1e-13, atol=1e-15)
    assert np.all(logs <= 0)


@settings(max_examples=150, deadline=None)
@given(pairs)
def test_two_logit_softmax_is_sigmoid_of_difference(p):
    a, b = p
    s = A.softmax(np.array([a, b]))
    assert s[0] == pytest.approx(A.sigmoid(a - b), rel=1e-13, abs=1e-300)


# ---------------------------------------------------------------------------------------
# symbolic identities of the syllabus (on the registry's SymPy forms)
# ---------------------------------------------------------------------------------------
def test_symbolic_identities():
    s = A.sigmoid.symbolic()
    assert sp.simplify(sp.diff(s, X) - s * (1 - s)) == 0                # σ' = σ(1 - σ)
    assert sp.simplify(sp.diff(A.softplus.symbolic(), X) - s) == 0       # softplus' = σ
    t = A.tanh.symbolic().rewrite(sp.exp)
    assert sp.simplify(t - (2 * s.subs(X, 2 * X) - 1)) == 0             # tanh = 2σ(2x) - 1
    assert sp.simplify(sp.diff(A.tanh.symbolic(), X) - (1 - A.tanh.symbolic() ** 2)) == 0
    y = sp.Symbol("y", real=True)
    assert sp.simplify(A.softmax.symbolic() - s.subs(X, X - y)) == 0    # 2-logit softmax = σ(x - y)
    a = sp.Symbol("alpha", real=True)
    neg = A.elu.symbolic().args[1][0]                                   # the x <= 0 branch
    assert sp.simplify(sp.diff(neg, X) - (neg + a)) == 0                # ELU' = ELU + α


# ---------------------------------------------------------------------------------------
# the benchmark script runs (no timing asserted)
# ---------------------------------------------------------------------------------------
def test_benchmark_smoke():
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "bench_activations.py"),
                           "--n", "1000", "--quick"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    for name in NAMES:
        assert name in proc.stdout
    assert "copy" in proc.stdout
