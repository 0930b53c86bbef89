"""Learning-rate schedules: the rate η_t to use at step (or epoch) t = 0, 1, 2, ...

Each function is the closed form of a ``torch.optim.lr_scheduler`` class after t calls to its
``step()`` (its ``last_epoch``), with η₀ the optimiser's initial rate:

* `step_decay`   η₀ · γ^⌊t / s⌋                                  (``StepLR``)
* `exponential`  η₀ · γ^t                                         (``ExponentialLR``)
* `cosine`       η_min + (η₀ − η_min) · (1 + cos(π t / T)) / 2    (``CosineAnnealingLR``)
* `warmup`       η₀ · (f₀ + (1 − f₀) · min(t, w) / w)             (``LinearLR`` to factor 1)
* `inverse_sqrt` η₀ / √(t + 1)                                     (no torch class)

The last is the decay Adagrad builds in: with gradients of constant size |g| its
accumulator grows like t·g², so its effective rate η/√G falls like 1/√t — `inverse_sqrt`
applies that decay to every parameter alike, where Adagrad applies it per parameter and
measures "time" in squared gradient.

Use one in a training loop by setting the optimiser's rate before each step (or epoch):
``opt.learning_rate = schedules.cosine(t, 0.1, total=100)``. `rates` gives a whole curve.
"""
import math
import numbers

import numpy as np

__all__ = ["step_decay", "exponential", "cosine", "warmup", "inverse_sqrt", "rates", "names"]


def _step(t):
    if isinstance(t, bool) or not isinstance(t, numbers.Integral) or t < 0:
        raise ValueError(f"t (the number of steps taken) must be an integer >= 0, got {t!r}")
    return int(t)


def _positive(name, value, *, allow_zero=False, at_most=None):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) \
            or not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        wanted = "a finite number >= 0" if allow_zero else "a finite number > 0"
        raise ValueError(f"{name} must be {wanted}, got {value!r}")
    if at_most is not None and value > at_most:
        raise ValueError(f"{name} must be at most {at_most}, got {value!r}")
    return float(value)


def step_decay(t, lr, step_size, gamma=0.1):
    """η₀ · γ^⌊t / step_size⌋: the rate is multiplied by γ every ``step_size`` steps."""
    t, lr = _step(t), _positive("lr", lr)
    if isinstance(step_size, bool) or not isinstance(step_size, numbers.Integral) \
            or step_size < 1:
        raise ValueError(f"step_size must be an integer >= 1, got {step_size!r}")
    gamma = _positive("gamma", gamma, allow_zero=True, at_most=1.0)
    return lr * gamma ** (t // int(step_size))


def exponential(t, lr, gamma):
    """η₀ · γ^t: the rate is multiplied by γ at every step."""
    t, lr = _step(t), _positive("lr", lr)
    gamma = _positive("gamma", gamma, allow_zero=True, at_most=1.0)
    return lr * gamma ** t


def cosine(t, lr, total, min_lr=0.0):
    """η_min + (η₀ − η_min)(1 + cos(π t / T)) / 2 with T = ``total``: from η₀ at t = 0 down
    to η_min at t = T along half a cosine (beyond T the cosine goes on, as in torch)."""
    t, lr = _step(t), _positive("lr", lr)
    if isinstance(total, bool) or not isinstance(total, numbers.Integral) or total < 1:
        raise ValueError(f"total must be an integer >= 1, got {total!r}")
    min_lr = _positive("min_lr", min_lr, allow_zero=True, at_most=lr)
    return min_lr + (lr - min_lr) * (1.0 + math.cos(math.pi * t / int(total))) / 2.0


def warmup(t, lr, steps, start_factor=1.0 / 3.0):
    """η₀ · (f₀ + (1 − f₀) · min(t, w) / w) with w = ``steps``: a linear ramp from f₀·η₀ to η₀
    over the first w steps, then η₀ (``LinearLR`` with end factor 1; torch's default
    f₀ = 1/3)."""
    t, lr = _step(t), _positive("lr", lr)
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 1:
        raise ValueError(f"steps must be an integer >= 1, got {steps!r}")
    start_factor = _positive("start_factor", start_factor, at_most=1.0)
    return lr * (start_factor + (1.0 - start_factor) * min(t, int(steps)) / int(steps))


def inverse_sqrt(t, lr):
    """η₀ / √(t + 1): the 1/√t decay that Adagrad's accumulator gives a constant gradient."""
    t, lr = _step(t), _positive("lr", lr)
    return lr / math.sqrt(t + 1)


_SCHEDULES = {"step_decay": step_decay, "exponential": exponential, "cosine": cosine,
              "warmup": warmup, "inverse_sqrt": inverse_sqrt}


def names():
    """The schedules of this module, by name."""
    return list(_SCHEDULES)


def rates(schedule, steps, lr, **options):
    """The rates η_0 … η_{steps−1} of a schedule (a name of `names` or one of the functions),
    as a float64 array: ``rates("cosine", 100, 0.1, total=100)``."""
    fn = _SCHEDULES.get(schedule) if isinstance(schedule, str) else schedule
    if fn not in _SCHEDULES.values():
        raise ValueError(f"unknown schedule {schedule!r}; valid names: {', '.join(names())}")
    steps = _step(steps)
    return np.array([fn(t, lr, **options) for t in range(steps)], dtype=np.float64)
