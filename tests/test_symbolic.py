"""Tests of actlib.symbolic: every identity the symbolic lesson states, the GELU coefficient,
SELU's constants, the derivative table, and the grader of SymPy answers (it must accept
equal expressions written differently and reject near-misses with a useful message).

Identities are checked twice: symbolically, and independently of SymPy's algebra by
evaluating both sides with mpmath at 40 digits (and derivatives by mpmath's numerical
differentiation).
"""
import re

import mpmath
import numpy as np
import pytest
import sympy as sp

from actlib import activations as A
from actlib import symbolic as S
from actlib.grading import symcheck as C

pytestmark = pytest.mark.filterwarnings("error")

x = S.x
# the syllabus values, as text: turned into mpf inside a 40-digit context where used
SELU_ALPHA = "1.6732632423543772848170429916717"
SELU_LAMBDA = "1.0507009873554804934193349852946"
GRID = [mpmath.mpf(v) / 7 for v in range(-40, 41, 3)]  # avoids 0, the kink of piecewise forms


def numeric_agree(lhs, rhs, var=x, points=GRID, subs=None, tol=mpmath.mpf("1e-30")):
    """Both sides evaluated with mpmath at 40 digits agree at every point."""
    subs = subs or {}
    f = sp.lambdify([var], lhs.subs(subs), modules="mpmath")
    g = sp.lambdify([var], rhs.subs(subs), modules="mpmath")
    with mpmath.workdps(40):
        return all(abs(f(p) - g(p)) <= tol * max(1, abs(g(p))) for p in points)


def numeric_derivative_agree(fexpr, dexpr, var=x, points=GRID, subs=None):
    """``dexpr`` matches mpmath's numerical derivative of ``fexpr``."""
    subs = subs or {}
    f = sp.lambdify([var], fexpr.subs(subs), modules="mpmath")
    d = sp.lambdify([var], dexpr.subs(subs), modules="mpmath")
    with mpmath.workdps(40):
        return all(abs(mpmath.diff(f, p) - d(p)) <= mpmath.mpf("1e-25") * max(1, abs(d(p)))
                   for p in points)


# -------------------------------------------------------------------------------------------
# The helpers check themselves: each must reject a wrong identity.
# -------------------------------------------------------------------------------------------
def test_numeric_helpers_can_fail():
    s = S.sigmoid_expr()
    assert not numeric_agree(sp.tanh(x), 2 * S.sigmoid_expr(x) - 1), "tanh != 2 sigma(x) - 1"
    assert not numeric_derivative_agree(s, s * (1 + s)), "sigma' != sigma(1 + sigma)"
    assert numeric_derivative_agree(s, s * (1 - s)), "sigma' = sigma(1 - sigma)"


# -------------------------------------------------------------------------------------------
# Identities of the lesson
# -------------------------------------------------------------------------------------------
def test_sigmoid_quotient_rule_steps():
    steps = dict(S.sigmoid_derivative_steps())
    s = S.sigmoid_expr()
    assert steps["u'"] == 0 and sp.simplify(steps["v'"] + sp.exp(-x)) == 0, "u' = 0, v' = -e^-x"
    result = steps[r"\frac{v u' - u v'}{v^2}"]
    assert result == sp.exp(-x) / (1 + sp.exp(-x)) ** 2, f"quotient rule gave {result}"
    assert sp.cancel(result - sp.diff(s, x)) == 0, "the quotient rule agrees with sympy.diff"
    assert steps[r"\sigma' - \sigma(1 - \sigma)"] == 0, "sigma' = sigma(1 - sigma)"
    assert numeric_agree(steps[r"1 - \sigma"], 1 - s), "1 - sigma = e^-x / (1 + e^-x)"
    assert numeric_derivative_agree(s, s * (1 - s)), "sigma' = sigma(1 - sigma) numerically"


def test_sigmoid_derivative_maximum_is_quarter_at_zero():
    s = S.sigmoid_expr()
    ds = sp.diff(s, x)
    assert ds.subs(x, 0) == sp.Rational(1, 4), "sigma'(0) = 1/4"
    assert sp.solve(sp.diff(s * (1 - s), x), x) == [0], "the only critical point is 0"


def test_tanh_quotient_rule_steps():
    steps = dict(S.tanh_derivative_steps())
    assert steps[r"\tanh' - (1 - \tanh^2)"] == 0, "tanh' = 1 - tanh^2"
    result = steps[r"\frac{v u' - u v'}{v^2}"]
    assert numeric_agree(result, 1 - sp.tanh(x) ** 2), "quotient rule = 1 - tanh^2"
    assert numeric_derivative_agree(sp.tanh(x), result), "matches the numerical derivative"


def test_steps_latex_renders_every_step():
    text = S.steps_latex(S.sigmoid_derivative_steps())
    assert text.startswith(r"\begin{aligned}") and text.endswith(r"\end{aligned}"), text
    assert text.count("&=") == len(S.sigmoid_derivative_steps()), text


def test_tanh_is_rescaled_sigmoid():
    rhs = 2 * S.sigmoid_expr(2 * x) - 1
    assert sp.cancel((sp.tanh(x) - rhs).rewrite(sp.exp)) == 0, "tanh(x) = 2 sigma(2x) - 1"
    assert numeric_agree(sp.tanh(x), rhs), "tanh(x) = 2 sigma(2x) - 1 numerically"
    assert numeric_agree(S.tanh_exp_expr(), sp.tanh(x)), "tanh through exponentials"


def test_softplus_derivative_is_sigmoid():
    d = sp.diff(S.softplus_expr(), x)
    assert sp.cancel(d - S.sigmoid_expr()) == 0, f"softplus' = {d}"
    assert numeric_derivative_agree(S.softplus_expr(), S.sigmoid_expr()), "softplus' = sigma"


def test_elu_derivative_is_elu_plus_alpha_on_the_negative_side():
    elu = S.elu_expr()
    d = sp.diff(elu, x)
    assert isinstance(d, sp.Piecewise), f"ELU' should stay piecewise, got {d}"
    neg_d, neg_f = d.args[1][0], elu.args[1][0]
    assert sp.expand(neg_d - (neg_f + S.alpha)) == 0, "ELU'(x) = ELU(x) + alpha for x <= 0"
    assert d.args[0][0] == 1, "ELU'(x) = 1 for x > 0"
    for a in (sp.Rational(1, 2), sp.Integer(1), sp.Rational(5, 3)):
        neg = [p for p in GRID if p < 0]
        assert numeric_derivative_agree(elu, elu + a, points=neg, subs={S.alpha: a}), a
        pos = [p for p in GRID if p > 0]
        assert numeric_derivative_agree(elu, sp.Integer(1), points=pos, subs={S.alpha: a}), a


def test_selu_derivative():
    d = sp.diff(S.selu_expr(), x)
    assert d.args[0][0] == S.lam, "SELU' = lambda for x > 0"
    assert sp.simplify(d.args[1][0] - S.lam * S.alpha * sp.exp(x)) == 0, \
        "SELU' = lambda alpha e^x for x <= 0"


def test_softmax_of_two_logits_is_sigmoid_of_difference():
    a, b = sp.symbols("a b", real=True)
    s = S.softmax_expr([a, b])
    assert sp.cancel(sp.expand(s[0] - S.sigmoid_expr(a - b), power_exp=True)) == 0, s[0]
    assert sp.cancel(sp.expand(s[1] - S.sigmoid_expr(b - a), power_exp=True)) == 0, s[1]
    assert numeric_agree(s[0].subs(b, 2 * x / 3 - 1), S.sigmoid_expr(x / 3 + 1).subs({}),
                         var=x, subs={a: x}), "numerically, with a = x, b = 2x/3 - 1"


@pytest.mark.parametrize("n", [2, 3, 4])
def test_softmax_jacobian_formula(n):
    logits = sp.symbols(f"x1:{n + 1}", real=True)
    s = S.softmax_expr(logits)
    jac = S.softmax_jacobian(logits)
    assert jac.shape == (n, n), jac.shape
    for i in range(n):
        for j in range(n):
            formula = s[i] * (sp.KroneckerDelta(i, j) - s[j])
            assert sp.cancel(jac[i, j] - formula) == 0, f"J[{i},{j}] = s_i(delta_ij - s_j)"
    assert all(sp.cancel(sum(jac[i, j] for i in range(n))) == 0 for j in range(n)), \
        "columns of the softmax Jacobian sum to 0 (outputs always sum to 1)"


def test_softmax_expr_rejects_empty():
    with pytest.raises(ValueError, match="at least one logit"):
        S.softmax_expr([])


def test_logistic_ode_general_solution_is_shifted_sigmoid():
    sol = S.logistic_ode_solution()
    y = sp.Function("y")
    ode = sp.Eq(y(x).diff(x), y(x) * (1 - y(x)))
    assert sp.checkodesol(ode, sol)[0], f"{sol} does not solve y' = y(1 - y)"
    (c1,) = sol.rhs.free_symbols - {x}
    c = sp.Symbol("c", real=True)
    shifted = sol.rhs.subs(c1, sp.exp(c))
    assert sp.cancel(sp.expand(shifted - S.sigmoid_expr(x - c), power_exp=True)) == 0, \
        "C1 = e^c gives sigma(x - c)"


def test_logistic_ode_with_half_is_sigmoid():
    sol = S.logistic_ode_solution(sp.Rational(1, 2))
    assert sp.cancel(sol.rhs - S.sigmoid_expr()) == 0, f"y(0) = 1/2 gives {sol.rhs}"
    other = S.logistic_ode_solution(sp.Rational(1, 4))
    assert other.rhs.subs(x, 0) == sp.Rational(1, 4), other
    assert sp.cancel(other.rhs - S.sigmoid_expr()) != 0, "y(0) = 1/4 is not sigma itself"


# -------------------------------------------------------------------------------------------
# GELU's coefficient
# -------------------------------------------------------------------------------------------
def test_gelu_coefficient_taylor_exact():
    a = S.gelu_coefficient_taylor()
    assert sp.simplify(a - (sp.Rational(2, 3) / sp.pi - sp.Rational(1, 6))) == 0, a
    assert abs(float(a) - 0.0455399241225271) < 1e-15, float(a)


@pytest.mark.parametrize("coef, matches", [("taylor", True), (0.044715, False)])
def test_gelu_coefficient_matches_series_to_fifth_order(coef, matches):
    a = S.gelu_coefficient_taylor() if coef == "taylor" else sp.Float(coef, 30)
    gap = sp.erf(x / sp.sqrt(2)) - sp.tanh(sp.sqrt(2 / sp.pi) * (x + a * x**3))
    cubic = sp.series(gap, x, 0, 5).removeO().coeff(x, 3)
    assert (abs(float(cubic)) < 1e-15) == matches, f"x^3 coefficient of the gap: {cubic}"


def test_gelu_coefficient_fits():
    minimax = S.gelu_coefficient_fit("minimax")
    lstsq = S.gelu_coefficient_fit("lstsq")
    assert abs(minimax - 0.044715) < 2e-6, f"minimax fit gives {minimax}"
    assert abs(lstsq - 0.04485) < 2e-5, f"least squares gives {lstsq}"
    assert abs(S.gelu_coefficient_fit("minimax", x_max=10.0) - minimax) < 1e-8, "range-stable"
    narrow = S.gelu_coefficient_fit("minimax", x_max=1.0)
    assert abs(narrow - float(S.gelu_coefficient_taylor())) < 2e-4, narrow


def test_minimax_coefficient_has_smallest_largest_error():
    xs = np.linspace(-8, 8, 40001)
    worst = {name: np.max(np.abs(S.cdf_tanh_error(xs, a))) for name, a in [
        ("minimax", S.gelu_coefficient_fit("minimax")),
        ("lstsq", S.gelu_coefficient_fit("lstsq")),
        ("taylor", float(S.gelu_coefficient_taylor()))]}
    assert worst["minimax"] < worst["lstsq"] < worst["taylor"], worst
    assert abs(worst["minimax"] - 1.789e-4) < 2e-6, worst
    gelu_gap = np.max(np.abs(S.gelu_tanh_error(xs, 0.044715)))
    assert abs(gelu_gap - 4.73e-4) < 5e-6, f"largest GELU gap of the tanh form: {gelu_gap}"


def test_cdf_tanh_error_against_mpmath():
    for v in (-3.0, -0.5, 0.7, 2.0):
        with mpmath.workdps(30):
            exact = (mpmath.mpf(1) + mpmath.tanh(mpmath.sqrt(2 / mpmath.pi)
                                                 * (v + 0.044715 * v**3))) / 2 - mpmath.ncdf(v)
        assert abs(S.cdf_tanh_error(v, 0.044715) - float(exact)) < 1e-15, v


@pytest.mark.parametrize("kwargs, match", [
    ({"method": "l1"}, "minimax"), ({"x_max": -1.0}, "x_max"), ({"n": 3}, "n must")])
def test_gelu_coefficient_fit_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        S.gelu_coefficient_fit(**kwargs)


# -------------------------------------------------------------------------------------------
# SELU's constants
# -------------------------------------------------------------------------------------------
def test_selu_constants_match_syllabus():
    a, lam = S.selu_constants()
    assert abs(a - float(SELU_ALPHA)) < 1e-12, a
    assert abs(lam - float(SELU_LAMBDA)) < 1e-12, lam
    with mpmath.workdps(40):  # more digits on request
        a40, lam40 = S.selu_constants(dps=40, as_mpf=True)
        assert abs(a40 - mpmath.mpf(SELU_ALPHA)) < 1e-30, a40
        assert abs(lam40 - mpmath.mpf(SELU_LAMBDA)) < 1e-30, lam40


def test_selu_moment_equations_vanish_only_at_the_constants():
    mean, second = S.selu_moment_equations()
    with mpmath.workdps(40):
        fm = sp.lambdify([S.alpha, S.lam], [mean, second], modules="mpmath")
        alpha, lam = mpmath.mpf(SELU_ALPHA), mpmath.mpf(SELU_LAMBDA)
        m, v = fm(alpha, lam)
        assert abs(m) < 1e-30 and abs(v) < 1e-30, (m, v)
        m, v = fm(alpha * mpmath.mpf("1.01"), lam)
        assert abs(m) > 1e-4, "a wrong alpha breaks the mean condition"


def test_selu_fixed_point_by_quadrature():
    """Independent of SymPy's integrals: mean 0 and variance 1 of selu(z), z ~ N(0, 1)."""
    def selu(z):
        return mpmath.mpf(SELU_LAMBDA) * (
            z if z > 0 else mpmath.mpf(SELU_ALPHA) * (mpmath.exp(z) - 1))

    with mpmath.workdps(30):
        mean = mpmath.quad(lambda z: selu(z) * mpmath.npdf(z), [-mpmath.inf, 0, mpmath.inf])
        second = mpmath.quad(lambda z: selu(z) ** 2 * mpmath.npdf(z),
                             [-mpmath.inf, 0, mpmath.inf])
    assert abs(mean) < 1e-20 and abs(second - 1) < 1e-20, (mean, second)


# -------------------------------------------------------------------------------------------
# Derivative table over the registry
# -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", A.names())
def test_symbolic_derivative_is_diff_of_registry_form(name):
    try:
        f, df = S.symbolic_derivative(name)
    except NotImplementedError as exc:
        assert str(exc), f"{name}: NotImplementedError without a message"
        return
    if isinstance(f, sp.MatrixBase):
        logits = sorted(f.free_symbols, key=lambda s: s.name)
        C.check_expression(df, f.jacobian(sp.Matrix(logits)), name=f"{name} Jacobian")
        return
    var = next(s for s in f.free_symbols if s.name == "x")
    # the tidying for display must not change the derivative
    C.check_expression(df, sp.diff(f, var), name=f"{name}'")
    if f.has(sp.Piecewise):
        assert isinstance(df, sp.Piecewise) or df.is_constant(), \
            f"{name}: the derivative of a piecewise function should stay piecewise: {df}"


def test_derivative_table_rows_and_piecewise_latex():
    rows = S.derivative_table()
    assert [r[0] for r in rows] == A.names(), "one row per registered activation, in order"
    table = {name: (f, df) for name, f, df in rows}
    for name in ("relu", "elu", "selu", "leaky_relu"):
        assert r"\begin{cases}" in table[name][1], f"{name} should be written with cases"
        assert r"\begin{cases}" in table[name][0], f"{name} should be written with cases"
    assert all(f and df for f, df in table.values()), "no empty cell"
    md = S.derivative_table_markdown()
    lines = md.splitlines()
    assert lines[0].startswith("| activation |") and len(lines) == len(rows) + 2, md[:300]
    assert all(line.count(" | ") == 2 for line in lines[2:]), "three cells a row, no stray |"
    latex = S.derivative_table_latex(["relu", "selu"])
    assert latex.startswith(r"\begin{array}") and latex.count(r"\begin{cases}") == 4, latex
    assert "1.0507" in latex and "1.05070098735548" not in latex, "constants shown rounded"


def test_symbolic_derivative_unknown_name():
    with pytest.raises(ValueError, match="sigmoid"):
        S.symbolic_derivative("sigmoyd")


# -------------------------------------------------------------------------------------------
# The grader of SymPy answers
# -------------------------------------------------------------------------------------------
sig = S.sigmoid_expr()
plain_x = sp.Symbol("x")  # no real=True: must be matched by name
pos_x = sp.Symbol("x", positive=True)
a1, a2 = sp.symbols("x1 x2", real=True)
relu_pw = sp.Piecewise((x, x > 0), (0, True))
elu_d = sp.diff(S.elu_expr(), x)

EQUAL = {
    "sigma(1-sigma) vs e^-x/(1+e^-x)^2": (sig * (1 - sig), sp.exp(-x) / (1 + sp.exp(-x)) ** 2),
    "tanh via exp": (S.tanh_exp_expr(), sp.tanh(x)),
    "2 sigma(2x) - 1 vs tanh": (2 * S.sigmoid_expr(2 * x) - 1, sp.tanh(x)),
    "(1 + tanh(x/2))/2 vs sigma": ((1 + sp.tanh(x / 2)) / 2, sig),
    "diff(softplus) vs sigma": (sp.diff(S.softplus_expr(), x), sig),
    "Max vs Piecewise": (sp.Max(0, x), relu_pw),
    "(x + |x|)/2 vs Piecewise": ((x + sp.Abs(x)) / 2, relu_pw),
    "x Heaviside(x) vs Piecewise": (x * sp.Heaviside(x), relu_pw),
    "ELU' as ELU + alpha": (sp.Piecewise((1, x > 0), (S.elu_expr() + S.alpha, True)), elu_d),
    "ELU' with swapped conditions": (sp.Piecewise((S.alpha * sp.exp(x), x <= 0), (1, True)),
                                     elu_d),
    "erf vs erfc GELU": (x * (1 + sp.erf(x / sp.sqrt(2))) / 2, x * sp.erfc(-x / sp.sqrt(2)) / 2),
    "plain Symbol('x')": (sp.exp(-plain_x) / (1 + sp.exp(-plain_x)) ** 2, sig * (1 - sig)),
    "python int": (3, sp.Integer(3)),
    "sympy Float for a rational": (sp.Float(0.25), sp.Rational(1, 4)),
    "unevaluated Derivative": (sp.Derivative(S.softplus_expr(), x), sig),
    "softmax of 2 vs sigma of difference": (S.softmax_expr([a1, a2])[0],
                                            S.sigmoid_expr(a1 - a2)),
    "Jacobian matrix vs formula": (S.softmax_jacobian([a1, a2]), sp.Matrix(
        2, 2, lambda i, j: S.softmax_expr([a1, a2])[i]
        * (sp.KroneckerDelta(i, j) - S.softmax_expr([a1, a2])[j]))),
    "swish with beta": (x / (1 + sp.exp(-S.beta * x)), x * S.sigmoid_expr(S.beta * x)),
}


@pytest.mark.parametrize("key", list(EQUAL))
def test_grader_accepts_equal_expressions(key):
    student, reference = EQUAL[key]
    ok, detail = C.expressions_equal(student, reference)
    assert ok, f"{key}: rejected with {detail}"
    assert C.check_expression(student, reference, name=key) is None, "passes silently"


def test_grader_notes_symbols_matched_by_name():
    ok, detail = C.expressions_equal(plain_x**2, x**2)
    assert ok and "matched by name" in detail, detail
    # with positive=True SymPy turned sqrt(x^2) into x: wrong for x < 0, and the note says why
    ok, detail = C.expressions_equal(sp.sqrt(pos_x**2), sp.Abs(x))
    assert not ok and "matched by name" in detail and "x = -" in detail, detail


_pts = [-2, -1, 0, 1, 2, 3]
_dsig = sp.diff(sig, x)
NEAR_MISS = {
    "polynomial interpolating sigma' at 6 points":
        (sp.interpolate([(p, _dsig.subs(x, p)) for p in _pts], x), _dsig),
    "x + sin(pi x) agrees with x at integers": (x + sp.sin(sp.pi * x), x),
    "tiny sine ripple": (x + sp.sin(sp.pi * x) / 10**6, x),
    "sigma + 1e-6": (sig + sp.Rational(1, 10**6), sig),
    "2 sigma(x) - 1 vs tanh": (2 * sig - 1, sp.tanh(x)),
    "tanh approx coefficient 0.0455 vs 0.044715":
        (sp.tanh(sp.sqrt(2 / sp.pi) * (x + S.gelu_coefficient_taylor() * x**3)),
         sp.tanh(sp.sqrt(2 / sp.pi) * (x + sp.Rational(44715, 10**6) * x**3))),
    "leaky slope differs on the negative piece":
        (sp.Piecewise((x, x > 0), (x / 50, True)), sp.Piecewise((x, x > 0), (x / 100, True))),
    "differs only on a narrow piece (0, 0.1)":
        (sp.Piecewise((x, (x > 0) & (x < sp.Rational(1, 10))), (0, True)),
         sp.Piecewise((2 * x, (x > 0) & (x < sp.Rational(1, 10))), (0, True))),
    "Heaviside(0) = 1/2 vs ReLU'(0) = 0":
        (sp.Heaviside(x), sp.Piecewise((1, x > 0), (0, True))),
    "breakpoint moved from 0 to 1/1000":
        (sp.Piecewise((x, x > sp.Rational(1, 1000)), (0, True)), relu_pw),
    "ELU' forgetting alpha": (sp.Piecewise((1, x > 0), (sp.exp(x), True)), elu_d),
    "Jacobian with a wrong sign": (-S.softmax_jacobian([a1, a2]), S.softmax_jacobian([a1, a2])),
}


@pytest.mark.parametrize("key", list(NEAR_MISS))
def test_grader_rejects_near_misses(key):
    student, reference = NEAR_MISS[key]
    ok, detail = C.expressions_equal(student, reference)
    assert not ok, f"{key}: accepted ({detail})"
    with pytest.raises(AssertionError, match=re.escape(key[:20])):
        C.check_expression(student, reference, name=key[:20])


_MSG = re.compile(r"at (?P<point>.+?): your expression gives (?P<got>\S+), "
                  r"the expected value is (?P<want>\S+)\.")


@pytest.mark.parametrize("key", [k for k in NEAR_MISS if "Jacobian" not in k])
def test_grader_message_names_a_differing_point_and_both_values(key):
    student, reference = NEAR_MISS[key]
    with pytest.raises(AssertionError) as info:
        C.check_expression(student, reference, name="answer")
    msg = str(info.value)
    assert msg.startswith("answer: "), msg
    found = _MSG.search(msg)
    assert found, f"no point/values in: {msg}"
    point = dict(p.split(" = ") for p in found["point"].split(", "))
    subs = {s: sp.Float(point[s.name], 30)
            for s in student.free_symbols | reference.free_symbols}
    got, want = float(found["got"]), float(found["want"])
    assert abs(float(student.subs(subs).evalf(30)) - got) <= 1e-9 * max(1, abs(got)), msg
    assert abs(float(reference.subs(subs).evalf(30)) - want) <= 1e-9 * max(1, abs(want)), msg
    assert got != want, msg


def test_grader_matrix_entry_may_use_symbols_of_other_entries():
    reference = sp.Matrix([[a1, 0]])
    student = sp.Matrix([[a1, sp.exp(2 * a2) - sp.exp(a2) ** 2]])   # an unsimplified 0
    ok, detail = C.expressions_equal(student, reference)
    assert ok, detail
    ok, detail = C.expressions_equal(sp.Matrix([[a1, sp.exp(a2) - 1]]), reference)
    assert not ok and "Entry [0, 1]" in detail, detail


def test_grader_message_for_matrix_names_the_entry():
    student, reference = NEAR_MISS["Jacobian with a wrong sign"]
    with pytest.raises(AssertionError, match=r"Entry \[0, 0\].*expected value"):
        C.check_expression(student, reference, name="J")
    with pytest.raises(AssertionError, match=r"shape \(1, 2\).*\(2, 2\)"):
        C.check_expression(sp.Matrix([[a1, a2]]), reference, name="J")
    with pytest.raises(AssertionError, match="should be a matrix"):
        C.check_expression(a1, reference, name="J")


@pytest.mark.parametrize("student, match", [
    (0.25, "Python number 0.25"),
    ("1/(1+exp(-x))", "string"),
    (lambda t: t, "is a function"),
    (sp.Lambda(x, sig), "is a function"),
    ([sig], "list of 1 item"),
    (None, "None"),
    (True, "boolean"),
    (sp.Eq(sp.Function("y")(x), sig), r"rhs"),
    (np.array([0.25]), "ndarray"),
])
def test_grader_rejects_non_sympy_answers(student, match):
    ok, detail = C.expressions_equal(student, sig)
    assert not ok and re.search(match, detail), detail
    with pytest.raises(AssertionError, match=match):
        C.check_expression(student, sig, name="sigma")


def test_grader_rejects_foreign_symbols_and_functions():
    z = sp.Symbol("z", real=True)
    with pytest.raises(AssertionError, match=r"symbol\(s\) z.*\(it uses x\)"):
        C.check_expression(S.sigmoid_expr(z), sig, name="sigma")
    c1 = sp.Symbol("C1")
    with pytest.raises(AssertionError, match="integration constants"):
        C.check_expression(1 / (c1 * sp.exp(-x) + 1), sig, name="ode")
    with pytest.raises(AssertionError, match=r"undefined function\(s\) y\(x\)"):
        C.check_expression(sp.Function("y")(x) * 0 + sp.Function("y")(x), sig, name="ode")


def test_grader_respects_positive_parameters_and_given_ranges():
    # sqrt(alpha^2) = alpha only because alpha is positive: it must be sampled positive
    ok, detail = C.expressions_equal(sp.sqrt(S.alpha**2) * x, S.alpha * x)
    assert ok, detail
    r = sp.Symbol("r", real=True)
    ok, detail = C.expressions_equal(sp.sqrt(r**2), r, symbols={"r": (0.5, 4)})
    assert ok, detail
    ok, detail = C.expressions_equal(sp.sqrt(r**2), r)
    assert not ok and "r = -" in detail, detail


def test_grader_is_deterministic_and_rejects_bad_reference():
    student, reference = NEAR_MISS["tiny sine ripple"]
    assert C.expressions_equal(student, reference) == C.expressions_equal(student, reference)
    with pytest.raises(TypeError, match="reference"):
        C.expressions_equal(sig, 0.5)
    with pytest.raises(ValueError, match="domain"):
        C.expressions_equal(sig, sig, domain=(1, -1))


def test_grader_is_quick_on_hairy_expressions():
    """The algebra is bounded: a wrong answer is rejected by numbers without long cancels."""
    import time

    sp_ = S.softplus_expr()
    reference = sp.diff(x * sp.tanh(sp_), x)                      # Mish'
    other_form = (sp.exp(x) * (4 * (x + 1) + 4 * sp.exp(2 * x) + sp.exp(3 * x)
                               + sp.exp(x) * (4 * x + 6))) / (2 * sp.exp(x) + sp.exp(2 * x) + 2) ** 2
    start = time.perf_counter()
    ok, detail = C.expressions_equal(other_form, reference)
    assert ok, detail
    ok, detail = C.expressions_equal(other_form * (1 + sp.Rational(1, 10**6)), reference)
    assert not ok, detail
    assert time.perf_counter() - start < 8, "the grader should take a few seconds at most"


def test_grader_constants():
    k = 4 / sp.sqrt(2 * sp.pi)
    ok, detail = C.expressions_equal(sp.Float(float(k)), k)
    assert ok and "numerically" in detail, f"a 15-digit Float of a constant passes: {detail}"
    ok, detail = C.expressions_equal(sp.sqrt(8 / sp.pi), k)
    assert ok, detail
    with pytest.raises(AssertionError, match=r"expected value: your expression is 0\.7978.*"
                                             r"expected value is 1\.5957"):
        C.check_expression(sp.sqrt(2 / sp.pi), k, name="k")


def test_grader_tolerance_is_relative():
    big = sp.exp(x)
    ok, _ = C.expressions_equal(big * (1 + sp.Rational(1, 10**12)), big)
    assert ok, "a 1e-12 relative difference is within the default rtol"
    ok, _ = C.expressions_equal(big * (1 + sp.Rational(1, 10**7)), big)
    assert not ok, "a 1e-7 relative difference is not"
