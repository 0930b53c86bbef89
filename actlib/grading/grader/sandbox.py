"""Run a student's kernel where it can harm nothing: Linux namespaces and resource limits.

    python -m actlib.grading.grader.sandbox --runtime DIR [limits] -- python -m ipykernel_launcher -f ...

`SandboxedKernelManager` (used by `actlib.grading.grader.execute.GradedExecute`) starts every grading
kernel through this launcher. The kernel then runs

* in its own mount namespace whose root is a fresh tmpfs holding, read-only, only what Python
  needs (``/usr``, ``/lib*``, ``/etc``, the interpreter's and the environment's prefixes, the
  ``actlib`` package) — so the course's ``source/``, ``solutions/``, gradebook, other students'
  submissions and the rest of the disk do not exist there;
* with a private, size-limited copy of its working folder and ``/tmp`` (writes go nowhere else);
* in its own network namespace with no interface up (no network), its own PID namespace (it
  sees and can signal only its own processes, and they all die with it), IPC and UTS namespaces;
* as an unprivileged user: a fresh uid when grading runs as root, otherwise the invoking user
  inside a nested user namespace, in both cases with ``no_new_privs`` set;
* under resource limits (address space, CPU seconds, processes, file size, open files).

The kernel talks to the grader over Unix sockets in ``--runtime`` (the one folder shared, with
the connection file). Everything here uses only what Linux and util-linux's ``unshare`` offer
(no Docker). `check_isolation` says whether the host can do it, and why not.
"""
import ctypes
import ctypes.util
import errno
import os
import shutil
import signal
import subprocess
import sys
import tempfile

__all__ = ["Limits", "check_isolation", "SandboxedKernelManager", "IsolationUnavailable"]

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MS_NOATIME, MS_NODIRATIME, MS_RELATIME = 1024, 2048, 1 << 21
MNT_DETACH = 2
CLONE_NEWUSER = 0x10000000
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38
_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "riscv64": 41, "ppc64le": 203, "s390x": 217}

SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")
DEVICES = ("null", "zero", "full", "random", "urandom")


class IsolationUnavailable(RuntimeError):
    """This host cannot run a kernel in the sandbox."""


class Limits:
    """Resource limits of one sandboxed kernel (all configurable by the instructor)."""

    def __init__(self, memory_mb=4096, cpu_seconds=900, processes=256, file_mb=256,
                 tmp_mb=512, open_files=1024):
        self.memory_mb, self.cpu_seconds, self.processes = memory_mb, cpu_seconds, processes
        self.file_mb, self.tmp_mb, self.open_files = file_mb, tmp_mb, open_files

    def args(self):
        return ["--memory-mb", str(self.memory_mb), "--cpu-seconds", str(self.cpu_seconds),
                "--processes", str(self.processes), "--file-mb", str(self.file_mb),
                "--tmp-mb", str(self.tmp_mb), "--open-files", str(self.open_files)]


# ------------------------------------------------------------------------------ syscalls

def _check(result, what):
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(source, target, fstype, flags, data=None):
    _check(_libc.mount(source and source.encode(), target.encode(),
                       fstype and fstype.encode(), ctypes.c_ulong(flags),
                       data and data.encode()), f"mount {target}")


def _umount(target):
    _check(_libc.umount2(target.encode(), MNT_DETACH), f"umount {target}")


def _pivot_root(new, old):
    number = _PIVOT_ROOT.get(os.uname().machine)
    if number is None:
        subprocess.run(["pivot_root", new, old], check=True)
        return
    _check(_libc.syscall(number, new.encode(), old.encode()), "pivot_root")


def _prctl(option, value):
    _check(_libc.prctl(option, ctypes.c_ulong(value), 0, 0, 0), "prctl")


def _locked_flags(path):
    """The flags of the mount holding ``path`` that a read-only remount must keep."""
    flags = os.statvfs(path).f_flag
    out = 0
    for st, ms in ((os.ST_NOSUID, MS_NOSUID), (os.ST_NODEV, MS_NODEV), (os.ST_NOEXEC, MS_NOEXEC),
                   (getattr(os, "ST_NOATIME", 1024), MS_NOATIME),
                   (getattr(os, "ST_NODIRATIME", 2048), MS_NODIRATIME),
                   (getattr(os, "ST_RELATIME", 4096), MS_RELATIME)):
        if flags & st:
            out |= ms
    return out


def _submounts(target):
    found = []
    with open("/proc/self/mountinfo", encoding="utf-8") as fh:
        for line in fh:
            point = line.split()[4].encode().decode("unicode_escape")
            if point == target or point.startswith(target.rstrip("/") + "/"):
                found.append(point)
    return found


def _bind_readonly(source, target):
    os.makedirs(target, exist_ok=True)
    _mount(source, target, None, MS_BIND | MS_REC)
    for point in _submounts(target):
        try:
            _mount(None, point, None,
                   MS_REMOUNT | MS_BIND | MS_RDONLY | _locked_flags(point))
        except OSError as exc:
            if exc.errno not in (errno.EACCES, errno.EPERM, errno.EINVAL):
                raise


# ------------------------------------------------------------------------------ the inside

def _python_paths():
    import actlib

    paths = {sys.base_prefix, sys.prefix, sys.exec_prefix,
             os.path.dirname(os.path.abspath(actlib.__file__))}
    found = {p for p in paths if p and os.path.isdir(p)}
    return sorted(found | {os.path.realpath(p) for p in found})


def _unused_site_packages():
    """Package folders of the base interpreter and the system that this environment does not
    import from (a virtual environment without system packages): hidden in the sandbox."""
    import site
    import sysconfig

    used = {os.path.realpath(p) for p in sys.path if p}
    candidates = set(site.getsitepackages([sys.base_prefix]))
    version = f"python{sys.version_info.major}"
    candidates |= {f"/usr/lib/{version}/dist-packages", f"/usr/local/lib/{version}/dist-packages",
                   sysconfig.get_paths(vars={"base": sys.base_prefix,
                                             "platbase": sys.base_prefix})["purelib"]}
    found = set()
    for path in candidates:
        real = os.path.realpath(path)
        if os.path.isdir(real) and real not in used \
                and not any(u.startswith(real + os.sep) for u in used):
            found.add(real)
    return sorted(found)


def _copy_tree(src, dst, budget):
    """Copy regular files of ``src`` into ``dst`` up to ``budget`` bytes (symlinks skipped)."""
    for entry in os.scandir(src):
        if entry.is_symlink():
            continue
        if entry.is_dir():
            os.makedirs(os.path.join(dst, entry.name), exist_ok=True)
            budget = _copy_tree(entry.path, os.path.join(dst, entry.name), budget)
        elif entry.is_file():
            size = entry.stat().st_size
            if size <= budget:
                shutil.copyfile(entry.path, os.path.join(dst, entry.name))
                budget -= size
    return budget


def _inside(args, cmd):
    """PID 1 of the new namespaces (as root there): build the new root, drop, exec."""
    real_root = args.real_uid == 0
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    new = os.path.join(args.runtime, "root")
    os.makedirs(new, exist_ok=True)
    _mount("tmpfs", new, "tmpfs", MS_NOSUID | MS_NODEV, "size=16m,mode=0755")
    # /tmp first: the Python environment or the work folder may live below it
    os.makedirs(new + "/tmp", exist_ok=True)
    _mount("tmpfs", new + "/tmp", "tmpfs", MS_NOSUID | MS_NODEV,
           f"size={args.tmp_mb}m,mode=1777")
    for path in SYSTEM_PATHS:
        if os.path.islink(path):
            os.symlink(os.readlink(path), new + path)
        elif os.path.isdir(path):
            _bind_readonly(path, new + path)
    for path in [*_python_paths(), *args.expose]:
        if os.path.isdir(path) and not os.path.exists(new + path):
            _bind_readonly(path, new + path)
    # the view of an exercise's checks (actlib.grading.grader.views): its stubbed copy of the
    # course and its hidden libraries, mounted over the real folders
    for pair in args.bind:
        source, target = pair.split(":", 1)
        if os.path.isdir(source) and os.path.isdir(new + target):
            _bind_readonly(source, new + target)
    # other Pythons' packages that this environment does not use (a copy of a hidden library)
    for path in _unused_site_packages():
        if os.path.isdir(new + path):
            _mount("tmpfs", new + path, "tmpfs", MS_NOSUID | MS_NODEV | MS_RDONLY,
                   "size=4k,mode=0755")
    # /dev: a few harmless devices; /proc of the new PID namespace; private /tmp and work folder
    os.makedirs(new + "/dev", exist_ok=True)
    _mount("tmpfs", new + "/dev", "tmpfs", MS_NOSUID, "size=1m,mode=0755")
    for dev in DEVICES:
        open(f"{new}/dev/{dev}", "w").close()
        _mount(f"/dev/{dev}", f"{new}/dev/{dev}", None, MS_BIND)
    os.makedirs(new + "/dev/shm")
    _mount("tmpfs", new + "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "size=64m,mode=1777")
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                         ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
        os.symlink(target, f"{new}/dev/{name}")
    os.makedirs(new + "/proc")
    _mount("proc", new + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    work = args.workdir
    os.makedirs(new + work, exist_ok=True)
    _mount("tmpfs", new + work, "tmpfs", MS_NOSUID | MS_NODEV, f"size={args.tmp_mb}m,mode=0755")
    _copy_tree(work, new + work, 64 * 2**20)
    os.makedirs(new + args.runtime, exist_ok=True)
    _mount(args.runtime, new + args.runtime, None, MS_BIND)
    home = "/tmp/home"
    for sub in ("home", "mpl", "ipython", "jupyter"):
        os.makedirs(new + "/tmp/" + sub)
    if args.mpl_cache and os.path.isdir(args.mpl_cache):
        for entry in os.scandir(args.mpl_cache):
            if entry.is_file() and entry.name.startswith("fontlist"):
                shutil.copyfile(entry.path, f"{new}/tmp/mpl/{entry.name}")
    uid = gid = None
    if real_root:
        uid = gid = args.uid
        for top in (new + work, new + "/tmp/home", new + "/tmp/mpl", new + "/tmp/ipython",
                    new + "/tmp/jupyter"):
            for dirpath, _, filenames in os.walk(top):
                os.chown(dirpath, uid, gid)
                for f in filenames:
                    os.chown(os.path.join(dirpath, f), uid, gid)
        os.chown(args.runtime, uid, gid)             # the kernel creates its sockets here
        for entry in os.scandir(args.runtime):
            if entry.is_file():
                os.chown(entry.path, uid, gid)
    # switch roots; the old one is detached and gone
    os.makedirs(new + "/.old")
    _pivot_root(new, new + "/.old")
    os.chdir("/")
    _umount("/.old")
    os.rmdir("/.old")
    _mount(None, "/", None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
    _set_limits(args)
    env = {k: v for k, v in os.environ.items()
           if k in ("PATH", "LANG", "LC_ALL", "TERM", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                    "MKL_NUM_THREADS", "ACTLIB_HEADLESS", "NBGRADER_EXECUTION", "PYTHONHASHSEED",
                    "MPLBACKEND", "VIRTUAL_ENV")}
    env.update(HOME=home, TMPDIR="/tmp", MPLCONFIGDIR="/tmp/mpl", IPYTHONDIR="/tmp/ipython",
               JUPYTER_RUNTIME_DIR="/tmp/jupyter", JUPYTER_CONFIG_DIR="/tmp/jupyter",
               JUPYTER_DATA_DIR="/tmp/jupyter", PYTHONNOUSERSITE="1")
    if real_root:
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
    else:
        _check(_libc.unshare(CLONE_NEWUSER), "unshare(CLONE_NEWUSER)")
    _prctl(PR_SET_NO_NEW_PRIVS, 1)
    os.chdir(work)
    os.execvpe(cmd[0], cmd, env)


def _set_limits(args):
    import resource

    mb = 2**20
    for name, value in (("RLIMIT_AS", args.memory_mb * mb), ("RLIMIT_CPU", args.cpu_seconds),
                        ("RLIMIT_NPROC", args.processes), ("RLIMIT_FSIZE", args.file_mb * mb),
                        ("RLIMIT_NOFILE", args.open_files), ("RLIMIT_CORE", 0)):
        limit = getattr(resource, name)
        hard = resource.getrlimit(limit)[1]
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(limit, (value, value))


# ------------------------------------------------------------------------------ the outside

def _namespaces(real_root):
    user = [] if real_root else ["--user", "--map-root-user"]
    return ["unshare", *user, "--mount", "--net", "--pid", "--ipc", "--uts", "--fork",
            "--kill-child"]


_ISOLATION = {}


def check_isolation():
    """Return None when this host can sandbox kernels, else the reason it cannot (one line)."""
    if "result" in _ISOLATION:
        return _ISOLATION["result"]
    reason = None
    if not sys.platform.startswith("linux"):
        reason = f"kernels can only be isolated on Linux (this is {sys.platform})"
    elif shutil.which("unshare") is None:
        reason = "util-linux's unshare command is not installed"
    else:
        probe = subprocess.run([*_namespaces(os.geteuid() == 0), "true"], capture_output=True,
                               text=True, timeout=30)
        if probe.returncode != 0:
            detail = (probe.stderr.strip().splitlines() or ["unknown error"])[-1]
            reason = f"Linux namespaces are not available here ({detail})"
    _ISOLATION["result"] = reason
    return reason


def _mpl_cache():
    base = os.environ.get("MPLCONFIGDIR")
    if base:
        return base
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(xdg, "matplotlib")


def _parser():
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m actlib.grading.grader.sandbox",
        description="Run a command (a grading kernel) in namespaces, read-only, without "
                    "network, as an unprivileged user, under resource limits.")
    parser.add_argument("--runtime", required=True,
                        help="folder shared with the grader (connection file, sockets)")
    parser.add_argument("--expose", action="append", default=[],
                        help="another folder to show read-only (repeatable)")
    parser.add_argument("--bind", action="append", default=[], metavar="SOURCE:TARGET",
                        help="show folder SOURCE, read-only, in place of folder TARGET "
                             "(repeatable; an exercise's view of the course)")
    parser.add_argument("--memory-mb", type=int, default=4096)
    parser.add_argument("--cpu-seconds", type=int, default=900)
    parser.add_argument("--processes", type=int, default=256)
    parser.add_argument("--file-mb", type=int, default=256)
    parser.add_argument("--tmp-mb", type=int, default=512)
    parser.add_argument("--open-files", type=int, default=1024)
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    parser.add_argument("--uid", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--real-uid", type=int, default=-1, help=argparse.SUPPRESS)
    parser.add_argument("--mpl-cache", default="", help=argparse.SUPPRESS)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    return parser


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = _parser().parse_args(argv)
    cmd = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not cmd:
        print("sandbox: no command given (put it after --)", file=sys.stderr)
        return 2
    if args.inside:
        _inside(args, cmd)
        return 127  # pragma: no cover - exec does not return
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    reason = check_isolation()
    if reason:
        print(f"sandbox: cannot isolate the kernel: {reason}", file=sys.stderr)
        return 97
    real_root = os.geteuid() == 0
    uid = 200_000 + os.getpid() % 100_000
    inner = [sys.executable, "-m", "actlib.grading.grader.sandbox", "--inside", "--runtime", args.runtime,
             "--workdir", os.getcwd(), "--uid", str(uid), "--real-uid", str(os.geteuid()),
             "--mpl-cache", _mpl_cache(), *sum((["--expose", p] for p in args.expose), []),
             *sum((["--bind", p] for p in args.bind), []),
             *Limits(args.memory_mb, args.cpu_seconds, args.processes, args.file_mb,
                     args.tmp_mb, args.open_files).args(), "--", *cmd]
    os.execvp("unshare", [*_namespaces(real_root), *inner])
    return 127  # pragma: no cover


# ------------------------------------------------------------------------------ the kernel manager

def _kernel_manager_class():
    from jupyter_client.manager import AsyncKernelManager

    class SandboxedKernelManager(AsyncKernelManager):
        """An AsyncKernelManager whose kernels start in the sandbox, talking over Unix sockets."""

        limits = Limits()
        binds = ()          # [(source, target)] of an exercise's view (actlib.grading.grader.views)

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self._runtime = tempfile.mkdtemp(prefix="actlib-kernel-")
            os.chmod(self._runtime, 0o711)
            self.transport = "ipc"
            self.ip = os.path.join(self._runtime, "kernel")
            self.connection_file = os.path.join(self._runtime, "kernel.json")

        def format_kernel_cmd(self, extra_arguments=None):
            cmd = super().format_kernel_cmd(extra_arguments)
            binds = sum((["--bind", f"{source}:{target}"] for source, target in self.binds), [])
            return [sys.executable, "-m", "actlib.grading.grader.sandbox", "--runtime", self._runtime,
                    *self.limits.args(), *binds, "--", *cmd]

        async def _async_cleanup_resources(self, restart=False):
            await super()._async_cleanup_resources(restart=restart)
            if not restart:
                shutil.rmtree(self._runtime, ignore_errors=True)

        cleanup_resources = _async_cleanup_resources

    return SandboxedKernelManager


def __getattr__(name):
    if name == "SandboxedKernelManager":
        cls = _kernel_manager_class()
        globals()[name] = cls
        return cls
    raise AttributeError(name)


if __name__ == "__main__":
    sys.exit(main())
