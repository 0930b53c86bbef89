"""actlib.diagnostics (lesson 11) and nn.LayerNorm: gradients against finite differences, the
initial-loss prediction against SymPy and a simulation, the tests' contracts, stable numerics."""
import math

import numpy as np
import pytest
import sympy as sp

from actlib import diagnostics as D
from actlib import nn


def _numeric_grads(params, X, y, activation, eps=1e-6):
    out = []
    for W, b in params:
        pair = []
        for arr in (W, b):
            num = np.zeros(arr.shape)
            for idx in np.ndindex(arr.shape):
                old = arr[idx]
                arr[idx] = old + eps
                up = D.mlp_loss_and_grads(params, X, y, activation)[0]
                arr[idx] = old - eps
                down = D.mlp_loss_and_grads(params, X, y, activation)[0]
                arr[idx] = old
                num[idx] = (up - down) / (2 * eps)
            pair.append(num)
        out.append(pair)
    return out


@pytest.mark.parametrize("activation,sizes", [("tanh", [5, 4, 3]), ("tanh", [4, 6, 5, 3]),
                                              ("sigmoid", [3, 2]), ("elu", [4, 5, 3])])
def test_mlp_gradients_match_finite_differences(activation, sizes):
    r = np.random.default_rng(0)
    params = [(r.normal(size=(m, n)), r.normal(size=n)) for m, n in zip(sizes[:-1], sizes[1:])]
    X, y = r.normal(size=(7, sizes[0])), r.integers(0, sizes[-1], 7)
    _, grads = D.mlp_loss_and_grads(params, X, y, activation)
    for (dW, db), (nW, nb) in zip(grads, _numeric_grads(params, X, y, activation)):
        np.testing.assert_allclose(dW, nW, rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(db, nb, rtol=1e-6, atol=1e-8)


def test_mlp_forward_agrees_with_the_loss_and_checks_shapes():
    r = np.random.default_rng(1)
    params = D.mlp_init([6, 5, 4], r)
    X, y = r.normal(size=(3, 6)), np.array([0, 3, 2])
    logits, pre = D.mlp_forward(params, X)
    assert len(pre) == 1 and pre[0].shape == (3, 5)
    assert D.mlp_loss_and_grads(params, X, y)[0] == pytest.approx(nn.softmax_cross_entropy(logits, y)[0])
    with pytest.raises(ValueError, match="inputs but the layer before"):
        D.mlp_forward([(np.ones((6, 5)), np.zeros(5)), (np.ones((4, 2)), np.zeros(2))], X)
    with pytest.raises(ValueError, match="pair"):
        D.mlp_forward([np.ones((6, 5))], X)


def test_mlp_init_scales():
    p = D.mlp_init([400, 300, 10], np.random.default_rng(2), last_std=0.01)
    assert p[0][0].var() == pytest.approx(2 / 700, rel=0.02)
    assert p[1][0].std() == pytest.approx(0.01, rel=0.05)
    assert all(not b.any() for _, b in p)


def test_predicted_initial_loss_is_the_second_order_expansion():
    """E[ln Σ e^z − z_y] for z ~ N(0, σ²) iid: the series to σ² of the log-sum-exp, averaged with
    E z = 0, E z² = σ², independent entries, is ln K + σ²(K − 1)/(2K) (checked for K = 3 by SymPy)."""
    s, K = sp.symbols("s", positive=True), 3
    z = sp.symbols("z0:3", real=True)
    t = sp.Symbol("t")
    lse = sp.log(sum(sp.exp(t * zi) for zi in z)) - t * z[0]
    series = sp.series(lse, t, 0, 3).removeO().subs(t, 1)
    poly = sp.Poly(sp.expand(series), *z)
    expected = 0
    for monom, coeff in poly.terms():      # E of a monomial of independent N(0, s²) entries
        moment = 1
        for power in monom:
            moment *= {0: 1, 1: 0, 2: s ** 2}[power]
        expected += coeff * moment
    assert sp.simplify(expected - (sp.log(K) + s ** 2 * (K - 1) / (2 * K))) == 0
    assert D.predicted_initial_loss(3, 0.4) == pytest.approx(math.log(3) + 0.16 / 3)
    r = np.random.default_rng(3)
    zz = r.normal(0.0, 0.15, size=(400_000, 10))
    simulated = nn.softmax_cross_entropy(zz, np.zeros(len(zz), dtype=int))[0]
    assert abs(simulated - D.predicted_initial_loss(10, 0.15)) < 1e-3
    for bad in ((1, 0.1), (2.5, 0.1), (3, -1.0), (3, float("nan"))):
        with pytest.raises(ValueError):
            D.predicted_initial_loss(*bad)


def _tiny():
    r = np.random.default_rng(4)
    X, y = r.normal(size=(12, 6)), r.integers(0, 4, 12)
    return D.mlp_init([6, 8, 4], np.random.default_rng(5)), X, y


def test_steps_to_memorise_counts_steps_and_leaves_params():
    params, X, y = _tiny()
    kept = D.copy_params(params)
    n = D.steps_to_memorise(params, X, y, 0.5, 2000, 0.05)
    assert n is not None and n > 0
    assert all(np.array_equal(a, b) for p, q in zip(params, kept) for a, b in zip(p, q))
    assert D.steps_to_memorise(params, X, y, 0.5, n, 0.05) == n        # exactly enough steps
    assert D.steps_to_memorise(params, X, y, 0.5, n - 1, 0.05) is None
    assert D.steps_to_memorise(params, X, y, 0.5, 0, 100.0) == 0        # met at the start


def test_lr_range_test_rates_losses_and_stop():
    params, X, y = _tiny()
    rates, losses = D.lr_range_test(params, X, y, 1e-3, 1e-1, 5)
    np.testing.assert_allclose(rates, [1e-3, 10 ** -2.5, 1e-2, 10 ** -1.5, 1e-1], rtol=1e-12)
    assert losses[0] == pytest.approx(D.mlp_loss_and_grads(params, X, y)[0])
    rates, losses = D.lr_range_test(params, X, y, 1e-2, 1e5, 60)
    assert len(rates) == len(losses) < 60
    assert losses[-1] > 4 * losses[:-1].min() and np.all(losses[:-1] <= 4 * np.minimum.accumulate(losses[:-1]))
    with pytest.raises(ValueError):
        D.lr_range_test(params, X, y, 1e-3, 1e-1, 1)


def test_update_to_data_values_extremes_and_zero_layers():
    W = np.array([[3.0, 4.0]])
    before = [(W, np.zeros(2)), (np.zeros((2, 1)), np.zeros(1)), (np.zeros((1, 1)), np.zeros(1))]
    after = [(W * 1.01, np.ones(2)), (np.ones((2, 1)), np.zeros(1)), (np.zeros((1, 1)), np.ones(1))]
    np.testing.assert_allclose(D.update_to_data(before, after)[0], 0.01, rtol=1e-12)
    assert D.update_to_data(before, after)[1:].tolist() == [math.inf, 0.0]
    with np.errstate(all="raise", under="ignore"):
        for scale in (1e200, 1e-200, 1e300):
            got = D.update_to_data([(W * scale, np.zeros(2))], [(W * scale * 1.01, np.zeros(2))])
            np.testing.assert_allclose(got, [0.01], rtol=1e-9)


def test_layer_fractions():
    z = np.array([[1.0, -1.0, -3.0], [2.0, -0.5, 4.0]])
    out = D.layer_fractions(z, "relu")
    assert out["dead"] == pytest.approx(1 / 3) and out["saturated"] == pytest.approx(0.5)
    assert D.layer_fractions(np.full((2, 2), 10.0), "tanh")["saturated"] == 1.0


# --------------------------------------------------------------------------- layer norm

def test_layer_norm_forward_normalises_each_row():
    ln = nn.LayerNorm(5)
    x = np.random.default_rng(6).normal(3.0, 2.0, size=(4, 5))
    y = ln.forward(x)
    np.testing.assert_allclose(y.mean(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=1), 1 / (1 + 1e-5 / x.var(axis=1)), rtol=1e-12)
    one = ln.forward(x[:1])                     # a batch of one: same row, same result
    np.testing.assert_allclose(one, y[:1], rtol=1e-13)


@pytest.mark.parametrize("seed", [0, 1])
def test_layer_norm_backward_matches_finite_differences(seed):
    r = np.random.default_rng(seed)
    ln = nn.LayerNorm(4)
    ln.params["gamma"] = r.normal(size=4)
    ln.params["beta"] = r.normal(size=4)
    net = nn.Sequential([nn.Dense(3, 4, "tanh", rng=r), ln, nn.Dense(4, 2, "linear", rng=r)])
    assert nn.gradient_check(net, r.normal(size=(5, 3)) * 2, r.normal(size=(5, 2))) < 1e-6


def test_layer_norm_is_stable_for_huge_and_constant_rows():
    ln = nn.LayerNorm(4)
    x = np.array([[1e200, -1e200, 3e200, 0.0], [2.0, 2.0, 2.0, 2.0], [1e-200, 0.0, -1e-200, 2e-200]])
    with np.errstate(all="raise", under="ignore"):
        y = ln.forward(x)
        dx = ln.backward(np.arange(12.0).reshape(3, 4))
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(dx))
    row = x[0] / 1e200                          # ε is negligible next to a variance of 1e400
    np.testing.assert_allclose(y[0], (row - row.mean()) / row.std(), rtol=1e-12)
    np.testing.assert_allclose(y[2], (x[2] - x[2].mean()) / np.sqrt(1e-5), rtol=1e-12)
    assert not y[1].any()
    with pytest.raises(ValueError, match="shape"):
        ln.forward(np.ones((2, 3)))
