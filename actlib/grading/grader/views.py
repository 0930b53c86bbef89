"""Views of the course in which exercises' bans are in force, made at the source level.

A *view* is what a check kernel sees of the course and its libraries while exercises are
checked: a copy of the ``actlib`` package in which every function behind a banned name
(`actlib.grading.grader.bans.functions_behind`: the registry object's value or gradient
function and the private helpers that compute it, or every method of a banned class) has its
body replaced by ``raise refuse("<ban name>")`` (`actlib.grading.kernel.stubs`), and, for each
library module an exercise's text forbids (``scipy.special``, ``sklearn.neural_network``...), a
package of the same name whose import raises. The sandbox (`actlib.grading.grader.sandbox`)
mounts the view over the real folders, read-only, so the banned code is neither in the
kernel's memory nor on its disk: no reload, copy of the module, saved code object or patch of
the student's can bring it back.

Views are built once per grading process and ban set, in a private temporary folder, and
compiled there (the kernel cannot write bytecode on its read-only root).
"""
import ast
import compileall
import hashlib
import importlib.util
import os
import shutil
import tempfile
import types
from dataclasses import dataclass
from pathlib import Path

import actlib
from actlib.grading.grader import bans

__all__ = ["View", "build", "binds", "ACTLIB"]

ACTLIB = Path(actlib.__file__).resolve().parent
_STUBS = "actlib.grading.kernel.stubs"


@dataclass(frozen=True)
class View:
    """Course names stubbed (``names``) and library modules hidden (``modules``)."""

    names: tuple = ()
    modules: tuple = ()

    @classmethod
    def of(cls, *given):
        """The view in which every ban of ``given`` (Ban objects, None skipped) is in force."""
        names, modules = set(), set()
        for ban in given:
            if ban is not None:
                names.update(ban.unavailable)
                modules.update(ban.libraries)
        return cls(tuple(sorted(names)), tuple(sorted(modules)))

    def covers(self, name):
        """Whether ``name`` (a ban name or a hidden module) is unavailable in this view."""
        return name in self.names or name in self.modules

    @property
    def empty(self):
        return not self.names and not self.modules

    def key(self):
        return hashlib.sha256(repr((self.names, self.modules)).encode()).hexdigest()[:16]


# ------------------------------------------------------------------------------ the stubs

def _targets(names):
    """{source file: {first line: ban name}} of the course functions behind ``names``."""
    found = {}
    for name in names:
        try:
            obj = bans.resolve(name)
        except (ValueError, ImportError, AttributeError):
            continue
        for fn in bans.functions_behind(obj):
            if not isinstance(fn, types.FunctionType):
                continue
            path = Path(fn.__code__.co_filename).resolve()
            if ACTLIB not in path.parents:
                continue               # another library's function: see `View.modules`
            found.setdefault(path, {}).setdefault(fn.__code__.co_firstlineno, name)
    return found


def _raise(name):
    """``raise __import__(STUBS).refuse(name)`` as a statement."""
    return ast.Raise(exc=_refusal(name), cause=None)


def _refusal(name):
    call = ast.Call(func=ast.Name("__import__", ast.Load()),
                    args=[ast.Constant(_STUBS)],
                    keywords=[ast.keyword("fromlist", ast.List([ast.Constant("refuse")],
                                                               ast.Load()))])
    return ast.Call(func=ast.Attribute(call, "refuse", ast.Load()), args=[ast.Constant(name)],
                    keywords=[])


class _Stubber(ast.NodeTransformer):
    def __init__(self, lines):
        self.lines = lines             # first line -> ban name
        self.done = set()

    def _first_lines(self, node):
        return {node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))}

    def visit_FunctionDef(self, node):
        hit = next((ln for ln in self._first_lines(node) if ln in self.lines), None)
        if hit is None:
            self.generic_visit(node)
            return node
        self.done.add(hit)
        node.body = [_raise(self.lines[hit])]
        return node

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node):
        if node.lineno in self.lines:
            self.done.add(node.lineno)
            # a lambda's body is an expression: a generator's throw raises it
            node.body = ast.Call(
                func=ast.Attribute(
                    ast.GeneratorExp(ast.Name("_", ast.Load()),
                                     [ast.comprehension(ast.Name("_", ast.Store()),
                                                        ast.Tuple([], ast.Load()), [], 0)]),
                    "throw", ast.Load()),
                args=[_refusal(self.lines[node.lineno])], keywords=[])
            return node
        self.generic_visit(node)
        return node


def stub_source(source, lines, filename="<view>"):
    """``source`` with the functions starting on ``lines`` ({line: ban name}) stubbed out."""
    tree = ast.parse(source, filename)
    stubber = _Stubber(lines)
    tree = ast.fix_missing_locations(stubber.visit(tree))
    missing = set(lines) - stubber.done
    if missing:
        raise RuntimeError(f"{filename}: no function starts on line(s) {sorted(missing)}")
    return ast.unparse(tree) + "\n"


# ------------------------------------------------------------------------------ hidden modules

def module_folder(module):
    """The folder of the installed package ``module`` (None when it is not installed)."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]).resolve()


def _hidden_package(folder, module):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "__init__.py").write_text(
        f"raise __import__({_STUBS!r}, fromlist=['library_unavailable'])"
        f".library_unavailable({module!r})\n", encoding="utf-8")


# ------------------------------------------------------------------------------ building

_BUILT = {}


def _base():
    if "base" not in _BUILT:
        _BUILT["base"] = Path(tempfile.mkdtemp(prefix="actlib-views-"))
        os.chmod(_BUILT["base"], 0o755)
    return _BUILT["base"]


def build(view):
    """The folder of ``view``: ``actlib/`` (the stubbed copy) and ``hidden/<module>/``."""
    key = view.key()
    if key in _BUILT:
        return _BUILT[key]
    folder = _base() / key
    if folder.exists():
        shutil.rmtree(folder)
    copy = folder / "actlib"
    shutil.copytree(ACTLIB, copy, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for path, lines in _targets(view.names).items():
        rel = path.relative_to(ACTLIB)
        text = path.read_text(encoding="utf-8")
        (copy / rel).write_text(stub_source(text, lines, str(rel)), encoding="utf-8")
    for module in view.modules:
        _hidden_package(folder / "hidden" / module, module)
    compileall.compile_dir(str(folder), quiet=1, workers=1)
    for dirpath, dirnames, filenames in os.walk(folder):
        os.chmod(dirpath, 0o755)
        for name in filenames:
            os.chmod(os.path.join(dirpath, name), 0o644)
    _BUILT[key] = folder
    return folder


def binds(view):
    """``[(source, target)]`` read-only bind mounts that put ``view`` over the course."""
    folder = build(view)
    pairs = [(str(folder / "actlib"), str(ACTLIB))]
    for module in view.modules:
        target = module_folder(module)
        if target is not None:
            pairs.append((str(folder / "hidden" / module), str(target)))
    return pairs
