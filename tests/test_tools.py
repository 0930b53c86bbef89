"""Unit tests of the instructor tools' plumbing (the nbgrader runs are in test_grading.py)."""
import json

import nbformat

from actlib.grading import batch
from coursetools import auto_totals, output_problems


def test_output_problems_finds_errors_and_stderr_only():
    nb = nbformat.v4.new_notebook()
    quiet = nbformat.v4.new_code_cell("print('fine')")
    quiet.outputs = [nbformat.v4.new_output("stream", name="stdout", text="fine")]
    noisy = nbformat.v4.new_code_cell("...")
    noisy.outputs = [nbformat.v4.new_output("stream", name="stderr", text="RuntimeWarning: overflow"),
                     nbformat.v4.new_output("error", ename="ValueError", evalue="bad", traceback=[])]
    nb.cells = [quiet, noisy]
    assert output_problems(nb) == [(1, "stderr: RuntimeWarning: overflow"), (1, "ValueError: bad")]


def test_auto_totals_count_code_cells_only():
    scores = {"nb": {"test_a": (1.0, 1.0, "code", False), "test_b": (0.0, 2.0, "code", False),
                     "written": (0.0, 2.0, "markdown", True)}}
    assert auto_totals(scores) == (1.0, 3.0)


def test_precheck_names_malformed_and_missing_notebooks(tmp_path):
    (tmp_path / "source" / "01-x").mkdir(parents=True)
    nbformat.write(nbformat.v4.new_notebook(), str(tmp_path / "source" / "01-x" / "01-x.ipynb"))
    folder = tmp_path / "submitted" / "ann" / "01-x"
    folder.mkdir(parents=True)
    assert "missing from the submission" in batch.precheck("01-x", "ann", tmp_path)
    (folder / "01-x.ipynb").write_text(json.dumps({"cells": []})[:5], encoding="utf-8")
    assert "not a readable notebook" in batch.precheck("01-x", "ann", tmp_path)
    nbformat.write(nbformat.v4.new_notebook(), str(folder / "01-x.ipynb"))
    assert batch.precheck("01-x", "ann", tmp_path) is None


def test_last_error_prefers_the_last_error_line():
    out = "[INFO] start\n[ERROR] first\nTraceback\nKeyError: 'grade_id'\n[INFO] done\n"
    assert batch._last_error(out) == "KeyError: 'grade_id'"
    assert batch._last_error("just this") == "just this"
    assert batch._last_error("") == "unknown error"


def test_precheck_rejects_json_that_is_not_a_notebook(tmp_path):
    (tmp_path / "source" / "01-x").mkdir(parents=True)
    nbformat.write(nbformat.v4.new_notebook(), str(tmp_path / "source" / "01-x" / "01-x.ipynb"))
    folder = tmp_path / "submitted" / "ann" / "01-x"
    folder.mkdir(parents=True)
    (folder / "01-x.ipynb").write_text("[1, 2, 3]", encoding="utf-8")
    assert "has no list of cells" in batch.precheck("01-x", "ann", tmp_path)


def test_grade_help_and_unknown_assignment(capsys):
    import grade

    try:
        grade.main(["--help"])
    except SystemExit as exc:
        assert exc.code == 0
    assert "--workers" in capsys.readouterr().out
    assert grade.main(["no-such-assignment"]) == 2
    assert "no assignment 'no-such-assignment'" in capsys.readouterr().err
