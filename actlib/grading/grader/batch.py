"""Grade a whole class with nbgrader: N workers, one nbgrader session each, one line per student.

The parent (`grade_class`) checks each submission before nbgrader sees it (a missing or
unreadable notebook is reported with its reason), then hands the students one at a time to
``workers`` worker processes. A worker (``python -m actlib.grading.grader.batch --worker``) loads the
course's ``nbgrader_config.py`` once and runs nbgrader's own autograde — and feedback — for
each student it is given, through `nbgrader.apps.NbGraderAPI`, so every protection configured
there (the isolated kernel, grader-side checks, restored test cells) applies exactly as with
``nbgrader autograde``. Workers pay nbgrader's start-up once, not once per student.

Nothing one student does stops the class: an nbgrader error is reported for that student, and a
worker that stays on one student longer than ``student_timeout`` seconds is killed (with its
kernel), the student reported, and a fresh worker takes the rest. The gradebook is SQLite; the
course configuration opens it with a busy timeout, so parallel workers wait for each other's
short writes instead of failing.

Each worker runs under limits of its own (`limit_worker`): an address-space limit
(``WORKER_MEMORY_MB``) and, per student, a CPU-time budget (``STUDENT_CPU_SECONDS``) past which
that student's grading stops with the reason — so a submission that floods the grader with
data or work costs one student's grading, never the class.

Each finished student is also appended, as one JSON line (assignment, student, ok, seconds,
score, message, time), to the course's git-ignored ``grading-log.jsonl`` (`GRADING_LOG`):
the grading time per student that the class report (`actlib.grading.analytics`) shows.
"""
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Result", "grade_class", "precheck", "students_of", "notebook_names", "GRADING_LOG",
           "read_grading_log"]

#: The log of graded students, one JSON line each, in the course root (git-ignored).
GRADING_LOG = "grading-log.jsonl"
#: Address space of a grading worker (MiB): the grader's own process, not the kernels.
WORKER_MEMORY_MB = 6144
#: CPU seconds the grader's process may spend on one student (its kernels have their own).
STUDENT_CPU_SECONDS = 300


class GradingBudgetExceeded(Exception):
    """The grader's process spent more than its CPU budget on one student."""


def limit_worker(memory_mb=WORKER_MEMORY_MB):
    """Put this grading worker under its address-space limit, and make SIGXCPU (the per-student
    CPU budget, see `student_budget`) raise `GradingBudgetExceeded` instead of killing it."""
    import resource

    limit = memory_mb * 2**20
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))

    def over(_signum, _frame):
        raise GradingBudgetExceeded(
            f"grading this submission used more than {STUDENT_CPU_SECONDS} s of the grader's "
            f"CPU time; stopped")

    signal.signal(signal.SIGXCPU, over)


def student_budget(seconds=STUDENT_CPU_SECONDS):
    """Give the next student ``seconds`` of this process's CPU time (RLIMIT_CPU's soft limit,
    raised again for each student; the hard limit is left alone)."""
    import resource

    used = resource.getrusage(resource.RUSAGE_SELF)
    spent = int(used.ru_utime + used.ru_stime)
    soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    wanted = spent + int(seconds)
    if hard != resource.RLIM_INFINITY:
        wanted = min(wanted, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (wanted, hard))


def peak_mb():
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class Result:
    """What happened to one student's submission."""

    student: str
    ok: bool
    message: str
    seconds: float = 0.0
    score: float = 0.0
    max_score: float = 0.0
    notes: list = field(default_factory=list)
    peak_mb: float = 0.0          # the grading worker's peak memory so far (resident, MiB)


# ------------------------------------------------------------------------------ parent side

def notebook_names(assignment, root):
    """Names (without .ipynb) of the notebooks of an assignment, from ``source/``."""
    return sorted(p.stem for p in (Path(root) / "source" / assignment).glob("*.ipynb"))


def students_of(assignment, root):
    """Students with a folder for ``assignment`` in ``submitted/``, sorted."""
    submitted = Path(root) / "submitted"
    if not submitted.is_dir():
        return []
    return sorted(p.name for p in submitted.iterdir() if (p / assignment).is_dir())


def precheck(assignment, student, root):
    """The reason a submission cannot be graded, found before nbgrader runs (or None)."""
    folder = Path(root) / "submitted" / student / assignment
    for name in notebook_names(assignment, root):
        path = folder / f"{name}.ipynb"
        if not path.exists():
            found = sorted(p.name for p in folder.glob("*.ipynb"))
            return f"notebook {name}.ipynb is missing from the submission (found: {found})"
        try:
            with open(path, encoding="utf-8") as fh:
                nb = json.load(fh)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            return f"{path.name} is not a readable notebook: {exc}"
        if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
            return f"{path.name} is not a notebook: it has no list of cells"
    return None


def _log_results(root, assignment, results, workers):
    """Append one JSON line per result to ``root/GRADING_LOG``; return None, or the reason
    the log could not be written (grading goes on without it)."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    lines = "".join(json.dumps({"assignment": assignment, "student": r.student, "ok": r.ok,
                                "seconds": round(r.seconds, 3), "score": r.score,
                                "max_score": r.max_score, "message": r.message,
                                "workers": workers, "finished": stamp,
                                "peak_mb": r.peak_mb}) + "\n"
                    for r in results)
    try:
        with open(Path(root) / GRADING_LOG, "a", encoding="utf-8") as fh:
            fh.write(lines)
    except OSError as exc:
        return f"could not write {GRADING_LOG}: {exc}"
    return None


def read_grading_log(root, assignment):
    """{student: the last logged entry (a dict) of ``assignment``} from ``root/GRADING_LOG``
    ({} when there is no log); lines that are not JSON objects are skipped."""
    path = Path(root) / GRADING_LOG
    found = {}
    if not path.is_file():
        return found
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(entry, dict) and entry.get("assignment") == assignment \
                    and isinstance(entry.get("student"), str):
                found[entry["student"]] = entry
    return found


def _worker_command(root, assignment, feedback):
    cmd = [sys.executable, "-m", "actlib.grading.grader.batch", "--worker", "--root", str(root),
           "--assignment", assignment]
    if feedback:
        cmd.append("--feedback")
    return cmd


class _Worker:
    """One worker process and the thread that reads its JSON lines into a shared queue."""

    def __init__(self, index, cmd, events, env):
        self.index = index
        self.student = None
        self.started = None
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True, bufsize=1,
                                     start_new_session=True, env=env)
        self.reader = threading.Thread(target=self._read, args=(events,), daemon=True)
        self.reader.start()

    def _read(self, events):
        for line in self.proc.stdout:
            line = line.strip()
            if line.startswith("{"):
                try:
                    events.put((self.index, json.loads(line)))
                except json.JSONDecodeError:
                    pass
        events.put((self.index, {"event": "exit"}))

    def give(self, student):
        self.student, self.started = student, time.monotonic()
        self.proc.stdin.write(student + "\n")
        self.proc.stdin.flush()

    def close(self):
        try:
            self.proc.stdin.close()
        except OSError:
            pass

    def kill(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()


def grade_class(root, assignment, students, *, workers=None, feedback=True,
                student_timeout=1800.0, progress=print):
    """Autograde ``students`` of ``assignment`` in the course at ``root``; return [Result].

    ``progress`` is called with one line per finished student (``None`` for silence).
    """
    root = Path(root).resolve()
    say = progress or (lambda line: None)
    results, todo = {}, []
    for student in students:
        reason = precheck(assignment, student, root)
        if reason:
            results[student] = Result(student, False, reason)
        else:
            todo.append(student)
    total = len(students)
    done = [len(results)]
    for r in results.values():
        say(f"[{done[0]}/{total}] NOT GRADED  {r.student}: {r.message}")

    workers = max(1, min(workers or os.cpu_count() or 1, len(todo) or 1))
    if results:
        problem = _log_results(root, assignment, list(results.values()), workers)
        if problem:
            say(f"warning: {problem}")
    cmd = _worker_command(root, assignment, feedback)
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    events = queue.Queue()
    pending = list(todo)
    pool = {}
    next_index = [0]

    def start_worker():
        w = _Worker(next_index[0], cmd, events, env)
        pool[w.index] = w
        next_index[0] += 1
        return w

    def feed(w):
        if pending:
            w.give(pending.pop(0))
        else:
            w.student = None
            w.close()

    def finish(result):
        results[result.student] = result
        done[0] += 1
        status = "graded    " if result.ok else "NOT GRADED"
        say(f"[{done[0]}/{total}] {status}  {result.student}: {result.message}"
            f" ({result.seconds:.1f} s)")
        problem = _log_results(root, assignment, [result], workers)
        if problem:
            say(f"warning: {problem}")

    for _ in range(min(workers, len(pending))):
        feed(start_worker())

    while pool:
        try:
            index, event = events.get(timeout=1.0)
        except queue.Empty:
            index, event = None, None
        if event is not None:
            w = pool.get(index)
            if w is None:
                continue
            kind = event.get("event")
            if kind == "result" and event.get("student") == w.student:
                finish(Result(**{k: v for k, v in event.items() if k != "event"}))
                feed(w)
            elif kind == "exit":
                w.proc.wait()
                del pool[index]
                if w.student:  # died while grading: report, then carry on with a new worker
                    finish(Result(w.student, False, "the grading worker died (exit status "
                                  f"{w.proc.returncode}) while grading this submission",
                                  time.monotonic() - w.started))
                    w.student = None
                if pending:
                    feed(start_worker())
                continue
        now = time.monotonic()
        for w in list(pool.values()):
            if w.student and now - w.started > student_timeout:
                student, started = w.student, w.started
                del pool[w.index]
                w.kill()
                finish(Result(student, False, f"grading did not finish within "
                              f"{student_timeout:g} s; stopped", now - started))
                if pending:
                    feed(start_worker())
    for w in pool.values():
        w.kill()
    return [results[s] for s in students if s in results]


# ------------------------------------------------------------------------------ worker side

def load_config(root):
    """The course's nbgrader configuration (``nbgrader_config.py`` in ``root``)."""
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    config.CourseDirectory.root = str(root)
    return config


def _score(gb, assignment, student):
    submission = gb.find_submission(assignment, student)
    got = total = 0.0
    for nb in submission.notebooks:
        for grade in nb.grades:
            if grade.cell_type == "code":
                got += grade.score
                total += grade.max_score
    return got, total


def _last_error(text):
    """The most telling line of nbgrader's output: the last exception line of a traceback
    (``SomeError: message``), else its last error line, else its last line."""
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    lines = [ln for ln in lines if "Please see the" not in ln] or lines
    raised = [ln for ln in lines if re.match(r"^[\w.]*(Error|Exception|Exit)\b[^ ]*: ", ln)]
    errors = [ln for ln in lines if "[ERROR]" in ln or "Error" in ln]
    return (raised or errors or lines or ["unknown error"])[-1]


def worker(root, assignment, feedback, lines=sys.stdin, out=sys.stdout):
    """Grade the students named one per line on ``lines``; write one JSON result per student."""
    os.chdir(root)
    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    config = load_config(root)
    coursedir = CourseDirectory(config=config)
    api = NbGraderAPI(coursedir=coursedir, config=config)
    limit_worker()
    for line in lines:
        student = line.strip()
        if not student:
            continue
        student_budget()
        start = time.monotonic()
        result = {"event": "result", "student": student, "ok": False, "message": "",
                  "notes": []}
        try:
            graded = api.autograde(assignment, student, force=True, create=True)
            log = graded.get("log", "") + graded.get("error", "")
            copies = sorted(set(re.findall(r"Cell with id '([^']+)' exists multiple times", log)))
            if copies:
                result["notes"].append(f"graded cells copied in the submission: {copies}; "
                                       f"the last copy counted")
            result["notes"] += sorted(set(re.findall(r"\[actlib\] (.+)", log)))
            if not graded["success"]:
                result["message"] = f"nbgrader autograde failed: {_last_error(log)}"
            else:
                with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
                    got, total = _score(gb, assignment, student)
                result.update(ok=True, score=got, max_score=total,
                              message=f"{got:g} / {total:g} automatic points")
                if feedback:
                    fb = api.generate_feedback(assignment, student, force=True)
                    if not fb["success"]:
                        result.update(ok=False, message=f"graded ({result['message']}) but "
                                      f"feedback failed: {_last_error(fb.get('log', '') + fb.get('error', ''))}")
        except (Exception, GradingBudgetExceeded) as exc:  # noqa: BLE001 - one student's
            result["ok"] = False                               # problem must not stop the class
            result["message"] = f"{type(exc).__name__}: {exc}"
        except MemoryError:
            result["ok"] = False
            result["message"] = (f"grading this submission needed more than the grader's "
                                 f"{WORKER_MEMORY_MB} MiB; stopped")
        if result["notes"] and result["ok"]:
            result["message"] += " (" + "; ".join(result["notes"]) + ")"
        result["seconds"] = time.monotonic() - start
        result["peak_mb"] = round(peak_mb(), 1)
        out.write(json.dumps(result) + "\n")
        out.flush()
    return 0


def _main(argv=None):
    import argparse

    parser = argparse.ArgumentParser(description="A grading worker (used by tools/grade.py).")
    parser.add_argument("--worker", action="store_true", required=True)
    parser.add_argument("--root", required=True)
    parser.add_argument("--assignment", required=True)
    parser.add_argument("--feedback", action="store_true")
    args = parser.parse_args(argv)
    return worker(Path(args.root), args.assignment, args.feedback)


if __name__ == "__main__":
    sys.exit(_main())
