"""Two-dimensional loss surfaces for watching optimisers move.

A surface is a small object with

``value(p)``
    f at p = (x, y). ``p`` may be a single point (shape (2,)) or a stack of points with the
    coordinates on the first axis, e.g. ``value((X, Y))`` over a meshgrid for contour plots;
``grad(p)``
    ∇f at p, same shape as ``p``;
``name``, ``formula`` (LaTeX), ``constants`` (dict), ``window`` ((x_min, x_max), (y_min, y_max))
    for plots, ``start`` (a suggested starting point), ``minimum`` (None when there is no
    single minimiser) and ``convex``.

Where a surface is undefined (the logarithm's argument ≤ 0, the origin of the rational
surface) ``value`` and ``grad`` raise a ValueError saying why; ``value(p, nan_outside=True)``
returns nan there instead, for contour plots.

``get(name, **constants)`` builds one by name, ``names()`` lists them, and
``run(optimizer, surface, start, steps)`` returns the trajectory of an optimiser.
The linear-regression loss (:class:`LinearRegression`) is a surface over (w, b) built from
data; :func:`train` runs batch, stochastic or mini-batch gradient descent on it.
"""
import numbers

import numpy as np

from actlib.init import as_generator

__all__ = ["Surface", "Quadratic", "Rosenbrock", "Polynomial", "Cosine", "Logarithm",
           "Rational", "LinearRegression", "names", "get", "run", "converged_at",
           "linear_data", "train", "explore"]


def _real(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def _point(p):
    """``p`` as a float64 array whose first axis holds (x, y)."""
    arr = np.asarray(p)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.floating)
                                   or np.issubdtype(arr.dtype, np.integer)):
        raise TypeError(f"a point must be real numbers (x, y), got dtype {arr.dtype}")
    if arr.ndim == 0 or arr.shape[0] != 2:
        raise ValueError(f"a point must have its two coordinates (x, y) on the first axis, "
                         f"got shape {arr.shape}")
    return arr.astype(np.float64)


def _window(window):
    try:
        (x0, x1), (y0, y1) = window
    except (TypeError, ValueError):
        raise ValueError(f"window must be ((x_min, x_max), (y_min, y_max)), got {window!r}") \
            from None
    x0, x1, y0, y1 = (_real("window limit", v) for v in (x0, x1, y0, y1))
    if not (x0 < x1 and y0 < y1):
        raise ValueError(f"window must have x_min < x_max and y_min < y_max, got {window!r}")
    return ((x0, x1), (y0, y1))


class Surface:
    """Base class. Subclasses define ``_f(x, y)``, ``_g(x, y)`` -> (gx, gy), and may define
    ``_undefined(x, y)`` -> (mask, reason) for points where f is not defined."""

    name = "surface"
    formula = ""

    def __new__(cls, *args, **kwargs):
        self = super().__new__(cls)
        self.spec = (cls.__name__, args, kwargs)   # how it was made (rebuilt elsewhere by grading)
        return self

    def __init__(self, constants, window, start, minimum=None, convex=False):
        self.constants = dict(constants)
        self.window = _window(window)
        self.start = np.array(start, dtype=np.float64)
        self.minimum = None if minimum is None else np.array(minimum, dtype=np.float64)
        self.convex = bool(convex)

    def _undefined(self, x, y):
        return None, ""

    def _check(self, x, y, nan_outside):
        mask, reason = self._undefined(x, y)
        if mask is None or not np.any(mask):
            return None
        if nan_outside:
            return mask
        bad = np.argwhere(np.atleast_1d(mask))[0]
        xs, ys = np.atleast_1d(x)[tuple(bad)], np.atleast_1d(y)[tuple(bad)]
        raise ValueError(f"the {self.name} surface is undefined at (x, y) = ({xs:g}, {ys:g}): "
                         f"{reason}")

    def value(self, p, nan_outside=False):
        """f(p); p = (x, y), or arrays X, Y stacked on the first axis (returns their shape)."""
        x, y = _point(p)
        mask = self._check(x, y, nan_outside)
        with np.errstate(all="ignore"):
            if mask is not None:     # keep undefined points out of the formula
                x, y = np.where(mask, self.start[0], x), np.where(mask, self.start[1], y)
            f = np.asarray(self._f(x, y), dtype=np.float64)
            if mask is not None:
                f = np.where(mask, np.nan, f)
        return float(f) if f.ndim == 0 else f

    __call__ = value

    def grad(self, p):
        """∇f(p) = (∂f/∂x, ∂f/∂y), same shape as ``p``."""
        x, y = _point(p)
        self._check(x, y, nan_outside=False)
        with np.errstate(all="ignore"):
            gx, gy = self._g(x, y)
            return np.stack([np.broadcast_to(gx, np.shape(x)),
                             np.broadcast_to(gy, np.shape(x))]).astype(np.float64)

    def grid(self, n=150):
        """(X, Y, Z) over ``window`` on an n×n grid, Z nan where f is undefined."""
        (x0, x1), (y0, y1) = self.window
        X, Y = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
        return X, Y, self.value((X, Y), nan_outside=True)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.constants.items())
        return f"{type(self).__name__}({args})"


class Quadratic(Surface):
    r"""Convex quadratic f(p) = ½ (p − c)ᵀ A (p − c) with chosen conditioning.

    A = R diag(μ, L) Rᵀ, R the rotation by ``angle`` (radians), μ = ``smallest``,
    L = κ μ with κ = ``condition_number``. Gradient A (p − c); minimum at c. Gradient
    descent converges for learning rates below 2/L; the smaller μ/L, the slower.
    Use :meth:`from_matrix` for any symmetric positive-definite 2×2 matrix.
    """

    name = "quadratic"
    formula = r"\frac{1}{2}(p-c)^\top A (p-c)"

    def __init__(self, condition_number=10.0, smallest=1.0, angle=0.0, centre=(0.0, 0.0),
                 window=None):
        kappa = _real("condition_number", condition_number)
        mu = _real("smallest", smallest)
        angle = _real("angle", angle)
        if kappa < 1:
            raise ValueError(f"condition_number must be >= 1 (it is L/μ), got {kappa:g}")
        if mu <= 0:
            raise ValueError(f"smallest (the smallest curvature μ) must be > 0, got {mu:g}")
        c, s = np.cos(angle), np.sin(angle)
        rot = np.array([[c, -s], [s, c]])
        matrix = rot @ np.diag([mu, kappa * mu]) @ rot.T
        self._setup(matrix, centre, window,
                    dict(condition_number=kappa, smallest=mu, angle=angle,
                         centre=tuple(float(v) for v in np.asarray(centre, dtype=float))))

    @classmethod
    def from_matrix(cls, matrix, centre=(0.0, 0.0), window=None):
        """The quadratic ½ (p − c)ᵀ A (p − c) for a symmetric positive-definite 2×2 ``A``."""
        A = np.asarray(matrix, dtype=np.float64)
        if A.shape != (2, 2):
            raise ValueError(f"matrix must be 2×2, got shape {A.shape}")
        if not np.all(np.isfinite(A)) or not np.allclose(A, A.T, rtol=1e-12, atol=0):
            raise ValueError("matrix must be finite and symmetric")
        if np.linalg.eigvalsh(A)[0] <= 0:
            raise ValueError(f"matrix must be positive definite (eigenvalues "
                             f"{np.linalg.eigvalsh(A)}), else the quadratic has no minimum")
        self = cls.__new__(cls)
        self._setup((A + A.T) / 2, centre, window,
                    dict(matrix=A.tolist(),
                         centre=tuple(float(v) for v in np.asarray(centre, dtype=float))))
        return self

    def _setup(self, matrix, centre, window, constants):
        centre = np.asarray(centre, dtype=np.float64)
        if centre.shape != (2,) or not np.all(np.isfinite(centre)):
            raise ValueError(f"centre must be a finite point (x, y), got {centre!r}")
        self.matrix = matrix
        eig = np.linalg.eigvalsh(matrix)
        self.mu, self.L = float(eig[0]), float(eig[1])
        self.condition_number = self.L / self.mu
        if window is None:
            window = ((centre[0] - 3, centre[0] + 3), (centre[1] - 3, centre[1] + 3))
        super().__init__(constants, window, centre + np.array([-2.5, 2.0]), minimum=centre,
                         convex=True)

    def _f(self, x, y):
        dx, dy = x - self.minimum[0], y - self.minimum[1]
        A = self.matrix
        return 0.5 * (A[0, 0] * dx * dx + 2 * A[0, 1] * dx * dy + A[1, 1] * dy * dy)

    def _g(self, x, y):
        dx, dy = x - self.minimum[0], y - self.minimum[1]
        A = self.matrix
        return A[0, 0] * dx + A[0, 1] * dy, A[1, 0] * dx + A[1, 1] * dy


class Rosenbrock(Surface):
    r"""Rosenbrock's banana valley f(x, y) = (a − x)² + b (y − x²)², minimum 0 at (a, a²).

    ∇f = (−2(a − x) − 4 b x (y − x²),  2 b (y − x²)). Non-convex; the valley floor is
    easy to reach and slow to follow.
    """

    name = "rosenbrock"
    formula = r"(a-x)^2 + b\,(y-x^2)^2"

    def __init__(self, a=1.0, b=100.0):
        a, b = _real("a", a), _real("b", b)
        if b <= 0:
            raise ValueError(f"b must be > 0, got {b:g}")
        super().__init__(dict(a=a, b=b), ((-2.0, 2.0), (-1.0, 3.0)), (-1.5, 2.0),
                         minimum=(a, a * a), convex=False)

    def _f(self, x, y):
        a, b = self.constants["a"], self.constants["b"]
        return (a - x) ** 2 + b * (y - x * x) ** 2

    def _g(self, x, y):
        a, b = self.constants["a"], self.constants["b"]
        r = y - x * x
        return -2.0 * (a - x) - 4.0 * b * x * r, 2.0 * b * r


class Polynomial(Surface):
    r"""f(x, y) = a x² + b y² + c x y + d x.

    ∇f = (2a x + c y + d,  2b y + c x). Its Hessian [[2a, c], [c, 2b]] is constant, with
    determinant 4ab − c²: convex exactly when a ≥ 0, b ≥ 0 and 4ab ≥ c². With 4ab > c² there
    is one critical point, a minimum if a > 0 and a maximum if a < 0; with 4ab < c² it is a
    saddle. With 4ab = c² the Hessian is singular: a line of minima (or maxima), or no
    critical point at all, e.g. (x + y)² + x, which is convex but has no minimum.
    """

    name = "polynomial"
    formula = r"a x^2 + b y^2 + c x y + d x"

    def __init__(self, a=1.0, b=2.0, c=0.5, d=-1.0):
        a, b, c, d = (_real(k, v) for k, v in zip("abcd", (a, b, c, d)))
        convex = a >= 0 and b >= 0 and 4 * a * b - c * c >= 0
        minimum = None
        if a > 0 and 4 * a * b - c * c > 0:
            minimum = np.linalg.solve([[2 * a, c], [c, 2 * b]], [-d, 0.0])
        super().__init__(dict(a=a, b=b, c=c, d=d), ((-3.0, 3.0), (-3.0, 3.0)), (-2.5, 2.5),
                         minimum=minimum, convex=convex)

    def _f(self, x, y):
        a, b, c, d = (self.constants[k] for k in "abcd")
        return a * x * x + b * y * y + c * x * y + d * x

    def _g(self, x, y):
        a, b, c, d = (self.constants[k] for k in "abcd")
        return 2 * a * x + c * y + d, 2 * b * y + c * x


class Cosine(Surface):
    r"""f(x, y) = cos(a x y + b x + c y); with u the argument,
    ∇f = −sin(u) · (a y + b,  a x + c). Non-convex: ridges and valleys of equal depth,
    so where an optimiser ends depends on where it starts.
    """

    name = "cosine"
    formula = r"\cos(a x y + b x + c y)"

    def __init__(self, a=1.0, b=0.5, c=0.5):
        a, b, c = (_real(k, v) for k, v in zip("abc", (a, b, c)))
        super().__init__(dict(a=a, b=b, c=c), ((-3.0, 3.0), (-3.0, 3.0)), (-1.0, 1.5),
                         convex=(a == b == c == 0))

    def _u(self, x, y):
        a, b, c = (self.constants[k] for k in "abc")
        return a * x * y + b * x + c * y

    def _f(self, x, y):
        return np.cos(self._u(x, y))

    def _g(self, x, y):
        a, b, c = (self.constants[k] for k in "abc")
        s = -np.sin(self._u(x, y))
        return s * (a * y + b), s * (a * x + c)


class Logarithm(Surface):
    r"""f(x, y) = log(a x y + b x + c y + 1), defined only where the argument u > 0;
    ∇f = (a y + b,  a x + c) / u. Unbounded below next to the curve u = 0, so descent
    runs towards the edge of the domain (value and grad raise a ValueError past it).
    """

    name = "logarithm"
    formula = r"\log(a x y + b x + c y + 1)"

    def __init__(self, a=0.5, b=0.5, c=0.5):
        a, b, c = (_real(k, v) for k, v in zip("abc", (a, b, c)))
        super().__init__(dict(a=a, b=b, c=c), ((-3.0, 3.0), (-3.0, 3.0)), (1.0, -0.5),
                         convex=(a == b == c == 0))

    def _u(self, x, y):
        a, b, c = (self.constants[k] for k in "abc")
        return a * x * y + b * x + c * y + 1.0

    def _undefined(self, x, y):
        with np.errstate(all="ignore"):
            u = self._u(x, y)
        return ~(u > 0), "the argument a·x·y + b·x + c·y + 1 must be > 0"

    def _f(self, x, y):
        return np.log(self._u(x, y))

    def _g(self, x, y):
        a, b, c = (self.constants[k] for k in "abc")
        u = self._u(x, y)
        return (a * y + b) / u, (a * x + c) / u


class Rational(Surface):
    r"""f(x, y) = (a x² + b y² + c x² y) / (x² + y²), undefined at the origin.

    Computed in polar form to avoid overflow and 0/0 near the origin: with r = hypot(x, y),
    u = x/r, v = y/r (x and y first divided by max(|x|, |y|), so tiny inputs keep their
    precision),  f = a u² + b v² + c r u² v  and

        ∂f/∂x = 2(a − b) u v² / r + 2c u v³,
        ∂f/∂y = 2(b − a) u² v / r + c u² (u² − v²).

    Near the origin f depends on the direction only (a along x, b along y), so the limit
    at 0 does not exist unless a = b.
    """

    name = "rational"
    formula = r"\frac{a x^2 + b y^2 + c x^2 y}{x^2 + y^2}"

    def __init__(self, a=1.0, b=2.0, c=1.0):
        a, b, c = (_real(k, v) for k, v in zip("abc", (a, b, c)))
        super().__init__(dict(a=a, b=b, c=c), ((-2.0, 2.0), (-2.0, 2.0)), (1.5, 1.0),
                         convex=False)

    def _undefined(self, x, y):
        return (x == 0) & (y == 0), "x² + y² = 0 (the origin) is excluded"

    def _polar(self, x, y):
        # scale by max(|x|, |y|) first so that subnormal inputs keep their precision
        s = np.maximum(np.abs(x), np.abs(y))
        xs, ys = x / s, y / s
        rs = np.hypot(xs, ys)
        return s * rs, xs / rs, ys / rs

    def _f(self, x, y):
        a, b, c = (self.constants[k] for k in "abc")
        r, u, v = self._polar(x, y)
        return a * u * u + b * v * v + c * r * u * u * v

    def _g(self, x, y):
        a, b, c = (self.constants[k] for k in "abc")
        r, u, v = self._polar(x, y)
        gx = 2 * (a - b) * u * v * v / r + 2 * c * u * v ** 3
        gy = 2 * (b - a) * u * u * v / r + c * u * u * (u * u - v * v)
        return gx, gy


# ------------------------------------------------------------------------------ registry
_REGISTRY = {cls.name: cls for cls in (Quadratic, Rosenbrock, Polynomial, Cosine, Logarithm,
                                       Rational)}


def names():
    """The surface names accepted by :func:`get`."""
    return list(_REGISTRY)


def get(name, **constants):
    """A surface by name with its constants, e.g. ``get("cosine", a=1, b=0, c=0)``.

    Unknown names or constants raise an error listing the valid ones.
    """
    if not isinstance(name, str) or name not in _REGISTRY:
        raise ValueError(f"unknown surface {name!r}; valid names: {', '.join(names())}")
    cls = _REGISTRY[name]
    import inspect
    allowed = list(inspect.signature(cls).parameters)
    unknown = sorted(set(constants) - set(allowed))
    if unknown:
        raise TypeError(f"surface {name!r} has no constant(s) {', '.join(unknown)}; "
                        f"allowed: {', '.join(allowed)}")
    return cls(**constants)


# ---------------------------------------------------------------------------- trajectories
def run(optimizer, surface, start=None, steps=100, stop_when_undefined=False):
    """Run ``optimizer`` on ``surface`` from ``start`` (default ``surface.start``).

    Returns the trajectory, an array of shape (steps + 1, 2) whose row k is the point after
    k steps (row 0 the start). If the optimiser reaches a point where the surface or its
    gradient is undefined or not finite (it left the domain, or diverged), a ValueError is
    raised, or with ``stop_when_undefined=True`` the trajectory ends there (fewer rows;
    a point outside the domain is kept as the last row, a non-finite one is dropped).
    """
    if not hasattr(optimizer, "step"):
        raise TypeError(f"optimizer must have a step(params, grads) method, got "
                        f"{type(optimizer).__name__}")
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 0:
        raise ValueError(f"steps must be a non-negative integer, got {steps!r}")
    p = surface.start.copy() if start is None else _point(start).copy()
    if p.shape != (2,):
        raise ValueError(f"start must be one point (x, y), got shape {p.shape}")
    out = [p.copy()]
    for k in range(steps):
        try:
            g = surface.grad(p)
            if not np.all(np.isfinite(g)):
                raise ValueError(f"the gradient at ({p[0]:g}, {p[1]:g}) is not finite "
                                 f"(the optimiser diverged; try a smaller learning rate)")
        except ValueError as err:
            if stop_when_undefined:
                break
            raise ValueError(f"step {k + 1}: {err}") from None
        optimizer.step([p], [g])
        if not np.all(np.isfinite(p)):
            if stop_when_undefined:
                break
            raise ValueError(f"step {k + 1}: the point is no longer finite (the optimiser "
                             f"diverged; try a smaller learning rate)")
        out.append(p.copy())
    return np.array(out)


def converged_at(trajectory, target, tol=1e-3):
    """First step k after which every point of ``trajectory`` stays within ``tol`` (Euclidean
    distance) of ``target``; None if the last point is not within ``tol``."""
    traj = np.asarray(trajectory, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    if traj.ndim != 2 or target.shape != traj.shape[1:]:
        raise ValueError(f"trajectory must be (steps + 1, dim) and target (dim,), got "
                         f"{traj.shape} and {target.shape}")
    with np.errstate(all="ignore"):      # a diverged run is simply far away
        dist = np.sqrt(np.sum(np.square(traj - target), axis=1))
    far = ~(dist <= tol)
    if far[-1]:
        return None
    idx = np.nonzero(far)[0]
    return 0 if len(idx) == 0 else int(idx[-1] + 1)


def explore(surface, optimizer, constants=None, learning_rate=0.01, steps=100, start=None):
    """Run one optimiser on one surface, never raising for a lost run (for explorers).

    ``surface`` and ``optimizer`` are registry names (constants and the learning rate are
    passed on; constants a surface does not have are ignored). Returns
    ``(surface_object, trajectory, note)`` where ``note`` says how the run ended: at which
    value, or at which step it left the domain or diverged.
    """
    from actlib import optim

    cls = _REGISTRY.get(surface) if isinstance(surface, str) else None
    if cls is None:
        raise ValueError(f"unknown surface {surface!r}; valid names: {', '.join(names())}")
    import inspect
    allowed = set(inspect.signature(cls).parameters)
    surf = cls(**{k: v for k, v in (constants or {}).items() if k in allowed})
    opt = optim.get(optimizer, learning_rate=learning_rate)
    p0 = surf.start if start is None else _point(start)
    try:
        surf.value(p0)
    except ValueError as err:
        return surf, p0.reshape(1, 2), f"cannot start there: {err}"
    traj = run(opt, surf, p0, steps, stop_when_undefined=True)
    if len(traj) < steps + 1:
        note = f"stopped at step {len(traj)}: left the domain or diverged"
    else:
        note = f"after {steps} steps f = {surf.value(traj[-1]):.4g}"
    return surf, traj, note


# ----------------------------------------------------------------------- linear regression
def linear_data(n=50, slope=2.0, intercept=1.0, noise=0.5, x_range=(0.0, 2.0), rng=None):
    """Noisy points on a line: x ~ Uniform(x_range), y = slope·x + intercept + noise·N(0, 1).

    Returns (x, y), two float64 arrays of length n.
    """
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 2:
        raise ValueError(f"n must be an integer >= 2, got {n!r}")
    noise = _real("noise", noise)
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise:g}")
    lo, hi = (_real("x_range", v) for v in x_range)
    if not lo < hi:
        raise ValueError(f"x_range must be (low, high) with low < high, got {x_range!r}")
    rng = as_generator(rng)
    x = rng.uniform(lo, hi, size=n)
    y = _real("slope", slope) * x + _real("intercept", intercept) + noise * rng.standard_normal(n)
    return x, y


class LinearRegression(Surface):
    r"""Mean squared error of the line ŷ = w x + b on data (x, y), a surface over p = (w, b):

        L(w, b) = (1/n) Σᵢ (w xᵢ + b − yᵢ)²,
        ∇L = (2/n) Σᵢ rᵢ (xᵢ, 1),   rᵢ = w xᵢ + b − yᵢ.

    ``grad(p, batch=idx)`` averages over the examples ``idx`` only (stochastic / mini-batch
    gradients). The minimum is the least-squares line.
    """

    name = "linear_regression"
    formula = r"\frac{1}{n}\sum_i (w x_i + b - y_i)^2"

    def __init__(self, x, y, window=None, start=(0.0, 0.0)):
        x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
        if x.ndim != 1 or x.shape != y.shape or len(x) < 2:
            raise ValueError(f"x and y must be 1-D arrays of the same length >= 2, got shapes "
                             f"{x.shape} and {y.shape}")
        if np.ptp(x) == 0:
            raise ValueError("x must not be constant (the line would not be determined)")
        self.x, self.y = x, y
        design = np.column_stack([x, np.ones_like(x)])
        best = np.linalg.lstsq(design, y, rcond=None)[0]
        if window is None:
            s = np.asarray(start, dtype=np.float64)   # centred on the minimum, start inside
            half = 1.3 * np.abs(best - s) + 0.5
            window = ((best[0] - half[0], best[0] + half[0]),
                      (best[1] - half[1], best[1] + half[1]))
        super().__init__(dict(n=len(x)), window, start, minimum=best, convex=True)

    def _f(self, w, b):
        r = np.multiply.outer(w, self.x) + np.expand_dims(b, -1) - self.y
        return np.mean(r * r, axis=-1)

    def _g(self, w, b):
        return self._grad_batch(w, b, slice(None))

    def _grad_batch(self, w, b, batch):
        x, y = self.x[batch], self.y[batch]
        r = np.multiply.outer(w, x) + np.expand_dims(b, -1) - y
        return 2 * np.mean(r * x, axis=-1), 2 * np.mean(r, axis=-1)

    def grad(self, p, batch=None):
        """∇L at p = (w, b), averaged over all examples or over the indices ``batch``."""
        if batch is None:
            return super().grad(p)
        w, b = _point(p)
        idx = np.asarray(batch)
        if idx.size == 0:
            raise ValueError("batch must hold at least one example index")
        with np.errstate(all="ignore"):
            gw, gb = self._grad_batch(w, b, idx)
        return np.stack([gw, gb])

    def predict(self, p, x=None):
        """ŷ = w x + b for p = (w, b) (on the data's x unless ``x`` is given)."""
        w, b = _point(p)
        return w * (self.x if x is None else np.asarray(x, dtype=np.float64)) + b


def train(optimizer, problem, start=None, epochs=50, batch_size=None, rng=None):
    """Gradient descent on a :class:`LinearRegression` problem, epoch by epoch.

    ``batch_size=None`` (or n): batch gradient descent, one step per epoch on all examples;
    ``batch_size=1``: stochastic gradient descent; otherwise mini-batches. Each epoch visits
    the examples in a fresh random order (from ``rng``) split into batches of
    ``batch_size`` (the last one may be smaller).

    Returns a dict with ``"epochs"`` (epochs + 1, 2): (w, b) after each epoch; ``"steps"``
    (total steps + 1, 2): (w, b) after each step; ``"loss"`` (epochs + 1,): the full loss
    after each epoch.
    """
    n = len(problem.x)
    if batch_size is None:
        batch_size = n
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) \
            or not 1 <= batch_size <= n:
        raise ValueError(f"batch_size must be an integer in [1, {n}] or None, got "
                         f"{batch_size!r}")
    if isinstance(epochs, bool) or not isinstance(epochs, numbers.Integral) or epochs < 0:
        raise ValueError(f"epochs must be a non-negative integer, got {epochs!r}")
    rng = as_generator(rng)
    p = problem.start.copy() if start is None else _point(start).copy()
    per_epoch, per_step, loss = [p.copy()], [p.copy()], [problem.value(p)]
    for _ in range(epochs):
        order = np.arange(n) if batch_size == n else rng.permutation(n)
        for k in range(0, n, batch_size):
            g = problem.grad(p, batch=order[k:k + batch_size])
            if not np.all(np.isfinite(g)):
                raise ValueError("the gradient is no longer finite (training diverged; try a "
                                 "smaller learning rate)")
            optimizer.step([p], [g])
            per_step.append(p.copy())
        per_epoch.append(p.copy())
        loss.append(problem.value(p))
    return {"epochs": np.array(per_epoch), "steps": np.array(per_step),
            "loss": np.array(loss)}
