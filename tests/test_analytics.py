"""The class report (`actlib.grading.analytics`, ``tools/report.py``).

The fast part builds a graded class without running a kernel: a small course in a temporary
folder (one master notebook with three exercises and a written answer), a gradebook written with
nbgrader's `Gradebook` API, autograded notebooks whose failing test cells carry error outputs,
and a grading log written by `actlib.grading.grader.batch`'s own writer. The class is made so that the
answers are known: exercise 9.2 is the one most students got wrong, one mistake appears with
different numbers, some written answers are graded by hand and some are not.

The ``nbgrader`` part grades three real submissions of lesson 1 and reports on them.
"""
import copy
import csv
import json
import os
import re
import shutil
import sqlite3
import sys
from pathlib import Path

import matplotlib.backend_bases as mbb
import nbformat
import pytest

from actlib.grading import analytics
from actlib.grading.analytics import (ReportError, difficulty, failure_table, load_class,
                                      normalise_message, parse_exercises, report_figures,
                                      write_report, written_table)
from actlib.grading.grader.batch import GRADING_LOG, Result, _log_results, read_grading_log
from coursetools import ROOT, copy_course, nbgrader_meta
from figure_audit import AUDIT

# nbgrader creates a gradebook by running its environment's ``alembic`` command
_BIN = str(Path(sys.executable).parent)
if _BIN not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = os.pathsep.join([_BIN, os.environ.get("PATH", "")])

A = "toy"
N_STUDENTS = 10
# exercise 9.2 ("hard"): students 0-7 fail both its tests, 8 and 9 pass; of the failures,
# students 0-4 make one mistake (with different numbers each), 5-7 another.
HARD_FAIL = set(range(8))
EASY_FAIL = {3}
MID_FAIL = set(range(0, N_STUDENTS, 2))
WRITTEN = {0: 2.0, 1: 1.0, 2: 0.0, 3: 2.0, 4: 1.5, 5: 2.0}   # manual scores; 6-9 not graded
SECONDS = {i: 2.0 + i * 0.5 for i in range(N_STUDENTS)}


def student(i):
    return f"st{i:02d}"


def _md(text, meta=None):
    cell = nbformat.v4.new_markdown_cell(text)
    if meta:
        cell.metadata["nbgrader"] = meta
    return cell


def _code(text, meta=None):
    cell = nbformat.v4.new_code_cell(text)
    if meta:
        cell.metadata["nbgrader"] = meta
    return cell


def _answer(gid):
    return {"grade_id": gid, "solution": True, "grade": False, "locked": False,
            "schema_version": 3}


def _test(gid, points):
    return {"grade_id": gid, "solution": False, "grade": True, "locked": True,
            "points": points, "schema_version": 3}


def toy_notebook():
    """The toy lesson's master notebook: exercises 9.1 (easy), 9.2 (hard), 9.3 (mid) and a
    written answer."""
    return nbformat.v4.new_notebook(cells=[
        _md("# Toy lesson"),
        _md("Some text.\n\n### Exercise 9.1 (2 points): the easy one\n\nDo it."),
        _code("def easy(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION",
              _answer("easy")),
        _code("assert easy(1) == 1", _test("test_easy_visible", 1)),
        _code("assert easy(2) == 2", _test("test_easy_hidden", 1)),
        _md("### Exercise 9.2 (3 points): the hard one"),
        _code("def hard(x):\n    ### BEGIN SOLUTION\n    return x / 2\n    ### END SOLUTION",
              _answer("hard")),
        _code("assert hard(1) == 0.5", _test("test_hard_visible", 1)),
        _code("assert hard(4) == 2", _test("test_hard_hidden", 2)),
        _md("### Written answer 9.1 (2 points)\n\nExplain."),
        _md("**Model answer.** Because.", {"grade_id": "explain", "solution": True,
                                            "grade": True, "locked": False, "points": 2,
                                            "schema_version": 3}),
        _md("### Exercise 9.3 (1 point): the middling one"),
        _code("mid = None\n### BEGIN SOLUTION\nmid = 3\n### END SOLUTION", _answer("mid")),
        _code("assert mid == 3", _test("test_mid_visible", 1)),
    ])


def hard_message(i):
    if i < 5:
        return ("AssertionError", f"hard([{i}.0, {i + 1}.5] (shape (2,), dtype float64)) is "
                                  f"wrong at index ({i % 2},): expected {i / 2:g}, got {i + 0.25:g} "
                                  f"(tolerance: rtol=1e-09, atol=1e-12)")
    return ("NameError", "name 'h' is not defined")


def failing(i):
    """{test grade_id: points lost} for student i."""
    out = {}
    if i in EASY_FAIL:
        out.update(test_easy_visible=1, test_easy_hidden=1)
    if i in HARD_FAIL:
        out.update(test_hard_visible=1, test_hard_hidden=2)
    if i in MID_FAIL:
        out.update(test_mid_visible=1)
    return out


def build_toy_course(root):
    """Write the toy course (source, gradebook, autograded notebooks, grading log) to root."""
    from nbgrader.api import Gradebook

    root = Path(root)
    nb = toy_notebook()
    (root / "source" / A).mkdir(parents=True)
    nbformat.write(nb, str(root / "source" / A / f"{A}.ipynb"))
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        gb.add_assignment(A)
        gb.add_notebook(A, A)
        for cell in nb.cells:
            meta = nbgrader_meta(cell)
            if meta.get("grade"):
                gb.add_grade_cell(meta["grade_id"], A, A, max_score=meta["points"],
                                  cell_type=cell.cell_type)
            if meta.get("solution"):
                gb.add_solution_cell(meta["grade_id"], A, A)
        for i in range(N_STUDENTS):
            gb.add_student(student(i))
            gb.add_submission(A, student(i))
            lost = failing(i)
            for cell in nb.cells:
                meta = nbgrader_meta(cell)
                if not meta.get("grade"):
                    continue
                grade = gb.find_grade(meta["grade_id"], A, A, student(i))
                if cell.cell_type == "code":
                    grade.auto_score = 0.0 if meta["grade_id"] in lost else meta["points"]
                    grade.needs_manual_grade = False
                elif i in WRITTEN:
                    grade.manual_score = WRITTEN[i]
                    grade.needs_manual_grade = False
            gb.db.commit()
    for i in range(N_STUDENTS):
        graded = copy.deepcopy(nb)
        for cell in graded.cells:
            gid = nbgrader_meta(cell).get("grade_id")
            if cell.cell_type == "code" and gid in failing(i):
                if gid.startswith("test_hard"):
                    ename, evalue = hard_message(i)
                elif gid.startswith("test_easy"):
                    ename, evalue = "NotImplementedError", ""
                else:
                    ename, evalue = "AssertionError", f"mid is {i}, expected 3"
                cell.outputs = [nbformat.v4.new_output("error", ename=ename, evalue=evalue,
                                                       traceback=[f"{ename}: {evalue}"])]
        folder = root / "autograded" / student(i) / A
        folder.mkdir(parents=True)
        nbformat.write(graded, str(folder / f"{A}.ipynb"))
    # the log as batch.grade_class writes it; student 0 graded twice: the last entry counts
    _log_results(root, A, [Result(student(0), True, "first try", 99.0)], 2)
    _log_results(root, A, [Result(student(i), True, "graded", SECONDS[i])
                           for i in range(N_STUDENTS)], 2)
    # a malformed submission, collected but never graded, and one whose grading failed
    broken = root / "submitted" / "broken" / A
    broken.mkdir(parents=True)
    (broken / f"{A}.ipynb").write_text('{"cells": [', encoding="utf-8")
    _log_results(root, A, [Result("broken", False, "toy.ipynb is not a readable notebook", 0.1),
                           Result("hung", False, "stopped after 1800 s", 1800.0)], 2)
    return root


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    root = build_toy_course(tmp_path_factory.mktemp("analytics") / "course")
    paths = write_report(root, A)
    return root, paths


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


# ------------------------------------------------------------------------------ fast tests

def test_parse_exercises_reads_headers_and_test_cells(toy):
    found = {ex.answer: ex for ex in parse_exercises(toy[0], A)}
    assert list(found) == ["easy", "hard", "explain", "mid"]
    assert (found["hard"].number, found["hard"].title, found["hard"].kind) == \
        ("9.2", "the hard one", "code")
    assert found["hard"].cells == ["test_hard_visible", "test_hard_hidden"]
    assert found["mid"].cells == ["test_mid_visible"]
    assert (found["explain"].kind, found["explain"].number, found["explain"].cells) == \
        ("written", "9.1", ["explain"])
    assert found["hard"].label == "Exercise 9.2: the hard one"


def test_parse_exercises_of_a_real_lesson():
    """Lesson 1's source: five code exercises with two test cells each, two written answers."""
    found = parse_exercises(ROOT, "01-neuron")
    code = [ex for ex in found if ex.kind == "code"]
    assert [ex.number for ex in code] == ["1.1", "1.2", "1.3", "1.4", "1.5"]
    assert all(len(ex.cells) == 2 for ex in code)
    assert code[1].answer == "step" and code[1].title == "the unipolar step"
    assert [ex.number for ex in found if ex.kind == "written"] == ["1.1", "1.2"]


def test_normalise_message_groups_numbers_and_arrays():
    a = normalise_message("f([1.0, -2.5e-3, nan] (shape (3,), dtype float64)) is wrong at "
                          "index (1,): expected 0.0, got 1.0")
    b = normalise_message("f([7.0, 8.0] (shape (2,), dtype float64)) is wrong at index (0,): "
                          "expected -inf, got 12")
    assert a == b
    assert a == ("f([…] (shape (#,), dtype float64)) is wrong at index (#,): expected #, got #")
    assert normalise_message("array([[1, 2], [3, 4]]) != x1") == "array([…]) != x1"
    assert normalise_message("p([[1. 2.]\n [3. 4.]\n ...\n [5. 6.]] (shape (9, 2))) is wrong") \
        == "p([…] (shape (#, #))) is wrong"
    assert normalise_message("see [a, b] and [...]") == "see [a, b] and [...]"
    assert normalise_message("NameError: name 'x' is not defined") != a
    assert len(normalise_message("x" * 1000)) == 300


def test_hardest_exercise_ranks_first(toy):
    root, paths = toy
    rows = difficulty(load_class(root, A))
    assert [r["exercise"] for r in rows] == ["9.2", "9.3", "9.1"]
    hard = rows[0]
    assert hard["mean_fraction"] == pytest.approx(2 / N_STUDENTS)
    assert hard["zero_share"] == pytest.approx(len(HARD_FAIL) / N_STUDENTS)
    assert hard["full_share"] == pytest.approx(1 - len(HARD_FAIL) / N_STUDENTS)
    assert [r["exercise"] for r in read_csv(paths["exercises"])] == ["9.2", "9.3", "9.1"]
    page = paths["html"].read_text(encoding="utf-8")
    assert re.search(r"Hardest exercise:</strong> Exercise 9\.2: the hard one", page)


def test_frequent_failures_group_the_same_mistake(toy):
    root, paths = toy
    rows = [r for r in failure_table(load_class(root, A)) if r["test_cell"] == "test_hard_visible"]
    assert [r["count"] for r in rows] == [5, 3]
    assert rows[0]["message"].startswith("AssertionError: hard([…] (shape (#,), dtype float64))")
    assert rows[0]["students"].split() == [student(i) for i in range(5)]
    assert rows[0]["example"] == "AssertionError: " + hard_message(0)[1]
    assert rows[1]["message"] == "NameError: name 'h' is not defined"
    in_csv = [(r["test_cell"], r["count"]) for r in read_csv(paths["failures"])]
    assert ("test_hard_visible", "5") in in_csv and ("test_hard_hidden", "3") in in_csv
    assert ("test_mid_visible", str(len(MID_FAIL))) in in_csv   # "mid is #, expected #"


def test_written_answer_scores_appear(toy):
    root, paths = toy
    (row,) = written_table(load_class(root, A))
    assert (row["graded"], row["pending"]) == (len(WRITTEN), N_STUDENTS - len(WRITTEN))
    assert row["mean_score"] == pytest.approx(sum(WRITTEN.values()) / len(WRITTEN))
    assert row["full_share"] == pytest.approx(3 / len(WRITTEN))
    assert row["zero_share"] == pytest.approx(1 / len(WRITTEN))
    (csv_row,) = read_csv(paths["written"])
    assert float(csv_row["mean_score"]) == pytest.approx(row["mean_score"])
    by_student = {r["student"]: r for r in read_csv(paths["scores"])}
    for i in range(N_STUDENTS):
        assert float(by_student[student(i)]["written_score"]) == WRITTEN.get(i, 0.0)
        assert by_student[student(i)]["written_pending"] == ("0" if i in WRITTEN else "1")
    assert "Written answer 9.1" in paths["html"].read_text(encoding="utf-8")


def _audit_function():
    """The course's figure audit (tests/figure_audit.py) as a function of a Figure."""
    original = mbb.FigureCanvasBase.print_figure
    namespace = {}
    try:
        exec(AUDIT, namespace)
    finally:
        mbb.FigureCanvasBase.print_figure = original
    return namespace["_audit_figure"], namespace["_FIGURE_PROBLEMS"]


def test_every_figure_is_titled_and_labelled(toy):
    root, paths = toy
    audit, problems = _audit_function()
    figs = report_figures(load_class(root, A))
    assert set(figs) == {"difficulty", "scores", "written", "times"}
    for fig in figs.values():
        audit(fig)
    assert problems == []
    page = paths["html"].read_text(encoding="utf-8")
    for fig in figs.values():
        (ax,) = fig.axes
        assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
        assert ax.get_title() in page.replace("&#39;", "'")    # SVG keeps text as text
    # the bars compared in the difficulty chart are named in a legend
    labels = [t.get_text() for leg in figs["difficulty"].legends for t in leg.get_texts()]
    assert len(labels) == 3 and all(label in page for label in labels)
    # and the audit does catch an untitled figure
    figs["scores"].axes[0].set_title("")
    audit(figs["scores"])
    assert problems and "no title" in problems[0]


def test_csv_totals_equal_the_gradebook(toy):
    from nbgrader.api import Gradebook

    root, paths = toy
    rows = {r["student"]: r for r in read_csv(paths["scores"])}
    assert sorted(rows) == [student(i) for i in range(N_STUDENTS)]
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for name, r in rows.items():
            sub = gb.find_submission(A, name)
            assert float(r["total_score"]) == pytest.approx(sub.score)
            assert float(r["total_max"]) == pytest.approx(sub.max_score)
            assert float(r["automatic_score"]) == pytest.approx(sub.code_score)
            assert float(r["automatic_score"]) + float(r["written_score"]) == \
                pytest.approx(sub.score)
    lost = {i: sum(failing(i).values()) for i in range(N_STUDENTS)}
    for i in range(N_STUDENTS):
        assert float(rows[student(i)]["automatic_score"]) == 6 - lost[i]


def test_grading_times_come_from_the_log(toy):
    root, paths = toy
    assert read_grading_log(root, A)[student(0)]["seconds"] == SECONDS[0]   # last entry wins
    rows = {r["student"]: r for r in read_csv(paths["grading_times"])}
    assert {s: float(r["seconds"]) for s, r in rows.items()} == \
        {student(i): SECONDS[i] for i in range(N_STUDENTS)}
    assert read_grading_log(root, "another") == {}


def test_report_page_references_no_external_url(toy):
    root, paths = toy
    page = paths["html"].read_text(encoding="utf-8")
    assert "<svg" in page
    assert "://" not in page
    assert all(ref.startswith("#") for ref in re.findall(r"url\(\s*['\"]?([^)'\"]*)", page))
    assert not re.search(r"\bsrc\s*=", page)
    links = re.findall(r"""\bhref\s*=\s*["']([^"']*)["']""", page)
    assert links, "the page links its CSV files"
    for link in links:
        assert link.startswith("#") or (paths["html"].parent / link).is_file(), link


def test_cli_writes_the_report_and_says_what_is_wrong(toy, tmp_path, capsys):
    sys.path.insert(0, str(ROOT / "tools"))
    import report

    course = shutil.copytree(toy[0], tmp_path / "course")
    # the course's gradebook has its own course id: reading it must not add nbgrader's default
    with sqlite3.connect(course / "gradebook.db") as con:
        con.execute("UPDATE course SET id = 'activation-functions'")
        con.execute("UPDATE assignment SET course_id = 'activation-functions'")
    with pytest.raises(SystemExit) as help_exit:
        report.main(["--help"])
    assert help_exit.value.code == 0 and "--out DIR" in capsys.readouterr().out
    assert report.main(["nope", "--root", str(course)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "no assignment 'nope'" in err and "known: toy" in err
    out = tmp_path / "out"
    assert report.main([A, "--root", str(course), "--out", str(out)]) == 0
    assert (out / "index.html").is_file() and (out / "scores.csv").is_file()
    with sqlite3.connect(course / "gradebook.db") as con:
        assert con.execute("SELECT id FROM course").fetchall() == [("activation-functions",)]
    capsys.readouterr()
    # a course with the assignment but no gradebook
    empty = tmp_path / "empty"
    shutil.copytree(course / "source", empty / "source")
    assert report.main([A, "--root", str(empty)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "nothing graded yet" in err and "no gradebook" in err
    assert not (empty / "gradebook.db").exists()        # the report does not make one
    # an assignment the gradebook has never seen
    shutil.copytree(course / "source" / A, course / "source" / "other")
    assert report.main(["other", "--root", str(course)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "nothing graded yet for 'other'" in err
    with pytest.raises(ReportError, match="nothing graded yet"):
        write_report(course, "other")


def test_report_goes_to_the_git_ignored_reports_folder(toy):
    root, paths = toy
    assert paths["html"] == root / "reports" / A / "index.html"
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    assert "/reports/" in ignored and f"/{GRADING_LOG}" in ignored


# ------------------------------------------------------------------------------ with nbgrader

@pytest.mark.nbgrader
def test_report_of_a_really_graded_class(tmp_path):
    """Three submissions of lesson 1 graded by `grade_class`: the solution, the untouched
    release, and a realistic wrong step (``>=`` for ``>``). The step is the hardest exercise
    (half its attempts fail; the untouched release did not attempt it), its failure messages
    are the grader's, and each student's grading time is logged."""
    from actlib.grading.grader.batch import grade_class
    from coursetools import regenerate

    root = copy_course(tmp_path / "course")
    regenerate("01-neuron", root)
    solution = nbformat.read(str(root / "solutions" / "01-neuron" / "01-neuron.ipynb"), 4)
    wrong = copy.deepcopy(solution)
    for cell in wrong.cells:
        if nbgrader_meta(cell).get("grade_id") == "step":
            assert "> threshold" in cell.source
            cell.source = cell.source.replace("> threshold", ">= threshold")
    for name, nb in (("solution", solution), ("wrong", wrong),
                     ("untouched", nbformat.read(str(root / "notebooks" / "01-neuron" /
                                                      "01-neuron.ipynb"), 4))):
        folder = root / "submitted" / name / "01-neuron"
        folder.mkdir(parents=True)
        nbformat.write(nb, str(folder / "01-neuron.ipynb"))
    results = grade_class(root, "01-neuron", ["solution", "untouched", "wrong"], workers=2,
                          feedback=False, progress=None)
    assert all(r.ok for r in results), [r.message for r in results]
    paths = write_report(root, "01-neuron")
    rows = difficulty(load_class(root, "01-neuron"))
    assert rows[0]["answer"] == "step" and rows[0]["zero_share"] == pytest.approx(2 / 3)
    # the untouched release did not attempt it: apart, not one of the failing attempts
    assert (rows[0]["attempted"], rows[0]["not_attempted"], rows[0]["attempt_fail_share"]) == \
        (2, 1, 0.5)
    fails = [r for r in read_csv(paths["failures"]) if r["test_cell"] == "test_step_visible"]
    assert {r["students"] for r in fails} == {"wrong"}
    assert any("wrong" in r["students"] and "#" in r["message"] for r in fails)
    times = {r["student"]: r["seconds"] for r in read_csv(paths["grading_times"])}
    assert sorted(times) == ["solution", "untouched", "wrong"] and all(
        float(s) > 0 for s in times.values())
    assert json.loads((root / GRADING_LOG).read_text().splitlines()[0])["assignment"] == \
        "01-neuron"


# ------------------------------------------------------------------------------ what to reteach

def test_not_attempted_is_apart_from_wrong(toy):
    root, paths = toy
    rows = {r["exercise"]: r for r in difficulty(load_class(root, A))}
    # student 3 left 9.1 as released (NotImplementedError): not attempted, not a wrong answer
    assert (rows["9.1"]["attempted"], rows["9.1"]["not_attempted"]) == (N_STUDENTS - 1, 1)
    assert rows["9.1"]["attempt_fail_share"] == 0.0
    assert rows["9.2"]["attempt_fail_share"] == pytest.approx(len(HARD_FAIL) / N_STUDENTS)
    cells = {r["test_cell"] for r in failure_table(load_class(root, A))}
    assert "test_easy_visible" not in cells, "a not-attempted exercise is in the failure table"
    page = paths["html"].read_text(encoding="utf-8")
    assert "not attempted" in page and "attempts failing" in page


def _class(errors, scores):
    """A ClassData of two one-cell exercises, a and b, each worth 1 point."""
    exercises = [analytics.Exercise("nb", x, f"1.{i}", x, "code", [f"test_{x}_visible"])
                 for i, x in enumerate("ab", start=1)]
    students = sorted(scores)
    grades = {s: {("nb", f"test_{x}_visible"): {"score": scores[s][i], "max_score": 1.0,
                                               "cell_type": "code", "needs_manual_grade": False,
                                               "auto_score": scores[s][i], "manual_score": None}
                  for i, x in enumerate("ab")} for s in students}
    return analytics.ClassData("t", exercises, students, grades,
                               {s: (sum(scores[s]), 2.0) for s in students}, errors, [], {})


def test_exercises_rank_by_the_share_of_attempts_that_fail():
    """b: three of four never reached it (lowest mean score) but its one attempt is right;
    a: everyone tried it and one in four is wrong. a is the one to reteach."""
    stub = "NotImplementedError: "
    data = _class({("nb", "test_a_visible"): [("s1", "AssertionError: a(#) is wrong")],
                   ("nb", "test_b_visible"): [(s, stub) for s in ("s2", "s3", "s4")]},
                  {"s1": (0.0, 1.0), "s2": (1.0, 0.0), "s3": (1.0, 0.0), "s4": (1.0, 0.0)})
    rows = difficulty(data)
    assert [r["answer"] for r in rows] == ["a", "b"], rows
    assert (rows[1]["attempted"], rows[1]["not_attempted"], rows[1]["attempt_fail_share"]) \
        == (1, 3, 0.0)
    assert rows[0]["mean_fraction"] > rows[1]["mean_fraction"]   # the old ranking was wrong
    assert analytics.mistake_table(data)[0]["mistake"] == "wrong values"


@pytest.mark.parametrize("message, mistake", [
    ("AssertionError: relu_grad([-1.0, 0.0] (shape (2,), dtype float64)) is wrong at index (1,) "
     "(input 0.0): expected 0.0, got 1.0 (tolerance: rtol=1e-09, atol=1e-12). Convention: "
     "ReLU'(0) = 0.", "wrong values (convention: ReLU'(0) = 0)"),
    ("AssertionError: adam: likely convention mix-up: epsilon inside the square root (step 3)",
     "convention mix-up: epsilon inside the square root"),
    ("AssertionError: softmax(x) has shape (3,), expected shape (2, 3).", "wrong shape"),
    ("AssertionError: sigmoid(x) emitted a warning: overflow encountered in exp.",
     "overflow or a numerical warning"),
    ("AssertionError: write the sigmoid: `activations.sigmoid` is not available inside "
     "`sigmoid_stable`", "called the course's own implementation"),
    ("NameError: name 'h' is not defined", "NameError raised"),
    ("AssertionError: `step` is not answered yet: write your answer in its cell", None),
    ("NotImplementedError: ", None),
])
def test_mistakes_are_named_by_what_the_checks_say(message, mistake):
    assert analytics.mistake_of(message) == mistake


def test_every_submission_that_could_not_be_graded_is_listed(toy):
    root, paths = toy
    data = load_class(root, A)
    reasons = dict(data.not_graded)
    assert sorted(reasons) == ["broken", "hung"], reasons
    assert "not a readable notebook" in reasons["broken"]
    assert reasons["hung"] == "stopped after 1800 s"
    assert {r["student"] for r in read_csv(paths["not_graded"])} == {"broken", "hung"}
    page = paths["html"].read_text(encoding="utf-8")
    assert "2 submission(s) could not be graded" in page and "stopped after 1800 s" in page
    assert "broken" not in {r["student"] for r in read_csv(paths["scores"])}
