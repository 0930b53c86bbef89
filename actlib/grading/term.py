"""The instructor's term, one step at a time (``python tools/term.py <step>``, from the course root).

    setup     the gradebook learns every assignment of source/ (as generate_assignment records
              it) and the students of a roster CSV; the exchange folder is made
    release   an assignment goes out through nbgrader's exchange
    collect   the latest submission of every student comes in (submitted/<student>/<assignment>)
    grade     new or changed submissions are autograded, in parallel (actlib.grading.grader.batch)
              (then the written answers are graded by hand in the Formgrader of JupyterLab)
    feedback  feedback is (re)made where the grades changed since it was made
    return    current feedback goes back through the exchange, where it changed
    export    grades.csv from the gradebook (or, with --lms, one column per assignment)
    status    per student: submitted, collected, late, graded, graded by hand, feedback, returned

Deadlines come from a schedule file (``schedule.csv`` in the course root, or ``--schedule``):
one line per assignment with its due date and the course's late-submission penalty (`read_schedule`).
Each step writes the due dates into the gradebook and applies the penalty, as nbgrader's
late-submission plugin does (`PercentPerDayPenalty` is that plugin for "N%/day").

Each step can be run again at any time: it does only what is missing or out of date, so a rerun
after a crash, a late submission or a grade changed by hand does just that work. What was done
is remembered in ``term-state.json`` in the course root (git-ignored): for each submission, the
content hash of what was graded, and the grades (a fingerprint of the gradebook's scores and
comments) that its feedback shows. The gradebook stays the truth: a submission the gradebook
does not hold, or whose autograded notebooks are gone, is graded again whatever the record says.

Every problem is one line naming the step, the student and the reason; the exit status is 0
when everything succeeded, 1 when something failed (the lines say what), 2 for a usage error.
"""
import argparse
import copy
import csv
import datetime
import hashlib
import json
import os
import re
import stat
import sys
import tempfile
import time
from pathlib import Path

from actlib.grading.grader import batch

__all__ = ["Term", "TermError", "main", "read_roster", "read_schedule", "PercentPerDayPenalty",
           "DEFAULT_EXCHANGE", "FORMGRADER"]

DEFAULT_EXCHANGE = "/srv/nbgrader/exchange"
STATE_NAME = "term-state.json"
ROSTER_COLUMNS = ("id", "first_name", "last_name", "email")
STUDENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]*\Z")
SCHEDULE_NAME = "schedule.csv"
SCHEDULE_COLUMNS = ("assignment", "due", "late_penalty")
EXPORT_COLUMNS = ("assignment", "duedate", "timestamp", "student_id", "last_name", "first_name",
                  "email", "raw_score", "late_submission_penalty", "score", "max_score",
                  "answers_to_grade_by_hand", "status", "late", "note")
# Where the written answers are graded by hand (nbgrader >= 0.9 has no `nbgrader formgrade`).
FORMGRADER = ("the Formgrader (actcourse formgrader, or Nbgrader > Formgrader in the "
              "instructor's JupyterLab)")


class TermError(Exception):
    """A problem that stops the step before it starts (a usage error): exit status 2."""


# ------------------------------------------------------------------------------ helpers

def read_roster(path):
    """Students of a roster CSV: a list of dicts with the keys of ``ROSTER_COLUMNS``.

    The header must name ``id`` and may name ``first_name``, ``last_name``, ``email`` (in any
    order). Raises TermError, naming the line, for a missing file, an unknown column, a missing
    or repeated id, or an id nbgrader cannot use as a folder name.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise TermError(f"roster {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TermError(f"roster {path} cannot be read: {exc}") from None
    rows = list(csv.reader(text.splitlines()))
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise TermError(f"roster {path} is empty; it needs a header line naming the columns "
                        f"{', '.join(ROSTER_COLUMNS)} (only id is required)")
    header = [cell.strip().lower() for cell in rows[0]]
    unknown = [name for name in header if name not in ROSTER_COLUMNS]
    if unknown:
        raise TermError(f"roster {path} line 1: unknown column(s) {', '.join(map(repr, unknown))}; "
                        f"allowed: {', '.join(ROSTER_COLUMNS)} (only id is required)")
    if "id" not in header:
        raise TermError(f"roster {path} line 1: no id column; the header must name the columns "
                        f"{', '.join(ROSTER_COLUMNS)} (only id is required)")
    students, seen = [], {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(header):
            raise TermError(f"roster {path} line {number}: {len(row)} fields but the header has "
                            f"{len(header)} (quote a field that holds a comma)")
        record = {name: (row[i].strip() if i < len(row) else "") for i, name in enumerate(header)}
        sid = record["id"]
        if not sid:
            raise TermError(f"roster {path} line {number}: the student id is empty")
        if not STUDENT_ID.match(sid):
            raise TermError(f"roster {path} line {number}: student id {sid!r} is not allowed; ids "
                            f"are letters, digits and . _ @ - (starting with a letter or digit)")
        if sid in seen:
            raise TermError(f"roster {path} line {number}: student id {sid!r} repeats line "
                            f"{seen[sid]}")
        seen[sid] = number
        students.append({name: record.get(name, "") for name in ROSTER_COLUMNS})
    if not students:
        raise TermError(f"roster {path} lists no student")
    return students


PENALTY = re.compile(r"(\d+(?:\.\d+)?)\s*%\s*/\s*day\Z")


def parse_penalty(text):
    """A late-penalty policy: 'none', 'zero' (nbgrader's: a late notebook scores 0) or
    'N%/day' (N per cent of the score per day or part of a day late). None if not one."""
    text = (text or "none").strip().lower()
    if text in ("none", "zero"):
        return text
    m = PENALTY.match(text)
    if m and 0 < float(m.group(1)) <= 100:
        return f"{float(m.group(1)):g}%/day"
    return None


def read_schedule(path):
    """{assignment: {"due": naive UTC datetime, "penalty": policy}} from a schedule CSV.

    Columns: ``assignment,due,late_penalty`` (``late_penalty`` optional, default none). A due
    date is ISO 8601 (``2026-10-05 23:59``, ``2026-10-05T23:59+02:00``); without an offset it
    is this machine's local time. Raises TermError naming the line of anything else."""
    path = Path(path)
    try:
        rows = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))
    except FileNotFoundError:
        raise TermError(f"schedule {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TermError(f"schedule {path} cannot be read: {exc}") from None
    if not rows:
        raise TermError(f"schedule {path} is empty; its header is {','.join(SCHEDULE_COLUMNS)}")
    header = [c.strip().lower() for c in rows[0]]
    if "assignment" not in header or "due" not in header or \
            set(header) - set(SCHEDULE_COLUMNS):
        raise TermError(f"schedule {path} line 1: the header must be "
                        f"{','.join(SCHEDULE_COLUMNS)} (late_penalty optional), not "
                        f"{','.join(header)}")
    found = {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        rec = {name: (row[i].strip() if i < len(row) else "") for i, name in enumerate(header)}
        a = rec["assignment"]
        if a in found:
            raise TermError(f"schedule {path} line {number}: {a} is scheduled twice")
        try:
            due = datetime.datetime.fromisoformat(rec["due"])
        except ValueError:
            raise TermError(f"schedule {path} line {number}: due date {rec['due']!r} is not "
                            f"ISO 8601 (e.g. 2026-10-05 23:59 or 2026-10-05T23:59+02:00)") from None
        due = due.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        penalty = parse_penalty(rec.get("late_penalty"))
        if penalty is None:
            raise TermError(f"schedule {path} line {number}: late_penalty "
                            f"{rec.get('late_penalty')!r} is not none, zero or N%/day")
        found[a] = {"due": due, "penalty": penalty}
    return found


_PLUGIN = []


def _penalty_plugin():
    """`PercentPerDayPenalty`, made on first use (importing nbgrader takes seconds, which
    ``--help`` and usage errors should not pay)."""
    if not _PLUGIN:
        from nbgrader.plugins import BasePlugin
        from traitlets import Float

        class PercentPerDayPenalty(BasePlugin):
            """nbgrader late-submission plugin: ``percent`` per cent of the notebook's score
            per day or part of a day late, at most the score; usable in nbgrader_config.py as
            ``c.AssignLatePenalties.plugin_class``."""

            percent = Float(10.0, help="per cent of the score lost per started day late"
                            ).tag(config=True)

            def late_submission_penalty(self, student_id, score, total_seconds_late):
                if total_seconds_late <= 0:
                    return None
                days = -(-total_seconds_late // 86400)
                return min(score, score * self.percent / 100.0 * days)

        PercentPerDayPenalty.__module__ = __name__
        _PLUGIN.append(PercentPerDayPenalty)
    return _PLUGIN[0]


def __getattr__(name):
    if name == "PercentPerDayPenalty":
        return _penalty_plugin()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def late_penalty(policy, score, seconds_late):
    """The penalty of one notebook under ``policy`` (None: no penalty), with nbgrader's
    plugins: LateSubmissionPlugin for none and zero, PercentPerDayPenalty for N%/day."""
    if seconds_late <= 0 or policy in (None, "none"):
        return None
    if policy == "zero":
        return score
    return _penalty_plugin()(percent=float(policy.split("%")[0])).late_submission_penalty(
        "", score, seconds_late)


def late_text(seconds):
    """'2 d 3 h late', '20 min late', '' when on time."""
    if not seconds or seconds <= 0:
        return ""
    minutes = int(-(-seconds // 60))
    days, rest = divmod(minutes, 1440)
    hours, minutes = divmod(rest, 60)
    parts = [f"{days} d"] * bool(days) + [f"{hours} h"] * bool(hours) + [f"{minutes} min"] * bool(minutes)
    return " ".join(parts[:2]) + " late"


def folder_hash(folder):
    """SHA-256 of a folder's files (relative paths and contents), or None if it does not exist."""
    folder = Path(folder)
    if not folder.is_dir():
        return None
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()
                       and ".ipynb_checkpoints" not in p.parts):
        digest.update(str(path.relative_to(folder)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def files_hash(paths):
    """SHA-256 of the given files' names and contents (None if any is missing)."""
    digest = hashlib.sha256()
    for path in sorted(Path(p) for p in paths):
        if not path.is_file():
            return None
        digest.update(path.name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def last_error(text):
    """The most telling line of nbgrader's output: its last exception or error line."""
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    lines = [ln for ln in lines if "Please see the" not in ln] or lines
    raised = [ln for ln in lines if re.match(r"^[\w.]*(Error|Exception|Exit)\b[^ ]*: ", ln)]
    errors = [ln for ln in lines if "[ERROR]" in ln or "Error" in ln]
    line = (raised or errors or lines or ["unknown error"])[-1]
    return re.sub(r"^\[[A-Za-z]+ \| (ERROR|WARNING|INFO)\] ", "", line)


def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


# ------------------------------------------------------------------------------ the term

class Term:
    """One course directory, its gradebook, its exchange and the record of what was done.

    ``say`` receives every progress and result line; ``failures`` collects the one-line
    reports of what failed (the caller's exit status is 1 when there are any).
    """

    def __init__(self, root=".", course_id=None, exchange=None, say=print, schedule=None):
        self.root = Path(root).resolve()
        if not (self.root / "nbgrader_config.py").is_file() or not (self.root / "source").is_dir():
            raise TermError(f"{self.root} is not the course directory (it needs nbgrader_config.py "
                            f"and source/): run from the course root or pass --root DIR")
        self.say = say
        self.failures = []
        # nbgrader runs the `alembic` command of its environment when it makes a gradebook;
        # put this interpreter's bin folder first on PATH, so it is found without an activated venv.
        bindir = str(Path(sys.executable).parent)
        if os.environ.get("PATH", "").split(os.pathsep)[0] != bindir:
            os.environ["PATH"] = os.pathsep.join([bindir, os.environ.get("PATH", "")])
        self._course_id, self._exchange, self._config = course_id, exchange, None
        self.schedule_path = Path(schedule).resolve() if schedule else self.root / SCHEDULE_NAME
        self._schedule = read_schedule(self.schedule_path) if (
            schedule or self.schedule_path.is_file()) else {}
        self.state_path = self.root / STATE_NAME
        self.state = self._load_state()

    @property
    def config(self):
        """The course's nbgrader configuration with the course id and exchange of this run
        (loaded on first use, so that usage errors are reported without loading nbgrader)."""
        if self._config is None:
            try:
                config = batch.load_config(self.root)
            except Exception as exc:  # noqa: BLE001 - a broken config file: say so in one line
                raise TermError(f"nbgrader_config.py cannot be loaded: {type(exc).__name__}: "
                                f"{exc}") from None
            if self._course_id:
                config.CourseDirectory.course_id = self._course_id
            if not config.CourseDirectory.get("course_id", ""):
                raise TermError("no course id: set c.CourseDirectory.course_id in "
                                "nbgrader_config.py or pass --course ID")
            if self._exchange:
                config.Exchange.root = str(Path(self._exchange).resolve())
            elif "root" not in config.Exchange:
                config.Exchange.root = self.configured_exchange() or DEFAULT_EXCHANGE
            self._config = config
        return self._config

    @staticmethod
    def configured_exchange():
        """The exchange root set in the Jupyter configuration nbgrader reads for this user
        (``nbgrader_config.py``/``.json`` on the Jupyter config path, e.g. ~/.jupyter or
        /etc/jupyter), or None."""
        from jupyter_core.paths import jupyter_config_path
        from traitlets.config.loader import JSONFileConfigLoader, PyFileConfigLoader

        for folder in jupyter_config_path():  # the first folder has the highest priority
            for loader in (PyFileConfigLoader, JSONFileConfigLoader):
                name = "nbgrader_config." + ("py" if loader is PyFileConfigLoader else "json")
                if not (Path(folder) / name).is_file():
                    continue
                try:
                    root = loader(name, path=folder).load_config().Exchange.get("root")
                except Exception:  # noqa: BLE001 - a broken user file: nbgrader would say so
                    continue
                if root:
                    return str(root)
        return None

    @config.setter
    def config(self, value):
        self._config = value

    @property
    def course_id(self):
        """The course id (nbgrader's; students give it to fetch and submit)."""
        return self.config.CourseDirectory.course_id

    @property
    def exchange(self):
        """The exchange root folder."""
        return Path(self.config.Exchange.root)

    @property
    def db_url(self):
        """The gradebook's database URL."""
        return self.config.CourseDirectory.db_url

    # -- plumbing

    def fail(self, step, who, reason):
        """Report one failure (``FAILED <step> <who>: <reason>``) and remember it."""
        line = f"FAILED {step} {who}: {reason}"
        self.failures.append(line)
        self.say(line)

    def _load_state(self):
        if not self.state_path.exists():
            return {"version": 1, "assignments": {}}
        try:
            state = json.loads(self.state_path.read_text(encoding="utf-8"))
            if not isinstance(state.get("assignments"), dict):
                raise ValueError("no 'assignments' object")
        except (OSError, ValueError) as exc:
            raise TermError(f"{STATE_NAME} is damaged ({exc}); move it away and rerun: the steps "
                            f"rebuild it (grading and making feedback once more)") from None
        return state

    def save_state(self):
        """Write the record atomically (a crash leaves the old or the new one, never half)."""
        tmp = self.state_path.with_name(STATE_NAME + ".tmp")
        tmp.write_text(json.dumps(self.state, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.state_path)

    def record(self, assignment, student):
        """The mutable record of one submission in ``term-state.json``."""
        return self.state["assignments"].setdefault(assignment, {}).setdefault(student, {})

    def api(self, **coursedir):
        """An `nbgrader.apps.NbGraderAPI` on this course (``coursedir`` overrides traits of
        `CourseDirectory`, e.g. ``release_directory``)."""
        from nbgrader.apps import NbGraderAPI
        from nbgrader.coursedir import CourseDirectory

        config = copy.deepcopy(self.config)
        for name, value in coursedir.items():
            setattr(config.CourseDirectory, name, value)
        return NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)

    def gradebook(self):
        """The course's nbgrader gradebook (use as a context manager)."""
        from nbgrader.api import Gradebook

        return Gradebook(self.db_url, self.course_id)

    def assignments(self):
        """Assignment ids: the folders of source/ holding a notebook, in course order."""
        source = self.root / "source"
        return sorted(p.name for p in source.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))

    def check_assignment(self, assignment):
        """Raise TermError unless ``assignment`` is a folder of source/."""
        known = self.assignments()
        if assignment not in known:
            raise TermError(f"unknown assignment {assignment!r}: source/ has "
                            f"{', '.join(known) or 'none'}")

    def notebooks(self, assignment):
        """Names (without .ipynb) of the notebooks of ``assignment``."""
        return batch.notebook_names(assignment, self.root)

    def folder(self, kind, student, assignment):
        """``<root>/<kind>/<student>/<assignment>`` (kind: submitted, autograded, feedback)."""
        return self.root / kind / student / assignment

    def submission(self, gb, assignment, student):
        """The gradebook's submission of ``student`` for ``assignment``, or None."""
        from nbgrader.api import MissingEntry

        try:
            return gb.find_submission(assignment, student)
        except MissingEntry:
            return None

    # -- what the gradebook says about one submission

    @staticmethod
    def fingerprint(submission):
        """A hash of everything a feedback page shows from the gradebook: every cell's scores
        (automatic, by hand, extra credit), every comment, the late penalty, the timestamp."""
        items = [str(submission.timestamp), repr(submission.late_submission_penalty)]
        for nb in sorted(submission.notebooks, key=lambda n: n.name):
            for g in sorted(nb.grades, key=lambda g: g.name):
                items.append(f"g|{nb.name}|{g.name}|{g.auto_score!r}|{g.manual_score!r}|"
                             f"{g.extra_credit!r}")
            for c in sorted(nb.comments, key=lambda c: c.name):
                items.append(f"c|{nb.name}|{c.name}|{c.auto_comment!r}|{c.manual_comment!r}")
        return hashlib.sha256("\n".join(items).encode()).hexdigest()

    @staticmethod
    def hand_grading(submission):
        """(answers graded by hand, answers to grade by hand in all) of a submission: the cells
        nbgrader leaves to a person (written answers), counted as nbgrader's formgrader does."""
        cells = [g for nb in submission.notebooks for g in nb.grades
                 if g.cell_type == "markdown" or g.auto_score is None]
        return sum(1 for g in cells if not g.needs_manual_grade), len(cells)

    def is_graded(self, gb, assignment, student):
        """Whether the submission in submitted/ is the one the gradebook holds grades of: the
        term graded exactly these files, or (graded elsewhere: the Formgrader, tools/grade.py,
        nbgrader autograde) every autograded notebook was written after these files came in."""
        rec = self.record(assignment, student).get("graded", {})
        folder = self.folder("submitted", student, assignment)
        current = folder_hash(folder)
        autograded = [self.folder("autograded", student, assignment) / f"{nb}.ipynb"
                      for nb in self.notebooks(assignment)]
        if (current is None or self.submission(gb, assignment, student) is None
                or not all(p.is_file() for p in autograded)):
            return False
        if rec.get("hash") == current:
            return True
        came_in = max((p.stat().st_ctime for p in folder.rglob("*") if p.is_file()), default=0)
        return min(p.stat().st_mtime for p in autograded) >= came_in

    def feedback_files(self, assignment, student):
        """The feedback pages of one submission (one per notebook; they may not exist)."""
        folder = self.folder("feedback", student, assignment)
        return [folder / f"{nb}.html" for nb in self.notebooks(assignment)]

    def feedback_state(self, gb, assignment, student):
        """'current', 'stale' (grades or submission changed since it was made) or 'none'."""
        files = self.feedback_files(assignment, student)
        if not all(p.is_file() for p in files):
            return "none"
        sub = self.submission(gb, assignment, student)
        rec = self.record(assignment, student).get("feedback", {})
        graded = self.record(assignment, student).get("graded", {}).get("hash")
        submitted = folder_hash(self.folder("submitted", student, assignment))
        if graded and submitted and graded != submitted and not self.is_graded(gb, assignment,
                                                                               student):
            return "stale"  # a newer submission came in: its grades are not these
        if sub is None:
            return "stale"
        if not rec.get("grades"):
            # made outside the term (the Formgrader, tools/grade.py): current when every page
            # was written after grading and shows the gradebook's score of its notebook
            return "current" if self._pages_match(sub, files) else "stale"
        if rec.get("grades") != self.fingerprint(sub) or rec.get("html") != files_hash(files):
            return "stale"
        return "current"

    def _pages_match(self, sub, files):
        # nbgrader's feedback shows the score less the late penalty
        scores = {nb.name: nb.score - (nb.late_submission_penalty or 0) for nb in sub.notebooks}
        for page in files:
            autograded = self.folder("autograded", sub.student.id, sub.assignment.name) / (
                page.stem + ".ipynb")
            if not autograded.is_file() or page.stat().st_mtime < autograded.stat().st_mtime:
                return False
            shown = re.search(r"\(Score: ([0-9.]+) / [0-9.]+\)", page.read_text(errors="replace"))
            if not shown or abs(float(shown.group(1)) - scores.get(page.stem, -1)) > 1e-6:
                return False
        return True

    # -- deadlines, late work, the exchange's state

    def schedule(self, assignment):
        """{"due": naive UTC datetime, "penalty": policy} of ``assignment`` from the schedule
        file, or None when it is not scheduled there."""
        return self._schedule.get(assignment)

    def apply_schedule(self, gb, assignment):
        """Write the schedule's due date of ``assignment`` into the gradebook and set every
        submitted notebook's late penalty by the schedule's policy (from the current score, so
        that grading by hand after autograde is penalised too). An assignment the schedule does
        not list keeps what nbgrader set. Returns the number of penalties changed."""
        plan = self.schedule(assignment)
        if plan is None or not self._known(gb, assignment):
            return 0
        a = gb.find_assignment(assignment)
        if a.duedate != plan["due"]:
            a.duedate = plan["due"]
            gb.db.commit()
        changed = 0
        for sub in a.submissions:
            seconds = sub.total_seconds_late
            for nb in sub.notebooks:
                want = late_penalty(plan["penalty"], nb.score, seconds)
                if want is not None:
                    want = max(0.0, min(float(nb.score), float(want)))
                if nb.late_submission_penalty != want:
                    nb.late_submission_penalty = want
                    changed += 1
        if changed:
            gb.db.commit()
        return changed

    def collected_timestamp(self, student, assignment):
        """The submission time of the collected submission (its timestamp.txt), or ''."""
        path = self.folder("submitted", student, assignment) / "timestamp.txt"
        try:
            return path.read_text(encoding="utf-8").strip()
        except OSError:
            return ""

    def waiting(self, assignment):
        """{student: timestamp} of submissions in the exchange newer than what was collected."""
        from nbgrader.utils import parse_utc

        found = {}
        for student, stamp in self.inbound(assignment).items():
            have = self.collected_timestamp(student, assignment)
            try:
                newer = not have or parse_utc(stamp) > parse_utc(have)
            except (ValueError, TypeError, OverflowError):
                newer = stamp != have
            if newer:
                found[student] = stamp
        return found

    def not_graded_reason(self, gb, assignment, student):
        """Why a collected submission has no grades (None when it has them or is not there):
        the last grading failure logged, or what is wrong with its files."""
        if not self.folder("submitted", student, assignment).is_dir():
            return None
        if self.submission(gb, assignment, student) is not None and self.is_graded(gb, assignment, student):
            return None
        reason = batch.precheck(assignment, student, self.root)
        if reason:
            return reason
        entry = batch.read_grading_log(self.root, assignment).get(student)
        if entry and not entry.get("ok"):
            return entry.get("message") or "grading failed"
        if self.submission(gb, assignment, student) is not None:
            return "changed since graded: run term.py grade"
        return "not graded yet: run term.py grade"

    def check_exchange_owner(self, step):
        """Fail ``step`` (and return False) when the exchange's folder of this course belongs
        to another account: nbgrader would stop with "You don't own the directory"."""
        folder = self.exchange / self.course_id
        try:
            owner = folder.stat().st_uid
        except OSError:
            return True
        if owner == os.geteuid():
            return True
        import pwd

        def name(uid):
            try:
                return pwd.getpwuid(uid).pw_name
            except KeyError:
                return f"uid {uid}"

        self.fail(step, self.course_id,
                  f"the exchange's course folder {folder} belongs to {name(owner)}, not to you "
                  f"({name(os.geteuid())}): one course, one exchange — run the term as "
                  f"{name(owner)}, or give this course its own exchange (--exchange DIR)")
        return False

    def shared_accounts(self):
        """{student: [other students]} for students whose submissions in the exchange were made
        from the same OS account as another student's: nbgrader fetch_feedback on that account
        fetches the feedback of every submission the account made, whatever --student says."""
        folder = self.exchange / self.course_id / "inbound"
        by_uid = {}
        if folder.is_dir():
            for entry in folder.iterdir():
                try:
                    uid = entry.stat().st_uid
                except OSError:
                    continue
                by_uid.setdefault(uid, set()).add(entry.name.split("+")[0])
        shared = {}
        for students in by_uid.values():
            if len(students) > 1:
                for s in students:
                    shared[s] = sorted(students - {s})
        return shared

    # -- setup

    def ensure_exchange(self):
        """Make the exchange root if it is missing: mode 1777, writable by every user (as
        nbgrader wants it), and, with the sticky bit, no one removes another's files. Return
        the reason it cannot be used, or None."""
        root = self.exchange
        try:
            if not root.is_dir():
                root.mkdir(parents=True)
                root.chmod(0o1777)
                self.say(f"made the exchange {root} (mode 1777: every user writes their own "
                         f"submission there, and removes no one else's)")
            elif stat.S_IMODE(root.stat().st_mode) & 0o777 != 0o777:
                if os.geteuid() == root.stat().st_uid or os.geteuid() == 0:
                    root.chmod(0o1777)
                    self.say(f"set the exchange {root} to mode 1777 (students must write there)")
                else:
                    return (f"the exchange {root} is not writable by everyone; its owner must run: "
                            f"chmod 1777 {root}")
        except PermissionError:
            return (f"cannot make the exchange {root}: permission denied; run as root: "
                    f"mkdir -p {root} && chmod 1777 {root}")
        except OSError as exc:
            return f"cannot make the exchange {root}: {exc.strerror or exc}"
        return None

    def record_assignment(self, assignment):
        """Record ``assignment`` in the gradebook as ``nbgrader generate_assignment`` does (its
        notebooks, graded cells, points), writing the generated release to a scratch folder; and
        check that notebooks/<assignment> is that release. Returns the reason of a failure or
        None."""
        with tempfile.TemporaryDirectory(prefix="term-release-") as tmp:
            result = self.api(release_directory=tmp).generate_assignment(
                assignment, force=True, create=True)
            if not result.get("success"):
                return ("nbgrader generate_assignment failed: "
                        + last_error(result.get("log", "") + result.get("error", "")))
            fresh, committed = Path(tmp) / assignment, self.root / "notebooks" / assignment
            if folder_hash(fresh) != folder_hash(committed):
                return (f"notebooks/{assignment} is not what source/{assignment} generates (the "
                        f"gradebook now follows source/): run python tools/regenerate.py "
                        f"{assignment} before releasing")
        return None

    def ensure_recorded(self, assignment, step):
        """Record ``assignment`` in the gradebook if it is not there yet (a fresh clone)."""
        with self.gradebook() as gb:
            known = self._known(gb, assignment)
        if not known:
            self.say(f"the gradebook does not know {assignment} yet: recording it from "
                     f"source/{assignment} (as setup does)")
            reason = self.record_assignment(assignment)
            if reason:
                self.fail(step, assignment, reason)
                return False
        return True

    def setup(self, roster=None, assignments=None, exchange=True):
        """Record every assignment (or those given) and the roster's students in the gradebook;
        make the exchange. Adds and updates, never removes: grades are kept."""
        students = read_roster(roster) if roster else []
        wanted = assignments or self.assignments()
        for a in wanted:
            self.check_assignment(a)
        if exchange:
            reason = self.ensure_exchange()
            if reason:
                self.fail("setup", "exchange", reason)
            elif self.check_exchange_owner("setup"):
                self.say(f"exchange: {self.exchange} (course id {self.course_id})")
        recorded = self.state.setdefault("recorded", {})
        for a in wanted:
            sources = (folder_hash(self.root / "source" / a), folder_hash(self.root / "notebooks" / a))
            with self.gradebook() as gb:
                known = self._known(gb, a)
            if known and recorded.get(a) == list(sources):
                self.say(f"assignment {a}: already recorded, source/ and notebooks/ unchanged")
                continue
            reason = self.record_assignment(a)
            if reason:
                recorded.pop(a, None)
                self.fail("setup", a, reason)
            else:
                recorded[a] = list(sources)
                self.say(f"assignment {a}: recorded in the gradebook")
            self.save_state()
        if students:
            added = updated = 0
            with self.gradebook() as gb:
                before = {s.id for s in gb.students}
                for s in students:
                    fields = {k: v for k, v in s.items() if k != "id" and v}
                    gb.update_or_create_student(s["id"], **fields)
                    if s["id"] in before:
                        updated += 1
                    else:
                        added += 1
                kept = sorted(before - {s["id"] for s in students})
            self.say(f"students: {added} added, {updated} updated from {roster}")
            if kept:
                self.say(f"note: in the gradebook but not in the roster (kept): {', '.join(kept)}")
        unknown = sorted(set(self._schedule) - set(self.assignments()))
        if unknown:
            self.fail("setup", "schedule", f"{self.schedule_path} names assignment(s) source/ "
                      f"does not have: {', '.join(unknown)}")
        with self.gradebook() as gb:
            for a in wanted:
                plan = self.schedule(a)
                if plan is None:
                    continue
                self.apply_schedule(gb, a)
                self.say(f"assignment {a}: due {plan['due']:%Y-%m-%d %H:%M} UTC, late "
                         f"penalty {plan['penalty']}")
            self.say(f"gradebook: {len(gb.assignments)} assignment(s), {len(gb.students)} "
                     f"student(s) ({self.db_url.split('?')[0]})")

    # -- release

    def release(self, assignment, force=False):
        """Copy notebooks/<assignment> to the exchange's outbound folder, unless it is there
        already unchanged (or ``force``)."""
        self.check_assignment(assignment)
        reason = self.ensure_exchange()
        if reason:
            self.fail("release", assignment, reason)
            return
        if not self.check_exchange_owner("release"):
            return
        if not self.ensure_recorded(assignment, "release"):
            return
        outbound = self.exchange / self.course_id / "outbound" / assignment
        local = self.root / "notebooks" / assignment
        if not force and folder_hash(outbound) == folder_hash(local):
            self.say(f"{assignment} is already released to {self.course_id}, unchanged")
            return
        again = outbound.is_dir()
        config_force = copy.deepcopy(self.config)
        config_force.ExchangeReleaseAssignment.force = True
        saved, self.config = self.config, config_force
        try:
            result = self.api().release_assignment(assignment)
        finally:
            self.config = saved
        if not result.get("success"):
            self.fail("release", assignment, last_error(result.get("log", "") + result.get("error", "")))
            return
        self.say(f"{'re-released' if again else 'released'} {assignment} to course "
                 f"{self.course_id} in {self.exchange}; students: nbgrader fetch_assignment "
                 f"{assignment} --course {self.course_id}")

    # -- collect

    def inbound(self, assignment):
        """{student: latest timestamp} of the submissions of ``assignment`` in the exchange."""
        folder = self.exchange / self.course_id / "inbound"
        found = {}
        if folder.is_dir():
            for entry in folder.glob(f"*+{assignment}+*"):
                parts = entry.name.rsplit("+", 3)
                if len(parts) >= 3 and parts[1] == assignment:
                    found[parts[0]] = max(found.get(parts[0], ""), parts[2])
        return found

    def collect(self, assignment):
        """Copy each student's latest submission from the exchange to submitted/ (a newer one
        replaces the older); say who is new, updated or unchanged."""
        self.check_assignment(assignment)
        if not self.ensure_recorded(assignment, "collect"):
            return
        inbound = self.exchange / self.course_id / "inbound"
        if not inbound.is_dir():
            self.fail("collect", assignment, f"the exchange has no course {self.course_id} "
                      f"({inbound} does not exist): run term.py release {assignment} first")
            return
        waiting = self.inbound(assignment)
        before = {s: folder_hash(self.folder("submitted", s, assignment)) for s in waiting}
        config = copy.deepcopy(self.config)
        config.ExchangeCollect.check_owner = False  # students may share an OS account (--student)
        saved, self.config = self.config, config
        try:
            result = self.api().collect(assignment, update=True)
        finally:
            self.config = saved
        if not result.get("success"):
            self.fail("collect", assignment, last_error(result.get("log", "") + result.get("error", "")))
            return
        counts = {"new": 0, "updated": 0, "unchanged": 0}
        with self.gradebook() as gb:
            roster = {s.id for s in gb.students}
        for student in sorted(waiting):
            after = folder_hash(self.folder("submitted", student, assignment))
            if after is None:
                self.fail("collect", student, "the submission was not copied to submitted/ "
                          "(see nbgrader collect's log)")
                continue
            kind = ("new" if before[student] is None else
                    "unchanged" if before[student] == after else "updated")
            counts[kind] += 1
            note = "" if student in roster else " (not on the roster)"
            self.say(f"collected {student}: {kind} (submitted {waiting[student]}){note}")
        self.say(f"{assignment}: {counts['new']} new, {counts['updated']} updated, "
                 f"{counts['unchanged']} unchanged submission(s)")

    # -- grade

    def grade(self, assignment, students=None, workers=None, force=False, student_timeout=1800.0,
              isolation=True):
        """Autograde the submissions of ``assignment`` that are new or changed since graded
        (all with ``force``), in parallel, with `actlib.grading.grader.batch.grade_class`."""
        from actlib.grading.grader.sandbox import check_isolation

        self.check_assignment(assignment)
        for s, stamp in sorted(self.waiting(assignment).items()):
            if not students or s in students:
                self.fail("grade", s, f"a newer submission ({stamp}) waits in the exchange: "
                          f"run term.py collect {assignment} first")
        submitted = batch.students_of(assignment, self.root)
        if students:
            for s in students:
                if s not in submitted:
                    self.fail("grade", s, f"no submission in submitted/{s}/{assignment}")
            candidates = [s for s in students if s in submitted]
        else:
            candidates = submitted
        if not candidates:
            if not students:
                self.say(f"no submissions of {assignment} in {self.root / 'submitted'} "
                         f"(run term.py collect {assignment})")
            return
        if not self.ensure_recorded(assignment, "grade"):
            return
        with self.gradebook() as gb:
            todo = [s for s in candidates if force or not self.is_graded(gb, assignment, s)]
        if not todo:
            self.say(f"all {len(candidates)} collected submission(s) of {assignment} are graded "
                     f"and unchanged: nothing to grade (--force grades them again)")
            return
        if isolation:
            reason = check_isolation()
            if reason:
                raise TermError(f"cannot grade safely: {reason}; use a Linux host with user "
                                f"namespaces, or pass --unsafe-no-isolation")
        else:
            os.environ["ACTLIB_GRADING_ISOLATION"] = "off"
        hashes = {s: folder_hash(self.folder("submitted", s, assignment)) for s in todo}
        skipped = len(candidates) - len(todo)
        workers = max(1, min(workers or os.cpu_count() or 1, len(todo)))
        self.say(f"grading {len(todo)} submission(s) of {assignment} with {workers} worker(s)"
                 + (f"; {skipped} unchanged since graded" if skipped else ""))
        start = time.monotonic()

        def progress(line):
            """Show the line; record a student as graded as soon as their line says so, so that
            a run stopped half-way (a crash, Ctrl-C) resumes with the others."""
            self.say(line)
            done = re.match(r"\[\d+/\d+\] graded\s+(\S+): ", line)
            if done and done.group(1) in hashes:
                self.record(assignment, done.group(1))["graded"] = {
                    "hash": hashes[done.group(1)], "at": _now()}
                self.save_state()

        results = batch.grade_class(self.root, assignment, todo, workers=workers, feedback=False,
                                    student_timeout=student_timeout, progress=progress)
        for r in results:
            if r.ok:
                self.record(assignment, r.student)["graded"] = {
                    "hash": hashes[r.student], "at": _now(), "score": r.score,
                    "max_score": r.max_score}
            else:
                self.record(assignment, r.student).pop("graded", None)
                self.fail("grade", r.student, r.message)
        self.save_state()
        with self.gradebook() as gb:
            self.apply_schedule(gb, assignment)
            late = [f"{r.student} ({late_text(self.submission(gb, assignment, r.student).total_seconds_late)})"
                    for r in results if r.ok and self.submission(gb, assignment, r.student)
                    is not None and self.submission(gb, assignment, r.student).total_seconds_late > 0]
        if late:
            plan = self.schedule(assignment)
            self.say(f"late: {', '.join(late)}; penalty: "
                     f"{plan['penalty'] if plan else 'as nbgrader_config.py sets it'}")
        ok = sum(r.ok for r in results)
        self.say(f"{ok} of {len(todo)} submission(s) graded in {time.monotonic() - start:.1f} s; "
                 f"next: grade the written answers in {FORMGRADER}, then term.py feedback "
                 f"{assignment}")

    # -- feedback

    def graded_students(self, assignment, students=None):
        """Students with a graded submission of ``assignment`` (those given, checked)."""
        with self.gradebook() as gb:
            graded = sorted({sub.student.id for sub in gb.find_assignment(assignment).submissions}
                            ) if self._known(gb, assignment) else []
        if students:
            return [s for s in students if s in graded], [s for s in students if s not in graded]
        return graded, []

    @staticmethod
    def _known(gb, assignment):
        """Whether the gradebook ``gb`` holds ``assignment`` with its notebooks."""
        from nbgrader.api import MissingEntry

        try:
            return bool(gb.find_assignment(assignment).notebooks)
        except MissingEntry:
            return False

    def ungraded_answers(self, gb, assignment, student):
        """The reason feedback of ``student`` is not final yet (written answers not graded by
        hand), or None."""
        sub = self.submission(gb, assignment, student)
        done, total = self.hand_grading(sub) if sub is not None else (0, 0)
        if done == total:
            return None
        return (f"{total - done} of {total} written answer(s) not graded by hand yet: grade "
                f"them in {FORMGRADER}, or pass --allow-ungraded")

    def feedback(self, assignment, students=None, force=False, allow_ungraded=False):
        """Make the feedback of every graded submission whose feedback is missing or older than
        its grades (all with ``force``), with nbgrader's generate_feedback. A submission with
        written answers still to grade by hand is refused unless ``allow_ungraded``."""
        self.check_assignment(assignment)
        graded, missing = self.graded_students(assignment, students)
        for s in missing:
            self.fail("feedback", s, f"no graded submission of {assignment} (run term.py grade "
                      f"{assignment})")
        todo = []
        with self.gradebook() as gb:
            self.apply_schedule(gb, assignment)
            for s in graded:
                if (self.folder("submitted", s, assignment).is_dir()
                        and not self.is_graded(gb, assignment, s)):
                    self.fail("feedback", s, f"submitted/{s}/{assignment} changed since it was "
                              f"graded: run term.py grade {assignment} first")
                    continue
                if not (self.folder("autograded", s, assignment)).is_dir():
                    self.fail("feedback", s, f"autograded/{s}/{assignment} is missing: run "
                              f"term.py grade {assignment} --student {s}")
                    continue
                if force or self.feedback_state(gb, assignment, s) != "current":
                    why = None if allow_ungraded else self.ungraded_answers(gb, assignment, s)
                    if why:
                        self.fail("feedback", s, why)
                        continue
                    todo.append(s)
        current = len(graded) - len(todo) - sum(
            1 for line in self.failures if line.startswith("FAILED feedback "))
        if not todo:
            if self.failures:
                return
            if graded:
                self.say(f"feedback of all {len(graded)} graded submission(s) of {assignment} "
                         f"is current: nothing to make (--force makes it again)")
            else:
                self.say(f"no graded submissions of {assignment}")
            return
        self.say(f"making feedback for {len(todo)} submission(s) of {assignment}"
                 + (f"; {current} current" if current else ""))
        api = self.api()
        for i, s in enumerate(todo, start=1):
            start = time.monotonic()
            result = api.generate_feedback(assignment, s, force=True)
            files = self.feedback_files(assignment, s)
            if not result.get("success") or not all(p.is_file() for p in files):
                self.record(assignment, s).pop("feedback", None)
                self.fail("feedback", s, "nbgrader generate_feedback failed: "
                          + last_error(result.get("log", "") + result.get("error", "")))
                continue
            with self.gradebook() as gb:
                sub = self.submission(gb, assignment, s)
                done, total = self.hand_grading(sub)
                score, max_score = sub.score, sub.max_score
                self.record(assignment, s)["feedback"] = {
                    "grades": self.fingerprint(sub), "html": files_hash(files), "at": _now()}
            note = "" if done == total else f"; {total - done} of {total} answers not yet graded by hand"
            self.say(f"[{i}/{len(todo)}] feedback  {s}: {score:g} / {max_score:g}{note} "
                     f"({time.monotonic() - start:.1f} s)")
            self.save_state()
        self.save_state()

    # -- return

    def return_feedback(self, assignment, students=None, force=False, allow_ungraded=False):
        """Release current feedback through the exchange, where it changed since last returned
        (all with ``force``). Refused: stale feedback (it would not match the grades), feedback
        with written answers not graded by hand (unless ``allow_ungraded``), and the feedback of
        students who submitted from an account another student submitted from (nbgrader would
        give that account everyone's feedback)."""
        self.check_assignment(assignment)
        graded, missing = self.graded_students(assignment, students)
        for s in missing:
            self.fail("return", s, f"no graded submission of {assignment}")
        if not graded and not missing:
            self.fail("return", assignment, f"nothing to return: no graded submission of "
                      f"{assignment} (run term.py collect, grade and feedback {assignment} first)")
            return
        reason = self.ensure_exchange()
        if reason:
            self.fail("return", assignment, reason)
            return
        if not self.check_exchange_owner("return"):
            return
        shared = self.shared_accounts()
        api, returned, unchanged = None, 0, 0
        for s in graded:
            with self.gradebook() as gb:
                self.apply_schedule(gb, assignment)
                state = self.feedback_state(gb, assignment, s)
                ungraded = None if allow_ungraded else self.ungraded_answers(gb, assignment, s)
            if state != "current":
                why = ("there is no feedback" if state == "none" else
                       "the feedback is older than the grades")
                self.fail("return", s, f"{why}: run term.py feedback {assignment} first")
                continue
            if ungraded:
                self.fail("return", s, ungraded)
                continue
            if s in shared:
                self.fail("return", s, f"{s} submitted from the same OS account as "
                          f"{', '.join(shared[s])}: nbgrader fetch_feedback on that account "
                          f"would fetch all their feedback, whatever --student says. Feedback "
                          f"through the exchange needs one account per student; give "
                          f"feedback/{s}/{assignment}/*.html to {s} yourself")
                continue
            folder = self.folder("feedback", s, assignment)
            if not ((folder / "timestamp.txt").is_file()
                    and (folder / "submission_secret.txt").is_file()):
                self.fail("return", s, f"the submission did not come through the exchange (no "
                          f"submission_secret.txt): send feedback/{s}/{assignment}/*.html to the "
                          f"student yourself")
                continue
            html = files_hash(self.feedback_files(assignment, s))
            rec = self.record(assignment, s)
            if not force and rec.get("returned", {}).get("html") == html:
                unchanged += 1
                continue
            api = api or self.api()
            result = api.release_feedback(assignment, s)
            if not result.get("success"):
                self.fail("return", s, last_error(result.get("log", "") + result.get("error", "")))
                continue
            rec["returned"] = {"html": html, "at": _now()}
            self.save_state()
            returned += 1
            self.say(f"returned feedback to {s}")
        if not returned and not unchanged:
            return
        self.say(f"{assignment}: feedback returned to {returned} student(s)"
                 + (f", {unchanged} already had it" if unchanged else "")
                 + f"; students: nbgrader fetch_feedback {assignment} --course {self.course_id}")

    # -- export

    def export_rows(self, assignments=None):
        """One dict per (assignment, student) of the gradebook, with ``EXPORT_COLUMNS``: the
        columns of ``nbgrader export``; the answers still to grade by hand; ``status`` (graded,
        not submitted, not graded — a collected submission without grades, whose scores are
        left empty, never 0 —, changed since graded, newer submission waiting); ``late`` (how
        late, empty when on time) and a ``note`` (why a submission is not graded)."""
        rows = []
        with self.gradebook() as gb:
            names = [a.name for a in gb.assignments]
            for a in assignments or []:
                if a not in names:
                    raise TermError(f"the gradebook has no assignment {a!r} (it has "
                                    f"{', '.join(names) or 'none'}; run term.py setup)")
            people = {s.id: s for s in gb.students}
            for assignment in gb.assignments:
                if assignments and assignment.name not in assignments:
                    continue
                a = assignment.name
                self.apply_schedule(gb, a)
                waiting = self.waiting(a) if a in self.assignments() else {}
                ids = sorted(set(people) | set(batch.students_of(a, self.root)))
                for sid in ids:
                    student = people.get(sid)
                    sub = self.submission(gb, a, sid)
                    row = {"assignment": a, "duedate": assignment.duedate or "",
                           "student_id": sid,
                           "last_name": (student.last_name or "") if student else "",
                           "first_name": (student.first_name or "") if student else "",
                           "email": (student.email or "") if student else "",
                           "max_score": assignment.max_score, "late": "", "note": ""}
                    reason = (self.not_graded_reason(gb, a, sid)
                              if a in self.assignments() else None)
                    if sub is None and reason is None:
                        row.update(timestamp="", raw_score=0.0, late_submission_penalty=0.0,
                                   score=0.0, answers_to_grade_by_hand=0,
                                   status="not submitted")
                    elif sub is None:
                        row.update(timestamp=self.collected_timestamp(sid, a), raw_score="",
                                   late_submission_penalty="", score="",
                                   answers_to_grade_by_hand="", status="not graded",
                                   note=reason)
                    else:
                        done, total = self.hand_grading(sub)
                        penalty = sub.late_submission_penalty or 0.0
                        row.update(timestamp=sub.timestamp or "", raw_score=sub.score,
                                   late_submission_penalty=penalty,
                                   score=max(0.0, sub.score - penalty),
                                   answers_to_grade_by_hand=total - done,
                                   late=late_text(sub.total_seconds_late),
                                   status="changed since graded" if reason else "graded",
                                   note=reason or "")
                    if sid in waiting:
                        row["status"] += "; newer submission waiting"
                        row["note"] = (row["note"] + "; " if row["note"] else "") + \
                            f"submitted again {waiting[sid]}: run term.py collect {a}"
                    rows.append(row)
        return rows

    def export(self, to=None, assignments=None, lms=False):
        """Write the grades CSV (default grades.csv in the course root, git-ignored); with
        ``lms``, the shape learning platforms import (default lms.grades.csv): one row per
        student, ``student_id``, ``email`` and one column per assignment holding the score
        after the late penalty — 0 for no submission, empty where a submission is not graded."""
        rows = self.export_rows(assignments)
        default = "lms.grades.csv" if lms else "grades.csv"
        path = Path(to) if to else self.root / default
        if not path.is_absolute():
            path = Path.cwd() / path
        if lms:
            order = list(dict.fromkeys(r["assignment"] for r in rows))
            table = {}
            for r in rows:
                line = table.setdefault(r["student_id"], {"student_id": r["student_id"],
                                                          "email": r["email"]})
                line[r["assignment"]] = (round(r["score"], 4) if r["status"].startswith("graded")
                                         or r["status"].startswith("not submitted") else "")
            fields, lines = ["student_id", "email", *order], [table[k] for k in sorted(table)]
        else:
            fields, lines = EXPORT_COLUMNS, rows
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "w", newline="", encoding="utf-8") as fh:
                writer = csv.DictWriter(fh, fieldnames=fields)
                writer.writeheader()
                writer.writerows(lines)
        except OSError as exc:
            raise TermError(f"cannot write {path}: {exc.strerror or exc}") from None
        self.say(f"wrote {len(lines)} row(s) to {path}"
                 + (" (one column per assignment, for a learning platform's gradebook)" if lms else ""))
        pending = sorted({r["student_id"] for r in rows if r["answers_to_grade_by_hand"]})
        if pending:
            self.say(f"note: written answers still to grade by hand ({FORMGRADER}) for: "
                     f"{', '.join(pending)}")
        for r in rows:
            if r["status"] != "graded" and r["status"] != "not submitted":
                self.say(f"note: {r['assignment']} {r['student_id']}: {r['status']}"
                         + (f" ({r['note']})" if r["note"] else "")
                         + ("; its score is left empty" if r["score"] == "" else ""))
        late = [f"{r['assignment']} {r['student_id']} ({r['late']}, penalty "
                f"{r['late_submission_penalty']:g})" for r in rows if r["late"]]
        if late:
            self.say(f"late: {'; '.join(late)}")

    # -- status

    def status(self, assignments=None):
        """Print, per assignment and student: submitted to the exchange, collected (or a newer
        submission waiting), late, graded (score, changed since graded, NOT GRADED with the
        reason below the table), graded by hand, feedback (current/stale/none), returned."""
        wanted = assignments or self.assignments()
        for a in wanted:
            self.check_assignment(a)
        with self.gradebook() as gb:
            roster = {s.id for s in gb.students}
            for a in wanted:
                self.apply_schedule(gb, a)
                inbound, waiting = self.inbound(a), self.waiting(a)
                students = sorted(roster | set(inbound) | set(batch.students_of(a, self.root)))
                plan = self.schedule(a)
                self.say(f"{a}:" + (f" due {plan['due']:%Y-%m-%d %H:%M} UTC, late penalty "
                                    f"{plan['penalty']}" if plan else ""))
                header = ("student", "submitted", "collected", "late", "graded", "by hand",
                          "feedback", "returned")
                lines, notes = [header], []
                for s in students:
                    sub = self.submission(gb, a, s)
                    collected = self.folder("submitted", s, a).is_dir()
                    reason = self.not_graded_reason(gb, a, s)
                    if sub is None:
                        graded = "NOT-GRADED" if collected else "no"
                    elif reason:
                        graded = "CHANGED" if collected else "yes(no-submission)"
                    else:
                        graded = f"{sub.score - (sub.late_submission_penalty or 0):g}/{sub.max_score:g}"
                    if reason:
                        notes.append(f"  {s}: not graded: {reason}")
                    late = late_text(sub.total_seconds_late if sub is not None else 0)
                    if sub is not None:
                        done, total = self.hand_grading(sub)
                        by_hand = f"{done}/{total}"
                        feedback = self.feedback_state(gb, a, s)
                    else:
                        by_hand, feedback = "-", "none"
                    if s in waiting:
                        notes.append(f"  {s}: a newer submission ({waiting[s]}) waits in the "
                                     f"exchange: run term.py collect {a}")
                    rec = self.record(a, s).get("returned", {})
                    files = self.feedback_files(a, s)
                    returned = ("no" if not rec else
                                "yes" if rec.get("html") == files_hash(files) else "outdated")
                    lines.append((s + ("" if s in roster else "(not-on-roster)"),
                                  inbound.get(s, "-"),
                                  "NEWER-WAITING" if s in waiting and collected
                                  else "yes" if collected else "no",
                                  late.replace(" late", "").replace(" ", "") or "-", graded,
                                  by_hand, feedback, returned))
                widths = [max(len(str(row[i])) for row in lines) for i in range(len(header))]
                for row in lines:
                    self.say("  " + "  ".join(str(v).ljust(w) for v, w in zip(row, widths)).rstrip())
                for line in notes:
                    self.say(line)
                if len(lines) == 1:
                    self.say("  (no students: run term.py setup --roster FILE)")


# ------------------------------------------------------------------------------ command line

class _Parser(argparse.ArgumentParser):
    """argparse, with usage errors as one line (and exit status 2)."""

    def error(self, message):
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def _parser(prog="term.py"):
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--root", default=".", metavar="DIR",
                        help="the course directory (default: the current folder)")
    common.add_argument("--course", metavar="ID",
                        help="the course id (default: nbgrader_config.py's, activation-functions)")
    common.add_argument("--exchange", metavar="DIR",
                        help=f"nbgrader's exchange folder (default: nbgrader_config.py's "
                             f"Exchange.root, {DEFAULT_EXCHANGE})")
    common.add_argument("--schedule", metavar="CSV",
                        help=f"due dates and late penalties (default: {SCHEDULE_NAME} in the "
                             f"course root, if it exists; columns {','.join(SCHEDULE_COLUMNS)})")
    parser = _Parser(prog=prog, description="The instructor's term, one step at a time: "
                     "python tools/term.py STEP (or actcourse STEP), run from the course root.",
                     epilog="Each step does only what is missing or out of date and can be rerun. "
                            "Exit status: 0 all done, 1 something failed (one line each), "
                            f"2 usage error. '{prog} STEP --help' describes a step.")
    sub = parser.add_subparsers(dest="step", metavar="STEP", parser_class=_Parser)
    sub.required = True

    def add(name, help_, description):
        return sub.add_parser(name, parents=[common], help=help_,
                              description=f"{prog} {name}: {description}")

    p = add("setup", "record assignments and students in the gradebook; make the exchange",
            "record every assignment of source/ in the gradebook (its notebooks and graded cells, "
            "as nbgrader generate_assignment does; notebooks/ is checked against it) and the "
            "students of a roster CSV (columns id,first_name,last_name,email; only id required); "
            "make the exchange folder (mode 1777); write the schedule's due dates (schedule.csv: "
            "assignment,due,late_penalty — due as 2026-10-05 23:59 or with an offset, "
            "2026-10-05T23:59+02:00; late_penalty none, zero or N%%/day). Rerunnable: adds and "
            "updates, never removes.")
    p.add_argument("--roster", metavar="CSV", help="the roster CSV to add or update students from")
    p.add_argument("--assignment", action="append", metavar="ID",
                   help="record only this assignment (repeatable; default: all of source/)")
    p.add_argument("--no-exchange", action="store_true",
                   help="do not make the exchange (the course hands out and collects files by hand)")

    p = add("release", "release an assignment through the exchange",
            "copy notebooks/ASSIGNMENT to the exchange for students to fetch; a rerun releases "
            "again only if notebooks/ASSIGNMENT changed.")
    p.add_argument("assignment", help="the assignment id (a folder of source/)")
    p.add_argument("--force", action="store_true", help="release again even if unchanged")

    p = add("collect", "collect the latest submissions from the exchange",
            "copy each student's latest submission of ASSIGNMENT from the exchange to "
            "submitted/STUDENT/ASSIGNMENT; a newer submission replaces the older one.")
    p.add_argument("assignment", help="the assignment id")

    p = add("grade", "autograde new or changed submissions, in parallel",
            "autograde the submissions in submitted/*/ASSIGNMENT that are new or changed since "
            "they were graded, with N parallel workers running nbgrader's autograde in the "
            "course's sandbox. Refuses a student whose newer submission still waits in the "
            "exchange (collect first). Late work is penalised as the schedule says. Feedback is "
            "made by the feedback step, after the written answers are graded by hand in "
            "the Formgrader of the instructor's JupyterLab.")
    p.add_argument("assignment", help="the assignment id")
    p.add_argument("--student", action="append", metavar="ID", help="only this student (repeatable)")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1, metavar="N",
                   help="submissions graded at the same time (default: %(default)s, the cores)")
    p.add_argument("--force", action="store_true", help="grade again even if unchanged")
    p.add_argument("--student-timeout", type=float, default=1800.0, metavar="SECONDS",
                   help="stop grading one submission after this long (default: %(default)g)")
    p.add_argument("--unsafe-no-isolation", action="store_true",
                   help="grade on a host that cannot isolate kernels (students' code unconfined)")

    p = add("feedback", "make feedback where the grades changed since it was made",
            "make the feedback HTML (scores, comments by hand, failure messages; no hidden tests; "
            "formulas rendered offline) of every graded submission whose feedback is missing or "
            "older than its grades; run it after grading the written answers in the Formgrader. "
            "A submission with written answers not yet graded by hand is refused unless "
            "--allow-ungraded.")
    p.add_argument("assignment", help="the assignment id")
    p.add_argument("--student", action="append", metavar="ID", help="only this student (repeatable)")
    p.add_argument("--force", action="store_true", help="make it again even if current")
    p.add_argument("--allow-ungraded", action="store_true",
                   help="make it even where written answers are not graded by hand yet")

    p = add("return", "return current feedback through the exchange",
            "release each student's current feedback to the exchange (students: nbgrader "
            "fetch_feedback); refused: feedback older than the grades, feedback with written "
            "answers not graded by hand (unless --allow-ungraded), and students who submitted "
            "from an OS account another student submitted from (feedback needs one account per "
            "student). Feedback already returned unchanged is skipped.")
    p.add_argument("assignment", help="the assignment id")
    p.add_argument("--student", action="append", metavar="ID", help="only this student (repeatable)")
    p.add_argument("--force", action="store_true", help="return again even if unchanged")
    p.add_argument("--allow-ungraded", action="store_true",
                   help="return it even where written answers are not graded by hand yet")

    p = add("export", "write the grades CSV",
            "write every student's grade of every assignment (or those given) from the gradebook "
            "to a CSV: nbgrader export's columns, the answers still to grade by hand, status "
            "(graded, not submitted, not graded: scores left empty), how late and why not graded. "
            "--lms writes one row per student and one column per assignment, as Canvas and "
            "Moodle gradebooks import.")
    p.add_argument("--assignment", action="append", metavar="ID", help="only this assignment (repeatable)")
    p.add_argument("--to", metavar="CSV", help="where to write (default: grades.csv, or "
                   "lms.grades.csv with --lms, in the course root)")
    p.add_argument("--lms", action="store_true",
                   help="student_id, email and one score column per assignment")

    p = add("status", "show where every student stands",
            "for each student: submitted to the exchange, collected (NEWER-WAITING when a newer "
            "submission is in the exchange), late, graded (score after penalty, CHANGED, "
            "NOT-GRADED with the reason), answers graded by hand, feedback (current, stale, "
            "none), returned.")
    p.add_argument("assignment", nargs="*", help="assignment ids (default: all)")
    return parser


def main(argv=None, prog="term.py"):
    """Run one step of the term from the command line; return the exit status."""
    args = _parser(prog).parse_args(argv)
    say = lambda line: print(line, flush=True)  # noqa: E731
    try:
        for name in ("roster", "to", "schedule"):  # paths given relative to where the command runs
            if getattr(args, name, None):
                setattr(args, name, os.path.abspath(getattr(args, name)))
        term = Term(args.root, course_id=args.course, exchange=args.exchange, say=say,
                    schedule=args.schedule)
        os.chdir(term.root)
        if args.step == "setup":
            term.setup(args.roster, args.assignment, exchange=not args.no_exchange)
        elif args.step == "release":
            term.release(args.assignment, force=args.force)
        elif args.step == "collect":
            term.collect(args.assignment)
        elif args.step == "grade":
            if args.workers < 1:
                raise TermError("--workers must be at least 1")
            term.grade(args.assignment, args.student, workers=args.workers, force=args.force,
                       student_timeout=args.student_timeout,
                       isolation=not args.unsafe_no_isolation)
        elif args.step == "feedback":
            term.feedback(args.assignment, args.student, force=args.force,
                          allow_ungraded=args.allow_ungraded)
        elif args.step == "return":
            term.return_feedback(args.assignment, args.student, force=args.force,
                                 allow_ungraded=args.allow_ungraded)
        elif args.step == "export":
            term.export(args.to, args.assignment, lms=args.lms)
        elif args.step == "status":
            term.status(args.assignment)
    except TermError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted; rerun the step to finish it", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - one line, not a traceback (unless asked for)
        if os.environ.get("ACTLIB_TERM_DEBUG"):
            raise
        print(f"error: {args.step} stopped: {type(exc).__name__}: {exc} (rerun with "
              f"ACTLIB_TERM_DEBUG=1 for the traceback)", file=sys.stderr, flush=True)
        return 1
    if term.failures:
        print(f"{len(term.failures)} problem(s) in {args.step}; rerun the step once fixed",
              file=sys.stderr, flush=True)
        return 1
    return 0
