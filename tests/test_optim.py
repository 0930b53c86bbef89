"""Tests of actlib.optim: each optimiser against an independent scalar implementation of the
published rule, the EWMA against its unrolled sum, the closed-form heavy-ball facts, input
errors, and the convention diagnosis (which must catch every deliberately wrong variant)."""
import math
import warnings
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

from actlib import optim
from actlib.grading import optimcheck
from actlib import surfaces as S


# ------------------------------------------------------------------- scalar references
# Written from the papers, one coordinate at a time with Python floats and math.sqrt;
# they share nothing with the library but the gradient function.
def ref_sgd(grad, start, steps, lr, momentum=0.0, nesterov=False, velocity=None):
    x = [float(v) for v in start]
    vel = [0.0] * len(x) if velocity is None else [float(v) for v in velocity]
    out = [list(x)]
    for _ in range(steps):
        g = [float(v) for v in grad(np.array(x))]
        for i in range(len(x)):
            vel[i] = momentum * vel[i] + g[i]
            if nesterov:
                x[i] = x[i] - lr * (g[i] + momentum * vel[i])
            else:
                x[i] = x[i] - lr * vel[i]
        out.append(list(x))
    return np.array(out)


def ref_adagrad(grad, start, steps, lr, init=0.1, eps=1e-7, acc=None):
    x = [float(v) for v in start]
    G = [init] * len(x) if acc is None else [float(v) for v in acc]
    out = [list(x)]
    for _ in range(steps):
        g = [float(v) for v in grad(np.array(x))]
        for i in range(len(x)):
            G[i] = G[i] + g[i] * g[i]
            x[i] = x[i] - lr * g[i] / (math.sqrt(G[i]) + eps)
        out.append(list(x))
    return np.array(out)


def ref_rmsprop(grad, start, steps, lr, rho=0.9, eps=1e-7, ms=None):
    x = [float(v) for v in start]
    s = [0.0] * len(x) if ms is None else [float(v) for v in ms]
    out = [list(x)]
    for _ in range(steps):
        g = [float(v) for v in grad(np.array(x))]
        for i in range(len(x)):
            s[i] = rho * s[i] + (1 - rho) * g[i] * g[i]
            x[i] = x[i] - lr * g[i] / (math.sqrt(s[i]) + eps)
        out.append(list(x))
    return np.array(out)


def ref_adam(grad, start, steps, lr, b1=0.9, b2=0.999, eps=1e-8, m=None, v=None, t=0, l2=0.0,
             decoupled=0.0):
    """Adam as torch.optim writes it; ``l2`` adds λθ to the gradient (Adam's weight_decay),
    ``decoupled`` multiplies θ by 1 − ηλ before the step (AdamW's)."""
    x = [float(val) for val in start]
    m = [0.0] * len(x) if m is None else [float(val) for val in m]
    v = [0.0] * len(x) if v is None else [float(val) for val in v]
    out = [list(x)]
    for _ in range(steps):
        t += 1
        g = [float(val) for val in grad(np.array(x))]
        for i in range(len(x)):
            g[i] += l2 * x[i]
            x[i] *= 1.0 - lr * decoupled
            m[i] = b1 * m[i] + (1 - b1) * g[i]
            v[i] = b2 * v[i] + (1 - b2) * g[i] ** 2
            mhat = m[i] / (1 - b1 ** t)
            vhat = v[i] / (1 - b2 ** t)
            x[i] = x[i] - lr * mhat / (math.sqrt(vhat) + eps)
        out.append(list(x))
    return np.array(out)


def lib_trajectory(opt, grad, start, steps):
    p = np.array(start, dtype=float)
    out = [p.copy()]
    for _ in range(steps):
        opt.step([p], [grad(p)])
        out.append(p.copy())
    return np.array(out)


def assert_close_traj(got, ref, rtol=1e-12, msg=""):
    assert got.shape == ref.shape, f"{msg}: shape {got.shape} vs {ref.shape}"
    assert np.all(np.isfinite(ref)), f"{msg}: the reference diverged, pick a smaller rate"
    scale = np.max(np.abs(ref))
    err = np.max(np.abs(got - ref) / (np.abs(ref) + scale * 1e-3))
    assert err <= rtol, f"{msg}: max relative difference {err:.3e} > {rtol:g}"


QUAD = S.Quadratic(condition_number=10.0, angle=0.4, centre=(0.5, -0.25))
ROSEN = S.Rosenbrock()

# (id, library optimiser factory, scalar reference, rates for (quadratic, rosenbrock))
CASES = [
    ("sgd", lambda lr: optim.SGD(lr), lambda g, s, n, lr: ref_sgd(g, s, n, lr), (0.05, 1e-3)),
    ("momentum0.5", lambda lr: optim.SGD(lr, momentum=0.5),
     lambda g, s, n, lr: ref_sgd(g, s, n, lr, 0.5), (0.05, 5e-4)),
    ("momentum0.9", lambda lr: optim.SGD(lr, momentum=0.9),
     lambda g, s, n, lr: ref_sgd(g, s, n, lr, 0.9), (0.02, 2e-4)),
    ("nesterov0.9", lambda lr: optim.SGD(lr, momentum=0.9, nesterov=True),
     lambda g, s, n, lr: ref_sgd(g, s, n, lr, 0.9, True), (0.02, 2e-4)),
    ("adagrad", lambda lr: optim.Adagrad(lr), lambda g, s, n, lr: ref_adagrad(g, s, n, lr),
     (0.5, 0.1)),
    ("adagrad_init0", lambda lr: optim.Adagrad(lr, initial_accumulator_value=0.0, epsilon=1e-3),
     lambda g, s, n, lr: ref_adagrad(g, s, n, lr, 0.0, 1e-3), (0.5, 0.1)),
    ("rmsprop", lambda lr: optim.RMSprop(lr, rho=0.8, epsilon=1e-4),
     lambda g, s, n, lr: ref_rmsprop(g, s, n, lr, 0.8, 1e-4), (0.01, 1e-3)),
    ("adam", lambda lr: optim.Adam(lr), lambda g, s, n, lr: ref_adam(g, s, n, lr), (0.05, 0.01)),
    ("adam_odd", lambda lr: optim.Adam(lr, beta_1=0.7, beta_2=0.95, epsilon=1e-3),
     lambda g, s, n, lr: ref_adam(g, s, n, lr, 0.7, 0.95, 1e-3), (0.05, 0.01)),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("surface", [QUAD, ROSEN], ids=["quadratic", "rosenbrock"])
def test_trajectory_matches_scalar_reference(case, surface):
    name, make, ref, rates = case
    lr = rates[0] if surface is QUAD else rates[1]
    got = lib_trajectory(make(lr), surface.grad, surface.start, 200)
    expected = ref(surface.grad, surface.start, 200, lr)
    assert_close_traj(got, expected, msg=f"{name} on {surface.name}")
    # and the optimiser actually moved towards lower loss
    assert surface.value(got[-1]) < surface.value(got[0]), f"{name} did not descend"


def test_run_equals_library_loop():
    got = S.run(optim.Adam(0.05), QUAD, steps=50)
    assert_close_traj(got, ref_adam(QUAD.grad, QUAD.start, 50, 0.05), rtol=0)


def test_state_is_used_and_inspectable():
    """Starting from a given non-zero state reproduces the reference from that state."""
    vel = np.array([0.7, -1.3])
    opt = optim.SGD(0.02, momentum=0.8, nesterov=True)
    opt.velocity = [vel.copy()]
    got = lib_trajectory(opt, QUAD.grad, (1.0, 2.0), 30)
    assert_close_traj(got, ref_sgd(QUAD.grad, (1.0, 2.0), 30, 0.02, 0.8, True, vel))
    assert opt.t == 30 and len(opt.velocity) == 1

    opt = optim.Adam(0.05, beta_1=0.8, beta_2=0.9, epsilon=1e-2)
    m0, v0 = np.array([0.3, -0.2]), np.array([0.5, 0.05])
    opt.m, opt.v, opt.t = [m0.copy()], [v0.copy()], 4
    got = lib_trajectory(opt, ROSEN.grad, (-1.0, 1.5), 40)
    assert_close_traj(got, ref_adam(ROSEN.grad, (-1.0, 1.5), 40, 0.05, 0.8, 0.9, 1e-2, m0, v0, 4))
    assert opt.t == 44

    opt = optim.Adagrad(0.3)
    opt.accumulator = [np.array([2.0, 0.01])]
    got = lib_trajectory(opt, QUAD.grad, (1.0, 2.0), 30)
    assert_close_traj(got, ref_adagrad(QUAD.grad, (1.0, 2.0), 30, 0.3, acc=[2.0, 0.01]))

    opt = optim.RMSprop(0.01)
    opt.mean_square = [np.array([4.0, 0.2])]
    got = lib_trajectory(opt, QUAD.grad, (1.0, 2.0), 30)
    assert_close_traj(got, ref_rmsprop(QUAD.grad, (1.0, 2.0), 30, 0.01, ms=[4.0, 0.2]))


def test_reset_forgets_state():
    opt = optim.Adam(0.05)
    lib_trajectory(opt, QUAD.grad, QUAD.start, 10)
    opt.reset()
    assert opt.t == 0 and opt.m is None and opt.v is None
    again = lib_trajectory(opt, QUAD.grad, QUAD.start, 10)
    fresh = lib_trajectory(optim.Adam(0.05), QUAD.grad, QUAD.start, 10)
    assert np.array_equal(again, fresh), "after reset() the optimiser must behave as new"


def test_several_parameters_and_float32_in_place():
    w = np.ones((2, 3), dtype=np.float32)
    b = np.zeros(3)
    opt = optim.Adam(0.1)
    wid = id(w)
    opt.step([w, b], [np.full((2, 3), 2.0), np.array([1, -1, 0])])
    assert id(w) == wid and w.dtype == np.float32, "update must be in place, dtype kept"
    assert np.allclose(w, 1 - 0.1 * 2 / (2 + 1e-8)) and np.allclose(b, [-0.1, 0.1, 0.0])
    assert [s.shape for s in opt.m] == [(2, 3), (3,)]


def test_momentum_zero_is_plain_sgd():
    for surface, lr in ((QUAD, 0.05), (ROSEN, 1e-3)):
        a = lib_trajectory(optim.SGD(lr, momentum=0.0), surface.grad, surface.start, 200)
        p = surface.start.copy()
        b = [p.copy()]
        for _ in range(200):
            p = p - lr * surface.grad(p)
            b.append(p.copy())
        assert np.array_equal(a, np.array(b)), "momentum=0 must be exactly plain descent"


def test_nesterov_is_lookahead_momentum():
    """Classical NAG takes the gradient at the look-ahead point θ + βu and steps θ ← θ + u;
    the library's iterates are those look-ahead points φ = θ + βu."""
    beta, lr = 0.9, 0.02
    theta = QUAD.start.copy()
    u = np.zeros(2)
    phis = [theta + beta * u]
    for _ in range(100):
        u = beta * u - lr * QUAD.grad(theta + beta * u)
        theta = theta + u
        phis.append(theta + beta * u)
    got = lib_trajectory(optim.SGD(lr, beta, nesterov=True), QUAD.grad, QUAD.start, 100)
    assert_close_traj(got, np.array(phis), rtol=1e-10, msg="Nesterov vs look-ahead NAG")
    plain = lib_trajectory(optim.SGD(lr, beta), QUAD.grad, QUAD.start, 100)
    assert np.max(np.abs(plain - got)) > 1e-2, "Nesterov must differ from plain momentum"
    # and on an ill-conditioned bowl it overshoots less along the stiff direction
    q = S.Quadratic(condition_number=50.0)
    nes = lib_trajectory(optim.SGD(0.02, 0.9, nesterov=True), q.grad, (0.0, 1.0), 60)
    mom = lib_trajectory(optim.SGD(0.02, 0.9), q.grad, (0.0, 1.0), 60)
    assert np.max(np.abs(nes[5:, 1])) < np.max(np.abs(mom[5:, 1])), \
        "Nesterov should damp the oscillation along the steep axis"


def test_momentum_ewma_form_is_a_rescaled_rate():
    """v ← βv + (1−β)g with rate η equals v ← βv + g with rate η(1−β)."""
    beta, lr = 0.8, 0.1
    p = QUAD.start.copy()
    v = np.zeros(2)
    out = [p.copy()]
    for _ in range(50):
        v = beta * v + (1 - beta) * QUAD.grad(p)
        p = p - lr * v
        out.append(p.copy())
    got = lib_trajectory(optim.SGD(lr * (1 - beta), beta), QUAD.grad, QUAD.start, 50)
    assert_close_traj(got, np.array(out), rtol=1e-10)


def test_adam_first_step_is_rate_times_sign():
    g = np.array([1e-3, -50.0, 0.0])
    p = np.zeros(3)
    optim.Adam(0.1).step([p], [g])
    assert np.allclose(p, -0.1 * g / (np.abs(g) + 1e-8), rtol=1e-15, atol=0), \
        "bias correction makes Adam's first step η·g/(|g| + ε)"


def test_adagrad_rate_decays_and_favours_sparse():
    """A coordinate with a gradient every step slows down; a rare one keeps a large rate."""
    opt = optim.Adagrad(0.1, initial_accumulator_value=0.0, epsilon=1e-10)
    p = np.zeros(2)
    steps = []
    for k in range(100):
        before = p.copy()
        opt.step([p], [np.array([1.0, 1.0 if k % 10 == 0 else 0.0])])
        steps.append(before - p)
    steps = np.array(steps)
    assert np.isclose(steps[99, 0], 0.1 / 10), "dense rate after 100 steps: η/√100"
    assert np.isclose(steps[90, 1], 0.1 / np.sqrt(10)), "sparse rate after 10 hits: η/√10"


# -------------------------------------------------------------------------------- errors
@pytest.mark.parametrize("make, exc, words", [
    (lambda: optim.SGD(-0.1), ValueError, "learning_rate"),
    (lambda: optim.SGD(float("nan")), ValueError, "finite"),
    (lambda: optim.SGD("0.1"), TypeError, "real number"),
    (lambda: optim.SGD(True), TypeError, "real number"),
    (lambda: optim.SGD(0.1, momentum=1.0), ValueError, "[0, 1)"),
    (lambda: optim.SGD(0.1, momentum=-0.1), ValueError, "momentum"),
    (lambda: optim.SGD(0.1, nesterov=True), ValueError, "momentum > 0"),
    (lambda: optim.SGD(0.1, momentum=0.9, nesterov="yes"), TypeError, "nesterov"),
    (lambda: optim.Adam(beta_1=1.0), ValueError, "beta_1"),
    (lambda: optim.Adam(beta_2=-0.5), ValueError, "beta_2"),
    (lambda: optim.Adam(epsilon=0.0), ValueError, "epsilon"),
    (lambda: optim.RMSprop(rho=1.5), ValueError, "rho"),
    (lambda: optim.Adagrad(initial_accumulator_value=-1), ValueError, "initial_accumulator"),
    (lambda: optim.Adagrad(initial_accumulator_value=0, epsilon=0), ValueError, "both"),
    (lambda: optim.get("adamw"), ValueError, "sgd, momentum, nesterov, adagrad, rmsprop, adam"),
    (lambda: optim.get("adam", momentum=0.9), TypeError, "beta_1"),
])
def test_bad_hyper_parameters(make, exc, words):
    with pytest.raises(exc) as info:
        make()
    assert words in str(info.value), f"message should mention {words!r}: {info.value}"


@pytest.mark.parametrize("params, grads, exc, words", [
    (np.zeros(2), [np.zeros(2)], TypeError, "list"),
    ([np.zeros(2)], [np.zeros(2), np.zeros(2)], ValueError, "same length"),
    ([np.zeros(2)], [np.zeros(3)], ValueError, "shape"),
    ([np.zeros(2, dtype=int)], [np.zeros(2)], TypeError, "floating-point"),
    ([[0.0, 1.0]], [np.zeros(2)], TypeError, "NumPy array"),
    ([np.zeros(2)], [np.array(["a", "b"])], TypeError, "numeric"),
    ([np.zeros(2)], [np.array([1.0, np.nan])], ValueError, "nan or inf"),
])
def test_bad_step_arguments(params, grads, exc, words):
    with pytest.raises(exc) as info:
        optim.SGD(0.1).step(params, grads)
    assert words in str(info.value), str(info.value)


def test_read_only_and_changed_parameters():
    p = np.zeros(2)
    p.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        optim.SGD(0.1).step([p], [np.ones(2)])
    opt = optim.Adam()
    opt.step([np.zeros(2)], [np.ones(2)])
    with pytest.raises(ValueError, match="reset"):
        opt.step([np.zeros(3)], [np.ones(3)])
    with pytest.raises(ValueError, match="reset"):
        opt.step([np.zeros(2), np.zeros(2)], [np.ones(2), np.ones(2)])


def test_titles_and_registry():
    assert optim.get("momentum", momentum=0.9).title == "Momentum Optimizer (decay = 0.9)"
    assert optim.get("nesterov", momentum=0.5).title == "Nesterov Optimizer (decay = 0.5)"
    assert optim.get("sgd").title == "Gradient Descent"
    assert repr(optim.SGD()) == "SGD(learning_rate=0.01, momentum=0.0, nesterov=False)"
    for name in optim.names():
        assert isinstance(optim.get(name), optim.Optimizer)


def test_no_warnings_on_large_gradients():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name in optim.names():
            p = np.array([1e300, -1e-300, 0.0])
            optim.get(name).step([p], [np.array([1e200, -1e-200, 0.0])])
            assert np.all(np.isfinite(p)), f"{name} produced a non-finite parameter"


# ---------------------------------------------------------------------------------- EWMA
def _ewma_matches_unrolled(fn):
    """Does fn agree with V_t = (1−β) Σ_k β^k θ_{t−k} (and its bias-corrected form),
    evaluated with exact rationals, to 1e-12?"""
    rng = np.random.default_rng(3)
    theta = rng.integers(-20, 20, size=30)
    for beta in (Fraction(0), Fraction(1, 2), Fraction(9, 10), Fraction(49, 50)):
        got = fn(theta, float(beta))
        got_bc = fn(theta, float(beta), bias_correction=True)
        for t in range(1, len(theta) + 1):
            exact = (1 - beta) * sum(beta ** k * int(theta[t - 1 - k]) for k in range(t))
            corrected = exact / (1 - beta ** t)
            if not (math.isclose(got[t - 1], float(exact), rel_tol=1e-12, abs_tol=1e-12)
                    and math.isclose(got_bc[t - 1], float(corrected), rel_tol=1e-12,
                                     abs_tol=1e-12)):
                return False
    return True


def test_ewma_equals_unrolled_weights_exactly():
    assert _ewma_matches_unrolled(optim.ewma)


def test_ewma_check_can_fail():
    def corrected_with_t_minus_1(values, beta, bias_correction=False):
        v = optim.ewma(values, beta)
        if bias_correction:
            v = v / (1 - beta ** np.maximum(np.arange(len(v)), 1))
        return v

    def without_one_minus_beta(values, beta, bias_correction=False):
        out, avg = [], 0.0
        for x in values:
            avg = beta * avg + x
            out.append(avg)
        return np.array(out)

    assert not _ewma_matches_unrolled(corrected_with_t_minus_1)
    assert not _ewma_matches_unrolled(without_one_minus_beta)


def test_ewma_bias_and_memory():
    ones = np.ones(200)
    v = optim.ewma(ones, 0.9)
    assert np.allclose(v, 1 - 0.9 ** np.arange(1, 201)), "weights of a constant sum to 1 − β^t"
    assert np.allclose(optim.ewma(ones, 0.9, bias_correction=True), 1.0, rtol=1e-14)
    # memory: the weights (1−β)β^k fall below 1/e of the first after about 1/(1−β) steps
    for beta in (0.5, 0.9, 0.98):
        k = np.argmax(beta ** np.arange(1000) < np.exp(-1))
        assert abs(k - 1 / (1 - beta)) <= 1.0 + 0.1 / (1 - beta)
    two_d = optim.ewma(np.column_stack([ones, 2 * ones]), 0.5)
    assert two_d.shape == (200, 2) and np.allclose(two_d[:, 1], 2 * two_d[:, 0])


@pytest.mark.parametrize("args, exc", [
    (([1.0, 2.0], 1.0), ValueError), (([1.0, 2.0], -0.1), ValueError),
    ((3.0, 0.5), ValueError), ((["a"], 0.5), TypeError), (([1.0], "0.9"), TypeError),
])
def test_ewma_errors(args, exc):
    with pytest.raises(exc):
        optim.ewma(*args)


# ------------------------------------------------------------- closed forms on a quadratic
def test_heavy_ball_formulas_symbolically():
    """With α* = 4/(√L+√μ)², β* = ((√κ−1)/(√κ+1))² the per-eigenvalue characteristic
    polynomial z² − (1 + β − αλ) z + β has a double root at λ = μ and λ = L, of modulus
    √β* = (√κ−1)/(√κ+1)."""
    L, mu, z = sp.symbols("L mu z", positive=True)
    alpha = 4 / (sp.sqrt(L) + sp.sqrt(mu)) ** 2
    kappa = L / mu
    rate = (sp.sqrt(kappa) - 1) / (sp.sqrt(kappa) + 1)
    beta = rate ** 2
    for lam in (mu, L):
        disc = (1 + beta - alpha * lam) ** 2 - 4 * beta
        assert sp.simplify(disc) == 0
        double_root = (1 + beta - alpha * lam) / 2
        assert sp.simplify(double_root ** 2 - beta) == 0
    # numeric values agree with the library
    for Lv, muv in ((10.0, 1.0), (100.0, 0.5), (4.0, 4.0)):
        hb = optim.heavy_ball_optimal(Lv, muv)
        subs = {L: Lv, mu: muv}
        assert math.isclose(hb["learning_rate"], float(alpha.subs(subs)), rel_tol=1e-14)
        assert math.isclose(hb["momentum"], float(beta.subs(subs)), rel_tol=1e-12,
                            abs_tol=1e-15)
        assert math.isclose(hb["rate"], float(rate.subs(subs)), rel_tol=1e-12, abs_tol=1e-15)
    gd = optim.gd_optimal(10.0, 1.0)
    assert math.isclose(gd["learning_rate"], 2 / 11) and math.isclose(gd["rate"], 9 / 11)


def _spectral_radius(A, lr, beta):
    n = len(A)
    M = np.block([[(1 + beta) * np.eye(n) - lr * A, -beta * np.eye(n)],
                  [np.eye(n), np.zeros((n, n))]])
    return np.max(np.abs(np.linalg.eigvals(M)))


@pytest.mark.parametrize("kappa", [10.0, 100.0])
def test_heavy_ball_rate_is_optimal_and_achieved(kappa):
    q = S.Quadratic(condition_number=kappa, smallest=0.5, angle=0.3)
    hb = optim.heavy_ball_optimal(q.L, q.mu)
    rho = _spectral_radius(q.matrix, hb["learning_rate"], hb["momentum"])
    assert math.isclose(rho, hb["rate"], rel_tol=1e-6), (rho, hb["rate"])
    for da, db in ((1.05, 1), (0.95, 1), (1, 1.05), (1, 0.95)):
        worse = _spectral_radius(q.matrix, hb["learning_rate"] * da,
                                 min(hb["momentum"] * db, 0.999))
        assert worse > rho, "perturbing the optimal α or β must slow the heavy ball down"
    # the library's SGD with these settings achieves the rate (error ratio over a window)
    traj = S.run(optim.SGD(hb["learning_rate"], hb["momentum"]), q, (1.0, 1.0),
                 steps=int(30 * np.sqrt(kappa)))
    err = np.linalg.norm(traj - q.minimum, axis=1)
    k1, k2 = len(err) // 2, len(err) - 1
    measured = (err[k2] / err[k1]) ** (1 / (k2 - k1))
    assert abs(measured - hb["rate"]) < 0.02, (measured, hb["rate"])
    # and plain gradient descent at its best step is slower, at its own rate
    gd = optim.gd_optimal(q.L, q.mu)
    traj = S.run(optim.SGD(gd["learning_rate"]), q, (1.0, 1.0), steps=int(30 * np.sqrt(kappa)))
    err_gd = np.linalg.norm(traj - q.minimum, axis=1)
    measured_gd = (err_gd[k2] / err_gd[k1]) ** (1 / (k2 - k1))
    assert abs(measured_gd - gd["rate"]) < 0.01 and measured_gd > measured


def test_closed_form_errors():
    with pytest.raises(ValueError, match="mu"):
        optim.heavy_ball_optimal(1.0, 2.0)
    with pytest.raises(ValueError):
        optim.gd_optimal(-1.0, 1.0)


# ----------------------------------------------------------------- convention diagnosis
# The setting the notebook's hidden tests use: a big ε, non-zero state, t > 0, a surface
# with gradients of very different sizes, so every convention mix-up shows.
HYPER = {
    "sgd": dict(learning_rate=0.01),
    "momentum": dict(learning_rate=0.01, momentum=0.8),
    "nesterov": dict(learning_rate=0.01, momentum=0.8),
    "adagrad": dict(learning_rate=0.3, initial_accumulator_value=0.1, epsilon=0.05),
    "rmsprop": dict(learning_rate=0.02, rho=0.8, epsilon=0.05),
    "adam": dict(learning_rate=0.05, beta_1=0.8, beta_2=0.9, epsilon=0.05),
}
STATE = {
    "sgd": {}, "momentum": {"velocity": [0.5, -1.0]}, "nesterov": {"velocity": [0.5, -1.0]},
    "adagrad": {"accumulator": [0.4, 2.0]}, "rmsprop": {"mean_square": [0.3, 1.5]},
    "adam": {"m": [0.2, -0.4], "v": [0.3, 1.2], "t": 3},
}
SURF = S.Quadratic(condition_number=20.0, smallest=0.1, angle=0.5)
START = (1.5, -0.8)


def _library_run(kind, steps=40, start=START):
    opt = optim.get(kind, **HYPER[kind])
    for key, val in STATE[kind].items():
        setattr(opt, key, val if key == "t" else [np.array(val, dtype=float)])
    return lib_trajectory(opt, SURF.grad, start, steps)


@pytest.mark.parametrize("kind", optim.names())
def test_diagnose_accepts_the_library(kind):
    label, msg = optimcheck.diagnose(kind, _library_run(kind), SURF.grad, START, 40,
                                state=STATE[kind], **HYPER[kind])
    assert label == "reference", msg


MISTAKE_CASES = [(k, m) for k in optim.names() for m in optimcheck.mistakes(k) if m != "reference"]


@pytest.mark.parametrize("kind, mistake", MISTAKE_CASES, ids=[f"{k}-{m}" for k, m in
                                                              MISTAKE_CASES])
def test_every_mistake_is_visible_in_the_test_setting(kind, mistake):
    """In the hidden-test setting each wrong convention moves the trajectory far from the
    reference (so a comparison at rtol 1e-6 fails) and is named by diagnose."""
    ref = _library_run(kind)
    wrong = optimcheck._variant_trajectory(kind, mistake, SURF.grad, START, 40, STATE[kind],
                                      optim.get(kind, **HYPER[kind])._hyper())
    diff = np.nanmax(np.abs(wrong - ref)) if np.any(np.isfinite(wrong)) else np.inf
    assert not np.allclose(wrong, ref, rtol=1e-6, atol=1e-9), f"{mistake} is invisible"
    assert diff > 1e-6 or not np.all(np.isfinite(wrong))
    label, msg = optimcheck.diagnose(kind, wrong, SURF.grad, START, 40, state=STATE[kind],
                                **HYPER[kind])
    assert label == mistake, (label, msg)


def _wrong_adam_eps_inside(grad, start, steps, lr, b1, b2, eps, m, v, t):
    """An independently written Adam with ε under the square root (a typical mistake)."""
    x, m, v = np.array(start, float), np.array(m, float), np.array(v, float)
    out = [x.copy()]
    for _ in range(steps):
        g = grad(x)
        t += 1
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        x = x - lr * (m / (1 - b1 ** t)) / np.sqrt(v / (1 - b2 ** t) + eps)
        out.append(x.copy())
    return np.array(out)


def test_checks_fail_on_wrong_implementations():
    """The scalar-reference comparison and diagnose both catch independently written
    wrong-convention optimisers."""
    h, s = HYPER["adam"], STATE["adam"]
    wrong = _wrong_adam_eps_inside(SURF.grad, START, 40, h["learning_rate"], h["beta_1"],
                                   h["beta_2"], h["epsilon"], s["m"], s["v"], s["t"])
    ref = ref_adam(SURF.grad, START, 40, h["learning_rate"], h["beta_1"], h["beta_2"],
                   h["epsilon"], s["m"], s["v"], s["t"])
    with pytest.raises(AssertionError):
        assert_close_traj(wrong, ref)
    label, msg = optimcheck.diagnose("adam", wrong, SURF.grad, START, 40, state=s, **h)
    assert label == "eps_inside" and "square root" in msg, msg

    # an EWMA-form momentum (no rescaled rate) is caught and named
    x, vel = np.array(START, float), np.array(STATE["momentum"]["velocity"], float)
    out = [x.copy()]
    for _ in range(40):
        vel = 0.8 * vel + 0.2 * SURF.grad(x)
        x = x - 0.01 * vel
        out.append(x.copy())
    out = np.array(out)
    with pytest.raises(AssertionError):
        assert_close_traj(out, ref_sgd(SURF.grad, START, 40, 0.01, 0.8,
                                       velocity=STATE["momentum"]["velocity"]))
    label, msg = optimcheck.diagnose("momentum", out, SURF.grad, START, 40,
                                state=STATE["momentum"], **HYPER["momentum"])
    assert label == "ewma_momentum" and "1−β" in msg, msg

    # a trajectory matching no known mistake is reported as unknown, with the first step
    label, msg = optimcheck.diagnose("adam", ref * 1.01, SURF.grad, START, 40, state=s, **h)
    assert label == "unknown" and "step 0" in msg, msg
    label, msg = optimcheck.diagnose("adam", ref[:-1], SURF.grad, START, 40, state=s, **h)
    assert label == "unknown" and "shape" in msg


def test_adam_step_counter_mistake_from_fresh_state_is_nan():
    """Using t before increasing it divides by 1 − β⁰ = 0 on the first step."""
    wrong = optimcheck._variant_trajectory("adam", "t_after", QUAD.grad, QUAD.start, 5, {},
                                      optim.Adam()._hyper())
    assert np.isnan(wrong[1]).all()
    label, _ = optimcheck.diagnose("adam", wrong, QUAD.grad, QUAD.start, 5)
    assert label == "t_after"


# ----------------------------------------------------------- grading pure step functions
def _momentum_step(theta, g, velocity, learning_rate, momentum):
    velocity = momentum * velocity + g
    return theta - learning_rate * velocity, velocity


def _momentum_step_ewma(theta, g, velocity, learning_rate, momentum):
    velocity = momentum * velocity + (1 - momentum) * g
    return theta - learning_rate * velocity, velocity


def _adam_step(theta, g, m, v, t, learning_rate, beta_1, beta_2, epsilon):
    t = t + 1
    m = beta_1 * m + (1 - beta_1) * g
    v = beta_2 * v + (1 - beta_2) * g ** 2
    mh, vh = m / (1 - beta_1 ** t), v / (1 - beta_2 ** t)
    return theta - learning_rate * mh / (np.sqrt(vh) + epsilon), m, v, t


def _adam_step_t_after(theta, g, m, v, t, learning_rate, beta_1, beta_2, epsilon):
    m = beta_1 * m + (1 - beta_1) * g
    v = beta_2 * v + (1 - beta_2) * g ** 2
    mh, vh = m / (1 - beta_1 ** t), v / (1 - beta_2 ** t)
    return theta - learning_rate * mh / (np.sqrt(vh) + epsilon), m, v, t + 1


CASES_GRADE = [((1.5, -0.8), {"velocity": [0.5, -1.0]}), ((-2.0, 0.3), {})]


def test_check_step_accepts_correct_and_names_mistakes():
    h = dict(learning_rate=0.01, momentum=0.8)
    optimcheck.check_step(_momentum_step, "momentum", SURF.grad, CASES_GRADE, **h)
    with pytest.raises(AssertionError, match="EWMA"):
        optimcheck.check_step(_momentum_step_ewma, "momentum", SURF.grad, CASES_GRADE, **h)
    ha = HYPER["adam"]
    cases = [(START, STATE["adam"]), ((0.3, 0.2), {"t": 0})]
    optimcheck.check_step(_adam_step, "adam", SURF.grad, cases, **ha)
    with pytest.raises(AssertionError, match="increased after it is used"):
        optimcheck.check_step(_adam_step_t_after, "adam", SURF.grad, cases, **ha)
    with pytest.raises(AssertionError, match="should return"):
        optimcheck.check_step(lambda th, g, v, **k: th, "momentum", SURF.grad, CASES_GRADE, **h)
    with pytest.raises(AssertionError, match="not answered yet"):
        def _stub(theta, g, velocity, learning_rate, momentum):
            raise NotImplementedError()
        optimcheck.check_step(_stub, "momentum", SURF.grad, CASES_GRADE, **h)
    with pytest.raises(AssertionError, match="whole number"):
        optimcheck.check_step(lambda th, g, m, v, t, **k: (th, m, v, 0.5), "adam", SURF.grad,
                         cases, **ha)


def test_no_floating_point_errors_under_errstate_raise():
    """Extreme but finite gradients and parameters: nothing raises, results stay finite."""
    with np.errstate(all="raise"):
        for name in optim.names():
            opt = optim.get(name, learning_rate=0.1)
            p = np.array([1e300, -1e-300, 0.0, 5e-324])
            for _ in range(3):
                opt.step([p], [np.array([1e-200, -1e200, 0.0, 1e300])])
            assert np.all(np.isfinite(p)), name
        optim.ewma(np.array([1e308, -1e308, 1e-320]), 0.999, bias_correction=True)


# ------------------------------------------- grading AdamW steps (lesson 10, exercise 10.6)
ADAMW_HYPER = dict(learning_rate=0.05, beta_1=0.8, beta_2=0.9, epsilon=0.05, weight_decay=0.3)
ADAMW_STATE = {"m": [0.2, -0.4], "v": [0.3, 1.2], "t": 3}


def _ref_adamw(coupled=False, start=START, steps=40):
    """The scalar reference: AdamW (decoupled) or, with ``coupled``, Adam with L2."""
    h, s = ADAMW_HYPER, ADAMW_STATE
    wd = h["weight_decay"]
    return ref_adam(SURF.grad, start, steps, h["learning_rate"], h["beta_1"], h["beta_2"],
                    h["epsilon"], m=s["m"], v=s["v"], t=s["t"], l2=wd if coupled else 0.0,
                    decoupled=0.0 if coupled else wd)


def test_adamw_reference_and_the_l2_mix_up_are_told_apart():
    h, s = ADAMW_HYPER, ADAMW_STATE
    got = optimcheck._reference_trajectory("adamw", SURF.grad, START, 40, s, h)
    assert_close_traj(got, _ref_adamw())
    assert optimcheck.diagnose("adamw", _ref_adamw(), SURF.grad, START, 40, state=s,
                               **h)[0] == "reference"
    label, msg = optimcheck.diagnose("adamw", _ref_adamw(coupled=True), SURF.grad, START, 40,
                                     state=s, **h)
    assert label == "l2" and "√v̂" in msg, (label, msg)


@pytest.mark.parametrize("mistake", [m for m in optimcheck.mistakes("adamw") if m != "reference"])
def test_every_adamw_mistake_is_visible_and_named(mistake):
    h, s = ADAMW_HYPER, ADAMW_STATE
    ref = _ref_adamw()
    wrong = optimcheck._variant_trajectory("adamw", mistake, SURF.grad, START, 40, s,
                                           optim.AdamW(**h)._hyper())
    assert not np.allclose(wrong, ref, rtol=1e-6, atol=1e-9), f"{mistake} is invisible"
    label, msg = optimcheck.diagnose("adamw", wrong, SURF.grad, START, 40, state=s, **h)
    assert label == mistake, (label, msg)


def _adamw_step(theta, g, m, v, t, learning_rate, beta_1, beta_2, epsilon, weight_decay):
    t = t + 1
    m = beta_1 * m + (1 - beta_1) * g
    v = beta_2 * v + (1 - beta_2) * g * g
    step = learning_rate * m / (1 - beta_1 ** t) / (np.sqrt(v / (1 - beta_2 ** t)) + epsilon)
    return theta * (1 - learning_rate * weight_decay) - step, m, v, t


def _adam_l2_step(theta, g, m, v, t, weight_decay, **hyper):
    return _adamw_step(theta, g + weight_decay * theta, m, v, t, weight_decay=0.0, **hyper)


def test_check_step_grades_adamw_steps():
    h = ADAMW_HYPER
    cases = [(START, ADAMW_STATE), ((0.3, 0.2), {"t": 0})]
    optimcheck.check_step(_adamw_step, "adamw", SURF.grad, cases, **h)
    with pytest.raises(AssertionError, match="L2 form"):
        optimcheck.check_step(_adam_l2_step, "adamw", SURF.grad, cases, **h)
    with pytest.raises(AssertionError, match="not decayed at all"):
        optimcheck.check_step(lambda *a, weight_decay, **k: _adam_step(*a, **k), "adamw",
                              SURF.grad, cases, **h)
    # without decay AdamW is Adam: the same step passes Adam's check
    ha = {k: v for k, v in h.items() if k != "weight_decay"}
    optimcheck.check_step(lambda *a, **k: _adamw_step(*a, weight_decay=0.0, **k), "adam",
                          SURF.grad, cases, **ha)
