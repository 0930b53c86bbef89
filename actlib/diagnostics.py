"""Checks made before and during training (lesson 11, "Making a network train").

A network here is a plain list of layers ``params = [(W1, b1), (W2, b2), ...]``: hidden layers
``a = g(a_prev @ W + b)`` with one activation g, and a linear last layer whose outputs are the
logits of a softmax classifier trained with cross-entropy (`actlib.nn.softmax_cross_entropy`).
Plain arrays cross between a student's kernel and the grader, so the lesson's exercises take and
return such lists rather than `actlib.nn.Sequential` objects.

Reference implementations:

* `mlp_init`, `mlp_forward`, `mlp_loss_and_grads` — the network, its loss and its gradients;
* `predicted_initial_loss` — the expected loss at initialisation for small random logits;
* `steps_to_memorise` — the "overfit a tiny batch" test;
* `lr_range_test` — the learning-rate range test (exponentially increasing rate);
* `update_to_data` — per-layer update-to-data ratios ‖ΔW‖ / ‖W‖;
* `layer_fractions` — saturated and dead fractions of a hidden layer;
* `early_stopping` — the epoch to keep and the epoch to stop at, from validation losses.
"""
import math
import numbers

import numpy as np

from actlib import activations as _activations
from actlib import init as _init
from actlib import nn as _nn

__all__ = ["mlp_init", "mlp_forward", "mlp_loss_and_grads", "predicted_initial_loss",
           "steps_to_memorise", "lr_range_test", "update_to_data", "layer_fractions",
           "copy_params", "as_params", "early_stopping"]


def copy_params(params):
    """A deep copy of ``[(W, b), ...]`` as float arrays."""
    return [(np.array(W, dtype=float), np.array(b, dtype=float)) for W, b in params]


def as_params(params):
    """``params`` as a list of float ``(W, b)`` pairs with matching shapes, or a ValueError
    naming what is wrong."""
    if not isinstance(params, (list, tuple)) or not params:
        raise ValueError("params must be a non-empty list of (W, b) pairs")
    out = []
    for k, pair in enumerate(params):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise ValueError(f"params[{k}] must be a pair (W, b), got {type(pair).__name__}")
        W, b = np.asarray(pair[0], dtype=float), np.asarray(pair[1], dtype=float)
        if W.ndim != 2 or b.shape != (W.shape[1],):
            raise ValueError(f"params[{k}]: W must have shape (fan_in, fan_out) and b shape "
                             f"(fan_out,), got W {W.shape} and b {b.shape}")
        if out and out[-1][0].shape[1] != W.shape[0]:
            raise ValueError(f"params[{k}]: W has {W.shape[0]} inputs but the layer before "
                             f"has {out[-1][0].shape[1]} outputs")
        out.append((W, b))
    return out


def mlp_init(sizes, rng=None, hidden_init="xavier_normal", last_std=None):
    """Parameters of a network with layer widths ``sizes`` (inputs first, classes last).

    Hidden layers use the initialiser ``hidden_init`` (a name of `actlib.init`); the last layer
    uses the same rule unless ``last_std`` is given, in which case its weights are N(0, last_std²).
    Biases start at 0. Returns ``[(W, b), ...]``.
    """
    if len(sizes) < 2:
        raise ValueError(f"sizes needs at least an input and an output width, got {sizes!r}")
    rng = _init.as_generator(rng)
    rule = _init.get(hidden_init)
    params = []
    for k, (m, n) in enumerate(zip(sizes[:-1], sizes[1:])):
        last = k == len(sizes) - 2
        if last and last_std is not None:
            W = _init.normal((m, n), std=last_std, rng=rng)
        else:
            W = rule((m, n), rng=rng)
        params.append((W, np.zeros(n)))
    return params


def mlp_forward(params, X, activation="tanh"):
    """Logits of the network and its hidden pre-activations.

    z_k = a_(k−1) W_k + b_k, a_k = g(z_k) for the hidden layers (a_0 = X), logits = a W_L + b_L.
    Returns ``(logits, pre)`` with ``pre`` the list of hidden pre-activations z_k.
    """
    params = as_params(params)
    g = _activations.get(activation) if isinstance(activation, str) else activation
    a, pre = np.asarray(X, dtype=float), []
    for W, b in params[:-1]:
        z = a @ W + b
        pre.append(z)
        a = g(z)
    W, b = params[-1]
    return a @ W + b, pre


def mlp_loss_and_grads(params, X, y, activation="tanh"):
    """Mean softmax cross-entropy of the network on (X, y) and its gradients.

    Backward, with δ_L = (softmax − onehot)/n at the logits: ∂L/∂W_k = a_(k−1)ᵀ δ_k,
    ∂L/∂b_k = Σ_batch δ_k, δ_(k−1) = (δ_k W_kᵀ) ⊙ g′(z_(k−1)). Returns
    ``(loss, [(dW1, db1), ...])`` in the order of ``params``.
    """
    params = as_params(params)
    g = _activations.get(activation) if isinstance(activation, str) else activation
    X = np.asarray(X, dtype=float)
    acts, pre, a = [X], [], X
    for W, b in params[:-1]:
        z = a @ W + b
        pre.append(z)
        a = g(z)
        acts.append(a)
    W, b = params[-1]
    loss, delta = _nn.softmax_cross_entropy(a @ W + b, y)
    grads = [None] * len(params)
    for k in range(len(params) - 1, -1, -1):
        grads[k] = (acts[k].T @ delta, delta.sum(axis=0))
        if k:
            delta = (delta @ params[k][0].T) * g.grad(pre[k - 1])
    return loss, grads


def _positive(value, label, integer=False):
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind) or not value > 0 \
            or not math.isfinite(value):
        raise ValueError(f"{label} must be a positive {'integer' if integer else 'number'}, "
                         f"got {value!r}")
    return value


def predicted_initial_loss(num_classes, logit_std):
    """Expected cross-entropy at initialisation, to second order in the logits' scale.

    For K logits drawn independently from N(0, σ²) and any label y, the loss
    ln Σ_j e^(z_j) − z_y has expectation ln K + σ² (K − 1) / (2K) + O(σ⁴).
    """
    K = _positive(num_classes, "num_classes", integer=True)
    if K < 2:
        raise ValueError(f"num_classes must be at least 2, got {K}")
    if isinstance(logit_std, bool) or not isinstance(logit_std, numbers.Real) \
            or not logit_std >= 0 or not math.isfinite(logit_std):
        raise ValueError(f"logit_std must be a finite non-negative number, got {logit_std!r}")
    return math.log(K) + logit_std ** 2 * (K - 1) / (2 * K)


def steps_to_memorise(params, X, y, learning_rate, max_steps, target_loss, activation="tanh"):
    """The overfit-a-tiny-batch test: full-batch gradient descent θ ← θ − η ∂L/∂θ on (X, y)
    from ``params`` (not modified). The loss is measured before every step and after the last;
    returns the number of steps taken when it is first below ``target_loss``, or None if it is
    not after ``max_steps`` steps."""
    params = copy_params(as_params(params))
    for step in range(int(max_steps) + 1):
        loss, grads = mlp_loss_and_grads(params, X, y, activation)
        if loss < target_loss:
            return step
        if step == max_steps:
            return None
        params = [(W - learning_rate * dW, b - learning_rate * db)
                  for (W, b), (dW, db) in zip(params, grads)]
    return None  # pragma: no cover


def lr_range_test(params, X, y, lr_min, lr_max, steps, activation="tanh", blow_up=4.0):
    """Learning-rate range test: one full-batch gradient-descent step per rate, the rate growing
    geometrically, r_k = lr_min (lr_max/lr_min)^(k/(steps − 1)), k = 0 … steps − 1.

    At step k the loss L_k is measured (and recorded) before the step with rate r_k. The test
    stops after recording a loss that is not finite or exceeds ``blow_up`` × the smallest loss
    recorded so far. ``params`` is not modified. Returns ``(rates, losses)``, arrays of the same
    length (the rates actually used for the losses recorded).
    """
    params = copy_params(as_params(params))
    steps = _positive(steps, "steps", integer=True)
    if steps < 2:
        raise ValueError(f"steps must be at least 2, got {steps}")
    _positive(lr_min, "lr_min")
    _positive(lr_max, "lr_max")
    rates = lr_min * (lr_max / lr_min) ** (np.arange(steps) / (steps - 1))
    losses = []
    with np.errstate(over="ignore", invalid="ignore"):
        for rate in rates:
            loss, grads = mlp_loss_and_grads(params, X, y, activation)
            losses.append(loss)
            if not math.isfinite(loss) or loss > blow_up * min(losses):
                break
            params = [(W - rate * dW, b - rate * db)
                      for (W, b), (dW, db) in zip(params, grads)]
    return rates[:len(losses)], np.array(losses)


def _norm(a):
    """Euclidean (Frobenius) norm without overflow or underflow: scaled by the largest entry."""
    a = np.asarray(a, dtype=float)
    largest = float(np.max(np.abs(a), initial=0.0))
    if largest == 0.0:
        return 0.0
    return largest * float(np.sqrt(np.sum((a / largest) ** 2)))


def update_to_data(before, after):
    """Per layer, the update-to-data ratio of the weights: ‖W_after − W_before‖ / ‖W_before‖
    (Frobenius norms; biases are not counted). A layer whose weights were all 0 has ratio inf
    if they moved and 0 if not. ``before`` and ``after`` are lists of (W, b) pairs. Returns a
    float array, one entry per layer."""
    before, after = as_params(before), as_params(after)
    if len(before) != len(after):
        raise ValueError(f"before has {len(before)} layers and after {len(after)}")
    out = []
    for (W0, _), (W1, _) in zip(before, after):
        if W0.shape != W1.shape:
            raise ValueError(f"weight shapes differ: {W0.shape} and {W1.shape}")
        scale = max(float(np.max(np.abs(W0), initial=0.0)), float(np.max(np.abs(W1), initial=0.0)))
        if scale == 0.0:
            out.append(0.0)
            continue
        moved, size = _norm(W1 / scale - W0 / scale), _norm(W0 / scale)
        out.append(moved / size if size > 0 else (math.inf if moved > 0 else 0.0))
    return np.array(out)


def layer_fractions(z, activation):
    """Saturated and dead fractions of one hidden layer from its pre-activations z (batch, units).

    ``saturated``: fraction of all entries where |g′(z)| ≤ 0.05 max |g′| (`nn.saturated_fraction`);
    ``dead``: fraction of units whose pre-activation is ≤ 0 on every example of the batch (for a
    ReLU layer such a unit outputs 0 and passes no gradient). Returns a dict.
    """
    z = np.asarray(z, dtype=float)
    if z.ndim != 2 or z.size == 0:
        raise ValueError(f"z must be a non-empty array of shape (batch, units), got {z.shape}")
    return {"saturated": _nn.saturated_fraction(z, activation),
            "dead": float(np.mean(np.all(z <= 0, axis=0)))}


def early_stopping(val_losses, patience):
    """Early stopping with patience p on the validation losses v_0, v_1, … (one per epoch).

    Epoch 0 is the first best; a later epoch is the new best only when its loss is strictly
    lower than the best so far (a nan never is). Training stops at the first epoch k with
    k − best = p, or at the last epoch if that never happens. Returns ``(best, stop)``.
    """
    v = np.asarray(val_losses, dtype=float)
    if v.ndim != 1 or v.size == 0:
        raise ValueError(f"val_losses must be a non-empty sequence of numbers, got shape {v.shape}")
    p = _positive(patience, "patience", integer=True)
    best = 0
    for k in range(1, v.size):
        if v[k] < v[best]:
            best = k
        elif k - best >= p:
            return best, k
    return best, v.size - 1
