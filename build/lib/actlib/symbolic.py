"""Symbolic side of the course: SymPy forms and derivations.

Everything symbolic in the course is written in the real variable ``x`` of this module
(``sympy.Symbol("x", real=True)``) with exact rationals, never floats. The module holds

* small expression builders the lessons use (`sigmoid_expr`, `softmax_expr`, ...) and the
  step-by-step quotient-rule derivations of σ' and tanh';
* `logistic_ode_solution`: ``dsolve`` of y' = y(1 − y), which is the sigmoid;
* the GELU tanh-approximation coefficient, exact from Taylor series
  (`gelu_coefficient_taylor`) and numeric from a fit of Φ (`gelu_coefficient_fit`);
* SELU's α and λ from the fixed-point conditions (`selu_constants`);
* the table of every registered activation with its derivative (`derivative_table`).

Answers that are SymPy expressions are graded by `actlib.grading.symcheck` (through `actlib.grading.checks`).
"""
import functools
import math
import numbers

import mpmath
import numpy as np
import sympy as sp

__all__ = [
    "x", "alpha", "beta", "lam", "theta",
    "sigmoid_expr", "tanh_exp_expr", "softplus_expr", "elu_expr", "selu_expr",
    "softmax_expr", "softmax_jacobian",
    "quotient_rule_steps", "sigmoid_derivative_steps", "tanh_derivative_steps", "steps_latex",
    "logistic_ode_solution",
    "gelu_coefficient_taylor", "cdf_tanh_error", "gelu_tanh_error", "gelu_coefficient_fit",
    "selu_moment_equations", "selu_constants",
    "symbolic_derivative", "derivative_table", "derivative_table_markdown",
    "derivative_table_latex",
]

#: The course's variable: a real symbol, so that SymPy may use |x|, sign(x), ... freely.
x = sp.Symbol("x", real=True)
#: Slope / scale parameters (leaky ReLU, ELU, SELU), positive.
alpha = sp.Symbol("alpha", positive=True)
#: Swish's β, positive.
beta = sp.Symbol("beta", positive=True)
#: SELU's scale λ, positive.
lam = sp.Symbol("lambda", positive=True)
#: Threshold of the step functions, real.
theta = sp.Symbol("theta", real=True)


# --------------------------------------------------------------------------------------------
# Expression builders
# --------------------------------------------------------------------------------------------
def sigmoid_expr(z=x):
    """σ(z) = 1 / (1 + e^(−z)) as a SymPy expression."""
    return 1 / (1 + sp.exp(-z))


def tanh_exp_expr(z=x):
    """tanh(z) written through exponentials: (e^z − e^(−z)) / (e^z + e^(−z))."""
    return (sp.exp(z) - sp.exp(-z)) / (sp.exp(z) + sp.exp(-z))


def softplus_expr(z=x):
    """softplus(z) = ln(1 + e^z), the smooth ReLU."""
    return sp.log(1 + sp.exp(z))


def elu_expr(z=x, a=alpha):
    """ELU(z) = z for z > 0, a(e^z − 1) for z ≤ 0, as a ``Piecewise``."""
    return sp.Piecewise((z, z > 0), (a * (sp.exp(z) - 1), True))


def selu_expr(z=x, a=alpha, scale=lam):
    """SELU(z) = λ·ELU_α(z) as a ``Piecewise`` (λz for z > 0, λα(e^z − 1) for z ≤ 0)."""
    return sp.Piecewise((scale * z, z > 0), (scale * a * (sp.exp(z) - 1), True))


def softmax_expr(logits):
    """softmax of a sequence of SymPy logits: [e^(x_i) / Σ_j e^(x_j)] as a list."""
    logits = list(logits)
    if not logits:
        raise ValueError("softmax_expr needs at least one logit, got an empty sequence.")
    total = sum(sp.exp(v) for v in logits)
    return [sp.exp(v) / total for v in logits]


def softmax_jacobian(logits):
    """The Jacobian ∂s_i/∂x_j of softmax over ``logits`` (a ``sympy.Matrix``), computed by
    differentiating `softmax_expr` entry by entry (no formula assumed)."""
    logits = list(logits)
    s = softmax_expr(logits)
    return sp.Matrix(len(s), len(logits), lambda i, j: sp.diff(s[i], logits[j]))


# --------------------------------------------------------------------------------------------
# Quotient-rule derivations
# --------------------------------------------------------------------------------------------
def quotient_rule_steps(u, v, var=x):
    """The quotient rule d/dx [u/v] = (v u' − u v') / v², one step at a time.

    Returns a list of ``(label, expression)`` pairs: u, v, u', v' and the quotient-rule
    result (v u' − u v')/v² as SymPy writes it (SymPy multiplies out the zeros and ones).
    """
    du, dv = sp.diff(u, var), sp.diff(v, var)
    raw = (v * du - u * dv) / v**2
    return [("u", u), ("v", v), ("u'", du), ("v'", dv), (r"\frac{v u' - u v'}{v^2}", raw)]


def sigmoid_derivative_steps(var=x):
    """Derive σ' by the quotient rule and show it equals σ(1 − σ).

    u = 1 and v = 1 + e^(−x) give σ' = e^(−x) / (1 + e^(−x))². Since
    1 − σ = e^(−x) / (1 + e^(−x)), that is σ·(1 − σ). Returns ``(label, expression)``
    pairs: the quotient-rule steps, 1 − σ = e^(−x)/(1 + e^(−x)), their product σ(1 − σ)
    (which SymPy writes exactly like the quotient-rule result) and the difference of the
    two after ``cancel`` (0).
    """
    s = sigmoid_expr(var)
    steps = quotient_rule_steps(sp.Integer(1), 1 + sp.exp(-var), var)
    result = steps[4][1]
    one_minus = sp.exp(-var) / (1 + sp.exp(-var))  # = (1 + e^(-x) - 1) / (1 + e^(-x))
    steps.append((r"1 - \sigma", one_minus))
    steps.append((r"\sigma (1 - \sigma)", s * one_minus))
    steps.append((r"\sigma' - \sigma(1 - \sigma)", sp.cancel(result - s * (1 - s))))
    return steps


def tanh_derivative_steps(var=x):
    """Derive tanh' by the quotient rule on (e^x − e^(−x)) / (e^x + e^(−x)).

    u' = v and v' = u, so tanh' = (v² − u²)/v² = 1 − (u/v)² = 1 − tanh². Returns
    ``(label, expression)`` pairs ending with the difference from 1 − tanh² (which is 0).
    """
    u, v = sp.exp(var) - sp.exp(-var), sp.exp(var) + sp.exp(-var)
    steps = quotient_rule_steps(u, v, var)
    result = steps[4][1]
    steps.append((r"1 - \tanh^2", 1 - (u / v) ** 2))
    steps.append((r"\tanh' - (1 - \tanh^2)", sp.cancel(result - (1 - (u / v) ** 2))))
    return steps


def steps_latex(steps):
    """LaTeX ``aligned`` block of ``(label, expression)`` steps, for ``IPython.display.Math``."""
    rows = []
    for label, expr in steps:
        lab = label if "\\" in label or "'" in label else rf"\text{{{label}}}"
        rows.append(rf"{lab} &= {sp.latex(expr)}")
    return r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}"


# --------------------------------------------------------------------------------------------
# The logistic ODE
# --------------------------------------------------------------------------------------------
def logistic_ode_solution(y0=None, var=x):
    """Solve y' = y(1 − y) with ``sympy.dsolve``.

    Without ``y0`` the family y = 1 / (C1·e^(−x) + 1) comes back: C1 = e^c > 0 gives the
    shifted sigmoid σ(x − c), C1 = 0 the constant 1, and C1 < 0 solutions outside (0, 1)
    that blow up at x = ln|C1|; the constant solution y ≡ 0 is not in the family. With ``y0``
    the initial condition y(0) = y0 is applied; y0 = 1/2 gives exactly σ(x). Returns a
    ``sympy.Eq``.
    """
    y = sp.Function("y")
    ode = sp.Eq(y(var).diff(var), y(var) * (1 - y(var)))
    ics = None if y0 is None else {y(0): sp.nsimplify(y0)}
    return sp.dsolve(ode, y(var), ics=ics)


# --------------------------------------------------------------------------------------------
# GELU's tanh approximation
# --------------------------------------------------------------------------------------------
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def gelu_coefficient_taylor():
    """The coefficient a of tanh(√(2/π)(x + a x³)) ≈ erf(x/√2), from Taylor series.

    Both sides start with √(2/π)·x; matching the x³ terms,
    −√(2/π)/6 = √(2/π)·a − (2/π)^(3/2)/3, gives a = 2/(3π) − 1/6 = (4 − π)/(6π) ≈ 0.045541.
    Computed here with ``sympy.series`` and ``sympy.solve``; returns the exact expression.
    """
    a = sp.Symbol("a", real=True)
    target = sp.series(sp.erf(x / sp.sqrt(2)), x, 0, 5).removeO()
    approx = sp.series(sp.tanh(sp.sqrt(2 / sp.pi) * (x + a * x**3)), x, 0, 5).removeO()
    (solution,) = sp.solve(sp.Eq(target.coeff(x, 3), approx.coeff(x, 3)), a)
    return sp.simplify(solution)


def _ndtr(values):
    from scipy.special import ndtr  # scipy imported lazily: most users never need it
    return ndtr(values)


def cdf_tanh_error(xs, a):
    """Error of the tanh form of Φ: ½(1 + tanh(√(2/π)(x + a x³))) − Φ(x), elementwise.

    Φ(x) comes from ``scipy.special.ndtr``. The error is odd in x.
    """
    xs = np.asarray(xs, dtype=np.float64)
    return 0.5 * (1.0 + np.tanh(_SQRT_2_OVER_PI * (xs + a * xs**3))) - _ndtr(xs)


def gelu_tanh_error(xs, a):
    """Error of the tanh form of GELU, x·(the Φ error of `cdf_tanh_error`), elementwise."""
    xs = np.asarray(xs, dtype=np.float64)
    return xs * cdf_tanh_error(xs, a)


def gelu_coefficient_fit(method="minimax", x_max=6.0, n=6001):
    """Fit the coefficient a of ½(1 + tanh(√(2/π)(x + a x³))) to Φ(x) numerically.

    The objective is over the error e_a(x) = ½(1 + tanh(√(2/π)(x + a x³))) − Φ(x) of the
    *normal CDF* on ``n`` equally spaced points of [0, x_max] (e_a is odd, so this is the
    same as [−x_max, x_max]):

    * ``"minimax"``: minimise max |e_a(x)|. With x_max ≥ 3 (the default 6 included; the
      error has died out beyond 3) this gives a ≈ 0.0447149, the published 0.044715, with
      a largest error of about 1.79e-4 in Φ. On [−2, 2] it gives ≈ 0.04494; on [−1, 1]
      ≈ 0.04545, close to the Taylor value.
    * ``"lstsq"``: minimise Σ e_a(x)². For x_max ≥ 4 this gives a ≈ 0.0448465 (≈ 0.04485);
      on [−3, 3] ≈ 0.044859.

    Solved with ``scipy.optimize.minimize_scalar`` (bounded, a ∈ [0.03, 0.06]). Returns a
    float.
    """
    from scipy import optimize

    if method not in ("minimax", "lstsq"):
        raise ValueError(f"method must be 'minimax' or 'lstsq', got {method!r}.")
    if not (isinstance(x_max, numbers.Real) and 0 < x_max < 40):
        raise ValueError(f"x_max must be a positive number below 40, got {x_max!r}.")
    if not (isinstance(n, numbers.Integral) and n >= 10):
        raise ValueError(f"n must be an integer of at least 10, got {n!r}.")
    grid = np.linspace(0.0, float(x_max), int(n))

    if method == "minimax":
        def objective(a):
            return float(np.max(np.abs(cdf_tanh_error(grid, a))))
    else:
        def objective(a):
            return float(np.sum(cdf_tanh_error(grid, a) ** 2))

    result = optimize.minimize_scalar(objective, bounds=(0.03, 0.06), method="bounded",
                                      options={"xatol": 1e-12})
    return float(result.x)


# --------------------------------------------------------------------------------------------
# SELU's fixed point
# --------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def selu_moment_equations():
    """The two fixed-point conditions of SELU as SymPy expressions in ``alpha`` and ``lam``.

    For z ~ N(0, 1) with density φ(z) = e^(−z²/2)/√(2π), SELU keeps mean 0 and variance 1 when

        mean:   λ [∫₀^∞ z φ dz + α ∫_{−∞}^0 (e^z − 1) φ dz] = 0,
        second: λ² [∫₀^∞ z² φ dz + α² ∫_{−∞}^0 (e^z − 1)² φ dz] = 1.

    The integrals are done by ``sympy.integrate`` (once; the result is cached). Returns
    ``(mean, second_moment − 1)``: both vanish at SELU's (α, λ).
    """
    z = sp.Symbol("z", real=True)
    phi = sp.exp(-z**2 / 2) / sp.sqrt(2 * sp.pi)
    pos1 = sp.integrate(z * phi, (z, 0, sp.oo))
    neg1 = sp.integrate((sp.exp(z) - 1) * phi, (z, -sp.oo, 0))
    pos2 = sp.integrate(z**2 * phi, (z, 0, sp.oo))
    neg2 = sp.integrate((sp.exp(z) - 1) ** 2 * phi, (z, -sp.oo, 0))
    mean = lam * (pos1 + alpha * neg1)
    second = lam**2 * (pos2 + alpha**2 * neg2)
    return mean, second - 1


def selu_constants(dps=30, as_mpf=False):
    """SELU's (α, λ) from the fixed-point conditions of `selu_moment_equations`.

    The two equations are solved together with ``mpmath.findroot`` (Newton's method from
    (1.5, 1.0)) at ``dps`` decimal digits. Result: α ≈ 1.6732632423543772848,
    λ ≈ 1.0507009873554804934. Returns two Python floats ``(alpha, lam)``, or two mpmath
    numbers with all ``dps`` digits when ``as_mpf`` is true (use them inside
    ``mpmath.workdps(dps)`` to keep the digits).
    """
    if not (isinstance(dps, numbers.Integral) and 15 <= dps <= 1000):
        raise ValueError(f"dps must be an integer between 15 and 1000, got {dps!r}.")
    mean, second = selu_moment_equations()
    fns = sp.lambdify([alpha, lam], [mean, second], modules="mpmath")
    with mpmath.workdps(dps):
        root = mpmath.findroot(lambda a, s: fns(a, s), (mpmath.mpf("1.5"), mpmath.mpf(1)))
        if as_mpf:
            return +root[0], +root[1]
        return float(root[0]), float(root[1])


# --------------------------------------------------------------------------------------------
# Derivatives of the registered activations
# --------------------------------------------------------------------------------------------
_TIDY_OPS_LIMIT = 60


def _tidy(expr):
    """Shorten a derivative for display, piece by piece, without long ``simplify`` calls.
    A product or sum holding a ``Piecewise`` is folded into one ``Piecewise`` first."""
    if isinstance(expr, sp.Expr) and expr.has(sp.Piecewise):
        expr = sp.piecewise_fold(expr)
    if isinstance(expr, sp.Piecewise):
        pieces = [(_tidy(e), c) for e, c in expr.args]
        return sp.piecewise_fold(sp.Piecewise(*pieces))
    if not isinstance(expr, sp.Expr) or sp.count_ops(expr) > _TIDY_OPS_LIMIT:
        return expr
    best = expr
    for candidate in (sp.cancel(expr), sp.factor_terms(expr)):
        if sp.count_ops(candidate) < sp.count_ops(best):
            best = candidate
    return best


def symbolic_derivative(name, **params):
    """``(f, f')`` of the registered activation ``name`` as SymPy expressions in ``x``.

    ``f`` is the registry's ``symbolic(**params)``; ``f'`` is ``sympy.diff`` of it with
    respect to x, tidied piece by piece (a ``Piecewise`` stays a ``Piecewise``). For
    softmax-like entries whose symbolic form is a vector or matrix, ``f'`` is its Jacobian
    with respect to the logits. Unknown names raise the registry's ValueError.
    """
    from actlib import activations

    f = activations.get(name).symbolic(**params)
    if isinstance(f, (list, tuple)):
        f = sp.Matrix(f)
    if isinstance(f, sp.MatrixBase):
        logits = sorted(f.free_symbols, key=lambda s: s.name)
        return f, _tidy_matrix(f.jacobian(sp.Matrix(logits)))
    var = _find_symbol(f, "x") or x
    return f, _tidy(sp.diff(f, var))


def _tidy_matrix(m):
    return m.applyfunc(_tidy)


def _find_symbol(expr, name):
    for s in getattr(expr, "free_symbols", ()):
        if s.name == name:
            return s
    return None


def derivative_table(names=None):
    """Every registered activation with its symbolic derivative, as LaTeX.

    Long float constants (SELU's α and λ) are shown with 6 significant digits.
    Returns a list of ``(name, latex_f, latex_f_prime)`` in registry order (or the order of
    ``names``). Piecewise functions are written with cases; an entry whose ``symbolic()``
    raises ``NotImplementedError`` is listed with that message in place of the formulas.
    """
    from actlib import activations

    rows = []
    for name in (activations.names() if names is None else names):
        try:
            f, df = symbolic_derivative(name)
        except NotImplementedError as exc:
            rows.append((name, rf"\text{{{exc}}}", r"\text{--}"))
            continue
        if isinstance(f, sp.Expr) and f.has(sp.Piecewise):
            f = sp.piecewise_fold(f)
        rows.append((name, sp.latex(_round_floats(f)), sp.latex(_round_floats(df))))
    return rows


def _round_floats(expr, digits=6):
    """Show long Float constants (SELU's α, λ) with ``digits`` significant digits."""
    floats = expr.atoms(sp.Float)
    return expr.xreplace({v: sp.Float(v, digits) for v in floats}) if floats else expr


def derivative_table_latex(names=None):
    """`derivative_table` as one LaTeX ``array`` (name, f, f'), for
    ``IPython.display.Math``."""
    rows = [rf"\text{{{name.replace('_', ' ')}}} & {f} & {df}"
            for name, f, df in derivative_table(names)]
    head = r"\text{activation} & f(x) & f'(x) \\ \hline "
    return r"\begin{array}{lll}" + head + r" \\[6pt] ".join(rows) + r"\end{array}"


def derivative_table_markdown(names=None):
    """`derivative_table` as a Markdown table (math between ``$``), for
    ``IPython.display.Markdown``."""
    lines = ["| activation | $f(x)$ | $f'(x)$ |", "|---|---|---|"]
    for name, f, df in derivative_table(names):
        lines.append(f"| {name} | ${_md_math(f)}$ | ${_md_math(df)}$ |")
    return "\n".join(lines)


def _md_math(latex):
    # A '|' inside a Markdown table cell would end the cell.
    return latex.replace("|", r"\vert ").replace("\n", " ")
