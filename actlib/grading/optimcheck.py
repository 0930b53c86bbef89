"""Grading optimiser steps written by students, and naming the convention behind a wrong one.

A student's step function is pure (e.g. ``adam_step(theta, grad, m, v, t, learning_rate=...)
-> (theta, m, v, t)``, signatures in `STEP_SIGNATURES`). `check_step` rolls it out from
several starts and states and compares the trajectory with the reference optimiser of
`actlib.optim`; when they differ, `diagnose` replays the known convention mix-ups
(`mistakes`: ε inside the square root, the step counter bumped after use, the EWMA form of
momentum, ...) and the failure message names the one that explains the student's numbers.
"""
import numpy as np

from actlib.grading import checks
from actlib.optim import AdamW, get

__all__ = ["mistakes", "diagnose", "STEP_SIGNATURES", "rollout", "check_step"]

# the NumPy error state under which `checks.call_checked` runs a student's function
_CALL_ERRSTATE = {"over": "raise", "invalid": "raise", "divide": "raise", "under": "ignore"}


# ------------------------------------------------------------ convention mix-ups, diagnosis
# Each mistake is a one-step rule (p, g, state dict, hyper dict) -> new p, mutating state.
# They are the reference algorithms with one convention changed, used to explain a wrong
# trajectory to a student (and by the tests, to prove the checks can fail).
def _sgd_rule(p, g, s, h, form="heavy", nesterov=False, old_velocity=False, ascent=False):
    beta, lr = h.get("momentum", 0.0), h["learning_rate"]
    v_old = s["velocity"]
    if form == "keras":                 # state kept in parameter units: u = βu − ηg, θ ← θ + u
        u = beta * v_old - lr * g
        s["velocity"] = u
        return p + (beta * u - lr * g if nesterov else u)
    v = beta * v_old + (1.0 - beta) * g if form == "ewma" else beta * v_old + g
    s["velocity"] = v
    used = v_old if old_velocity else v
    d = g + beta * used if nesterov else used
    return p + lr * d if ascent else p - lr * d


def _adagrad_rule(p, g, s, h, eps_inside=False, old_acc=False, no_sqrt=False):
    acc_old = s["accumulator"]
    acc = acc_old + g * g
    s["accumulator"] = acc
    a = acc_old if old_acc else acc
    eps = h["epsilon"]
    denom = a + eps if no_sqrt else (np.sqrt(a + eps) if eps_inside else np.sqrt(a) + eps)
    return p - h["learning_rate"] * g / denom


def _rmsprop_rule(p, g, s, h, eps_inside=False, swapped=False, old_ms=False):
    rho, eps = h["rho"], h["epsilon"]
    old = s["mean_square"]
    ms = (1 - rho) * old + rho * g * g if swapped else rho * old + (1 - rho) * g * g
    s["mean_square"] = ms
    a = old if old_ms else ms
    denom = np.sqrt(a + eps) if eps_inside else np.sqrt(a) + eps
    return p - h["learning_rate"] * g / denom


def _adam_rule(p, g, s, h, eps_inside=False, eps_hat=False, no_correction=False,
               t_shift=0, correct_m_only=False, no_sqrt=False):
    b1, b2, eps, lr = h["beta_1"], h["beta_2"], h["epsilon"], h["learning_rate"]
    s["t"] += 1
    t = s["t"] + t_shift
    m = b1 * s["m"] + (1 - b1) * g
    v = b2 * s["v"] + (1 - b2) * g * g
    s["m"], s["v"] = m, v
    if eps_hat:
        return p - lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t) * m / (np.sqrt(v) + eps)
    m_hat = m if no_correction else m / (1 - b1 ** t)
    v_hat = v if (no_correction or correct_m_only) else v / (1 - b2 ** t)
    if no_sqrt:
        return p - lr * m_hat / (v_hat + eps)
    denom = np.sqrt(v_hat + eps) if eps_inside else np.sqrt(v_hat) + eps
    return p - lr * m_hat / denom


def _adamw_rule(p, g, s, h, coupled=False, after=False, no_lr=False, none=False):
    lam, lr = h["weight_decay"], h["learning_rate"]
    if coupled:                         # L2: the decay goes through the moments (Adam's form)
        return _adam_rule(p, g + lam * p, s, h)
    factor = 1.0 if none else (1.0 - lam if no_lr else 1.0 - lr * lam)
    if after:
        return _adam_rule(p, g, s, h) * factor
    return _adam_rule(p * factor, g, s, h)


def _variants(rule, base, items):
    out = {"reference": (rule, base, "the reference rule")}
    for label, kw, text in items:
        out[label] = (rule, {**base, **kw}, text)
    return out


_MISTAKES = {
    "sgd": _variants(_sgd_rule, {}, [
        ("ascent", {"ascent": True}, "the update adds the gradient (θ + ηg) instead of "
                                     "subtracting it"),
    ]),
    "momentum": _variants(_sgd_rule, {}, [
        ("ewma_momentum", {"form": "ewma"},
         "the velocity is updated as the EWMA v = βv + (1−β)g, but the course uses "
         "v = βv + g (no 1−β factor)"),
        ("keras_velocity", {"form": "keras"},
         "the velocity is kept in parameter units as in Keras (u = βu − ηg, θ ← θ + u), "
         "but the course stores v = βv + g and steps θ ← θ − ηv"),
        ("old_velocity", {"old_velocity": True},
         "the step uses the velocity from before this step's update; update v first, "
         "then step with the new v"),
        ("ascent", {"ascent": True}, "the update adds η·v instead of subtracting it"),
    ]),
    "nesterov": _variants(_sgd_rule, {"nesterov": True}, [
        ("plain_momentum", {"nesterov": False},
         "this is plain momentum (θ ← θ − ηv); Nesterov steps from the look-ahead, "
         "θ ← θ − η(g + βv) with the new v"),
        ("ewma_momentum", {"form": "ewma"},
         "the velocity is updated as the EWMA v = βv + (1−β)g, but the course uses "
         "v = βv + g"),
        ("keras_velocity", {"form": "keras"},
         "the velocity is kept in parameter units as in Keras (u = βu − ηg, "
         "θ ← θ + βu − ηg), but the course stores v = βv + g and steps θ ← θ − η(g + βv)"),
    ]),
    "adagrad": _variants(_adagrad_rule, {}, [
        ("eps_inside", {"eps_inside": True},
         "ε is inside the square root (√(G + ε), as in Keras 3); the course adds it "
         "outside: √G + ε"),
        ("old_accumulator", {"old_acc": True},
         "the step divides by the accumulator from before adding g²; add g² first"),
        ("no_sqrt", {"no_sqrt": True},
         "the step divides by G instead of its square root √G"),
    ]),
    "rmsprop": _variants(_rmsprop_rule, {}, [
        ("eps_inside", {"eps_inside": True},
         "ε is inside the square root (√(s + ε), as in Keras 3); the course adds it "
         "outside: √s + ε"),
        ("swapped_rho", {"swapped": True},
         "ρ and 1 − ρ are swapped: the average must keep ρ of the old value, "
         "s = ρs + (1−ρ)g²"),
        ("old_mean_square", {"old_ms": True},
         "the step divides by the average from before this step's update"),
    ]),
    "adam": _variants(_adam_rule, {}, [
        ("eps_inside", {"eps_inside": True},
         "ε is inside the square root (√(v̂ + ε)); the paper adds it outside: √v̂ + ε"),
        ("eps_hat", {"eps_hat": True},
         "this is the 'efficient' Keras/TensorFlow form η√(1−β₂ᵗ)/(1−β₁ᵗ)·m/(√v + ε), "
         "which rescales ε; use m̂/(√v̂ + ε)"),
        ("t_after", {"t_shift": -1},
         "the step counter is increased after it is used (bias correction with the old t); "
         "increase t first, so the first step uses t = 1"),
        ("t_twice", {"t_shift": +1},
         "the bias correction uses t + 1 (the counter bumped twice, or started at 1 and "
         "bumped before use); the first step must use t = 1"),
        ("no_bias_correction", {"no_correction": True},
         "the moments are not bias-corrected: divide m by 1 − β₁ᵗ and v by 1 − β₂ᵗ"),
        ("m_only_corrected", {"correct_m_only": True},
         "only m is bias-corrected; v also needs v̂ = v / (1 − β₂ᵗ)"),
    ]),
    "adamw": _variants(_adamw_rule, {}, [
        ("l2", {"coupled": True},
         "the decay is added to the gradient (g + λθ, the L2 form of Adam's weight_decay), so "
         "it goes through the moments and is divided by √v̂; AdamW's moments see g alone and "
         "the weights shrink directly, θ(1 − ηλ)"),
        ("decay_after", {"after": True},
         "the decay multiplies the weights after Adam's step; AdamW multiplies the weights from "
         "before the step: θ(1 − ηλ) − η m̂/(√v̂ + ε)"),
        ("decay_without_lr", {"no_lr": True},
         "the decay factor is 1 − λ; the course, like torch.optim.AdamW, scales it by the "
         "learning rate: 1 − ηλ"),
        ("no_decay", {"none": True},
         "the weights are not decayed at all: this is Adam's step without weight decay"),
    ]),
}


def mistakes(kind):
    """The catalogue of convention mix-ups for an optimiser ``kind`` (a name of
    :func:`names`): a dict label -> explanation (the first entry is the reference)."""
    if kind not in _MISTAKES:
        raise ValueError(f"unknown optimiser {kind!r}; valid names: {', '.join(_MISTAKES)}")
    return {label: text for label, (_, _, text) in _MISTAKES[kind].items()}


_STATE_KEYS = {"sgd": ("velocity",), "momentum": ("velocity",), "nesterov": ("velocity",),
               "adagrad": ("accumulator",), "rmsprop": ("mean_square",), "adam": ("m", "v"),
               "adamw": ("m", "v")}


def _optimizer(kind, **hyper):
    """The reference optimiser of ``kind``: a name of `actlib.optim.get`, or ``"adamw"``."""
    return AdamW(**hyper) if kind == "adamw" else get(kind, **hyper)


def _variant_trajectory(kind, label, grad, start, steps, state, hyper):
    rule, kw, _ = _MISTAKES[kind][label]
    p = np.array(start, dtype=np.float64)
    s = {key: np.array(state.get(key, np.zeros_like(p)), dtype=np.float64)
         for key in _STATE_KEYS[kind]}
    if kind == "adagrad" and "accumulator" not in state:
        s["accumulator"] = np.full_like(p, hyper["initial_accumulator_value"])
    s["t"] = int(state.get("t", 0))
    out = [p.copy()]
    with np.errstate(all="ignore"):
        for _ in range(steps):
            p = rule(p, np.asarray(grad(p), dtype=np.float64), s, hyper, **kw)
            out.append(p.copy())
            if not np.all(np.isfinite(p)):
                out.extend([np.full_like(p, np.nan)] * (steps + 1 - len(out)))
                break
    return np.array(out)


def diagnose(kind, got, grad, start, steps, state=None, rtol=1e-9, atol=1e-12, **hyper):
    """Explain a trajectory: which convention of optimiser ``kind`` produced it?

    Runs the reference rule and each known convention mix-up (see :func:`mistakes`) for
    ``steps`` steps from ``start`` with the given ``state`` and hyper-parameters, and
    compares them with ``got``.

    Parameters
    ----------
    kind : str
        One of ``names()``.
    got : array_like, shape (steps + 1, ...)
        The trajectory to explain (start included).
    grad : callable
        ``grad(p)`` -> gradient at point ``p`` (e.g. a surface's ``grad``).
    start : array_like
    steps : int
    state : dict, optional
        Initial state: ``velocity`` / ``accumulator`` / ``mean_square`` / ``m``, ``v``, and
        ``t`` (steps already taken).
    **hyper
        Hyper-parameters as in the optimiser's constructor (defaults filled in).

    Returns
    -------
    (label, message) : tuple of str
        ``label`` is ``"reference"`` when ``got`` matches the reference, the label of the
        matching mistake, or ``"unknown"``; ``message`` says it in words (with the first
        step where ``got`` departs from the reference).
    """
    if kind not in _MISTAKES:
        raise ValueError(f"unknown optimiser {kind!r}; valid names: {', '.join(_MISTAKES)}")
    full = _optimizer(kind, **hyper)._hyper()
    state = dict(state or {})
    got = np.asarray(got, dtype=np.float64)
    trajectories = {label: _variant_trajectory(kind, label, grad, start, steps, state, full)
                    for label in _MISTAKES[kind]}
    ref = trajectories["reference"]
    if got.shape != ref.shape:
        return "unknown", (f"the trajectory has shape {got.shape}, expected {ref.shape} "
                           f"(the start plus one point per step)")

    def close(a, b):
        return bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True))

    if close(got, ref):
        return "reference", "the trajectory matches the reference rule"
    bad = np.where(~np.isclose(got, ref, rtol=rtol, atol=atol, equal_nan=True)
                   .reshape(len(ref), -1).all(axis=1))[0]
    first = int(bad[0]) if len(bad) else 0
    where = (f"first departs from the reference at step {first}: expected "
             f"{np.array2string(ref[first], precision=10)}, got "
             f"{np.array2string(got[first], precision=10)}")
    for label, traj in trajectories.items():
        if label != "reference" and close(got, traj):
            return label, f"likely convention mix-up: {_MISTAKES[kind][label][2]} ({where})"
    return "unknown", f"no known convention mix-up matches; the trajectory {where}"


# ------------------------------------------------------ grading a student's step function
# A student's step function is pure: it takes the parameters, the gradient, the state and
# the hyper-parameters (keywords) and returns the new parameters and the new state.
STEP_SIGNATURES = {
    "sgd": ((), ("learning_rate",)),
    "momentum": (("velocity",), ("learning_rate", "momentum")),
    "nesterov": (("velocity",), ("learning_rate", "momentum")),
    "adagrad": (("accumulator",), ("learning_rate", "epsilon")),
    "rmsprop": (("mean_square",), ("learning_rate", "rho", "epsilon")),
    "adam": (("m", "v", "t"), ("learning_rate", "beta_1", "beta_2", "epsilon")),
    "adamw": (("m", "v", "t"), ("learning_rate", "beta_1", "beta_2", "epsilon", "weight_decay")),
}


def _reference_trajectory(kind, grad, start, steps, state, hyper):
    opt = _optimizer(kind, **hyper)
    for key, val in state.items():
        setattr(opt, key, int(val) if key == "t" else [np.array(val, dtype=np.float64)])
    p = np.array(start, dtype=np.float64)
    out = [p.copy()]
    with np.errstate(all="ignore"):
        for _ in range(steps):
            opt.step([p], [np.asarray(grad(p), dtype=np.float64)])
            out.append(p.copy())
    return np.array(out)


def rollout(step_fn, kind, grad, start, steps, state=None, name=None, **hyper):
    """Apply a pure step function ``steps`` times and return the trajectory.

    ``step_fn(theta, g, *state, **hyper)`` must return ``theta`` (plain SGD) or the tuple
    ``(theta, *state)``, with the state in the order of ``STEP_SIGNATURES[kind]``, e.g.
    ``adam_step(theta, g, m, v, t, learning_rate=..., beta_1=..., beta_2=..., epsilon=...)
    -> (theta, m, v, t)``. Each call gets fresh copies, so an in-place answer is fine.
    Problems (wrong return shape, warnings, overflow) raise AssertionError with a message.
    """

    if kind not in STEP_SIGNATURES:
        raise ValueError(f"unknown optimiser {kind!r}; valid names: {', '.join(STEP_SIGNATURES)}")
    keys, hyper_names = STEP_SIGNATURES[kind]
    name = name or getattr(step_fn, "__name__", "your step function")
    unknown = set(hyper) - set(hyper_names)
    if unknown:
        raise ValueError(f"{kind} steps take only {', '.join(hyper_names)}; got "
                         f"{', '.join(sorted(unknown))}")
    state = dict(state or {})
    theta = np.array(start, dtype=np.float64)
    values = [state.get(k, 0 if k == "t" else np.zeros_like(theta)) for k in keys]
    values = [int(v) if k == "t" else np.array(v, dtype=np.float64) for k, v in zip(keys, values)]
    link = getattr(step_fn, "_link", None)
    if link is not None and hasattr(link, "rollout"):
        # a student's function in a grading kernel: run the whole rollout there in one request
        # and replay its results here, where they are judged exactly as step-by-step calls
        replay = link.rollout(step_fn, grad, theta, values, keys, hyper, steps, _CALL_ERRSTATE,
                              name)
        if replay is not None:
            step_fn = replay
    out = [theta.copy()]
    expected_form = "(" + ", ".join(("theta",) + keys) + ")" if keys else "theta"
    for k in range(steps):
        g = np.asarray(grad(theta), dtype=np.float64)
        args = (theta.copy(), g.copy()) + tuple(v if isinstance(v, int) else v.copy()
                                                for v in values)
        res = checks.call_checked(step_fn, args, hyper, name=name, where=f" at step {k + 1}")
        if keys:
            if not isinstance(res, (tuple, list)) or len(res) != 1 + len(keys):
                raise AssertionError(f"{name} should return {expected_form}, got "
                                     f"{type(res).__name__} {res!r:.120}")
            theta = checks.as_array(res[0], f"theta returned by {name}")
            new = []
            for key, val in zip(keys, res[1:]):
                if key == "t":
                    t_arr = checks.as_array(val, f"t returned by {name}")
                    if t_arr.shape != () or t_arr != np.round(t_arr):
                        raise AssertionError(f"t returned by {name} should be a whole number "
                                             f"(the step count), got {val!r}")
                    new.append(int(t_arr))
                else:
                    arr = checks.as_array(val, f"{key} returned by {name}")
                    if arr.shape != theta.shape:
                        raise AssertionError(f"{key} returned by {name} has shape {arr.shape}, "
                                             f"expected {theta.shape} (one value per parameter)")
                    new.append(arr)
            values = new
        else:
            theta = checks.as_array(res, f"theta returned by {name}")
        if theta.shape != out[0].shape:
            raise AssertionError(f"theta returned by {name} has shape {theta.shape}, expected "
                                 f"{out[0].shape}")
        out.append(theta.copy())
    return np.array(out)


def check_step(step_fn, kind, grad, cases, steps=30, name=None, rtol=1e-9, atol=1e-12,
               **hyper):
    """Grade a pure step function: for each ``(start, state)`` in ``cases`` roll it out for
    ``steps`` steps and compare the trajectory with the reference optimiser's.

    On a mismatch the AssertionError names the first differing step and, when one fits,
    the convention mix-up (see :func:`diagnose`): ε inside the square root, the step
    counter bumped after use, the EWMA form of momentum, ...
    """

    name = name or getattr(step_fn, "__name__", "your step function")
    for start, state in cases:
        state = dict(state or {})
        expected = _reference_trajectory(kind, grad, start, steps, state, hyper)
        got = rollout(step_fn, kind, grad, start, steps, state, name=name, **hyper)
        shown = ", ".join(f"{k}={np.asarray(v).tolist()}" for k, v in state.items())
        label = f"{name} trajectory from start {np.asarray(start, dtype=float).tolist()}" + \
            (f" with {shown}" if shown else "") + f" over {steps} steps"
        try:
            checks.check_value(got, expected, name=label, rtol=rtol, atol=atol)
        except AssertionError as err:
            _, why = diagnose(kind, got, grad, start, steps, state=state, rtol=1e-7,
                              atol=1e-10, **hyper)
            raise AssertionError(f"{err} Row k of the trajectory is theta after k steps; "
                                 f"{why}.") from None
