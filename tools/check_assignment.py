"""Check one assignment end to end with nbgrader, in a temporary copy of the course.

    python tools/check_assignment.py 03-sigmoid-tanh

Generates the release and the solution, submits the solution (must get full automatic
marks) and the untouched release (must get zero, every test cell failing), autogrades both
and prints each grade cell's score. Exit status 1 when either expectation fails.
"""
import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from coursetools import (assignments, auto_totals, cell_scores, copy_course, nbgrader,
                         regenerate)  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Grade an assignment's solution (must get full marks) and its untouched "
                    "release (must get zero) in a temporary copy of the course.",
        epilog="Exit status 0 when both expectations hold, 1 otherwise.")
    parser.add_argument("assignment", help="the assignment id, a folder of source/")
    assignment = parser.parse_args(argv).assignment
    known = assignments()
    if assignment not in known:
        print(f"error: no assignment {assignment!r} in source/; known: {', '.join(known)}",
              file=sys.stderr)
        return 2
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        root = copy_course(Path(tmp) / "course")
        regenerate(assignment, root)
        for student, folder in (("solution", "solutions"), ("untouched", "notebooks")):
            dst = root / "submitted" / student / assignment
            shutil.copytree(root / folder / assignment, dst)
            result = nbgrader("autograde", assignment, "--student", student, "--force", root=root)
            if result.returncode != 0:
                print(f"autograde of {student} failed:\n{result.stdout}\n{result.stderr}")
                return 1
            scores = cell_scores(assignment, student, root)
            got, total = auto_totals(scores)
            want = total if student == "solution" else 0.0
            verdict = "ok" if got == want else "WRONG"
            ok &= got == want
            print(f"{student:10} {got:g} / {total:g} automatic points (expected {want:g}): {verdict}")
            for nb, cells in scores.items():
                for grade_id, (score, max_score, cell_type, manual) in cells.items():
                    kind = "manual" if cell_type == "markdown" else "auto"
                    print(f"    {nb}:{grade_id:40} {score:g}/{max_score:g} ({kind})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
