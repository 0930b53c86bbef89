"""The kernel's side of grading: run what the grader asks for and answer with plain data.

While a submission is graded, its test cells do not run in the student's kernel: the grader runs
them in its own process (`actlib.grading.grader.runner`). When a check needs the student's answer, the
grader sends this module a request and the answer goes back as data (`actlib.grading.wire`),
tagged with the request's nonce. Requests travel as messages of a Jupyter comm (``open_channel``
registers its target; a message costs a few milliseconds, without IPython's cell machinery), or,
where a comm cannot be opened, as a tiny execute request (``handle``) whose answer is a display
message of its own MIME type. Requests:

* ``get``     — the value of a name the student defined (a function comes back as a handle);
* ``call``    — call a handle with the grader's arguments, under the grader's NumPy error
  state, recording warnings; the reply holds the result, the warnings, any exception (type and
  message) and the arguments after the call (so in-place changes are seen);
* ``getattr`` — an attribute of a handle;
* ``rollout`` — an optimiser step function run for many steps (see `_rollout`);
* ``ban_on`` / ``ban_off`` — make the course functions an exercise may not use unavailable
  while its answer cell runs, and say afterwards which were called (`actlib.grading.grader.bans`).

``call``, ``getattr`` and ``rollout`` may carry a ``ban``: the student's code then runs with
those course functions unavailable (`actlib.grading.grader.bans.refusing`), and the reply lists every
refused call under ``refused``, even when the student's code caught the exception.

Nothing here decides a grade; a student who changes this module can only change the data the
grader receives, which the grader checks as it would any answer.
"""
import json
import warnings

import numpy as np

from actlib.grading import wire
from actlib.grading.grader import bans

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


_ERRSTATE_KEYS = ("over", "under", "divide", "invalid")
_ERRSTATE_MODES = ("ignore", "warn", "raise", "call", "print", "log")


def _invoke(target, args, kwargs, errstate, ban=None):
    """Call ``target`` under the grader's NumPy error state, recording its warnings, with the
    course functions of ``ban`` unavailable.

    Returns ``(result, entry)``: ``entry`` holds the encoded ``value`` or what was ``raised``
    (an exception, or an answer that cannot cross), the ``warnings``, and the ``refused``
    calls to banned course functions."""
    errstate = {k: v for k, v in (errstate or {}).items()
                if k in _ERRSTATE_KEYS and v in _ERRSTATE_MODES}
    entry, result = {}, None
    guard = bans.refusing(ban)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with np.errstate(**errstate), guard:
                result = target(*args, **kwargs)
            entry["value"] = _encode(result)
        except wire.WireError as exc:
            entry["raised"] = {"type": "WireError", "module": "actlib.grading.wire",
                               "message": str(exc)}
        except BaseException as exc:  # noqa: BLE001 - reported to the grader, who decides
            entry["raised"] = _exception(exc)
    entry["warnings"] = [[w.category.__name__, str(w.message)[:1000]] for w in caught[:20]]
    if ban and guard.hits:
        entry["refused"] = guard.hits[:5]
    return result, entry


def _call(request):
    target = _resolve(wire.Handle(request["target"], "", True, ""))
    args = wire.decode(request["args"], resolve=_resolve)
    kwargs = wire.decode(request["kwargs"], resolve=_resolve)
    _, reply = _invoke(target, args, kwargs, request.get("errstate"), request.get("ban"))
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
    guard = bans.refusing(request.get("ban"))
    try:
        with guard:
            value = getattr(target, str(request["attr"]))
            reply = {"value": _encode(value)}
    except BaseException as exc:  # noqa: BLE001
        reply = {"raised": _exception(exc)}
    if guard.hits:
        reply["refused"] = guard.hits[:5]
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
    guard = bans.refusing(request.get("ban"))       # one ban for the whole rollout
    with guard:
        for _ in range(int(request["steps"])):
            g = np.asarray(grad(theta), dtype=np.float64)
            args = (theta.copy(), g.copy()) + tuple(
                v if isinstance(v, int) else np.array(v, dtype=np.float64) for v in values)
            result, entry = _invoke(target, args, hyper, request.get("errstate"))
            steps.append(entry)
            if guard.refused_so_far():
                break
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
    if guard.hits and steps:
        steps[-1]["refused"] = guard.hits[:5]
    return {"steps": steps}


_answer_ban = []      # the ban held while an answer cell runs (ban_on ... ban_off)


def _ban_on(request):
    """Make the course functions of ``request["ban"]`` unavailable until ``ban_off``."""
    _ban_off({})
    guard = bans.refusing(request.get("ban"))
    guard.__enter__()
    _answer_ban.append(guard)
    return {}


def _ban_off(_request):
    """Lift the answer cell's ban; reply with the refused calls made while it held."""
    hits = []
    while _answer_ban:
        guard = _answer_ban.pop()
        guard.__exit__(None, None, None)
        hits.extend(guard.hits)
    return {"refused": hits[:5]}


_OPS = {"get": _get, "call": _call, "getattr": _getattr, "rollout": _rollout,
        "ban_on": _ban_on, "ban_off": _ban_off}


def answer(request_text):
    """The reply (a dict) to one grader request (JSON text)."""
    nonce = None
    try:
        request = json.loads(request_text)
        nonce = request.get("nonce")
        reply = _OPS[request["op"]](request)
    except BaseException as exc:  # noqa: BLE001 - the grader is told, never left waiting
        reply = {"failed": _exception(exc)}
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
