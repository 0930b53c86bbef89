"""Tests of actlib.init: variances against their formulas with statistical tolerances,
distribution shape, determinism, registry and error messages."""
import math

import numpy as np
import pytest
import sympy as sp

from actlib import init

# (fan_in, fan_out) deliberately unequal, so using the wrong fan changes the variance.
SHAPE = (200, 600)
N = SHAPE[0] * SHAPE[1]
Z = 5.0   # tolerance in standard errors: a false alarm has probability ≈ 6e-7


def expected_variance(name, shape, **kw):
    """The variance each rule prescribes, written out independently of the library."""
    fan_in, fan_out = shape
    return {
        "zeros": 0.0,
        "constant": 0.0,
        "normal": kw.get("std", 0.01) ** 2,
        "uniform": kw.get("limit", 0.05) ** 2 / 3.0,
        "xavier_uniform": 2.0 / (fan_in + fan_out),
        "xavier_normal": 2.0 / (fan_in + fan_out),
        "he_uniform": 2.0 / fan_in,
        "he_normal": 2.0 / fan_in,
        "lecun_normal": 1.0 / fan_in,
    }[name]


def family(name):
    if name in ("zeros", "constant"):
        return "constant"
    return "uniform" if name.endswith("uniform") else "normal"


# Fourth moment over squared variance: 3 for a normal, 9/5 for a uniform.
KURTOSIS = {"normal": 3.0, "uniform": 1.8}


def assert_moments(W, var, kind):
    """Check a sample of zero-mean iid weights against variance ``var`` and distribution
    ``kind``. The estimator of the variance is mean(W²) (the mean is known to be 0); its
    standard error is √((μ₄ − σ⁴)/N) = σ²√((κ − 1)/N) with κ the kurtosis of ``kind``."""
    W = np.asarray(W, dtype=float)
    n = W.size
    kappa = KURTOSIS[kind]
    m2 = np.mean(W ** 2)
    se_var = var * math.sqrt((kappa - 1.0) / n)
    assert abs(m2 - var) <= Z * se_var, (
        f"sample variance {m2:.6g} differs from the formula's {var:.6g} by more than "
        f"{Z} standard errors ({se_var:.3g})")
    se_mean = math.sqrt(var / n)
    assert abs(W.mean()) <= Z * se_mean, f"sample mean {W.mean():.3g} is not ≈ 0"
    # kurtosis tells a normal from a uniform (and from a truncated normal, κ < 3); the
    # sample kurtosis of a normal has standard error √(24/N) (a uniform's is smaller)
    k = np.mean(W ** 4) / m2 ** 2
    assert abs(k - kappa) <= Z * math.sqrt(24.0 / n), f"kurtosis {k:.3f}: not a {kind} distribution (κ = {kappa})"


RANDOM = [n for n in init.names() if family(n) != "constant"]


@pytest.mark.parametrize("name", RANDOM)
def test_variance_matches_formula(name):
    W = init.get(name)(SHAPE, rng=np.random.default_rng(1))
    assert W.shape == SHAPE and W.dtype == np.float64
    assert_moments(W, expected_variance(name, SHAPE), family(name))


@pytest.mark.parametrize("name", [n for n in RANDOM if family(n) == "uniform"])
def test_uniform_bounds(name):
    """The uniform ones stay inside ±√(3 var) and reach close to the bound."""
    W = init.get(name)(SHAPE, rng=np.random.default_rng(2))
    limit = math.sqrt(3.0 * expected_variance(name, SHAPE))
    assert np.abs(W).max() <= limit
    assert np.abs(W).max() > 0.999 * limit


@pytest.mark.parametrize("std", [1e-3, 0.5, 3.0])
def test_normal_with_given_std(std):
    W = init.normal(SHAPE, std=std, rng=np.random.default_rng(3))
    assert_moments(W, std ** 2, "normal")


@pytest.mark.parametrize("limit", [1e-3, 0.5, 3.0])
def test_uniform_with_given_limit(limit):
    W = init.uniform(SHAPE, limit=limit, rng=np.random.default_rng(4))
    assert_moments(W, limit ** 2 / 3.0, "uniform")
    assert np.abs(W).max() <= limit


def test_zeros_and_constant():
    assert np.array_equal(init.zeros((3, 4)), np.zeros((3, 4)))
    C = init.constant((3, 4), value=0.7)
    assert C.shape == (3, 4) and np.all(C == 0.7)
    assert init.constant((2, 2), value=-2).dtype == np.float64


def test_uniform_variance_formula_symbolically():
    """Var U(−L, L) = L²/3, so L = √(6/(fan_in + fan_out)) gives 2/(fan_in + fan_out)
    and L = √(6/fan_in) gives 2/fan_in (SymPy)."""
    w, L, a, b = sp.symbols("w L a b", positive=True)
    var = sp.integrate(w ** 2 / (2 * L), (w, -L, L))
    assert sp.simplify(var - L ** 2 / 3) == 0
    assert sp.simplify(var.subs(L, sp.sqrt(6 / (a + b))) - 2 / (a + b)) == 0
    assert sp.simplify(var.subs(L, sp.sqrt(6 / a)) - 2 / a) == 0


def test_he_keeps_relu_second_moment():
    """He's factor 2: for z ~ N(0, s²), E[relu(z)²] = s²/2 (SymPy), so Var W = 2/fan_in
    gives E[z_next²] = fan_in · (2/fan_in) · E[relu(z)²] = E[z²]."""
    z, s = sp.symbols("z s", positive=True)
    density = sp.exp(-z ** 2 / (2 * s ** 2)) / (s * sp.sqrt(2 * sp.pi))
    second = sp.integrate(z ** 2 * density, (z, 0, sp.oo))
    assert sp.simplify(second - s ** 2 / 2) == 0


@pytest.mark.parametrize("name", RANDOM)
def test_seeded_is_deterministic(name):
    f = init.get(name)
    a = f((30, 20), rng=np.random.default_rng(7))
    b = f((30, 20), rng=np.random.default_rng(7))
    c = f((30, 20), rng=np.random.default_rng(8))
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("name", init.names())
def test_rng_none_gives_fresh_generator(name):
    W = init.get(name)((5, 6))
    assert W.shape == (5, 6) and np.all(np.isfinite(W))


@pytest.mark.parametrize("name", RANDOM)
def test_rng_must_be_generator(name):
    with pytest.raises(TypeError, match="Generator"):
        init.get(name)((3, 3), rng=42)


BAD_SHAPES = [(3,), (3, 4, 5), (), (0, 3), (3, -1), (2.5, 3), (True, 3), "ab", 5, None]


@pytest.mark.parametrize("name", init.names())
@pytest.mark.parametrize("shape", BAD_SHAPES, ids=repr)
def test_bad_shape_is_rejected(name, shape):
    with pytest.raises(ValueError, match="fan_in|fan_out|shape"):
        init.get(name)(shape)


def test_bad_shape_message_says_what_and_allowed():
    with pytest.raises(ValueError) as err:
        init.he_normal((0, 5))
    assert "positive integer" in str(err.value) and "0" in str(err.value)
    with pytest.raises(ValueError) as err:
        init.xavier_uniform((3, 4, 5))
    assert "2" in str(err.value) and "(3, 4, 5)" in str(err.value)


@pytest.mark.parametrize("kw", [{"std": -1.0}, {"std": float("nan")}, {"std": "big"}])
def test_bad_std(kw):
    with pytest.raises(ValueError, match="std"):
        init.normal((3, 3), **kw)


@pytest.mark.parametrize("kw", [{"limit": -0.1}, {"limit": float("inf")}])
def test_bad_limit(kw):
    with pytest.raises(ValueError, match="limit"):
        init.uniform((3, 3), **kw)


def test_bad_constant():
    with pytest.raises(ValueError, match="value"):
        init.constant((3, 3), value=float("nan"))


def test_extra_parameters_are_keyword_only():
    with pytest.raises(TypeError):
        init.normal((3, 3), 0.1)


def test_registry_names_and_get():
    assert init.names() == ["zeros", "constant", "normal", "uniform", "xavier_uniform",
                            "xavier_normal", "he_uniform", "he_normal", "lecun_normal"]
    for name in init.names():
        assert init.get(name) is getattr(init, name)


def test_unknown_name_lists_valid_ones():
    with pytest.raises(ValueError) as err:
        init.get("glorot")
    msg = str(err.value)
    assert "glorot" in msg and all(name in msg for name in init.names())
    with pytest.raises(TypeError, match="string"):
        init.get(3)


def test_fans():
    assert init.fans((3, 7)) == (3, 7)
    assert init.fans([np.int64(2), 5]) == (2, 5)


# --- the checks above can fail -----------------------------------------------------------------
def _he_with_fan_out(shape, rng=None):
    return rng.normal(0.0, math.sqrt(2.0 / shape[1]), size=shape)


def _xavier_std_as_variance(shape, rng=None):
    return rng.normal(0.0, 2.0 / sum(shape), size=shape)


def _truncated_he(shape, rng=None):
    W = rng.normal(0.0, math.sqrt(2.0 / shape[0]), size=shape)
    limit = 2.0 * math.sqrt(2.0 / shape[0])
    return np.clip(W, -limit, limit)           # truncation without correcting the variance


def _he_uniform_with_normal_bound(shape, rng=None):
    limit = math.sqrt(2.0 / shape[0])           # forgets the √3
    return rng.uniform(-limit, limit, size=shape)


@pytest.mark.parametrize("wrong, name", [(_he_with_fan_out, "he_normal"),
                                         (_xavier_std_as_variance, "xavier_normal"),
                                         (_truncated_he, "he_normal"),
                                         (_he_uniform_with_normal_bound, "he_uniform"),
                                         (init.he_uniform, "he_normal"),
                                         (init.xavier_normal, "lecun_normal")])
def test_moment_check_rejects_wrong_initialisers(wrong, name):
    W = wrong(SHAPE, rng=np.random.default_rng(1))
    with pytest.raises(AssertionError):
        assert_moments(W, expected_variance(name, SHAPE), family(name))


def test_network_initialiser_draws_each_layer_by_its_rule_in_order():
    """init.Network(name)(sizes, rng): W_l = get(name)((n_{l-1}, n_l), rng) drawn layer by
    layer from one generator, b_l = 0; bad sizes and unknown rules get one-line errors."""
    params = init.Network("he_normal")([6, 5, 3], np.random.default_rng(4))
    rng = np.random.default_rng(4)
    first, second = init.he_normal((6, 5), rng), init.he_normal((5, 3), rng)
    assert np.array_equal(params[0][0], first) and np.array_equal(params[1][0], second)
    assert [b.tolist() for _, b in params] == [[0.0] * 5, [0.0] * 3]
    assert repr(init.Network("he_normal")) == "init.Network('he_normal')"
    with pytest.raises(ValueError, match="at least two positive widths"):
        init.Network("he_normal")([6])
    with pytest.raises(TypeError, match="list of layer widths"):
        init.Network("he_normal")(["a", 2])
    with pytest.raises(ValueError, match="unknown initialiser"):
        init.Network("kaiming")
