"""Grading answers that are SymPy expressions: is the student's expression the reference?

`expressions_equal` decides and explains; `check_expression` raises AssertionError with the
explanation (`actlib.grading.checks` re-exports both for the notebooks' test cells). The decision:

1. reject what is not a SymPy expression (floats, strings, functions, equations ...) with a
   message saying what to pass instead; match symbols by name, so ``Symbol("x")`` without
   ``real=True`` is the course's ``x`` (and say so);
2. a quick screen at a few points with 30 significant digits — any clear difference ends it;
3. cheap algebra (``expand``, ``cancel``, ``rewrite(exp)``) on small differences; never
   ``simplify``, whose run time is unbounded;
4. otherwise numbers decide: about 60 random points plus every breakpoint of a piecewise
   expression (Piecewise, Heaviside, Max, Min, Abs, sign) and points just beside each.

A failure names a point where the two differ and both values there.
"""
import numbers

import mpmath
import numpy as np
import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.core.relational import Relational
from sympy.logic.boolalg import BooleanAtom

__all__ = ["expressions_equal", "check_expression"]

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
