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
           "check_distinct", "check_init", "central_differences", "check_bn_backward", "check_bn_layer",
           "check_layers", "check_relu_stack", "check_loss_grad", "check_forward",
           "check_network_backward", "check_batches", "check_steps", "held_out_accuracy", "check_moves", "check_lookahead",
           "check_flip_decay", "check_clip", "check_accumulated_moves", "check_glued_schedule",
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


# --- lesson 3 (issue 20: exercise 3.1 from the log-odds) -------------------------------------

def check_logodds_inverse(fn, inputs, label, *, reference):
    """Exercise 3.1: for each moderate z of ``inputs`` (|z| <= 10), ``fn(z)`` lies strictly
    inside (0, 1), its log-odds ln(p / (1 - p)) give back z, and it equals ``reference`` (the
    test cell's sigmoid) with z's shape, z left unchanged (`checks.check_function`)."""
    for z in inputs:
        z_in = np.array(z, copy=True) if isinstance(z, np.ndarray) else z
        call = f"{label}({checks._fmt(z)})"
        p = checks.as_array(checks.call_checked(fn, (z_in,), name=call), call)
        if p.shape != np.shape(z) and p.size == np.size(z):
            p = p.reshape(np.shape(z))
        inside = np.isfinite(p) & (p > 0) & (p < 1)
        assert inside.all(), (
            f"{call} returned {checks._fmt(p)}: sigma(z) is a probability strictly between 0 and 1, "
            f"the only values whose log-odds ln(p/(1 - p)) are defined.")
        checks.check_value(np.log(p / (1 - p)), np.asarray(z, dtype=float),
                           name=f"the log-odds ln(p/(1 - p)) of p = {call}", rtol=1e-9, atol=1e-9,
                           convention="sigma(z) is the p whose log-odds are z, so they give back z")
        checks.check_function(fn, reference, [z], name=label)


__all__ += ["check_logodds_inverse"]


# --- lesson 7 -------------------------------------------------------------------------------

def check_quotient(fn, args, label, *, reference, functions=None):
    """Exercise 7.1: ``fn(u, v, du, dv)`` (``args``: four real symbols standing for u(x), v(x)
    and their derivatives) returns the steps (d_reciprocal, derivative, numerator), each a
    SymPy expression in those symbols alone, the numerator a polynomial in them.

    Without ``functions`` each step must equal its counterpart in ``reference`` (the test
    cell's, in the same symbols) as a rational function, the second symbol kept away from 0.
    With ``functions = (f, g)`` (expressions in x) the symbols are replaced by f, g, f', g' and
    the steps must equal ``reference`` (the test cell's derivatives of 1/g and f/g, and the
    latter times g**2). Returns the steps."""
    import sympy as sp

    what = ("d_reciprocal", "derivative", "numerator")
    names = [s.name for s in args]
    shown = ", ".join(names)
    steps = checks.call_checked(fn, tuple(args), name=label)
    assert isinstance(steps, (tuple, list)) and len(steps) == 3, (
        f"{label} should return the tuple (d_reciprocal, derivative, numerator), got {steps!r:.200}")
    got = []
    for step, name in zip(steps, what):
        if isinstance(step, int) and not isinstance(step, bool):
            step = sp.Integer(step)
        assert isinstance(step, sp.Expr), (
            f"{name} of {label} should be a SymPy expression, got {type(step).__name__}: {step!r:.200}")
        extra = sorted({str(s) for s in step.free_symbols if s.name not in names})
        assert not extra, (
            f"{name} of {label} should be written in {shown} alone (they stand for the values of "
            f"u, v and their derivatives at a point), but it contains {', '.join(extra)}: {step}")
        got.append(step)
    if all(step == 0 for step in got):
        raise AssertionError(
            f"{label} returned 0 for every step: {shown} are numbers to SymPy, not functions of x, "
            f"so differentiating in x gives 0. Derive the steps with the chain and product rules.")
    by_name = {s.name: s for s in args}
    numerator = got[2].subs({s: by_name[s.name] for s in got[2].free_symbols}, simultaneous=True)
    _, denominator = sp.fraction(sp.cancel(sp.together(numerator)))
    assert not denominator.free_symbols, (
        f"numerator of {label} should be a polynomial in {shown} (the derivative times "
        f"{names[1]}**2, with the division cancelled), but it still divides by {denominator}: {got[2]}")
    if functions is None:
        domains = {n: (-3, 3) for n in names}
        domains[names[1]] = (0.5, 3)          # the denominator's symbol, away from 0
        for step, ref, name in zip(got, reference, what):
            checks.check_expression(step, ref, name=f"{name} of {label}", symbols=domains)
        return got
    f, g = (sp.sympify(e) for e in functions)
    (var,) = f.free_symbols | g.free_symbols
    values = dict(zip(names, (f, g, sp.diff(f, var), sp.diff(g, var))))
    for step, ref, name in zip(got, reference, what):
        filled = step.subs({s: values[s.name] for s in step.free_symbols}, simultaneous=True)
        checks.check_expression(filled, ref, name=f"{name} of {label}", domain=(-5, 5))
    return got


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


# --- lesson 8 -------------------------------------------------------------------------------

def check_distinct(fn, W, label, decimals=10, *, reference, default=False):
    """Exercise 8.1: ``fn(W, decimals=decimals)`` (or ``fn(W)`` when ``default``) leaves W
    unchanged and returns an int equal to ``reference(W, decimals)``."""
    Win = np.array(W, dtype=float)
    got = checks.call_checked(fn, (Win,), {} if default else {"decimals": decimals}, name=label)
    assert np.array_equal(Win, W), f"{label} changed W in place"
    assert not isinstance(got, (bool, np.bool_, float, np.floating)), \
        f"{label} should return an int, got {type(got).__name__} {got!r}"
    checks.check_value(got, reference(W, decimals), name=label, rtol=0, atol=0,
                       convention=f"columns equal after rounding to {decimals} decimals count once")
    return got


def check_init(fn, shape, kind, label, seed=0, *, reference, kwargs=None):
    """Exercises 8.2 and 8.3: ``fn(shape, rng)`` has the shape, mean 0 and the sample
    variance ``reference`` (a number the test cell gives) within five standard errors of a
    ``kind`` ("normal" or "uniform") distribution. Returns the weights."""
    W = checks.as_array(checks.call_checked(fn, (shape, np.random.default_rng(seed)), kwargs,
                                            name=label), label)
    checks.check_shape(W, shape, label)
    n = W.size
    kappa = {"normal": 3.0, "uniform": 1.8}[kind]          # E[w^4] / Var^2
    se = reference * np.sqrt((kappa - 1) / n)                # standard error of mean(w^2)
    m2 = float(np.mean(W ** 2))
    assert abs(m2 - reference) <= 5 * se, (
        f"{label}: sample variance {m2:.6g}, expected {reference:.6g} ± {5 * se:.2g} "
        f"(check the formula and which fan it uses)")
    assert abs(float(W.mean())) <= 5 * np.sqrt(reference / n), f"{label}: the weights' mean should be 0"
    return W


def central_differences(x, *, cost, h=1e-6):
    """The gradient of ``cost(x)`` (a scalar function the test cell gives) by central
    differences, one entry of x at a time."""
    x = np.array(x, dtype=float)
    out = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[idx] = h
        out[idx] = (cost(x + e) - cost(x - e)) / (2 * h)
    return out


def check_bn_backward(fn, x_hat, inv_std, gamma, g, label, *, reference, numeric=None,
                      rtol=1e-9, atol=1e-12):
    """Exercise 8.6: ``fn(x_hat, inv_std, gamma, g)`` returns (grad_x, grad_gamma, grad_beta)
    equal to ``reference`` (the course layer's three arrays, computed by the test cell) and, when
    given, grad_x equal to ``numeric`` (central finite differences, compared less tightly); the
    inputs come back unchanged."""
    ins = tuple(np.array(a, dtype=float) for a in (x_hat, inv_std, gamma, g))
    kept = tuple(a.copy() for a in ins)
    got = checks.call_checked(fn, ins, name=label)
    assert isinstance(got, (tuple, list)) and len(got) == 3, \
        f"{label} should return a tuple (grad_x, grad_gamma, grad_beta), got {type(got).__name__}"
    assert all(np.array_equal(a, b) for a, b in zip(ins, kept)), \
        f"{label} changed an input array in place; it must not"
    shapes = (np.shape(x_hat), np.shape(gamma), np.shape(gamma))
    scale = max(1.0, float(np.max(np.abs(reference[0]))))
    for what, part, ref, shape in zip(("grad_x", "grad_gamma", "grad_beta"), got, reference, shapes):
        checks.check_shape(part, shape, f"{what} of {label}")
        checks.check_value(part, ref, name=f"{what} of {label}", rtol=rtol, atol=atol * scale,
                           convention="x reaches the loss directly and through the batch mean and "
                                      "variance")
    if numeric is not None:
        checks.check_value(got[0], numeric, name=f"grad_x of {label}", rtol=1e-6, atol=1e-8 * scale,
                           context=" (compared with central finite differences)")
    return got


def check_bn_layer(fn, x, gamma, beta, m, v, training, label, momentum=0.9, eps=1e-5,
                   rtol=1e-9, atol=1e-9, *, reference):
    """Exercise 8.7: ``fn(x, gamma, beta, m, v, training=, momentum=, eps=)`` returns (y,
    new_running_mean, new_running_var) equal to ``reference(x, gamma, beta, m, v, training,
    momentum, eps)`` (the course's layer) and leaves every input unchanged. Returns the
    reference's running statistics."""
    ins = tuple(np.array(a, dtype=float) for a in (x, gamma, beta, m, v))
    kept = tuple(a.copy() for a in ins)
    got = checks.call_checked(fn, ins, {"training": training, "momentum": momentum, "eps": eps},
                              name=label)
    assert isinstance(got, (tuple, list)) and len(got) == 3, \
        f"{label} should return a tuple (y, new_running_mean, new_running_var), got {type(got).__name__}"
    assert all(np.array_equal(a, b) for a, b in zip(ins, kept)), \
        f"{label} changed an input array in place; return new arrays instead"
    ref = reference(*kept, training, momentum, eps)
    stats = (f"momentum = {momentum} is the weight of the old running value" if training else
             "evaluation mode leaves the running statistics unchanged")
    checks.check_value(got[1], ref[1], name=f"new_running_mean of {label}", rtol=1e-9, atol=1e-12,
                       convention=stats)
    checks.check_value(got[2], ref[2], name=f"new_running_var of {label}", rtol=1e-9, atol=1e-12,
                       convention=stats + ("; the batch variance is the population one (ddof=0)"
                                           if training else ""))
    checks.check_value(got[0], ref[0], name=f"y of {label}", rtol=rtol, atol=atol,
                       convention=("training mode normalises with the batch's own statistics" if training
                                   else "evaluation mode never uses the batch's own statistics"))
    return ref[1], ref[2]


# --- lesson 12, the capstone --------------------------------------------------------------
# helpers the harnesses share (they check forms, not answers)

def as_pairs(value, like, label):
    """``value`` as a list of (W, b) float arrays shaped like the pairs of ``like``."""
    assert isinstance(value, (list, tuple)) and len(value) == len(like), (
        f"{label} should be a list of {len(like)} pairs, one per layer")
    out = []
    for l, (pair, (W, b)) in enumerate(zip(value, like)):
        assert isinstance(pair, (list, tuple)) and len(pair) == 2, f"{label}: entry {l} should be a pair"
        pW, pb = checks.as_array(pair[0], f"{label}[{l}][0]"), checks.as_array(pair[1], f"{label}[{l}][1]")
        checks.check_shape(pW, np.shape(W), f"{label}[{l}][0]")
        checks.check_shape(pb, np.shape(b), f"{label}[{l}][1]")
        out.append((pW, pb))
    return out


def flat(pairs):
    """The arrays of a list of pairs, in order, as float arrays."""
    return [np.array(x, dtype=float) for pair in pairs for x in pair]


def random_net(r, sizes=(4, 3, 2)):
    """Random (W, b) pairs for the layer sizes, drawn from the generator r."""
    return [(r.normal(size=(i, o)), r.normal(size=o)) for i, o in zip(sizes[:-1], sizes[1:])]


def check_layers(fn, sizes, seed, label, *, reference=None):
    """Exercise 12.1: ``fn(list(sizes), default_rng(seed))`` returns one (W, b) pair per layer,
    W of shape (fan_in, fan_out) with mean 0, b zero; with ``reference(fan_in)`` (the variance,
    given by a hidden test) each layer's mean square weight within five standard errors.
    Returns the W's."""
    params = checks.call_checked(fn, (list(sizes), np.random.default_rng(seed)), name=label)
    assert isinstance(params, (list, tuple)) and len(params) == len(sizes) - 1, (
        f"{label} should return a list of {len(sizes) - 1} (W, b) pairs, got {params!r:.200}")
    out = []
    for l, (pair, fi, fo) in enumerate(zip(params, sizes[:-1], sizes[1:])):
        assert isinstance(pair, (list, tuple)) and len(pair) == 2, f"{label}: layer {l + 1} should be a pair (W, b)"
        W = checks.as_array(pair[0], f"{label}: W of layer {l + 1}")
        checks.check_shape(W, (fi, fo), f"{label}: W of layer {l + 1}")
        checks.check_value(pair[1], np.zeros(fo), name=f"{label}: b of layer {l + 1}",
                           convention="biases start at 0")
        m2 = float(np.mean(W ** 2))
        assert abs(float(W.mean())) <= 5 * np.sqrt(m2 / W.size) + 1e-300, \
            f"{label}: layer {l + 1}'s weights should have mean 0"
        if reference is not None:
            var = reference(fi)
            se = var * np.sqrt(2.0 / W.size)          # standard error of mean(w²) for normal weights
            assert abs(m2 - var) <= 5 * se, (
                f"{label}: layer {l + 1} ({fi} -> {fo}) has mean square weight {m2:.6g}, expected "
                f"{var:.6g} ± {5 * se:.2g} (check the formula and which fan it uses)")
        out.append(W)
    return out


def check_relu_stack(fn, width, depth, seed, label, n=1000, *, reference):
    """Exercise 12.1, measured: ``depth`` layers of ``width`` units from ``fn`` carry a
    standard-normal batch; from layer 2 on (fed by ``reference``, the grader's ReLU) the mean
    square of the pre-activations must be multiplied by a factor between 0.85 and 1.15 per
    layer (the geometric mean over the layers)."""
    params = check_layers(fn, [width] * (depth + 1), seed, label)
    a = np.random.default_rng(seed + 1).standard_normal((n, width))
    scale = []
    for W in params:
        z = a @ W
        scale.append(float(np.mean(z ** 2)))
        a = reference(z)
    factor = (scale[-1] / scale[1]) ** (1 / (depth - 2))
    assert 0.85 <= factor <= 1.15, (
        f"{label}: through {depth} ReLU layers of {width} units the mean square pre-activation went "
        f"from {scale[1]:.4g} (layer 2) to {scale[-1]:.4g} (layer {depth}): a factor {factor:.3g} per "
        f"layer, where the right weight variance gives about 1 (between 0.85 and 1.15) at any depth")
    return scale


def check_loss_grad(fn, z, y, label, rtol=1e-9, *, reference):
    """Exercise 12.2: ``fn(z, y)`` returns (loss, grad) equal to ``reference(z, y)``; the logits
    come back unchanged."""
    z_in = np.array(z, dtype=float)
    got = checks.call_checked(fn, (z_in, np.asarray(y)), name=label)
    assert isinstance(got, tuple) and len(got) == 2, f"{label} should return the tuple (loss, grad)"
    loss, grad = reference(np.array(z, dtype=float), np.asarray(y))
    checks.check_value(got[0], loss, name=f"loss of {label}", rtol=rtol,
                       convention="the mean of -log s_y over the batch")
    checks.check_value(got[1], grad, name=f"grad of {label}", rtol=rtol, atol=1e-15,
                       convention="the gradient of the mean loss with respect to the logits")
    assert np.array_equal(z_in, np.asarray(z, dtype=float)), f"{label} changed the logits in place; it must not"
    return got


def check_forward(fn, params, X, activation, label, *, reference):
    """Exercise 12.3: ``fn(params, X, activation)`` returns (logits, cache) equal to
    ``reference(params, X, activation)``; X comes back unchanged."""
    X_in = np.array(X, dtype=float)
    got = checks.call_checked(fn, (params, X_in, activation), name=label)
    assert isinstance(got, tuple) and len(got) == 2, f"{label} should return the tuple (logits, cache)"
    logits, cache = reference(params, X, activation)
    checks.check_value(got[0], logits, name=f"logits of {label}", rtol=1e-12, atol=1e-12,
                       convention="no activation on the last layer")
    assert isinstance(got[1], (list, tuple)) and len(got[1]) == len(params), (
        f"the cache of {label} should be a list of {len(params)} pairs (A_prev, Z), one per layer")
    for l, (pair, (a_ref, z_ref)) in enumerate(zip(got[1], cache)):
        assert isinstance(pair, (list, tuple)) and len(pair) == 2, f"cache[{l}] of {label} should be a pair (A_prev, Z)"
        for part, ref, what in ((pair[0], a_ref, "A_prev"), (pair[1], z_ref, "Z")):
            checks.check_value(part, ref, name=f"{what} in cache[{l}] of {label}", rtol=1e-12, atol=1e-12,
                               convention="cache[l] = (the layer's input, its pre-activation)")
    assert np.array_equal(X_in, np.asarray(X, dtype=float)), f"{label} changed X in place; it must not"


def check_network_backward(fn, sizes, activation, seed, label, n=6, *, reference, cost):
    """Exercise 12.4: on a random network, ``fn(params, cache, dlogits, activation)`` (the cache
    and dlogits from ``reference``, the grader's forward pass and loss) equals central finite
    differences of ``cost(params, X, y, activation)`` for every weight and bias."""
    r = np.random.default_rng(seed)
    params = [(r.normal(0.0, 1.0 / np.sqrt(i), (i, o)), r.normal(0.0, 0.1, o))
              for i, o in zip(sizes[:-1], sizes[1:])]
    X, y = r.normal(size=(n, sizes[0])), r.integers(0, sizes[-1], n)
    cache, dlogits = reference(params, X, y, activation)
    got = checks.call_checked(fn, (params, cache, dlogits, activation), name=label)
    assert isinstance(got, (list, tuple)) and len(got) == len(params), (
        f"{label} should return a list of {len(params)} pairs (dW, db), one per layer")
    for l, ((W, b), pair) in enumerate(zip(params, got)):
        assert isinstance(pair, (list, tuple)) and len(pair) == 2, f"{label}: entry {l} should be a pair (dW, db)"
        for p, g, what in ((W, pair[0], "dW"), (b, pair[1], "db")):
            num = np.zeros(p.shape)
            for idx in np.ndindex(p.shape):
                old = p[idx]
                p[idx] = old + 1e-6
                up = cost(params, X, y, activation)
                p[idx] = old - 1e-6
                down = cost(params, X, y, activation)
                p[idx] = old
                num[idx] = (up - down) / 2e-6
            checks.check_value(g, num, name=f"{what} of layer {l + 1} from {label}", rtol=1e-5, atol=1e-8,
                               context=" (compared with finite differences of the loss)",
                               convention="layers in the order of params; ReLU'(0) = 0")


def check_batches(fn, n, size, seed, label, *, reference):
    """Exercise 12.5: ``fn(n, size, default_rng(seed))`` returns the batches ``reference(n,
    size, default_rng(seed))`` gives, each index once."""
    got = checks.call_checked(fn, (n, size, np.random.default_rng(seed)), name=label)
    assert isinstance(got, (list, tuple)), f"{label} should return a list of index arrays, got {type(got).__name__}"
    expected = reference(n, size, np.random.default_rng(seed))
    assert len(got) == len(expected), (f"{label} returned {len(got)} batches, expected {len(expected)} "
                                       f"(batches of {size}, the last one holding what is left)")
    seen = np.concatenate([checks.as_array(b, f"batch {i} of {label}").ravel() for i, b in enumerate(got)])
    assert sorted(seen.tolist()) == list(range(n)), f"{label}: the batches do not hold each of 0 … {n - 1} exactly once"
    for i, (b, e) in enumerate(zip(got, expected)):
        checks.check_value(b, e, name=f"batch {i} of {label}", rtol=0, atol=0,
                           convention="order = rng.permutation(n), cut into consecutive pieces of batch_size")


def check_steps(fn, seed, steps, label, sizes=(4, 3, 2), *, reference, state=1, args=()):
    """Exercises 12.6 and 12.7: ``steps`` calls of ``fn(params, grads, *state, *args)`` on a
    random network equal the optimiser ``reference`` (a fresh course optimiser, stepped on the
    flat arrays); ``state`` is 1 (the velocity) or 3 (m, v and t). After each step the
    parameters, and each state list ``reference`` keeps, are compared."""
    r = np.random.default_rng(seed)
    params = random_net(r, sizes)
    zeros = lambda: [(np.zeros_like(W), np.zeros_like(b)) for W, b in params]  # noqa: E731
    st = [zeros()] if state == 1 else [zeros(), zeros(), 0]
    ref_p = flat(params)
    names = ("new_velocity",) if state == 1 else ("new_m", "new_v", "new_t")
    kept = ("velocity",) if state == 1 else ("m", "v")
    for k in range(steps):
        grads = random_net(r, sizes)
        reference.step(ref_p, flat(grads))
        out = checks.call_checked(fn, (params, grads, *st, *args), name=label, where=f" at step {k + 1}")
        assert isinstance(out, tuple) and len(out) == 1 + state, (
            f"{label} should return (new_params, {', '.join(names)})")
        params = as_pairs(out[0], params, f"new_params of {label}")
        st = [as_pairs(x, params, f"{nm} of {label}") for x, nm in zip(out[1:1 + len(kept)], names)]
        if state == 3:
            checks.check_value(out[3], k + 1, name=f"new_t of {label} after step {k + 1}",
                               convention="t counts the steps taken")
            st.append(k + 1)
        for what, got, ref in (("all parameters", params, ref_p),
                               *((nm, s, getattr(reference, nm)) for nm, s in zip(kept, st))):
            checks.check_value(np.concatenate([x.ravel() for x in flat(got)]),
                               np.concatenate([np.ravel(x) for x in ref]),
                               name=f"{what} after step {k + 1} of {label}", rtol=1e-10, atol=1e-12)


def held_out_accuracy(params, X, y, label, *, reference):
    """Exercise 12.8: the accuracy of the trained ``params`` on (X, y), with the grader's forward
    pass ``reference(params, X)`` (its logits), after checking the pairs fit and are finite."""
    assert isinstance(params, (list, tuple)) and len(params) >= 1, f"{label} should return a list of (W, b) pairs"
    width = np.shape(X)[1]
    pairs = []
    for l, pair in enumerate(params):
        assert isinstance(pair, (list, tuple)) and len(pair) == 2, f"{label}: layer {l + 1} should be a pair (W, b)"
        W = checks.as_array(pair[0], f"W of layer {l + 1} returned by {label}")
        b = checks.as_array(pair[1], f"b of layer {l + 1} returned by {label}")
        assert W.ndim == 2 and W.shape[0] == width and b.shape == (W.shape[1],), (
            f"{label}: layer {l + 1} has W of shape {W.shape} and b of shape {b.shape}, which do not "
            f"fit its input of width {width}")
        assert np.all(np.isfinite(W)) and np.all(np.isfinite(b)), f"{label}: layer {l + 1} holds nan or inf"
        pairs.append((W, b))
        width = W.shape[1]
    assert width == 10, f"{label}: the last layer gives {width} outputs, expected 10 logits"
    return float(np.mean(np.asarray(reference(pairs, X)).argmax(axis=1) == y))
def _step_pair(fn, args, label, where):
    """Call a momentum-type step ``fn(theta, grad, velocity, learning_rate, momentum)`` on
    copies, check the inputs come back unchanged and the result is (theta, velocity) of the
    input's shape; return the two arrays."""
    ins = [np.array(a, dtype=float) for a in args[:3]]
    got = checks.call_checked(fn, (*[a.copy() for a in ins], *args[3:]), name=label, where=where)
    assert isinstance(got, (tuple, list)) and len(got) == 2, (
        f"{label}{where} should return (new_theta, new_velocity), got {got!r:.120}")
    out = [checks.as_array(g, f"{n} returned by {label}") for g, n in zip(got, ("new_theta", "new_velocity"))]
    for a, n in zip(out, ("new_theta", "new_velocity")):
        assert a.shape == ins[0].shape, f"{n} returned by {label}{where} has shape {a.shape}, expected {ins[0].shape}"
    kept = [np.array(a, dtype=float) for a in args[:3]]
    for a, b, n in zip(ins, kept, ("theta", "grad", "velocity")):
        assert np.array_equal(a, b), f"{label} changed its argument {n} in place; return new arrays"
    return out


def check_moves(fn, gradients, learning_rate, momentum, *, reference):
    """Exercise 9.4: ``fn(theta, grad, velocity, learning_rate, momentum)`` run from rest
    (theta = velocity = [0]) on the scalar ``gradients`` moves the weight as
    ``reference(gradients, learning_rate, momentum)`` says (the course's optimiser, measured),
    and each returned velocity is the one the step moved by (new_theta = theta − η new_velocity)."""
    label = (f"momentum_step from rest on one weight, gradients {list(gradients)}, "
             f"learning_rate={learning_rate}, momentum={momentum}")
    theta, velocity, moves = np.zeros(1), np.zeros(1), []
    for k, g in enumerate(gradients):
        where = f" at step {k + 1}"
        new_theta, new_velocity = _step_pair(fn, (theta, np.array([float(g)]), velocity,
                                                  learning_rate, momentum), label, where)
        checks.check_value(new_theta, theta - learning_rate * new_velocity,
                           name=f"new_theta of {label}{where}", rtol=1e-12, atol=1e-15,
                           convention="the contract: new_theta = theta - learning_rate * new_velocity")
        moves.append(new_theta[0] - theta[0])
        theta, velocity = new_theta, new_velocity
    checks.check_value(np.array(moves), reference(gradients, learning_rate, momentum),
                       name=f"the moves theta_k - theta_(k-1) of {label}", rtol=1e-10, atol=1e-14,
                       convention="the moves of the course's optimiser from rest, as the measuring "
                                  "cell prints them")


def check_lookahead(fn, grad, theta, velocity, learning_rate, momentum, steps, *, reference):
    """Exercise 9.6: ``reference(grad, theta, velocity, learning_rate, momentum, steps)`` runs
    Nesterov's method as written (weights theta_k, velocities v_k); ``fn`` started from the
    stored point phi_0 = theta_0 − η β v_0 with v_0 must give phi_k = theta_k − η β v_k and v_k."""
    label = (f"nesterov_step from the stored point of theta={list(theta)}, velocity={list(velocity)}, "
             f"learning_rate={learning_rate}, momentum={momentum}")
    path = reference(grad, theta, velocity, learning_rate, momentum, steps)
    phi, v = path[0][0] - learning_rate * momentum * path[0][1], np.array(path[0][1], dtype=float)
    for k in range(1, steps + 1):
        where = f" at step {k}"
        phi, v = _step_pair(fn, (phi, np.asarray(grad(phi), dtype=float), v, learning_rate, momentum),
                            label, where)
        th_k, v_k = path[k]
        checks.check_value(v, v_k, name=f"new_velocity of {label}{where}", rtol=1e-9, atol=1e-12,
                           convention="the velocity v_k of the method as section 4 writes it")
        checks.check_value(phi, th_k - learning_rate * momentum * v_k,
                           name=f"new_theta (the stored point) of {label}{where}", rtol=1e-9, atol=1e-12,
                           convention="the stored point phi_k = theta_k - learning_rate * momentum * v_k "
                                      "of the method as section 4 writes it")


# --- lesson 10 ------------------------------------------------------------------------------

def check_flip_decay(fn, learning_rate, weight_decay, steps, *, reference):
    """Exercise 10.6: ``fn`` (an AdamW step, Adam's default betas and epsilon) run on the
    figure's experiment — two weights from 1, gradients (1, 100) times (-1)^k — keeps the two
    weights on one path and follows ``reference(steps)`` (the course's AdamW, one row per step)."""
    label = (f"adamw_step on the figure's experiment (two weights from 1, gradients ±1 and ±100), "
             f"learning_rate={learning_rate}, weight_decay={weight_decay}")
    theta, m, v, t, path = np.ones(2), np.zeros(2), np.zeros(2), 0, [np.ones(2)]
    for k in range(steps):
        where = f" at step {k + 1}"
        got = checks.call_checked(fn, (theta.copy(), np.array([1.0, 100.0]) * (-1.0) ** k, m.copy(),
                                       v.copy(), t, learning_rate, 0.9, 0.999, 1e-8, weight_decay),
                                  name=label, where=where)
        assert isinstance(got, (tuple, list)) and len(got) == 4, (
            f"{label}{where} should return (new_theta, new_m, new_v, new_t), got {got!r:.120}")
        theta, m, v = (checks.as_array(a, f"{n} returned by {label}")
                       for a, n in zip(got[:3], ("new_theta", "new_m", "new_v")))
        t = int(checks.as_array(got[3], f"new_t returned by {label}"))
        path.append(theta.copy())
    path = np.array(path)
    assert path.shape == (steps + 1, 2), f"{label}: theta should keep the shape (2,)"
    checks.check_value(path[:, 1], path[:, 0], name=f"the second weight's path in {label}",
                       rtol=1e-6, atol=1e-12, context=" (compared with the first weight's path)",
                       convention="requirement 2: the decay does not depend on a weight's gradients, "
                                  "so the two weights follow one path")
    checks.check_value(path, reference(steps), name=f"the path of {label}", rtol=1e-9, atol=1e-12,
                       convention="row k holds the weights after k steps of the course's AdamW")


def check_clip(fn, grads, max_norm, what, *, reference):
    """Exercise 10.7: ``fn(grads, max_norm)`` returns (clipped, norm) equal to
    ``reference(grads, max_norm)``'s, exactly, and leaves the input arrays unchanged."""
    label = f"clip_by_global_norm({what}, max_norm={max_norm:g})"
    kept = [np.array(g, copy=True) for g in grads]
    out = checks.call_checked(fn, (grads, max_norm), name=label)
    assert isinstance(out, (tuple, list)) and len(out) == 2, f"{label} should return (clipped, norm)"
    want, norm = reference(kept, max_norm)
    checks.check_value(out[1], norm, name=f"the norm returned by {label}", atol=0.0,
                       convention="the Euclidean norm of all entries of all gradients together, before clipping")
    assert isinstance(out[0], (list, tuple)) and len(out[0]) == len(grads), (
        f"{label} should return a list of {len(grads)} clipped arrays first")
    for i, (g, w) in enumerate(zip(out[0], want)):
        checks.check_value(g, w, name=f"clipped[{i}] of {label}", atol=0.0,
                           convention="every gradient times min(1, max_norm / (norm + 1e-6))")
    for a, k in zip(grads, kept):
        assert np.array_equal(a, k), f"{label} changed an input array in place; return new arrays"


def check_accumulated_moves(fn, gradients, learning_rate, epsilon, initial, *, reference):
    """Exercise 10.1: ``fn(theta, grad, accumulator, learning_rate, epsilon)`` run on one weight
    from 0 with the accumulator at ``initial`` moves it as ``reference(gradients, learning_rate,
    epsilon, initial)`` says (the course's Adagrad, measured), leaving its inputs unchanged."""
    label = (f"adagrad_step on one weight from 0, gradients {list(gradients)}, accumulator from "
             f"{initial}, learning_rate={learning_rate}, epsilon={epsilon}")
    theta, acc, moves = np.zeros(1), np.full(1, float(initial)), []
    for k, g in enumerate(gradients):
        args = [theta.copy(), np.array([float(g)]), acc.copy()]
        got = checks.call_checked(fn, (*args, learning_rate, epsilon), name=label, where=f" at step {k + 1}")
        assert isinstance(got, (tuple, list)) and len(got) == 2, (
            f"{label} should return (new_theta, new_accumulator), got {got!r:.120}")
        for a, b, n in zip(args, (theta, np.array([float(g)]), acc), ("theta", "grad", "accumulator")):
            assert np.array_equal(a, b), f"{label} changed its argument {n} in place; return new arrays"
        new_theta, acc = (checks.as_array(a, f"{n} returned by {label}")
                          for a, n in zip(got, ("new_theta", "new_accumulator")))
        assert new_theta.shape == acc.shape == (1,), f"{label}: return arrays of the input's shape (1,)"
        moves.append(new_theta[0] - theta[0])
        theta = new_theta
    checks.check_value(np.array(moves), reference(gradients, learning_rate, epsilon, initial),
                       name=f"the moves theta_k - theta_(k-1) of {label}", rtol=1e-10, atol=1e-14,
                       convention="the moves of the course's Adagrad, as the measuring cell prints them")


def check_glued_schedule(fn, total_steps, warmup_steps, base_lr, min_lr, start_factor=1 / 3):
    """Exercise 10.5's requirements, tested as properties (not values of a reference):
    the warm-up starts at start_factor * base_lr and is a straight line heading for base_lr at
    step w; the rate is base_lr at step w and min_lr at step T, flat at both ends of the
    cosine, point-symmetric about its middle (so the middle is the mean of the ends) and
    non-increasing from w to T. Returns the rates at steps 0 ... T."""
    T, w, f0 = total_steps, warmup_steps, start_factor
    label = (f"warmup_cosine(step, {T}, {w}, {base_lr}, {min_lr}"
             + (f", start_factor={f0:g})" if f0 != 1 / 3 else ")"))
    rates = []
    for step in range(T + 1):
        got = checks.call_checked(fn, (step, T, w, base_lr, min_lr),
                                  {} if f0 == 1 / 3 else {"start_factor": f0},   # the default, tested too
                                  name=label.replace("step", str(step), 1))
        rates.append(float(checks.as_array(got, label.replace("step", str(step), 1))))
    r = np.array(rates)
    if w > 0:
        checks.check_value(r[0], f0 * base_lr, name=f"{label} at step 0",
                           convention="requirement 1: the warm-up starts at start_factor * base_lr")
        line = r[0] + (base_lr - r[0]) * np.arange(w) / w
        checks.check_value(r[:w], line, name=f"{label} at steps 0 ... {w - 1}",
                           convention="requirement 1: a straight line from start_factor * base_lr "
                                      "that would reach base_lr at step warmup_steps")
    checks.check_value(r[w], base_lr, name=f"{label} at step {w}",
                       convention="requirement 2: the cosine starts at base_lr exactly at step warmup_steps")
    checks.check_value(r[T], min_lr, name=f"{label} at step {T}",
                       convention="requirement 2: the cosine lands on min_lr exactly at step total_steps")
    cos = r[w:]
    checks.check_value(cos + cos[::-1], np.full(len(cos), base_lr + min_lr),
                       name=f"{label}: the rate at step w + k plus the rate at step T - k",
                       convention="a cosine of the table is point-symmetric about its middle: "
                                  "the two add up to base_lr + min_lr")
    assert np.all(np.diff(cos) <= 1e-15 * max(base_lr, 1.0)), (
        f"{label}: the rate should not rise between step {w} and step {T}")
    if T - w >= 4:
        first, last = cos[0] - cos[1], cos[-2] - cos[-1]
        middle = np.max(-np.diff(cos))
        assert first < 0.5 * middle and last < 0.5 * middle, (
            f"{label}: the cosine should be flat at both ends (its first fall {first:.3g} and its "
            f"last {last:.3g} are not much smaller than its steepest {middle:.3g})")
    return r
