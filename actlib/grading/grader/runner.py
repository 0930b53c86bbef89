"""Run a notebook's test cells in the grader's process, against the student's kernel.

What a test cell may use, in the grader's namespace of one notebook:

* the names bound by *context cells* — locked cells whose grade id starts with ``context``
  (the imports, the symbols, the problem set up for the exercises) — run here from the
  gradebook's copy of their source;
* the names an earlier test cell bound (helpers shared by the visible and the hidden test):
  test cells run here in the gradebook's order, whatever order the submission has them in;
* the student's answers: the names the gradebook's solution cells bind, and only those, are
  fetched from the check kernel as data before each test cell (functions as proxies). A name
  the kernel does not have is left undefined, so the test meets the same NameError as in the
  kernel. No other name is ever taken from the kernel. (The course's tests check that test
  cells read nothing else: tests/test_course_files.py.)

The test cell's source is the gradebook's (nbgrader restores it anyway), so what the student's
notebook holds in that cell does not matter. A hidden test (its source holds nbgrader's hidden
test markers) runs with the link in hidden mode (`actlib.grading.grader.remote`). The verdict is made here: the cell passes when its
code ran to the end here without an exception, a warning or stderr output; the outputs written
back into the notebook (what nbgrader grades) are the ones recorded here.
"""
import ast
import builtins
import contextlib
import io
import time
import tokenize
import traceback
import warnings

import nbformat

from actlib.grading import checks
from actlib.grading.grader import bans
from actlib.grading.grader.remote import ForeignReach, KernelGone

__all__ = ["bound_names", "free_names", "GraderSession", "CONTEXT_PREFIX"]

CONTEXT_PREFIX = "context"
HIDDEN_MARK = "### BEGIN HIDDEN TESTS"
_BUILTINS = set(dir(builtins))


class _Scope(ast.NodeVisitor):
    """Top-level bindings of a cell (not those inside functions, classes or comprehensions)."""

    def __init__(self):
        self.names = set()

    def visit_FunctionDef(self, node):
        self.names.add(node.name)

    visit_AsyncFunctionDef = visit_ClassDef = visit_FunctionDef

    def visit_Lambda(self, node):
        pass

    def visit_ListComp(self, node):
        pass

    visit_SetComp = visit_DictComp = visit_GeneratorExp = visit_ListComp

    def visit_Name(self, node):
        if isinstance(node.ctx, (ast.Store, ast.Del)):
            self.names.add(node.id)

    def visit_alias(self, node):
        self.names.add((node.asname or node.name).split(".")[0])

    def visit_ExceptHandler(self, node):
        if node.name:
            self.names.add(node.name)
        self.generic_visit(node)


def _parse(source):
    lines = [ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!"))]
    return ast.parse("\n".join(lines))


def bound_names(source):
    """Names a cell binds at top level (assignments, defs, imports, loop targets...)."""
    scope = _Scope()
    scope.visit(_parse(source))
    return scope.names


def free_names(source):
    """Names a cell reads that it does not bind itself anywhere, builtins excluded."""
    tree = _parse(source)
    loads, bound = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (loads if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    return loads - bound - _BUILTINS


def _answer_of(grade_id):
    answer = bans.answer_of(grade_id)
    return f"`{answer}`" if answer else "this exercise"


# What switches NumPy's floating-point warnings (or Python's warnings) off inside an answer.
SILENCERS = ("errstate", "seterr", "simplefilter", "filterwarnings", "catch_warnings",
             "suppress_warnings")


def silencers(source):
    """The warning switches an answer cell's code uses (names in `SILENCERS`, found as code
    tokens: comments and strings do not count)."""
    found = []
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return found
    for tok in tokens:
        if tok.type == tokenize.NAME and tok.string in SILENCERS and tok.string not in found:
            found.append(tok.string)
    return found


_REDACTED = "[text of yours, not shown for hidden tests]"


def _redact(outputs, seen):
    """Remove from a hidden test's outputs every text the student's code produced."""
    texts = sorted({t for s in seen if isinstance(s, str) and len(s.strip()) >= 3
                    for t in (s, repr(s), s[:200])}, key=len, reverse=True)
    if not texts:
        return

    def clean(value):
        for t in texts:
            if t and t in value:
                value = value.replace(t, _REDACTED)
        return value

    for out in outputs:
        for key in ("evalue", "text"):
            if isinstance(out.get(key), str):
                out[key] = clean(out[key])
        if isinstance(out.get("traceback"), list):
            out["traceback"] = [clean(line) for line in out["traceback"]]


def _error(ename, evalue):
    return nbformat.v4.new_output("error", ename=ename, evalue=evalue,
                                  traceback=[f"{ename}: {evalue}"])


def _stream(name, text):
    return nbformat.v4.new_output("stream", name=name, text=text)


class GraderSession:
    """The grader's namespace for one notebook and the cells it knows from the gradebook."""

    def __init__(self, contexts, tests, timeout=120.0, log=None, assignment=None, answers=(),
                 order=None):
        self.contexts = dict(contexts)       # grade id -> source of context cells
        self.tests = dict(tests)             # grade id -> source of autograded test cells
        self.answers = list(answers)         # grade ids of the solution (answer) cells
        self.answer_names = set()            # names the gradebook's solution cells bind
        # the gradebook's order: [(kind, grade id)] with kind "context", "answer" or "test"
        self.order = list(order) if order is not None else (
            [("context", g) for g in self.contexts] + [("answer", g) for g in self.answers]
            + [("test", g) for g in self.tests])
        self.timeout = timeout
        self.log = log
        self.assignment = assignment         # whose exercise bans apply (actlib.grading.grader.bans)
        self.refused = {}                    # Ban -> message: a banned call in its answer cell
        self.silenced = {}                   # answer grade id -> warning switches it uses
        self.namespace = {"__name__": "__grader__", "__builtins__": builtins}
        self._fetched = set()
        self._ran_context = set()

    @classmethod
    def from_gradebook(cls, db_url, notebook, assignment, timeout=120.0, log=None,
                       source_order=None):
        """The session of ``notebook``: its cells from the gradebook; their order from
        ``source_order`` (the grade ids of the instructor's source notebook, in order) when
        given, else the gradebook's own."""
        from nbgrader.api import Gradebook

        with Gradebook(db_url) as gb:
            nb = gb.find_notebook(notebook, assignment)
            solutions = {c.name for c in nb.solution_cells}
            graded = {c.name for c in nb.grade_cells}
            contexts, tests, answers, names, listed = {}, {}, [], set(), []
            for cell in nb.source_cells:
                if cell.cell_type != "code":
                    continue
                if cell.name in solutions:
                    answers.append(cell.name)
                    listed.append(("answer", cell.name))
                    try:
                        names |= bound_names(cell.source)
                    except SyntaxError:
                        pass
                elif cell.name in graded:
                    tests[cell.name] = cell.source
                    listed.append(("test", cell.name))
                elif cell.locked and cell.name.startswith(CONTEXT_PREFIX):
                    contexts[cell.name] = cell.source
                    listed.append(("context", cell.name))
        if source_order:
            rank = {gid: i for i, gid in enumerate(source_order)}
            listed.sort(key=lambda item: rank.get(item[1], len(rank)))
        session = cls(contexts, tests, timeout=timeout, log=log, assignment=assignment,
                      answers=answers, order=listed)
        session.answer_names = names
        return session

    def is_hidden(self, grade_id):
        return HIDDEN_MARK in self.tests.get(grade_id, "")

    def is_test(self, grade_id):
        return grade_id in self.tests

    def is_context(self, grade_id):
        return grade_id in self.contexts

    def ban(self, grade_id):
        """The ban of the exercise the cell ``grade_id`` belongs to (or None)."""
        return bans.ban_for(self.assignment, grade_id) if self.assignment else None

    def run_context(self, grade_id):
        """Run a context cell's (gradebook) source here, once; return an error text or None."""
        if grade_id in self._ran_context:
            return None
        self._ran_context.add(grade_id)
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()), \
                warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                exec(compile(self.contexts[grade_id], f"<{grade_id}>", "exec"), self.namespace)
            except Exception as exc:  # noqa: BLE001 - an instructor error, reported in the log
                text = f"context cell {grade_id} failed in the grader: {type(exc).__name__}: {exc}"
                if self.log:
                    self.log.error("[actlib] %s", text)
                return text
        return None

    def _ensure_contexts(self):
        """Run the context cells not met yet (a student deleted one, or moved it below a test):
        in passes, so that a cell needing another's names runs after it."""
        pending = [gid for gid in self.contexts if gid not in self._ran_context]
        while pending:
            failed = []
            for gid in pending:
                self._ran_context.discard(gid)
                if self.run_context(gid) is not None:
                    failed.append(gid)
            if len(failed) == len(pending):
                return
            pending = failed

    def run_test(self, grade_id, link):
        """Run a test cell here; return the outputs to record for it (errors fail it)."""
        self._ensure_contexts()
        source = self.tests[grade_id]
        for name in self._fetched:
            self.namespace.pop(name, None)
        self._fetched = set()
        if link is None:
            return [_error("KernelGone", "not checked: the kernel is not running")]
        ban = self.ban(grade_id)
        if ban is not None and ban in self.refused:
            return [_error("AssertionError", self.refused[ban])]
        switches = self.silenced.get(bans.answer_of(grade_id))
        if switches:
            return [_error("AssertionError", (
                f"the cell of {_answer_of(grade_id)} switches warnings off "
                f"({', '.join(f'`{name}`' for name in switches)}): the course asks for code that "
                f"never overflows, divides by zero or takes an invalid value, so an answer may "
                f"not silence NumPy's warnings. Rewrite it so that nothing needs silencing."))]
        start = time.monotonic()
        link.deadline = start + self.timeout
        link.ban = ban
        link.hidden = self.is_hidden(grade_id)
        stdout, stderr = io.StringIO(), io.StringIO()
        outputs = []
        try:
            wanted = free_names(source) - set(self.namespace)
            if self.answer_names:
                wanted &= self.answer_names
            for name in sorted(wanted):
                try:
                    self.namespace[name] = link.get(name)
                    self._fetched.add(name)
                except KeyError:
                    pass                      # the test meets a NameError, as in the kernel
            with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr), \
                    warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                exec(compile(source, f"<{grade_id}>", "exec"), self.namespace)
            numeric = [w for w in caught if issubclass(w.category, RuntimeWarning)]
            if numeric:
                raise AssertionError(f"your code emitted a warning while being checked: "
                                     f"{numeric[0].category.__name__}: {numeric[0].message}. "
                                     f"Course code must run without warnings.")
        except ForeignReach:
            raise                             # checked again in a view of the exercise's own
        except KernelGone as exc:
            outputs.append(_error("KernelGone", f"not checked: {exc}"))
        except NotImplementedError:
            outputs.append(_error("NotImplementedError", checks.unanswered(_answer_of(grade_id))))
        except NameError as exc:
            outputs.append(_error("NameError", checks.undefined(exc.name or str(exc))))
        except Exception as exc:  # noqa: BLE001 - any failure fails the cell, with its message
            outputs.append(_error(type(exc).__name__, str(exc)))
            if self.log and not isinstance(exc, (AssertionError, NameError)):
                self.log.debug("test %s: %s", grade_id, traceback.format_exc())
        finally:
            link.deadline = None
            link.ban = None
            hidden, link.hidden = link.hidden, False
            seen, link.seen = list(link.seen), []
        text = stdout.getvalue()
        if text:
            outputs.insert(0, _stream("stdout", text))
        if stderr.getvalue():
            outputs.append(_stream("stderr", stderr.getvalue()))
        if hidden:
            _redact(outputs, seen)
        return outputs
