"""The packed release (tools/pack_release.py) holds what students need and no answer: no
solution notebook, no master notebook, no hidden test, no solution code in any notebook."""
import json
import re
import zipfile

import pytest

import pack_release
from coursetools import ROOT, marked_lines

LESSONS = sorted(p.name for p in (ROOT / "source").iterdir() if (p / f"{p.name}.ipynb").exists())


MARKERS = {"hidden": ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"),
           "solution": ("### BEGIN SOLUTION", "### END SOLUTION")}


def _master_cells():
    for lesson in LESSONS:
        nb = json.loads((ROOT / "source" / lesson / f"{lesson}.ipynb").read_text("utf-8"))
        yield from nb["cells"]


def public_lines():
    """Lines of the masters' code cells outside every marked region, and of their markdown
    cells but the model answers: what the release shows anyway (a hidden test may repeat a
    visible line, a fix-the-draft exercise shows its draft)."""
    found = set()
    for cell in _master_cells():
        if cell["cell_type"] == "markdown":
            if not cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
                found.update(line.strip() for line in "".join(cell["source"]).splitlines())
            continue
        if cell["cell_type"] != "code":
            continue
        inside = False
        for line in "".join(cell["source"]).splitlines():
            stripped = line.strip()
            if stripped in (MARKERS["hidden"][0], MARKERS["solution"][0]):
                inside = True
            elif stripped in (MARKERS["hidden"][1], MARKERS["solution"][1]):
                inside = False
            elif not inside:
                found.add(stripped)
    return found


def marked(kind):
    """Lines between the ``kind`` markers of the masters' code cells that the release does
    not show anyway and that are long enough to be an answer's own (not ``return x``)."""
    public, found = public_lines(), set()
    for cell in _master_cells():
        if cell["cell_type"] == "code":
            found.update(line for line in marked_lines("".join(cell["source"]), *MARKERS[kind])
                         if len(line) >= 25 and line not in public)
    return found


def hidden_lines():
    return marked("hidden")


def solution_lines():
    return marked("solution")


def leaks(archive):
    """What in ``archive`` (a ZipFile) gives an answer away, one line each."""
    names = archive.namelist()
    found = [f"{n}: a folder students must not get" for n in names
             if any(f"/{folder}/" in n for folder in ("solutions", "source", "tests", "tools",
                                                     "submitted", "autograded", "feedback"))]
    found += [f"{n}: a gradebook" for n in names if n.endswith(".db")]
    hidden, solutions = hidden_lines(), solution_lines()
    for name in names:
        if not name.endswith((".ipynb", ".py", ".md", ".json", ".txt", ".toml")):
            continue
        text = archive.read(name).decode("utf-8")
        for marker in ("BEGIN HIDDEN TESTS", "BEGIN SOLUTION", "BEGIN MARK SCHEME",
                       "**Model answer.**"):
            if marker in text and name.endswith(".ipynb"):
                found.append(f"{name}: holds {marker!r}")
        if name.endswith(".ipynb"):
            code = "\n".join("".join(c["source"]) for c in json.loads(text)["cells"])
            lines = {line.strip() for line in code.splitlines()}
            found += [f"{name}: solution line {line!r}" for line in sorted(lines & solutions)]
            found += [f"{name}: hidden-test line {line!r}" for line in sorted(lines & hidden)]
        else:
            # in library code, a hidden test's own statements (not the keyword arguments and
            # messages it shares with the harnesses the visible tests call)
            found += [f"{name}: hidden-test line {line!r}" for line in sorted(hidden)
                      if len(line) >= 40 and not re.match(r"[\w.]+=|f?[\"']", line)
                      and line in text]
    return found


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    path, _ = pack_release.pack(tmp_path_factory.mktemp("release") / "release.zip")
    with zipfile.ZipFile(path) as archive:
        yield path, archive


def test_the_release_holds_no_solution_and_no_hidden_test(release):
    _, archive = release
    assert hidden_lines() and solution_lines(), "the masters' markers were not found"
    found = leaks(archive)
    assert not found, "the release gives answers away:\n" + "\n".join(found[:20])


def test_the_release_holds_what_students_run(release):
    _, archive = release
    names = set(archive.namelist())
    top = pack_release.TOP
    for lesson in LESSONS:
        name = f"{top}/notebooks/{lesson}/{lesson}.ipynb"
        assert name in names, f"{name} is missing"
        assert archive.read(name) == (ROOT / "notebooks" / lesson / f"{lesson}.ipynb").read_bytes()
    for needed in ("actlib/__init__.py", "actlib/grading/checks.py", "requirements.txt",
                   "pyproject.toml", "README.md", "nbgrader_config.py",
                   "jupyter-student/labconfig/page_config.json"):
        assert f"{top}/{needed}" in names, f"{needed} is missing"
    readme = archive.read(f"{top}/README.md").decode()
    assert 'JUPYTER_CONFIG_PATH="$PWD/jupyter-student" jupyter lab notebooks/' in readme
    assert not [n for n in names if "__pycache__" in n or ".ipynb_checkpoints" in n]


def test_the_leak_check_can_fail(tmp_path):
    """A release with a solution notebook and a master in it is caught."""
    path = tmp_path / "bad.zip"
    lesson = LESSONS[0]
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"x/solutions/{lesson}/{lesson}.ipynb",
                         (ROOT / "solutions" / lesson / f"{lesson}.ipynb").read_text("utf-8"))
        archive.writestr(f"x/notebooks/{lesson}/{lesson}.ipynb",
                         (ROOT / "source" / lesson / f"{lesson}.ipynb").read_text("utf-8"))
        code = next(line for line in sorted(hidden_lines())
                    if len(line) >= 40 and line.startswith("_check_epoch("))
        archive.writestr("x/actlib/grading/copied.py", f"def helper():\n    {code}\n")
    with zipfile.ZipFile(path) as archive:
        found = leaks(archive)
    assert any("copied.py: hidden-test line" in f for f in found), found
    assert any("a folder students must not get" in f for f in found)
    assert any("BEGIN HIDDEN TESTS" in f for f in found)
    assert any("solution line" in f for f in found)


def test_packing_twice_gives_the_same_bytes(release, tmp_path):
    first, _ = release
    second, _ = pack_release.pack(tmp_path / "again.zip")
    assert first.read_bytes() == second.read_bytes()
