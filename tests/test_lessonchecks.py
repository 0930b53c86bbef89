"""The harnesses the short visible test cells call (actlib.grading.lessonchecks): a right
answer passes, a wrong one fails with the cell's message, and the module computes no answer
(every reference is passed in by the test cell)."""
import inspect

import numpy as np
import pytest

from actlib.grading import lessonchecks


def reference_epoch(theta, x, y, learning_rate, batch_size, rng):
    order = rng.permutation(len(x))
    path = [np.array(theta, dtype=float)]
    for idx in np.array_split(order, np.arange(batch_size, len(x), batch_size)):
        X = np.column_stack([x[idx], np.ones(len(idx))])
        path.append(path[-1] - learning_rate * 2 * X.T @ (X @ path[-1] - y[idx]) / len(idx))
    return np.array(path)


X3, Y3 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 3.0, 5.0])


def test_an_epoch_right_passes_and_its_path_is_returned():
    path = lessonchecks.check_epoch(reference_epoch, np.zeros(2), X3, Y3, 0.1, 2,
                                    np.random.default_rng(0), data="the example", seed=0,
                                    reference=reference_epoch)
    assert path.shape == (3, 2)


@pytest.mark.parametrize("wrong, message", [
    (lambda t, x, y, lr, b, rng: reference_epoch(t, x, y, lr, b, rng)[:-1], "returned shape"),
    (lambda t, x, y, lr, b, rng: reference_epoch(t, x, y, 2 * lr, b, rng), "minibatch_epoch on"),
    (lambda t, x, y, lr, b, rng: (reference_epoch(t, x, y, lr, b, rng), rng.random())[0],
     "the generator was not left"),
])
def test_a_wrong_epoch_fails_with_the_cells_message(wrong, message):
    with pytest.raises(AssertionError, match=message):
        lessonchecks.check_epoch(wrong, np.zeros(2), X3, Y3, 0.1, 2, np.random.default_rng(0),
                                 data="the example", seed=0, reference=reference_epoch)


def test_an_epoch_that_changes_its_input_fails():
    def in_place(theta, x, y, lr, b, rng):
        out = reference_epoch(theta, x, y, lr, b, rng)
        x[0] = 9.0
        return out

    with pytest.raises(AssertionError, match="changed its argument x in place"):
        lessonchecks.check_epoch(in_place, np.zeros(2), X3, Y3, 0.1, 2, np.random.default_rng(0),
                                 reference=reference_epoch)


def test_learning_rate_limits_right_and_wrong():
    right = lambda x, y: (1 / (2 * np.mean(np.square(x))), 1 / np.mean(np.square(x)))  # noqa: E731
    lessonchecks.check_limits(right, np.array([1.0, 2.0, 2.0]), np.array([0.0, 5.0, -1.0]), "l")
    too_large = lambda x, y: (right(x, y)[0], 1.1 * right(x, y)[1])  # noqa: E731
    with pytest.raises(AssertionError, match="too large"):
        lessonchecks.check_limits(too_large, np.array([1.0, 2.0, 2.0]), np.array([0.0, 5.0, -1.0]), "l")


def test_none_and_counts_are_told_apart():
    reference = lambda *args: None  # noqa: E731
    lessonchecks.check_cost(lambda *a, **k: None, X3, Y3, 0.1, 1, 0.0, 0, reference=reference)
    with pytest.raises(AssertionError, match="so the answer is None"):
        lessonchecks.check_cost(lambda *a, **k: (3, 9), X3, Y3, 0.1, 1, 0.0, 0, reference=reference)
    with pytest.raises(AssertionError, match="should return an int"):
        lessonchecks.check_epochs(lambda *a, **k: 4.0, X3, Y3, 0.1, 0.0,
                                  reference=lambda *a: 4)


def test_every_harness_takes_its_reference_from_the_test_cell():
    """Nothing here computes an exercise's answer: each harness of an answer is given its
    reference (or the grader's own cost and forward pass) by the test cell."""
    given = {"reference", "exact", "cost"}
    for name in lessonchecks.__all__:
        params = set(inspect.signature(getattr(lessonchecks, name)).parameters)
        if name in ("gd_growth", "run_two_layer", "check_limits"):
            continue          # a measurement, a form check, a check of a stated formula
        assert params & given, f"{name} computes its own reference"


# --- lesson 7 -------------------------------------------------------------------------------

def test_second_poly_right_passes_and_wrong_or_in_x_fails():
    import sympy as sp

    x, u = sp.symbols("x u", real=True)
    right = lambda P, v: sp.diff(P, v) * P
    got = lessonchecks.check_second_poly(right, u * (1 - u), u, "P2", reference=u * (1 - u) * (1 - 2 * u),
                                         f=1 / (1 + sp.exp(-x)), f2=sp.diff(1 / (1 + sp.exp(-x)), x, 2))
    assert sp.expand(got - u * (1 - u) * (1 - 2 * u)) == 0
    with pytest.raises(AssertionError, match="differs"):
        lessonchecks.check_second_poly(lambda P, v: sp.diff(P, v, 2), u * (1 - u), u, "P2",
                                       reference=u * (1 - u) * (1 - 2 * u))
    with pytest.raises(AssertionError, match="alone"):
        lessonchecks.check_second_poly(lambda P, v: sp.diff(1 / (1 + sp.exp(-x)), x, 2), u * (1 - u), u,
                                       "P2", reference=u * (1 - u) * (1 - 2 * u))


def test_selu_check_uses_the_moments_it_is_given():
    moments = lambda a, lam: (lam * (a - 1.0), lam**2)     # a toy closed form: a = 1 + m/lam, lam = sqrt(v)
    fn = lambda mean=0.0, variance=1.0: (1 + mean / np.sqrt(variance), np.sqrt(variance))
    assert lessonchecks.check_selu(fn, 0.1, 1.5, reference=moments) == pytest.approx(fn(0.1, 1.5))
    with pytest.raises(AssertionError, match="output mean"):
        lessonchecks.check_selu(lambda mean=0.0, variance=1.0: (1.0, 1.0), 0.1, 1.0, reference=moments)
    with pytest.raises(AssertionError, match="pair"):
        lessonchecks.check_selu(lambda mean=0.0, variance=1.0: 1.0, 0.0, 1.0, reference=moments)
