"""The kernel's side of grading: run what the grader asks for and answer with plain data.

While a submission is graded, its test cells do not run in the student's kernel: the grader runs
them in its own process (`actlib.grading.grader.runner`). When a check needs the student's
answer, the grader sends this module a request and the answer goes back as data
(`actlib.grading.wire`), tagged with the request's nonce. Requests travel as messages of a
Jupyter comm (``open_channel`` registers its target; a message costs a few milliseconds, without
IPython's cell machinery), or, where a comm cannot be opened, as a tiny execute request
(``handle``) whose answer is a display message of its own MIME type. Requests:

* ``get``     — the value of a name the student defined (a function comes back as a handle;
  so does a course object: the grader never decodes one);
* ``call``    — call a handle with the grader's arguments, under the grader's NumPy error
  state, recording warnings; the reply holds the result, the warnings, any exception (type and
  message) and the array, generator and list arguments after the call (so in-place changes,
  e.g. a ``history`` list appended to, are seen);
* ``getattr`` — an attribute of a handle;
* ``rollout`` — an optimiser step function run for many steps (see `_rollout`).

Every reply also lists under ``reached`` the banned course names and hidden libraries the
student's code reached since the last reply (`actlib.grading.kernel.stubs`): in a check kernel
their code is not there at all, so this is only a hint for the grader's messages.

Nothing here decides a grade; a student who changes this module can only change the data the
grader receives, which the grader checks as it would any answer.
"""
import json
import warnings

import numpy as np

from actlib.grading import wire
from actlib.grading.kernel import stubs

__all__ = ["MIME", "TARGET", "handle", "open_channel"]

MIME = "application/vnd.actlib.grading+json"
TARGET = "actlib.grading"
_objects = {}


def _keep(obj):
    key = id(obj)
    _objects[key] = obj
    return key


def _resolve(h):
    try:
        return _objects[h.id]
    except KeyError:
        raise wire.WireError(f"unknown handle {h.id}") from None


def _encode(value):
    return wire.encode(value, keep=_keep, library=False)


def _exception(exc):
    return {"type": type(exc).__name__, "module": type(exc).__module__,
            "message": str(exc)[:4000]}


def _get(request):
    from IPython import get_ipython

    shell = get_ipython()
    namespace = shell.user_ns if shell is not None else {}
    name = request["name"]
    if name not in namespace:
        return {"missing": True}
    return {"value": _encode(namespace[name])}


_ERRSTATE_KEYS = ("over", "under", "divide", "invalid")
_ERRSTATE_MODES = ("ignore", "warn", "raise", "call", "print", "log")


def _invoke(target, args, kwargs, errstate):
    """Call ``target`` under the grader's NumPy error state, recording its warnings.

    Returns ``(result, entry)``: ``entry`` holds the encoded ``value`` or what was ``raised``
    (an exception, or an answer that cannot cross) and the ``warnings``."""
    errstate = {k: v for k, v in (errstate or {}).items()
                if k in _ERRSTATE_KEYS and v in _ERRSTATE_MODES}
    entry, result = {}, None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with np.errstate(**errstate):
                result = target(*args, **kwargs)
            entry["value"] = _encode(result)
        except wire.WireError as exc:
            entry["raised"] = {"type": "WireError", "module": "actlib.grading.wire",
                               "message": str(exc)}
        except BaseException as exc:  # noqa: BLE001 - reported to the grader, who decides
            entry["raised"] = _exception(exc)
    entry["warnings"] = [[w.category.__name__, str(w.message)[:1000]] for w in caught[:20]]
    return result, entry


def _call(request):
    target = _resolve(wire.Handle(request["target"], "", True, ""))
    args = wire.decode(request["args"], resolve=_resolve)
    kwargs = wire.decode(request["kwargs"], resolve=_resolve)
    _, reply = _invoke(target, args, kwargs, request.get("errstate"))
    after = []
    for key, value in [*enumerate(args), *kwargs.items()]:
        if isinstance(value, (np.ndarray, np.random.Generator, list)):
            try:
                after.append([key, _encode(value)])
            except wire.WireError:
                pass
    reply["args_after"] = after
    return reply


def _getattr(request):
    target = _resolve(wire.Handle(request["target"], "", False, ""))
    try:
        value = getattr(target, str(request["attr"]))
        reply = {"value": _encode(value)}
    except BaseException as exc:  # noqa: BLE001
        reply = {"raised": _exception(exc)}
    return reply


def _rollout(request):
    """Run an optimiser step function ``steps`` times from ``start`` on a surface's gradient,
    as `actlib.grading.optimcheck.rollout` would, and send back every step's raw result (the
    grader replays and judges them); stop at the first exception, warning or malformed result."""
    target = _resolve(wire.Handle(request["target"], "", True, ""))
    grad = wire.decode(request["grad"])
    theta = np.array(wire.decode(request["start"]), dtype=np.float64)
    values = wire.decode(request["values"])
    keys, hyper = request["keys"], wire.decode(request["hyper"])
    steps = []
    for _ in range(int(request["steps"])):
        g = np.asarray(grad(theta), dtype=np.float64)
        args = (theta.copy(), g.copy()) + tuple(
            v if isinstance(v, int) else np.array(v, dtype=np.float64) for v in values)
        result, entry = _invoke(target, args, hyper, request.get("errstate"))
        steps.append(entry)
        if "raised" in entry or entry["warnings"]:
            break
        try:                                   # continue as the grader's replay will
            if keys:
                theta = np.array(result[0], dtype=np.float64)
                values = [int(v) if k == "t" else np.array(v, dtype=np.float64)
                          for k, v in zip(keys, result[1:])]
            else:
                theta = np.array(result, dtype=np.float64)
        except Exception:  # noqa: BLE001 - the grader reports the malformed result
            break
    return {"steps": steps}


_OPS = {"get": _get, "call": _call, "getattr": _getattr, "rollout": _rollout,
        "drain": lambda _request: {}}


def answer(request_text):
    """The reply (a dict) to one grader request (JSON text)."""
    nonce = None
    try:
        request = json.loads(request_text)
        nonce = request.get("nonce")
        reply = _OPS[request["op"]](request)
    except BaseException as exc:  # noqa: BLE001 - the grader is told, never left waiting
        reply = {"failed": _exception(exc)}
    reply["reached"] = stubs.drain()
    reply["nonce"] = nonce
    return reply


def handle(request_text):
    """Answer one grader request with a display message carrying the reply."""
    from IPython.display import publish_display_data

    publish_display_data({MIME: answer(request_text)})


def open_channel():
    """Register the comm target through which the grader sends its requests."""
    import comm

    def on_open(channel, _msg):
        @channel.on_msg
        def on_msg(msg):
            channel.send({"reply": answer(msg["content"]["data"].get("request", "{}"))})

    comm.get_comm_manager().register_target(TARGET, on_open)
