"""The instructor's term command (``tools/term.py``) through the real nbgrader exchange.

A module fixture runs a whole term of lesson 01-neuron in a temporary course copy with a
temporary exchange: setup from a roster of two students, release, both students fetch and
submit under their own ids (alice the solution, bob a partly wrong one), collect, grade with two
workers, feedback, one written answer graded by hand through nbgrader's Gradebook API (score and
comment), feedback again, return, the students fetch their feedback; then bob submits late and
the term runs again; then export. The tests read what each step printed, the gradebook, the
exchange, the returned feedback and the exported CSV.

A second fixture clones the repository (no gradebook) and goes from nothing to exported grades
with the term command alone. The offline-maths test loads a returned feedback page in
Chromium with every network request blocked.
"""
import contextlib
import copy
import csv
import html
import io
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from coursetools import ROOT, copy_course, marked_lines

pytestmark = [pytest.mark.nbgrader, pytest.mark.xdist_group("term"),
              # nbgrader's own typo (NbGraderAPI.release_feedback passes `authentictor=`)
              pytest.mark.filterwarnings("ignore:Passing unrecognized arguments:DeprecationWarning")]

A = "01-neuron"
COURSE = "activation-functions"
TERM = [sys.executable, str(ROOT / "tools" / "term.py")]
STEPS = ("setup", "release", "collect", "grade", "feedback", "return", "export", "status")
COMMENT = "Right idea; also say why a zero gradient almost everywhere stops learning."
MANUAL_CELL = "written_step_gradient"
HIDDEN = ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")


def _env(**extra):
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.update(extra)
    return env


def run_term(root, *args, exchange=None):
    """Run ``tools/term.py ARGS`` in the course ``root``; return (exit status, output)."""
    cmd = [*TERM, *args] + (["--exchange", str(exchange)] if exchange else [])
    done = subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=900, env=_env())
    return done.returncode, done.stdout + done.stderr


def call_term(root, *args, exchange=None):
    """`actlib.grading.term.main` (what ``tools/term.py`` runs) in this process, on the course
    ``root``; return (exit status, output). One process pays nbgrader's start-up once for the
    whole term; the fresh-clone test below runs the command itself."""
    from actlib.grading.term import main

    buf, here = io.StringIO(), os.getcwd()
    argv = [*args, "--root", str(root)] + (["--exchange", str(exchange)] if exchange else [])
    try:
        with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
            status = main(argv)
    finally:
        os.chdir(here)
    return status, buf.getvalue()


class Student:
    """A student with their own home (their own nbgrader cache), using nbgrader's student
    commands with the exchange; every student runs as the same OS user here (root)."""

    def __init__(self, sid, home, exchange):
        self.id, self.home, self.exchange = sid, Path(home), exchange
        self.home.mkdir(parents=True)

    def nbgrader(self, *args):
        done = subprocess.run(
            [sys.executable, "-m", "nbgrader", *args, "--course", COURSE,
             f"--Exchange.root={self.exchange}"],
            cwd=self.home, capture_output=True, text=True, timeout=300,
            env=_env(JUPYTER_DATA_DIR=str(self.home / ".jupyter-data")))
        assert done.returncode == 0, f"{self.id}: nbgrader {args}: {done.stdout}{done.stderr}"
        return done.stdout + done.stderr

    def fetch(self):
        self.nbgrader("fetch_assignment", A)
        return self.home / A / f"{A}.ipynb"

    def submit(self, nb):
        nbformat.write(nb, str(self.home / A / f"{A}.ipynb"))
        return self.nbgrader("submit", A, "--student", self.id)

    def fetch_feedback(self):
        self.nbgrader("fetch_feedback", A, "--student", self.id)
        return sorted((self.home / A / "feedback").glob(f"*/{A}.html"))


def page_text(path):
    """Visible text of an HTML page (scripts and styles removed, tags stripped, spaces folded)."""
    raw = Path(path).read_text(encoding="utf-8")
    raw = re.sub(r"<(script|style)\b.*?</\1>", " ", raw, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", raw)))


def gradebook_scores(root):
    """{student: (score, max_score)} of the assignment, read from the course's gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", COURSE) as gb:
        return {s.student.id: (s.score, s.max_score) for s in gb.find_assignment(A).submissions}


def wrong_step(solution):
    """The solution with a realistic mistake: the step fires at the threshold."""
    nb = copy.deepcopy(solution)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "step":
            cell.source = cell.source.replace("> threshold", ">= threshold")
            assert ">= threshold" in cell.source
    return nb


# ------------------------------------------------------------------------------ the term

@pytest.fixture(scope="module")
def term(tmp_path_factory):
    """A whole term of 01-neuron through the exchange; every step's (status, output)."""
    base = tmp_path_factory.mktemp("term")
    root = copy_course(base / "course")
    exchange = base / "exchange"
    roster = base / "roster.csv"
    roster.write_text("id,first_name,last_name,email\nalice,Alice,Archer,alice@example.org\n"
                      'bob,Bob,"Baker, Jr",bob@example.org\n', encoding="utf-8")
    out = {}

    def step(name, *args):
        start = time.monotonic()
        out[name] = call_term(root, *args, exchange=exchange)
        print(f"term.py {name}: {time.monotonic() - start:.1f} s")
        return out[name]

    step("setup", "setup", "--roster", str(roster), "--assignment", A)
    step("release", "release", A)
    step("release again", "release", A)
    solution = nbformat.read(str(root / "solutions" / A / f"{A}.ipynb"), as_version=4)
    students = {s: Student(s, base / "home" / s, exchange) for s in ("alice", "bob")}
    # Students work at the same time, each in their own process (pairs run in parallel).
    with ThreadPoolExecutor(2) as pool:
        fetched = list(pool.map(Student.fetch, students.values()))
        assert all(p.is_file() for p in fetched), f"a student did not fetch {A}: {fetched}"
        list(pool.map(Student.submit, students.values(), [solution, wrong_step(solution)]))
    step("collect", "collect", A)
    step("grade", "grade", A, "--workers", "2")
    step("grade again", "grade", A, "--workers", "2")
    step("feedback before hand grading", "feedback", A)
    # A written answer graded by hand, as nbgrader's formgrader saves it.
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", COURSE) as gb:
        grade = gb.find_grade(MANUAL_CELL, A, A, "alice")
        grade.manual_score, grade.needs_manual_grade = 1.5, False
        gb.find_comment(MANUAL_CELL, A, A, "alice").manual_comment = COMMENT
        gb.db.commit()
    step("status after hand grading", "status", A)
    step("feedback", "feedback", A)
    step("return", "return", A)
    with ThreadPoolExecutor(2) as pool:
        fetched = dict(zip(students, pool.map(Student.fetch_feedback, students.values())))
    # bob submits again, late, the solution this time
    students["bob"].submit(solution)
    step("late collect", "collect", A)
    step("late grade", "grade", A, "--workers", "2")
    step("late feedback", "feedback", A)
    step("late return", "return", A)
    late_fetched = students["bob"].fetch_feedback()
    step("export", "export", "--to", str(base / "exports" / "grades.csv"))
    step("status", "status", A)
    return {"root": root, "exchange": exchange, "base": base, "out": out,
            "fetched": fetched, "late_fetched": late_fetched, "solution": solution,
            "csv": base / "exports" / "grades.csv"}


def _ok(term, name):
    status, output = term["out"][name]
    assert status == 0, f"term.py {name} exited {status}:\n{output}"
    return output


def test_every_step_succeeds(term):
    for name in term["out"]:
        _ok(term, name)
    assert "already released" in _ok(term, "release again")


def test_students_submit_under_their_own_ids(term):
    """nbgrader files a submission under the OS user (root here) unless the student gives
    --student ID: each submission is under its student's id, none under root."""
    assert oct(term["exchange"].stat().st_mode & 0o7777) == "0o1777"  # made by setup
    inbound = term["exchange"] / COURSE / "inbound"
    owners = sorted({p.name.split("+")[0] for p in inbound.iterdir()})
    assert owners == ["alice", "bob"], owners
    submitted = sorted(p.name for p in (term["root"] / "submitted").iterdir())
    assert submitted == ["alice", "bob"], submitted
    assert "collected alice: new" in _ok(term, "collect")


def test_grade_rerun_grades_nothing(term):
    first = _ok(term, "grade")
    assert re.search(r"graded\s+alice: 11 / 11", first), first
    assert re.search(r"graded\s+bob: 9 / 11", first), first
    again = _ok(term, "grade again")
    assert "nothing to grade" in again, again
    assert not re.search(r"^\[\d+/\d+\] ", again, flags=re.M), again


def test_late_submission_is_the_only_one_regraded(term):
    collect = _ok(term, "late collect")
    assert "collected bob: updated" in collect and "collected alice: unchanged" in collect, collect
    grade = _ok(term, "late grade")
    assert re.search(r"graded\s+bob: 11 / 11", grade), grade
    assert "alice" not in grade and "1 unchanged since graded" in grade, grade
    assert gradebook_scores(term["root"])["bob"][0] == 11.0


def test_feedback_is_made_again_only_where_stale(term):
    before = _ok(term, "feedback before hand grading")
    assert "feedback  alice" in before and "feedback  bob" in before, before
    status = _ok(term, "status after hand grading")
    rows = {line.split()[0]: line.split() for line in status.splitlines()[2:]}
    assert rows["alice"][-2] == "stale" and rows["bob"][-2] == "current", status
    after = _ok(term, "feedback")
    assert "feedback  alice" in after and "bob" not in after, after
    late = _ok(term, "late feedback")
    assert "feedback  bob" in late and "alice" not in late, late
    returned = _ok(term, "late return")
    assert "returned feedback to bob" in returned and "to alice" not in returned, returned


def test_returned_feedback_shows_the_hand_grade_and_comment(term):
    alice = term["fetched"]["alice"]
    assert len(alice) == 1, alice
    text = page_text(alice[0])
    score, max_score = gradebook_scores(term["root"])["alice"]
    assert score == 12.5, score  # 11 automatic points + 1.5 by hand
    assert f"(Score: {score:g} / {max_score:.1f})" in text, text[:300]
    assert COMMENT in text
    assert re.search(r"Written response \(Score: 1\.5 / 2\.0\)", text), text[:800]
    bob_text = page_text(term["fetched"]["bob"][0])
    assert COMMENT not in bob_text
    assert "(Score: 9.0 / 15.0)" in bob_text, bob_text[:300]
    late = page_text(term["late_fetched"][-1])
    assert "(Score: 11.0 / 15.0)" in late, late[:300]


def test_returned_feedback_hides_tests_and_grader_paths(term):
    source = nbformat.read(str(ROOT / "source" / A / f"{A}.ipynb"), as_version=4)
    hidden = {re.sub(r"\s+", " ", line).strip() for cell in source.cells
              for line in marked_lines(cell.source, *HIDDEN)}
    release = nbformat.read(str(ROOT / "notebooks" / A / f"{A}.ipynb"), as_version=4)
    visible = {re.sub(r"\s+", " ", line).strip() for cell in release.cells
               for line in cell.source.splitlines()}
    # a line the release shows too (a visible test's) is no secret
    hidden = {line for line in hidden if len(line) >= 20 and line not in visible}
    assert hidden
    for path in [*term["fetched"]["alice"], *term["fetched"]["bob"], *term["late_fetched"]]:
        raw = path.read_text(encoding="utf-8")
        text = page_text(path)
        assert not [line for line in hidden if line in text], f"{path} shows hidden tests"
        for secret in (str(term["base"]), str(ROOT), str(Path(sys.executable).parent.parent),
                       "/tmp/", "site-packages", "submission_secret"):
            assert secret not in raw, f"{path} names {secret!r}"


def test_export_equals_the_gradebook(term):
    _ok(term, "export")
    with open(term["csv"], newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["assignment"] == A]
    scores = gradebook_scores(term["root"])
    assert sorted(r["student_id"] for r in rows) == ["alice", "bob"]
    for r in rows:
        assert float(r["score"]) == scores[r["student_id"]][0], (r, scores)
        assert float(r["max_score"]) == scores[r["student_id"]][1]
    bob = next(r for r in rows if r["student_id"] == "bob")
    assert bob["last_name"] == "Baker, Jr" and bob["answers_to_grade_by_hand"] == "2"


# ------------------------------------------------------------------------------ offline maths

def test_feedback_loads_nothing_from_the_network_and_has_mathml(term):
    from actlib.grading.feedback import external_references

    path = term["fetched"]["alice"][0]
    page = path.read_text(encoding="utf-8")
    assert external_references(page) == [], external_references(page)
    formulas = page.count("<math ")
    source = nbformat.read(str(ROOT / "source" / A / f"{A}.ipynb"), as_version=4)
    assert formulas >= 20, f"only {formulas} MathML formulas in the feedback"
    # no formula was left as LaTeX: none of the lesson's commands appears in the visible text
    text = page_text(path)
    for command in ("\\mathbf", "\\sum", "\\qquad", "\\cdot"):
        assert command not in text, f"{command} left as text in the feedback"
    assert any("\\mathbf" in c.source for c in source.cells), "the search cannot fail"


def _browser_or_skip():
    import browserkit

    reason = browserkit.missing()
    if reason:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"the offline-maths test cannot run under CI: {reason}")
        pytest.skip(reason)
    return browserkit


def test_feedback_formulas_render_in_chromium_offline(term):
    """Chromium, with every request other than the page itself blocked, lays the formulas out
    as maths: MathML elements displayed as maths, superscripts raised above their base."""
    browserkit = _browser_or_skip()
    from playwright.sync_api import sync_playwright

    path = term["fetched"]["alice"][0]
    asked = []
    with sync_playwright() as p:
        browser = browserkit.launch_browser(p)
        try:
            context = browser.new_context()

            def route(r):
                asked.append(r.request.url)
                if r.request.url.startswith("file://"):
                    r.continue_()
                else:
                    r.abort()

            context.route("**/*", route)
            page = context.new_page()
            page.goto(path.as_uri())
            found = page.evaluate("""() => {
                const maths = [...document.querySelectorAll('math')];
                const displays = maths.map(m => getComputedStyle(m).display);
                const sups = [...document.querySelectorAll('msup, msubsup')].map(s => {
                    const base = s.children[0].getBoundingClientRect();
                    const script = s.children[s.children.length - 1].getBoundingClientRect();
                    return {base: base.top + base.height / 2, script: script.top + script.height / 2,
                            width: s.getBoundingClientRect().width};
                });
                return {count: maths.length, displays, sups,
                        text: document.body.innerText};
            }""")
        finally:
            browser.close()
    assert [u for u in asked if not u.startswith("file://")] == [], asked
    assert found["count"] >= 20, found["count"]
    assert set(found["displays"]) <= {"math", "block math", "inline math"}, set(found["displays"])
    assert found["sups"], "no superscript in the feedback to check"
    for sup in found["sups"]:
        assert sup["width"] > 0 and sup["script"] < sup["base"], sup
    assert "\\mathbf" not in found["text"] and "\\sum" not in found["text"]


# ------------------------------------------------------------------------------ a fresh clone

@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    """A git clone of the repository (no gradebook, nothing generated), taken from nothing to
    exported grades with the term command alone: grade a submission placed in submitted/ (the
    gradebook is made and learns the assignment on the way), then setup from a roster (which
    must keep that grade), then export."""
    base = tmp_path_factory.mktemp("fresh")
    clone = base / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True, timeout=300)
    assert not (clone / "gradebook.db").exists()
    roster = base / "roster.csv"
    roster.write_text("id,first_name,last_name\ncarol,Carol,Cole\ndan,Dan,Dee\n", encoding="utf-8")
    folder = clone / "submitted" / "carol" / A
    folder.mkdir(parents=True)
    (folder / f"{A}.ipynb").write_bytes((clone / "solutions" / A / f"{A}.ipynb").read_bytes())
    out = {"grade": run_term(clone, "grade", A, "--workers", "1"),
           "setup": run_term(clone, "setup", "--roster", str(roster), "--assignment", A,
                             "--no-exchange"),
           "export": run_term(clone, "export")}
    return {"clone": clone, "out": out}


def test_a_fresh_clone_goes_from_nothing_to_grades(fresh):
    for name, (status, output) in fresh["out"].items():
        assert status == 0, f"term.py {name} in a fresh clone exited {status}:\n{output}"
    assert "the gradebook does not know 01-neuron yet" in fresh["out"]["grade"][1]
    assert re.search(r"graded\s+carol: 11 / 11", fresh["out"]["grade"][1]), fresh["out"]["grade"][1]
    with open(fresh["clone"] / "grades.csv", newline="", encoding="utf-8") as fh:
        rows = {(r["assignment"], r["student_id"]): r for r in csv.DictReader(fh)}
    assert float(rows[(A, "carol")]["score"]) == 11.0  # kept through setup
    assert rows[(A, "carol")]["first_name"] == "Carol"
    assert float(rows[(A, "dan")]["score"]) == 0.0 and rows[(A, "dan")]["timestamp"] == ""
    ignored = subprocess.run(["git", "status", "--porcelain", "--ignored"], cwd=fresh["clone"],
                             capture_output=True, text=True).stdout
    untracked = [line for line in ignored.splitlines() if line.startswith("??")]
    assert not untracked, f"the term left files git does not ignore: {untracked}"


# ------------------------------------------------------------------------------ the command line

def test_help_of_the_command_names_every_step():
    status, output = run_term(ROOT, "--help")
    assert status == 0 and all(re.search(rf"^\s+{step}\s", output, flags=re.M) for step in STEPS), output


@pytest.mark.parametrize("step", STEPS)
def test_help_of_every_step(step):
    status, output = run_term(ROOT, step, "--help")
    assert status == 0 and f"term.py {step}" in output, output


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    """A course copy for commands that must stop before they change anything."""
    return copy_course(tmp_path_factory.mktemp("scratch") / "course")


@pytest.mark.parametrize("roster, problem", [
    ("id,name\nx,y\n", "unknown column(s) 'name'"),
    ("first_name\nAda\n", "no id column"),
    ("id,email\na+b,x@y\n", "student id 'a+b' is not allowed"),
    ("id\nann\nann\n", "repeats line 2"),
    ("", "is empty"),
])
def test_a_bad_roster_is_one_line_and_status_2(scratch, tmp_path, roster, problem):
    path = tmp_path / "roster.csv"
    path.write_text(roster, encoding="utf-8")
    status, output = run_term(scratch, "setup", "--roster", str(path), "--no-exchange")
    assert not (scratch / "gradebook.db").exists()
    assert status == 2, output
    assert output.count("\n") == 1 and output.startswith("error: roster ") and problem in output, output
    assert "Traceback" not in output


@pytest.mark.parametrize("args", [("grade", "99-nope"), ("release", "99-nope"),
                                  ("feedback", "nope"), ("status", "nope")])
def test_an_unknown_assignment_is_one_line_and_status_2(scratch, args):
    status, output = run_term(scratch, *args)
    assert status == 2, output
    assert output.count("\n") == 1 and "unknown assignment" in output and "01-neuron" in output
