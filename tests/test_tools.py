"""Unit tests of the instructor tools' plumbing (the nbgrader runs are in test_grading.py)."""
import json

import nbformat

from actlib.grading.grader import batch
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


def test_loadgroup_keeps_a_group_on_one_worker(tmp_path):
    """The suite relies on --dist loadgroup: each graded class is built once, by one worker.
    (With pytest 9 and pytest-xdist 3.8 the groups were silently split and built twice.)"""
    import subprocess
    import sys

    (tmp_path / "test_groups.py").write_text(f"""
import os, pytest
LOG = {str(tmp_path / "log")!r}
_built = set()
def build(group):
    if group not in _built:
        _built.add(group)
        with open(LOG, "a") as fh:
            fh.write(f"{{os.getpid()}} {{group}}\\n")
@pytest.mark.parametrize("g", [pytest.param(g, marks=pytest.mark.xdist_group(g)) for g in "abcd"])
def test_one(g): build(g)
@pytest.mark.parametrize("g", [pytest.param(g, marks=pytest.mark.xdist_group(g)) for g in "abcd"])
def test_two(g): build(g)
""")
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-n", "2", "--dist", "loadgroup",
                             "-p", "no:cacheprovider", str(tmp_path / "test_groups.py")],
                            capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    built = [line.split()[1] for line in (tmp_path / "log").read_text().splitlines()]
    assert sorted(built) == ["a", "b", "c", "d"], f"groups built {built}: split across workers"


# ------------------------------------------------------------------------------ actcourse

def _actcourse(*args, cwd):
    """Run the installed ``actcourse`` command (the environment's bin, beside this Python)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    command = Path(sys.executable).parent / "actcourse"
    assert command.is_file(), f"{command} is missing: pip install -e . installs it ([project.scripts])"
    done = subprocess.run([str(command), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "PATH": f"{command.parent}:{os.environ['PATH']}"})
    return done.returncode, done.stdout + done.stderr


def test_one_command_lists_every_step_in_term_order():
    from coursetools import ROOT

    from actlib.grading.cli import STEPS

    status, out = _actcourse("--help", cwd=ROOT / "source")
    assert status == 0, out
    names = [name for name, _, _ in STEPS]
    positions = [out.index(f". {name} ") for name in names]
    assert positions == sorted(positions), out
    assert names.index("setup") < names.index("release") < names.index("collect") \
        < names.index("grade") < names.index("formgrader") < names.index("feedback") \
        < names.index("return") < names.index("export")
    for name in names:
        status, text = _actcourse(name, "--help", cwd=ROOT / "source" / "01-neuron")
        assert status == 0 and "usage:" in text, (name, text)


def test_one_command_runs_from_any_folder_of_the_course_and_says_when_outside(tmp_path):
    """From a folder deep inside a course, actcourse finds that course: the assignments it
    names are the ones of that course's source/ (a course made here with one assignment)."""
    import shutil

    from coursetools import ROOT

    course = tmp_path / "course"
    (course / "source" / "07-only-here" / "deep").mkdir(parents=True)
    shutil.copy2(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    nbformat.write(nbformat.v4.new_notebook(), str(course / "source" / "07-only-here" / "x.ipynb"))
    status, out = _actcourse("grade", "nope", cwd=course / "source" / "07-only-here" / "deep")
    assert status == 2, out
    assert out == "error: unknown assignment 'nope': source/ has 07-only-here\n", out
    status, out = _actcourse("status", cwd=tmp_path)
    assert status == 2 and out.count("\n") == 1 and "is not inside a course" in out, out
    status, out = _actcourse("grades", cwd=course)
    assert status == 2 and "unknown step 'grades'" in out, out


def test_regenerate_has_help_and_names_an_unknown_assignment(capsys):
    import regenerate

    try:
        regenerate.main(["--help"])
    except SystemExit as exc:
        assert exc.code == 0
    assert "solutions/ASSIGNMENT" in capsys.readouterr().out
    assert regenerate.main(["99-nope"]) == 2
    assert "unknown assignment(s) 99-nope" in capsys.readouterr().err
