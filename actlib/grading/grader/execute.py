"""The course's nbgrader ``Execute``: student code in the kernel, verdicts in the grader.

`GradedExecute` replaces nbgrader's ``Execute`` in ``Autograde.autograde_preprocessors``
(``nbgrader_config.py``), so ``nbgrader autograde`` and ``tools/grade.py`` both use it. For each
cell of a submission:

* an ordinary or exercise cell runs in the student's kernel, as with nbgrader;
* an autograded test cell does **not** run in the kernel: `actlib.grading.grader.runner` runs the
  gradebook's source of that cell in this process, fetching the student's answers from the
  kernel as data, and the outputs it records are the cell's outputs — the ones nbgrader's
  ``SaveAutoGrades`` turns into points. A kernel that rewrote its input, patched the checks or
  swallowed their exceptions changes nothing here;
* a context cell (a locked cell whose grade id starts with ``context``) runs in the kernel and,
  from the gradebook's source, in the grader's namespace too.

When the kernel dies, every later cell is marked as not run and every later test fails with
the reason; when a cell times out and the kernel does not come back after an interrupt, the
kernel is stopped the same way. A cell's output is capped at ``max_output_bytes``.

Every kernel starts in `actlib.grading.grader.sandbox` (``isolation = "required"``, the default). On a
host that cannot isolate, grading stops with the reason, unless the instructor sets
``GradedExecute.isolation = "off"`` (or the environment variable
``ACTLIB_GRADING_ISOLATION=off``, which ``tools/grade.py --unsafe-no-isolation`` sets): then the
student's code can read and write whatever the grader can.
"""
import os
import time

import nbformat
from jupyter_core.utils import run_sync
from nbclient.exceptions import CellTimeoutError
from nbgrader.preprocessors import Execute
from nbgrader.utils import is_grade, is_solution
from traitlets import Enum, Float, Integer

from actlib.grading.grader.remote import KernelGone, KernelLink
from actlib.grading.grader.runner import GraderSession, silencers
from actlib.grading.grader import bans, sandbox

__all__ = ["GradedExecute"]


def _note(text):
    return nbformat.v4.new_output("stream", name="stdout", text=text)


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
        help="'required': every kernel runs in actlib.grading.grader.sandbox, and grading stops on a "
             "host that cannot isolate; 'off' (unsafe): kernels run unconfined."
    ).tag(config=True)
    memory_mb = Integer(4096, help="Address-space limit of a kernel (MiB).").tag(config=True)
    cpu_seconds = Integer(900, help="CPU-time limit of a kernel (seconds).").tag(config=True)
    processes = Integer(256, help="Process (and thread) limit of a kernel.").tag(config=True)

    def _isolated(self):
        return os.environ.get("ACTLIB_GRADING_ISOLATION", self.isolation) != "off"

    def preprocess(self, nb, resources, km=None):
        if self._isolated():
            reason = sandbox.check_isolation()
            if reason:
                raise sandbox.IsolationUnavailable(
                    f"cannot grade safely: {reason}. Grade on a Linux host with user "
                    f"namespaces, or pass --unsafe-no-isolation (students' code can then read "
                    f"and write the course)")
            manager = sandbox.SandboxedKernelManager
            manager.limits = sandbox.Limits(memory_mb=self.memory_mb,
                                            cpu_seconds=self.cpu_seconds,
                                            processes=self.processes)
            self.kernel_manager_class = manager
        info = resources["nbgrader"]
        self._session = GraderSession.from_gradebook(
            info["db_url"], info["notebook"], info["assignment"],
            timeout=float(self.timeout or 120), log=self.log)
        self._link = None
        self._gone = None
        self._output_sizes = {}
        try:
            return super().preprocess(nb, resources, km)
        finally:
            if self._link is not None:
                self._link.close()

    # ---------------------------------------------------------------- the kernel link
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

    # ---------------------------------------------------------------- cells
    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        meta = cell.metadata.get("nbgrader", {})
        grade_id = meta.get("grade_id")
        if grade_id and is_grade(cell) and not is_solution(cell) \
                and self._session.is_test(grade_id):
            return self._run_test(cell, grade_id), resources
        if self._gone is not None:
            cell.outputs = [_note(f"Not run: {self._gone}.")]
            return cell, resources
        self._output_sizes[index] = 0
        ban = None
        if grade_id and is_solution(cell):
            switches = silencers(cell.source)
            if switches:
                self._session.silenced[grade_id] = switches
            ban = self._session.ban(grade_id)
        if ban is not None:
            self._hold_ban(ban)
        try:
            cell, resources = super().preprocess_cell(cell, resources, index)
        except CellTimeoutError as exc:
            # nbclient gave up waiting: either the cell outlived its interrupt, or (on a busy
            # machine) its last output lagged behind its reply. A liveness check tells which.
            self.log.warning("cell %d: %s", index, str(exc).splitlines()[0])
            if not self._after_timeout(index):
                cell.outputs.append(nbformat.v4.new_output(
                    "error", ename="CellTimeoutError",
                    evalue="the cell ran past the time limit and did not stop when interrupted",
                    traceback=["CellTimeoutError: the cell ran past the time limit and did not "
                               "stop when interrupted"]))
            return cell, resources
        except Exception as exc:  # noqa: BLE001 - a dead kernel ends the run, not the grading
            if isinstance(exc, KernelGone) or not self._kernel_alive():
                self._mark_gone(f"the kernel died while running cell {index}")
                cell.outputs.append(nbformat.v4.new_output(
                    "error", ename="DeadKernelError", evalue="the kernel died in this cell",
                    traceback=["DeadKernelError: the kernel died in this cell"]))
                return cell, resources
            raise
        finally:
            if ban is not None:
                self._lift_ban(ban)
        if any(o.get("output_type") == "error" and o.get("ename") == "CellTimeoutError"
               for o in cell.outputs):
            self._after_timeout(index)
        if grade_id and self._session.is_context(grade_id):
            self._session.run_context(grade_id)
        return cell, resources

    def _run_test(self, cell, grade_id):
        link = None if self._gone is not None else self._kernel_link()
        if link is None:
            cell.outputs = [nbformat.v4.new_output(
                "error", ename="KernelGone", evalue=f"not checked: {self._gone}",
                traceback=[f"KernelGone: not checked: {self._gone}"])]
            return cell
        cell.outputs = self._session.run_test(grade_id, link)
        cell.execution_count = None
        if link.dead is not None:
            self._mark_gone(link.dead)
        return cell

    def _hold_ban(self, ban):
        """Make the course functions the exercise may not use unavailable in the kernel."""
        link = self._kernel_link()
        if link is None:
            return
        link.deadline = time.monotonic() + 30
        try:
            link.ban_answer(ban, "your answer cell")
        except (KernelGone, AssertionError) as exc:
            self.log.warning("[actlib] could not hold exercise %s's ban: %s", ban.exercise, exc)
        finally:
            link.deadline = None

    def _lift_ban(self, ban):
        """Lift the ban; a banned call made by the answer cell fails the exercise's tests."""
        link = self._link
        if link is None or self._gone is not None or link.dead is not None:
            return
        link.deadline = time.monotonic() + 30
        try:
            refused = link.lift_ban()
        except (KernelGone, AssertionError) as exc:
            self.log.warning("[actlib] could not lift exercise %s's ban: %s", ban.exercise, exc)
            return
        finally:
            link.deadline = None
        if refused:
            self._session.refused[ban] = bans.failure(refused[0])

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
