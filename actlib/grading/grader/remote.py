"""The grader's side of the link to the student's kernel: requests, replies, proxies.

`KernelLink` sends a request (see `actlib.grading.kernel.agent`) as a tiny execute request and waits
for the reply carrying the same nonce, within a deadline; it interrupts, then kills, a kernel
that does not answer. `RemoteFunction` and `RemoteObject` stand for the student's objects in
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

from actlib.grading import wire
from actlib.grading.grader import bans

__all__ = ["KernelLink", "KernelGone", "RemoteFunction", "RemoteObject", "StudentError"]


class KernelGone(RuntimeError):
    """The student's kernel died, or stopped answering and was stopped."""


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


def _raise(info, what):
    name, message = str(info.get("type", "Exception")), str(info.get("message", ""))
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
        self._comm_tried = False

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

    def request(self, op, what, **fields):
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
        if "failed" in reply:
            info = reply["failed"]
            raise AssertionError(f"{what} could not be checked: {info.get('type')}: "
                                 f"{info.get('message')}")
        return reply

    def _ban_fields(self, what):
        """The ``ban`` field of a request running the student's code ``what``."""
        return {"ban": self.ban.request(f"`{what}`")} if self.ban is not None else {}

    @staticmethod
    def _refused(reply):
        """Fail the check when the student's code called a course function it may not use."""
        refused = reply.get("refused")
        if refused:
            raise AssertionError(bans.failure(refused[0]))

    def ban_answer(self, ban, what):
        """Hold ``ban`` in the kernel while the answer cell ``what`` runs (until
        `lift_ban`)."""
        self.request("ban_on", "the exercise's rules", ban=ban.request(what))

    def lift_ban(self):
        """Lift the answer cell's ban; the messages of the refused calls made meanwhile."""
        return list(self.request("ban_off", "the exercise's rules").get("refused", []))

    def _proxy(self, handle):
        return RemoteFunction(self, handle) if handle.callable else RemoteObject(self, handle)

    def value(self, reply, what):
        try:
            return wire.decode(reply["value"], resolve=self._proxy)
        except wire.WireError as exc:
            raise AssertionError(f"{what} cannot be checked: {exc}") from None

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
                             kwargs=payload_kwargs, errstate=dict(np.geterr()),
                             **self._ban_fields(what))
        self._refused(reply)
        self._copy_back(reply.get("args_after", []), args, kwargs)
        for category, message in reply.get("warnings", []):
            warnings.warn(message, _WARNINGS.get(category, UserWarning), stacklevel=3)
        if "raised" in reply:
            _raise(reply["raised"], what)
        return self.value(reply, what)

    @staticmethod
    def _copy_back(after, args, kwargs):
        """Apply in-place changes the student's call made to array or generator arguments."""
        for key, data in after:
            original = args[key] if isinstance(key, int) and key < len(args) else kwargs.get(key)
            try:
                new = wire.decode(data)
            except wire.WireError:
                continue
            if isinstance(original, np.ndarray) and isinstance(new, np.ndarray) \
                    and original.shape == new.shape and original.flags.writeable:
                if not np.array_equal(original, new, equal_nan=True):
                    original[...] = new
            elif isinstance(original, np.random.Generator) \
                    and isinstance(new, np.random.Generator):
                original.bit_generator.state = new.bit_generator.state

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
        reply = self.request("rollout", what, **payload, **self._ban_fields(what))
        recorded = list(reply.get("steps", []))
        for entry in recorded:
            self._refused(entry)

        def replay(*_args, **_kwargs):
            if not recorded:
                raise AssertionError(f"{what} could not be run further in the kernel")
            entry = recorded.pop(0)
            for category, message in entry.get("warnings", []):
                warnings.warn(message, _WARNINGS.get(category, UserWarning), stacklevel=2)
            if "raised" in entry:
                _raise(entry["raised"], what)
            return self.value(entry, what)

        replay.__name__ = what
        return replay

    def getattr(self, target, attr, what):
        reply = self.request("getattr", what, target=target._handle.id, attr=attr,
                             **self._ban_fields(what))
        self._refused(reply)
        if "raised" in reply:
            _raise(reply["raised"], what)
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
        return self._handle.repr


class RemoteFunction(RemoteObject):
    """A function of the student's: calling it runs it in the kernel, on copies of the data."""

    @property
    def __name__(self):  # noqa: D401 - mirrors a function's attribute
        return self._name or self._handle.type

    def __call__(self, *args, **kwargs):
        return self._link.call(self, args, kwargs, self.__name__)
