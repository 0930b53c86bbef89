"""Regenerate the student notebooks and the solutions from the master notebooks.

    python tools/regenerate.py            # every assignment in source/
    python tools/regenerate.py 01-neuron  # just these

For each assignment this runs ``nbgrader generate_assignment --force`` (writing
``notebooks/<assignment>/``, the release folder) and ``nbgrader generate_solution --force``
(writing ``solutions/<assignment>/``), and records the assignment in the gradebook.
Generated folders whose master no longer exists are removed.
"""
import argparse
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from coursetools import ROOT, assignments, regenerate  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="regenerate.py",
        description="Regenerate notebooks/ASSIGNMENT (the student release) and "
                    "solutions/ASSIGNMENT from source/ASSIGNMENT with nbgrader, for every "
                    "assignment or those named; commit them with source/.",
        epilog="Exit status 0 when done, 2 for an unknown assignment.")
    parser.add_argument("assignment", nargs="*", help="assignment ids (default: all of source/)")
    argv = parser.parse_args(argv).assignment
    root = ROOT
    known = assignments(root)
    wanted = argv or known
    unknown = sorted(set(wanted) - set(known))
    if unknown:
        print(f"error: unknown assignment(s) {', '.join(unknown)}; source/ has "
              f"{', '.join(known)}", file=sys.stderr)
        return 2
    for assignment in wanted:
        regenerate(assignment, root)
        print(f"regenerated {assignment}")
    if not argv:
        for folder in ("notebooks", "solutions"):
            for stale in sorted((root / folder).glob("*")):
                if stale.is_dir() and stale.name not in known:
                    shutil.rmtree(stale)
                    print(f"removed {folder}/{stale.name} (no master in source/)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
