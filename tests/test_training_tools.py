"""Tests of the training tools: AdamW and L2 weight decay in Adam, gradient clipping by norm,
learning-rate schedules and the mini-batch partition.

Each is checked against an independent version of ``torch.optim``'s published update rules
and scheduler formulas (scalar Python loops sharing nothing with the library; Adam's is the
reference of tests/test_optim.py, given its two kinds of weight decay),
on values worked out by hand where torch's documentation gives them, and on its properties
(what decoupling changes, what clipping keeps)."""
import math

import numpy as np
import pytest

from actlib import data, optim, schedules
from actlib import surfaces as S
from test_optim import lib_trajectory as trajectory
from test_optim import ref_adam

QUAD = S.Quadratic(condition_number=10.0, smallest=1.0)
ROSEN = S.Rosenbrock()


@pytest.mark.parametrize("surface, lr", [(QUAD, 0.05), (ROSEN, 0.01)], ids=["quadratic", "rosenbrock"])
@pytest.mark.parametrize("kind", ["adamw", "adam_l2"])
def test_weight_decay_matches_torch_rules(surface, lr, kind):
    if kind == "adamw":
        got = trajectory(optim.AdamW(lr, weight_decay=0.1), surface.grad, surface.start, 200)
        expected = ref_adam(surface.grad, surface.start, 200, lr, decoupled=0.1)
    else:
        got = trajectory(optim.Adam(lr, weight_decay=0.1), surface.grad, surface.start, 200)
        expected = ref_adam(surface.grad, surface.start, 200, lr, l2=0.1)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_adamw_defaults_are_torchs_and_zero_decay_is_adam():
    w = optim.AdamW()
    assert (w.learning_rate, w.beta_1, w.beta_2, w.epsilon, w.weight_decay) == (
        0.001, 0.9, 0.999, 1e-8, 0.01)
    a = trajectory(optim.AdamW(0.05, weight_decay=0.0), QUAD.grad, QUAD.start, 50)
    b = trajectory(optim.Adam(0.05), QUAD.grad, QUAD.start, 50)
    np.testing.assert_array_equal(a, b)
    assert repr(optim.AdamW(0.1)).endswith("weight_decay=0.01)")


def test_decoupled_decay_shrinks_every_weight_alike_and_l2_does_not():
    """With zero loss gradient on one weight and a large one on the other, AdamW shrinks
    both by 1 − ηλ per step; Adam's L2 term is divided by √v̂, so the weight with the large
    gradient is barely decayed by it while the idle one is pulled hard."""
    lr, lam = 0.01, 0.1
    start = np.array([1.0, 1.0])
    grad = lambda p: np.array([0.0, 100.0])          # noqa: E731 - weight 0 idle, 1 busy
    for_w = trajectory(optim.AdamW(lr, weight_decay=lam), grad, start, 1)[-1]
    assert for_w[0] == pytest.approx(1.0 - lr * lam, rel=1e-12)
    l2 = trajectory(optim.Adam(lr, weight_decay=lam), grad, start, 1)[-1]
    # idle weight: its only gradient is λθ, so Adam normalises it to a full step of size lr
    assert l2[0] == pytest.approx(1.0 - lr, rel=1e-6)         # up to epsilon
    # busy weight: λθ = 0.1 next to 100 changes the step by about 0.1 %
    plain = trajectory(optim.Adam(lr), grad, start, 1)[-1]
    assert abs(l2[1] - plain[1]) < 1e-3 * lr


def norm(grads):
    return math.sqrt(sum(float(v) ** 2 for g in grads for v in np.ravel(g)))


def test_clip_grad_norm_matches_torch_and_keeps_direction():
    rng = np.random.default_rng(0)
    grads = [rng.normal(size=(3, 4)), rng.normal(size=5)]
    before = [g.copy() for g in grads]
    total = optim.clip_grad_norm(grads, 1.0)
    assert total == pytest.approx(norm(before), rel=1e-12)
    coef = 1.0 / (norm(before) + 1e-6)
    for g, b in zip(grads, before):
        np.testing.assert_allclose(g, b * coef, rtol=1e-12)
    assert norm(grads) == pytest.approx(1.0, rel=1e-5)
    # below the limit nothing changes
    small = [np.array([0.3, 0.4])]
    assert optim.clip_grad_norm(small, 1.0) == pytest.approx(0.5)
    np.testing.assert_array_equal(small[0], [0.3, 0.4])
    assert optim.clip_grad_norm([np.array([3.0, 4.0]), np.array([12.0])], 13.0) == 13.0


def test_clip_grad_norm_at_extremes_and_errors():
    huge = [np.array([3e200, 4e200])]
    assert optim.clip_grad_norm(huge, 1.0) == pytest.approx(5e200)
    np.testing.assert_allclose(huge[0], [0.6, 0.8], rtol=1e-9)
    zeros = [np.zeros(3)]
    assert optim.clip_grad_norm(zeros, 1.0) == 0.0
    with pytest.raises(ValueError, match="max_norm"):
        optim.clip_grad_norm([np.ones(2)], 0.0)
    with pytest.raises(TypeError, match="floating-point NumPy array"):
        optim.clip_grad_norm([[1.0, 2.0]], 1.0)
    with pytest.raises(TypeError, match="non-empty list"):
        optim.clip_grad_norm([], 1.0)


# ------------------------------------------------------------------------------ schedules

def test_schedules_equal_torch_formulas():
    for t in range(0, 120):
        assert schedules.step_decay(t, 0.05, 30, 0.1) == pytest.approx(0.05 * 0.1 ** (t // 30))
        assert schedules.exponential(t, 0.1, 0.95) == pytest.approx(0.1 * 0.95 ** t)
        assert schedules.cosine(t, 0.1, 100, 0.001) == pytest.approx(
            0.001 + (0.1 - 0.001) * (1 + math.cos(math.pi * t / 100)) / 2)
        assert schedules.inverse_sqrt(t, 0.2) == pytest.approx(0.2 / math.sqrt(t + 1))


def test_schedules_on_torchs_documented_examples():
    # StepLR(step_size=30, gamma=0.1) from lr 0.05: 0.05 for t < 30, 0.005 for 30 <= t < 60
    assert [schedules.step_decay(t, 0.05, 30) for t in (0, 29, 30, 59, 60)] == pytest.approx(
        [0.05, 0.05, 0.005, 0.005, 0.0005])
    # LinearLR(start_factor=0.5, total_iters=4) from lr 0.05
    assert [schedules.warmup(t, 0.05, 4, 0.5) for t in range(6)] == pytest.approx(
        [0.025, 0.03125, 0.0375, 0.04375, 0.05, 0.05])
    # CosineAnnealingLR: eta_max at 0, the middle at T/2, eta_min at T
    assert schedules.cosine(0, 0.1, 10) == 0.1
    assert schedules.cosine(5, 0.1, 10, 0.02) == pytest.approx(0.06)
    assert schedules.cosine(10, 0.1, 10, 0.02) == pytest.approx(0.02)


def test_inverse_sqrt_is_adagrads_decay_for_a_constant_gradient():
    """Adagrad's effective rate η/(√G + ε) under a constant gradient g falls like 1/√t: its
    ratio to the 1/√(t + 1) schedule tends to a constant (1/|g|)."""
    g, lr = 2.0, 0.1
    opt = optim.Adagrad(lr, initial_accumulator_value=0.0, epsilon=1e-12)
    p = np.zeros(1)
    ratios = []
    for t in range(1, 2001):
        opt.step([p], [np.array([g])])
        effective = lr / math.sqrt(float(opt.accumulator[0][0]))
        ratios.append(effective / schedules.inverse_sqrt(t - 1, lr))
    assert ratios[-1] == pytest.approx(1 / g, rel=1e-12)
    assert max(ratios) == pytest.approx(min(ratios), rel=1e-12)


def test_rates_and_schedule_errors():
    np.testing.assert_allclose(schedules.rates("exponential", 4, 1.0, gamma=0.5),
                               [1.0, 0.5, 0.25, 0.125])
    assert schedules.names() == ["step_decay", "exponential", "cosine", "warmup", "inverse_sqrt"]
    with pytest.raises(ValueError, match="unknown schedule 'linear'"):
        schedules.rates("linear", 3, 0.1)
    with pytest.raises(ValueError, match="t \\(the number of steps taken\\)"):
        schedules.cosine(-1, 0.1, 10)
    with pytest.raises(ValueError, match="min_lr must be at most 0.1"):
        schedules.cosine(0, 0.1, 10, min_lr=0.2)
    with pytest.raises(ValueError, match="gamma must be at most 1.0"):
        schedules.exponential(0, 0.1, 1.5)


# ------------------------------------------------------------------------------ mini-batches

def test_minibatches_partition_every_row_once_and_keep_pairs():
    X = np.arange(23 * 2, dtype=float).reshape(23, 2)
    y = np.arange(23)
    batches = data.minibatches(X, y, 5, rng=np.random.default_rng(3))
    assert [len(b[1]) for b in batches] == [5, 5, 5, 5, 3]
    seen = np.concatenate([b[1] for b in batches])
    assert sorted(seen.tolist()) == list(range(23)) and seen.tolist() != list(range(23))
    for Xb, yb in batches:
        np.testing.assert_array_equal(Xb, X[yb])
    again = data.minibatches(X, y, 5, rng=np.random.default_rng(3))
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(batches, again))
    ordered = data.minibatches(X, y, 10, shuffle=False)
    assert [b[1].tolist() for b in ordered] == [list(range(10)), list(range(10, 20)),
                                                [20, 21, 22]]
    assert len(data.minibatches(X, y, 23)) == 1 and len(data.minibatches(X, y, 1)) == 23


def test_minibatch_errors():
    with pytest.raises(ValueError, match="same number of rows"):
        data.minibatches(np.zeros((3, 2)), np.zeros(4), 2)
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1"):
        data.minibatches(np.zeros((3, 2)), np.zeros(3), 0)
