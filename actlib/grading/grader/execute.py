"""The course's nbgrader ``Execute``: student code in kernels, checks and verdicts in the grader.

`GradedExecute` replaces nbgrader's ``Execute`` in ``Autograde.autograde_preprocessors``
(``nbgrader_config.py``), so ``nbgrader autograde`` and ``tools/grade.py`` both use it. A
submission is run twice, never with a test cell inside a student's process:

1. **The notebook's run.** Every cell but the test cells runs in a sandboxed kernel, in the
   submission's order, as nbgrader would: these are the outputs the feedback shows. No test
   input is ever sent to this kernel, so nothing it prints can reveal one.
2. **The checks.** A second sandboxed kernel, the *check kernel*, runs the gradebook's context
   cells and the submission's answer cells (with the ordinary cells those read) in the
   gradebook's order. Its view of the course (`actlib.grading.grader.views`) has the banned
   functions of every exercise of the notebook rewritten into stubs at the source level and
   the forbidden libraries hidden, so no trick of the student's can bring them back. The
   gradebook's test cells run in the grader's process (`actlib.grading.grader.runner`), in
   the gradebook's order, calling the student's answers in the check kernel; the outputs they
   record are the cells' outputs — the ones nbgrader's ``SaveAutoGrades`` turns into points.
   An exercise whose code reached a name that only *another* exercise bans (the check kernel
   stubs the union of the notebook's bans) is checked again in a kernel of its own, whose
   view holds that exercise's ban alone. Check kernels start while the notebook runs; those
   of exercises whose code, read beforehand, names a course function another exercise bans
   (a guess; what the code reaches decides) run the check's steps alongside the union's
   kernel, so they are ready when the exercise's tests come.

A context cell (a locked cell whose grade id starts with ``context``) also runs, from the
gradebook's source, in the grader's namespace. When a kernel dies, its later work is marked
as not done with the reason. Time is bounded per cell (``timeout``), per notebook run
(``notebook_seconds``) and for the checks of a notebook (``check_seconds``); a cell's output
is capped at ``max_output_bytes``.

Every kernel starts in `actlib.grading.grader.sandbox` (``isolation = "required"``, the
default). On a host that cannot isolate, grading stops with the reason, unless the instructor
sets ``GradedExecute.isolation = "off"`` (or the environment variable
``ACTLIB_GRADING_ISOLATION=off``, which ``tools/grade.py --unsafe-no-isolation`` sets): then the
student's code can read and write whatever the grader can, and the bans are not enforced.
"""
import ast
import os
import time

import nbformat
from jupyter_core.utils import run_sync
from nbclient.exceptions import CellTimeoutError
from nbgrader.preprocessors import Execute
from nbgrader.utils import is_grade, is_solution
from traitlets import Enum, Float, Integer

from actlib.grading.grader import bans, sandbox, views
from actlib.grading.grader.remote import ForeignReach, KernelGone, KernelLink
from actlib.grading.grader.runner import GraderSession, bound_names, free_names, silencers

__all__ = ["GradedExecute"]


def _note(text):
    return nbformat.v4.new_output("stream", name="stdout", text=text)


def _error(ename, evalue):
    return nbformat.v4.new_output("error", ename=ename, evalue=evalue,
                                  traceback=[f"{ename}: {evalue}"])


class GradedExecute(Execute):
    """nbgrader's Execute with test cells run and judged in the grader's process."""

    max_output_bytes = Integer(
        1_000_000, help="Largest output kept per cell (bytes of text); the rest is dropped."
    ).tag(config=True)
    grace = Float(
        5.0, help="Seconds a kernel gets to stop after an interrupt before it is killed."
    ).tag(config=True)
    isolation = Enum(
        ["required", "off"], default_value="required",
        help="'required': every kernel runs in actlib.grading.grader.sandbox, and grading stops "
             "on a host that cannot isolate; 'off' (unsafe): kernels run unconfined."
    ).tag(config=True)
    memory_mb = Integer(4096, help="Address-space limit of a kernel (MiB).").tag(config=True)
    cpu_seconds = Integer(900, help="CPU-time limit of a kernel (seconds).").tag(config=True)
    processes = Integer(256, help="Process (and thread) limit of a kernel.").tag(config=True)
    notebook_seconds = Integer(
        180, help="Time the run of one notebook's cells may take in all (seconds); later cells "
                  "get what is left.").tag(config=True)
    check_seconds = Integer(
        120, help="Time the checks of one notebook may take in all (seconds): the student's "
                  "code they call, and their answer cells in the check kernels.").tag(config=True)

    def _isolated(self):
        return os.environ.get("ACTLIB_GRADING_ISOLATION", self.isolation) != "off"

    def _manager(self):
        if not self._isolated():
            from jupyter_client.manager import AsyncKernelManager
            return AsyncKernelManager
        reason = sandbox.check_isolation()
        if reason:
            raise sandbox.IsolationUnavailable(
                f"cannot grade safely: {reason}. Grade on a Linux host with user "
                f"namespaces, or pass --unsafe-no-isolation (students' code can then read "
                f"and write the course)")
        manager = sandbox.SandboxedKernelManager
        manager.limits = sandbox.Limits(memory_mb=self.memory_mb, cpu_seconds=self.cpu_seconds,
                                        processes=self.processes)
        return manager

    def _source(self, resources):
        """The instructor's source notebook (None if not found)."""
        from nbgrader.coursedir import CourseDirectory

        info = resources["nbgrader"]
        try:
            course = CourseDirectory(config=self.config)
            folder = course.format_path(course.source_directory, ".", info["assignment"])
            return nbformat.read(os.path.join(folder, f"{info['notebook']}.ipynb"), as_version=4)
        except Exception:  # noqa: BLE001 - the gradebook alone is used instead
            return None

    def preprocess(self, nb, resources, km=None):
        self.kernel_manager_class = self._manager()
        info = resources["nbgrader"]
        source = self._source(resources)
        order = None
        if source is not None:
            order = [c.metadata.get("nbgrader", {}).get("grade_id") for c in source.cells
                     if c.metadata.get("nbgrader", {}).get("grade_id")]
        self._session = GraderSession.from_gradebook(
            info["db_url"], info["notebook"], info["assignment"],
            timeout=float(self.timeout or 120), log=self.log, source_order=order)
        if source is not None:             # the answers' names, solutions included
            for cell in source.cells:
                meta = cell.metadata.get("nbgrader", {})
                if cell.cell_type == "code" and meta.get("solution"):
                    try:
                        self._session.answer_names |= bound_names(cell.source)
                    except SyntaxError:
                        pass
        self._link = None
        self._gone = None
        self._output_sizes = {}
        self._started = time.monotonic()
        self.timeout_func = self._cell_timeout
        path = resources.get("metadata", {}).get("path") or os.getcwd()
        checks = _Checks(self, nb, path)
        try:
            checks.launch()               # the check kernels boot while the notebook runs
            nb, resources = super().preprocess(nb, resources, km)
        except BaseException:
            checks.close()
            raise
        finally:
            if self._link is not None:
                self._link.close()
        checks.read(nb)
        checks.run()
        return nb, resources

    def _cell_timeout(self, _cell):
        left = self.notebook_seconds - (time.monotonic() - self._started)
        return max(1, int(min(self.timeout or 120, left)))

    # ---------------------------------------------------------------- the notebook's kernel
    def _kernel_link(self):
        if self._link is None and self._gone is None:
            self._link = KernelLink(self.km, log=self.log, grace=self.grace)
        return self._link

    def _mark_gone(self, reason):
        if self._gone is None:
            self._gone = reason
            self.log.warning("[actlib] %s", reason)
            if self._link is not None:
                self._link.dead = reason

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        meta = cell.metadata.get("nbgrader", {})
        grade_id = meta.get("grade_id")
        if grade_id and is_grade(cell) and not is_solution(cell) \
                and self._session.is_test(grade_id):
            cell.outputs = []             # filled by the checks (_Checks), never run here
            cell.execution_count = None
            return cell, resources
        if self._gone is not None:
            cell.outputs = [_note(f"Not run: {self._gone}.")]
            return cell, resources
        if time.monotonic() - self._started >= self.notebook_seconds:
            cell.outputs = [_note("Not run: the notebook used up its time "
                                  f"({self.notebook_seconds} s).")]
            return cell, resources
        self._output_sizes[index] = 0
        if grade_id and is_solution(cell):
            switches = silencers(cell.source)
            if switches:
                self._session.silenced[grade_id] = switches
        try:
            cell, resources = super().preprocess_cell(cell, resources, index)
        except CellTimeoutError as exc:
            # nbclient gave up waiting: either the cell outlived its interrupt, or (on a busy
            # machine) its last output lagged behind its reply. A liveness check tells which.
            self.log.warning("cell %d: %s", index, str(exc).splitlines()[0])
            if not self._after_timeout(index):
                cell.outputs.append(_error(
                    "CellTimeoutError",
                    "the cell ran past the time limit and did not stop when interrupted"))
            return cell, resources
        except Exception as exc:  # noqa: BLE001 - a dead kernel ends the run, not the grading
            if isinstance(exc, KernelGone) or not self._kernel_alive():
                self._mark_gone(f"the kernel died while running cell {index}")
                cell.outputs.append(_error("DeadKernelError", "the kernel died in this cell"))
                return cell, resources
            raise
        if any(o.get("output_type") == "error" and o.get("ename") == "CellTimeoutError"
               for o in cell.outputs):
            self._after_timeout(index)
        return cell, resources

    def _kernel_alive(self):
        try:
            return bool(run_sync(self.km.is_alive)())
        except Exception:  # noqa: BLE001
            return False

    def _after_timeout(self, index):
        """After a timed-out cell: is the kernel answering again? If not, stop it.

        Returns True when the kernel answered."""
        link = self._kernel_link()
        if link is None:
            return False
        link.deadline = time.monotonic() + self.grace * 2
        try:
            link.request("get", "a liveness check", name="__name__")
            return True
        except (KernelGone, AssertionError):
            self._mark_gone(f"cell {index} did not stop when interrupted after the time limit")
            try:
                run_sync(self.km.shutdown_kernel)(now=True)
            except Exception:  # noqa: BLE001
                pass
            return False
        finally:
            link.deadline = None

    # ---------------------------------------------------------------- output cap
    def output(self, outs, msg, display_id, cell_index):
        size = len(str(msg.get("content", {})))
        total = self._output_sizes.get(cell_index, 0)
        if total > self.max_output_bytes:
            return None
        self._output_sizes[cell_index] = total + size
        if total + size > self.max_output_bytes:
            outs.append(_note(f"\n[output cut: this cell printed more than "
                              f"{self.max_output_bytes} bytes]\n"))
            return None
        return super().output(outs, msg, display_id, cell_index)


# ------------------------------------------------------------------------------ the checks

def _tails(source):
    """What a cell's code names, without the first part of each attribute chain:
    ``A.sigmoid.grad(z)`` gives 'sigmoid' and 'sigmoid.grad', a bare ``sigmoid(z)`` or
    ``from m import sigmoid`` gives 'sigmoid'. Empty when the code does not parse."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            parts, inner = [], node
            while isinstance(inner, ast.Attribute):
                parts.append(inner.attr)
                inner = inner.value
            if isinstance(inner, ast.Name):
                parts.reverse()
                found.update(".".join(parts[:k]) for k in range(1, len(parts) + 1))
        elif isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.ImportFrom):
            found.update(alias.name for alias in node.names)
    return found


class _CheckKernel:
    """One sandboxed check kernel with its view of the course, and the link to it.

    The kernel is started at once and connected to on first use, so that kernels started
    ahead (`_Checks.launch`) boot while other work goes on. Steps can be *sent* without
    waiting (`send`): the kernel runs them in order while the grader goes on, and `catch_up`
    waits for the last one."""

    BOOT = 1.0     # seconds after which a started kernel is taken to be ready

    def __init__(self, owner, view, cwd):
        self.owner, self.view = owner, view
        self.done = 0                     # how many of the check's steps were sent here
        self.last = None                  # the last step sent and not yet waited for
        manager = owner.kernel_manager_class
        self.km = manager(kernel_name=owner.kernel_name or "python3")
        env = dict(os.environ, MPLBACKEND="agg")
        pairs = views.binds(view) if not view.empty else []
        if hasattr(self.km, "binds"):
            self.km.binds = pairs
        elif pairs:                       # unsafe, unisolated grading: the view comes first
            env["PYTHONPATH"] = os.pathsep.join(
                [os.path.dirname(pairs[0][0]), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        run_sync(self.km.start_kernel)(extra_arguments=owner.extra_arguments, cwd=cwd, env=env)
        self.started = time.monotonic()
        self._link = None

    def booted(self):
        """Whether steps can be sent without waiting long for the kernel to start."""
        return self._link is not None or time.monotonic() - self.started > self.BOOT

    @property
    def link(self):
        """The link to the kernel (connected, and the kernel ready, on first use)."""
        if self._link is None:
            self._link = KernelLink(self.km, log=self.owner.log, grace=self.owner.grace)
            self._link.view = self.view
            self._link.client.wait_for_ready(timeout=120)
        return self._link

    def send(self, source):
        """Queue ``source`` to run here (its output is not kept), without waiting."""
        if self.link.dead is None:
            self.last = self.link.client.execute(source, silent=False, store_history=False,
                                                 allow_stdin=False, stop_on_error=False)

    def catch_up(self, until):
        """Wait until every step sent has run, interrupting a step that outlives ``until()``
        (a deadline on ``time.monotonic()``); False if the kernel is gone."""
        link = self.link
        for _ in range(max(1, self.done)):    # at most one interrupt per step sent
            if link.dead is not None:
                return False
            if self.last is None:
                return True
            try:
                _, idle = link._wait(self.last, None, until())
                if not idle:
                    try:
                        run_sync(self.km.interrupt_kernel)()
                    except Exception:  # noqa: BLE001
                        pass
                    _, idle = link._wait(self.last, None, time.monotonic() + link.grace)
            except KernelGone:
                return False
            if idle:
                self.last = None
                return True
            if until() <= time.monotonic():   # the checks' time is up
                break
        try:
            link.stop("an answer cell did not stop when interrupted")
        except KernelGone:
            pass
        return False

    def run(self, source, until):
        """Run ``source`` here and wait for it; False if the kernel is gone."""
        self.send(source)
        return self.catch_up(lambda: until)

    def close(self):
        if self._link is not None:
            self._link.close()
        try:
            run_sync(self.km.shutdown_kernel)(now=True)
        except Exception:  # noqa: BLE001
            pass


class _Checks:
    """The check phase of one notebook (see the module's text)."""

    #: kernels of exercises expected to need a view of their own, started ahead at most:
    #: with the union's, no more than two check kernels run a student's code at once (each
    #: has the sandbox's memory limit), as when every exercise's kernel started on demand
    AHEAD = 1

    def __init__(self, owner, nb, cwd):
        self.owner, self.session, self.cwd = owner, owner._session, cwd
        self.assignment = self.session.assignment
        self.read(nb)
        self.union = views.View.of(*bans.bans_of(self.assignment))
        self.steps = []           # (source, answer grade id or None) run so far, in order
        self.kernels = {}         # View -> _CheckKernel (the union's, and exercises' own)
        self.own = set()          # answer grade ids checked in a view of their own
        self.missing = set()      # names the lesson's cells could not bind in the union's view
        self.deadline = time.monotonic() + owner.check_seconds
        self.ran_ordinary = set()
        # (answer, its view) of the answers foreseen to need a view of their own, in order
        self.expected = [(gid, self._own_view(gid)) for gid in self.foreseen()]

    def read(self, nb):
        """Index the notebook's code cells (graded ones by grade id, the others in order)."""
        self.cells, self.ordinary = {}, []
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            gid = cell.metadata.get("nbgrader", {}).get("grade_id")
            if gid and (gid in self.session.tests or gid in self.session.contexts
                        or gid in self.session.answers):
                self.cells.setdefault(gid, (index, cell))
            else:
                self.ordinary.append((index, cell))

    # ------------------------------------------------------------ kernels
    def foreseen(self):
        """The answers whose code, read before it runs, names a course function that another
        exercise bans (with the cells it reads): they will most likely be checked in a view
        of their own, whose kernel can be started ahead. A guess only: what the code reaches
        when it runs decides (`_step`, `_test`)."""
        found = []
        for kind, gid in self.session.order:
            if kind != "answer" or gid not in self.cells:
                continue
            own = self._own_view(gid)
            if own == self.union:
                continue
            tails = {n.split(".", 1)[1] for n in self.union.names
                     if "." in n and not own.covers(n)}
            if any(_tails(src) & tails for src in self._read_by(gid)):
                found.append(gid)
        return found

    def _read_by(self, answer):
        """The sources of ``answer``'s cell, of the ordinary cells above it that it reads,
        and of the other answer cells it reads (and so on)."""
        todo, seen, sources = [answer], set(), []
        while todo:
            gid = todo.pop()
            if gid in seen or gid not in self.cells:
                continue
            seen.add(gid)
            index, cell = self.cells[gid]
            sources.append(cell.source)
            sources += [src for _, src in self._needed_ordinary(cell.source, index)]
            try:
                wanted = free_names(cell.source)
            except SyntaxError:
                continue
            for other in self.session.answers:
                if other in self.cells and other not in seen:
                    try:
                        if bound_names(self.cells[other][1].source) & wanted:
                            todo.append(other)
                    except SyntaxError:
                        pass
        return sources

    def launch(self):
        """Start the union's kernel and the first kernels expected to be needed."""
        if self.union not in self.kernels:
            self.kernels[self.union] = _CheckKernel(self.owner, self.union, self.cwd)
        for _, view in self.expected:
            if len(self.kernels) > self.AHEAD:
                break
            if view not in self.kernels:
                self.kernels[view] = _CheckKernel(self.owner, view, self.cwd)

    def _kernel(self, view):
        """The kernel of ``view``, started if need be, having run every step so far."""
        if view not in self.kernels:
            for other in [v for v in self.kernels if v != self.union]:
                self.kernels.pop(other).close()       # one exercise's kernel at a time
            self.kernels[view] = _CheckKernel(self.owner, view, self.cwd)
        kernel = self.kernels[view]
        for source, _ in self.steps[kernel.done:]:
            kernel.send(source)
        kernel.done = len(self.steps)
        if kernel.last is not None:
            kernel.catch_up(self._until)
            try:
                kernel.link.drain()
            except (KernelGone, AssertionError):
                pass
        return kernel

    def _finished(self, answer):
        """``answer``'s tests have run: close its own kernel unless a later answer expects
        it, and start the next kernel expected."""
        self.expected = [(gid, v) for gid, v in self.expected if gid != answer]
        view = self._own_view(answer) if answer else None
        if view is None or view == self.union or view not in self.kernels \
                or view in {v for _, v in self.expected}:
            return
        self.kernels.pop(view).close()
        self.launch()

    def _until(self):
        return min(self.deadline, time.monotonic() + float(self.owner.timeout or 120))

    def _own_view(self, answer):
        return views.View.of(bans.ban_for(self.assignment, answer) if answer else None)

    # ------------------------------------------------------------ steps
    def _needed_ordinary(self, source, before):
        """The ordinary cells above index ``before`` that bind a name ``source`` reads,
        and those they read in turn (in the submission's order)."""
        try:
            wanted = set(free_names(source))
        except SyntaxError:
            return []
        chosen = {}
        for index, cell in reversed([(i, c) for i, c in self.ordinary if i < before]):
            if index in self.ran_ordinary:
                continue
            try:
                binds = bound_names(cell.source)
            except SyntaxError:
                continue
            if binds & wanted:
                chosen[index] = cell.source
                wanted -= binds
                try:
                    wanted |= free_names(cell.source)
                except SyntaxError:
                    pass
        return sorted(chosen.items())

    @staticmethod
    def _statements(source):
        """The top-level statements of a lesson's cell, each as its own source (so that one
        statement needing a banned name leaves the others' names bound)."""
        import ast

        try:
            tree = ast.parse(source)
        except SyntaxError:
            return [source]
        lines = source.splitlines(keepends=True)
        chunks = []
        for node in tree.body:
            decorators = getattr(node, "decorator_list", None)
            first = decorators[0].lineno if decorators else node.lineno
            chunks.append("".join(lines[first - 1:node.end_lineno]))
        return chunks or [source]

    def _lesson_step(self, source):
        """Run a cell of the lesson's (a context cell, or an ordinary cell an answer reads),
        statement by statement; names of statements that reached a banned name are missing in
        the union's view (an exercise that reads one is checked in a view of its own)."""
        for chunk in self._statements(source):
            reached = self._step(chunk)
            if reached:
                try:
                    self.missing |= bound_names(chunk)
                except SyntaxError:
                    pass

    def _step(self, source, answer=None):
        """Run ``source`` in the union's kernel; return the banned names it reached."""
        if time.monotonic() >= self.deadline:
            self.steps.append((source, answer))
            return []
        kernel = self._kernel(self.union)
        self.steps.append((source, answer))
        for other in self.kernels.values():      # those started ahead run it meanwhile
            if other is not kernel and other.booted():
                for ahead, _ in self.steps[other.done:]:
                    other.send(ahead)
                other.done = len(self.steps)
        kernel.run(source, self._until())
        kernel.done = len(self.steps)
        if kernel.link.dead is not None:
            return []
        try:
            reached = kernel.link.drain()
        except (KernelGone, AssertionError):
            return []
        if answer is None:
            return reached
        ban = bans.ban_for(self.assignment, answer)
        own = [n for n in reached if ban and (n in ban.unavailable or n in ban.libraries)]
        if own:
            self.session.refused[ban] = ban.message(own[0], "your answer cell")
        if any(self.union.covers(n) for n in reached if n not in own):
            self.own.add(answer)
        return reached

    def _answer(self, gid):
        index, cell = self.cells.get(gid, (len(self.ordinary) + 10**6, None))
        source = cell.source if cell is not None else ""
        for dep_index, dep in self._needed_ordinary(source, index):
            self.ran_ordinary.add(dep_index)
            self._lesson_step(dep)
        try:
            if free_names(source) & self.missing:
                self.own.add(gid)
        except SyntaxError:
            pass
        self._step(source, gid)

    def _test(self, gid):
        answer = bans.answer_of(gid)
        if time.monotonic() >= self.deadline:
            return [_error("AssertionError",
                           f"not checked: the checks of this notebook used up their time "
                           f"({self.owner.check_seconds} s) before this test")]
        view = self._own_view(answer) if answer in self.own else self.union
        kernel = self._kernel(view)
        if kernel.link.dead is not None:
            return [_error("KernelGone", f"not checked: {kernel.link.dead}")]
        self.session.timeout = max(1.0, min(float(self.owner.timeout or 120),
                                            self.deadline - time.monotonic()))
        try:
            return self.session.run_test(gid, kernel.link)
        except ForeignReach:
            self.own.add(answer)
        kernel = self._kernel(self._own_view(answer))
        try:
            return self.session.run_test(gid, kernel.link)
        except ForeignReach as exc:       # cannot happen in the exercise's own view
            return [_error("AssertionError", f"not checked: `{exc.name}` is not available")]

    def run(self):
        """Run the checks, in the gradebook's order; close every kernel at the end."""
        self.deadline = time.monotonic() + self.owner.check_seconds
        self.launch()
        current = None
        try:
            for kind, gid in self.session.order:
                if kind in ("context", "answer") and current is not None:
                    self._finished(current)
                    current = None
                if kind == "answer":
                    current = gid
                if kind == "context":
                    self._lesson_step(self.session.contexts[gid])
                    self.session.run_context(gid)
                elif kind == "answer":
                    self._answer(gid)
                elif kind == "test" and gid in self.cells:
                    _, cell = self.cells[gid]
                    cell.outputs = self._test(gid)
                    cell.execution_count = None
        finally:
            self.close()
            self.owner.log.debug("checks: answers foreseen to need their own view %s; checked "
                                 "in their own view %s", self.foreseen(), sorted(self.own))

    def close(self):
        for kernel in self.kernels.values():
            kernel.close()
        self.kernels = {}
