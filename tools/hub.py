"""The course on a multi-user JupyterHub on one machine (loopback only).

    sudo python3 tools/hub.py setup --instructor teacher --tas tom,tina --students ada,alan
    sudo python3 tools/hub.py start          # http://127.0.0.1:8000/
    sudo python3 tools/hub.py stop
    sudo python3 tools/hub.py teardown       # remove what setup made (asks first)

``setup`` (root) creates the system accounts that do not exist yet, each with a random
password written to ``STATE/hub/passwords`` (readable by root only); the shared nbgrader
exchange (world-writable with the sticky bit, as nbgrader documents); a copy of the course for
the instructor in ``~INSTRUCTOR/activation-functions`` (kept if it already exists, private to
the instructor); the Python environment the hub and every user's server run (``STATE/venv``:
the course's requirements and actlib, outside the repository, so that no account needs to read
the repository with its solutions); the students' and the instructor's Jupyter configuration;
and the hub's settings (``STATE/hub/settings.json``), which ``hub/jupyterhub_config.py`` reads.
It installs the hub's proxy (configurable-http-proxy, from ``hub/package-lock.json``) into
``hub/node_modules`` with ``npm ci`` when it is missing.

Teaching assistants (``--tas``) get the instructor's tools on the instructor's course: the
course folder belongs to the group ``INSTRUCTOR-graders`` (setgid, group read and write, no
access for anyone else), and the instructor's and the assistants' servers run with umask 007,
so both grade — autograde, grade by hand in the Formgrader, make feedback. Only the instructor
releases: ``setup`` makes the course's folders in the exchange as nbgrader's release would, owned
by the instructor, and nbgrader refuses a release (of assignments or of feedback) into folders
one does not own.

``start`` (root: the spawner switches to each user's account) runs JupyterHub in the
background on 127.0.0.1:PORT, with PAM logins and one single-user server per user started as
that user; ``stop`` ends it and, with it, the proxy and every user's server. ``teardown``
(after asking, or with ``--yes``) stops the hub and removes what ``setup`` made: the accounts
it created (with their homes and processes), the graders' group, the passwords file and the
hub's folder, the course's folder in the exchange (and the exchange, if setup made it), and the
environment if setup made it (``--keep-env`` keeps it).
"""
import argparse
import contextlib
import fcntl
import hashlib
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HUB_DIR = ROOT / "hub"
CONFIG = HUB_DIR / "jupyterhub_config.py"
PROXY = HUB_DIR / "node_modules" / ".bin" / "configurable-http-proxy"
COURSE_ID = json.loads((ROOT / "jupyter-student" / "nbgrader_config.json").read_text()
                       )["CourseDirectory"]["course_id"]
# What the instructor's copy of the course holds (the repository root is the course directory):
# the master notebooks, the generated ones, the configuration and the instructor's commands.
COURSE_FILES = ("source", "notebooks", "solutions", "tools", "nbgrader_config.py")

DEFAULT_STATE = Path("/srv") / COURSE_ID
DEFAULT_EXCHANGE = Path("/srv/nbgrader/exchange")
DEFAULT_PORT = 8000
NAME = re.compile(r"[a-z_][a-z0-9_-]{0,31}")


class HubError(Exception):
    """A one-line reason why a command could not do its job."""


# --- paths and settings -----------------------------------------------------------------------

def settings_path(state):
    return Path(state) / "hub" / "settings.json"


def read_settings(state):
    path = settings_path(state)
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise HubError(f"no hub set up in {state} (no {path}): run `tools/hub.py setup` first")


def require_root(what):
    if os.geteuid() != 0:
        raise HubError(f"needs root to {what} (run it with sudo)")


def ports(port):
    """The hub's three loopback ports: the public proxy, the hub's API, the proxy's API."""
    return {"port": port, "hub_port": port + 1, "proxy_api_port": port + 2}


def port_in_use(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


# --- setup ------------------------------------------------------------------------------------

def install_proxy():
    """configurable-http-proxy from the lock file into hub/node_modules (npm ci), once."""
    if PROXY.exists():
        return PROXY
    npm = shutil.which("npm")
    if npm is None:
        raise HubError("configurable-http-proxy is not installed and npm is missing: install "
                       "Node.js >= 20 and npm (Debian: apt-get install nodejs npm)")
    result = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--prefix", str(HUB_DIR)],
                            cwd=HUB_DIR, capture_output=True, text=True)
    if result.returncode != 0 or not PROXY.exists():
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise HubError(f"npm ci in {HUB_DIR} could not install configurable-http-proxy: {last}")
    return PROXY


def not_reachable_by_others(path):
    """The first folder on the way to ``path`` that other accounts cannot enter, or None."""
    path = Path(path).resolve()
    for folder in [*reversed(path.parents), path]:
        if not folder.stat().st_mode & stat.S_IXOTH:
            return folder
    return None


# The Python environment every account runs (and the hub itself): outside the repository, so
# that no account needs to reach the course's source/ and solutions/; the course's requirements
# without the test tools, and actlib installed as a package (not editable).
TEST_ONLY = {"pytest", "pytest-xdist", "hypothesis", "playwright"}
PACKAGE_FILES = ("pyproject.toml", "README.md", "actlib")


def user_requirements():
    """requirements.txt less the editable course and the test tools."""
    wanted = []
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        requirement = line.split("#", 1)[0].strip()
        if not requirement or requirement.startswith("-"):
            continue
        name = re.split(r"[<>=!~\[;@ ]", requirement, maxsplit=1)[0].lower()
        if name not in TEST_ONLY:
            wanted.append(requirement)
    return wanted


def base_python(choice):
    """An interpreter every account can run: ``choice``, else this one, else Debian's."""
    candidates = [choice] if choice else [sys.executable, "/usr/bin/python3"]
    for candidate in candidates:
        real = os.path.realpath(candidate)
        if os.access(real, os.X_OK) and not_reachable_by_others(real) is None:
            return real
    tried = ", ".join(os.path.realpath(c) for c in candidates)
    raise HubError(f"no Python that every account can run ({tried}): install python3 and "
                   "python3-venv (Debian), or pass --python")


def digest(*parts):
    h = hashlib.sha256()
    for part in parts:
        h.update(part if isinstance(part, bytes) else str(part).encode())
        h.update(b"\0")
    return h.hexdigest()


def package_digest():
    files = sorted(p for p in (ROOT / "actlib").rglob("*.py"))
    return digest((ROOT / "pyproject.toml").read_bytes(),
                  *(f"{p.relative_to(ROOT)}\n".encode() + p.read_bytes() for p in files))


def run_pip(env_dir, args, what):
    result = subprocess.run([str(env_dir / "bin" / "python"), "-m", "pip", "install", "--quiet",
                             *args], capture_output=True, text=True)
    if result.returncode != 0:
        errors = [l for l in result.stderr.splitlines() if "WARNING" not in l] or ["no output"]
        raise HubError(f"pip could not install {what} into {env_dir}: {errors[-1].strip()}")


def make_environment(env_dir, python):
    """Create or update the hub's environment; skip what is already up to date. One setup at
    a time per environment (a lock file beside it)."""
    env_dir = Path(env_dir)
    env_dir.parent.mkdir(parents=True, exist_ok=True)
    with open(env_dir.parent / f".{env_dir.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _make_environment(env_dir, python)


def _make_environment(env_dir, python):
    stamps = env_dir / ".actlib-hub"
    if not (env_dir / "bin" / "python").exists():
        print(f"creating the hub's Python environment {env_dir} (from {python})")
        result = subprocess.run([python, "-m", "venv", str(env_dir)], capture_output=True,
                                text=True)
        if result.returncode != 0:
            last = (result.stderr.strip().splitlines() or ["no output"])[-1]
            raise HubError(f"{python} -m venv {env_dir} failed: {last} "
                           "(Debian: apt-get install python3-venv)")
    os.chmod(env_dir, 0o755)
    stamps.mkdir(exist_ok=True)
    requirements = user_requirements()
    want = digest(*requirements)
    stamp = stamps / "requirements"
    if not stamp.exists() or stamp.read_text() != want:
        print(f"installing the course's requirements into {env_dir} (a few minutes the first "
              "time)")
        run_pip(env_dir, requirements, "the course's requirements")
        stamp.write_text(want)
    want = package_digest()
    stamp = stamps / "actlib"
    if not stamp.exists() or stamp.read_text() != want:
        # built from a copy: pip would leave build/ and *.egg-info in the repository
        with tempfile.TemporaryDirectory() as tmp:
            for name in PACKAGE_FILES:
                if (ROOT / name).is_dir():
                    shutil.copytree(ROOT / name, Path(tmp) / name,
                                    ignore=shutil.ignore_patterns("__pycache__"))
                else:
                    shutil.copy2(ROOT / name, Path(tmp) / name)
            run_pip(env_dir, ["--no-deps", "--force-reinstall", tmp], "actlib")
        stamp.write_text(want)
    blocked = not_reachable_by_others(env_dir)
    if blocked is not None:
        raise HubError(f"the hub's Python environment {env_dir} is not reachable by other "
                       f"accounts: {blocked} has mode {stat.S_IMODE(blocked.stat().st_mode):o} "
                       "(choose another --env, or chmod o+x that folder)")
    return env_dir / "bin"


def create_account(name, comment):
    """Create the system account ``name`` with a home folder (mode 700) and a random
    password; returns the password, or None when the account exists (left as it is)."""
    try:
        pwd.getpwnam(name)
        return None
    except KeyError:
        pass
    result = subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash",
                             "--comment", comment, name], capture_output=True, text=True)
    if result.returncode != 0:
        raise HubError(f"useradd {name} failed: {result.stderr.strip() or result.returncode}")
    password = secrets.token_urlsafe(12)
    result = subprocess.run(["chpasswd"], input=f"{name}:{password}\n", capture_output=True,
                            text=True)
    if result.returncode != 0:
        raise HubError(f"chpasswd for {name} failed: {result.stderr.strip()}")
    os.chmod(pwd.getpwnam(name).pw_dir, 0o700)
    return password


def chown_tree(path, user):
    entry = pwd.getpwnam(user)
    for folder, dirs, files in os.walk(path):
        os.chown(folder, entry.pw_uid, entry.pw_gid)
        for name in files:
            os.chown(os.path.join(folder, name), entry.pw_uid, entry.pw_gid)


def write_json(path, data, mode=0o644):
    path.write_text(json.dumps(data, indent=2) + "\n")
    os.chmod(path, mode)


def copy_public(source, destination):
    """Copy a tree for every account to read (folders 755, files 644)."""
    if destination.exists():
        shutil.rmtree(destination)
    shutil.copytree(source, destination,
                    ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    for folder, dirs, files in os.walk(destination):
        os.chmod(folder, 0o755)
        for name in files:
            os.chmod(os.path.join(folder, name), 0o644)


def check_account_can_run(user, bin_dir):
    """The user's server runs the hub's environment, and its notebooks import actlib."""
    python = str(Path(bin_dir) / "python")
    result = subprocess.run(["runuser", "-u", user, "--", python, "-c",
                             "import jupyterhub, nbgrader, actlib.grading.checks"],
                            capture_output=True, text=True, cwd="/")
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise HubError(f"the account {user} cannot run the hub's Python environment "
                       f"({Path(bin_dir).parent}): {last}")


def _exists(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def _user(uid):
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def _group_exists(name):
    import grp

    try:
        grp.getgrnam(name)
        return True
    except KeyError:
        return False


def run_checked(command, what):
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise HubError(f"{what} failed: {result.stderr.strip() or result.returncode}")


def protect_repository():
    """The repository holds solutions/ and the hidden tests, and the hub needs only root to
    read it: when other accounts could list solutions/ (a clone with mode 755), take away
    others' access to the repository's folder, and say so."""
    if not_reachable_by_others(ROOT / "solutions") is None:
        mode = stat.S_IMODE(ROOT.stat().st_mode)
        os.chmod(ROOT, mode & ~0o007)
        print(f"made {ROOT} private to its owner and group (mode {mode:o} -> "
              f"{mode & ~0o007:o}): with it, every account could read solutions/ and the hidden "
              f"tests")


def share_with_graders(course, instructor, group):
    """The course folder for the instructor and the graders' group only: group owner
    ``group``, folders 2770 (new files keep the group), files group-readable and -writable."""
    import grp

    gid = grp.getgrnam(group).gr_gid
    uid = pwd.getpwnam(instructor).pw_uid
    for folder, dirs, files in os.walk(course):
        os.chown(folder, uid, gid)
        os.chmod(folder, 0o2770)
        for name in files:
            path = os.path.join(folder, name)
            os.chown(path, uid, gid)
            os.chmod(path, (stat.S_IMODE(os.stat(path).st_mode) | 0o660) & ~0o007)


def make_gradebook(course, instructor, bin_dir):
    """Make the course's gradebook as the instructor (nbgrader's own command), writable by the
    graders' group: SQLite makes a database file mode 644 whatever the umask, so one the
    instructor's server made would be read-only for the teaching assistants."""
    db = course / "gradebook.db"
    if not db.exists():
        result = subprocess.run([shutil.which("runuser"), "-u", instructor, "--",
                                 str(Path(bin_dir) / "python"),
                                 "-m", "nbgrader", "db", "student", "list"], cwd=course,
                                env={"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(course.parent)},
                                capture_output=True, text=True)
        if result.returncode != 0 or not db.exists():
            last = (result.stderr.strip().splitlines() or ["no output"])[-1]
            raise HubError(f"nbgrader could not make the gradebook {db}: {last}")
    os.chmod(db, 0o660)


def make_course_box(box, instructor):
    """The course's folders in the exchange, made as nbgrader's release makes them (course and
    outbound 755, inbound 2733 — students hand in but cannot list —, feedback 711), owned by
    the instructor: only the instructor can release assignments and feedback there."""
    entry = pwd.getpwnam(instructor)
    for path, mode in ((box, 0o755), (box / "outbound", 0o755), (box / "inbound", 0o2733),
                       (box / "feedback", 0o711)):
        if not path.exists():
            path.mkdir()
            os.chown(path, entry.pw_uid, entry.pw_gid)
            os.chmod(path, mode)


def setup(args):
    require_root("create accounts")
    instructor = args.instructor
    students = [s for s in args.students.split(",") if s] if args.students else []
    for name in [instructor, *students]:
        if not NAME.fullmatch(name):
            raise HubError(f"invalid account name {name!r}: use lowercase letters, digits, "
                           "'-' and '_' (at most 32, not starting with a digit or '-')")
    if instructor in students:
        raise HubError(f"{instructor} cannot be both the instructor and a student")
    if len(set(students)) != len(students):
        raise HubError("a student is named twice in --students")
    tas = [t for t in args.tas.split(",") if t] if args.tas else []
    for name in tas:
        if not NAME.fullmatch(name):
            raise HubError(f"invalid account name {name!r}: use lowercase letters, digits, "
                           "'-' and '_' (at most 32, not starting with a digit or '-')")
        if name == instructor or name in students:
            raise HubError(f"{name} cannot be a teaching assistant and also the instructor or "
                           "a student")
    if not 1024 <= args.port <= 65533:
        raise HubError(f"--port {args.port} is out of range (1024-65533; the hub uses it "
                       "and the next two ports)")
    for tool in ("useradd", "chpasswd", "runuser", "groupadd", "usermod"):
        if shutil.which(tool) is None:
            raise HubError(f"{tool} is missing (Debian: apt-get install passwd util-linux)")
    state = Path(args.state).resolve()
    exchange = Path(args.exchange).resolve()
    # One course, one exchange: a course folder there that another account owns (a term run as
    # root, another instructor) would make the instructor's release fail.
    course_box = exchange / COURSE_ID
    if course_box.exists():
        owner = course_box.stat().st_uid
        wanted = pwd.getpwnam(instructor).pw_uid if _exists(instructor) else None
        if owner != wanted:
            raise HubError(f"{course_box} belongs to {_user(owner)}, not to the instructor "
                           f"{instructor}: one course, one exchange. If no one else uses it, "
                           f"remove it (rm -r {course_box}); otherwise pass another --exchange")
    python = base_python(args.python)
    proxy = install_proxy()
    previous = {}
    with contextlib.suppress(HubError, ValueError):
        previous = read_settings(state)
    protect_repository()
    state_made = not state.exists()
    hub_state = state / "hub"
    hub_state.mkdir(parents=True, exist_ok=True)
    os.chmod(state, 0o755)
    os.chmod(hub_state, 0o700)

    # The exchange: every account writes there, nobody removes another's files (sticky bit).
    exchange_made = previous.get("made", {}).get("exchange", False) or not exchange.exists()
    exchange.mkdir(parents=True, exist_ok=True)
    os.chmod(exchange, 0o1777)

    env_dir = Path(args.env).resolve() if args.env else state / "venv"
    env_made = (previous.get("made", {}).get("env", False) and previous.get("env") == str(env_dir)) \
        or not (env_dir / "bin" / "python").exists()
    bin_dir = make_environment(env_dir, python)

    # The students' and the instructor's Jupyter configuration, both pointing nbgrader at the
    # exchange.
    copy_public(ROOT / "jupyter-student", state / "jupyter-student")
    student_nbgrader = json.loads((ROOT / "jupyter-student" / "nbgrader_config.json").read_text())
    student_nbgrader.setdefault("Exchange", {})["root"] = str(exchange)
    write_json(state / "jupyter-student" / "nbgrader_config.json", student_nbgrader)
    (state / "jupyter-instructor").mkdir(exist_ok=True)
    os.chmod(state / "jupyter-instructor", 0o755)
    write_json(state / "jupyter-instructor" / "nbgrader_config.json",
               {"Exchange": {"root": str(exchange)}})

    # Every account must reach the students' configuration and the exchange.
    for folder in (state / "jupyter-student", exchange):
        blocked = not_reachable_by_others(folder)
        if blocked is not None:
            raise HubError(f"{folder} is not reachable by other accounts: {blocked} has mode "
                           f"{stat.S_IMODE(blocked.stat().st_mode):o} (choose another --state "
                           "or --exchange)")

    # The accounts; new ones get a random password, kept for root only.
    passwords = hub_state / "passwords"
    created = {}
    for name, role in [(instructor, "instructor"), *[(t, "teaching assistant") for t in tas],
                       *[(s, "student") for s in students]]:
        password = create_account(name, f"{COURSE_ID} hub {role}")
        if password is not None:
            created[name] = password
    made_accounts = sorted(set(previous.get("made", {}).get("accounts", [])) | set(created))
    group = f"{instructor}-graders"[:32]
    group_made = previous.get("made", {}).get("group") == group or not _group_exists(group)
    if not _group_exists(group):
        run_checked(["groupadd", group], f"groupadd {group}")
    for name in [instructor, *tas]:   # the instructor too: the assistants' files are the group's
        run_checked(["usermod", "--append", "--groups", group, name], f"usermod {name}")
    if created:
        old = passwords.read_text() if passwords.exists() else ""
        kept = [line for line in old.splitlines() if line.split(":")[0] not in created]
        passwords.write_text("".join(f"{line}\n" for line in kept)
                             + "".join(f"{n}:{p}\n" for n, p in created.items()))
        os.chmod(passwords, 0o600)

    # The instructor's course: a copy of the repository's course files, the instructor's own.
    home = Path(pwd.getpwnam(instructor).pw_dir)
    course = home / COURSE_ID
    if course.exists():
        print(f"kept the instructor's existing course {course}")
    else:
        course.mkdir()
        for name in COURSE_FILES:
            source = ROOT / name
            if source.is_dir():
                shutil.copytree(source, course / name, ignore=shutil.ignore_patterns(
                    ".ipynb_checkpoints", "__pycache__"))
            else:
                shutil.copy2(source, course / name)
        chown_tree(course, instructor)
    share_with_graders(course, instructor, group)
    if tas:
        # the assistants' servers start in the course, inside the instructor's home: the
        # graders' group may pass through it (not list it); others keep what they had
        import grp

        mode = stat.S_IMODE(home.stat().st_mode)
        os.chown(home, -1, grp.getgrnam(group).gr_gid)
        os.chmod(home, (mode & ~0o070) | 0o010)
    make_course_box(course_box, instructor)

    # ... and run the environment (as the instructor and as a student)
    for name in [instructor, *tas[:1], *students[:1]]:
        check_account_can_run(name, bin_dir)
    make_gradebook(course, instructor, bin_dir)

    settings = {
        **ports(args.port),
        "instructor": instructor,
        "tas": tas,
        "graders_group": group,
        "students": students,
        "exchange": str(exchange),
        "course": str(course),
        "state": str(state),
        "student_config": str(state / "jupyter-student"),
        "instructor_config": str(state / "jupyter-instructor"),
        "python_bin": str(bin_dir),
        "env": str(env_dir),
        "proxy": str(proxy),
        # what setup made, for teardown: the accounts it created, the group, the exchange (if
        # it did not exist), the environment (if it did not exist), the state folder
        "made": {"accounts": made_accounts, "group": group if group_made else None,
                 "exchange": exchange_made, "env": env_made,
                 "state": previous.get("made", {}).get("state", state_made)},
    }
    write_json(settings_path(state), settings, mode=0o600)
    print(f"hub set up in {state}: instructor {instructor}, teaching assistants "
          f"{', '.join(tas) or '(none)'}, students {', '.join(students) or '(none)'}, exchange "
          f"{exchange}, course {course}")
    if created:
        print(f"new accounts' passwords: {passwords} (root only); change them with passwd")


# --- start and stop ---------------------------------------------------------------------------

def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def hub_pid(state):
    try:
        pid = int((Path(state) / "hub" / "hub.pid").read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    return pid


def wait_for_hub(url, process, log, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = " | ".join(log.read_text(errors="replace").strip().splitlines()[-3:])
            raise HubError(f"JupyterHub exited with status {process.returncode}: {tail} "
                           f"(log: {log})")
        try:
            with urllib.request.urlopen(url + "hub/api/", timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    raise HubError(f"JupyterHub did not answer at {url} within {timeout} s (log: {log})")


def start(args):
    require_root("start the hub (its spawner runs each user's server as that user)")
    settings = read_settings(args.state)
    pid = hub_pid(args.state)
    if pid is not None:
        raise HubError(f"the hub is already running (pid {pid}); `tools/hub.py stop` first")
    for key in ("port", "hub_port", "proxy_api_port"):
        if port_in_use(settings[key]):
            raise HubError(f"port {settings[key]} on 127.0.0.1 is in use (the hub needs "
                           f"{settings['port']}-{settings['port'] + 2}; rerun setup with --port)")
    if not Path(settings["proxy"]).exists():
        raise HubError(f"the proxy {settings['proxy']} is missing: rerun `tools/hub.py setup`")
    hub_state = Path(settings["state"]) / "hub"
    env = {**os.environ, "ACTLIB_HUB_SETTINGS": str(settings_path(settings["state"]))}
    python = str(Path(settings["python_bin"]) / "python")
    command = [python, "-m", "jupyterhub", "-f", str(CONFIG)]
    if args.foreground:
        os.chdir(hub_state)
        os.execve(python, command, env)
    log = hub_state / "hub.log"
    with open(log, "ab") as out:
        process = subprocess.Popen(command, cwd=hub_state, env=env, stdout=out,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
    url = f"http://127.0.0.1:{settings['port']}/"
    try:
        wait_for_hub(url, process, log, args.timeout)
    except HubError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        raise
    print(f"hub running at {url} (pid {process.pid}, log {log})")


def stop(args):
    require_root("stop the hub")
    settings = read_settings(args.state)
    hub_state = Path(settings["state"]) / "hub"
    pid = hub_pid(args.state)
    if pid is None:
        print("the hub is not running")
    else:
        # JupyterHub stops every user's server and its proxy when it gets SIGTERM.
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline and alive(pid):
            time.sleep(0.2)
        if alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            print(f"the hub (pid {pid}) did not stop within {args.timeout} s: killed")
        else:
            print(f"hub stopped (pid {pid})")
    # A proxy left by a killed hub would keep the port.
    proxy_pid_file = hub_state / "proxy.pid"
    with contextlib.suppress(FileNotFoundError, ValueError, ProcessLookupError):
        proxy_pid = int(proxy_pid_file.read_text().strip())
        os.kill(proxy_pid, signal.SIGTERM)
        print(f"stopped the proxy left behind (pid {proxy_pid})")
    with contextlib.suppress(FileNotFoundError):
        (hub_state / "hub.pid").unlink()


# --- teardown ---------------------------------------------------------------------------------

def _account_pids(uid):
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if entry.stat().st_uid == uid:
                    pids.append(int(entry.name))
    return pids


def teardown(args):
    require_root("remove accounts")
    settings = read_settings(args.state)
    made = settings.get("made", {})
    state = Path(settings["state"])
    exchange = Path(settings["exchange"])
    plan = [f"stop the hub and every user's server"]
    plan += [f"remove the account {n} (its home and processes)" for n in made.get("accounts", [])]
    if made.get("group"):
        plan.append(f"remove the group {made['group']}")
    plan.append(f"remove {exchange / COURSE_ID}" + (f" and the exchange {exchange}"
                                                  if made.get("exchange") else ""))
    if made.get("env") and not args.keep_env:
        plan.append(f"remove the environment {settings['env']}")
    plan.append(f"remove {state / 'hub'} (settings, passwords, database, log)"
                + (f" and {state}" if made.get("state") else ""))
    print("tools/hub.py teardown will:\n" + "\n".join(f"  - {line}" for line in plan))
    if not args.yes:
        if not sys.stdin.isatty():
            raise HubError("not confirmed: run it in a terminal to answer, or pass --yes")
        if input("Go ahead? Type yes: ").strip().lower() != "yes":
            raise HubError("not confirmed: nothing removed")
    stop(argparse.Namespace(state=args.state, timeout=60))
    for name in made.get("accounts", []):
        try:
            uid = pwd.getpwnam(name).pw_uid
        except KeyError:
            continue
        for pid in _account_pids(uid):      # only processes of the accounts setup created
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        run_checked(["userdel", "--remove", name], f"userdel {name}")
        print(f"removed the account {name}")
    if made.get("group") and _group_exists(made["group"]):
        run_checked(["groupdel", made["group"]], f"groupdel {made['group']}")
    shutil.rmtree(exchange / COURSE_ID, ignore_errors=True)
    if made.get("exchange"):
        with contextlib.suppress(OSError):
            exchange.rmdir()              # only when empty: other courses may use it
    if made.get("env") and not args.keep_env:
        shutil.rmtree(settings["env"], ignore_errors=True)
    shutil.rmtree(state / "hub", ignore_errors=True)
    for name in ("jupyter-student", "jupyter-instructor"):
        shutil.rmtree(state / name, ignore_errors=True)
    if made.get("state"):
        with contextlib.suppress(OSError):
            state.rmdir()
    busy = [p for key in ("port", "hub_port", "proxy_api_port")
            for p in [settings[key]] if port_in_use(p)]
    if busy:
        raise HubError(f"removed, but port(s) {', '.join(map(str, busy))} on 127.0.0.1 are "
                       "still in use (by something else?)")
    print("teardown done: nothing of the hub is left")


# --- command line -----------------------------------------------------------------------------

def parser():
    p = argparse.ArgumentParser(
        prog="tools/hub.py",
        description="The course on a local multi-user JupyterHub (127.0.0.1): PAM logins, one "
                    "server per system account, a shared nbgrader exchange; the instructor's "
                    "server has nbgrader's instructor tools, the students' do not.")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--state", default=str(DEFAULT_STATE),
                        help=f"the hub's folder: settings, database, logs, users' config "
                             f"(default {DEFAULT_STATE})")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("setup", parents=[common],
                       help="create the accounts, the exchange, the instructor's course, the "
                            "hub's Python environment and settings (root)")
    s.add_argument("--instructor", required=True, help="the instructor's account")
    s.add_argument("--students", default="", help="students' accounts, comma-separated")
    s.add_argument("--tas", default="", help="teaching assistants' accounts, comma-separated: "
                   "they grade (by hand, in the Formgrader) but cannot release")
    s.add_argument("--exchange", default=str(DEFAULT_EXCHANGE),
                   help=f"nbgrader's exchange folder (default {DEFAULT_EXCHANGE})")
    s.add_argument("--env", help="the Python environment the hub and every user's server run, "
                                 "made by setup (default STATE/venv)")
    s.add_argument("--python", help="the interpreter that environment is made from (default: "
                                    "this one if every account can run it, else "
                                    "/usr/bin/python3)")
    s.add_argument("--port", type=int, default=DEFAULT_PORT,
                   help=f"the hub's port on 127.0.0.1 (default {DEFAULT_PORT}; it also uses "
                        "the next two for its API and the proxy's API)")
    s.set_defaults(run=setup)
    s = sub.add_parser("start", parents=[common], help="start the hub in the background (root)")
    s.add_argument("--foreground", action="store_true", help="run the hub in this terminal")
    s.add_argument("--timeout", type=float, default=120,
                   help="seconds to wait for the hub to answer (default 120)")
    s.set_defaults(run=start)
    s = sub.add_parser("stop", parents=[common],
                       help="stop the hub, its proxy and every user's server (root)")
    s.add_argument("--timeout", type=float, default=60,
                   help="seconds to wait before killing the hub (default 60)")
    s.set_defaults(run=stop)
    s = sub.add_parser("teardown", parents=[common],
                       help="stop the hub and remove what setup made: the accounts it created, "
                            "the passwords file, the exchange, the environment (root; asks first)")
    s.add_argument("--yes", action="store_true", help="do not ask")
    s.add_argument("--keep-env", action="store_true",
                   help="keep the Python environment (even if setup made it)")
    s.set_defaults(run=teardown)
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        args.run(args)
    except HubError as exc:
        print(f"tools/hub.py {args.command}: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
