"""The grader's side of the link to the student's kernel: requests, replies, proxies.

`KernelLink` sends a request (see `actlib.grading.kernel.agent`) as a comm message (or a tiny
execute request) and waits for the reply carrying the same nonce, within a deadline; it
interrupts, then kills, a kernel that does not answer. Replies are decoded with the course's
objects refused (`actlib.grading.wire`), and no message larger than `MAX_MESSAGE` is read.

While a hidden test runs (``hidden``), every text the student's code produced (exception
messages and type names, warning texts, strings) is recorded in ``seen``, and the runner
redacts it from that test's outputs: the checks may read it (e.g. that a ValueError names the
argument), but a hidden input cannot be carried into the feedback through it. `RemoteFunction` and `RemoteObject` stand for the student's objects in
the grader's process: calling one sends the arguments as data and brings back the result as
data, re-raising the student's exception and re-emitting their warnings here, so the checks of
`actlib.grading.checks` run unchanged — but in the grader's process, with the grader's NumPy.
"""
import inspect
import json
import secrets
import time
import uuid
import warnings
from queue import Empty

import numpy as np

import re

import zmq

from actlib.grading import wire

__all__ = ["KernelLink", "KernelGone", "ForeignReach", "RemoteFunction", "RemoteObject",
           "StudentError", "MAX_MESSAGE"]

#: The largest message the grader reads from a kernel (bytes); a larger one drops the link.
MAX_MESSAGE = 48 * 2**20
#: NumPy's own warning texts, the only ones a hidden test shows.
_NUMPY_WARNING = re.compile(r"(overflow|underflow|invalid value|divide by zero) encountered "
                            r"in [a-z_ ]{1,40}\Z")


class KernelGone(RuntimeError):
    """The student's kernel died, or stopped answering and was stopped."""


class ForeignReach(BaseException):
    """The student's code reached a name that another exercise bans (it is stubbed in this
    check kernel's view but allowed here): check the exercise again in a view of its own.
    (A BaseException, so that no check's ``except Exception`` turns it into a failure.)"""

    def __init__(self, name):
        super().__init__(name)
        self.name = name


class StudentError(Exception):
    """An exception of the student's code whose type has no counterpart here."""


_BUILTIN_ERRORS = {name: obj for name, obj in __builtins__.items()
                   if isinstance(obj, type) and issubclass(obj, Exception)} \
    if isinstance(__builtins__, dict) else \
    {name: getattr(__builtins__, name) for name in dir(__builtins__)
     if isinstance(getattr(__builtins__, name), type)
     and issubclass(getattr(__builtins__, name), Exception)}

_WARNINGS = {"RuntimeWarning": RuntimeWarning, "DeprecationWarning": DeprecationWarning,
             "FutureWarning": FutureWarning, "UserWarning": UserWarning,
             "SyntaxWarning": SyntaxWarning, "ComplexWarning": np.exceptions.ComplexWarning,
             "PendingDeprecationWarning": PendingDeprecationWarning}


def _raise(info, what, seen=None):
    name, message = str(info.get("type", "Exception")), str(info.get("message", ""))
    if seen is not None:                  # a hidden test: the text is redacted from its outputs
        seen.append(message)
    if name == "WireError":
        raise AssertionError(f"{what} returned a value that cannot be checked: {message}")
    if name in ("KeyboardInterrupt", "SystemExit"):
        raise StudentError(f"{what} raised {name}{': ' + message if message else ''}")
    cls = _BUILTIN_ERRORS.get(name)
    if cls is None or info.get("module") != "builtins":
        raise StudentError(f"{name}: {message}")
    try:
        exc = cls(message)
    except Exception:  # noqa: BLE001 - exotic constructors
        raise StudentError(f"{name}: {message}") from None
    raise exc


def _done(result):
    """``result``, awaited when the kernel manager's method was a coroutine (async managers)."""
    if not inspect.isawaitable(result):
        return result
    from jupyter_core.utils import run_sync

    async def wait():
        return await result
    return run_sync(wait)()


class KernelLink:
    """Requests to the agent in a running kernel, through a blocking client of ``km`` (a
    jupyter_client kernel manager, blocking or async)."""

    def __init__(self, km, log=None, grace=5.0):
        self.km, self.log, self.grace = km, log, grace
        self.client = km.blocking_client()
        self.client.start_channels()
        self.dead = None          # why the kernel is gone, once it is
        self.deadline = None      # the current test cell's deadline (time.monotonic())
        self.comm_id = None       # the comm the requests travel on, once it is open
        self.ban = None           # the current exercise's ban (actlib.grading.grader.bans.Ban)
        self.view = None          # what this kernel's view stubs (actlib.grading.grader.views)
        self.hidden = False       # a hidden test is running: record the student's texts
        self.seen = []            # texts the student's code produced during the hidden test
        self._comm_tried = False
        for channel in (self.client.iopub_channel, self.client.shell_channel):
            try:
                channel.socket.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE)
            except (AttributeError, zmq.ZMQError):
                pass

    def close(self):
        try:
            self.client.stop_channels()
        except Exception:  # noqa: BLE001
            pass

    def _alive(self):
        try:
            return bool(_done(self.km.is_alive()))
        except Exception:  # noqa: BLE001
            return False

    def stop(self, reason):
        """Mark the kernel gone (killing it if it still runs) and say why."""
        if self.dead is None:
            self.dead = reason
            try:
                _done(self.km.shutdown_kernel(now=True))
            except Exception:  # noqa: BLE001
                pass
        raise KernelGone(self.dead)

    def _wait(self, msg_id, nonce, until):
        reply = None
        while True:
            remaining = until - time.monotonic()
            if remaining <= 0:
                return reply, False
            try:
                msg = self.client.get_iopub_msg(timeout=min(remaining, 0.5))
            except Empty:
                if not self._alive():
                    self.stop("the kernel died while your code was running")
                continue
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg.get("content", {})
            if kind == "display_data":
                data = content.get("data", {}).get("application/vnd.actlib.grading+json")
            elif kind == "comm_msg" and content.get("comm_id") == self.comm_id:
                data = content.get("data", {}).get("reply")
            else:
                data = None
            if isinstance(data, dict) and data.get("nonce") == nonce:
                reply = data
            elif kind == "status" and content.get("execution_state") == "idle":
                return reply, True

    def _send(self, msg_type, content):
        msg = self.client.session.msg(msg_type, content)
        self.client.shell_channel.send(msg)
        return msg["header"]["msg_id"]

    def _open_comm(self):
        """Open the comm channel to the agent (once); on failure requests use execute."""
        self._comm_tried = True
        until = time.monotonic() + 30
        msg_id = self.client.execute("__import__('actlib.grading.kernel.agent', fromlist=['open_channel'])"
                                     ".open_channel()", silent=True, store_history=False,
                                     allow_stdin=False, stop_on_error=False)
        _, idle = self._wait(msg_id, None, until)
        if not idle:
            return
        comm_id = uuid.uuid4().hex
        msg_id = self._send("comm_open", {"comm_id": comm_id, "target_name": "actlib.grading",
                                          "data": {}})
        _, idle = self._wait(msg_id, None, until)
        if idle:
            self.comm_id = comm_id

    def request(self, op, what, _judge=True, **fields):
        """Send one request; return the reply dict. ``what`` names the call in messages."""
        if self.dead is not None:
            raise KernelGone(self.dead)
        if not self._comm_tried:
            self._open_comm()
        nonce = secrets.token_hex(16)
        payload = json.dumps({"op": op, "nonce": nonce, **fields})
        until = self.deadline if self.deadline is not None else time.monotonic() + 120
        if self.comm_id is not None:
            msg_id = self._send("comm_msg", {"comm_id": self.comm_id,
                                             "data": {"request": payload}})
        else:
            code = f"__import__('actlib.grading.kernel.agent', fromlist=['handle']).handle({payload!r})"
            msg_id = self.client.execute(code, silent=False, store_history=False,
                                         allow_stdin=False, stop_on_error=False)
        reply, idle = self._wait(msg_id, nonce, until)
        if not idle:
            try:
                _done(self.km.interrupt_kernel())
            except Exception:  # noqa: BLE001
                pass
            _, idle = self._wait(msg_id, nonce, time.monotonic() + self.grace)
            if not idle:
                self.stop(f"{what} did not return in time, and the kernel did not stop when "
                          f"interrupted")
            raise AssertionError(f"{what} did not return in time (the test's time limit); "
                                 f"it was interrupted. Look for a loop that never ends.")
        if reply is None:
            raise AssertionError(f"{what} could not be checked: the kernel did not answer the "
                                 f"grader (was the kernel's input changed?)")
        if _judge:
            self.judge_reached(reply.get("reached"), what)
        if "failed" in reply:
            info = reply["failed"]
            detail = "" if self.hidden else f": {info.get('type')}: {info.get('message')}"
            raise AssertionError(f"{what} could not be checked{detail}")
        return reply

    def judge_reached(self, reached, what):
        """The banned names the student's code reached (the kernel's hint): one the current
        exercise bans fails the check with the course's message; one only another exercise
        bans means the exercise must be checked again in a view of its own."""
        if not isinstance(reached, list):
            return
        names = [n for n in reached[:50] if isinstance(n, str)]
        if self.ban is not None:
            for name in names:
                if name in self.ban.unavailable or name in self.ban.libraries:
                    raise AssertionError(self.ban.message(name, f"`{what}`"))
        if self.view is not None:
            for name in names:
                if self.view.covers(name):
                    raise ForeignReach(name)

    def drain(self):
        """The banned names reached since the last request (e.g. by an answer cell)."""
        reply = self.request("drain", "the kernel", _judge=False)
        return [n for n in reply.get("reached", [])[:50] if isinstance(n, str)]

    def _proxy(self, handle):
        return RemoteFunction(self, handle) if handle.callable else RemoteObject(self, handle)

    def value(self, reply, what):
        try:
            value = wire.decode(reply["value"], resolve=self._proxy, library=False)
        except wire.WireError as exc:
            raise AssertionError(f"{what} cannot be checked: {exc}") from None
        if self.hidden:
            self._record(value)
        return value

    def _record(self, value, depth=0):
        """Note the strings of a hidden test's answer (to redact them from its outputs)."""
        if isinstance(value, str):
            self.seen.append(value)
        elif depth < 8 and isinstance(value, (list, tuple)):
            for v in value[:1000]:
                self._record(v, depth + 1)
        elif depth < 8 and isinstance(value, dict):
            for k, v in list(value.items())[:1000]:
                self._record(k, depth + 1)
                self._record(v, depth + 1)

    def _warn(self, entry):
        """Re-emit the student's warnings here (a hidden test shows only NumPy's wording)."""
        for item in entry.get("warnings", [])[:20]:
            try:
                category, message = str(item[0]), str(item[1])
            except (TypeError, IndexError, KeyError):
                continue
            if self.hidden and not _NUMPY_WARNING.match(message):
                self.seen.append(message)
            warnings.warn(message, _WARNINGS.get(category, UserWarning), stacklevel=4)

    def get(self, name):
        """The student's value of ``name``; raises KeyError when the kernel has no such name."""
        reply = self.request("get", f"`{name}`", name=name)
        if reply.get("missing"):
            raise KeyError(name)
        value = self.value(reply, f"`{name}`")
        if isinstance(value, (RemoteFunction, RemoteObject)):
            value._name = name
        return value

    def call(self, target, args, kwargs, what):
        def keep(obj):
            if isinstance(obj, (RemoteFunction, RemoteObject)):
                return obj._handle.id
            raise TypeError(f"the check tried to pass a {type(obj).__name__} to {what}; only "
                            f"data can cross to the student's kernel")

        try:
            payload_args = wire.encode(list(args), keep=keep)
            payload_kwargs = wire.encode(dict(kwargs), keep=keep)
        except wire.WireError as exc:
            raise TypeError(f"cannot send the arguments to {what}: {exc}") from None
        reply = self.request("call", what, target=target._handle.id, args=payload_args,
                             kwargs=payload_kwargs, errstate=dict(np.geterr()))
        self._copy_back(reply.get("args_after", []), args, kwargs)
        self._warn(reply)
        if "raised" in reply:
            _raise(reply["raised"], what, self.seen if self.hidden else None)
        return self.value(reply, what)

    @staticmethod
    def _copy_back(after, args, kwargs):
        """Apply in-place changes the student's call made to array, generator or list
        arguments."""
        for key, data in after:
            original = args[key] if isinstance(key, int) and key < len(args) else kwargs.get(key)
            try:
                new = wire.decode(data, library=False)
            except wire.WireError:
                continue
            if isinstance(original, np.ndarray) and isinstance(new, np.ndarray) \
                    and original.shape == new.shape and original.flags.writeable:
                if not np.array_equal(original, new, equal_nan=True):
                    original[...] = new
            elif isinstance(original, np.random.Generator) \
                    and isinstance(new, np.random.Generator):
                original.bit_generator.state = new.bit_generator.state
            elif isinstance(original, list) and isinstance(new, list):
                original[:] = new

    def rollout(self, target, grad, start, values, keys, hyper, steps, errstate, what):
        """Run an optimiser rollout in the kernel (one request instead of one per step);
        return a function that replays the student's step results in order, with their
        warnings and exceptions, for the grader's own rollout loop to judge."""
        try:
            payload = {"target": target._handle.id, "grad": wire.encode(grad),
                       "start": wire.encode(np.asarray(start, dtype=np.float64)),
                       "values": wire.encode(list(values)), "keys": list(keys),
                       "hyper": wire.encode(dict(hyper)), "steps": int(steps),
                       "errstate": dict(errstate)}
        except wire.WireError:
            return None
        reply = self.request("rollout", what, **payload)
        recorded = [e for e in reply.get("steps", []) if isinstance(e, dict)]

        def replay(*_args, **_kwargs):
            if not recorded:
                raise AssertionError(f"{what} could not be run further in the kernel")
            entry = recorded.pop(0)
            self._warn(entry)
            if "raised" in entry:
                _raise(entry["raised"], what, self.seen if self.hidden else None)
            return self.value(entry, what)

        replay.__name__ = what
        return replay

    def getattr(self, target, attr, what):
        reply = self.request("getattr", what, target=target._handle.id, attr=attr)
        if "raised" in reply:
            _raise(reply["raised"], what, self.seen if self.hidden else None)
        return self.value(reply, what)


class RemoteObject:
    """An object of the student's that stays in the kernel (attributes are fetched as data)."""

    def __init__(self, link, handle):
        object.__setattr__(self, "_link", link)
        object.__setattr__(self, "_handle", handle)
        object.__setattr__(self, "_name", None)

    def __getattr__(self, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        return self._link.getattr(self, attr, f"{self._label()}.{attr}")

    def __setattr__(self, attr, value):
        if attr == "_name":
            object.__setattr__(self, attr, value)
        else:
            raise AttributeError("objects of the student's kernel are read-only for the grader")

    def _label(self):
        return self._name or self._handle.type

    def __repr__(self):
        if self._link.hidden:
            return "<an object of yours>"
        return self._handle.repr


class RemoteFunction(RemoteObject):
    """A function of the student's: calling it runs it in the kernel, on copies of the data."""

    @property
    def __name__(self):  # noqa: D401 - mirrors a function's attribute
        return self._name or self._handle.type

    def __call__(self, *args, **kwargs):
        return self._link.call(self, args, kwargs, self.__name__)
