"""Shared plumbing of the course's instructor tools (regenerate, grade, check).

Everything here drives the real nbgrader command line in a subprocess, so what the tools
and the tests exercise is exactly what an instructor runs.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from actlib.grading.grader import batch  # noqa: E402

NBGRADER = [sys.executable, "-m", "nbgrader"]
COURSE_FILES = ("nbgrader_config.py",)
COURSE_DIRS = ("source", "notebooks", "solutions")


def assignments(root=ROOT):
    """Assignment ids: the folders of ``source/`` holding a notebook, in course order."""
    source = Path(root) / "source"
    return sorted(p.name for p in source.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


def notebook_names(assignment, root=ROOT):
    """Names (without .ipynb) of the notebooks of an assignment (`actlib.grading.grader.batch`'s)."""
    return batch.notebook_names(assignment, root)


def nbgrader(*args, root=ROOT, timeout=1800):
    """Run ``nbgrader ARGS`` in the course directory ``root``; return the CompletedProcess.

    The interpreter's own ``bin`` folder goes first on PATH: nbgrader runs the ``alembic``
    command of its environment, which is not on PATH when the venv is not activated.
    """
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return subprocess.run([*NBGRADER, *args], cwd=root, capture_output=True, text=True,
                          timeout=timeout, env=env)


def regenerate(assignment, root=ROOT):
    """Regenerate ``notebooks/<assignment>`` and ``solutions/<assignment>`` with nbgrader.

    Raises RuntimeError with nbgrader's output when either command fails.
    """
    for command in ("generate_assignment", "generate_solution"):
        result = nbgrader(command, assignment, "--force", root=root)
        if result.returncode != 0:
            raise RuntimeError(f"nbgrader {command} {assignment} failed:\n"
                               f"{result.stdout}\n{result.stderr}")


def copy_course(dst):
    """Copy the course (config, source, notebooks, solutions) to a new directory ``dst``."""
    dst = Path(dst)
    dst.mkdir(parents=True, exist_ok=True)
    for name in COURSE_FILES:
        shutil.copy2(ROOT / name, dst / name)
    ignore = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__")
    for name in COURSE_DIRS:
        if (ROOT / name).exists():
            shutil.copytree(ROOT / name, dst / name, ignore=ignore)
    return dst


def nbgrader_meta(cell):
    """A cell's nbgrader metadata ({} for an ordinary cell)."""
    return cell.get("metadata", {}).get("nbgrader", {})


def marked_lines(source, begin, end):
    """The non-blank lines (stripped) between ``begin`` and ``end`` marker lines, e.g. the
    solution or hidden-test region of a cell's source."""
    lines, inside = [], False
    for line in source.splitlines():
        stripped = line.strip()
        if stripped == begin:
            inside = True
        elif stripped == end:
            inside = False
        elif inside and stripped:
            lines.append(stripped)
    return lines


def output_problems(nb):
    """(cell index, text) for every error or stderr output of an executed notebook."""
    found = []
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                found.append((i, f"{out.get('ename')}: {out.get('evalue')}"))
            elif out.get("output_type") == "stream" and out.get("name") == "stderr":
                found.append((i, "stderr: " + out.get("text", "").strip()[:500]))
    return found


def cell_scores(assignment, student, root=ROOT):
    """Scores of one graded submission, read from the gradebook.

    Returns ``{notebook: {grade_id: (score, max_score, cell_type, needs_manual_grade)}}``.
    """
    from nbgrader.api import Gradebook

    db = f"sqlite:///{Path(root) / 'gradebook.db'}"
    out = {}
    with Gradebook(db) as gb:
        submission = gb.find_submission(assignment, student)
        for nb in submission.notebooks:
            out[nb.name] = {g.name: (g.score, g.max_score, g.cell_type, g.needs_manual_grade)
                            for g in nb.grades}
    return out


def auto_totals(scores):
    """(score, max) over the autograded (code) cells of a ``cell_scores`` result."""
    got = total = 0.0
    for cells in scores.values():
        for score, max_score, cell_type, _ in cells.values():
            if cell_type == "code":
                got += score
                total += max_score
    return got, total



class Formgrader:
    """nbgrader's Formgrader (the instructor's hand-grading pages in JupyterLab) on a course,
    served by ``actcourse formgrader`` (started from a folder inside the course, as an
    instructor would), and driven through the REST API its pages call (``/formgrader/api/...``). Use as a context manager; the server is stopped on
    exit. ``start`` returns at once; the first request waits until the server answers."""

    def __init__(self, root, timeout=120):
        import secrets
        import socket

        self.root, self.timeout = Path(root), timeout
        self.token = secrets.token_hex(16)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = None
        import tempfile

        fd, name = tempfile.mkstemp(prefix="formgrader-", suffix=".log")
        os.close(fd)
        self.log = Path(name)

    def start(self):
        env = dict(os.environ)
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
        with open(self.log, "wb") as out:
            # the documented command: actcourse formgrader (JupyterLab at the Formgrader)
            self.process = subprocess.Popen(
                [str(Path(sys.executable).parent / "actcourse"), "formgrader", "--no-browser",
                 "--port", str(self.port), f"--IdentityProvider.token={self.token}"],
                cwd=self.root / "source", stdout=out, stderr=subprocess.STDOUT, env=env)
        return self

    def __enter__(self):
        return self.start() if self.process is None else self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.unlink(missing_ok=True)

    def request(self, method, path, body=None):
        """(HTTP status, decoded JSON or text) of ``method path`` on the server."""
        import json
        import time
        import urllib.error
        import urllib.request

        data = None if body is None else json.dumps(body).encode()
        deadline = time.monotonic() + self.timeout
        while True:
            req = urllib.request.Request(self.url + path, data=data, method=method, headers={
                "Authorization": f"token {self.token}", "Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=60) as response:
                    status, text = response.status, response.read().decode()
                break
            except urllib.error.HTTPError as exc:
                status, text = exc.code, exc.read().decode(errors="replace")
                break
            except (urllib.error.URLError, ConnectionError):
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the Formgrader's server did not answer at {self.url}: "
                                       f"{self.log.read_text(errors='replace')[-2000:]}")
                time.sleep(0.3)
        try:
            return status, json.loads(text)
        except ValueError:
            return status, text

    def grade_by_hand(self, assignment, notebook, student, cell, score, comment=None):
        """Give ``student``'s graded cell ``cell`` a score (and a comment) as the Formgrader's
        grading page does: find the submitted notebook, its grade and comment ids, PUT them.
        Returns the grade the server saved (a dict)."""
        status, subs = self.request("GET", f"/formgrader/api/submitted_notebooks/{assignment}/"
                                           f"{notebook}")
        assert status == 200, (status, subs)
        (sub,) = [s for s in subs if s["student"] == student]
        status, grades = self.request("GET", f"/formgrader/api/grades?submission_id={sub['id']}")
        assert status == 200, (status, grades)
        (grade,) = [g for g in grades if g["name"] == cell]
        status, saved = self.request("PUT", f"/formgrader/api/grade/{grade['id']}",
                                     {"manual_score": score, "extra_credit": 0})
        assert status == 200, (status, saved)
        if comment is not None:
            status, comments = self.request("GET", f"/formgrader/api/comments?submission_id="
                                                   f"{sub['id']}")
            (found,) = [c for c in comments if c["name"] == cell]
            status, _ = self.request("PUT", f"/formgrader/api/comment/{found['id']}",
                                     {"manual_comment": comment})
            assert status == 200, status
        return saved
