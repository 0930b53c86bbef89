"""The kernel's side of grading: run what the grader asks for and answer with plain data.

While a submission is graded, its test cells do not run in the student's kernel: the grader runs
them in its own process (`actlib.grading.runner`). When a check needs the student's answer, the
grader sends this module a request through the kernel (``handle``), and the answer goes back as
data (`actlib.grading.wire`) in a display message of its own MIME type, tagged with the request's
nonce. Requests:

* ``get``     — the value of a name the student defined (a function comes back as a handle);
* ``call``    — call a handle with the grader's arguments, under the grader's NumPy error
  state, recording warnings; the reply holds the result, the warnings, any exception (type and
  message) and the arguments after the call (so in-place changes are seen);
* ``getattr`` — an attribute of a handle.

Nothing here decides a grade; a student who changes this module can only change the data the
grader receives, which the grader checks as it would any answer.
"""
import json
import warnings

import numpy as np

from actlib.grading import wire

__all__ = ["MIME", "handle"]

MIME = "application/vnd.actlib.grading+json"
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
    return wire.encode(value, keep=_keep)


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


def _call(request):
    target = _resolve(wire.Handle(request["target"], "", True, ""))
    args = wire.decode(request["args"], resolve=_resolve)
    kwargs = wire.decode(request["kwargs"], resolve=_resolve)
    errstate = {k: v for k, v in request.get("errstate", {}).items()
                if k in ("over", "under", "divide", "invalid")
                and v in ("ignore", "warn", "raise", "call", "print", "log")}
    reply = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with np.errstate(**errstate):
                result = target(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - reported to the grader, who decides
            reply["raised"] = _exception(exc)
        else:
            try:
                reply["value"] = _encode(result)
            except wire.WireError as exc:
                reply["raised"] = {"type": "WireError", "module": "actlib.grading.wire",
                                   "message": str(exc)}
    reply["warnings"] = [[w.category.__name__, str(w.message)[:1000]] for w in caught[:20]]
    after = []
    for key, value in [*enumerate(args), *kwargs.items()]:
        if isinstance(value, (np.ndarray, np.random.Generator)):
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
    except BaseException as exc:  # noqa: BLE001
        return {"raised": _exception(exc)}
    return {"value": _encode(value)}


_OPS = {"get": _get, "call": _call, "getattr": _getattr}


def handle(request_text):
    """Answer one grader request (JSON text) with a display message carrying the reply."""
    from IPython.display import publish_display_data

    nonce = None
    try:
        request = json.loads(request_text)
        nonce = request.get("nonce")
        reply = _OPS[request["op"]](request)
    except BaseException as exc:  # noqa: BLE001 - the grader is told, never left waiting
        reply = {"failed": _exception(exc)}
    reply["nonce"] = nonce
    publish_display_data({MIME: reply})
