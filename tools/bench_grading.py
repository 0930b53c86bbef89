"""Benchmark: trusted grading (sandboxed kernel, verdicts in the grader) against stock nbgrader.

    python tools/bench_grading.py                       # every lesson's solution, 2 rounds
    python tools/bench_grading.py --assignments 01-neuron 06-softmax --rounds 3
    python tools/bench_grading.py --quick               # lessons 1 and 3, one round

Two temporary copies of the course grade the same submissions (each lesson's solution and its
untouched release) in the same run, alternating, one submission at a time (one worker):

* **trusted** — the course's configuration: every kernel in `actlib.grading.grader.sandbox`, test
  cells run and judged in the grader's process (`actlib.grading.grader.execute.GradedExecute`);
* **in-process** — the same configuration with nbgrader's stock ``Execute`` and no sandbox:
  test cells run inside the student's kernel, as nbgrader does by default.

It prints each notebook's autograde time (nbgrader's own work for that student, measured by the
grading worker) under both, the ratio of the totals, and the target: at most 1.5×.
"""
import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))
from actlib.grading.grader.batch import grade_class  # noqa: E402
from coursetools import assignments, copy_course, regenerate  # noqa: E402

TARGET = 1.5
IN_PROCESS = """
# bench_grading.py: stock nbgrader execution (tests in the student's kernel, no sandbox)
from nbgrader.preprocessors import Execute
c.Autograde.autograde_preprocessors = [Execute, IgnorePattern, ClearMetadataPreprocessor,
                                       LimitOutput, SaveAutoGrades, AssignLatePenalties,
                                       CheckCellMetadata]
"""


def _course(parent, name, wanted, in_process):
    root = copy_course(Path(parent) / name)
    if in_process:
        with open(root / "nbgrader_config.py", "a", encoding="utf-8") as fh:
            fh.write(IN_PROCESS)
    for assignment in wanted:
        regenerate(assignment, root)
        for student, folder in (("solution", "solutions"), ("untouched", "notebooks")):
            dst = root / "submitted" / student / assignment
            dst.mkdir(parents=True)
            for nb in (root / folder / assignment).glob("*.ipynb"):
                (dst / nb.name).write_bytes(nb.read_bytes())
    return root


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignments", nargs="+", metavar="A", help="default: every lesson")
    parser.add_argument("--rounds", type=int, default=2, help="repetitions (default: 2)")
    parser.add_argument("--quick", action="store_true", help="lessons 1 and 3, one round")
    args = parser.parse_args(argv)
    wanted = args.assignments or assignments()
    rounds = args.rounds
    if args.quick:
        wanted, rounds = wanted[:2], 1
    unknown = sorted(set(wanted) - set(assignments()))
    if unknown:
        print(f"error: unknown assignment(s) {unknown}", file=sys.stderr)
        return 2
    times = {(mode, a, s): [] for mode in ("trusted", "in-process") for a in wanted
             for s in ("solution", "untouched")}
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        print(f"preparing two course copies with {len(wanted)} assignment(s)...", flush=True)
        roots = {"trusted": _course(tmp, "trusted", wanted, False),
                 "in-process": _course(tmp, "in-process", wanted, True)}
        start = time.monotonic()
        for r in range(rounds):
            for assignment in wanted:
                for mode in (("trusted", "in-process") if r % 2 == 0 else ("in-process", "trusted")):
                    results = grade_class(roots[mode], assignment, ["solution", "untouched"],
                                          workers=1, feedback=False, progress=None)
                    for res in results:
                        if not res.ok:
                            failures.append(f"{mode} {assignment} {res.student}: {res.message}")
                        times[(mode, assignment, res.student)].append(res.seconds)
                print(f"  round {r + 1}/{rounds}: {assignment} done "
                      f"({time.monotonic() - start:.0f} s)", flush=True)
    print(f"\n{'assignment':24} {'submission':10} {'trusted s':>10} {'in-process s':>13} "
          f"{'ratio':>6}")
    total = {"trusted": 0.0, "in-process": 0.0}
    for assignment in wanted:
        for student in ("solution", "untouched"):
            t = statistics.median(times[("trusted", assignment, student)] or [float("nan")])
            p = statistics.median(times[("in-process", assignment, student)] or [float("nan")])
            total["trusted"] += t
            total["in-process"] += p
            print(f"{assignment:24} {student:10} {t:10.2f} {p:13.2f} {t / p:6.2f}")
    ratio = total["trusted"] / total["in-process"]
    verdict = "PASS" if ratio <= TARGET and not failures else "FAIL"
    print(f"\ntotal (medians): trusted {total['trusted']:.1f} s, in-process "
          f"{total['in-process']:.1f} s, ratio {ratio:.2f} (target <= {TARGET}): {verdict}")
    for line in failures:
        print("  not graded:", line)
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
