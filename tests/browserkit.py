"""Helpers of the browser tests (tests/test_browser.py): a JupyterLab server on loopback and
Debian's Chromium driven by Playwright.

Nothing here runs at import time; `missing` says what a machine lacks to run the tests.
"""
import atexit
import contextlib
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
# Chromium in a closed network, possibly as root: no sandbox (root), and nothing that calls
# home (without these flags it keeps trying to reach Google's services).
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]
# Variables that make the notebooks build no widgets (see actlib.widgets): a person at
# JupyterLab has none of them.
HEADLESS_VARIABLES = ("ACTLIB_HEADLESS", "NBGRADER_EXECUTION")


def chromium_path():
    """The system Chromium, or None."""
    for candidate in (os.environ.get("CHROMIUM"), *CHROMIUM_PATHS, shutil.which("chromium")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def missing():
    """One line saying what this machine lacks for the browser tests, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Python package playwright is not installed (pip install -r requirements.txt)"
    if chromium_path() is None:
        return ("no Chromium at /usr/bin/chromium (Debian: apt-get install chromium; "
                "or set CHROMIUM to its path)")
    return None


def screenshot_dir():
    """Where this run writes its screenshots: $BROWSER_SCREENSHOTS, or a fixed temp folder."""
    return Path(os.environ.get("BROWSER_SCREENSHOTS")
                or Path(tempfile.gettempdir()) / "actlib-browser-screenshots")


# --- the README's commands ------------------------------------------------------------------

def readme_lab_command(which):
    """The JupyterLab part of one of the README's commands: ``which`` is "students" (the
    first command of the README) or "instructors" (the command in the instructors'
    section). Returns (environment assignments, arguments after ``jupyter lab``)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = re.findall(r"```bash\n(.*?)\n```", text, flags=re.S)
    if which == "students":
        line = commands[0]
    else:
        section = text[text.index("## For instructors"):]
        line = re.findall(r"```bash\n(.*?)\n```", section, flags=re.S)[0]
    part = line.split("&&")[-1].strip()
    words = shlex.split(part)
    env = {}
    while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", words[0]):
        name, value = words.pop(0).split("=", 1)
        env[name] = value
    if words[:2] != ["jupyter", "lab"]:
        raise ValueError(f"the README's {which} command does not end in `jupyter lab`: {part!r}")
    return env, words[2:]


# --- the server -----------------------------------------------------------------------------

def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    """A JupyterLab server started like a README command, in the course copy ``course``
    (the README's relative paths resolve against it), on loopback with a token.

    Its own settings and workspaces folders keep it apart from the user's JupyterLab; the
    notebooks show every cell (no windowing), so that every output is in the page.
    """

    def __init__(self, course, which="students", *, home):
        self.course = Path(course)
        self.token = secrets.token_hex(16)
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env_assignments, args = readme_lab_command(which)
        home = Path(home)
        settings = home / "settings" / "@jupyterlab" / "notebook-extension"
        settings.mkdir(parents=True, exist_ok=True)
        (settings / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
        # No "get notified about Jupyter news?" toast over the page (it can cover a control).
        notification = home / "settings" / "@jupyterlab" / "apputils-extension"
        notification.mkdir(parents=True, exist_ok=True)
        (notification / "notification.jupyterlab-settings").write_text(
            '{"fetchNews": "false", "checkForUpdates": false}')
        (home / "workspaces").mkdir(exist_ok=True)
        # a person's JupyterLab has no headless switch and no forced Matplotlib backend
        env = {k: v for k, v in os.environ.items()
               if k not in HEADLESS_VARIABLES and k != "MPLBACKEND"}
        for name, value in env_assignments.items():
            env[name] = os.path.expandvars(value.replace("$PWD", str(self.course)))
        env.update(self.kernel_environment(home))
        env["JUPYTERLAB_SETTINGS_DIR"] = str(home / "settings")
        env["JUPYTERLAB_WORKSPACES_DIR"] = str(home / "workspaces")
        env["JUPYTER_RUNTIME_DIR"] = str(home / "runtime")
        env["JUPYTER_DATA_DIR"] = str(home / "data")
        self.log_path = home / f"jupyterlab-{which}.log"
        self.log = open(self.log_path, "wb")
        command = [sys.executable, "-m", "jupyterlab", *args, "--no-browser",
                   "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}",
                   "--ServerApp.port_retries=0", f"--IdentityProvider.token={self.token}",
                   "--LabApp.news_url=None",
                   "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
                   # window.jupyterapp: the tests type answers into cells through it
                   "--LabApp.expose_app_in_browser=True",
                   # a server left behind by a killed test run ends itself
                   "--ServerApp.shutdown_no_activity_timeout=900",
                   "--MappingKernelManager.cull_idle_timeout=900"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.append("--allow-root")      # CI runs as root
        self.process = subprocess.Popen(command, cwd=self.course, env=env, stdout=self.log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        atexit.register(self.stop)
        try:
            self._wait_ready()
        except Exception:
            self.stop()
            raise

    @staticmethod
    def kernel_environment(home):
        """Figures as SVG with real text (titles and legends readable in the page) and
        fixed ids and dates (an unchanged figure gives identical bytes)."""
        rc = Path(home) / "matplotlibrc"
        rc.write_text("svg.fonttype: none\nsvg.hashsalt: actlib-browser-tests\n")
        ipython = Path(home) / "ipython"
        (ipython / "profile_default").mkdir(parents=True, exist_ok=True)
        (ipython / "profile_default" / "ipython_kernel_config.py").write_text(
            "c.InlineBackend.figure_formats = {'svg'}\n")
        return {"MATPLOTLIBRC": str(rc), "IPYTHONDIR": str(ipython),
                "SOURCE_DATE_EPOCH": "0", "OPENBLAS_NUM_THREADS": "1",
                "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

    def _wait_ready(self, timeout=120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with {self.process.returncode}; "
                                   f"log: {self.log_path}\n{self.log_text()[-3000:]}")
            try:
                if self.get("/api/status")[0] == 200:
                    return
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.2)
        raise TimeoutError(f"JupyterLab did not answer within {timeout} s; log: {self.log_path}")

    def log_text(self):
        return self.log_path.read_text(errors="replace")

    def get(self, path):
        """(status, body) of an authenticated GET on the server."""
        return self.request("GET", path)

    def page_url(self, path="", workspace=None):
        """The address that opens ``path`` (relative to the server's root) in JupyterLab,
        in a fresh ``workspace`` when one is named (no tab of an earlier page comes back)."""
        where = f"/workspaces/{workspace}" if workspace else ""
        tree = f"/tree/{urllib.parse.quote(path)}" if path else ""
        reset = "reset&" if workspace else ""
        return f"{self.url}/lab{where}{tree}?{reset}token={self.token}"

    def request(self, method, path):
        """(status, body) of an authenticated request on the server."""
        request = urllib.request.Request(self.url + path, method=method,
                                         headers={"Authorization": f"token {self.token}"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode("utf-8", "replace")

    def shut_down_sessions(self):
        """End every notebook session (and its kernel) the server has."""
        import json

        status, body = self.request("GET", "/api/sessions")
        for session in json.loads(body) if status == 200 else ():
            self.request("DELETE", f"/api/sessions/{session['id']}")

    def stop(self):
        """End the server and its kernels (the whole process group); idempotent."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=20)
        if not self.log.closed:
            self.log.close()


SOLUTIONS = "scratch-solutions"


def course_copy(destination):
    """A scratch copy of what the README's commands need: the student notebooks,
    nbgrader's configuration and the students' JupyterLab configuration; plus the solution
    notebooks inside the notebook folder (``notebooks/scratch-solutions/<assignment>/``),
    so that the students' server can open them too."""
    destination = Path(destination)
    for name in ("notebooks", "jupyter-student"):
        shutil.copytree(ROOT / name, destination / name,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    shutil.copytree(ROOT / "solutions", destination / "notebooks" / SOLUTIONS,
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    for name in ("nbgrader_config.py", "README.md"):
        shutil.copy2(ROOT / name, destination / name)
    return destination


# --- the browser ----------------------------------------------------------------------------

def launch_browser(playwright):
    """Debian's Chromium, headless (Playwright gives each launch a fresh profile folder)."""
    return playwright.chromium.launch(
        executable_path=chromium_path(),
        args=CHROMIUM_ARGS, headless=True)
