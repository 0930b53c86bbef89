"""Benchmark: grading a class in parallel (`actlib.grading.grader.batch.grade_class`, N workers)
against grading it one submission at a time.

    python tools/bench_parallel.py                     # 100 submissions of 01-neuron, all cores
    python tools/bench_parallel.py --quick             # 10 submissions, per-process baseline on 4
    python tools/bench_parallel.py --students 40 --workers 2 --assignment 06-softmax

A temporary copy of the course gets a synthetic class: per ten submissions three perfect (the
solution), three with one answer stubbed (``raise NotImplementedError()``, a different answer
each time), three wrong (two answers return a wrong value: each ``return`` in the solution
region returns -1, each top-level assignment there assigns -1) and one broken (alternately
malformed JSON, which never reaches nbgrader, and an answer cell with a syntax error). Then,
in one run, without feedback:

1. **start-up**: one worker grading one trivial submission (the untouched release); the
   start-up is the wall time minus nbgrader's own time for that submission (median of
   ``--startup-runs``);
2. **parallel**: the whole class with ``--workers`` workers: wall time W, and S, the sum of
   nbgrader's per-submission times reported by the workers (`Result.seconds`);
3. **one at a time**: the whole class with one worker (wall time T1), and stock nbgrader, one
   process per student (``nbgrader autograde A --student X``) on an evenly spaced subset of
   ``--per-process`` students, scaled per student to the class (T_pp).

Targets (from the course's issue): W <= 1.3 x S / N + start-up, and W at least 1.8x faster
than one-at-a-time grading (T1 / W >= 1.8 and T_pp / W >= 1.8), each printed PASS or FAIL
with its numbers. Exit status 0 when every target passed, 1 otherwise, 2 for a usage error.

The default lesson is the fastest to grade: 01-neuron (measured: about 3.5 s for the solution
and 4 s for the untouched release with one worker; 06-softmax is as fast, every other lesson
slower). Timings on a shared machine are noisy: say what else ran.
"""
import argparse
import copy
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))
from actlib.grading.grader.batch import grade_class  # noqa: E402
from coursetools import (assignments, copy_course, nbgrader, nbgrader_meta,  # noqa: E402
                         notebook_names, regenerate)

DEFAULT_ASSIGNMENT = "01-neuron"
PATTERN = ("perfect", "stubbed", "wrong") * 3 + ("broken",)
SPEEDUP_TARGET = 1.8
OVERHEAD_TARGET = 1.3
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"


# ------------------------------------------------------------------------------ the class

def _rewrite_solution(source, change):
    """``source`` with each line inside the solution markers passed through ``change``
    (a function of (indent, stripped line) returning the new lines), markers kept."""
    out, inside = [], False
    for line in source.splitlines():
        stripped = line.strip()
        if stripped == BEGIN:
            inside = True
            out.append(line)
        elif stripped == END:
            inside = False
            out.append(line)
        elif inside and stripped:
            indent = line[: len(line) - len(line.lstrip())]
            out.extend(change(indent, stripped))
        else:
            out.append(line)
    return "\n".join(out)


def stubbed(source):
    """The release stub in place of the solution region (the first solution line's indent)."""
    done = []

    def change(indent, stripped):
        if done:
            return []
        done.append(True)
        return [indent + "raise NotImplementedError()"]
    return _rewrite_solution(source, change)


def wrong(source):
    """A wrong answer that runs: every ``return`` of the solution region returns -1 and every
    top-level assignment ``name = ...`` there assigns -1."""
    def change(indent, stripped):
        if stripped.startswith("return ") or stripped == "return":
            return [indent + "return -1.0"]
        if not indent and "=" in stripped and stripped.split("=")[0].strip().isidentifier() \
                and not stripped.startswith(("def ", "class ")) and "==" not in stripped:
            name = stripped.split("=")[0].strip()
            return [f"{name} = -1.0"]
        return [indent + stripped]
    return _rewrite_solution(source, change)


def answer_ids(nb):
    """grade_ids of the code answer cells (solution, not graded) of a notebook, in order."""
    return [nbgrader_meta(c)["grade_id"] for c in nb.cells
            if c.cell_type == "code" and nbgrader_meta(c).get("solution")
            and not nbgrader_meta(c).get("grade")]


def kinds(n):
    """The kind of each of ``n`` submissions, following `PATTERN` (perfect, stubbed, wrong,
    broken)."""
    return [PATTERN[i % len(PATTERN)] for i in range(n)]


def build_class(root, assignment, n):
    """Write ``n`` synthetic submissions of ``assignment`` to ``root/submitted``; return
    {student: kind}. Students are named ``s000_perfect`` and so on."""
    import nbformat

    names = notebook_names(assignment, root)
    solution = {name: nbformat.read(str(root / "solutions" / assignment / f"{name}.ipynb"), 4)
                for name in names}
    first = names[0]
    answers = answer_ids(solution[first])
    made = {}
    broken_count = 0
    for i, kind in enumerate(kinds(n)):
        student = f"s{i:03d}_{kind}"
        nbs = {name: copy.deepcopy(nb) for name, nb in solution.items()}
        text = None
        if kind in ("stubbed", "wrong") and answers:
            targets = ({answers[i % len(answers)]} if kind == "stubbed" else
                       {answers[i % len(answers)], answers[(i + 1) % len(answers)]})
            for cell in nbs[first].cells:
                if nbgrader_meta(cell).get("grade_id") in targets:
                    cell.source = (stubbed if kind == "stubbed" else wrong)(cell.source)
        elif kind == "broken":
            broken_count += 1
            if broken_count % 2:
                raw = json.dumps(solution[first])
                text = raw[: len(raw) // 2]           # malformed JSON: a truncated file
            elif answers:
                for cell in nbs[first].cells:
                    if nbgrader_meta(cell).get("grade_id") == answers[0]:
                        cell.source += "\n    this is not python ("
        folder = root / "submitted" / student / assignment
        folder.mkdir(parents=True, exist_ok=True)
        for name, nb in nbs.items():
            path = folder / f"{name}.ipynb"
            if text is not None and name == first:
                path.write_text(text, encoding="utf-8")
            else:
                nbformat.write(nb, str(path))
        made[student] = kind
    return made


# ------------------------------------------------------------------------------ the summary

def summarise(*, n_students, workers, wall, busy_sum, startup, one_worker=None,
              per_process=None):
    """The benchmark's verdict from its measurements (seconds). ``busy_sum`` is S, the sum of
    per-submission grading times of the parallel run; ``one_worker`` the wall time of the
    one-worker batch; ``per_process`` the class's time with one nbgrader process per student
    (None when not measured). Returns (lines, all_passed): one line per target, each
    ``PASS`` or ``FAIL`` with its numbers."""
    lines, passed = [], True
    bound = OVERHEAD_TARGET * busy_sum / workers + startup
    ok = wall <= bound
    passed &= ok
    lines.append(f"{'PASS' if ok else 'FAIL'}  W = {wall:.1f} s <= {OVERHEAD_TARGET} x S/N + "
                 f"start-up = {OVERHEAD_TARGET} x {busy_sum:.1f}/{workers} + {startup:.1f} = "
                 f"{bound:.1f} s  (W / (S/N) = {wall / (busy_sum / workers):.2f})")
    for name, baseline in (("one worker, one submission after another", one_worker),
                           ("stock nbgrader, one process per student", per_process)):
        if baseline is None:
            lines.append(f"SKIP  speed-up over {name}: not measured")
            continue
        speedup = baseline / wall
        ok = speedup >= SPEEDUP_TARGET
        passed &= ok
        lines.append(f"{'PASS' if ok else 'FAIL'}  speed-up over {name}: {baseline:.1f} s / "
                     f"{wall:.1f} s = {speedup:.2f}x (target >= {SPEEDUP_TARGET}x)")
    return lines, passed


# ------------------------------------------------------------------------------ the run

def _grade(root, assignment, students, workers, label):
    start = time.monotonic()
    results = grade_class(root, assignment, students, workers=workers, feedback=False,
                          progress=lambda line: print(f"  {label} {line}", flush=True))
    return time.monotonic() - start, results


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Parallel grading of a synthetic class against one-at-a-time grading.",
        epilog="Exit status 0 when every target passed, 1 when one failed, 2 for a usage error.")
    parser.add_argument("--students", type=int, default=100, help="class size (default: 100)")
    parser.add_argument("--assignment", default=DEFAULT_ASSIGNMENT,
                        help="the lesson graded (default: %(default)s, the fastest)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="parallel workers (default: %(default)s, the number of cores)")
    parser.add_argument("--per-process", type=int, default=20, metavar="K",
                        help="students graded by stock one-process-per-student nbgrader, scaled "
                             "to the class (default: 20; 0 skips it)")
    parser.add_argument("--startup-runs", type=int, default=3, metavar="R",
                        help="start-up measurements, the median is used (default: 3)")
    parser.add_argument("--quick", action="store_true",
                        help="10 students, per-process baseline on 4, one start-up run")
    parser.add_argument("--unsafe-no-isolation", action="store_true",
                        help="grade without the kernel sandbox (on hosts that cannot isolate)")
    args = parser.parse_args(argv)
    if args.quick:
        args.students, args.per_process, args.startup_runs = 10, min(args.per_process, 4), 1
    if args.assignment not in assignments():
        print(f"error: no assignment {args.assignment!r} in {ROOT / 'source'}; known: "
              f"{', '.join(assignments())}", file=sys.stderr)
        return 2
    for name in ("students", "workers", "startup_runs"):
        if getattr(args, name) < 1:
            print(f"error: --{name.replace('_', '-')} must be at least 1", file=sys.stderr)
            return 2
    if args.per_process < 0:
        print("error: --per-process must be 0 (skip) or more", file=sys.stderr)
        return 2
    if args.unsafe_no_isolation:
        os.environ["ACTLIB_GRADING_ISOLATION"] = "off"
    else:
        from actlib.grading.grader.sandbox import check_isolation

        reason = check_isolation()
        if reason:
            print(f"error: cannot grade safely: {reason}; pass --unsafe-no-isolation",
                  file=sys.stderr)
            return 2
    a, n, workers = args.assignment, args.students, args.workers
    with tempfile.TemporaryDirectory(prefix="bench-parallel-") as tmp:
        root = copy_course(Path(tmp) / "course")
        print(f"regenerating {a} in a temporary course copy...", flush=True)
        regenerate(a, root)
        made = build_class(root, a, n)
        students = sorted(made)
        counts = {k: list(made.values()).count(k) for k in ("perfect", "stubbed", "wrong",
                                                              "broken")}
        print(f"class: {n} submissions ({', '.join(f'{v} {k}' for k, v in counts.items())}); "
              f"{workers} worker(s) on {os.cpu_count()} core(s); load average "
              f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)

        trivial = root / "submitted" / "zz_trivial" / a
        trivial.mkdir(parents=True)
        for nb in (root / "notebooks" / a).glob("*.ipynb"):
            (trivial / nb.name).write_bytes(nb.read_bytes())
        startups = []
        for r in range(args.startup_runs):
            wall, results = _grade(root, a, ["zz_trivial"], 1, f"start-up {r + 1}:")
            startups.append(wall - results[0].seconds)
        startup = statistics.median(startups)
        print(f"start-up: {startup:.2f} s (median of {', '.join(f'{s:.2f}' for s in startups)})",
              flush=True)

        print(f"parallel: {n} submissions, {workers} worker(s)...", flush=True)
        wall, results = _grade(root, a, students, workers, "parallel:")
        busy = sum(r.seconds for r in results)
        graded = sum(r.ok for r in results)
        print(f"parallel: W = {wall:.1f} s, S = {busy:.1f} s over {graded} graded "
              f"({n - graded} not graded), load average "
              f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)

        print(f"one at a time: {n} submissions, 1 worker...", flush=True)
        wall1, results1 = _grade(root, a, students, 1, "1 worker:")
        busy1 = sum(r.seconds for r in results1)
        print(f"one at a time: T1 = {wall1:.1f} s (S = {busy1:.1f} s)", flush=True)

        per_process = None
        if args.per_process:
            k = min(args.per_process, n)
            subset = [students[round(i * n / k)] for i in range(k)]
            times = []
            for i, student in enumerate(subset):
                start = time.monotonic()
                done = nbgrader("autograde", a, "--student", student, "--force", root=root)
                times.append(time.monotonic() - start)
                print(f"  per process: [{i + 1}/{k}] {student}: exit {done.returncode} "
                      f"({times[-1]:.1f} s)", flush=True)
            per_student = statistics.fmean(times)
            per_process = per_student * n
            print(f"per process: {per_student:.2f} s per student over {k} of {n} "
                  f"(evenly spaced), scaled to the class: T_pp = {per_process:.1f} s",
                  flush=True)

    lines, passed = summarise(n_students=n, workers=workers, wall=wall, busy_sum=busy,
                              startup=startup, one_worker=wall1, per_process=per_process)
    print(f"\n{a}, {n} submissions, {workers} worker(s): W = {wall:.1f} s, S = {busy:.1f} s, "
          f"S/N = {busy / workers:.1f} s, start-up = {startup:.2f} s, T1 = {wall1:.1f} s"
          + (f", T_pp = {per_process:.1f} s" if per_process is not None else ""))
    for line in lines:
        print(line)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
