"""``actcourse``: the instructor's one command, every step of a term in its order.

    actcourse --help               the steps, in the order of a term
    actcourse STEP --help          one step's options
    actcourse status               from any folder inside the course

It is installed with the course (``[project.scripts]`` in pyproject.toml, so ``pip install -r
requirements.txt`` puts it in the environment's ``bin``) and finds the course by walking up
from the current folder to the first one holding ``nbgrader_config.py`` and ``source/``
(``--root DIR`` says where it is instead). Each step runs the code of the tool that has always
done it — `actlib.grading.term` for the term's steps, ``tools/regenerate.py``,
``tools/check_assignment.py``, ``tools/report.py`` and ``tools/hub.py`` for the others — so the
old commands (``python tools/term.py STEP`` …) stay and do exactly the same.
"""
import importlib.util
import os
import sys
from pathlib import Path

__all__ = ["main", "find_course", "STEPS"]

PROG = "actcourse"

# (step, where it is done, what it does), in the order of a term.
STEPS = (
    ("regenerate", "tool:regenerate", "regenerate notebooks/ and solutions/ from source/ (after editing a lesson)"),
    ("check", "tool:check_assignment", "grade an assignment's solution (full marks) and its release (zero) in a scratch copy"),
    ("setup", "term", "gradebook: assignments, the roster's students, the schedule's deadlines; make the exchange"),
    ("release", "term", "release an assignment through the exchange"),
    ("collect", "term", "collect each student's latest submission"),
    ("grade", "term", "autograde new or changed submissions, in parallel, in the sandbox"),
    ("formgrader", "formgrader", "grade the written answers by hand: JupyterLab's Formgrader on this course"),
    ("feedback", "term", "make feedback where grades changed (refused while answers are ungraded)"),
    ("return", "term", "return current feedback through the exchange"),
    ("export", "term", "grades.csv (or --lms: one column per assignment for a learning platform)"),
    ("status", "term", "where every student stands (late, not graded, newer submission waiting...)"),
    ("report", "tool:report", "the class report: what to reteach, what could not be graded"),
    ("hub", "tool:hub", "the course on a local JupyterHub: hub setup|start|stop|teardown (root)"),
)


class CourseNotFound(Exception):
    pass


def find_course(start):
    """The course folder: ``start`` or the first folder above it holding nbgrader_config.py
    and source/."""
    start = Path(start).resolve()
    for folder in [start, *start.parents]:
        if (folder / "nbgrader_config.py").is_file() and (folder / "source").is_dir():
            return folder
    raise CourseNotFound(f"{start} is not inside a course (no folder above it holds "
                         f"nbgrader_config.py and source/): run {PROG} from the course folder "
                         f"or one inside it, or pass --root DIR")


def _usage():
    width = max(len(name) for name, _, _ in STEPS)
    lines = [f"usage: {PROG} STEP [options]   (from any folder of the course)", "",
             "The instructor's term, one step after another:", ""]
    lines += [f"  {i:2d}. {name.ljust(width)}  {what}" for i, (name, _, what) in
              enumerate(STEPS, start=1)]
    lines += ["", f"'{PROG} STEP --help' describes a step. Every step can be rerun: it does only "
              "what is missing or out of date.",
              "Exit status: 0 done, 1 something failed (one line each), 2 usage error.",
              f"--root DIR (before or after STEP) names the course folder instead of finding it "
              f"from the current one."]
    return "\n".join(lines)


def _tool(root, name):
    """The module ``tools/<name>.py`` of the course (or, for a course folder without tools/,
    of the checkout this package was installed from)."""
    candidates = [root / "tools", Path(__file__).resolve().parents[2] / "tools"]
    for folder in candidates:
        path = folder / f"{name}.py"
        if path.is_file():
            if str(folder) not in sys.path:
                sys.path.insert(0, str(folder))
            spec = importlib.util.spec_from_file_location(f"_actcourse_{name}", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return module
    raise CourseNotFound(f"tools/{name}.py is missing from {root}: copy the course's tools/ "
                         f"folder there")


def _formgrader(root, argv):
    """Open JupyterLab in the course folder at the Formgrader (exec: it runs until stopped)."""
    import argparse

    parser = argparse.ArgumentParser(
        prog=f"{PROG} formgrader",
        description="Start JupyterLab in the course folder with nbgrader's instructor tools and "
                    "open the Formgrader, where each written answer gets a score and a comment "
                    "(Manage Assignments > the assignment > Manual Grading). Then run "
                    f"'{PROG} feedback ASSIGNMENT'. (nbgrader >= 0.9 has no 'nbgrader formgrade' "
                    "command: the Formgrader is part of JupyterLab.)")
    parser.add_argument("--port", type=int, default=8888, help="port on 127.0.0.1 (default 8888)")
    parser.add_argument("--no-browser", action="store_true", help="do not open a browser")
    parser.epilog = ("Other options (e.g. --IdentityProvider.token=TOKEN) are passed to "
                     "JupyterLab as they are.")
    args, extra = parser.parse_known_args(argv)
    command = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={root}",
               "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={args.port}",
               "--ServerApp.default_url=/formgrader"]
    if args.no_browser:
        command.append("--no-browser")
    command += extra
    if os.geteuid() == 0:
        command.append("--allow-root")
    os.chdir(root)
    print(f"{PROG} formgrader: JupyterLab on http://127.0.0.1:{args.port}/formgrader (Ctrl-C "
          f"stops it)", flush=True)
    os.execv(sys.executable, command)


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    root_arg = None
    if "--root" in argv:
        i = argv.index("--root")
        if i + 1 >= len(argv):
            print(f"error: --root needs a folder (see {PROG} --help)", file=sys.stderr)
            return 2
        root_arg = argv[i + 1]
        del argv[i:i + 2]
    if not argv or argv[0] in ("-h", "--help"):
        print(_usage())
        return 0 if argv else 2
    step, rest = argv[0], argv[1:]
    found = {name: where for name, where, _ in STEPS}
    if step not in found:
        print(f"error: unknown step {step!r}; the steps are {', '.join(found)} (see {PROG} "
              f"--help)", file=sys.stderr)
        return 2
    helping = any(a in ("-h", "--help") for a in rest)
    try:
        root = find_course(root_arg or os.getcwd())
    except CourseNotFound as exc:
        if not helping or step in ("hub",):
            print(f"error: {exc}", file=sys.stderr)
            return 2
        root = Path(__file__).resolve().parents[2]
    where = found[step]
    try:
        if where == "term":
            from actlib.grading.term import main as term_main

            return term_main([step, *rest, "--root", str(root)] if not helping else [step, *rest],
                             prog=PROG)
        if where == "formgrader":
            return _formgrader(root, rest)
        module = _tool(root, where.split(":", 1)[1])
        if step == "report" and not helping:
            rest = [*rest, "--root", str(root)]
        return module.main(rest)
    except CourseNotFound as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except SystemExit as exc:   # argparse's --help and usage errors
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)


if __name__ == "__main__":
    sys.exit(main())
