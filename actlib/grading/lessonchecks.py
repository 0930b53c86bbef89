"""The long harnesses of some lessons' test cells, so that a visible test cell reads at a
glance: what it checks (its docstring and a few calls), not 30 lines of plumbing.

A harness here calls the student's function (through `checks.call_checked`), checks that the
inputs come back unchanged and that the result has the right form, and compares it with a
*reference the test cell passes in*. The references stay in the test cells on purpose: this
module is importable from the student's kernel, so nothing here computes an exercise's answer
(a student who called a harness would only be checked by it). Every check and message is the
one the test cell had.
"""
import numpy as np

from actlib.grading import checks

__all__ = ["gd_growth", "check_limits", "check_numeric_grad", "check_backward", "run_two_layer",
           "check_first_update", "check_learns",
           "check_epoch", "check_cost", "check_epochs",
           "check_quotient", "check_second_poly", "check_in_outputs", "check_selu"]


# --- lesson 2 -------------------------------------------------------------------------------

def gd_growth(x, y, eta, steps=1000):
    """|w - w*| after the steps divided by |w - w*| at the start (w = w* + 1), gradient
    descent on mean((w x - y)^2); stops early once the error has grown a million-fold."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    scale = np.max(np.abs(x))
    xs = x / scale                          # the same problem in units where x is O(1) ...
    ys = y / max(np.max(np.abs(y)), 1.0)    # ... and targets at most 1 (they only move w*)
    ws = np.mean(xs * ys) / np.mean(xs * xs)
    w, eta_s = ws + 1.0, eta * scale ** 2
    for _ in range(steps):
        w = w - eta_s * 2 * np.mean(xs * (w * xs - ys))
        if abs(w - ws) > 1e6:
            break
    return abs(w - ws)


def check_limits(fn, x, y, label, *, growth=gd_growth):
    """Exercise 2.1: ``fn(x, y)`` returns (eta_one_step, eta_max); gradient descent with
    0.98 and 1.02 times eta_max must converge and diverge (``growth(x, y, eta)``: the error's
    growth after 1000 steps), and both rates must be right."""
    xin, yin = np.array(x, dtype=float), np.array(y, dtype=float)
    got = checks.call_checked(fn, (x if isinstance(x, list) else xin,
                                   y if isinstance(y, list) else yin), name=label)
    assert np.array_equal(xin, np.asarray(x, dtype=float)) and \
        np.array_equal(yin, np.asarray(y, dtype=float)), f"{label} changed x or y in place"
    assert isinstance(got, (tuple, list)) and len(got) == 2, \
        f"{label} should return a tuple (eta_one_step, eta_max), got {got!r:.200}"
    one, most = (float(checks.as_array(v, n)) for v, n in zip(got, ("eta_one_step", "eta_max")))
    assert np.isfinite(most) and most > 0, \
        f"{label}: eta_max should be a positive number, got {most!r}"
    below, above = growth(x, y, 0.98 * most), growth(x, y, 1.02 * most)
    assert below < 1e-6, (f"{label}: gradient descent with 0.98 × your eta_max = "
                          f"{0.98 * most:.6g} does not converge (the error is still {below:.3g} "
                          f"times its start after 1000 steps): your eta_max is too large")
    assert above > 1e3, (f"{label}: gradient descent with 1.02 × your eta_max = "
                         f"{1.02 * most:.6g} does not diverge (the error is {above:.3g} times its "
                         f"start after 1000 steps): your eta_max is too small")
    m2 = np.mean(xin * xin)
    checks.check_value(most, 1 / m2, name=f"eta_max of {label}", rtol=1e-9, atol=0)
    checks.check_value(one, 1 / (2 * m2), name=f"eta_one_step of {label}", rtol=1e-9, atol=0,
                       convention="one step from any w lands exactly on w*")


def check_numeric_grad(fn, x, W, b, name, delta, label, h=1e-6, *, exact, reference=None):
    """Exercise 2.3: ``fn(x, W, b, name, delta, h=h)`` against ``exact(x, W, b, name,
    delta)`` (the exact gradient), or against ``reference(x, W, b, name, delta, h)`` (the
    central difference) when given; W must come back unchanged bit for bit."""
    Win = W.copy()
    got = checks.call_checked(fn, (x, Win, b, name, delta), {"h": h}, name=label)
    assert np.array_equal(Win, W), (f"{label} changed W in place (even by one rounding error); "
                                    f"perturb copies of W instead")
    checks.check_shape(got, W.shape, label)
    if reference is None:
        checks.check_value(got, exact(x, W, b, name, delta), name=label,
                           rtol=1e-5, atol=1e-8, context=" (compared with the exact gradient)")
    else:
        checks.check_value(got, reference(x, W, b, name, delta, h), name=label,
                           rtol=1e-7, atol=1e-9,
                           context=f" (compared with the central difference at h={h})",
                           convention="central difference (L(W + hE) − L(W − hE)) / 2h")


def check_backward(fn, x, W, b, g, delta, label, *, reference, numeric=False):
    """Exercise 2.4: ``fn(x, W, b, g, delta)`` returns (grad_x, grad_W, grad_b), each equal
    to ``reference(x, W, b, g, delta)``'s (the course's layer, or finite differences when
    ``numeric``, compared less tightly)."""
    got = checks.call_checked(fn, (x, W, b, g, delta), name=label)
    assert isinstance(got, tuple) and len(got) == 3, \
        f"{label} should return a tuple of 3 arrays (grad_x, grad_W, grad_b)"
    refs = reference(x, W, b, g, delta)
    how = " (compared with finite differences)" if numeric else " (compared with the course's nn.Dense)"
    for part, ref, what in zip(got, refs, ("grad_x", "grad_W", "grad_b")):
        checks.check_value(part, ref, name=f"{what} of {label}", rtol=1e-5 if numeric else 1e-9,
                           atol=1e-8 if numeric else 1e-12, context=how)


def run_two_layer(fn, X, y, seed, label, hidden=8, epochs=500, lr=1.0):
    """Exercise 2.5: call ``fn(X, y, seed, hidden=, epochs=, learning_rate=)``, check X and y
    come back unchanged and the result is (losses of length epochs, [W1, b1, W2, b2] of the
    right shapes); return (losses, params) as float arrays."""
    Xin, yin = np.array(X, copy=True), np.array(y, copy=True)
    got = checks.call_checked(fn, (Xin, yin, seed),
                              {"hidden": hidden, "epochs": epochs, "learning_rate": lr}, name=label)
    assert np.array_equal(Xin, X) and np.array_equal(yin, y), f"{label} changed X or y in place"
    assert isinstance(got, (tuple, list)) and len(got) == 2, \
        f"{label} should return a tuple (losses, params), got {type(got).__name__}"
    losses, params = got
    checks.check_shape(losses, (epochs,), f"the losses returned by {label}")
    assert isinstance(params, (tuple, list)) and len(params) == 4, \
        f"{label} should return params as a list [W1, b1, W2, b2]"
    shapes = [(X.shape[1], hidden), (hidden,), (hidden, 1), (1,)]
    names = ("W1", "b1", "W2", "b2")
    params = [checks.as_array(a, f"{n} returned by {label}") for a, n in zip(params, names)]
    for a, s, n in zip(params, shapes, names):
        checks.check_shape(a, s, f"{n} returned by {label}")
    return checks.as_array(losses, f"the losses returned by {label}"), params


def check_first_update(fn, X, y, seed, label, hidden=8, lr=0.5, h=1e-6, *, init, cost):
    """Exercise 2.5: one update of ``fn`` from ``init(seed, d, hidden)`` moves every
    parameter by learning_rate times the central-difference gradient of ``cost(params, X,
    y)`` (the grader's own cost)."""
    _, after = run_two_layer(fn, X, y, seed, label, hidden, 1, lr)
    start = [np.array(a, dtype=float) for a in init(seed, X.shape[1], hidden)]
    for k, n in enumerate(("W1", "b1", "W2", "b2")):
        fd = np.zeros_like(start[k])
        for idx in np.ndindex(fd.shape):
            up = [a.copy() for a in start]
            up[k][idx] += h
            dn = [a.copy() for a in start]
            dn[k][idx] -= h
            fd[idx] = (cost(up, X, y) - cost(dn, X, y)) / (2 * h)
        checks.check_value((start[k] - after[k]) / lr, fd,
                           name=f"(initial {n} − {n} after one update) / learning_rate, {label}",
                           rtol=1e-5, atol=1e-8,
                           context=" (compared with the finite-difference gradient)",
                           convention="one update is theta − learning_rate × dL/dtheta")


def check_learns(fn, X, y, seed, label, hidden=8, epochs=500, lr=1.0, *, init, cost, forward):
    """Exercise 2.5: the first cost is ``cost`` at ``init(seed, d, hidden)``, the cost falls
    below a tenth of it, and the trained network (``forward(params, X)``, the grader's own)
    classifies every point right."""
    losses, params = run_two_layer(fn, X, y, seed, label, hidden, epochs, lr)
    start = [np.array(a, dtype=float) for a in init(seed, X.shape[1], hidden)]
    checks.check_value(losses[0], cost(start, X, y), name=f"the first cost of {label}",
                       rtol=1e-9, atol=1e-12,
                       convention="entry 0 is the mean cross-entropy at init_two_layer(seed, d, "
                                  "hidden), before any update")
    assert np.all(np.isfinite(losses)) and losses[-1] < 0.1 * losses[0], (
        f"{label}: the cost went from {losses[0]:.4g} to {losses[-1]:.4g}; it should fall "
        f"below a tenth of its start")
    pred = (forward(params, X) > 0.5).astype(float)
    checks.check_value(pred, np.asarray(y, dtype=float),
                       name=f"the predictions of the network trained by {label}",
                       rtol=0, atol=0, convention="label 1 exactly where the output exceeds 0.5")


# --- lesson 7 -------------------------------------------------------------------------------

def check_quotient(steps, u, v, label, *, reference):
    """Exercise 7.1: ``steps`` (the answer for ``u``, ``v``) is the tuple (du, dv, numerator,
    result); each entry equals its counterpart in ``reference`` (the test cell's), and
    ``result`` is the answer's own numerator divided by ``v**2``, as written."""
    import sympy as sp

    du, dv, numerator, result = reference
    assert isinstance(steps, (tuple, list)) and len(steps) == 4, (
        f"{label} should return the tuple (du, dv, numerator, result), got {steps!r:.200}")
    got_du, got_dv, got_num, got_res = (sp.sympify(e) for e in steps)
    checks.check_expression(got_du, du, name=f"du of {label}")
    checks.check_expression(got_dv, dv, name=f"dv of {label}")
    checks.check_expression(got_num, numerator, name=f"numerator of {label}", domain=(-5, 5))
    checks.check_expression(got_res, result, name=f"result of {label}", domain=(-5, 5))
    expected_form = got_num / v**2
    assert sp.srepr(got_res) == sp.srepr(expected_form), (
        f"result of {label} should be your numerator divided by v**2, i.e. `numerator / v**2` "
        f"= {expected_form}, got {got_res}")


def check_second_poly(fn, P, u, label, *, reference, f=None, f2=None, domain=(-3, 3), rng_seed=0):
    """Exercise 7.2: ``fn(P, u)`` is a SymPy expression in ``u`` alone, equal to ``reference``
    for ``u`` in ``domain``; given ``f`` (an expression in x with f' = P(f)) and ``f2`` (its
    second derivative), the answer at u = f must equal f2."""
    import sympy as sp

    got = checks.call_checked(fn, (P, u), name=label)
    if isinstance(got, int) and not isinstance(got, bool):
        got = sp.Integer(got)
    assert isinstance(got, sp.Expr), (
        f"{label} should return a SymPy expression in {u}, got {type(got).__name__}: {got!r:.200}")
    extra = sorted(str(s) for s in got.free_symbols if s.name != u.name)
    assert not extra, (f"{label} should be an expression in {u} alone (you get only P, not f), "
                       f"but it contains {', '.join(extra)}: {got}")
    checks.check_expression(got, reference, name=label, symbols={u.name: domain}, rng_seed=rng_seed)
    if f is not None:
        at_f = got.subs({s: f for s in got.free_symbols})
        checks.check_expression(at_f, f2, name=f"{label} at {u} = {f}", rng_seed=rng_seed + 1)
    return got


def check_in_outputs(fn, s, outputs, label, *, reference, rng_seed=0):
    """Exercise 7.4: ``fn(s)`` (``s`` a list of symbols standing for the outputs) is a square
    ``sp.Matrix`` in those symbols alone; with ``s`` replaced by ``outputs`` (expressions in
    the logits) it equals ``reference``."""
    import sympy as sp

    got = checks.call_checked(fn, (list(s),), name=label)
    n = len(s)
    assert isinstance(got, sp.MatrixBase) and got.shape == (n, n), (
        f"{label} should return a {n} x {n} sp.Matrix, got {got!r:.200}")
    names = {v.name for v in s}
    extra = sorted({str(v) for v in got.free_symbols if v.name not in names})
    assert not extra, (f"{label} should be written in the outputs {', '.join(sorted(names))} alone "
                       f"(your function gets no logits), but it contains {', '.join(extra)}")
    by_name = {v.name: o for v, o in zip(s, outputs)}
    filled = got.subs({v: by_name[v.name] for v in got.free_symbols}, simultaneous=True)
    checks.check_expression(filled, reference, name=f"{label} with s = softmax(logits)",
                            rng_seed=rng_seed)

def check_selu(fn, mean, variance, *, reference):
    """Exercise 7.8: ``fn(mean=..., variance=...)`` returns a pair (alpha, lam) of positive
    numbers whose output mean and variance, by ``reference(alpha, lam)`` (the test cell's
    closed forms of the moments), match the targets within 1e-8; returns the pair."""
    label = f"selu_parameters(mean={mean}, variance={variance})"
    got = checks.call_checked(fn, (), {"mean": mean, "variance": variance}, name=label)
    assert isinstance(got, (tuple, list)) and len(got) == 2, (
        f"{label} should return the pair (alpha, lam), got {got!r:.200}")
    a, lam = (float(checks.as_array(v, label)) for v in got)
    assert a > 0 and lam > 0, f"{label} returned alpha = {a}, lam = {lam}; both must be positive"
    m, v = reference(a, lam)
    checks.check_value(m, mean, name=f"the output mean for your {label}", rtol=0, atol=1e-8)
    checks.check_value(v, variance, name=f"the output variance for your {label}", rtol=0, atol=1e-8)
    return a, lam

# --- lesson 9 -------------------------------------------------------------------------------

def check_epoch(fn, theta, x, y, learning_rate, batch_size, rng, data="this lesson's data",
                seed=None, *, reference):
    """Exercise 9.2: one epoch ``fn(theta, x, y, learning_rate, batch_size, rng)`` equals
    ``reference`` called with a generator in the same state (the path of theta, one row per
    update), leaves its inputs unchanged and leaves ``rng`` as one permutation leaves it.
    Returns the path."""
    start = np.round(np.asarray(theta, dtype=float), 6).tolist()
    label = (f"minibatch_epoch on {data} (n = {len(x)}), theta={start}, "
             f"learning_rate={learning_rate}, batch_size={batch_size}"
             + (f", rng=np.random.default_rng({seed})" if seed is not None else ""))
    ins = [np.array(theta, dtype=float), np.array(x, dtype=float), np.array(y, dtype=float)]
    before = rng.bit_generator.state
    got = checks.call_checked(fn, (*ins, learning_rate, batch_size, rng), name=label)
    for a, b, n in zip(ins, (theta, x, y), ("theta", "x", "y")):
        assert np.array_equal(a, b), (f"{label} changed its argument {n} in place; "
                                      f"return a new array and leave the inputs unchanged")
    ref_rng = np.random.default_rng()
    ref_rng.bit_generator.state = before
    want = reference(theta, x, y, learning_rate, batch_size, ref_rng)
    rows = len(want)
    arr = checks.as_array(got, label)
    assert arr.shape == (rows, 2), (
        f"{label} returned shape {arr.shape}, expected ({rows}, 2): the starting theta, then "
        f"one row per update — {rows - 1} batches of {batch_size} (the last one smaller when "
        f"{batch_size} does not divide {len(x)})")
    checks.check_value(got, want, name=label, rtol=1e-10, atol=1e-12,
                       convention="order = rng.permutation(n) once, batches order[0:B], "
                                  "order[B:2B], ...; each step averages the gradient over its batch")
    assert rng.bit_generator.state == ref_rng.bit_generator.state, (
        f"{label}: the weights are right but the generator was not left as one call "
        f"rng.permutation(n) leaves it: draw the order exactly once per epoch and nothing else")
    return arr


def check_cost(fn, x, y, learning_rate, batch_size, target, seed, max_epochs=100,
               data="this lesson's data", *, reference):
    """Exercise 9.3: ``fn(x, y, learning_rate, batch_size, target, rng, max_epochs=)`` equals
    ``reference(x, y, learning_rate, batch_size, target, seed, max_epochs)``: (epochs,
    updates), or None when the target is not reached."""
    label = (f"cost_to_reach on {data}, learning_rate={learning_rate}, batch_size={batch_size}, "
             f"target={target}, rng=np.random.default_rng({seed}), max_epochs={max_epochs}")
    xin, yin = x.copy(), y.copy()
    got = checks.call_checked(fn, (xin, yin, learning_rate, batch_size, target,
                                   np.random.default_rng(seed)), {"max_epochs": max_epochs},
                              name=label)
    assert np.array_equal(xin, x) and np.array_equal(yin, y), f"{label} changed x or y in place"
    want = reference(x, y, learning_rate, batch_size, target, seed, max_epochs)
    if want is None:
        assert got is None, (f"{label}: the loss is still above the target after the last "
                             f"epoch, so the answer is None; got {got!r}")
        return
    assert got is not None, f"{label} returned None, but the target is reached: expected {want}"
    assert isinstance(got, (tuple, list)) and len(got) == 2, (
        f"{label} should return a pair (epochs, updates), got {got!r}")
    checks.check_value(list(got), list(want), name=label, rtol=0, atol=0,
                       convention="(epochs, updates): the first number of epochs after which the "
                                  "loss on all n examples is <= target, and epochs * "
                                  "ceil(n / batch_size) updates")


def check_epochs(fn, x, y, learning_rate, momentum, epochs=1000, tol=1e-3,
                 data="this lesson's data", *, reference):
    """Exercise 9.5: ``fn(x, y, learning_rate, momentum, epochs=, tol=)`` equals
    ``reference(x, y, learning_rate, momentum, epochs, tol)``: the epoch count, or None."""
    label = (f"epochs_to_converge on {data}, learning_rate={learning_rate}, momentum={momentum}, "
             f"epochs={epochs}, tol={tol}")
    xin, yin = x.copy(), y.copy()
    got = checks.call_checked(fn, (xin, yin, learning_rate, momentum),
                              {"epochs": epochs, "tol": tol}, name=label)
    assert np.array_equal(xin, x) and np.array_equal(yin, y), f"{label} changed x or y in place"
    want = reference(x, y, learning_rate, momentum, epochs, tol)
    if want is None:
        assert got is None, (f"{label}: the weights are still farther than tol from the "
                             f"least-squares solution after the last epoch, so the answer is "
                             f"None; got {got!r}")
        return
    assert got is not None, (f"{label} returned None, but the run converges: expected "
                             f"{want} epochs")
    assert not isinstance(got, (bool, np.bool_, float, np.floating)), (
        f"{label} should return an int (the epoch count), got {type(got).__name__} {got!r}")
    checks.check_value(got, want, name=label, rtol=0, atol=0,
                       convention="start (0, 0) with v = 0; count = first epoch after which "
                                  "every point stays within tol (Euclidean distance)")
