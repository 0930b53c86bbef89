"""Static checks of the course files: what students receive, and what the lessons promise.

These read the committed notebooks only (no kernel), so they run in a second.
"""
import ast
import re

import nbformat
import pytest

from coursetools import ROOT, assignments, marked_lines, nbgrader_meta, notebook_names

ASSIGNMENTS = assignments()
MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS",
           "BEGIN MARK SCHEME")


def load(folder, assignment):
    return {name: nbformat.read(str(ROOT / folder / assignment / f"{name}.ipynb"), as_version=4)
            for name in notebook_names(assignment)}


def test_generated_folders_hold_exactly_the_assignments_of_source():
    for folder in ("notebooks", "solutions"):
        present = sorted(p.name for p in (ROOT / folder).iterdir() if p.is_dir())
        assert present == ASSIGNMENTS, (f"{folder}/ holds {present}, source/ has {ASSIGNMENTS}: "
                                        f"run python tools/regenerate.py")


def test_assignments_sort_in_course_order():
    assert ASSIGNMENTS and all(re.fullmatch(r"\d\d-[a-z0-9-]+", a) for a in ASSIGNMENTS)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_holds_no_solution_code_and_no_hidden_tests(assignment):
    source, release = load("source", assignment), load("notebooks", assignment)
    for name, nb in release.items():
        by_id = {nbgrader_meta(c)["grade_id"]: c for c in nb.cells if nbgrader_meta(c).get("grade_id")}
        for i, cell in enumerate(nb.cells):
            for marker in MARKERS:
                assert marker not in cell.source, f"{name} cell {i} still holds '{marker}'"
        for cell in source[name].cells:
            m = nbgrader_meta(cell)
            if not m.get("grade_id"):
                continue
            released = by_id[m["grade_id"]].source
            secret = marked_lines(cell.source, "### BEGIN SOLUTION", "### END SOLUTION")
            secret += marked_lines(cell.source, "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")
            leaked = [line for line in secret if len(line) > 12 and line in released.splitlines()]
            assert not leaked, f"{name}:{m['grade_id']} releases solution/hidden lines {leaked}"
            if m.get("solution") and cell.cell_type == "markdown":
                assert released.strip() == "YOUR ANSWER HERE", f"{name}:{m['grade_id']}"
            if m.get("solution") and cell.cell_type == "code":
                assert "raise NotImplementedError()" in released, f"{name}:{m['grade_id']}"


HEADER = re.compile(r"^###\s+(Exercise|Written answer)\s+[\d.]+\s*\((\d+)\s+points?\)", re.M)
TITLE = re.compile(r"Exercises:\s*(\d+) autograded \((\d+) points\) and (\d+) written answers?"
                   r" \((\d+) points\)")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_points_announced_match_the_graded_cells(assignment):
    """Each '### Exercise N (P points)' header equals the points of the graded cells that
    follow it, and the title's totals equal the notebook's."""
    for name, nb in load("source", assignment).items():
        claims = []   # [kind, announced points, points found]
        for cell in nb.cells:
            m = nbgrader_meta(cell)
            if cell.cell_type == "markdown" and not m:
                for kind, points in HEADER.findall(cell.source):
                    claims.append([kind, int(points), 0])
            elif m.get("grade"):
                assert claims, f"{name}: graded cell {m['grade_id']} before any exercise header"
                claims[-1][2] += m["points"]
        assert claims, f"{name} has no exercises"
        for kind, announced, found in claims:
            assert announced == found, f"{name}: an {kind} announces {announced} points, has {found}"
        title = TITLE.search(nb.cells[0].source)
        assert title, f"{name}: the first cell must state 'Exercises: K autograded (P points) ...'"
        auto = [c for c in claims if c[0] == "Exercise"]
        written = [c for c in claims if c[0] == "Written answer"]
        assert [int(v) for v in title.groups()] == [
            len(auto), sum(c[2] for c in auto), len(written), sum(c[2] for c in written)], (
            f"{name}: the title's exercise totals do not match the notebook")
        assert len(auto) >= 4 and len(written) >= 1, f"{name}: needs ≥4 exercises and a written answer"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_lesson_opens_with_objectives_and_one_seeded_generator(assignment):
    for name, nb in load("source", assignment).items():
        assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# Lesson")
        assert "Learning objectives" in nb.cells[0].source
        code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        assert "np.random.default_rng(" in code, f"{name}: no seeded generator"
        assert not re.search(r"np\.random\.(seed|rand|randn|normal|uniform)\(", code), (
            f"{name}: uses NumPy's global random state; use the seeded rng")


# ------------------------------------------------------------------------------ grader-side tests
# When a submission is graded, test cells run in the grader's process (actlib.grading.grader.runner),
# where they see the context cells, names bound by earlier test cells, and the student's answers
# fetched from the kernel. A test that read any other kernel name (data a plot cell made, say)
# would trust the student's kernel for its reference: every name must come from those sources.

def _cells(assignment):
    return [(name, nb) for name, nb in load("source", assignment).items()]


def _is_context(cell):
    meta = nbgrader_meta(cell)
    return cell.cell_type == "code" and meta.get("locked") and not meta.get("grade") \
        and meta.get("grade_id", "").startswith("context")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_test_cells_read_only_context_answers_and_earlier_tests(assignment):
    from actlib.grading.grader.runner import bound_names, free_names

    for name, nb in _cells(assignment):
        answers = set()
        for cell in nb.cells:
            if cell.cell_type == "code" and nbgrader_meta(cell).get("solution"):
                answers |= bound_names(cell.source)
        known = set()
        for cell in nb.cells:
            meta = nbgrader_meta(cell)
            if _is_context(cell):
                known |= bound_names(cell.source)
            elif cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
                unknown = free_names(cell.source) - known - answers
                assert not unknown, (f"{name}: {meta['grade_id']} reads {sorted(unknown)}, which "
                                     f"no context cell, answer or earlier test defines")
                known |= bound_names(cell.source)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_context_cells_are_plain_setup(assignment):
    """Context cells run in the grader too: locked, no magics, no plots or widgets."""
    for name, nb in _cells(assignment):
        contexts = [c for c in nb.cells if _is_context(c)]
        assert contexts and nbgrader_meta(contexts[0])["grade_id"] == "context_imports", (
            f"{name}: the imports cell must be the context cell 'context_imports'")
        for cell in contexts:
            gid = nbgrader_meta(cell)["grade_id"]
            for line in cell.source.splitlines():
                assert not line.lstrip().startswith(("%", "!")), f"{name}:{gid} uses a magic"
            for node in ast.walk(ast.parse(cell.source)):
                if isinstance(node, ast.Call):
                    called = ast.unparse(node.func)
                    assert not re.match(r"(plt\.|plots?\.|plot_|display$|interact|widgets\.)|"
                                        r".*(_explorer|_player)$", called), (
                        f"{name}:{gid} calls {called}(); keep context cells to setup")


def test_alternative_answers_name_real_answer_cells():
    """tests/alternatives.json (correct answers written another way, graded in
    tests/test_grading.py) names answer cells that exist, and each variant is valid Python."""
    import ast
    import json

    table = json.loads((ROOT / "tests" / "alternatives.json").read_text(encoding="utf-8"))
    for assignment, answers in table.items():
        nb = nbformat.read(str(ROOT / "source" / assignment / f"{assignment}.ipynb"), as_version=4)
        ids = {c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells
               if c.metadata.get("nbgrader", {}).get("solution")}
        for answer, variants in answers.items():
            assert answer in ids, f"{assignment}: no answer cell {answer}"
            for variant in variants:
                ast.parse(variant["source"])
