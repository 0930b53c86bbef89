"""Write the class report of one graded assignment: an HTML page with inline figures, and CSVs.

    python tools/report.py 01-neuron                 # writes reports/01-neuron/index.html
    python tools/report.py 01-neuron --out /tmp/rep  # somewhere else

Run it after ``python tools/grade.py <assignment>`` (and again after grading the written answers
in the Formgrader). The page shows the score distribution, the exercises hardest first (mean
score, share with full marks, share with zero), the most frequent failure message of each test
cell, the written answers' scores and the grading time per student; see
`actlib.grading.analytics`. ``reports/`` is git-ignored: the report holds students' grades.

Exit status: 0 when the report was written, 1 when nothing of the assignment is graded yet,
2 for an unknown assignment or another usage error.
"""
import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from actlib.grading.analytics import ReportError, write_report  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Write the class report (HTML page with figures, CSV files) of one graded "
                    "assignment.",
        epilog="Exit status 0 when written, 1 when nothing is graded yet, 2 for a usage error.")
    parser.add_argument("assignment", help="the assignment id, a folder of source/")
    parser.add_argument("--out", metavar="DIR",
                        help="folder for the report (default: reports/<assignment> in the course)")
    parser.add_argument("--root", default=str(ROOT), help="the course directory")
    args = parser.parse_args(argv)
    root = Path(args.root)
    if not (root / "source").is_dir():
        print(f"error: {root} is not a course directory (it has no source/ folder)",
              file=sys.stderr)
        return 2
    try:
        paths = write_report(root, args.assignment, args.out)
    except ReportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2 if str(exc).startswith("no assignment") else 1
    print(f"report of {args.assignment}: {paths['html']}")
    for name, path in paths.items():
        if name != "html":
            print(f"  {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
