"""The grading pipeline, through the real nbgrader commands, on a temporary copy of the course.

For each assignment a fixture copies the course, regenerates the assignment with nbgrader,
builds a class of submissions and grades it with the instructor's command
(``tools/grade.py``), then the tests read the gradebook and the feedback:

* ``solution``: the solution notebook — full automatic marks, and it ran without any error,
  warning or stderr output (the canary for a broken grading environment);
* ``untouched``: the released notebook as a student receives it — zero, every test failing;
* ``shortcut_<id>``: the solution with one answer replaced by a call into the course's own
  implementation of what the exercise asks (``tests/shortcuts.py``) — loses exactly the points
  of that exercise's test cells, each failing with the message that names the exercise and the
  refused call (`actlib.grading.grader.bans`);
* ``stub_<id>``: for an exercise without such a shortcut, the solution with that answer
  replaced by the release stub — loses exactly the points of that exercise's test cells;
* ``library_<id>``: the solution with one answer replaced by a call into a library the
  exercise allows (NumPy, SymPy) that computes what it asks without its derivation
  (``tests/shortcuts.py``, ``LIBRARY_SHORTCUTS``) — loses exactly that exercise's points;
* ``alternatives``: the solution with every exercise answered another correct way
  (``tests/alternatives.json``: loops for vectorised code, other identities, other
  NumPy/SciPy/SymPy routes) — full marks: the checks judge results, not the way they are
  written; the shortcut and stub submissions answer their other exercises with a second
  alternative each, so those must keep full marks too;
* for the second assignment also ``silenced``: the naive sigmoid with NumPy's overflow warning
  switched off inside the answer (right numbers, but not the stable form the exercise asks);
* for the first assignment also a realistic wrong answer, a submission whose failing test
  cells were deleted, one with a duplicated graded cell and one with malformed JSON;
* for the capstone, ``broken_backward``: the solution with a deliberately broken backward pass,
  which loses the backward pass's points and train()'s (it trains below the accuracy threshold).
"""
import copy
import html
import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from coursetools import (ROOT, assignments, auto_totals, cell_scores, copy_course,
                         marked_lines, nbgrader_meta, notebook_names, output_problems,
                         regenerate)
from figure_audit import with_audit
from attacks import ATTACKS, build as build_attack
from shortcuts import LIBRARY_SHORTCUTS, SHORTCUTS, replace_answer

ALTERNATIVES = json.loads((Path(__file__).parent / "alternatives.json").read_text(encoding="utf-8"))

pytestmark = pytest.mark.nbgrader

ASSIGNMENTS = assignments()
FIRST = "01-neuron"
CAPSTONE = "12-capstone"
# The capstone's deliberately broken backward pass: the ReLU derivative with its inequality
# reversed, 1[z < 0] instead of 1[z > 0] (a realistic slip that still trains, badly).
BROKEN_BACKWARD = ("(z > 0)", "(z < 0)")
SECOND = "03-sigmoid-tanh"
SOLUTION_BEGIN, SOLUTION_END = "### BEGIN SOLUTION", "### END SOLUTION"
HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"


# ------------------------------------------------------------------------------ helpers

def stub_out(source):
    """Replace the solution region of an answer cell by nbgrader's release stub."""
    out, inside = [], False
    for line in source.splitlines():
        if line.strip() == SOLUTION_BEGIN:
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            out.append(indent + "raise NotImplementedError()")
        elif line.strip() == SOLUTION_END:
            inside = False
        elif not inside:
            out.append(line)
    return "\n".join(out)


def exercise_cells(nb):
    """{answer grade_id: [grade_ids of its test cells]} by the course's naming convention
    ``test_<answer id>_visible`` / ``test_<answer id>_hidden``."""
    answers = [nbgrader_meta(c)["grade_id"] for c in nb.cells
               if nbgrader_meta(c).get("solution") and c.cell_type == "code"]
    tests = [nbgrader_meta(c)["grade_id"] for c in nb.cells
             if nbgrader_meta(c).get("grade") and c.cell_type == "code"]
    return {a: [t for t in tests if re.fullmatch(rf"test_{re.escape(a)}_(visible|hidden)", t)]
            for a in answers}


def with_alternative(nb, table, k, skip=None):
    """A copy of ``nb`` with the k-th alternative of ``table`` (answer id -> variants)
    appended to each answer cell that has one (except ``skip``)."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        gid = nbgrader_meta(cell).get("grade_id")
        variants = table.get(gid, [])
        if gid != skip and len(variants) > k and cell.cell_type == "code":
            cell.source += (f"\n\n# another correct answer: {variants[k]['label']}\n"
                            f"{variants[k]['source']}\n")
    return nb


def html_text(path):
    """Visible text of an HTML file (tags removed, entities decoded, spaces folded)."""
    raw = Path(path).read_text(encoding="utf-8")
    raw = re.sub(r"<(script|style)\b.*?</\1>", " ", raw, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", raw)))


def fold(line):
    return re.sub(r"\s+", " ", line).strip()


def submit(root, assignment, student, notebooks):
    """Write ``{name: notebook or raw text}`` as a student's submission."""
    folder = root / "submitted" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    for name, nb in notebooks.items():
        path = folder / f"{name}.ipynb"
        if isinstance(nb, str):
            path.write_text(nb, encoding="utf-8")
        else:
            nbformat.write(nb, str(path))


def read_folder(root, folder, assignment):
    return {name: nbformat.read(str(root / folder / assignment / f"{name}.ipynb"), as_version=4)
            for name in notebook_names(assignment, root)}


# ------------------------------------------------------------------------------ the class

class Graded:
    """One assignment regenerated and graded in a temporary course."""

    def __init__(self, assignment, root):
        self.assignment, self.root = assignment, root
        regenerate(assignment, root)
        self.source = read_folder(root, "source", assignment)
        self.solution = read_folder(root, "solutions", assignment)
        self.release = read_folder(root, "notebooks", assignment)
        self.stubbed = {}      # student -> (notebook, answer grade_id)
        self.attacks = []      # students of tests/attacks.py
        self.expected_fail = {}  # student -> set of test grade_ids expected to fail
        self._build_class()
        self.result = subprocess.run(
            [sys.executable, str(ROOT / "tools" / "grade.py"), assignment, "--root", str(root)],
            capture_output=True, text=True, timeout=3600)
        self.report = self.result.stdout + self.result.stderr

    def _build_class(self):
        # the solution runs with the figure audit around it (tests/test_notebooks.py reads it)
        submit(self.root, self.assignment, "solution",
               {name: with_audit(nb) for name, nb in self.solution.items()})
        submit(self.root, self.assignment, "untouched", self.release)
        shortcuts = SHORTCUTS.get(self.assignment, {})
        for name, nb in self.solution.items():
            for answer, tests in exercise_cells(nb).items():
                body = shortcuts.get(answer)
                # every other exercise is answered by its second alternative, where it has one
                wrong = with_alternative(nb, ALTERNATIVES.get(self.assignment, {}), 1,
                                         skip=answer)
                for cell in wrong.cells:
                    if nbgrader_meta(cell).get("grade_id") == answer:
                        cell.source = (replace_answer(cell.source, body) if body
                                       else stub_out(cell.source))
                student = f"{'shortcut' if body else 'stub'}_{name}_{answer}"
                submit(self.root, self.assignment, student, {**self.solution, name: wrong})
                self.stubbed[student] = (name, answer)
                self.expected_fail[student] = set(tests)
        self._build_library_shortcuts()
        self._build_alternatives()
        if self.assignment == FIRST:
            self._build_broken_submissions()
        if self.assignment == CAPSTONE:
            self._build_broken_backward()
        if self.assignment == SECOND:
            self._build_silenced_submission()
        for student, spec in ATTACKS.get(self.assignment, {}).items():
            submit(self.root, self.assignment, f"attack_{student}",
                   {name: build_attack(spec, self.solution[name], self.release[name])
                    for name in self.solution})
            self.attacks.append(f"attack_{student}")

    def _build_broken_submissions(self):
        name = FIRST
        nb = self.solution[name]
        # A realistic wrong answer: the step fires at the threshold (>= instead of >).
        wrong = copy.deepcopy(nb)
        for cell in wrong.cells:
            if nbgrader_meta(cell).get("grade_id") == "step":
                cell.source = cell.source.replace("> threshold", ">= threshold")
                assert ">= threshold" in cell.source
        submit(self.root, FIRST, "wrong_step", {name: wrong})
        self.expected_fail["wrong_step"] = {"test_step_visible", "test_step_hidden"}
        # The same wrong answer with its test cells deleted: they must come back and fail.
        deleted = copy.deepcopy(wrong)
        deleted.cells = [c for c in deleted.cells
                         if nbgrader_meta(c).get("grade_id") not in ("test_step_visible",
                                                                     "test_step_hidden")]
        submit(self.root, FIRST, "deleted_tests", {name: deleted})
        self.expected_fail["deleted_tests"] = {"test_step_visible", "test_step_hidden"}
        # A graded cell copied (duplicate grade_id) into an otherwise correct solution.
        dup = copy.deepcopy(nb)
        index = next(i for i, c in enumerate(dup.cells)
                     if nbgrader_meta(c).get("grade_id") == "test_neuron_visible")
        twin = copy.deepcopy(dup.cells[index])
        twin["id"] = "copied-cell"
        dup.cells.insert(index + 1, twin)
        submit(self.root, FIRST, "duplicated", {name: dup})
        # Malformed JSON: a truncated file.
        text = json.dumps(nb)
        submit(self.root, FIRST, "malformed", {name: text[: len(text) // 2]})

    def _build_broken_backward(self):
        """The capstone's solution with a broken backward pass (`BROKEN_BACKWARD`): it fails the
        backward pass's gradient checks and, because train() uses it, the accuracy threshold of
        train()'s visible and hidden tests; every other exercise keeps its points."""
        name = CAPSTONE
        broken = copy.deepcopy(self.solution[name])
        for cell in broken.cells:
            if nbgrader_meta(cell).get("grade_id") == "backward":
                assert BROKEN_BACKWARD[0] in cell.source
                cell.source = cell.source.replace(*BROKEN_BACKWARD)
        submit(self.root, CAPSTONE, "broken_backward", {name: broken})
        self.expected_fail["broken_backward"] = {"test_backward_visible", "test_backward_hidden",
                                                 "test_train_visible", "test_train_hidden"}

    def _build_library_shortcuts(self):
        """The solution with one answer replaced by its library shortcut
        (``tests/shortcuts.py``, ``LIBRARY_SHORTCUTS``): it loses exactly that exercise's points,
        the visible test's included."""
        table = LIBRARY_SHORTCUTS.get(self.assignment, {})
        found = set()
        for name, nb in self.solution.items():
            for answer, tests in exercise_cells(nb).items():
                if answer not in table:
                    continue
                found.add(answer)
                taken = copy.deepcopy(nb)
                for cell in taken.cells:
                    if nbgrader_meta(cell).get("grade_id") == answer:
                        cell.source = replace_answer(cell.source, table[answer])
                student = f"library_{name}_{answer}"
                submit(self.root, self.assignment, student, {**self.solution, name: taken})
                self.expected_fail[student] = set(tests)
        assert found == set(table), f"library shortcuts without an answer cell: {set(table) - found}"

    def _build_alternatives(self):
        """Correct answers written differently: every exercise's first alternative, appended
        to its answer cell (so it replaces the solution's definitions). The second
        alternatives answer the other exercises of the shortcut and stub submissions."""
        table = ALTERNATIVES.get(self.assignment, {})
        if table:
            submit(self.root, self.assignment, "alternatives",
                   {name: with_alternative(nb, table, 0) for name, nb in self.solution.items()})
            self.expected_fail["alternatives"] = set()

    def _build_silenced_submission(self):
        """The naive sigmoid with NumPy's overflow warning switched off inside the answer: its
        results are right (1/(1 + inf) = 0), but the course asks for a form that never
        overflows, so the stable sigmoid's tests must fail, and nothing else."""
        name = self.assignment
        nb = copy.deepcopy(self.solution[name])
        for cell in nb.cells:
            if nbgrader_meta(cell).get("grade_id") == "sigmoid_stable":
                cell.source = replace_answer(cell.source, (
                    "z = np.asarray(z)\n"
                    "with np.errstate(over='ignore'):\n"
                    "    return 1 / (1 + np.exp(-z))"))
        submit(self.root, name, "silenced", {name: nb})
        self.expected_fail["silenced"] = {"test_sigmoid_stable_visible",
                                          "test_sigmoid_stable_hidden"}

    def scores(self, student):
        return cell_scores(self.assignment, student, self.root)

    def autograded(self, student):
        folder = self.root / "autograded" / student / self.assignment
        return {name: nbformat.read(str(folder / f"{name}.ipynb"), as_version=4)
                for name in self.source}

    def feedback_files(self, student):
        return sorted((self.root / "feedback" / student / self.assignment).glob("*.html"))


_GRADED = {}


def graded_class(assignment, tmp_path_factory):
    """The graded class of an assignment, built once per test session (and xdist worker)."""
    if assignment not in _GRADED:
        root = copy_course(tmp_path_factory.mktemp(assignment) / "course")
        _GRADED[assignment] = Graded(assignment, root)
    return _GRADED[assignment]


@pytest.fixture(params=[pytest.param(a, marks=pytest.mark.xdist_group(a)) for a in ASSIGNMENTS])
def graded(request, tmp_path_factory):
    return graded_class(request.param, tmp_path_factory)


@pytest.fixture(params=[pytest.param(a, marks=pytest.mark.xdist_group(a))
                        for a in ASSIGNMENTS if a in ATTACKS])
def attacked(request, tmp_path_factory):
    return graded_class(request.param, tmp_path_factory)


@pytest.fixture
def first_graded(tmp_path_factory):
    return graded_class(FIRST, tmp_path_factory)


# ------------------------------------------------------------------------------ the tests

def test_committed_release_and_solution_match_nbgrader_output(graded):
    """notebooks/ and solutions/ are exactly what nbgrader generates from source/ now."""
    for folder in ("notebooks", "solutions"):
        fresh = sorted(p.relative_to(graded.root / folder / graded.assignment)
                       for p in (graded.root / folder / graded.assignment).rglob("*") if p.is_file())
        committed_dir = ROOT / folder / graded.assignment
        committed = sorted(p.relative_to(committed_dir) for p in committed_dir.rglob("*")
                           if p.is_file() and ".ipynb_checkpoints" not in p.parts)
        assert fresh == committed, (f"{folder}/{graded.assignment} holds {committed} but nbgrader "
                                    f"generates {fresh}: run python tools/regenerate.py")
        for rel in fresh:
            new = (graded.root / folder / graded.assignment / rel).read_bytes()
            old = (committed_dir / rel).read_bytes()
            assert new == old, (f"{folder}/{graded.assignment}/{rel} differs from what nbgrader "
                                f"generates from source/: run python tools/regenerate.py")


def test_solution_gets_full_marks_and_runs_cleanly(graded):
    got, total = auto_totals(graded.scores("solution"))
    assert total > 0, "the assignment has no autograded points"
    assert got == total, (f"the solution of {graded.assignment} got {got}/{total}; "
                          f"cells: {graded.scores('solution')}\n{graded.report}")
    for name, nb in graded.autograded("solution").items():
        found = output_problems(nb)
        assert not found, f"{name}: " + "; ".join(f"cell {i}: {text}" for i, text in found)


def test_untouched_release_gets_zero_with_every_test_failing(graded):
    scores = graded.scores("untouched")
    for name, cells in scores.items():
        for grade_id, (score, max_score, cell_type, _) in cells.items():
            if cell_type == "code":
                assert score == 0, f"{name}:{grade_id} gave {score}/{max_score} to the stubs"


def test_each_exercise_has_visible_and_hidden_tests(graded):
    for name, nb in graded.source.items():
        for answer, tests in exercise_cells(nb).items():
            assert f"test_{answer}_visible" in tests and f"test_{answer}_hidden" in tests, (
                f"{name}: exercise {answer} needs test_{answer}_visible and test_{answer}_hidden")
            hidden = next(c for c in nb.cells
                          if nbgrader_meta(c).get("grade_id") == f"test_{answer}_hidden")
            assert marked_lines(hidden.source, HIDDEN_BEGIN, HIDDEN_END), (
                f"{name}: test_{answer}_hidden has no hidden test region")


def test_alternative_answers_get_full_marks(graded):
    """Correct answers written another way (tests/alternatives.json) get every point."""
    students = [s for s in graded.expected_fail if s == "alternatives"]
    assert students or not ALTERNATIVES.get(graded.assignment), graded.assignment
    for student in students:
        got, total = auto_totals(graded.scores(student))
        assert got == total, (f"{student} of {graded.assignment} got {got}/{total}: "
                              f"{graded.scores(student)}")


def test_one_wrong_answer_loses_that_exercise_only(graded):
    assert graded.stubbed, f"{graded.assignment} has no autograded answer cell"
    for student, failing in graded.expected_fail.items():
        scores = graded.scores(student)
        lost = {gid for cells in scores.values()
                for gid, (score, max_score, cell_type, manual) in cells.items()
                if cell_type == "code" and score < max_score}
        assert lost == failing, (f"{student} should lose exactly {sorted(failing)} "
                                 f"but lost {sorted(lost)}")
        for cells in scores.values():
            for gid in failing:
                assert gid in cells and not cells[gid][3], (
                    f"{student}: {gid} was not autograded (missing or left for manual grading)")


def test_reference_shortcuts_are_refused_by_name(graded):
    """Each shortcut answer's test cells fail with the course's message: the exercise, what it
    asks, the refused name and the student's function (or answer cell)."""
    from actlib.grading.grader.bans import ban_for

    shortcut = {s: v for s, v in graded.stubbed.items() if s.startswith("shortcut_")}
    assert len(shortcut) == len(SHORTCUTS.get(graded.assignment, {})), (
        f"not every shortcut of {graded.assignment} was submitted: {sorted(shortcut)}")
    for student, (name, answer) in shortcut.items():
        ban = ban_for(graded.assignment, answer)
        nb = graded.autograded(student)[name]
        for cell in nb.cells:
            gid = nbgrader_meta(cell).get("grade_id")
            if gid not in graded.expected_fail[student]:
                continue
            errors = [o.get("evalue", "") for o in cell.get("outputs", [])
                      if o.get("output_type") == "error"]
            assert any(f"Exercise {ban.exercise} asks you to write {ban.asks}: `" in e
                       and "is not available inside" in e for e in errors), (
                f"{student}: {gid} did not fail with the ban's message: {errors}")


@pytest.mark.xdist_group(FIRST)
def test_broken_submissions_do_not_stop_the_class(first_graded):
    graded = first_graded
    report = graded.report
    assert graded.result.returncode == 1, report
    assert re.search(r"NOT GRADED\s+malformed: .*not a readable notebook", report), report
    assert "malformed: " in report.split("Not graded")[1], report
    # Everyone else was graded, including the duplicated-cell submission: the course's
    # DropDuplicateIds keeps the last copy, the submission is graded in full and flagged.
    for student in ("solution", "untouched", "wrong_step", "deleted_tests", "duplicated"):
        assert re.search(rf"^\[\d+/\d+\] graded\s+{student}: ", report, flags=re.M), (student, report)
    assert re.search(r"^\[\d+/\d+\] graded\s+duplicated: .*copied in the submission: "
                     r"\['test_neuron_visible'\]", report, flags=re.M), report
    got, total = auto_totals(graded.scores("duplicated"))
    assert got == total, f"duplicated: {got}/{total}\n{report}"


def test_feedback_hides_hidden_tests(graded):
    hidden = {fold(line) for nb in graded.source.values() for cell in nb.cells
              for line in marked_lines(cell.source, HIDDEN_BEGIN, HIDDEN_END)}
    visible = "\n".join(fold(line) for nb in graded.release.values() for cell in nb.cells
                        for line in cell.source.splitlines())
    hidden = {line for line in hidden if len(line) >= 20 and line not in visible}
    assert hidden, "no hidden test lines long enough to search for"
    # The search works: the instructor's autograded notebook, rendered without the course's
    # preprocessor, does show hidden tests.
    from nbconvert import HTMLExporter

    for name, nb in graded.autograded("untouched").items():
        body, _ = HTMLExporter().from_notebook_node(nb)
        raw = graded.root / f"unfiltered-{name}.html"
        raw.write_text(body, encoding="utf-8")
        assert any(line in html_text(raw) for line in hidden), "the hidden-line search cannot fail"
    for student in ("solution", "untouched", *graded.stubbed):
        files = graded.feedback_files(student)
        assert files, f"no feedback for {student}"
        for path in files:
            text = html_text(path)
            leaked = sorted(line for line in hidden if line in text)
            assert not leaked, f"feedback {path.name} of {student} shows hidden tests: {leaked[:3]}"
            assert "Hidden tests ran here" in text


# ------------------------------------------------------------------------------ the attacks

def test_every_attack_scores_no_more_than_the_release(attacked):
    """Each submission of tests/attacks.py is graded, beside the solution and the release, and
    earns no point the untouched release does not."""
    base, _ = auto_totals(attacked.scores("untouched"))
    solution, total = auto_totals(attacked.scores("solution"))
    assert solution == total and attacked.attacks, attacked.report
    for student in attacked.attacks:
        assert re.search(rf"^\[\d+/\d+\] (graded|NOT GRADED)\s+{student}: ", attacked.report,
                         flags=re.M), (student, attacked.report)
        if re.search(rf"NOT GRADED\s+{student}: ", attacked.report):
            continue                      # named with its reason: no points
        got, _ = auto_totals(attacked.scores(student))
        lost = {gid: v[:2] for cells in attacked.scores(student).values()
                for gid, v in cells.items() if v[2] == "code" and v[0] > 0}
        assert got <= base, f"{student} of {attacked.assignment} took {got} > {base}: {lost}"


def test_no_hidden_test_shows_what_the_student_wrote(attacked):
    """The leaking answers put their arguments into exceptions and into a record that a later
    ordinary cell prints: no hidden test's output holds them (the checks' own messages do not
    quote the student's text), and the record printed by the notebook's own run holds only the
    lesson's own calls (no test input is ever sent to that kernel)."""
    student = "attack_leak"
    assert student in attacked.attacks
    hidden_inputs = 0
    for name, nb in attacked.autograded(student).items():
        printed = [o.get("text", "") for c in nb.cells for o in c.get("outputs", [])
                   if "LEAK-RECORD" in o.get("text", "")]
        assert len(printed) == 1, printed
        for cell in nb.cells:
            gid = nbgrader_meta(cell).get("grade_id") or ""
            if gid.endswith("_hidden"):
                text = json.dumps(cell.get("outputs", []))
                assert "LEAK-" not in text, f"{gid}: {text[:300]}"
                hidden_inputs += "not shown for hidden tests" in text
    assert hidden_inputs, "no hidden test met the leaking answers"


def test_the_grading_worker_stays_within_its_memory(attacked):
    """Floods of data (a list of 600 references to a 1 MB string, a 64 MB array, a patched
    agent answering with a 2e7-item list, an enormous SymPy power) cost the grader's worker at
    most `BOUND_MB` of resident memory."""
    from actlib.grading.grader.batch import read_grading_log

    log = read_grading_log(attacked.root, attacked.assignment)
    peaks = {s: log[s].get("peak_mb", 0) for s in attacked.attacks if s in log}
    assert peaks and all(p > 0 for p in peaks.values()), log
    assert max(peaks.values()) < BOUND_MB, peaks


BOUND_MB = 1500
