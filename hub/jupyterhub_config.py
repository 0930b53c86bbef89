"""JupyterHub configuration of the course's local multi-user server (started by tools/hub.py).

Everything machine-specific (accounts, ports, folders) comes from the settings file that
``tools/hub.py setup`` writes; ``$ACTLIB_HUB_SETTINGS`` names it.

- Loopback only: the proxy listens on 127.0.0.1:PORT, the hub's API on PORT + 1 and the
  proxy's API on PORT + 2. For anything beyond one machine put TLS in front (or use Zero to
  JupyterHub, see the README).
- Logins: PAM (system accounts and their passwords); only the course's accounts may log in.
  JupyterHub groups name the roles: ``instructors``, ``graders`` (teaching assistants) and
  ``students``; no account is a hub admin.
- Servers: one per account, started as that account (LocalProcessSpawner, hub as root). The
  instructor's server runs in the instructor's course folder, so nbgrader's instructor tools
  (formgrader) load the course's ``nbgrader_config.py``; students' servers run in their home
  with the course's student configuration (``jupyter-student/``: no formgrader, no course list,
  no create-assignment; the assignment list pointed at the course). Both point nbgrader at the
  shared exchange. Teaching assistants' servers are the instructor's (same folder, same tools);
  the instructor's and theirs run with umask 007, so what one grades the other can change, and
  nobody else can read. What keeps assistants from releasing is the exchange: its course
  folders belong to the instructor (tools/hub.py setup), and nbgrader releases only into
  folders one owns.
- The proxy: configurable-http-proxy, JupyterHub's default and reference proxy, pinned in
  ``hub/package-lock.json`` and installed with ``npm ci`` by ``tools/hub.py setup``. It is what
  JupyterHub is developed and tested with, and Node.js >= 20 is a Debian package (and on CI).
  The pure-Python routes were not chosen: jupyterhub-traefik-proxy needs a Traefik binary,
  which is not a Python package (its installer downloads it) and is a second service to run;
  the Python re-implementation of configurable-http-proxy on PyPI is at version 0.x and is not
  what JupyterHub's own tests run against.
"""
import json
import os

from jupyterhub.spawner import LocalProcessSpawner

c = get_config()  # noqa: F821 - provided by JupyterHub when it loads this file

settings_file = os.environ.get("ACTLIB_HUB_SETTINGS", "/srv/activation-functions/hub/settings.json")
with open(settings_file, encoding="utf-8") as f:
    settings = json.load(f)
state = os.path.join(settings["state"], "hub")
instructor = settings["instructor"]
tas = settings.get("tas", [])
students = settings["students"]
staff = {instructor, *tas}

# --- network: loopback only ------------------------------------------------------------------
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = settings["port"]
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = settings["hub_port"]
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{settings['proxy_api_port']}"
c.ConfigurableHTTPProxy.command = [settings["proxy"]]
c.ConfigurableHTTPProxy.pid_file = os.path.join(state, "proxy.pid")
c.Spawner.ip = "127.0.0.1"

# --- the hub's own files ---------------------------------------------------------------------
c.JupyterHub.db_url = "sqlite:///" + os.path.join(state, "jupyterhub.sqlite")
c.JupyterHub.cookie_secret_file = os.path.join(state, "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = os.path.join(state, "hub.pid")
# On SIGTERM (tools/hub.py stop) the hub stops every user's server and the proxy.
c.JupyterHub.cleanup_servers = True
c.JupyterHub.cleanup_proxy = True

# --- who logs in -----------------------------------------------------------------------------
c.JupyterHub.authenticator_class = "pam"
c.Authenticator.allowed_users = {instructor, *tas, *students}
c.JupyterHub.load_groups = {"instructors": {"users": [instructor]},
                            "graders": {"users": list(tas)},
                            "students": {"users": list(students)}}
c.Authenticator.admin_users = set()  # no account may open another's server
c.PAMAuthenticator.open_sessions = False


# --- each user's server ----------------------------------------------------------------------
class CourseSpawner(LocalProcessSpawner):
    """LocalProcessSpawner whose server starts in its notebook folder (the stock one starts in
    the home folder): nbgrader reads ``nbgrader_config.py`` from the working folder."""

    def make_preexec_fn(self, name):
        preexec = super().make_preexec_fn(name)
        folder = self.notebook_dir
        shared = name in staff

        def start_in_notebook_folder():
            preexec()
            if shared:
                os.umask(0o007)     # the course's files stay the graders' group's, no one else's
            if folder:
                os.chdir(folder)

        return start_in_notebook_folder


def configure_server(spawner):
    """Where each user's server runs and which Jupyter configuration it reads."""
    name = spawner.user.name
    bin_dir = settings["python_bin"]
    env = {
        "PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin",
    }
    if name in staff:
        spawner.notebook_dir = settings["course"]
        env["JUPYTER_CONFIG_PATH"] = settings["instructor_config"]
    else:
        spawner.notebook_dir = os.path.expanduser(f"~{name}")
        env["JUPYTER_CONFIG_PATH"] = settings["student_config"]
    spawner.environment.update(env)


c.JupyterHub.spawner_class = CourseSpawner
c.Spawner.pre_spawn_hook = configure_server
c.Spawner.cmd = [os.path.join(settings["python_bin"], "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
# A loaded two-core machine can take a while to start JupyterLab.
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
