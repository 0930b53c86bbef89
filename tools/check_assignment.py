"""Check one assignment end to end with nbgrader, in a temporary copy of the course.

    python tools/check_assignment.py 02-sigmoid-tanh

Generates the release and the solution, submits the solution (must get full automatic
marks) and the untouched release (must get zero, every test cell failing), autogrades both
and prints each grade cell's score. Exit status 1 when either expectation fails.
"""
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from coursetools import auto_totals, cell_scores, copy_course, nbgrader, regenerate  # noqa: E402


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print(__doc__)
        return 2
    assignment = argv[0]
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
