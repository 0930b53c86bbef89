"""The course on a multi-user JupyterHub (tools/hub.py, hub/jupyterhub_config.py).

    python -m pytest -m hub            (as root: it creates system accounts)

The hub tests run the README's local hub for real: `tools/hub.py setup` creates an instructor
and two students as system accounts (unique names ``acthub-<random>-inst/-s1/-s2``, removed at
the end), the exchange and the instructor's course; `tools/hub.py start` starts JupyterHub on
127.0.0.1. Each account logs in with its password through the hub's login form (PAM), asks the
hub's REST API for its server, and then works the way JupyterLab's nbgrader panels do, through
the nbgrader endpoints of its own server: the instructor generates and releases an assignment,
each student fetches it, one writes the solution in, both submit, the instructor collects and
autogrades. Students' servers must not offer the formgrader; the instructor's must.

Without root, or without the proxy and npm to install it, the hub tests skip with a one-line
reason, and fail under CI=true. The hub's Python environment (the course's requirements, made
by setup) is kept between runs in ``$ACTLIB_HUB_ENV`` (default
/var/tmp/actlib-hub-test-env): the first run builds it (a few minutes).
"""
import contextlib
import json
import os
import pwd
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

import hub as hubtool

ROOT = Path(__file__).resolve().parent.parent
HUB_SCRIPT = ROOT / "tools" / "hub.py"
COURSE = "activation-functions"
ASSIGNMENT = "01-neuron"
ENV_CACHE = Path(os.environ.get("ACTLIB_HUB_ENV", "/var/tmp/actlib-hub-test-env"))
INSTRUCTOR_PLUGINS = ("@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:course-list",
                      "@jupyter/nbgrader:create-assignment")


# --- the command line, without a hub (fast; no root needed) ----------------------------------

def run_main(monkeypatch, capsys, argv, euid):
    monkeypatch.setattr(os, "geteuid", lambda: euid)
    status = hubtool.main(argv)
    return status, capsys.readouterr().err


def test_help_names_the_commands():
    result = subprocess.run([sys.executable, str(HUB_SCRIPT), "--help"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    for command in ("setup", "start", "stop", "teardown"):
        assert command in result.stdout
    result = subprocess.run([sys.executable, str(HUB_SCRIPT), "setup", "--help"],
                            capture_output=True, text=True, timeout=60)
    for option in ("--instructor", "--students", "--tas", "--exchange", "--port"):
        assert option in result.stdout
    result = subprocess.run([sys.executable, str(HUB_SCRIPT), "teardown", "--help"],
                            capture_output=True, text=True, timeout=60)
    assert "--yes" in result.stdout and "--keep-env" in result.stdout


def test_setup_without_root_says_so_in_one_line(monkeypatch, capsys, tmp_path):
    status, err = run_main(monkeypatch, capsys, ["setup", "--state", str(tmp_path),
                                                 "--instructor", "teacher"], euid=1000)
    assert status == 2
    assert err == "tools/hub.py setup: needs root to create accounts (run it with sudo)\n"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("argv, message", [
    (["--instructor", "Teacher"], "invalid account name 'Teacher'"),
    (["--instructor", "t", "--students", "a,t"], "t cannot be both the instructor and a student"),
    (["--instructor", "t", "--students", "a,a"], "a student is named twice in --students"),
    (["--instructor", "t", "--port", "80"], "--port 80 is out of range"),
    (["--instructor", "t", "--students", "a", "--tas", "a"],
     "a cannot be a teaching assistant and also the instructor or a student"),
])
def test_setup_rejects_bad_arguments_before_changing_anything(monkeypatch, capsys, tmp_path,
                                                              argv, message):
    status, err = run_main(monkeypatch, capsys, ["setup", "--state", str(tmp_path), *argv],
                           euid=0)
    assert status == 2
    assert err.startswith(f"tools/hub.py setup: {message}") and err.count("\n") == 1, err
    assert list(tmp_path.iterdir()) == []


def test_setup_refuses_an_exchange_whose_course_folder_is_someone_elses(monkeypatch, capsys,
                                                                       tmp_path):
    """After a term run as root, the hub's instructor could not release ("You don't own the
    directory"): setup says so first, in one line, and changes nothing."""
    if os.geteuid() != 0:
        reason = "needs root to give the folder another owner"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    box = tmp_path / "exchange" / COURSE
    box.mkdir(parents=True)
    os.chown(box, 61009, 61009)
    status, err = run_main(monkeypatch, capsys, ["setup", "--state", str(tmp_path / "state"),
                                                 "--instructor", "no-such-teacher",
                                                 "--exchange", str(tmp_path / "exchange")], euid=0)
    assert status == 2 and err.count("\n") == 1, err
    assert err.startswith(f"tools/hub.py setup: {box} belongs to uid 61009, not to the instructor "
                          f"no-such-teacher: one course, one exchange."), err
    assert not (tmp_path / "state").exists()
    with pytest.raises(KeyError):
        pwd.getpwnam("no-such-teacher")


def test_start_before_setup_says_what_to_do(monkeypatch, capsys, tmp_path):
    status, err = run_main(monkeypatch, capsys, ["start", "--state", str(tmp_path)], euid=0)
    assert status == 2
    assert "no hub set up in" in err and "run `tools/hub.py setup` first" in err
    assert err.count("\n") == 1


def test_the_hub_environment_has_the_course_and_no_test_tools():
    wanted = hubtool.user_requirements()
    names = {re.split(r"[<>=!~\[;@ ]", r, maxsplit=1)[0] for r in wanted}
    assert {"jupyterhub", "jupyterlab", "nbgrader", "numpy", "ipywidgets"} <= names
    assert not names & hubtool.TEST_ONLY
    assert not any(r.startswith("-") for r in wanted)   # no editable checkout of the repository


# --- the hub, for real ------------------------------------------------------------------------

def _missing():
    """One line saying why this machine cannot run the hub tests, or None."""
    if not sys.platform.startswith("linux"):
        return "the local hub needs Linux (PAM, system accounts)"
    if os.geteuid() != 0:
        return "the hub tests need root (they create system accounts and start servers as them)"
    for tool in ("useradd", "userdel", "chpasswd", "runuser"):
        if shutil.which(tool) is None:
            return f"{tool} is missing (Debian: apt-get install passwd util-linux)"
    if not hubtool.PROXY.exists() and (shutil.which("npm") is None or shutil.which("node") is None):
        return "no configurable-http-proxy in hub/node_modules and no Node.js/npm to install it"
    return None


def _unavailable(reason):
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"hub tests cannot run under CI: {reason}")
    pytest.skip(reason)


def _free_base_port():
    """A port p with p, p + 1 and p + 2 free on loopback."""
    for _ in range(200):
        port = random.randrange(20000, 60000)
        if not any(hubtool.port_in_use(p) for p in range(port, port + 3)):
            with contextlib.ExitStack() as stack:
                try:
                    for p in range(port, port + 3):
                        s = stack.enter_context(socket.socket())
                        s.bind(("127.0.0.1", p))
                except OSError:
                    continue
            return port
    raise RuntimeError("no three free consecutive ports on 127.0.0.1")


def _hub_command(*args, timeout):
    result = subprocess.run([sys.executable, str(HUB_SCRIPT), *args], capture_output=True,
                            text=True, timeout=timeout)
    assert result.returncode == 0, (f"tools/hub.py {args[0]} failed:\n{result.stdout}\n"
                                    f"{result.stderr}")
    return result.stdout


def _account_pids(name):
    try:
        uid = pwd.getpwnam(name).pw_uid
    except KeyError:
        return []
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if entry.stat().st_uid == uid:
                    pids.append(int(entry.name))
    return pids


def _remove_account(name):
    for pid in _account_pids(name):         # processes of our own test account only
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    subprocess.run(["userdel", "--remove", name], capture_output=True)


class Hub:
    def __init__(self, state, port, instructor, students, tas=()):
        self.state, self.port = state, port
        self.url = f"http://127.0.0.1:{port}"
        self.instructor, self.students, self.tas = instructor, students, list(tas)
        self.tokens = {}

    @property
    def accounts(self):
        return [self.instructor, *self.tas, *self.students]

    def passwords(self):
        lines = (self.state / "hub" / "passwords").read_text().splitlines()
        return dict(line.split(":", 1) for line in lines)

    def log_tail(self):
        with contextlib.suppress(OSError):
            return (self.state / "hub" / "hub.log").read_text(errors="replace")[-4000:]
        return ""

    def login(self, name, password):
        """Log in through the hub's form (PAM); returns the logged-in requests session and
        its XSRF token, or None when the hub refused the password."""
        import requests

        session = requests.Session()
        session.get(f"{self.url}/hub/login", timeout=30)
        xsrf = [c.value for c in session.cookies if c.name == "_xsrf"][-1]
        response = session.post(f"{self.url}/hub/login",
                                data={"username": name, "password": password, "_xsrf": xsrf},
                                allow_redirects=False, timeout=60)
        if response.status_code != 302:
            return None, response.status_code
        xsrf = [c.value for c in session.cookies if c.name == "_xsrf"][-1]
        return session, xsrf

    def api(self, name, method, path, **kwargs):
        """A request with ``name``'s token: ``path`` under /hub/api or /user/<name>."""
        import requests

        headers = {"Authorization": f"token {self.tokens[name]}"}
        return requests.request(method, self.url + path, headers=headers,
                                timeout=kwargs.pop("timeout", 120), **kwargs)

    def server(self, name, method, path, **kwargs):
        return self.api(name, method, f"/user/{name}{path}", **kwargs)


@pytest.fixture(scope="module")
def hub():
    reason = _missing()
    if reason:
        _unavailable(reason)
    tag = secrets.token_hex(3)
    instructor = f"acthub-{tag}-inst"
    students = [f"acthub-{tag}-s1", f"acthub-{tag}-s2"]
    tas = [f"acthub-{tag}-ta"]
    # Every account reads the students' configuration and the exchange in here.
    state = Path(tempfile.mkdtemp(prefix=f"actlib-hub-{tag}-", dir="/tmp"))
    os.chmod(state, 0o755)
    port = _free_base_port()
    the_hub = Hub(state, port, instructor, students, tas)
    try:
        _hub_command("setup", "--state", str(state), "--env", str(ENV_CACHE),
                     "--instructor", instructor, "--students", ",".join(students),
                     "--tas", ",".join(tas),
                     "--exchange", str(state / "exchange"), "--port", str(port), timeout=1200)
        _hub_command("start", "--state", str(state), "--timeout", "120", timeout=180)
        yield the_hub
    finally:
        with contextlib.suppress(Exception):
            subprocess.run([sys.executable, str(HUB_SCRIPT), "stop", "--state", str(state)],
                           capture_output=True, timeout=120)
        for name in the_hub.accounts:
            _remove_account(name)
        # the graders' group setup made (teardown removes it; this is for a run stopped early)
        subprocess.run(["groupdel", f"{instructor}-graders"], capture_output=True)
        shutil.rmtree(state, ignore_errors=True)


@pytest.fixture(scope="module")
def logged_in(hub):
    """Every account logged in through the form, with an API token and a running server."""
    passwords = hub.passwords()
    assert set(passwords) == set(hub.accounts)
    for name in hub.accounts:
        session, xsrf = hub.login(name, passwords[name])
        assert session is not None, f"{name} could not log in (HTTP {xsrf}):\n{hub.log_tail()}"
        response = session.post(f"{hub.url}/hub/api/users/{name}/tokens",
                                json={"note": "test_hub", "expires_in": 1800},
                                headers={"X-XSRFToken": xsrf}, timeout=60)
        assert response.status_code == 201, response.text
        hub.tokens[name] = response.json()["token"]
        response = hub.api(name, "POST", f"/hub/api/users/{name}/server")
        assert response.status_code in (201, 202), f"{name}: {response.text}\n{hub.log_tail()}"
    deadline = time.monotonic() + 150
    for name in hub.accounts:
        while True:
            model = hub.api(name, "GET", f"/hub/api/users/{name}").json()
            server = model.get("servers", {}).get("", {})
            if server.get("ready"):
                break
            assert model.get("pending") or server, (f"{name}'s server is gone:\n"
                                                    f"{hub.log_tail()}")
            assert time.monotonic() < deadline, f"{name}'s server did not start:\n{hub.log_tail()}"
            time.sleep(0.5)
    return hub



def _listening(port):
    """The addresses a TCP socket listens on at ``port`` (from /proc, no traffic)."""
    found = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        with contextlib.suppress(FileNotFoundError):
            for line in Path(table).read_text().splitlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                address, hex_port = local.split(":")
                if state == "0A" and int(hex_port, 16) == port:       # LISTEN
                    found.add(address)
    return found


LOOPBACK = {"0100007F", "00000000000000000000000001000000"}   # 127.0.0.1, ::1


@pytest.mark.hub
@pytest.mark.xdist_group("hub")
def test_hub_listens_on_loopback_only(logged_in):
    hub = logged_in
    ports = [hub.port, hub.port + 1, hub.port + 2]
    for name in hub.accounts:
        url = hub.api(name, "GET", f"/hub/api/users/{name}").json()["servers"][""]["url"]
        assert url == f"/user/{name}/"
    for port in ports:
        addresses = _listening(port)
        assert addresses and addresses <= LOOPBACK, (port, addresses)


@pytest.mark.hub
@pytest.mark.xdist_group("hub")
def test_logins_go_through_pam_and_servers_run_as_their_account(logged_in):
    hub = logged_in
    session, status = hub.login(hub.students[0], "not-the-password")
    assert session is None and status == 403
    for name in hub.accounts:
        uid = pwd.getpwnam(name).pw_uid
        servers = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError):
                environ = (entry / "environ").read_bytes().split(b"\0")
                cmdline = (entry / "cmdline").read_bytes()
                if (f"JUPYTERHUB_USER={name}".encode() in environ
                        and b"jupyterhub-singleuser" in cmdline):
                    servers.append(entry.stat().st_uid)
        assert servers == [uid], (name, servers)
    # the instructor's server runs in the course, a student's in their home
    listing = hub.server(hub.instructor, "GET", "/api/contents/").json()
    assert {"source", "notebooks", "nbgrader_config.py"} <= {e["name"] for e in listing["content"]}
    listing = hub.server(hub.students[0], "GET", "/api/contents/").json()
    assert "source" not in {e["name"] for e in listing["content"]}


def _page_config(hub, name):
    page = hub.server(name, "GET", "/lab").text
    match = re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>',
                      page, re.S)
    assert match, page[:500]
    return json.loads(match.group(1))


@pytest.mark.hub
@pytest.mark.xdist_group("hub")
def test_students_cannot_open_the_formgrader_and_the_instructor_can(logged_in):
    hub = logged_in
    response = hub.server(hub.instructor, "GET", "/formgrader")
    assert response.status_code == 200 and "nbgrader formgrade" in response.text
    assert hub.server(hub.instructor, "GET", "/formgrader/api/status").status_code == 200
    disabled = _page_config(hub, hub.instructor).get("disabledExtensions", [])
    assert not set(INSTRUCTOR_PLUGINS) & set(disabled), disabled
    for student in hub.students:
        for path in ("/formgrader", "/formgrader/api/status", "/formgrader/api/assignments",
                     "/formgraders"):
            status = hub.server(student, "GET", path).status_code
            assert status in (403, 404), f"{student} reached {path}: HTTP {status}"
        disabled = _page_config(hub, student).get("disabledExtensions", [])
        assert set(INSTRUCTOR_PLUGINS) <= set(disabled), disabled
        # the assignment list is there, pointed at the course
        response = hub.server(student, "GET", "/assignments", params={"course_id": COURSE})
        assert response.status_code == 200 and response.json()["success"], response.text
        # and one student's server cannot be opened with another's token
        other = hub.students[1] if student == hub.students[0] else hub.students[0]
        response = hub.api(other, "GET", f"/user/{student}/api/contents/",
                           allow_redirects=False)
        assert response.status_code in (302, 403, 404), response.status_code


def _as(user, *command):
    return subprocess.run(["runuser", "-u", user, "--", *command], capture_output=True,
                          text=True, cwd="/", timeout=60)


@pytest.mark.hub
@pytest.mark.xdist_group("hub")
def test_an_assignment_goes_round_the_exchange(logged_in):
    hub = logged_in
    teacher, (ada, alan) = hub.instructor, hub.students
    nbgrader = f"/formgrader/api/assignment/{ASSIGNMENT}"

    # The instructor generates the student version (and the gradebook's record) and releases.
    for action in ("assign", "release"):
        response = hub.server(teacher, "POST", f"{nbgrader}/{action}")
        assert response.status_code == 200 and response.json()["success"], response.text

    # Each student sees it in the assignment list and fetches it into their home.
    solution = json.loads((ROOT / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text())
    notebook = f"{ASSIGNMENT}/{ASSIGNMENT}.ipynb"
    for student in (ada, alan):
        listed = hub.server(student, "GET", "/assignments", params={"course_id": COURSE}).json()
        assert [a["status"] for a in listed["value"] if a["assignment_id"] == ASSIGNMENT] \
            == ["released"], listed
        response = hub.server(student, "POST", "/assignments/fetch",
                              data={"course_id": COURSE, "assignment_id": ASSIGNMENT})
        assert response.status_code == 200 and response.json()["success"], response.text
        fetched = hub.server(student, "GET", f"/api/contents/{notebook}").json()
        assert "raise NotImplementedError()" in json.dumps(fetched["content"])
    # Ada answers everything (the solution, saved through her server); Alan hands in the stub.
    response = hub.server(ada, "PUT", f"/api/contents/{notebook}",
                          json={"type": "notebook", "format": "json", "content": solution})
    assert response.status_code == 200, response.text
    for student in (ada, alan):
        response = hub.server(student, "POST", "/assignments/submit",
                              data={"course_id": COURSE, "assignment_id": ASSIGNMENT})
        assert response.status_code == 200 and response.json()["success"], response.text

    # Accounts keep to their own: a student cannot read the course, nor another's submission.
    course = Path(hub.state / "hub" / "settings.json")
    course = Path(json.loads(course.read_text())["course"])
    assert _as(ada, "cat", str(course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")) \
        .returncode != 0
    inbound = hub.state / "exchange" / COURSE / "inbound"
    assert _as(alan, "ls", str(inbound)).returncode != 0
    assert len(list(inbound.iterdir())) == 2

    # The instructor collects and autogrades (in the course's isolated kernels).
    response = hub.server(teacher, "POST", f"{nbgrader}/collect")
    assert response.status_code == 200 and response.json()["success"], response.text
    collected = hub.server(teacher, "GET", f"/api/contents/submitted/{ada}/{notebook}").json()
    answers = [c["source"] for c in collected["content"]["cells"]
               if c["metadata"].get("nbgrader", {}).get("solution")]
    expected = ["".join(c["source"]) for c in solution["cells"]
                if c["metadata"].get("nbgrader", {}).get("solution")]
    assert answers == expected
    for student in (ada, alan):
        response = hub.server(teacher, "POST",
                              f"/formgrader/api/submission/{ASSIGNMENT}/{student}/autograde",
                              timeout=600)
        assert response.status_code == 200 and response.json()["success"], response.text[-2000:]
    grades = {s["student"]: s for s in
              hub.server(teacher, "GET", f"/formgrader/api/submissions/{ASSIGNMENT}").json()}
    assert grades[ada]["max_code_score"] > 0
    assert grades[ada]["code_score"] == grades[ada]["max_code_score"], grades[ada]
    assert grades[alan]["code_score"] == 0 and grades[alan]["autograded"], grades[alan]


def _formgrader_grades(hub, name, student):
    """{cell: grade dict} of ``student``'s 01-neuron as ``name``'s Formgrader shows them."""
    subs = hub.server(name, "GET", f"/formgrader/api/submitted_notebooks/{ASSIGNMENT}/"
                                   f"{ASSIGNMENT}")
    assert subs.status_code == 200, hub.log_tail()
    (sub,) = [x for x in subs.json() if x["student"] == student]
    grades = hub.server(name, "GET", "/formgrader/api/grades", params={"submission_id": sub["id"]})
    assert grades.status_code == 200, hub.log_tail()
    return {g["name"]: g for g in grades.json()}


@pytest.mark.hub
@pytest.mark.xdist_group("hub")
def test_a_teaching_assistant_grades_by_hand_but_cannot_release(logged_in):
    """After the round trip above: the assistant's Formgrader grades ada's written answer (the
    instructor sees it), and every release — of the assignment, of feedback — is refused."""
    hub = logged_in
    (ta,), ada = hub.tas, hub.students[0]
    written = _formgrader_grades(hub, ta, ada)["written_step_gradient"]
    response = hub.server(ta, "PUT", f"/formgrader/api/grade/{written['id']}",
                          json={"manual_score": 1.5, "extra_credit": 0})
    assert response.status_code == 200, hub.log_tail()   # e.g. a read-only gradebook
    assert _formgrader_grades(hub, hub.instructor, ada)["written_step_gradient"][
        "manual_score"] == 1.5
    for path in (f"/formgrader/api/assignment/{ASSIGNMENT}/release",
                 f"/formgrader/api/assignment/{ASSIGNMENT}/{ada}/generate_feedback",
                 f"/formgrader/api/assignment/{ASSIGNMENT}/{ada}/release_feedback"):
        response = hub.server(ta, "POST", path, timeout=300)
        assert response.status_code == 200, response.text[:500]
        if "generate_feedback" in path:
            assert response.json()["success"], response.text[-1500:]   # grading work: allowed
        else:
            assert not response.json()["success"], f"the assistant could {path}"
            assert "You don't own the directory" in json.dumps(response.json()), response.text[-800:]
    # the instructor's status in the hub's course: graded in the Formgrader, not "changed"
    settings = json.loads((hub.state / "hub" / "settings.json").read_text())
    done = subprocess.run(["runuser", "-u", hub.instructor, "--",
                           str(Path(settings["python_bin"]) / "actcourse"), "status", ASSIGNMENT,
                           "--exchange", settings["exchange"]],
                          cwd=settings["course"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    rows = {line.split()[0]: line.split() for line in done.stdout.splitlines()[2:] if line.strip()}
    assert rows[ada][-4] == "12.5/15" and rows[ada][-3] == "1/2", done.stdout   # 11 + 1.5
    assert rows[ada][-2] == "current", done.stdout      # the feedback the assistant made
    assert "CHANGED" not in done.stdout and "stale" not in done.stdout, done.stdout


@pytest.mark.hub
@pytest.mark.xdist_group("hub")
def test_students_cannot_read_the_course_nor_the_repository(logged_in):
    hub = logged_in
    settings = json.loads((hub.state / "hub" / "settings.json").read_text())
    for student in hub.students:
        for path in (Path(settings["course"]) / "gradebook.db",
                     Path(settings["course"]) / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
                     ROOT / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"):
            assert _as(student, "cat", str(path)).returncode != 0, f"{student} reads {path}"
        for folder in (Path(settings["course"]), ROOT / "solutions"):
            assert _as(student, "ls", str(folder)).returncode != 0, f"{student} lists {folder}"
    # the assistant reads the course (they grade it) but not the repository
    (ta,) = hub.tas
    assert _as(ta, "ls", settings["course"]).returncode == 0
    assert _as(ta, "ls", str(ROOT / "solutions")).returncode != 0


@pytest.mark.hub
@pytest.mark.xdist_group("hub")
def test_teardown_leaves_no_account_process_port_or_folder(logged_in):
    """Last of the hub tests: teardown removes what setup made (the environment is kept on
    request: it is the tests' cache)."""
    hub = logged_in
    settings = json.loads((hub.state / "hub" / "settings.json").read_text())
    uids = {name: pwd.getpwnam(name).pw_uid for name in hub.accounts}
    refused = subprocess.run([sys.executable, str(HUB_SCRIPT), "teardown", "--state",
                              str(hub.state)], capture_output=True, text=True, timeout=60,
                             stdin=subprocess.DEVNULL)
    assert refused.returncode == 2 and "not confirmed" in refused.stderr, refused.stderr
    assert (hub.state / "hub").is_dir() and pwd.getpwnam(hub.instructor)   # nothing removed
    # the hub's log (every server's output) has no warning about nbgrader's feedback config
    # (the "coroutine ... never awaited" warning comes from the grader's sandbox kernel manager,
    # actlib/grading/grader/sandbox.py, which is being rewritten: not checked here)
    log = (hub.state / "hub" / "hub.log").read_text(errors="replace")
    stray = [line for line in log.splitlines() if "display_data_priority" in line]
    assert not stray, "\n".join(stray[:10])
    # through the one instructor command (actcourse hub ... runs tools/hub.py)
    done = subprocess.run([str(Path(sys.executable).parent / "actcourse"), "hub", "teardown",
                           "--state", str(hub.state), "--yes", "--keep-env"], cwd=ROOT / "source",
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "nothing of the hub is left" in out, out
    for name, uid in uids.items():
        with pytest.raises(KeyError):
            pwd.getpwnam(name)
        owned = [e.name for e in Path("/proc").iterdir() if e.name.isdigit()
                 and _stat_uid(e) == uid]
        assert not owned, f"processes of {name} are left: {owned}"
    import grp

    with pytest.raises(KeyError):
        grp.getgrnam(settings["graders_group"])
    for port in (hub.port, hub.port + 1, hub.port + 2):
        assert not _listening(port) and not hubtool.port_in_use(port), port
    assert not (hub.state / "hub").exists() and not Path(settings["exchange"]).exists()
    assert not Path(settings["course"]).exists()
    assert list(hub.state.iterdir()) == [], list(hub.state.iterdir())
    assert ENV_CACHE.is_dir()                                 # --keep-env


def _stat_uid(entry):
    try:
        return entry.stat().st_uid
    except OSError:
        return None
