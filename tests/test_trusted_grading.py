"""Grades a class can trust: adversarial submissions graded by the real nbgrader, in one batch.

A temporary copy of the course grades lesson 1 for a class in which honest submissions (the
solution, a realistic wrong answer, the untouched release) sit beside one submission per known
trick: the untouched release plus a cell that tries to take points it did not earn or to change
other students' grades. Each trick must score no more than the untouched release (0), and every
honest submission must get exactly what it gets alone. The tricks are generic ones a search
finds; none needs to know this course.
"""
import copy
import json
import socket
import threading
from pathlib import Path

import nbformat
import pytest

from coursetools import auto_totals, cell_scores, copy_course, nbgrader_meta, regenerate
from test_grading import FIRST, read_folder, submit

pytestmark = [pytest.mark.nbgrader, pytest.mark.xdist_group("trusted")]

CELL_TIMEOUT = 15   # seconds per cell in this course copy, so the runaway tricks end quickly
# The notebook's and the checks' time budgets in this copy (the course's are 180 s and 120 s),
# so the slow student below costs seconds, not minutes: the same rule, scaled down.
NOTEBOOK_SECONDS, CHECK_SECONDS = 60, 30
# Every answer of the slow student sleeps this long per call: honest answers, but slow
# enough that the hidden tests' many calls outlast the checks' budget.
SLOW_CALL = 4


def tricks(root, port):
    """{student: code of the cell added to the untouched release}."""
    course = str(root)
    return {
        "input_transformer": """
ip = get_ipython()
ip.input_transformers_cleanup.append(lambda lines: ["pass\\n"])
""",
        "ast_transformer": """
import ast
class _NoAsserts(ast.NodeTransformer):
    def visit_Assert(self, node):
        return ast.Pass()
    def visit_Call(self, node):
        return ast.Constant(None)
get_ipython().ast_transformers.append(_NoAsserts())
""",
        "patched_checks": """
import sys, numpy as np, builtins
for _mod in list(sys.modules.values()):
    if getattr(_mod, "__name__", "").startswith(("actlib", "numpy")):
        for _n in dir(_mod):
            if any(w in _n.lower() for w in ("check", "assert", "close", "equal")):
                try:
                    setattr(_mod, _n, lambda *a, **k: True)
                except Exception:
                    pass
builtins.isinstance = lambda *a: True
builtins.AssertionError = type("Nothing", (Exception,), {})
""",
        "custom_exc": """
get_ipython().set_custom_exc((BaseException,), lambda *a, **k: None)
""",
        "always_equal": """
class _Anything(float):
    def __eq__(self, other): return True
    def __array__(self, *a, **k):
        import numpy as np
        return np.zeros(3)
def neuron(*a, **k): return _Anything(0.0)
def step(*a, **k): return _Anything(0.0)
def collapse(*a, **k): return _Anything(0.0), _Anything(0.0)
x_counter = y_counter = _Anything(1.0)
W1 = b1 = w2 = b2 = _Anything(0.0)
""",
        "system_exit": """
import sys
sys.exit("bye")
""",
        "os_exit": """
import os
os._exit(0)
""",
        "kill_kernel": """
import ctypes
ctypes.string_at(0)      # a segmentation fault ends the kernel process
""",
        "infinite_loop": """
while True:
    pass
""",
        "unstoppable_loop": """
import time
while True:
    try:
        time.sleep(0.05)
    except KeyboardInterrupt:
        pass
""",
        "fork_bomb": """
import os
children = 0
for _ in range(100000):
    try:
        if os.fork() == 0:
            import time
            time.sleep(600)
            os._exit(0)
        children += 1
    except OSError:
        break
print("forked", children)
""",
        "memory_hog": """
hog = []
while True:
    hog.append(bytearray(2**28))
""",
        "huge_output": """
for _ in range(200000):
    print("x" * 200)
""",
        "read_relative": """
import json, os
found = None
here = os.getcwd()
for _ in range(8):
    candidate = os.path.join(here, "source", "01-neuron", "01-neuron.ipynb")
    if os.path.exists(candidate):
        found = candidate
        break
    here = os.path.dirname(here)
if found:
    for cell in json.load(open(found))["cells"]:
        if cell["cell_type"] == "code":
            try:
                exec("".join(cell["source"]))
            except Exception:
                pass
""",
        "read_absolute": f"""
import json
for folder in ("source", "solutions"):
    try:
        cells = json.load(open({course!r} + "/" + folder + "/01-neuron/01-neuron.ipynb"))["cells"]
    except OSError:
        continue
    for cell in cells:
        if cell["cell_type"] == "code":
            try:
                exec("".join(cell["source"]))
            except Exception:
                pass
""",
        "write_gradebook": f"""
import sqlite3
try:
    db = sqlite3.connect({course!r} + "/gradebook.db")
    db.execute("update grade set auto_score = 1000, manual_score = 1000")
    db.commit()
except Exception as exc:
    print("no gradebook:", exc)
""",
        "write_others": f"""
import glob, os
for path in glob.glob({course!r} + "/*/solution/01-neuron/*.ipynb"):
    try:
        open(path, "w").write("{{}}")
    except OSError:
        pass
try:
    open({course!r} + "/nbgrader_config.py", "a").write("\\nraise SystemExit\\n")
except OSError:
    pass
""",
        "network": f"""
import socket
for host in ("127.0.0.1", "localhost"):
    try:
        socket.create_connection((host, {port}), timeout=3).sendall(b"hello")
    except OSError as exc:
        print("no network:", exc)
""",
    }


SPY_RECORD = """
SEEN = []
def _record(lines):
    SEEN.extend(lines)
    return lines
get_ipython().input_transformers_cleanup.append(_record)
"""
SPY_REPORT = "import json as _json\nprint('SPY' + _json.dumps(SEEN))"


class _Listener:
    """A loopback TCP server that records every connection made to it."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.5)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.stopped = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stopped:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def stop(self):
        self.stopped = True
        self.thread.join(timeout=5)
        self.sock.close()


def _with_cell(nb, code, after="context_imports"):
    """A copy of ``nb`` with a new code cell holding ``code`` after the cell ``after``."""
    out = copy.deepcopy(nb)
    index = next(i for i, c in enumerate(out.cells) if nbgrader_meta(c).get("grade_id") == after)
    out.cells.insert(index + 1, nbformat.v4.new_code_cell(code.strip()))
    return out


class TrustedClass:
    def __init__(self, root):
        self.root = root
        with open(root / "nbgrader_config.py", "a", encoding="utf-8") as fh:
            fh.write(f"\nc.Execute.timeout = {CELL_TIMEOUT}\n"
                     f"c.GradedExecute.notebook_seconds = {NOTEBOOK_SECONDS}\n"
                     f"c.GradedExecute.check_seconds = {CHECK_SECONDS}\n")
        regenerate(FIRST, root)
        self.solution = read_folder(root, "solutions", FIRST)[FIRST]
        self.release = read_folder(root, "notebooks", FIRST)[FIRST]
        self.listener = _Listener()
        try:
            self.tricks = tricks(root, self.listener.port)
            self._submit()
            import subprocess
            import sys

            from coursetools import ROOT

            self.result = subprocess.run(
                [sys.executable, str(ROOT / "tools" / "grade.py"), FIRST, "--root", str(root),
                 "--workers", "2"], capture_output=True, text=True, timeout=3000)
        finally:
            self.listener.stop()
        self.report = self.result.stdout + self.result.stderr

    def _submit(self):
        submit(self.root, FIRST, "solution", {FIRST: self.solution})
        submit(self.root, FIRST, "untouched", {FIRST: self.release})
        wrong = copy.deepcopy(self.solution)
        for cell in wrong.cells:
            if nbgrader_meta(cell).get("grade_id") == "step":
                cell.source = cell.source.replace("> threshold", ">= threshold")
        submit(self.root, FIRST, "wrong_step", {FIRST: wrong})
        for student, code in self.tricks.items():
            submit(self.root, FIRST, student, {FIRST: _with_cell(self.release, code)})
        # The solution claims more points: every test cell's points changed to 100.
        greedy = copy.deepcopy(self.solution)
        for cell in greedy.cells:
            if nbgrader_meta(cell).get("grade"):
                cell.metadata["nbgrader"]["points"] = 100
        submit(self.root, FIRST, "points_changed", {FIRST: greedy})
        # Blanked test cells on the untouched release.
        blank = copy.deepcopy(self.release)
        for cell in blank.cells:
            if nbgrader_meta(cell).get("grade_id", "").startswith("test_"):
                cell.source = ""
        submit(self.root, FIRST, "blanked_tests", {FIRST: blank})
        text = json.dumps(self.release)
        submit(self.root, FIRST, "malformed", {FIRST: text[: len(text) // 3]})
        # A spy: the solution, recording every cell the kernel is asked to run, printed at the end.
        spy = _with_cell(self.solution, SPY_RECORD)
        spy.cells.append(nbformat.v4.new_code_cell(SPY_REPORT))
        submit(self.root, FIRST, "spy", {FIRST: spy})
        # A slow student: the solution, each answer function sleeping on every call.
        slow = copy.deepcopy(self.solution)
        for name in ("neuron", "step", "collapse"):
            index = next(i for i, c in enumerate(slow.cells)
                         if nbgrader_meta(c).get("grade_id") == name)
            slow.cells[index].source += (
                f"\n\nimport time as _time\n_fast_{name} = {name}\n"
                f"def {name}(*args, **kwargs):\n"
                f"    _time.sleep({SLOW_CALL})\n"
                f"    return _fast_{name}(*args, **kwargs)\n")
        submit(self.root, FIRST, "slow", {FIRST: slow})

    def totals(self, student):
        return auto_totals(cell_scores(FIRST, student, self.root))


@pytest.fixture(scope="module")
def trusted(tmp_path_factory):
    return TrustedClass(copy_course(tmp_path_factory.mktemp("trusted") / "course"))


def test_every_trick_scores_no_more_than_the_untouched_release(trusted):
    untouched, total = trusted.totals("untouched")
    assert untouched == 0 and total > 0, trusted.report
    for student in [*trusted.tricks, "blanked_tests"]:
        got, _ = trusted.totals(student)
        assert got <= untouched, f"{student} took {got}/{total} points:\n{trusted.report}"


def test_honest_submissions_are_graded_as_alone(trusted):
    got, total = trusted.totals("solution")
    assert got == total, trusted.report
    lost = {gid for cells in cell_scores(FIRST, "wrong_step", trusted.root).values()
            for gid, (score, max_score, kind, _) in cells.items() if kind == "code" and score < max_score}
    assert lost == {"test_step_visible", "test_step_hidden"}, trusted.report


def test_changed_points_are_restored(trusted):
    got, total = trusted.totals("points_changed")
    solution, full = trusted.totals("solution")
    assert (got, total) == (solution, full), f"points_changed: {got}/{total}"


def test_nothing_outside_the_submission_was_touched(trusted):
    root = trusted.root
    assert trusted.listener.connections == 0, "a submission reached the grader's network"
    assert "raise SystemExit" not in (root / "nbgrader_config.py").read_text(encoding="utf-8")
    nb = nbformat.read(str(root / "submitted" / "solution" / FIRST / f"{FIRST}.ipynb"), as_version=4)
    assert nb.cells, "the solution's submission was overwritten"
    nb = nbformat.read(str(root / "autograded" / "solution" / FIRST / f"{FIRST}.ipynb"), as_version=4)
    assert nb.cells, "the solution's autograded notebook was overwritten"


def test_every_submission_is_graded_or_named_with_its_reason(trusted):
    report = trusted.report
    assert "malformed: " in report and "not a readable notebook" in report, report
    for student in [*trusted.tricks, "solution", "untouched", "wrong_step", "points_changed",
                    "blanked_tests"]:
        assert f" {student}: " in report, (student, report)


def test_runaway_kernels_are_stopped_with_a_reason(trusted):
    folder = trusted.root / "autograded"
    for student, reason in (("unstoppable_loop", "did not stop when interrupted"),
                            ("os_exit", "the kernel died"), ("kill_kernel", "the kernel died")):
        nb = nbformat.read(str(folder / student / FIRST / f"{FIRST}.ipynb"), as_version=4)
        text = json.dumps([c.get("outputs", []) for c in nb.cells])
        assert reason in text, f"{student}: no '{reason}' in the autograded notebook"
    nb = nbformat.read(str(folder / "huge_output" / FIRST / f"{FIRST}.ipynb"), as_version=4)
    size = sum(len(json.dumps(c.get("outputs", []))) for c in nb.cells)
    assert size < 3_000_000, f"huge_output kept {size} bytes of output"


def test_a_slow_student_costs_one_worker_at_most_the_budgets(trusted):
    """Answers that are right but sleep on every call: the checks stop at their budget, the
    student's notebook says why, the grading of that student ends within the notebook's and
    the checks' budgets (plus kernel start-ups), and the class goes on."""
    from actlib.grading.grader.batch import read_grading_log

    nb = nbformat.read(str(trusted.root / "autograded" / "slow" / FIRST / f"{FIRST}.ipynb"),
                       as_version=4)
    text = json.dumps([c.get("outputs", []) for c in nb.cells])
    assert f"used up their time ({CHECK_SECONDS} s)" in text, (
        "the slow student's notebook does not say its checks ran out of time")
    got, total = trusted.totals("slow")
    assert 0 < got < total, f"slow: {got}/{total} (the checks that ran pass; the rest do not)"
    seconds = read_grading_log(trusted.root, FIRST)["slow"]["seconds"]
    assert seconds < NOTEBOOK_SECONDS + CHECK_SECONDS + 45, (
        f"the slow student held a worker for {seconds:.0f} s")
    assert trusted.totals("solution")[0] == trusted.totals("solution")[1]


def test_test_code_never_reaches_the_kernel(trusted):
    """A spy recording every input of its kernel saw the student's cells, never a test's code."""
    from test_grading import HIDDEN_BEGIN, HIDDEN_END

    from coursetools import marked_lines

    nb = nbformat.read(str(trusted.root / "autograded" / "spy" / FIRST / f"{FIRST}.ipynb"),
                       as_version=4)
    text = "".join(o.get("text", "") for o in nb.cells[-1].get("outputs", []))
    assert text.startswith("SPY"), f"the spy did not report: {text[:300]}"
    seen = "".join(json.loads(text[3:]))
    assert "def neuron" in seen, f"the spy did not see the student's cells: {seen[:300]}"
    got, total = trusted.totals("spy")
    assert got == total, "the spy's own answers are right and must keep every point"
    source = nbformat.read(str(trusted.root / "source" / FIRST / f"{FIRST}.ipynb"), as_version=4)
    test_lines = {line.strip() for cell in source.cells
                  if nbgrader_meta(cell).get("grade_id", "").startswith("test_")
                  for line in cell.source.splitlines() if len(line.strip()) > 25}
    hidden = {line for cell in source.cells
              for line in marked_lines(cell.source, HIDDEN_BEGIN, HIDDEN_END) if len(line) > 25}
    assert hidden and hidden <= test_lines
    student_lines = {line.strip() for cell in trusted.release.cells
                     if not nbgrader_meta(cell).get("grade_id", "").startswith("test_")
                     for line in cell.source.splitlines()}
    test_lines -= student_lines           # a line the lesson itself also runs is no leak
    leaked = sorted(line for line in test_lines if line in seen)
    assert not leaked, f"test code reached the kernel: {leaked[:3]}"
