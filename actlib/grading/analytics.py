"""Class analytics: after grading, one report per assignment for the instructor.

`write_report` reads the course's gradebook (``gradebook.db``), the autograded notebooks
(``autograded/<student>/<assignment>/``), the grading log that `actlib.grading.grader.batch` keeps
(``grading-log.jsonl``: seconds per student) and the master notebooks in ``source/`` (which
exercise each graded cell belongs to), and writes a static HTML page with its figures inline
(SVG, text kept as text; no external URL) and CSV files:

* ``scores.csv``     — per student: automatic, written and total points (the gradebook's),
                       written answers still to grade, grading seconds;
* ``exercises.csv``  — per exercise (its test cells ``test_<answer>_visible`` / ``_hidden``),
                       hardest first: how many attempted it and how many did not (the answer
                       cell left as released: "not answered yet"), the share of *attempts* that
                       fail (the ranking), mean score, share with full marks and with zero;
* ``failures.csv``   — per test cell, the failure messages of attempts (never "not answered
                       yet") grouped after numbers and arrays are replaced by ``#`` and ``[…]``
                       (so one mistake on different inputs is one row), most frequent first,
                       with an example as the student saw it;
* ``mistakes.csv``   — per exercise, its wrong attempts grouped by the mistake they show (a
                       convention the check names, a shape, a dtype, an overflow, a banned call,
                       wrong values, an exception), with the students;
* ``not_graded.csv`` — every collected submission that could not be graded, with the reason;
* ``written.csv``    — per written (manually graded) answer: graded, still to grade, mean score;
* ``grading_times.csv`` — per student: the seconds nbgrader spent grading the submission.

Command line: ``python tools/report.py <assignment> [--out DIR]``.
"""
import csv
import html
import io
import json
import re
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from actlib.grading.grader.bans import answer_of

__all__ = ["ReportError", "Exercise", "ClassData", "parse_exercises", "normalise_message",
           "load_class", "difficulty", "failure_table", "mistake_of", "mistake_table",
           "not_attempted", "written_table", "report_figures", "write_report"]

HEADER = re.compile(r"^#{1,6}\s*(Exercise|Written answer)\s+(\d+(?:\.\d+)*)\s*"
                    r"(?:\((\d+(?:\.\d+)?)\s*points?\))?\s*:?\s*(.*?)\s*$", re.I)
EPS = 1e-9


class ReportError(ValueError):
    """Why no report can be made (a one-line message for the instructor)."""


@dataclass
class Exercise:
    """One exercise of an assignment: an answer cell and the graded cells that score it
    (its two test cells for code; the written cell itself for a written answer)."""

    notebook: str
    answer: str
    number: str
    title: str
    kind: str                   # "code" or "written"
    cells: list = field(default_factory=list)

    @property
    def label(self):
        """A short readable name: "Exercise 1.2: the unipolar step", "Written answer 1.1"."""
        if not self.number:
            return f"{self.answer} (no exercise header)"
        word = "Exercise" if self.kind == "code" else "Written answer"
        return f"{word} {self.number}" + (f": {self.title}" if self.title else "")


def _nbgrader(cell):
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def _source(cell):
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _read_json(path):
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def parse_exercises(course_root, assignment):
    """The exercises of ``assignment`` from its master notebooks in ``source/``, in notebook
    order: each answer cell (an nbgrader solution cell) with the header above it ("### Exercise
    2.4 (3 points): title" or "### Written answer 3.1 (2 points)") and its graded cells. Code
    answers own the test cells named ``test_<answer>_visible`` / ``test_<answer>_hidden``; a
    graded code cell that matches no answer becomes an exercise of its own."""
    folder = Path(course_root) / "source" / assignment
    found = []
    for path in sorted(folder.glob("*.ipynb")):
        nb = _read_json(path)
        header = None
        answers, tests = [], []
        for cell in nb.get("cells", []):
            meta = _nbgrader(cell)
            gid = meta.get("grade_id")
            if cell.get("cell_type") == "markdown" and meta.get("solution") and meta.get("grade"):
                number, title = (header[1], header[3]) if header else ("", "")
                found.append(Exercise(path.stem, gid, number, title, "written", [gid]))
                continue
            if cell.get("cell_type") == "markdown":
                for line in _source(cell).splitlines():
                    m = HEADER.match(line.strip())
                    if m:
                        header = m.groups()
                continue
            if cell.get("cell_type") != "code" or not gid:
                continue
            if meta.get("solution") and not meta.get("grade"):
                number, title = (header[1], header[3]) if header else ("", "")
                ex = Exercise(path.stem, gid, number, title, "code")
                answers.append(ex)
                found.append(ex)
            elif meta.get("grade"):
                tests.append(gid)
        claimed = set()
        for ex in answers:
            ex.cells = [t for t in tests if answer_of(t) == ex.answer]
            claimed.update(ex.cells)
        for t in tests:
            if t not in claimed:
                found.append(Exercise(path.stem, t, "", t, "code", [t]))
    return [ex for ex in found if ex.cells]


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?(?![\w])"
                     r"|(?<![\w.])[-+]?\b(?:nan|inf)\b(?![\w.])", re.I)
_ITEM = r"(?:[\s#,.…]|\[…\])"
_NUMBERS_IN_BRACKETS = re.compile(rf"\[{_ITEM}*(?:#|\[…\]){_ITEM}*\]")


def normalise_message(message, limit=300):
    """``message`` with numbers replaced by ``#`` and bracketed runs of numbers (lists, NumPy
    arrays, nested ones, NumPy's ``...`` summaries) by ``[…]``, ANSI colours removed, whitespace folded, cut at ``limit``
    characters: the same mistake on different inputs gives the same text. Names that contain
    digits (``float64``, ``x1``) are kept."""
    text = _ANSI.sub("", message or "")
    text = re.sub(r"\s+", " ", text).strip()
    text = _NUMBER.sub("#", text)
    previous = None
    while previous != text:
        previous, text = text, _NUMBERS_IN_BRACKETS.sub("[…]", text)
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


_UNANSWERED = re.compile(r"is not answered yet|^NotImplementedError\b")


def not_attempted(message):
    """Whether a failure message says the answer was never written (the released stub)."""
    return bool(_UNANSWERED.search((message or "").strip()))


_MISTAKES = (
    (re.compile(r"likely convention mix-up: ([^(]+?)\s*(?:\(|$)"), "convention mix-up: {0}"),
    (re.compile(r"is not available inside"), "called the course's own implementation"),
    (re.compile(r"emitted a warning|overflows|divides by zero|RuntimeWarning", re.I),
     "overflow or a numerical warning"),
    (re.compile(r"is wrong at .*Convention: ([^.]+)"), "wrong values (convention: {0})"),
    (re.compile(r"(?:has|returned) shape|expected shape|the expected shape"), "wrong shape"),
    (re.compile(r"returned dtype"), "wrong dtype"),
    (re.compile(r"is wrong|expected .* got|wrong at"), "wrong values"),
)


def mistake_of(message):
    """The kind of mistake a failure message shows, from what the course's checks name: a
    convention mix-up, a banned call, an overflow, a shape, a dtype, wrong values (with the
    convention the check states), else the exception raised. None for "not answered yet"."""
    if not_attempted(message):
        return None
    text = re.sub(r"\s+", " ", _ANSI.sub("", message or "")).strip()
    for pattern, label in _MISTAKES:
        m = pattern.search(text)
        if m:
            return label.format(*[g.strip() for g in m.groups()])
    ename = re.match(r"([A-Za-z_][\w.]*(?:Error|Exception|Warning))\b", text)
    return f"{ename.group(1)} raised" if ename else "other"


@dataclass
class ClassData:
    """What the report is made of, read from the course (see `load_class`)."""

    assignment: str
    exercises: list                    # [Exercise]
    students: list                     # sorted student ids with a graded submission
    grades: dict                       # {student: {(notebook, grade_id): Grade row dict}}
    totals: dict                       # {student: (score, max_score)} from the gradebook
    errors: dict                       # {(notebook, grade_id): [(student, raw message)]}
    missing_notebooks: list            # [(student, notebook)] autograded notebook not found
    seconds: dict                      # {student: grading seconds} from the grading log
    not_graded: list = field(default_factory=list)  # [(student, reason)] collected, no grades


def _cell_errors(cell):
    """The error outputs of a cell as 'Name: value' lines (one per error output)."""
    lines = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            ename, evalue = out.get("ename", ""), out.get("evalue", "")
            lines.append(f"{ename}: {evalue}" if evalue else ename)
    return lines


def _course_id(db):
    """The course id stored in the gradebook ``db`` (its first), so that opening it adds no
    course row; nbgrader's default when it holds none."""
    import sqlite3

    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=60)
        try:
            row = con.execute("SELECT id FROM course ORDER BY id LIMIT 1").fetchone()
        finally:
            con.close()
    except sqlite3.Error:
        row = None
    return row[0] if row else "default_course"


def load_class(course_root, assignment):
    """Read the graded class of ``assignment`` from the course at ``course_root`` (see
    `ClassData`). Raises `ReportError` when the assignment is not in ``source/`` or nothing
    of it has been graded yet."""
    root = Path(course_root)
    known = sorted(p.name for p in (root / "source").glob("*") if p.is_dir())
    if assignment not in known:
        raise ReportError(f"no assignment {assignment!r} in {root / 'source'}; "
                          f"known: {', '.join(known) or 'none'}")
    exercises = parse_exercises(root, assignment)
    db = root / "gradebook.db"
    if not db.is_file():
        raise ReportError(f"nothing graded yet: no gradebook at {db}; "
                          f"grade first with python tools/grade.py {assignment}")
    from nbgrader.api import Gradebook, MissingEntry

    grades, totals = {}, {}
    with Gradebook(f"sqlite:///{db}?timeout=60", _course_id(db)) as gb:
        try:
            submissions = gb.find_assignment(assignment).submissions
        except MissingEntry:
            submissions = []
        for sub in submissions:
            rows = {}
            for nb in sub.notebooks:
                for g in nb.grades:
                    rows[(nb.name, g.name)] = {
                        "score": float(g.score or 0.0), "max_score": float(g.max_score or 0.0),
                        "cell_type": g.cell_type, "needs_manual_grade": bool(g.needs_manual_grade),
                        "auto_score": g.auto_score, "manual_score": g.manual_score}
            if not rows:
                continue
            grades[sub.student.id] = rows
            totals[sub.student.id] = (float(sub.score or 0.0), float(sub.max_score or 0.0))
    if not grades:
        raise ReportError(f"nothing graded yet for {assignment!r} in {db}; "
                          f"grade first with python tools/grade.py {assignment}")
    students = sorted(grades)
    tests = {(ex.notebook, c) for ex in exercises if ex.kind == "code" for c in ex.cells}
    errors, missing = {key: [] for key in sorted(tests)}, []
    for student in students:
        for name in sorted({nb for nb, _ in tests}):
            path = root / "autograded" / student / assignment / f"{name}.ipynb"
            try:
                nb = _read_json(path)
            except (OSError, ValueError):
                missing.append((student, name))
                continue
            for cell in nb.get("cells", []):
                key = (name, _nbgrader(cell).get("grade_id"))
                if key in errors:
                    for message in _cell_errors(cell):
                        errors[key].append((student, message))
    from actlib.grading.grader.batch import read_grading_log

    log = read_grading_log(root, assignment)
    seconds = {s: float(log[s]["seconds"]) for s in students
               if s in log and isinstance(log[s].get("seconds"), (int, float))}
    return ClassData(assignment, exercises, students, grades, totals, errors, missing, seconds,
                     not_graded_submissions(root, assignment, set(grades), log))


def not_graded_submissions(root, assignment, graded, log):
    """[(student, reason)] of the submissions in ``submitted/`` that have no grades, and of
    the students whose last grading failed (their older grades, if any, are still reported):
    what is wrong with the files, else the grading log's reason."""
    from actlib.grading.grader.batch import precheck, students_of

    found = {}
    for student in students_of(assignment, root):
        entry = log.get(student)
        failed = entry is not None and not entry.get("ok")
        if student in graded and not failed:
            continue
        reason = precheck(assignment, student, root)
        if not reason and failed:
            reason = entry.get("message") or "grading failed"
        found[student] = reason or "not graded yet"
    for student, entry in log.items():
        if not entry.get("ok") and student not in found and student not in graded:
            found[student] = entry.get("message") or "grading failed"
    return sorted(found.items())


def _exercise_score(data, student, ex):
    rows = [data.grades[student].get((ex.notebook, c)) for c in ex.cells]
    rows = [r for r in rows if r is not None]
    return sum(r["score"] for r in rows), sum(r["max_score"] for r in rows)


def difficulty(data):
    """Per code exercise: its students' mean score (points and fraction of the exercise's
    points), the share of students with full marks and with zero; sorted hardest first (lowest
    mean fraction, then most zeros, then course order). A list of dicts."""
    rows = []
    for order, ex in enumerate(data.exercises):
        if ex.kind != "code":
            continue
        scores, points, skipped, failed = [], 0.0, 0, 0
        for student in data.students:
            got, most = _exercise_score(data, student, ex)
            if most > 0:
                scores.append(got)
                points = most
                if not attempted(data, student, ex):
                    skipped += 1
                elif got < most - EPS:
                    failed += 1
        if not scores:
            continue
        n = len(scores)
        tried = n - skipped
        rows.append({"exercise": ex.number, "title": ex.title, "label": ex.label,
                     "notebook": ex.notebook, "answer": ex.answer,
                     "test_cells": " ".join(ex.cells), "points": points, "students": n,
                     "attempted": tried, "not_attempted": skipped, "failed_attempts": failed,
                     "attempt_fail_share": failed / tried if tried else None,
                     "mean_score": sum(scores) / n, "mean_fraction": sum(scores) / n / points,
                     "full_share": sum(s >= points - EPS for s in scores) / n,
                     "zero_share": sum(s <= EPS for s in scores) / n, "_order": order})
    rows.sort(key=lambda r: (r["attempt_fail_share"] is None, -(r["attempt_fail_share"] or 0.0),
                             round(r["mean_fraction"], 9), -r["zero_share"], r["_order"]))
    for r in rows:
        del r["_order"]
    return rows


def attempted(data, student, ex):
    """Whether ``student`` wrote an answer to ``ex``: no test cell of it says "not answered
    yet" (the released stub raises NotImplementedError)."""
    return not any(not_attempted(message) for c in ex.cells
                   for s, message in data.errors.get((ex.notebook, c), []) if s == student)


def mistake_table(data):
    """Per code exercise, its wrong attempts grouped by `mistake_of` (each student once, by the
    first of the exercise's test cells they fail): one dict per (exercise, mistake) with the
    students, their share of the exercise's attempts and an example; in the
    order of `difficulty`, the most frequent mistake first."""
    rows = []
    for d in difficulty(data):
        ex = next(e for e in data.exercises if e.notebook == d["notebook"] and e.answer == d["answer"])
        groups, seen = {}, set()
        for c in ex.cells:      # a student counts once: the mistake of their first failing cell
            for student, message in data.errors.get((ex.notebook, c), []):
                kind = mistake_of(message)
                if kind is None or student in seen or not attempted(data, student, ex):
                    continue
                seen.add(student)
                g = groups.setdefault(kind, {"students": set(), "example": message})
                g["students"].add(student)
        for kind, g in sorted(groups.items(), key=lambda kv: (-len(kv[1]["students"]), kv[0])):
            rows.append({"exercise": d["label"], "mistake": kind, "count": len(g["students"]),
                         "attempted": d["attempted"],
                         "share_of_attempts": len(g["students"]) / d["attempted"]
                         if d["attempted"] else None,
                         "example": _fold(g["example"], 400),
                         "students": " ".join(sorted(g["students"]))})
    return rows


def failure_table(data):
    """Per test cell, its failure messages grouped by `normalise_message`: one dict per
    (test cell, message pattern) with how many students and which, and one raw example; test
    cells in course order, the most frequent pattern first."""
    owner = {(ex.notebook, c): ex for ex in data.exercises for c in ex.cells}
    n = len(data.students)
    rows = []
    for key, found in data.errors.items():
        groups = {}
        for student, message in found:
            if not_attempted(message):
                continue
            pattern = normalise_message(message)
            g = groups.setdefault(pattern, {"students": [], "example": message})
            if student not in g["students"]:
                g["students"].append(student)
        ex = owner.get(key)
        for pattern, g in sorted(groups.items(), key=lambda kv: (-len(kv[1]["students"]), kv[0])):
            rows.append({"notebook": key[0], "test_cell": key[1],
                         "exercise": ex.label if ex else "", "message": pattern,
                         "count": len(g["students"]), "share": len(g["students"]) / n,
                         "example": _fold(g["example"], 400),
                         "students": " ".join(sorted(g["students"]))})
    order = {(ex.notebook, c): i for i, ex in enumerate(data.exercises)
             for c in ex.cells}
    rows.sort(key=lambda r: (order.get((r["notebook"], r["test_cell"]), 1 << 30),
                             r["test_cell"], -r["count"]))
    return rows


def _fold(text, limit):
    text = re.sub(r"\s+", " ", _ANSI.sub("", text or "")).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def written_table(data):
    """Per written (manually graded) answer: points, how many students have a manual score,
    how many still need one, and over the graded ones the mean score, the share with full marks
    and with zero (None when none is graded). A list of dicts in course order."""
    rows = []
    for ex in data.exercises:
        if ex.kind != "written":
            continue
        key = (ex.notebook, ex.answer)
        graded, pending, points = [], 0, 0.0
        for student in data.students:
            g = data.grades[student].get(key)
            if g is None:
                continue
            points = g["max_score"]
            if g["manual_score"] is None and g["needs_manual_grade"]:
                pending += 1
            else:
                graded.append(g["score"])
        n = len(graded)
        rows.append({"exercise": ex.number, "label": ex.label, "notebook": ex.notebook,
                     "cell": ex.answer, "points": points, "graded": n, "pending": pending,
                     "mean_score": sum(graded) / n if n else None,
                     "full_share": sum(s >= points - EPS for s in graded) / n if n else None,
                     "zero_share": sum(s <= EPS for s in graded) / n if n else None})
    return rows


def student_table(data):
    """Per student: automatic (code) points, written points and how many written answers still
    need a grade, the gradebook's total and maximum, and the grading seconds (None when the
    grading log has no entry)."""
    rows = []
    for student in data.students:
        auto = auto_max = written = written_max = 0.0
        pending = 0
        for g in data.grades[student].values():
            if g["cell_type"] == "code":
                auto += g["score"]
                auto_max += g["max_score"]
            else:
                written += g["score"]
                written_max += g["max_score"]
                pending += g["manual_score"] is None and g["needs_manual_grade"]
        total, total_max = data.totals[student]
        rows.append({"student": student, "automatic_score": auto, "automatic_max": auto_max,
                     "written_score": written, "written_max": written_max,
                     "written_pending": pending, "total_score": total, "total_max": total_max,
                     "grading_seconds": data.seconds.get(student)})
    return rows


# ------------------------------------------------------------------------------ figures

def _figure(figsize):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot()


def _short(label, limit=38):
    return label if len(label) <= limit else label[: limit - 1] + "…"


def report_figures(data):
    """The report's Matplotlib figures, {name: Figure}: ``difficulty`` (every code exercise's
    mean score, full-marks and zero shares, hardest at the top), ``scores`` (histogram of the
    students' total points), ``written`` (mean score of each written answer over the graded
    ones), ``times`` (histogram of grading seconds; only when the log has some). Every axes has
    a title and axis labels (`actlib.plots.finish`); compared bars have a legend."""
    import numpy as np

    from actlib.plots import finish

    figs = {}
    rows = difficulty(data)
    n = len(data.students)
    fig, ax = _figure((9.0, 1.6 + 0.55 * max(len(rows), 1)))
    y = np.arange(len(rows))
    h = 0.27
    series = (("mean_fraction", "mean score (% of the exercise's points)", "#4c72b0"),
              ("full_share", "full marks (% of students)", "#55a868"),
              ("zero_share", "zero (% of students)", "#c44e52"))
    for i, (key, label, colour) in enumerate(series):
        ax.barh(y + (i - 1) * h, [100 * r[key] for r in rows], height=h, label=label,
                color=colour)
    ax.set_yticks(y, [_short(f"{r['exercise']} {r['title']}" if r["exercise"] else r["label"])
                      for r in rows])
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    finish(ax, f"{data.assignment}: exercises, hardest first ({n} students)",
           "percent (of the exercise's points, or of the students)", "exercise", legend=False)
    fig.legend(loc="outside lower center", ncol=3, fontsize="small")
    figs["difficulty"] = fig

    totals = [data.totals[s] for s in data.students]
    most = max((m for _, m in totals), default=0.0) or 1.0
    fig, ax = _figure((6.5, 3.8))
    bins = np.linspace(0, most, min(int(most), 20) + 1) if most >= 2 else 10
    ax.hist([t for t, _ in totals], bins=bins, color="#4c72b0", edgecolor="white",
            label="students")
    mean = statistics.fmean(t for t, _ in totals)
    ax.axvline(mean, color="#c44e52", linestyle="--", label=f"mean {mean:.1f}")
    finish(ax, f"{data.assignment}: total score of {n} students (of {most:g} points)",
           "total points (automatic + written)", "students", legend=True)
    figs["scores"] = fig

    written = written_table(data)
    if written:
        fig, ax = _figure((8.0, 1.9 + 0.5 * len(written)))
        y = np.arange(len(written))
        ax.barh(y, [r["mean_score"] or 0.0 for r in written], height=0.5, color="#8172b2",
                label="mean score of the graded")
        ax.barh(y, [r["points"] for r in written], height=0.5, fill=False, edgecolor="#333333",
                label="points available")
        ax.set_yticks(y, [f"{_short(r['label'], 26)} ({r['graded']} graded, "
                          f"{r['pending']} to grade)" for r in written])
        ax.invert_yaxis()
        finish(ax, f"{data.assignment}: written answers (manually graded)", "points",
               "written answer", legend=False)
        fig.legend(loc="outside lower center", ncol=2, fontsize="small")
        figs["written"] = fig

    seconds = [data.seconds[s] for s in data.students if s in data.seconds]
    if seconds:
        fig, ax = _figure((6.5, 3.8))
        ax.hist(seconds, bins=min(20, max(5, len(seconds) // 3)), color="#64b5cd",
                edgecolor="white", label="students")
        med = statistics.median(seconds)
        ax.axvline(med, color="#c44e52", linestyle="--", label=f"median {med:.1f} s")
        finish(ax, f"{data.assignment}: grading time per student ({len(seconds)} logged)",
               "seconds nbgrader spent on the submission", "students", legend=True)
        figs["times"] = fig
    return figs


def _svg(fig):
    """``fig`` as an inline SVG element: text kept as text, no XML prologue, no metadata and
    no namespace URLs (an HTML page does not need them)."""
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "actlib-report"}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    svg = buf.getvalue()
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.S)
    svg = re.sub(r'\s+xmlns(?::\w+)?="[^"]*"', "", svg)
    return svg


# ------------------------------------------------------------------------------ output

def _fmt(value, digits=2):
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.{digits}f}".rstrip("0").rstrip(".") if value == value else "nan"
    return str(value)


def _write_csv(path, rows, columns):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(columns)
        for r in rows:
            w.writerow([_fmt(r.get(c), 6) for c in columns])


def _table(rows, columns, headers, percent=()):
    out = ["<table><thead><tr>"]
    out += [f"<th>{html.escape(h)}</th>" for h in headers]
    out.append("</tr></thead><tbody>")
    for r in rows:
        out.append("<tr>")
        for c in columns:
            v = r.get(c)
            text = "" if v is None else (f"{100 * v:.0f} %" if c in percent else _fmt(v))
            out.append(f"<td>{html.escape(text)}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


_CSS = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:70em;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:.25em .5em;
text-align:left;vertical-align:top}th{background:#f3f3f3}td.msg{font-family:monospace;font-size:90%}
.fig svg{max-width:100%;height:auto}.note{color:#555}
"""


def write_report(course_root, assignment, out_dir=None):
    """Write the class report of ``assignment`` (the course at ``course_root``) to ``out_dir``
    (default ``<course_root>/reports/<assignment>``): ``index.html`` with the figures inline,
    and the CSV files listed in this module's docstring. Returns {name: Path} of the files
    written. Raises `ReportError` (one line) for an unknown assignment or nothing graded."""
    root = Path(course_root)
    data = load_class(root, assignment)
    out = Path(out_dir) if out_dir is not None else root / "reports" / assignment
    out.mkdir(parents=True, exist_ok=True)
    students, diff, fails = student_table(data), difficulty(data), failure_table(data)
    written, mistakes = written_table(data), mistake_table(data)
    paths = {"scores": out / "scores.csv", "exercises": out / "exercises.csv",
             "failures": out / "failures.csv", "mistakes": out / "mistakes.csv",
             "not_graded": out / "not_graded.csv", "written": out / "written.csv",
             "grading_times": out / "grading_times.csv", "html": out / "index.html"}
    _write_csv(paths["scores"], students,
               ["student", "automatic_score", "automatic_max", "written_score", "written_max",
                "written_pending", "total_score", "total_max", "grading_seconds"])
    _write_csv(paths["exercises"], diff,
               ["exercise", "title", "notebook", "answer", "test_cells", "points", "students",
                "attempted", "not_attempted", "failed_attempts", "attempt_fail_share",
                "mean_score", "mean_fraction", "full_share", "zero_share"])
    _write_csv(paths["mistakes"], mistakes,
               ["exercise", "mistake", "count", "attempted", "share_of_attempts", "example",
                "students"])
    _write_csv(paths["not_graded"], [{"student": st, "reason": why} for st, why in data.not_graded],
               ["student", "reason"])
    _write_csv(paths["failures"], fails,
               ["notebook", "test_cell", "exercise", "count", "share", "message", "example",
                "students"])
    _write_csv(paths["written"], written,
               ["exercise", "label", "notebook", "cell", "points", "graded", "pending",
                "mean_score", "full_share", "zero_share"])
    _write_csv(paths["grading_times"],
               [{"student": s, "seconds": data.seconds.get(s)} for s in data.students],
               ["student", "seconds"])

    figs = report_figures(data)
    svgs = {name: _svg(fig) for name, fig in figs.items()}
    n = len(data.students)
    totals = [data.totals[s][0] for s in data.students]
    most = max(m for _, m in data.totals.values())
    e = html.escape
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
             f"<title>Class report: {e(assignment)}</title><style>{_CSS}</style></head><body>",
             f"<h1>Class report: {e(assignment)}</h1>",
             f"<p>{n} graded submission(s). Total score: mean {statistics.fmean(totals):.2f}, "
             f"median {statistics.median(totals):g}, lowest {min(totals):g}, highest "
             f"{max(totals):g} of {most:g} points.</p>"]
    if data.not_graded:
        parts.append(f"<p><strong>{len(data.not_graded)} submission(s) could not be graded</strong>"
                     f" (listed <a href='#not-graded'>below</a>); they are not in the figures.</p>")
    if diff and diff[0]["attempt_fail_share"] is not None:
        hardest = diff[0]
        parts.append(f"<p><strong>Hardest exercise:</strong> {e(hardest['label'])} — "
                     f"{100 * hardest['attempt_fail_share']:.0f} % of the "
                     f"{hardest['attempted']} attempt(s) fail; mean "
                     f"{100 * hardest['mean_fraction']:.0f} % of its points, "
                     f"{100 * hardest['zero_share']:.0f} % of the class scored zero"
                     + (f", {hardest['not_attempted']} did not attempt it"
                        if hardest["not_attempted"] else "") + ".</p>")
    parts.append("<h2 id='exercises'>Exercises, hardest first</h2><p class='note'>Ranked by the "
                 "share of attempts that fail; a student whose answer cell is still the "
                 "released stub (\u201cnot answered yet\u201d) did not attempt the exercise "
                 "and is counted apart, not as a wrong answer.</p>")
    parts.append(f"<div class='fig'>{svgs['difficulty']}</div>")
    parts.append(_table(diff, ["label", "test_cells", "points", "attempted", "not_attempted",
                               "attempt_fail_share", "mean_score", "mean_fraction",
                               "full_share", "zero_share"],
                        ["exercise", "test cells", "points", "attempted", "not attempted",
                         "attempts failing", "mean score", "mean (% of points)",
                         "full marks", "zero"], percent=("attempt_fail_share", "mean_fraction",
                                                         "full_share", "zero_share")))
    parts.append("<h2 id='mistakes'>What to reteach: wrong attempts by mistake</h2>"
                 "<p class='note'>Per exercise (hardest first), the wrong attempts grouped by the "
                 "mistake the checks name.</p>")
    parts.append(_table(mistakes, ["exercise", "mistake", "count", "share_of_attempts",
                                   "example"],
                        ["exercise", "mistake", "students", "of the attempts", "for example"],
                        percent=("share_of_attempts",)) if mistakes else
                 "<p>No wrong attempt.</p>")
    parts.append("<h2 id='failures'>Most frequent failure messages</h2><p class='note'>Per "
                 "test cell, numbers shown as # and arrays as […] so that one mistake on "
                 "different inputs counts once; up to five per cell here, all in "
                 "failures.csv.</p>")
    if fails:
        parts.append("<table><thead><tr><th>test cell</th><th>exercise</th><th>students</th>"
                     "<th>message</th><th>for example</th></tr></thead><tbody>")
        shown = {}
        for r in fails:
            shown[r["test_cell"]] = shown.get(r["test_cell"], 0) + 1
            if shown[r["test_cell"]] > 5:
                continue
            parts.append(f"<tr><td>{e(r['test_cell'])}</td><td>{e(r['exercise'])}</td>"
                         f"<td>{r['count']} ({100 * r['share']:.0f} %)</td>"
                         f"<td class='msg'>{e(r['message'])}</td>"
                         f"<td class='msg'>{e(r['example'])}</td></tr>")
        parts.append("</tbody></table>")
    else:
        parts.append("<p>No test cell failed.</p>")
    if data.missing_notebooks:
        parts.append(f"<p class='note'>{len(data.missing_notebooks)} autograded notebook(s) "
                     f"not found (their messages are missing): "
                     f"{e(', '.join(f'{s}/{nb}' for s, nb in data.missing_notebooks[:10]))}</p>")
    parts.append("<h2 id='not-graded'>Submissions that could not be graded</h2>")
    parts.append(_table([{"student": st, "reason": why} for st, why in data.not_graded],
                        ["student", "reason"], ["student", "reason"]) if data.not_graded else
                 "<p>Every collected submission was graded.</p>")
    parts.append("<h2 id='written'>Written answers (graded by hand)</h2>")
    if written:
        if "written" in svgs:
            parts.append(f"<div class='fig'>{svgs['written']}</div>")
        parts.append(_table(written, ["label", "points", "graded", "pending", "mean_score",
                                      "full_share", "zero_share"],
                            ["written answer", "points", "graded", "to grade", "mean score",
                             "full marks", "zero"], percent=("full_share", "zero_share")))
    else:
        parts.append("<p>This assignment has no written answers.</p>")
    parts.append("<h2 id='scores'>Score distribution</h2>")
    parts.append(f"<div class='fig'>{svgs['scores']}</div>")
    parts.append("<h2 id='times'>Grading time per student</h2>")
    if "times" in svgs:
        secs = sorted(data.seconds.values())
        parts.append(f"<p>{len(secs)} logged: median {statistics.median(secs):.1f} s, "
                     f"longest {secs[-1]:.1f} s, sum {sum(secs):.0f} s.</p>")
        parts.append(f"<div class='fig'>{svgs['times']}</div>")
    else:
        parts.append("<p>No grading times logged (grade with tools/grade.py to log them).</p>")
    parts.append("<h2 id='students'>Students</h2>")
    parts.append(_table(students, ["student", "automatic_score", "automatic_max",
                                   "written_score", "written_pending", "total_score",
                                   "total_max", "grading_seconds"],
                        ["student", "automatic", "of", "written", "written to grade", "total",
                         "of", "grading s"]))
    parts.append("<h2 id='files'>Data</h2><ul>" + "".join(
        f"<li><a href='{e(p.name)}'>{e(p.name)}</a></li>" for k, p in paths.items()
        if k != "html") + "</ul></body></html>")
    paths["html"].write_text("\n".join(parts), encoding="utf-8")
    return paths
