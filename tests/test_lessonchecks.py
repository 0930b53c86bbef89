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
        if name in ("gd_growth", "run_two_layer", "check_limits", "check_glued_schedule"):
            continue          # a measurement, a form check, a check of a stated formula, stated requirements
        assert params & given, f"{name} computes its own reference"


# --- lessons 8 and 12 (the capstone) -----------------------------------------------------

def test_the_relu_stack_tells_the_right_variance_from_lecun_and_from_too_large():
    relu = lambda z: np.maximum(z, 0.0)  # noqa: E731

    def layers(scale):
        return lambda sizes, rng: [(rng.normal(0.0, np.sqrt(scale / i), (i, o)), np.zeros(o))
                                   for i, o in zip(sizes[:-1], sizes[1:])]

    lessonchecks.check_relu_stack(layers(2.0), 400, 10, 0, "he", reference=relu)
    for scale in (1.0, 3.0):
        with pytest.raises(AssertionError, match="per layer"):
            lessonchecks.check_relu_stack(layers(scale), 400, 10, 0, "wrong", reference=relu)


def test_batchnorm_backward_harness_compares_all_three_gradients():
    x_hat = np.array([[-1.0], [1.0]]) * np.sqrt(1 / (1 + 1e-5))
    right = lambda xh, s, gamma, g: (np.zeros_like(xh), (g * xh).sum(0), g.sum(0))  # noqa: E731
    g = np.array([[1.0], [1.0]])                                 # equal gradients: dL/dx = 0
    ref = right(x_hat, np.ones(1), np.ones(1), g)
    lessonchecks.check_bn_backward(right, x_hat, np.ones(1), np.ones(1), g, "ok", reference=ref)
    wrong = lambda xh, s, gamma, g: (gamma * g * s, (g * xh).sum(0), g.sum(0))  # noqa: E731 - the draft
    with pytest.raises(AssertionError, match="grad_x of draft"):
        lessonchecks.check_bn_backward(wrong, x_hat, np.ones(1), np.ones(1), g, "draft", reference=ref)


def test_optimiser_steps_compare_the_state_too():
    from actlib import optim

    def right(params, grads, velocity, lr, beta):
        v = [tuple(beta * a + b for a, b in zip(vp, gp)) for vp, gp in zip(velocity, grads)]
        return [tuple(p - lr * a for p, a in zip(pp, vp)) for pp, vp in zip(params, v)], v

    def scaled(params, grads, velocity, lr, beta):           # right parameters, velocity in other units
        new_p, v = right(params, grads, [tuple(a / lr for a in vp) for vp in velocity], lr, beta)
        return new_p, [tuple(lr * a for a in vp) for vp in v]

    lessonchecks.check_steps(right, 1, 3, "m", args=(0.1, 0.9), reference=optim.SGD(0.1, momentum=0.9))
    with pytest.raises(AssertionError, match="velocity after step 1"):
        lessonchecks.check_steps(scaled, 1, 3, "m", args=(0.1, 0.9), reference=optim.SGD(0.1, momentum=0.9))

# --- lessons 9 and 10: the harnesses of the derivation exercises (issue 20) -----------------
def _course_moves(gradients, learning_rate, momentum):
    from actlib import optim
    theta, opt, out = np.zeros(1), optim.SGD(learning_rate, momentum), []
    for g in gradients:
        before = theta[0]
        opt.step([theta], [np.array([float(g)])])
        out.append(theta[0] - before)
    return np.array(out)


def _momentum(theta, grad, velocity, learning_rate, momentum):
    v = momentum * velocity + grad
    return theta - learning_rate * v, v


def test_momentum_moves_right_passes_and_the_ewma_form_fails():
    lessonchecks.check_moves(_momentum, [1, 0, 0], 0.1, 0.9, reference=_course_moves)
    ewma = lambda th, g, v, lr, b: _momentum(th, (1 - b) * g, v, lr, b)
    with pytest.raises(AssertionError, match="the moves theta_k"):
        lessonchecks.check_moves(ewma, [1, 0, 0], 0.1, 0.9, reference=_course_moves)
    old = lambda th, g, v, lr, b: (th - lr * v, b * v + g)
    with pytest.raises(AssertionError, match="new_theta = theta - learning_rate \\* new_velocity"):
        lessonchecks.check_moves(old, [1, 0, 0], 0.1, 0.9, reference=_course_moves)


def _as_written(grad, theta, velocity, learning_rate, momentum, steps):
    th, v, path = np.array(theta, dtype=float), np.array(velocity, dtype=float), []
    for _ in range(steps + 1):
        path.append((th, v))
        v = momentum * v + grad(th - learning_rate * momentum * v)
        th = th - learning_rate * v
    return path


def test_lookahead_accepts_nesterov_and_refuses_plain_momentum():
    grad = lambda p: np.array([2.0, 20.0]) * p
    nesterov = lambda th, g, v, lr, b: (th - lr * (g + b * (b * v + g)), b * v + g)
    lessonchecks.check_lookahead(nesterov, grad, (1.0, 1.0), (0.5, 0.0), 0.05, 0.9, 8, reference=_as_written)
    with pytest.raises(AssertionError, match="stored point"):
        lessonchecks.check_lookahead(_momentum, grad, (1.0, 1.0), (0.5, 0.0), 0.05, 0.9, 8, reference=_as_written)


def test_accumulated_moves_tell_the_conventions_apart():
    from actlib import optim

    def course(gradients, lr, eps, initial):
        theta, out = np.zeros(1), []
        opt = optim.Adagrad(lr, initial_accumulator_value=initial, epsilon=eps)
        for g in gradients:
            before = theta[0]
            opt.step([theta], [np.array([float(g)])])
            out.append(theta[0] - before)
        return np.array(out)
    right = lambda th, g, G, lr, eps: (th - lr * g / (np.sqrt(G + g * g) + eps), G + g * g)
    inside = lambda th, g, G, lr, eps: (th - lr * g / np.sqrt(G + g * g + eps), G + g * g)
    lessonchecks.check_accumulated_moves(right, [3, 4], 1.0, 1.0, 0.0, reference=course)
    with pytest.raises(AssertionError, match="the moves theta_k"):
        lessonchecks.check_accumulated_moves(inside, [3, 4], 1.0, 1.0, 0.0, reference=course)


def test_flip_decay_refuses_the_l2_form():
    from actlib import optim

    def run(steps, opt_cls=optim.AdamW):
        opt, th, path = opt_cls(0.01, weight_decay=0.2), np.ones(2), [np.ones(2)]
        for k in range(steps):
            opt.step([th], [np.array([1.0, 100.0]) * (-1.0) ** k])
            path.append(th.copy())
        return np.array(path)

    def adam(th, g, m, v, t, lr, b1, b2, eps, wd, coupled=False):
        g = g + wd * th if coupled else g
        t, m, v = t + 1, b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        step = lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
        return (th if coupled else th * (1 - lr * wd)) - step, m, v, t
    lessonchecks.check_flip_decay(adam, 0.01, 0.2, 100, reference=run)
    with pytest.raises(AssertionError, match="requirement 2"):
        lessonchecks.check_flip_decay(lambda *a: adam(*a, coupled=True), 0.01, 0.2, 100, reference=run)


def test_glued_schedule_requirements():
    import math

    def glued(step, total, warm, base, low, start_factor=1 / 3):
        if step < warm:
            return base * (start_factor + (1 - start_factor) * step / warm)
        return low + (base - low) * (1 + math.cos(math.pi * (step - warm) / (total - warm))) / 2
    lessonchecks.check_glued_schedule(glued, 100, 10, 0.1, 0.001)
    lessonchecks.check_glued_schedule(glued, 30, 7, 2.0, 0.5, start_factor=0.5)
    unshifted = lambda s, T, w, b, lo, start_factor=1 / 3: glued(s, T, w, b, lo, start_factor) if s < w else \
        lo + (b - lo) * (1 + math.cos(math.pi * s / T)) / 2
    with pytest.raises(AssertionError, match="at step 10"):
        lessonchecks.check_glued_schedule(unshifted, 100, 10, 0.1, 0.001)
    linear = lambda s, T, w, b, lo, start_factor=1 / 3: glued(s, T, w, b, lo, start_factor) if s < w else \
        b + (lo - b) * (s - w) / (T - w)
    with pytest.raises(AssertionError, match="flat at both ends"):
        lessonchecks.check_glued_schedule(linear, 100, 10, 0.1, 0.001)


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


# --- issue 20, lessons 3 and 7: exercise 3.1 (the sigmoid from the log-odds) and 7.1 (the
# quotient rule from the product and chain rules) ---------------------------------------------

def _sigmoid(z):
    return 1 / (1 + np.exp(-np.asarray(z, dtype=float)))


def test_logodds_inverse_right_passes_in_any_form():
    for right in (_sigmoid, lambda z: np.exp(z) / (1 + np.exp(z)), lambda z: 0.5 * (1 + np.tanh(np.asarray(z) / 2))):
        lessonchecks.check_logodds_inverse(right, [0.0, 2.0, -3, np.array([[-5.0, 0.5], [5.0, 1.0]])],
                                           "sigmoid_naive", reference=_sigmoid)


@pytest.mark.parametrize("wrong, message", [
    (lambda z: 1 / (1 + np.exp(np.asarray(z, dtype=float))), "log-odds"),          # sigma(-z)
    (lambda z: np.asarray(z, dtype=float), "strictly between 0 and 1"),             # not a probability
    (lambda z: np.exp(z) / (2 + np.exp(z)), "log-odds"),                            # a shifted logit
])
def test_logodds_inverse_wrong_fails_with_the_cells_message(wrong, message):
    with pytest.raises(AssertionError, match=message):
        lessonchecks.check_logodds_inverse(wrong, [2.0, np.array([-5.0, 0.5, 5.0])], "sigmoid_naive",
                                           reference=_sigmoid)


def test_logodds_inverse_catches_an_input_changed_in_place():
    def in_place(z):
        out = _sigmoid(z)
        if isinstance(z, np.ndarray):
            z *= 2
        return out

    with pytest.raises(AssertionError, match="in place"):
        lessonchecks.check_logodds_inverse(in_place, [np.array([-1.0, 1.0])], "sigmoid_naive",
                                           reference=_sigmoid)


def _quotient_steps(u, v, du, dv):
    d_reciprocal = -dv / v**2
    derivative = du / v + u * d_reciprocal
    return d_reciprocal, derivative, (derivative * v**2).expand()


def _quotient_cases():
    import sympy as sp
    x = sp.Symbol("x", real=True)
    p, q, dp, dq = sp.symbols("p q dp dq", real=True)
    symbolic = ((p, q, dp, dq), dict(reference=(-dq / q**2, dp / q - p * dq / q**2, q * dp - p * dq)))
    f, g = sp.sin(x), 2 + sp.cos(x)
    d = sp.diff(f / g, x)
    functional = ((p, q, dp, dq), dict(functions=(f, g), reference=(sp.diff(1 / g, x), d, d * g**2)))
    return x, [symbolic, functional]


def test_quotient_rule_right_passes_in_any_form():
    import sympy as sp
    x, cases = _quotient_cases()

    def other_form(u, v, du, dv):
        w = sp.Symbol("w", positive=True)
        inner = sp.diff(1 / w, w).subs(w, v) * dv
        total = sp.together(du / v + u * inner)
        return [inner, total, sp.cancel(total * v * v)]

    for fn in (_quotient_steps, other_form):
        for args, kwargs in cases:
            lessonchecks.check_quotient(fn, args, "quotient_rule", **kwargs)


def test_quotient_rule_wrong_fails_with_the_cells_message():
    import sympy as sp
    x, cases = _quotient_cases()
    wrong = {
        "every step": lambda u, v, du, dv: (sp.diff(1 / v, x), sp.diff(u / v, x), sp.diff(u / v, x) * v**2),
        "polynomial": lambda u, v, du, dv: (*_quotient_steps(u, v, du, dv)[:2], _quotient_steps(u, v, du, dv)[1] * v),
        "differs": lambda u, v, du, dv: (dv / v**2, du / v + u * dv / v**2, v * du + u * dv),
        "alone": lambda u, v, du, dv: _quotient_steps(*sp.symbols("u v du dv", real=True)),
        "the tuple": lambda u, v, du, dv: _quotient_steps(u, v, du, dv)[1],
    }
    for message, fn in wrong.items():
        for args, kwargs in cases:
            with pytest.raises(AssertionError, match=message):
                lessonchecks.check_quotient(fn, args, "quotient_rule", **kwargs)
