"""Gradient-descent optimisers with explicit, inspectable state.

Every optimiser has the Keras-style constructor of the course's source material, e.g.
``SGD(learning_rate=0.01, momentum=0.0, nesterov=False)``, and two methods:

``step(params, grads)``
    updates a list of floating-point NumPy arrays **in place**, one gradient per array;
``reset()``
    forgets the state (velocities, accumulators, the step counter ``t``).

The state lives in public attributes (``velocity``, ``accumulator``, ``mean_square``,
``m``, ``v``, ``t``) as lists of arrays, one per parameter. They are created (zeros, or the
initial accumulator value) on the first ``step``; they may also be assigned before a step
to start from a given state (their shapes are checked against the parameters).

Conventions (where the major frameworks differ, the choice is stated in each docstring):

* momentum accumulates the plain sum ``v = βv + g`` (PyTorch; the heavy-ball method); the
  EWMA form ``v = βv + (1−β)g`` is the same method with the learning rate scaled by 1−β;
* ε is added **outside** the square root in Adagrad, RMSprop and Adam;
* the step counter ``t`` counts completed steps: it is increased *before* it is used, so
  the first step uses t = 1 in Adam's bias correction.

The module also holds the exponentially weighted moving average :func:`ewma` and the
closed-form step sizes of gradient descent and the heavy-ball method on a quadratic.
Grading a student's optimiser step, and naming the convention mix-up behind a wrong one, is
`actlib.grading.optimcheck`.
"""
import numbers

import numpy as np

__all__ = ["Optimizer", "SGD", "Adagrad", "RMSprop", "Adam", "names", "get", "ewma",
           "gd_optimal", "heavy_ball_optimal"]


# ---------------------------------------------------------------------------- validation
def _number(name, value, low=None, high=None, low_open=False, high_open=False):
    """Return ``value`` as a float after checking it is a finite real number in range."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r} "
                        f"({type(value).__name__})")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    lo_bad = low is not None and (value <= low if low_open else value < low)
    hi_bad = high is not None and (value >= high if high_open else value > high)
    if lo_bad or hi_bad:
        lo = "" if low is None else ("(" if low_open else "[") + f"{low:g}"
        hi = "" if high is None else f"{high:g}" + (")" if high_open else "]")
        allowed = f"{lo}, {hi}" if low is not None and high is not None else (
            f">{'' if low_open else '='} {low:g}" if high is None else f"<{'' if high_open else '='} {high:g}")
        raise ValueError(f"{name} must be in {allowed}, got {value:g}")
    return value


def _check_lists(params, grads):
    """Validate ``params`` (list of float arrays) and ``grads`` (same length and shapes);
    return the gradients as float64 arrays."""
    for what, seq in (("params", params), ("grads", grads)):
        if isinstance(seq, np.ndarray) or not isinstance(seq, (list, tuple)):
            raise TypeError(f"{what} must be a list of NumPy arrays (e.g. [w, b] or [w]), "
                            f"got {type(seq).__name__}")
    if len(params) != len(grads):
        raise ValueError(f"params and grads must have the same length: got {len(params)} "
                         f"parameter arrays and {len(grads)} gradients")
    out = []
    for i, (p, g) in enumerate(zip(params, grads)):
        if not isinstance(p, np.ndarray):
            raise TypeError(f"params[{i}] must be a NumPy array (updated in place), got "
                            f"{type(p).__name__}; use np.array(..., dtype=float)")
        if not np.issubdtype(p.dtype, np.floating):
            raise TypeError(f"params[{i}] has dtype {p.dtype}; the optimiser updates it in "
                            f"place, so it must be a floating-point array "
                            f"(e.g. np.asarray(p, dtype=float))")
        if not p.flags.writeable:
            raise ValueError(f"params[{i}] is read-only; pass a writeable array "
                             f"(e.g. p.copy())")
        g = np.asarray(g)
        if g.dtype == object or not (np.issubdtype(g.dtype, np.floating)
                                     or np.issubdtype(g.dtype, np.integer)):
            raise TypeError(f"grads[{i}] must be a real numeric array, got dtype {g.dtype}")
        if g.shape != p.shape:
            raise ValueError(f"grads[{i}] has shape {g.shape} but params[{i}] has shape "
                             f"{p.shape}; each gradient must match its parameter")
        g = g.astype(np.float64)
        if not np.all(np.isfinite(g)):
            raise ValueError(f"grads[{i}] contains nan or inf (did the loss diverge? try a "
                             f"smaller learning rate)")
        out.append(g)
    return out


class Optimizer:
    """Base class: hyper-parameter checks, lazy state creation, ``reset`` and ``t``.

    Subclasses list their state attributes in ``_state_names`` and implement
    ``_update(i, p, g)`` for parameter ``i`` (``p`` a float64 copy, ``g`` its gradient),
    returning the new value of ``p``.
    """

    _state_names = ()

    def __init__(self, learning_rate):
        self.learning_rate = _number("learning_rate", learning_rate, low=0.0)
        self.reset()

    def reset(self):
        """Forget all state: the step counter ``t`` goes back to 0 and the per-parameter
        state lists to None (recreated on the next ``step``)."""
        self.t = 0
        for name in self._state_names:
            setattr(self, name, None)

    def _initial_state(self, name, p):
        return np.zeros(p.shape)

    def _prepare_state(self, params):
        for name in self._state_names:
            state = getattr(self, name)
            if state is None:
                setattr(self, name, [self._initial_state(name, p) for p in params])
                continue
            if len(state) != len(params):
                raise ValueError(f"{type(self).__name__}.{name} holds {len(state)} arrays but "
                                 f"step got {len(params)} parameters; call reset() before "
                                 f"optimising different parameters")
            fixed = []
            for i, (s, p) in enumerate(zip(state, params)):
                s = np.asarray(s, dtype=np.float64)
                if s.shape != p.shape:
                    raise ValueError(f"{type(self).__name__}.{name}[{i}] has shape {s.shape} "
                                     f"but params[{i}] has shape {p.shape}; call reset() "
                                     f"before optimising different parameters")
                fixed.append(s.copy())
            setattr(self, name, fixed)

    def step(self, params, grads):
        """Update every array of ``params`` in place from its gradient in ``grads``.

        Parameters
        ----------
        params : list of ndarray
            Floating-point arrays, modified in place.
        grads : list of array_like
            Gradients of the loss with respect to each parameter, same shapes.

        Returns
        -------
        params : list of ndarray
            The same list (for chaining).
        """
        grads = _check_lists(params, grads)
        self._prepare_state(params)
        self.t += 1
        # a step too large to represent gives ±inf; a squared tiny gradient underflows to 0
        with np.errstate(over="ignore", under="ignore"):
            for i, (p, g) in enumerate(zip(params, grads)):
                p[...] = self._update(i, p.astype(np.float64), g)
        return params

    def _update(self, i, p, g):  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self._hyper().items())
        return f"{type(self).__name__}({args})"

    def _hyper(self):
        return {"learning_rate": self.learning_rate}


class SGD(Optimizer):
    r"""Gradient descent, optionally with (Nesterov) momentum.

    Plain (``momentum=0``):  θ ← θ − η g.

    Momentum (heavy ball, the form of PyTorch), velocity ``v`` starting at 0:

        v ← β v + g,      θ ← θ − η v.

    Nesterov (``nesterov=True``), the same velocity, then a step from the look-ahead:

        v ← β v + g,      θ ← θ − η (g + β v).

    This is classical Nesterov momentum — gradient taken at the look-ahead point θ + βu,
    u the velocity in parameter units — rewritten so that ``step`` only needs the gradient
    at the stored parameters: the stored parameters *are* the look-ahead points.

    Conventions. Keras stores the velocity in parameter units, u = βu − ηg, θ ← θ + u; with
    a constant learning rate it is the same trajectory (u = −ηv). The EWMA form
    v ← βv + (1−β)g, θ ← θ − ηv is also the same method with η replaced by η(1−β): with
    equal η it takes steps 1/(1−β) times smaller.

    Parameters
    ----------
    learning_rate : float, >= 0
    momentum : float in [0, 1)
        The decay β of the velocity.
    nesterov : bool
        Use Nesterov momentum; requires ``momentum > 0`` (with no momentum it would silently
        be plain gradient descent, almost certainly not what was meant).

    Attributes
    ----------
    velocity : list of ndarray or None
        v, one array per parameter (None before the first step; with ``momentum == 0``
        it is simply the last gradient).
    t : int
        Number of steps taken.
    """

    _state_names = ("velocity",)

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False):
        super().__init__(learning_rate)
        self.momentum = _number("momentum", momentum, low=0.0, high=1.0, high_open=True)
        if not isinstance(nesterov, (bool, np.bool_)):
            raise TypeError(f"nesterov must be True or False, got {nesterov!r}")
        if nesterov and self.momentum == 0.0:
            raise ValueError("nesterov=True needs momentum > 0 (Nesterov momentum with "
                             "momentum=0 is plain gradient descent); set momentum in (0, 1)")
        self.nesterov = bool(nesterov)

    def _hyper(self):
        return {"learning_rate": self.learning_rate, "momentum": self.momentum,
                "nesterov": self.nesterov}

    @property
    def title(self):
        """A plot title such as ``'Momentum Optimizer (decay = 0.9)'``."""
        if self.momentum == 0.0:
            return "Gradient Descent"
        kind = "Nesterov" if self.nesterov else "Momentum"
        return f"{kind} Optimizer (decay = {self.momentum:g})"

    def _update(self, i, p, g):
        beta = self.momentum
        v = beta * self.velocity[i] + g
        self.velocity[i] = v
        if self.nesterov:
            return p - self.learning_rate * (g + beta * v)
        return p - self.learning_rate * v


class Adagrad(Optimizer):
    r"""Adagrad: a per-parameter rate that shrinks with the sum of past squared gradients.

        G ← G + g²,        θ ← θ − η g / (√G + ε)

    (elementwise), with the accumulator G starting at ``initial_accumulator_value``.
    Because G only grows, every parameter's effective rate η/(√G + ε) decays for good;
    parameters with rare (sparse) gradients keep larger rates.

    Conventions. Defaults are Keras's (η = 0.001, G₀ = 0.1, ε = 1e-7). ε sits outside the
    square root, as in PyTorch and the Adagrad paper's diagonal form; Keras 3 writes
    √(G + ε). PyTorch starts G at 0.

    Attributes
    ----------
    accumulator : list of ndarray or None
        G, one array per parameter.
    t : int
        Number of steps taken.
    """

    _state_names = ("accumulator",)

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7):
        super().__init__(learning_rate)
        self.initial_accumulator_value = _number("initial_accumulator_value",
                                                 initial_accumulator_value, low=0.0)
        self.epsilon = _number("epsilon", epsilon, low=0.0)
        if self.initial_accumulator_value == 0.0 and self.epsilon == 0.0:
            raise ValueError("initial_accumulator_value and epsilon cannot both be 0: the "
                             "first step would divide by zero wherever a gradient is 0")

    def _hyper(self):
        return {"learning_rate": self.learning_rate,
                "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}

    def _initial_state(self, name, p):
        return np.full(p.shape, self.initial_accumulator_value)

    def _update(self, i, p, g):
        acc = self.accumulator[i] + g * g
        self.accumulator[i] = acc
        return p - self.learning_rate * g / (np.sqrt(acc) + self.epsilon)


class RMSprop(Optimizer):
    r"""RMSprop: Adagrad with an exponentially weighted average instead of a sum.

        s ← ρ s + (1 − ρ) g²,        θ ← θ − η g / (√s + ε)

    (elementwise), s starting at 0. Old squared gradients are forgotten (memory about
    1/(1−ρ) steps), so the effective rate no longer decays for good.

    Conventions. Defaults are Keras's (η = 0.001, ρ = 0.9, ε = 1e-7). ε sits outside the
    square root, as in PyTorch; Keras 3 writes √(s + ε). No momentum, not centred.

    Attributes
    ----------
    mean_square : list of ndarray or None
        s, one array per parameter.
    t : int
        Number of steps taken.
    """

    _state_names = ("mean_square",)

    def __init__(self, learning_rate=0.001, rho=0.9, epsilon=1e-7):
        super().__init__(learning_rate)
        self.rho = _number("rho", rho, low=0.0, high=1.0, high_open=True)
        self.epsilon = _number("epsilon", epsilon, low=0.0, low_open=True)

    def _hyper(self):
        return {"learning_rate": self.learning_rate, "rho": self.rho, "epsilon": self.epsilon}

    def _update(self, i, p, g):
        s = self.rho * self.mean_square[i] + (1.0 - self.rho) * (g * g)
        self.mean_square[i] = s
        return p - self.learning_rate * g / (np.sqrt(s) + self.epsilon)


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2015, Algorithm 1): momentum + RMSprop + bias correction.

    With t the step number (increased *before* use, so the first step has t = 1) and
    m, v starting at 0:

        m ← β₁ m + (1 − β₁) g
        v ← β₂ v + (1 − β₂) g²
        m̂ = m / (1 − β₁ᵗ),   v̂ = v / (1 − β₂ᵗ)
        θ ← θ − η m̂ / (√v̂ + ε)

    The bias correction undoes the pull towards the zero start of the averages (see
    :func:`ewma`). β₁ᵗ is computed as a power, so it simply underflows to 0 for large t.

    Conventions. The paper's form and defaults (η = 0.001, β₁ = 0.9, β₂ = 0.999,
    ε = 1e-8 outside the square root). Keras (ε = 1e-7 by default) and TensorFlow use the
    paper's "efficient" variant θ ← θ − η √(1−β₂ᵗ)/(1−β₁ᵗ) · m / (√v + ε), in which ε is
    effectively multiplied by √(1−β₂ᵗ); it differs from this form only where √v̂ ~ ε.

    Attributes
    ----------
    m, v : list of ndarray or None
        First and second moment estimates, one array per parameter.
    t : int
        Number of steps taken.
    """

    _state_names = ("m", "v")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-8):
        super().__init__(learning_rate)
        self.beta_1 = _number("beta_1", beta_1, low=0.0, high=1.0, high_open=True)
        self.beta_2 = _number("beta_2", beta_2, low=0.0, high=1.0, high_open=True)
        self.epsilon = _number("epsilon", epsilon, low=0.0, low_open=True)

    def _hyper(self):
        return {"learning_rate": self.learning_rate, "beta_1": self.beta_1,
                "beta_2": self.beta_2, "epsilon": self.epsilon}

    def _update(self, i, p, g):
        m = self.beta_1 * self.m[i] + (1.0 - self.beta_1) * g
        v = self.beta_2 * self.v[i] + (1.0 - self.beta_2) * (g * g)
        self.m[i], self.v[i] = m, v
        m_hat = m / (1.0 - self.beta_1 ** self.t)
        v_hat = v / (1.0 - self.beta_2 ** self.t)
        return p - self.learning_rate * m_hat / (np.sqrt(v_hat) + self.epsilon)


# ------------------------------------------------------------------------------ registry
_REGISTRY = {
    "sgd": (SGD, {}),
    "momentum": (SGD, {"momentum": 0.9}),
    "nesterov": (SGD, {"momentum": 0.9, "nesterov": True}),
    "adagrad": (Adagrad, {}),
    "rmsprop": (RMSprop, {}),
    "adam": (Adam, {}),
}


def names():
    """The optimiser names accepted by :func:`get`, in course order."""
    return list(_REGISTRY)


def get(name, **hyper):
    """A fresh optimiser by name: ``get("momentum", learning_rate=0.1, momentum=0.8)``.

    ``"momentum"`` and ``"nesterov"`` are ``SGD`` with ``momentum=0.9`` (and
    ``nesterov=True``) unless given. Unknown names raise a ValueError listing the valid ones.
    """
    if not isinstance(name, str) or name.lower() not in _REGISTRY:
        raise ValueError(f"unknown optimiser {name!r}; valid names: {', '.join(names())}")
    cls, defaults = _REGISTRY[name.lower()]
    kwargs = {**defaults, **hyper}
    try:
        return cls(**kwargs)
    except TypeError as err:
        if "unexpected keyword" in str(err):
            import inspect
            allowed = [p for p in inspect.signature(cls).parameters]
            raise TypeError(f"{name!r} got an unknown hyper-parameter; allowed: "
                            f"{', '.join(allowed)}") from None
        raise


# ---------------------------------------------------------------------------------- EWMA
def ewma(values, beta, bias_correction=False):
    r"""Exponentially weighted moving average of a series.

        V₀ = 0,    V_t = β V_{t−1} + (1 − β) θ_t     (t = 1 … n)

    Unrolled, V_t = (1 − β) Σ_{k=0}^{t−1} βᵏ θ_{t−k}: the weights decay geometrically, so
    the average "remembers" roughly the last 1/(1 − β) values. Because V₀ = 0 the first
    values are pulled towards 0 (the weights sum to 1 − βᵗ, not 1); with
    ``bias_correction=True`` the result is V_t / (1 − βᵗ), which removes that bias.

    Parameters
    ----------
    values : array_like, shape (n, ...)
        θ₁ … θ_n along the first axis (extra axes are averaged independently).
    beta : float in [0, 1)
    bias_correction : bool

    Returns
    -------
    ndarray, float64, same shape as ``values``: V₁ … V_n (corrected if asked).
    """
    beta = _number("beta", beta, low=0.0, high=1.0, high_open=True)
    x = np.asarray(values)
    if x.dtype == object or not (np.issubdtype(x.dtype, np.floating)
                                 or np.issubdtype(x.dtype, np.integer)):
        raise TypeError(f"values must be a real numeric array, got dtype {x.dtype}")
    if x.ndim == 0:
        raise ValueError("values must be a series (at least 1-D), got a scalar")
    x = x.astype(np.float64)
    out = np.empty_like(x)
    avg = np.zeros(x.shape[1:])
    with np.errstate(under="ignore"):     # tiny values and high powers of β may underflow
        for t in range(x.shape[0]):
            avg = beta * avg + (1.0 - beta) * x[t]
            out[t] = avg
        if bias_correction:
            powers = beta ** np.arange(1, x.shape[0] + 1, dtype=np.float64)
            out /= (1.0 - powers).reshape((-1,) + (1,) * (x.ndim - 1))
    return out


# --------------------------------------------------------------- closed forms (quadratic)
def _curvatures(L, mu):
    L = _number("L", L, low=0.0, low_open=True)
    mu = _number("mu", mu, low=0.0, low_open=True)
    if mu > L:
        raise ValueError(f"mu (smallest curvature) must be <= L (largest), got mu={mu}, L={L}")
    return L, mu


def gd_optimal(L, mu):
    r"""Best constant step of gradient descent on a quadratic with Hessian eigenvalues in
    [μ, L]: α* = 2/(L + μ), contraction rate per step (κ − 1)/(κ + 1), κ = L/μ.

    Returns a dict with ``learning_rate``, ``rate`` and ``condition_number``.
    """
    L, mu = _curvatures(L, mu)
    kappa = L / mu
    return {"learning_rate": 2.0 / (L + mu), "rate": (kappa - 1.0) / (kappa + 1.0),
            "condition_number": kappa}


def heavy_ball_optimal(L, mu):
    r"""Polyak's optimal heavy-ball parameters on a quadratic with curvatures in [μ, L]:

        α* = 4 / (√L + √μ)²,    β* = ((√κ − 1)/(√κ + 1))²,    rate = (√κ − 1)/(√κ + 1)

    for x ← x − α∇f(x) + β(x − x_prev), which is ``SGD(learning_rate=α, momentum=β)`` in
    this module's convention v ← βv + g. The rate is the spectral radius of one step
    (per-step contraction of the error in the long run, up to a factor polynomial in the
    step count because the extreme eigenvalues are double).

    Returns a dict with ``learning_rate``, ``momentum``, ``rate``, ``condition_number``.
    """
    L, mu = _curvatures(L, mu)
    kappa = L / mu
    sk = np.sqrt(kappa)
    rate = (sk - 1.0) / (sk + 1.0)
    return {"learning_rate": 4.0 / (np.sqrt(L) + np.sqrt(mu)) ** 2, "momentum": rate ** 2,
            "rate": rate, "condition_number": kappa}
