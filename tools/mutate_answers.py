"""Mutation testing of an exercise's checks: small deliberate changes to the solution's answer,
each graded in this process against the exercise's own test cells.

    python tools/mutate_answers.py 05-smooth-activations swish_minimum
    python tools/mutate_answers.py 12-capstone momentum_update train --timeout 60
    python tools/mutate_answers.py 03-sigmoid-tanh --list          # the answers it can mutate

A *mutant* is the solution with one token of its answer changed (the code between
``### BEGIN SOLUTION`` and ``### END SOLUTION``, and the defaults of the answer's signature): a number (n → n + 1, n − 1; x → 2x, x/2), a
comparison (< ↔ <=, > ↔ >=, == ↔ !=, < ↔ >), an arithmetic operator (+ ↔ −, * ↔ /, ** → *), a
unary minus or a ``not`` dropped, ``and`` ↔ ``or``, ``True`` ↔ ``False``, a name or attribute
swapped with its twin (min ↔ max, maximum ↔ minimum, sum ↔ mean, …) or a known option string
swapped ("adam" ↔ "momentum", "relu" ↔ "tanh"). Each mutant is run the way the notebook runs:
the cells before the answer cell (context, answers, demos and earlier tests) run once with the
solution, then for each mutant the changed answer cell and the exercise's test cells
(``test_<answer>_visible``, ``test_<answer>_hidden``, the hidden region included) run on a copy
of that namespace, with RuntimeWarnings as failures (as the grader counts them).

A mutant is *killed* when its answer cell or a test cell fails; one that passes both test cells
*survived*: either a check is missing, or the change leaves the answer right (an equivalent
mutant — say why in tests/test_mutate_answers.py). The checks run here in-process, without the
grader's sandbox and bans: this measures what the tests compare, not the grading machinery.

Exit status: 0 when every mutant was killed, 1 when some survived, 2 for a usage error.
"""
import argparse
import copy
import io
import json
import os
import signal
import sys
import tokenize
import warnings
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import nbformat  # noqa: E402

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"

COMPARISONS = {"<": ["<=", ">"], "<=": ["<"], ">": [">=", "<"], ">=": [">"], "==": ["!="],
               "!=": ["=="]}
ARITHMETIC = {"+": ["-"], "-": ["+"], "*": ["/"], "/": ["*"], "**": ["*"], "//": ["/"],
              "+=": ["-="], "-=": ["+="], "*=": ["/="], "/=": ["*="]}
TWINS = {"min": "max", "max": "min", "minimum": "maximum", "maximum": "minimum",
         "argmin": "argmax", "argmax": "argmin", "sum": "mean", "mean": "sum", "all": "any",
         "any": "all", "floor": "ceil", "ceil": "floor", "log": "log1p", "log1p": "log",
         "exp": "expm1", "expm1": "exp", "and": "or", "or": "and", "True": "False",
         "False": "True", "sqrt": "cbrt", "tanh": "sinh", "round": "floor",
         "isclose": "equal", "unique": "sort", "T": "conj",
         "ravel": "flatten", "shape": "size"}
STRINGS = {"adam": "momentum", "momentum": "adam", "relu": "tanh", "tanh": "relu"}
UNARY_BEFORE = {"(", "[", "{", ",", "=", ":", "return", "+", "-", "*", "/", "**", "<", ">",
                "<=", ">=", "==", "!=", "and", "or", "not", "if", "else", "in", "lambda",
                "+=", "-=", "*=", "/="}


class Timeout(Exception):
    pass


def _alarm(signum, frame):  # noqa: ARG001 - signal handler signature
    raise Timeout()


def load(assignment):
    path = ROOT / "source" / assignment / f"{assignment}.ipynb"
    if not path.exists():
        raise SystemExit(f"no master notebook {path.relative_to(ROOT)}")
    return nbformat.read(str(path), as_version=4)


def meta(cell):
    return cell.metadata.get("nbgrader", {})


def answers_of(nb):
    return [meta(c)["grade_id"] for c in nb.cells
            if c.cell_type == "code" and meta(c).get("solution") and BEGIN in c.source]


def _solution_lines(source):
    """(first, last) line numbers (1-based, inclusive) of the code between the markers."""
    lines = source.splitlines()
    begin = next(i for i, line in enumerate(lines) if line.strip() == BEGIN)
    end = next(i for i, line in enumerate(lines) if line.strip() == END)
    return begin + 2, end


def _number_variants(text):
    try:
        value = int(text, 0)
        return [str(value + 1), str(value - 1)]
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        return []
    return ["1.0"] if value == 0 else [repr(value * 2), repr(value / 2)]


def mutants(source):
    """Every single-token mutant of the solution region: (description, line, new source)."""
    first, last = _solution_lines(source)
    lines = source.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    toks = list(tokenize.generate_tokens(io.StringIO(source).readline))
    out = []

    def replace(tok, new, what):
        start = offsets[tok.start[0] - 1] + tok.start[1]
        end = offsets[tok.end[0] - 1] + tok.end[1]
        mutated = source[:start] + new + source[end:]
        try:
            compile(mutated, "<mutant>", "exec")
        except SyntaxError:
            return
        where = ("signature (a default)" if tok.start[0] < first
                 else f"line {tok.start[0] - first + 1}")
        out.append((f"{where}: {what}", tok.start[0], mutated))

    significant = [t for t in toks if t.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT,
                                                     tokenize.INDENT, tokenize.DEDENT)]
    signature = {i + 1 for i, line in enumerate(lines) if line.lstrip().startswith("def ")
                 and i + 1 < first}
    for k, tok in enumerate(significant):
        in_signature = tok.start[0] in signature and tok.type in (tokenize.NUMBER, tokenize.STRING)
        if not (first <= tok.start[0] <= last or in_signature):
            continue
        prev = significant[k - 1] if k else None
        if tok.type == tokenize.NUMBER:
            for new in _number_variants(tok.string):
                replace(tok, new, f"{tok.string} -> {new}")
        elif tok.type == tokenize.OP and tok.string in COMPARISONS:
            for new in COMPARISONS[tok.string]:
                replace(tok, new, f"'{tok.string}' -> '{new}'")
        elif tok.type == tokenize.OP and tok.string in ARITHMETIC:
            unary = tok.string == "-" and (prev is None or prev.string in UNARY_BEFORE)
            if unary:
                replace(tok, "", "unary '-' dropped")
            else:
                for new in ARITHMETIC[tok.string]:
                    replace(tok, new, f"'{tok.string}' -> '{new}'")
        elif tok.type == tokenize.NAME and tok.string == "not":
            replace(tok, "", "'not' dropped")
        elif tok.type == tokenize.NAME and tok.string in TWINS:
            attribute = prev is not None and prev.string == "."
            if tok.string in ("T", "shape") and not attribute:
                continue
            replace(tok, TWINS[tok.string], f"{'.' if attribute else ''}{tok.string} -> "
                                            f"{TWINS[tok.string]}")
        elif tok.type == tokenize.STRING:
            body = tok.string.strip("'\"")
            if body in STRINGS:
                quote = tok.string[0]
                replace(tok, f"{quote}{STRINGS[body]}{quote}", f"{tok.string} -> "
                                                               f"{quote}{STRINGS[body]}{quote}")
    return out


def _run(source, namespace, label):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        exec(compile(source, label, "exec"), namespace)


def _quiet(fn, *args):
    with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
        return fn(*args)


def prepare(nb, answer):
    """The namespace after every code cell before the answer cell (run with the solution), the
    answer cell's source and the exercise's test cells [(grade id, source)]."""
    index = next(i for i, c in enumerate(nb.cells) if meta(c).get("grade_id") == answer)
    tests = [(meta(c)["grade_id"], c.source) for c in nb.cells
             if meta(c).get("grade_id") in (f"test_{answer}_visible", f"test_{answer}_hidden")]
    namespace = {"__name__": "__main__"}
    cwd = os.getcwd()
    os.chdir(ROOT / "source" / nb_name(nb))
    try:
        for i, cell in enumerate(nb.cells[:index]):
            if cell.cell_type != "code" or cell.source.lstrip().startswith(("%", "!")):
                continue
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    _quiet(exec, compile(cell.source, f"<cell {i}>", "exec"), namespace)
            except Exception as exc:  # noqa: BLE001 - a demo cell failing is reported, not fatal
                print(f"  (cell {i} before the answer failed with the solution: "
                      f"{type(exc).__name__}: {str(exc)[:120]})", file=sys.stderr)
            if "matplotlib.pyplot" in sys.modules:
                sys.modules["matplotlib.pyplot"].close("all")
    finally:
        os.chdir(cwd)
    return namespace, nb.cells[index].source, tests


def nb_name(nb):
    return nb.metadata.get("_assignment", "")


def judge(namespace, answer_source, tests, timeout):
    """'killed: <where>: <why>' or 'survived' for one version of the answer."""
    ns = copy.copy(namespace)
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(timeout)
    where = "answer cell"
    try:
        _quiet(_run, answer_source, ns, "<answer>")
        for gid, source in tests:
            where = gid
            _quiet(_run, source, ns, f"<{gid}>")
        return "survived"
    except Timeout:
        return f"killed: {where}: no result within {timeout} s"
    except Exception as exc:  # noqa: BLE001 - any failure kills the mutant
        return f"killed: {where}: {type(exc).__name__}: {' '.join(str(exc).split())[:160]}"
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def mutate(assignment, answer, timeout=60, limit=None, nb=None, echo=print):
    """Grade every mutant of one answer; return a list of dicts (mutation, verdict)."""
    nb = nb or load(assignment)
    nb.metadata["_assignment"] = assignment
    namespace, source, tests = prepare(nb, answer)
    if len(tests) != 2:
        raise SystemExit(f"{assignment}: {answer} has test cells {[g for g, _ in tests]}, "
                         f"expected test_{answer}_visible and test_{answer}_hidden")
    baseline = judge(namespace, source, tests, timeout)
    if baseline != "survived":
        raise SystemExit(f"{assignment}: the solution of {answer} fails its own tests: {baseline}")
    results = []
    for what, _, mutated in mutants(source)[:limit]:
        verdict = judge(namespace, mutated, tests, timeout)
        results.append({"answer": answer, "mutation": what, "verdict": verdict})
        echo(f"  {'SURVIVED' if verdict == 'survived' else 'killed  '}  {what}"
             + ("" if verdict == "survived" else f"   [{verdict[8:]}]"[:150]))
    return results


def alternatives(assignment, answer):
    """The correct alternatives of an answer in tests/alternatives.json: [(label, source)]."""
    table = json.loads((ROOT / "tests" / "alternatives.json").read_text(encoding="utf-8"))
    return [(v["label"], v["source"]) for v in table.get(assignment, {}).get(answer, [])]


def check_alternatives(assignment, answers, nb, timeout=60, echo=print):
    """Grade each alternative (appended to the answer cell, as tests/test_grading.py does);
    return 0 when all pass, 1 otherwise."""
    failed = 0
    for answer in answers:
        variants = alternatives(assignment, answer)
        if not variants:
            continue
        copy_nb = copy.deepcopy(nb)
        copy_nb.metadata["_assignment"] = assignment
        namespace, source, tests = prepare(copy_nb, answer)
        for label, variant in variants:
            verdict = judge(namespace, f"{source}\n\n# another correct answer: {label}\n{variant}\n",
                            tests, timeout)
            ok = verdict == "survived"
            failed += not ok
            echo(f"  {'passes' if ok else 'FAILS '}  {answer}: {label}" + ("" if ok else f"   [{verdict}]"))
    return 1 if failed else 0


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python tools/mutate_answers.py",
        description="Apply single-token mutations to a lesson's solution answers and grade each "
                    "in-process against the exercise's visible and hidden tests; list the mutants "
                    "that survive (a missing check, or a change that leaves the answer right).",
        epilog="Exit status: 0 every mutant killed, 1 some survived, 2 usage error.")
    parser.add_argument("assignment", help="e.g. 05-smooth-activations (a folder of source/)")
    parser.add_argument("answers", nargs="*",
                        help="answer cells' grade ids (default: every answer of the lesson)")
    parser.add_argument("--list", action="store_true", help="list the answers and their mutant counts")
    parser.add_argument("--timeout", type=int, default=60, help="seconds per mutant (default 60)")
    parser.add_argument("--limit", type=int, default=None, help="at most this many mutants per answer")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON to FILE")
    parser.add_argument("--alternatives", action="store_true",
                        help="instead of mutating, grade the answers' correct alternatives "
                             "(tests/alternatives.json) the same way: each must pass")
    args = parser.parse_args(argv)
    nb = load(args.assignment)
    known = answers_of(nb)
    unknown = sorted(set(args.answers) - set(known))
    if unknown:
        parser.error(f"{args.assignment} has no answer cell {unknown}; it has {known}")
    wanted = args.answers or known
    if args.list:
        for answer in known:
            source = next(c.source for c in nb.cells if meta(c).get("grade_id") == answer)
            print(f"{answer:28s} {len(mutants(source))} mutants")
        return 0
    if args.alternatives:
        return check_alternatives(args.assignment, wanted, nb, args.timeout)
    results = []
    for answer in wanted:
        print(f"{args.assignment} / {answer}:")
        results += mutate(args.assignment, answer, args.timeout, args.limit, nb=copy.deepcopy(nb))
    survivors = [r for r in results if r["verdict"] == "survived"]
    print(f"\n{len(results)} mutants, {len(results) - len(survivors)} killed, "
          f"{len(survivors)} survived")
    for r in survivors:
        print(f"  survived: {r['answer']}: {r['mutation']}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 1 if survivors else 0


if __name__ == "__main__":
    # a command-line run draws nothing: set here, not on import (a test process that imports
    # this module must not hand Agg to every kernel and JupyterLab it starts later)
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ.setdefault("ACTLIB_HEADLESS", "1")
    sys.exit(main())
