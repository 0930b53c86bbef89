"""Symbolic side of the course: SymPy forms, derivations and a grader for SymPy answers.

Everything symbolic in the course is written in the real variable ``x`` of this module
(``sympy.Symbol("x", real=True)``) with exact rationals, never floats. The module holds

* small expression builders the lessons use (`sigmoid_expr`, `softmax_expr`, ...) and the
  step-by-step quotient-rule derivations of σ' and tanh';
* `logistic_ode_solution`: ``dsolve`` of y' = y(1 − y), which is the sigmoid;
* the GELU tanh-approximation coefficient, exact from Taylor series
  (`gelu_coefficient_taylor`) and numeric from a fit of Φ (`gelu_coefficient_fit`);
* SELU's α and λ from the fixed-point conditions (`selu_constants`);
* the table of every registered activation with its derivative (`derivative_table`);
* the grading helper `check_expression` / `expressions_equal` for answers that are SymPy
  expressions (re-exported by `actlib.checks`).
"""
import functools
import math
import numbers

import mpmath
import numpy as np
import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.core.relational import Relational
from sympy.logic.boolalg import BooleanAtom

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
    "expressions_equal", "check_expression",
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

    Without ``y0`` the general solution y = 1 / (C1·e^(−x) + 1) comes back (a sigmoid
    shifted along x; C1 = e^(−c) gives σ(x − c)). With ``y0`` the initial condition
    y(0) = y0 is applied; y0 = 1/2 gives exactly σ(x). Returns a ``sympy.Eq``.
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


# --------------------------------------------------------------------------------------------
# Grading SymPy answers
# --------------------------------------------------------------------------------------------
_PIECEWISE_TYPES = (sp.Piecewise, sp.Heaviside, sp.Max, sp.Min, sp.Abs, sp.sign, sp.floor,
                    sp.ceiling)
# Above this many operations in student - reference the symbolic step is skipped (cancel
# alone can take a second on a 250-operation difference); numbers decide instead.
_SYMBOLIC_OPS_LIMIT = 120
_SCREEN_POINTS = 6
_DPS = 30


def _short(obj, limit=200):
    text = sp.sstr(obj) if isinstance(obj, (sp.Basic, sp.MatrixBase)) else repr(obj)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _reject_non_sympy(student):
    """Return a message when ``student`` is not a SymPy answer (None when it is), plus the
    answer converted (ints sympified)."""
    if isinstance(student, (bool, np.bool_, BooleanAtom)):
        return ("is a boolean (True/False), not a SymPy expression. Return the expression "
                "itself, not a comparison."), None
    if isinstance(student, sp.Lambda) or (callable(student) and not isinstance(
            student, (sp.Basic, sp.MatrixBase))):
        return ("is a function, not a SymPy expression. Call it on the symbol instead, e.g. "
                "`f(x)`, and pass the resulting expression."), None
    if isinstance(student, numbers.Integral):
        return None, sp.Integer(int(student))
    if isinstance(student, (sp.MatrixBase, sp.Expr)):
        return None, student
    if isinstance(student, Relational):
        return ("is an equation or inequality (e.g. Eq(y(x), ...)), not an expression. Pass "
                "its right-hand side, e.g. `solution.rhs`."), None
    if isinstance(student, numbers.Real):
        return (f"is the Python number {student!r}, not a SymPy expression. Build the answer "
                f"from SymPy objects (e.g. sympy.Rational(1, 4), sympy.pi, sympy.exp(x)) so "
                f"that it stays exact."), None
    if isinstance(student, str):
        return (f"is the string {student!r:.80}, not a SymPy expression. Write it with SymPy "
                f"objects (or convert it with sympy.sympify)."), None
    if isinstance(student, (list, tuple, set, dict)):
        return (f"is a {type(student).__name__} of {len(student)} item(s), not a single "
                f"SymPy expression. Pick the expression you mean (e.g. `result[0]`)."), None
    if student is None:
        return ("is None: did the cell compute the answer but forget to assign or return "
                "it?"), None
    return (f"is of type {type(student).__name__}, not a SymPy expression."), None


def _match_symbols(student, reference, extra=()):
    """Map the student's symbols onto the reference's by name.

    ``extra``: further symbols the answer may use (those of the other entries of a
    reference matrix). Returns ``(student with symbols replaced, notes, error or None)``.
    """
    ref_syms = {s.name: s for s in extra}
    ref_syms.update({s.name: s for s in reference.free_symbols})
    notes, mapping, foreign = [], {}, []
    for s in sorted(student.free_symbols, key=lambda s: s.name):
        target = ref_syms.get(s.name)
        if target is None:
            foreign.append(s.name)
        elif target != s:
            mapping[s] = target
            notes.append(f"your symbol {s.name} was created with different assumptions "
                         f"({_assumptions(s)}) than the expected one ({_assumptions(target)}); "
                         f"it was matched by name")
    if foreign:
        allowed = ", ".join(sorted(ref_syms)) or "no symbols at all (a constant)"
        msg = (f"uses the symbol(s) {', '.join(foreign)}, which the expected answer does not "
               f"have (it uses {allowed}). Write the answer in terms of those symbols only.")
        if any(name.startswith("C") and name[1:].isdigit() for name in foreign):
            msg += (" C1, C2, ... are integration constants from dsolve: fix them with an "
                    "initial condition (dsolve(..., ics={y(0): ...})).")
        return student, notes, msg
    ref_funcs = {f.func for f in reference.atoms(AppliedUndef)}
    undefined = sorted({str(f) for f in student.atoms(AppliedUndef) if f.func not in ref_funcs})
    if undefined:
        return student, notes, (f"contains the undefined function(s) {', '.join(undefined)}. "
                                f"Substitute what they stand for (e.g. the rhs of a dsolve "
                                f"solution).")
    return (student.xreplace(mapping) if mapping else student), notes, None


def _assumptions(sym):
    keys = [k for k in ("positive", "nonnegative", "real", "integer")
            if sym.assumptions0.get(k)]
    return ", ".join(f"{k}=True" for k in keys[:1]) or "no assumptions"


def _symbolic_zero(diff):
    """Try cheap transformations of ``student − reference``; return the name of the one that
    gave 0, or None when inconclusive.

    ``simplify`` is deliberately not used: it takes most of a second even on a difference of
    ten operations, and seconds on larger ones; the numeric comparison decides instead."""
    if diff == 0:
        return "identical"
    if diff.has(*_PIECEWISE_TYPES) or sp.count_ops(diff) > _SYMBOLIC_OPS_LIMIT:
        return None
    attempts = [
        ("expand", lambda e: sp.expand(e)),
        ("cancel", lambda e: sp.cancel(sp.together(e))),
        ("rewrite(exp) + cancel",
         lambda e: sp.cancel(sp.expand(e.rewrite(sp.exp), power_exp=True))),
    ]
    for label, transform in attempts:
        try:
            if transform(diff) == 0:
                return label
        except (TypeError, ValueError, NotImplementedError, sp.PolynomialError):
            continue
    return None


def _sample_ranges(symbols, main, domain, user):
    """Sampling interval of every symbol: ``user`` first (by symbol or name), then the
    symbol's sign assumptions, then ``domain`` for the main variable and (−3, 3) otherwise."""
    ranges = {}
    for s in symbols:
        lo, hi = domain if s == main else (-3.0, 3.0)
        given = user.get(s, user.get(s.name)) if user else None
        if given is not None:
            lo, hi = given
        elif s.is_positive:
            lo, hi = (max(lo, 0.0) or 0.1, hi) if hi > 0 else (0.1, 3.0)
        elif s.is_nonnegative:
            lo, hi = (max(lo, 0.0), hi) if hi > 0 else (0.0, 3.0)
        elif s.is_negative:
            lo, hi = (lo, min(hi, 0.0) or -0.1) if lo < 0 else (-3.0, -0.1)
        ranges[s] = (float(lo), float(hi))
    return ranges


def _kink_arguments(expr):
    """Expressions whose zeros are the breakpoints of Piecewise/Heaviside/Max/Min/Abs/sign."""
    args = []
    for pw in expr.atoms(sp.Piecewise):
        for _, cond in pw.args:
            if isinstance(cond, sp.Basic):
                for rel in cond.atoms(Relational):
                    args.append(rel.lhs - rel.rhs)
    for fn in (sp.Heaviside, sp.Abs, sp.sign):
        for atom in expr.atoms(fn):
            args.append(atom.args[0])
    for fn in (sp.Max, sp.Min):
        for atom in expr.atoms(fn):
            parts = atom.args
            args.extend(parts[i] - parts[j] for i in range(len(parts))
                        for j in range(i + 1, len(parts)))
    return args


def _breakpoint_solutions(exprs, main):
    """Breakpoints in ``main`` (as expressions in the other symbols) of the kink arguments
    that are polynomials of degree 1 or 2 in ``main``."""
    found = set()
    for g in exprs:
        if main not in g.free_symbols or not g.is_polynomial(main):
            continue
        try:
            if sp.degree(g, main) > 2:
                continue
            roots = sp.solve(g, main)
        except (NotImplementedError, sp.PolynomialError, TypeError, ValueError):
            continue
        found.update(r for r in roots if r.is_real is not False)
    return sorted(found, key=sp.default_sort_key)


def _evaluator(expr, symbols):
    """A function of mpmath numbers evaluating ``expr``; errors give nan."""
    try:
        fn = sp.lambdify(symbols, expr, modules="mpmath")
    except Exception:  # noqa: BLE001 - fall back to evalf for anything lambdify cannot print
        fn = None

    def evaluate(values):
        if fn is not None:
            try:
                return mpmath.mpmathify(fn(*values))
            except Exception:  # noqa: BLE001 - try the slower, more general evalf
                pass
        try:
            val = expr.evalf(_DPS, subs=dict(zip(symbols, [sp.Float(str(v), _DPS)
                                                           for v in values])))
            return mpmath.mpmathify(complex(val))
        except Exception:  # noqa: BLE001 - undefined here
            return mpmath.nan

    return evaluate


def _finite(v):
    return mpmath.isfinite(v) if not isinstance(v, mpmath.mpc) else (
        mpmath.isfinite(v.real) and mpmath.isfinite(v.imag))


def _sample_points(symbols, main, ranges, breakpoints, points, rng):
    """Points to evaluate at: uniform random ones, and, for every drawn set of parameters,
    each breakpoint of the main variable, points just beside it and in every piece."""
    others = [s for s in symbols if s != main]
    draws = 1 if not others else max(3, min(8, points // 10))
    per_draw = max(5, points // draws)
    out = []
    for _ in range(draws):
        params = {s: mpmath.mpf(rng.uniform(*ranges[s])) for s in others}
        if main is None:
            out.append(params)
            continue
        lo, hi = ranges[main]
        mains = [mpmath.mpf(v) for v in rng.uniform(lo, hi, per_draw)]
        cuts = []
        for b in breakpoints:
            try:
                val = mpmath.mpmathify(complex(b.evalf(_DPS, subs=params)))
            except (TypeError, ValueError):
                continue
            if isinstance(val, mpmath.mpc):
                if abs(val.imag) > 0:
                    continue
                val = val.real
            if lo <= val <= hi:
                cuts.append(val)
                delta = mpmath.mpf("1e-7") * max(1, abs(val))
                mains.extend([val, val - delta, val + delta])
        edges = [mpmath.mpf(lo)] + sorted(cuts) + [mpmath.mpf(hi)]
        for a, b in zip(edges[:-1], edges[1:]):
            if b > a:
                mains.extend(a + (b - a) * mpmath.mpf(u) for u in rng.uniform(0.05, 0.95, 3))
        for m in mains:
            point = dict(params)
            point[main] = m
            out.append(point)
    return out


def _numeric_compare(student, reference, symbols, main, ranges, points, rtol, atol, rng):
    """Compare at sample points; return ``(True, n_compared)`` or ``(False, (point, s, r))``."""
    breakpoints = []
    if main is not None:
        breakpoints = _breakpoint_solutions(
            _kink_arguments(student) + _kink_arguments(reference), main)
    ev_s, ev_r = _evaluator(student, symbols), _evaluator(reference, symbols)
    compared = 0
    sample = _sample_points(symbols, main, ranges, breakpoints, points, rng)
    with mpmath.workdps(_DPS):
        for point in sample:
            values = [point[s] for s in symbols]
            r = ev_r(values)
            if not _finite(r):
                continue
            s = ev_s(values)
            if not _finite(s) or abs(s - r) > atol + rtol * abs(r):
                return False, (point, s, r)
            compared += 1
    return True, (compared, len(sample))


def _fmt_point(point):
    parts = [f"{s.name} = {mpmath.nstr(v, 12)}" for s, v in
             sorted(point.items(), key=lambda kv: kv[0].name)]
    return ", ".join(parts) if parts else "(no variables)"


def _fmt_value(v):
    if isinstance(v, mpmath.mpc) and v.imag != 0:
        return mpmath.nstr(v, 12)
    if isinstance(v, mpmath.mpc):
        v = v.real
    return mpmath.nstr(v, 12)


def _compare_scalar(student, reference, symbols_arg, domain, points, rtol, atol, rng_seed,
                    extra=()):
    """Core comparison of two SymPy scalar expressions (already validated)."""
    student, notes, error = _match_symbols(student, reference, extra)
    if error:
        return False, error, notes
    if student.has(sp.Derivative, sp.Subs):
        student = student.doit()
    if reference.has(sp.Derivative, sp.Subs):
        reference = reference.doit()
    if student == reference or (student - reference) == 0:
        return True, "equal symbolically (identical)", notes
    symbols = sorted(reference.free_symbols | student.free_symbols, key=lambda s: s.name)
    main = next((s for s in symbols if s.name == "x"), symbols[0] if symbols else None)
    ranges = _sample_ranges(symbols, main, domain, symbols_arg)
    # A few points first: a difference found there is conclusive and spares the algebra,
    # which is slowest exactly on wrong answers (nothing cancels).
    ok, info = _numeric_compare(student, reference, symbols, main, ranges, _SCREEN_POINTS,
                                rtol, atol, np.random.default_rng([rng_seed, 1]))
    if ok:
        how = _symbolic_zero(student - reference)
        if how is not None:
            return True, f"equal symbolically ({how})", notes
        ok, info = _numeric_compare(student, reference, symbols, main, ranges, points, rtol,
                                    atol, np.random.default_rng(rng_seed))
    if ok:
        compared, sampled = info
        if compared < min(5, sampled):
            return False, ("could not be compared: the expected expression is undefined at "
                           "almost every sample point (choose another domain)."), notes
        where = "" if main is None else f" at {compared} points"
        return True, f"equal numerically{where}", notes
    point, s, r = info
    if not point:  # two constants
        return False, (f"differs from the expected value: your expression is "
                       f"{_fmt_value(s)}, the expected value is {_fmt_value(r)}."), notes
    return False, (f"differs from the expected expression at {_fmt_point(point)}: "
                   f"your expression gives {_fmt_value(s)}, the expected value is "
                   f"{_fmt_value(r)}."), notes


def expressions_equal(student, reference, *, symbols=None, domain=(-10, 10), points=60,
                      rtol=1e-9, atol=1e-12, rng_seed=0):
    """Decide whether the SymPy expression ``student`` equals ``reference``.

    1. The answer must be a SymPy expression (or matrix); Python ints are sympified; floats,
       strings, functions, lists, equations and None are rejected with a message saying what
       to pass instead.
    2. Symbols are matched by *name*: a student's ``Symbol("x")`` without ``real=True``
       counts as the reference's x (a note says so). A symbol the reference does not have
       (or an undefined function such as y(x)) is an error.
    3. A numeric screen at a few points (as in step 4): a difference there is conclusive.
       Then cheap symbolic checks of student − reference: structural equality, ``expand``,
       ``cancel``, ``rewrite(exp)`` + ``cancel`` (only when the difference has at most 120
       operations; never ``simplify``, which can take seconds). Piecewise-like expressions
       skip this step.
    4. If those are inconclusive, a numeric comparison at 30 significant digits (mpmath) at
       random points: the variable x (or the first symbol) uniform in ``domain``, other symbols in (−3, 3)
       or in (0.1, 3) when declared positive, or in the interval ``symbols[s]`` given for
       them (``symbols`` maps symbols or names to ``(lo, hi)``). Breakpoints of any
       Piecewise/Heaviside/Max/Min/Abs/sign in either expression are collected; each one is
       sampled exactly, just beside it on both sides, and inside every piece. Values agree
       when |s − r| ≤ atol + rtol·|r|; points where the reference is undefined are skipped.

    Returns ``(equal, detail)``: ``detail`` says how equality was established, or why the
    answer was rejected (for a numeric difference: the point and both values there).
    Matrices are compared entry by entry (an entry may use any symbol of the reference
    matrix, e.g. an unsimplified 0).
    """
    if not isinstance(reference, (sp.Expr, sp.MatrixBase, numbers.Integral)):
        raise TypeError(f"reference must be a SymPy expression or matrix, got "
                        f"{type(reference).__name__}.")
    if isinstance(reference, numbers.Integral):
        reference = sp.Integer(int(reference))
    low, high = domain
    if not low < high:
        raise ValueError(f"domain must be (low, high) with low < high, got {domain!r}.")
    problem, student = _reject_non_sympy(student)
    if problem:
        return False, f"Your answer {problem}"
    if isinstance(reference, sp.MatrixBase) != isinstance(student, sp.MatrixBase):
        kind = "a matrix" if isinstance(reference, sp.MatrixBase) else "a single expression"
        return False, f"Your answer should be {kind}; got {_short(student)}."
    if isinstance(reference, sp.MatrixBase):
        if student.shape != reference.shape:
            return False, (f"Your matrix has shape {student.shape}; the expected shape is "
                           f"{reference.shape}.")
        all_notes, hows = [], set()
        for i in range(reference.rows):
            for j in range(reference.cols):
                ok, detail, notes = _compare_scalar(
                    sp.sympify(student[i, j]), sp.sympify(reference[i, j]), symbols, domain,
                    points, rtol, atol, rng_seed, extra=reference.free_symbols)
                all_notes.extend(n for n in notes if n not in all_notes)
                if not ok:
                    return False, _with_notes(f"Entry [{i}, {j}] of your matrix {detail}",
                                              all_notes)
                hows.add(detail)
        return True, _with_notes("all entries " + "; ".join(sorted(hows)), all_notes)
    ok, detail, notes = _compare_scalar(sp.sympify(student), reference, symbols, domain,
                                        points, rtol, atol, rng_seed)
    prefix = "" if ok else "Your expression "
    return ok, _with_notes(prefix + detail, notes)


def _with_notes(text, notes):
    return text + "".join(f" (Note: {n}.)" for n in notes)


def check_expression(student, reference, *, name="expression", symbols=None,
                     domain=(-10, 10), points=60, rtol=1e-9, atol=1e-12, rng_seed=0):
    """Assert that the SymPy answer ``student`` equals ``reference`` (see `expressions_equal`
    for how it is decided and what the keyword arguments mean).

    Raises ``AssertionError`` whose message starts with ``name`` and says what is wrong; for
    a numeric difference it names a point where the two differ and both values there.
    Returns None (like the other checks, so a test cell ending with it displays nothing);
    `expressions_equal` gives the text saying how equality was established.
    """
    ok, detail = expressions_equal(student, reference, symbols=symbols, domain=domain,
                                   points=points, rtol=rtol, atol=atol, rng_seed=rng_seed)
    if not ok:
        shown = "" if "differs" not in detail else f" Your answer: {_short(student)}."
        raise AssertionError(f"{name}: {detail}{shown}")
