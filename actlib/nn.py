"""A tiny NumPy multilayer network for teaching: dense layers, batch normalisation,
losses, backpropagation and a finite-difference gradient check.

Arrays are batches: a layer maps ``x`` of shape (batch, fan_in) to (batch, fan_out).
Every layer has

* ``forward(x)`` — computes and remembers what the backward pass needs;
* ``backward(grad_out)`` — takes ∂L/∂(output), stores ∂L/∂(parameter) in ``.grads`` and
  returns ∂L/∂(input), by the chain rule;
* ``.params`` and ``.grads`` — dicts name → array (same keys).

``Sequential`` chains layers; its ``params()`` and ``grads()`` return matching lists, so an
optimiser ``step(params, grads)`` that updates the arrays in place can train it::

    net = Sequential([Dense(2, 3, "relu", rng=rng), BatchNorm(3),
                      Dense(3, 2, "relu", rng=rng), BatchNorm(2),
                      Dense(2, 1, "sigmoid", init="xavier_normal", rng=rng)])
    for _ in range(epochs):
        loss, grad = binary_cross_entropy(net.forward(X), y)   # forward pass, cost
        net.backward(grad)                                      # backpropagation
        for p, g in zip(net.params(), net.grads()):             # update
            p -= learning_rate * g

Activations come from the course registry, ``actlib.activations.get(name)`` (value
``f(z)``, derivative ``f.grad(z)``).
"""
import math
import numbers
from dataclasses import dataclass, field

import numpy as np

from actlib import activations as _activations
from actlib import init as _init

__all__ = ["Dense", "Activation", "BatchNorm", "LayerNorm", "Sequential", "mse_loss",
           "softmax_cross_entropy", "binary_cross_entropy", "gradient_check",
           "propagate", "Propagation", "saturated_fraction", "dead_unit_mask",
           "dead_unit_fraction"]


# --- helpers ----------------------------------------------------------------------------
def _positive_int(value, label):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{label} must be a positive integer, got {value!r}")
    return int(value)


def _batch(x, width, who):
    """``x`` as a float array of shape (batch, width), or a ValueError saying what is wrong."""
    x = np.asarray(x, dtype=float)
    if x.ndim != 2 or x.shape[1] != width:
        raise ValueError(f"{who} expects an array of shape (batch, {width}), got shape {x.shape}")
    return x


def _resolve_activation(activation):
    """A registry entry from a name, or any object with ``__call__`` and ``.grad``."""
    if isinstance(activation, str):
        return _activations.get(activation)
    if callable(activation) and callable(getattr(activation, "grad", None)):
        return activation
    raise TypeError(f"activation must be a name from actlib.activations.names() or an object "
                    f"f with f(z) and f.grad(z), got {activation!r}")


def _activation_backward(f, z, grad_out, params):
    """∂L/∂z from ∂L/∂a for a = f(z): elementwise product for an elementwise f, or a
    Jacobian–vector product ∑_i g_i ∂a_i/∂z_j when f.grad returns a Jacobian (softmax)."""
    d = f.grad(z, **params)
    if d.shape == z.shape:
        return grad_out * d
    return np.einsum("bi,bij->bj", grad_out, d)


def _resolve_init(init):
    """An initialiser ``(shape, rng) -> array`` from a name, a callable or a number
    (the standard deviation of a plain normal)."""
    if isinstance(init, str):
        return _init.get(init)
    if isinstance(init, numbers.Real) and not isinstance(init, bool):
        std = float(init)
        return lambda shape, rng=None: _init.normal(shape, std=std, rng=rng)
    if callable(init):
        return init
    raise TypeError(f"init must be a name from actlib.init.names(), a callable "
                    f"(shape, rng) -> array, or a number (normal std), got {init!r}")


# --- layers -------------------------------------------------------------------------------
class Dense:
    """A fully connected layer followed by an activation: z = x W + b, a = g(z).

    Backward, with δ = ∂L/∂a given:  ∂L/∂z = δ ⊙ g′(z),  ∂L/∂W = xᵀ (∂L/∂z),
    ∂L/∂b = ∑_batch ∂L/∂z,  ∂L/∂x = (∂L/∂z) Wᵀ.

    Parameters
    ----------
    fan_in, fan_out : int
        Input and output widths; W has shape (fan_in, fan_out), b shape (fan_out,) and
        starts at 0.
    activation : str or activation object
        A name from ``actlib.activations.names()`` ("linear" for none).
    init : str, callable or float
        A name from ``actlib.init.names()``, a callable ``(shape, rng)``, or a number used
        as the standard deviation of a plain normal.
    rng : numpy.random.Generator, optional
    activation_params : dict, optional
        Extra parameters of the activation, e.g. ``{"alpha": 0.1}`` for leaky_relu.
    """

    def __init__(self, fan_in, fan_out, activation="relu", init="he_normal", rng=None,
                 activation_params=None):
        self.fan_in = _positive_int(fan_in, "fan_in")
        self.fan_out = _positive_int(fan_out, "fan_out")
        self.activation = _resolve_activation(activation)
        self.activation_params = dict(activation_params or {})
        W = _resolve_init(init)((self.fan_in, self.fan_out), rng=rng)
        self.params = {"W": np.asarray(W, dtype=float), "b": np.zeros(self.fan_out)}
        self.grads = {"W": np.zeros((self.fan_in, self.fan_out)), "b": np.zeros(self.fan_out)}
        self.x = self.z = None

    W = property(lambda self: self.params["W"])
    b = property(lambda self: self.params["b"])

    def forward(self, x):
        """a = g(x W + b) for a batch x of shape (batch, fan_in)."""
        self.x = _batch(x, self.fan_in, "Dense.forward")
        self.z = self.x @ self.params["W"] + self.params["b"]
        return self.activation(self.z, **self.activation_params)

    def backward(self, grad_out):
        """Store ∂L/∂W, ∂L/∂b in ``.grads``; return ∂L/∂x. ``grad_out`` is ∂L/∂a."""
        if self.z is None:
            raise RuntimeError("Dense.backward called before forward")
        grad_out = _batch(grad_out, self.fan_out, "Dense.backward")
        if grad_out.shape[0] != self.z.shape[0]:
            raise ValueError(f"Dense.backward: grad_out has batch {grad_out.shape[0]} but the "
                             f"last forward pass had batch {self.z.shape[0]}")
        dz = _activation_backward(self.activation, self.z, grad_out, self.activation_params)
        self.grads = {"W": self.x.T @ dz, "b": dz.sum(axis=0)}
        return dz @ self.params["W"].T

    def __repr__(self):
        return f"Dense({self.fan_in}, {self.fan_out}, activation={self.activation.name!r})" \
            if hasattr(self.activation, "name") else f"Dense({self.fan_in}, {self.fan_out})"


class Activation:
    """An activation on its own, a = g(z), for placing batch norm *before* the
    non-linearity (Dense(..., "linear") → BatchNorm → Activation("relu"))."""

    def __init__(self, activation, activation_params=None):
        self.activation = _resolve_activation(activation)
        self.activation_params = dict(activation_params or {})
        self.params, self.grads = {}, {}
        self.z = None

    def forward(self, z):
        """a = g(z)."""
        self.z = np.asarray(z, dtype=float)
        return self.activation(self.z, **self.activation_params)

    def backward(self, grad_out):
        """∂L/∂z = ∂L/∂a ⊙ g′(z)."""
        if self.z is None:
            raise RuntimeError("Activation.backward called before forward")
        grad_out = np.asarray(grad_out, dtype=float)
        if grad_out.shape != self.z.shape:
            raise ValueError(f"Activation.backward: grad_out shape {grad_out.shape} differs "
                             f"from the forward input's {self.z.shape}")
        return _activation_backward(self.activation, self.z, grad_out, self.activation_params)

    def __repr__(self):
        return f"Activation({getattr(self.activation, 'name', self.activation)!r})"


class BatchNorm:
    """Batch normalisation of each feature: y = γ · (x − μ) / √(σ² + ε) + β.

    Training mode (``training = True``, the default) uses the batch's mean μ and
    (population) variance σ² and updates the running estimates
    running ← momentum · running + (1 − momentum) · batch value. Inference mode
    (``training = False``) uses the running estimates instead, so a prediction does not
    depend on the rest of the batch. γ starts at 1, β at 0, running mean at 0 and running
    variance at 1 (Keras' defaults, with its momentum convention).

    Backward in training mode, with x̂ = (x − μ)/√(σ² + ε), g = ∂L/∂y and n the batch size
    (μ and σ² depend on every x in the batch):
        ∂L/∂γ = ∑ g ⊙ x̂,   ∂L/∂β = ∑ g,
        ∂L/∂x = γ / (n √(σ² + ε)) · (n g − ∑ g − x̂ ∑ (g ⊙ x̂)).
    In inference mode μ and σ² are constants and ∂L/∂x = γ g / √(running σ² + ε).
    """

    def __init__(self, dim, momentum=0.9, eps=1e-5):
        self.dim = _positive_int(dim, "dim")
        if isinstance(momentum, bool) or not isinstance(momentum, numbers.Real) \
                or not 0.0 <= momentum <= 1.0:
            raise ValueError(f"momentum must be a number in [0, 1], got {momentum!r}")
        if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not eps > 0 \
                or not math.isfinite(eps):
            raise ValueError(f"eps must be a positive finite number, got {eps!r}")
        self.momentum, self.eps = float(momentum), float(eps)
        self.params = {"gamma": np.ones(self.dim), "beta": np.zeros(self.dim)}
        self.grads = {"gamma": np.zeros(self.dim), "beta": np.zeros(self.dim)}
        self.running_mean = np.zeros(self.dim)
        self.running_var = np.ones(self.dim)
        self.training = True
        self._cache = None

    gamma = property(lambda self: self.params["gamma"])
    beta = property(lambda self: self.params["beta"])

    def forward(self, x):
        """Normalise each column of ``x`` (batch, dim), then scale by γ and shift by β."""
        x = _batch(x, self.dim, "BatchNorm.forward")
        if self.training:
            if x.shape[0] < 2:
                raise ValueError("BatchNorm in training mode needs a batch of at least 2 "
                                 "samples to estimate a variance; got 1 (use training=False "
                                 "to predict one sample)")
            mean = x.mean(axis=0)
            centred = x - mean
            var = (centred * centred).mean(axis=0)
            m = self.momentum
            self.running_mean = m * self.running_mean + (1.0 - m) * mean
            self.running_var = m * self.running_var + (1.0 - m) * var
        else:
            centred, var = x - self.running_mean, self.running_var
        inv_std = 1.0 / np.sqrt(var + self.eps)
        x_hat = centred * inv_std
        self._cache = (x_hat, inv_std, self.training)
        return self.params["gamma"] * x_hat + self.params["beta"]

    def backward(self, grad_out):
        """Store ∂L/∂γ, ∂L/∂β in ``.grads``; return ∂L/∂x (see the class docstring)."""
        if self._cache is None:
            raise RuntimeError("BatchNorm.backward called before forward")
        x_hat, inv_std, training = self._cache
        g = _batch(grad_out, self.dim, "BatchNorm.backward")
        if g.shape != x_hat.shape:
            raise ValueError(f"BatchNorm.backward: grad_out shape {g.shape} differs from the "
                             f"forward input's {x_hat.shape}")
        g_sum, gx_sum = g.sum(axis=0), (g * x_hat).sum(axis=0)
        self.grads = {"gamma": gx_sum, "beta": g_sum}
        scale = self.params["gamma"] * inv_std
        if not training:
            return g * scale
        n = g.shape[0]
        return (scale / n) * (n * g - g_sum - x_hat * gx_sum)

    def __repr__(self):
        return f"BatchNorm({self.dim}, momentum={self.momentum}, eps={self.eps})"


class LayerNorm:
    """Layer normalisation of each example: y = γ ⊙ (x − μ) / √(σ² + ε) + β, where μ and σ²
    are the mean and (population) variance of one *row* x (over its ``dim`` features), and
    γ, β are per-feature parameters (γ starts at 1, β at 0; Ba, Kiros and Hinton, 2016).

    Each example is normalised by its own statistics, so the layer computes the same thing
    in training and in evaluation, for a batch of one as for a batch of thousands: it needs
    no running statistics (``training`` is kept only so that ``Sequential.train`` may set it).

    Backward, with x̂ = (x − μ)/√(σ² + ε) and g = ∂L/∂y: ∂L/∂γ = ∑_batch g ⊙ x̂ and
    ∂L/∂β = ∑_batch g; ∂L/∂x goes through x̂ and through the row's own μ and σ², which depend on
    every entry of that row (its derivation is Exercise 11.6 of lesson 11; `tests/test_diagnostics.py`
    checks it against finite differences).
    """

    def __init__(self, dim, eps=1e-5):
        self.dim = _positive_int(dim, "dim")
        if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not eps > 0 \
                or not math.isfinite(eps):
            raise ValueError(f"eps must be a positive finite number, got {eps!r}")
        self.eps = float(eps)
        self.params = {"gamma": np.ones(self.dim), "beta": np.zeros(self.dim)}
        self.grads = {"gamma": np.zeros(self.dim), "beta": np.zeros(self.dim)}
        self.training = True
        self._cache = None

    gamma = property(lambda self: self.params["gamma"])
    beta = property(lambda self: self.params["beta"])

    def forward(self, x):
        """Normalise each row of ``x`` (batch, dim), then scale by γ and shift by β."""
        x = _batch(x, self.dim, "LayerNorm.forward")
        centred = x - x.mean(axis=1, keepdims=True)
        # √(σ² + ε) without overflow: with s the row's largest |x − μ| and m = mean((x − μ)/s)²,
        # σ² = s² m; for s ≥ 1 take s √(m + ε/s²) (nothing squared overflows), for s < 1 take
        # √(s² m + ε) directly (a square may only underflow, harmlessly, next to ε)
        s = np.max(np.abs(centred), axis=1, keepdims=True)
        big = s >= 1.0
        s_big = np.where(big, s, 1.0)
        m = np.mean((centred / np.where(s > 0, s, 1.0)) ** 2, axis=1, keepdims=True)
        root_big = np.sqrt(m + self.eps / s_big / s_big)          # √(σ² + ε) / s for big rows
        s_small = np.where(big, 0.0, s)
        root_small = np.sqrt(s_small * s_small * m + self.eps)   # √(σ² + ε) for the others
        x_hat = np.where(big, (centred / s_big) / root_big, centred / root_small)
        inv_std = np.where(big, 1.0 / s_big / root_big, 1.0 / root_small)
        self._cache = (x_hat, inv_std)
        return self.params["gamma"] * x_hat + self.params["beta"]

    def backward(self, grad_out):
        """Store ∂L/∂γ, ∂L/∂β in ``.grads``; return ∂L/∂x (see the class docstring)."""
        if self._cache is None:
            raise RuntimeError("LayerNorm.backward called before forward")
        x_hat, inv_std = self._cache
        g = _batch(grad_out, self.dim, "LayerNorm.backward")
        if g.shape != x_hat.shape:
            raise ValueError(f"LayerNorm.backward: grad_out shape {g.shape} differs from the "
                             f"forward input's {x_hat.shape}")
        self.grads = {"gamma": (g * x_hat).sum(axis=0), "beta": g.sum(axis=0)}
        gh = g * self.params["gamma"]
        d = self.dim
        return (inv_std / d) * (d * gh - gh.sum(axis=1, keepdims=True)
                                - x_hat * (gh * x_hat).sum(axis=1, keepdims=True))

    def __repr__(self):
        return f"LayerNorm({self.dim}, eps={self.eps})"


class Sequential:
    """Layers applied one after the other; backward runs them in reverse (chain rule)."""

    def __init__(self, layers):
        self.layers = list(layers)
        for layer in self.layers:
            if not all(hasattr(layer, a) for a in ("forward", "backward", "params", "grads")):
                raise TypeError(f"{layer!r} is not a layer (needs forward, backward, "
                                f".params and .grads)")

    def forward(self, x):
        """The network's output for a batch ``x``."""
        for layer in self.layers:
            x = layer.forward(x)
        return x

    __call__ = forward

    def backward(self, grad_out):
        """Backpropagate ∂L/∂(output); fills every layer's ``.grads``; returns ∂L/∂x."""
        for layer in reversed(self.layers):
            grad_out = layer.backward(grad_out)
        return grad_out

    def params(self):
        """All parameter arrays, layer by layer (the arrays themselves, not copies)."""
        return [p for layer in self.layers for p in layer.params.values()]

    def grads(self):
        """The gradients of the last backward pass, in the order of ``params()``."""
        return [layer.grads[k] for layer in self.layers for k in layer.params]

    def train(self, mode=True):
        """Set every batch-norm layer to training (True) or inference (False) mode."""
        for layer in self.layers:
            if hasattr(layer, "training"):
                layer.training = bool(mode)
        return self

    def eval(self):
        """Inference mode: batch norm uses its running statistics."""
        return self.train(False)

    def __repr__(self):
        inner = ",\n  ".join(repr(layer) for layer in self.layers)
        return f"Sequential([\n  {inner}])"


# --- losses --------------------------------------------------------------------------------
def _same_shape(pred, target, who):
    pred, target = np.asarray(pred, dtype=float), np.asarray(target, dtype=float)
    if target.shape != pred.shape and pred.ndim == 2 and pred.shape[1] == 1 \
            and target.shape == pred.shape[:1]:
        target = target[:, None]           # labels y of shape (n,) for outputs of shape (n, 1)
    if target.shape != pred.shape:
        raise ValueError(f"{who}: prediction shape {pred.shape} and target shape "
                         f"{target.shape} differ")
    return pred, target


def mse_loss(pred, target):
    """Mean squared error over all entries, L = (1/N) ∑ (ŷ − y)², and ∂L/∂ŷ = 2(ŷ − y)/N.

    A target of shape (n,) is accepted for a prediction of shape (n, 1). Returns
    ``(loss, grad)``.
    """
    pred, target = _same_shape(pred, target, "mse_loss")
    diff = pred - target
    return float(np.mean(diff * diff)), 2.0 * diff / diff.size


def binary_cross_entropy(prob, target, eps=1e-12):
    """Cross-entropy of probabilities p (e.g. a sigmoid output) against labels y ∈ {0, 1}:
    L = −(1/N) ∑ [y ln p + (1 − y) ln(1 − p)],  ∂L/∂p = (p − y) / (p (1 − p)) / N.

    p is clipped to [eps, 1 − eps] so that ln 0 never occurs for a saturated sigmoid
    (as Keras does); inside that interval the loss and gradient are exact. Returns
    ``(loss, grad)``; a target of shape (n,) is accepted for p of shape (n, 1).
    """
    p, y = _same_shape(prob, target, "binary_cross_entropy")
    if not np.all((p >= 0) & (p <= 1)):                  # also false for nan
        raise ValueError("binary_cross_entropy expects probabilities in [0, 1] (apply a "
                         "sigmoid to the logits first)")
    p = np.clip(p, eps, 1.0 - eps)
    loss = -np.mean(y * np.log(p) + (1.0 - y) * np.log1p(-p))
    return float(loss), (p - y) / (p * (1.0 - p)) / p.size


def softmax_cross_entropy(logits, labels):
    """Softmax followed by cross-entropy, averaged over the batch, in one stable step.

    With s = softmax(z) and one-hot (or probability) rows y:
    L = −(1/n) ∑_i ∑_k y_ik log s_ik,   ∂L/∂z = (s − y) / n.
    log s is computed as log-softmax, z − max z − log ∑ exp(z − max z), so no exponential
    overflows and log 0 never occurs. ``labels`` are integer classes of shape (n,) in
    [0, k) or rows of shape (n, k). Returns ``(loss, grad)``.
    """
    z = np.asarray(logits, dtype=float)
    if z.ndim != 2:
        raise ValueError(f"softmax_cross_entropy expects logits of shape (batch, classes), "
                         f"got shape {z.shape}")
    n, k = z.shape
    labels = np.asarray(labels)
    if labels.ndim == 1:
        if labels.shape[0] != n:
            raise ValueError(f"softmax_cross_entropy: {labels.shape[0]} labels for a batch of {n}")
        if not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"class labels of shape (n,) must be integers, got dtype "
                             f"{labels.dtype}")
        if labels.size and (labels.min() < 0 or labels.max() >= k):
            raise ValueError(f"class labels must lie in [0, {k}), got min {labels.min()}, "
                             f"max {labels.max()}")
        y = np.zeros((n, k))
        y[np.arange(n), labels] = 1.0
    elif labels.shape == z.shape:
        y = labels.astype(float)
    else:
        raise ValueError(f"labels must be integers of shape ({n},) or rows of shape {z.shape}, "
                         f"got shape {labels.shape}")
    log_s = _activations.log_softmax(z, axis=-1)
    loss = -np.sum(y * log_s) / n
    # softmax = exp(log-softmax); probabilities below e^-700 are set to 0 directly rather
    # than letting exp underflow
    s = np.where(log_s > -700.0, np.exp(np.maximum(log_s, -700.0)), 0.0)
    return float(loss), (s - y) / n


# --- gradient check -------------------------------------------------------------------------
def gradient_check(model, x, target, loss=mse_loss, eps=1e-6, check_input=True):
    """Largest relative error between backpropagated and finite-difference gradients.

    For every parameter entry θ (and every input entry when ``check_input``), the
    derivative ∂L/∂θ from ``model.backward`` is compared with the central difference
    (L(θ + ε) − L(θ − ε)) / (2ε), whose error is O(ε²) plus round-off. The relative error
    of an entry is |analytic − numeric| / max(|analytic|, |numeric|, floor) with
    floor = 10⁻³ × the largest gradient entry seen, so that round-off on a gradient that is
    exactly 0 (e.g. the bias of a layer followed by batch norm) is not counted as an error.
    Expect about 1e-7 or less for a correct float64 implementation.

    ``model`` is a layer or a ``Sequential``; ``loss(pred, target)`` returns
    ``(loss, grad)``. Parameters, batch-norm running statistics and the input are
    restored afterwards.
    """
    net = model if isinstance(model, Sequential) else Sequential([model])
    x = np.array(x, dtype=float)
    saved = [(layer, layer.running_mean.copy(), layer.running_var.copy())
             for layer in net.layers if isinstance(layer, BatchNorm)]

    def loss_at(inp):
        return loss(net.forward(inp), target)[0]

    value, grad = loss(net.forward(x), target)
    grad_x = net.backward(grad)
    pairs = [(p, g.copy()) for p, g in zip(net.params(), net.grads())]
    arrays = pairs + ([(x, grad_x)] if check_input else [])
    numeric = []
    for array, _ in arrays:
        num = np.zeros(array.shape)
        for idx in np.ndindex(array.shape):
            old = array[idx]
            array[idx] = old + eps
            up = loss_at(x)
            array[idx] = old - eps
            down = loss_at(x)
            array[idx] = old
            num[idx] = (up - down) / (2.0 * eps)
        numeric.append(num)
    for layer, mean, var in saved:
        layer.running_mean, layer.running_var = mean, var
    scale = max([0.0] + [float(np.max(np.abs(a), initial=0.0)) for _, a in arrays]
                + [float(np.max(np.abs(n), initial=0.0)) for n in numeric])
    if scale == 0.0:
        return 0.0
    worst = 0.0
    for (_, a), n in zip(arrays, numeric):
        a = np.asarray(a, dtype=float)
        denom = np.maximum(np.maximum(np.abs(a), np.abs(n)), 1e-3 * scale)
        worst = max(worst, float(np.max(np.abs(a - n) / denom, initial=0.0)))
    return worst


# --- signal propagation through depth (the initialisation lesson) ----------------------------
_MAX_SLOPE = {}


def _max_slope(f, params):
    """The largest |g′| of an elementwise activation over a fine grid of [−10, 10]."""
    key = (getattr(f, "name", id(f)), tuple(sorted(params.items())))
    if key not in _MAX_SLOPE:
        probe = np.array([[-1.0, 0.5, 2.0]])
        if np.shape(f.grad(probe, **params)) != probe.shape:
            raise ValueError(f"saturation is defined for elementwise activations, not "
                             f"{getattr(f, 'name', f)!r}")
        grid = np.linspace(-10.0, 10.0, 20001)
        _MAX_SLOPE[key] = float(np.max(np.abs(f.grad(grid, **params))))
    return _MAX_SLOPE[key]


def saturated_fraction(z, activation, tol=0.05, activation_params=None):
    """Fraction of units whose local slope is nearly flat: |g′(z)| ≤ tol · max |g′|.

    ``z`` are pre-activations. A saturated unit passes almost no gradient back. With the
    default tol = 0.05 this is |a| > 0.975 for tanh, a < 0.013 or a > 0.987 for sigmoid,
    and z ≤ 0 (an inactive unit, exactly zero slope) for ReLU. The max slope is taken
    over z ∈ [−10, 10].
    """
    f = _resolve_activation(activation)
    params = dict(activation_params or {})
    z = np.asarray(z, dtype=float)
    if z.size == 0:
        raise ValueError("saturated_fraction needs at least one pre-activation")
    if not 0.0 <= tol < 1.0:
        raise ValueError(f"tol must be in [0, 1), got {tol!r}")
    d = np.abs(f.grad(z, **params))
    return float(np.mean(d <= tol * _max_slope(f, params)))


def dead_unit_mask(X, W, b):
    """Which units of the ReLU layer ``relu(X @ W + b)`` are dead on the inputs ``X``.

    A unit j is dead when its pre-activation z_j = x·W[:, j] + b_j is <= 0 for *every* row
    x of ``X`` (shape (n, d); ``W`` (d, m); ``b`` (m,)). With the convention ReLU'(0) = 0 its
    output and its gradient are then 0 on every input, so gradient descent can never move
    it again. Returns a boolean array of shape (m,).
    """
    X, W = np.asarray(X, dtype=float), np.asarray(W, dtype=float)
    if X.ndim != 2 or W.ndim != 2 or X.shape[1] != W.shape[0]:
        raise ValueError(f"X must have shape (n, d) and W shape (d, m) with the same d; got "
                         f"X {X.shape} and W {W.shape}")
    return np.all(X @ W + np.asarray(b, dtype=float) <= 0, axis=0)


def dead_unit_fraction(X, W, b):
    """Fraction of dead units (see `dead_unit_mask`) in the ReLU layer relu(X @ W + b)."""
    return float(np.mean(dead_unit_mask(X, W, b)))


@dataclass
class Propagation:
    """What ``propagate`` measured, one entry per layer (index 0 = first hidden layer).

    ``pre``: pre-activations z; ``acts``: activations a; ``grads``: ∂L/∂a for each layer's
    output; ``weight_grad_norms``: Frobenius norm ‖∂L/∂W‖ of each layer;
    ``activation``, ``init``: what was used.
    """
    pre: list
    acts: list
    grads: list
    weight_grad_norms: np.ndarray
    activation: str
    init: object
    saturated: np.ndarray = field(default=None)

    @property
    def depth(self):
        return len(self.acts)

    def act_stats(self):
        """Per layer: dict of mean, std and fraction saturated of the activations."""
        return [{"mean": float(a.mean()), "std": float(a.std()), "saturated": float(s)}
                for a, s in zip(self.acts, self.saturated)]

    def grad_stats(self):
        """Per layer: dict of mean and std of ∂L/∂a and the weight-gradient norm."""
        return [{"mean": float(g.mean()), "std": float(g.std()), "weight_grad_norm": float(w)}
                for g, w in zip(self.grads, self.weight_grad_norms)]


def propagate(depth, width, activation="tanh", init="xavier_normal", rng=None, n=500,
              activation_params=None):
    """Send a batch through a deep stack of equal-width dense layers and back.

    Builds ``depth`` layers Dense(width, width, activation, init) (zero biases), feeds
    ``n`` inputs x ~ N(0, 1), records each layer's z and a, then backpropagates a
    standard-normal ∂L/∂(output) (the loss L = ∑ a_L ⊙ G for a random G) and records
    ∂L/∂a per layer and ‖∂L/∂W‖. ``init`` is a name, a callable or a number (the std of a
    plain normal, e.g. 0.01 "too small", 1.0 "too large"). Returns a ``Propagation``.
    """
    depth = _positive_int(depth, "depth")
    width = _positive_int(width, "width")
    n = _positive_int(n, "n")
    rng = _init.as_generator(rng)
    layers = [Dense(width, width, activation, init, rng=rng,
                    activation_params=activation_params) for _ in range(depth)]
    x = rng.standard_normal((n, width))
    pre, acts = [], []
    for layer in layers:
        x = layer.forward(x)
        pre.append(layer.z)
        acts.append(x)
    g = rng.standard_normal(x.shape)
    grads, norms = [None] * depth, np.zeros(depth)
    for i in range(depth - 1, -1, -1):
        grads[i] = g
        g = layers[i].backward(g)
        norms[i] = np.linalg.norm(layers[i].grads["W"])
    f = layers[0].activation
    sat = np.array([saturated_fraction(z, f, activation_params=activation_params)
                    for z in pre])
    name = activation if isinstance(activation, str) else getattr(f, "name", repr(f))
    return Propagation(pre, acts, grads, norms, name, init, sat)
