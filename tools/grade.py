"""Autograde one assignment for the whole class, one student at a time.

    python tools/grade.py 01-neuron                 # every student in submitted/
    python tools/grade.py 01-neuron --student alice # just one
    python tools/grade.py 01-neuron --no-feedback   # grades only

Each student is graded by its own ``nbgrader autograde`` run, so one broken submission
(malformed JSON, a duplicated graded cell, a notebook that hangs) cannot stop the class:
it is reported by name, with the reason, and every other student is graded. A
submission with a copied graded cell is graded (the last copy counts) and flagged. Feedback is
then generated per student; `actlib.grading.preprocessors.HideHiddenTests` keeps hidden tests out of it.
Exit status: 0 when every student was graded, 1 when some were not (listed at the end).
"""
import argparse
import re
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from coursetools import (ROOT, auto_totals, cell_scores, nbgrader,  # noqa: E402
                         notebook_names, read_json)


def students_of(assignment, root):
    submitted = Path(root) / "submitted"
    if not submitted.is_dir():
        return []
    return sorted(p.name for p in submitted.iterdir() if (p / assignment).is_dir())


def precheck(assignment, student, root):
    """Reasons the submission cannot be graded, found before nbgrader runs (or None)."""
    folder = Path(root) / "submitted" / student / assignment
    for name in notebook_names(assignment, root):
        path = folder / f"{name}.ipynb"
        if not path.exists():
            found = sorted(p.name for p in folder.glob("*.ipynb"))
            return f"notebook {name}.ipynb is missing from the submission (found: {found})"
        try:
            read_json(path)
        except ValueError as exc:
            return str(exc)
    return None


def last_error(output):
    """The most telling line of nbgrader's output: its last error line, else its last line."""
    lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
    errors = [ln for ln in lines if "[ERROR]" in ln or "Error" in ln]
    return (errors or lines or ["unknown error"])[-1]


def grade_student(assignment, student, root, feedback=True):
    """Autograde (and give feedback to) one student. Returns (ok, message)."""
    reason = precheck(assignment, student, root)
    if reason:
        return False, reason
    result = nbgrader("autograde", assignment, "--student", student, "--force", root=root)
    if result.returncode != 0:
        return False, f"nbgrader autograde failed: {last_error(result.stdout + result.stderr)}"
    got, total = auto_totals(cell_scores(assignment, student, root))
    message = f"{got:g} / {total:g} automatic points"
    copies = sorted(set(re.findall(r"Cell with id '([^']+)' exists multiple times",
                                   result.stdout + result.stderr)))
    if copies:
        message += f" (graded cells copied in the submission: {copies}; the last copy counted)"
    if feedback:
        fb = nbgrader("generate_feedback", assignment, "--student", student, "--force", root=root)
        if fb.returncode != 0:
            return False, f"graded ({message}) but feedback failed: {last_error(fb.stdout + fb.stderr)}"
    return True, message


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignment")
    parser.add_argument("--student", action="append", help="grade only these (repeatable)")
    parser.add_argument("--no-feedback", action="store_true", help="skip feedback generation")
    parser.add_argument("--root", default=str(ROOT), help="the course directory")
    args = parser.parse_args(argv)

    students = args.student or students_of(args.assignment, args.root)
    if not students:
        print(f"no submissions of {args.assignment} in {Path(args.root) / 'submitted'}")
        return 1
    failed = []
    for student in students:
        try:
            ok, message = grade_student(args.assignment, student, args.root,
                                        not args.no_feedback)
        except subprocess.TimeoutExpired as exc:
            ok, message = False, f"nbgrader did not finish within {exc.timeout:g} s"
        except Exception as exc:  # noqa: BLE001 - one student's problem must not stop the class
            ok, message = False, f"{type(exc).__name__}: {exc}"
        print(f"{'graded' if ok else 'NOT GRADED':10}  {student:20}  {message}", flush=True)
        if not ok:
            failed.append((student, message))
    print(f"\n{len(students) - len(failed)} of {len(students)} submissions graded.")
    if failed:
        print("Not graded (fix or contact these students, then rerun with --student NAME):")
        for student, message in failed:
            print(f"  {student}: {message}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
