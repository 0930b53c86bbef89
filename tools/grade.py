"""Autograde one assignment for the whole class, in parallel, and write each student's feedback.

    python tools/grade.py 01-neuron                  # every student in submitted/
    python tools/grade.py 01-neuron --student alice  # just one (repeatable)
    python tools/grade.py 01-neuron --workers 4      # four submissions at a time
    python tools/grade.py 01-neuron --no-feedback    # grades only

Submissions are graded by N workers (default: the number of cores), each running nbgrader's
own autograde with the course's ``nbgrader_config.py`` (see `actlib.grading.grader.batch`). One broken
submission (malformed JSON, a missing notebook, a notebook that hangs) never stops the class:
it is reported by name, with the reason, and every other student is graded. A submission
with a copied graded cell is graded (the last copy counts) and flagged. Feedback hides the
hidden tests (`actlib.grading.preprocessors.HideHiddenTests`).

Every kernel runs isolated (`actlib.grading.grader.sandbox`: no view of the course beyond the
release, no network, private scratch space, resource limits) and every test cell is judged in
the grader's process (`actlib.grading.grader.execute`). On a host that cannot isolate, the command
stops and says why; ``--unsafe-no-isolation`` grades anyway, with students' code unconfined.

Exit status: 0 when every student was graded, 1 when some were not (listed at the end),
2 for a usage error or a host that cannot isolate.
"""
import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from actlib.grading.grader.batch import grade_class, students_of  # noqa: E402
from actlib.grading.grader.sandbox import check_isolation  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Autograde one assignment for the whole class, in parallel.",
        epilog="Exit status 0 when every student was graded, 1 when some were not.")
    parser.add_argument("assignment", help="the assignment id, a folder of source/")
    parser.add_argument("--student", action="append", metavar="NAME",
                        help="grade only this student (repeatable)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="submissions graded at the same time (default: %(default)s, "
                             "the number of cores)")
    parser.add_argument("--no-feedback", action="store_true", help="skip feedback generation")
    parser.add_argument("--student-timeout", type=float, default=1800.0, metavar="SECONDS",
                        help="stop grading a submission after this long (default: %(default)g)")
    parser.add_argument("--root", default=str(ROOT), help="the course directory")
    parser.add_argument("--unsafe-no-isolation", action="store_true",
                        help="grade on a host that cannot isolate kernels (students' code can "
                             "then read and write the course and the gradebook)")
    args = parser.parse_args(argv)

    root = Path(args.root)
    if not (root / "source" / args.assignment).is_dir():
        known = sorted(p.name for p in (root / "source").glob("*") if p.is_dir())
        print(f"error: no assignment {args.assignment!r} in {root / 'source'}; "
              f"known: {', '.join(known)}", file=sys.stderr)
        return 2
    if args.workers < 1:
        print("error: --workers must be at least 1", file=sys.stderr)
        return 2
    if args.unsafe_no_isolation:
        os.environ["ACTLIB_GRADING_ISOLATION"] = "off"
        print("warning: grading WITHOUT isolation: students' code can read and write the course",
              file=sys.stderr)
    else:
        reason = check_isolation()
        if reason:
            print(f"error: cannot grade safely: {reason}; use a Linux host with user namespaces, "
                  f"or pass --unsafe-no-isolation", file=sys.stderr)
            return 2
    students = args.student or students_of(args.assignment, root)
    if not students:
        print(f"no submissions of {args.assignment} in {root / 'submitted'}")
        return 1
    start = time.monotonic()
    print(f"grading {len(students)} submission(s) of {args.assignment} with "
          f"{min(args.workers, len(students))} worker(s)", flush=True)
    results = grade_class(root, args.assignment, students, workers=args.workers,
                          feedback=not args.no_feedback, student_timeout=args.student_timeout,
                          progress=lambda line: print(line, flush=True))
    failed = [r for r in results if not r.ok]
    print(f"\n{len(results) - len(failed)} of {len(students)} submissions graded in "
          f"{time.monotonic() - start:.1f} s.")
    if failed:
        print("Not graded (fix or contact these students, then rerun with --student NAME):")
        for r in failed:
            print(f"  {r.student}: {r.message}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
