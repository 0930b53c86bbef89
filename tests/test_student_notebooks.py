"""The student's notebooks as files (fast, no kernel): Run All goes on past an unanswered
exercise, written answers are numbered in reading order, and an unanswered function is named
cleanly in its message.

JupyterLab's Run All stops at the first cell that raises unless the cell carries the
``raises-exception`` tag; nbgrader's validate and autograde execute with errors allowed and
grade by the outputs, so the tag changes nothing there (tests/test_browser.py checks Run All
in a real browser).
"""
import json
import re

import pytest

from browserkit import ROOT
from actlib.grading import checks

LESSONS = sorted(p.name for p in (ROOT / "source").iterdir() if (p / f"{p.name}.ipynb").exists())
TAG = "raises-exception"


def cells(folder, lesson):
    return json.loads((ROOT / folder / lesson / f"{lesson}.ipynb")
                      .read_text(encoding="utf-8"))["cells"]


def untagged_graded_cells(nb_cells):
    """Ids of answer and test code cells that would stop Run All."""
    out = []
    for cell in nb_cells:
        meta = cell.get("metadata", {})
        grading = meta.get("nbgrader", {})
        if cell["cell_type"] == "code" and (grading.get("grade") or grading.get("solution")) \
                and TAG not in meta.get("tags", []):
            out.append(cell.get("id"))
    return out


@pytest.mark.parametrize("lesson", LESSONS)
def test_run_all_goes_past_every_answer_and_test_cell(lesson):
    for folder in ("source", "notebooks"):
        missing = untagged_graded_cells(cells(folder, lesson))
        assert not missing, (f"{folder}/{lesson}: answer or test cells without the {TAG!r} "
                             f"tag (Run All would stop there): {missing}")


def test_the_tag_rule_can_fail():
    nb_cells = [{"cell_type": "code", "id": "a", "metadata": {"nbgrader": {"grade": True}}},
                {"cell_type": "code", "id": "b",
                 "metadata": {"nbgrader": {"solution": True}, "tags": [TAG]}},
                {"cell_type": "code", "id": "c", "metadata": {}}]
    assert untagged_graded_cells(nb_cells) == ["a"]


WRITTEN = re.compile(r"^### Written answer (\d+)\.(\d+)", re.M)


def written_answer_numbers(nb_cells):
    return [(int(m[1]), int(m[2])) for cell in nb_cells if cell["cell_type"] == "markdown"
            for m in WRITTEN.finditer("".join(cell["source"]))]


@pytest.mark.parametrize("lesson", LESSONS)
def test_written_answers_read_in_order(lesson):
    numbers = written_answer_numbers(cells("notebooks", lesson))
    number = int(lesson.split("-")[0])
    assert numbers, f"{lesson} has no written answer"
    assert numbers == [(number, k) for k in range(1, len(numbers) + 1)], (
        f"{lesson}: written answers appear as {numbers}, not 1, 2, … in reading order")


def test_the_order_rule_can_fail():
    nb_cells = [{"cell_type": "markdown", "source": ["### Written answer 3.2 (2 points)"]},
                {"cell_type": "markdown", "source": ["### Written answer 3.1 (2 points)"]}]
    assert written_answer_numbers(nb_cells) == [(3, 2), (3, 1)]


@pytest.mark.parametrize("label, name", [
    ("minibatch_epoch on the example (n = 3), theta=[0.0, 0.0]", "minibatch_epoch"),
    ("cost_to_reach on this lesson's data, learning_rate=0.1, rng=np.random.default_rng(0)",
     "cost_to_reach"),
    ("relu(x=[1, 2])", "relu"),
    ("train_loop", "train_loop"),
])
def test_an_unanswered_function_is_named_cleanly(label, name):
    def stub(*_):
        raise NotImplementedError()

    with pytest.raises(AssertionError) as info:
        checks.call_checked(stub, (), name=label)
    assert str(info.value).startswith(f"`{name}` is not answered yet:"), str(info.value)


# Visible test cells a student reads at a glance: at most this many lines. The harnesses live
# in actlib.grading.lessonchecks; the references stay in the cells (the grader's trust).
LONGEST_TEST_CELL = 30
# Cells still longer, in lessons whose tests another change is rewriting: each may shrink,
# none may grow, and no other cell may join them.
STILL_LONG = {}      # lessons 8 and 11 moved their harnesses to lessonchecks (issue 21)


def long_visible_tests(lesson, nb_cells):
    """(cell id, lines) of visible test cells longer than allowed."""
    out = []
    for cell in nb_cells:
        grading = cell.get("metadata", {}).get("nbgrader", {})
        if cell["cell_type"] != "code" or not grading.get("grade"):
            continue
        lines = len("".join(cell["source"]).splitlines())
        allowed = STILL_LONG.get((lesson, cell.get("id")), LONGEST_TEST_CELL)
        if lines > allowed:
            out.append((cell.get("id"), lines))
    return out


@pytest.mark.parametrize("lesson", LESSONS)
def test_visible_test_cells_read_at_a_glance(lesson):
    long = long_visible_tests(lesson, cells("notebooks", lesson))
    assert not long, (f"{lesson}: visible test cells longer than {LONGEST_TEST_CELL} lines "
                      f"(move the harness to actlib.grading.lessonchecks): {long}")


def test_the_length_rule_can_fail():
    cell = {"cell_type": "code", "id": "t", "metadata": {"nbgrader": {"grade": True}},
            "source": ["x = 1\n"] * (LONGEST_TEST_CELL + 1)}
    assert long_visible_tests("02-training", [cell]) == [("t", LONGEST_TEST_CELL + 1)]


def _validate_as_the_lab_does(notebook, monkeypatch):
    """What JupyterLab's Validate button returns for ``notebook``: nbgrader's handler loads the
    configuration from the Jupyter config path (the students' ``jupyter-student/`` first) and
    the server's folder, then runs nbgrader's ``Validator``."""
    from jupyter_core.paths import jupyter_config_path
    from nbgrader.apps import NbGrader
    from nbgrader.validator import Validator

    monkeypatch.setenv("JUPYTER_CONFIG_PATH", str(ROOT / "jupyter-student"))
    monkeypatch.chdir(notebook.parent)
    app = NbGrader()
    app.config_file_paths.append([str(notebook.parent)] + jupyter_config_path())
    app.load_config_file()
    return Validator(config=app.config).validate(str(notebook))


@pytest.mark.notebooks
def test_validate_leads_with_each_failed_tests_message(tmp_path, monkeypatch):
    """Validate on an unanswered notebook: each failed test is shown by its one-line message
    first, and a test cell the student changed is still reported as changed."""
    lesson = "01-neuron"
    notebook = tmp_path / f"{lesson}.ipynb"
    notebook.write_bytes((ROOT / "notebooks" / lesson / f"{lesson}.ipynb").read_bytes())
    result = _validate_as_the_lab_does(notebook, monkeypatch)
    failed = result.get("failed", [])
    assert failed, f"Validate found nothing to report on the untouched release: {result}"
    tests = [e for e in failed if "You did not provide a response" not in e["raw_error"]]
    assert tests, f"Validate reported no failed test on the untouched release: {failed}"
    for entry in tests:
        first = entry["source"].splitlines()[0]
        assert re.match(r"^\w+: ", first) and "(the test cell follows)" in entry["source"], (
            f"a failed test does not lead with its message: {entry['source'][:200]!r}")
    assert any(checks.unanswered("`neuron`") in e["source"].splitlines()[0] for e in tests)

    nb = json.loads(notebook.read_text(encoding="utf-8"))
    test = next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade")
                and not c["metadata"]["nbgrader"].get("solution") and c["cell_type"] == "code")
    test["source"] = "".join(test["source"]) + "\nassert True"
    notebook.write_text(json.dumps(nb), encoding="utf-8")
    changed = _validate_as_the_lab_does(notebook, monkeypatch)
    assert "changed" in changed and "(the test cell follows)" not in changed["changed"][0]["source"]
