"""What crosses between the grader and the student's kernel: plain data, encoded as JSON.

`encode` turns a value into JSON-safe data; `decode` turns it back, building only plain types:
numbers, strings, lists, tuples, dicts, NumPy arrays and scalars of a numeric dtype, NumPy
random generators (by state), and SymPy expressions and matrices (through a whitelist parser
of their ``srepr``, never ``eval``, rebuilt without evaluation). Any other object stays where
it lives: it crosses as a *handle* (an id, its type name, whether it is callable and a short
repr), which the other side can only call or inspect through the kernel.

Library objects (``library=True``): the grader may send the kernel the course's registered
activations (by name), a loss surface's gradient (by its constructor's arguments) and a
network initialiser (`actlib.init.Network`, by its rule's name), which the kernel rebuilds
from its own copy of the course. Nothing the kernel sends is decoded that way:
the grader decodes with ``library=False``, so a student's answer that *is* a course object
stays a handle in the kernel, called there under the exercise's ban — never the grader's own
object checked against itself.

So no object that overrides ``==``, ``__array__`` or ``__float__`` ever reaches the grader's
comparisons, and nothing the student's process sends is executed by the grader. Sizes are
bounded (`MAX_BYTES` counts array data and string characters, `MAX_ITEMS`, `MAX_DEPTH`, and
SymPy integers of at most `MAX_DIGITS` digits): an oversized answer is refused with a reason.
"""
import ast
import base64
import keyword
import math
import re

import numpy as np

__all__ = ["encode", "decode", "Handle", "WireError", "parse_srepr", "MAX_BYTES"]

MAX_BYTES = 16 * 2**20          # bytes of array data and string characters in one message
MAX_ITEMS = 200_000             # list / dict entries in one message
MAX_DEPTH = 32
MAX_STR = 1_000_000
MAX_SREPR = 2_000_000
MAX_DIGITS = 1000               # digits of an integer in a SymPy expression
_NUMERIC_KINDS = "biufc"
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")


class WireError(ValueError):
    """A value that cannot cross (too big, too deep, or malformed)."""


class Handle:
    """A reference to an object that stays on the other side (see `encode`)."""

    __slots__ = ("id", "type", "callable", "repr")

    def __init__(self, id, type, callable, repr):  # noqa: A002 - the wire's field names
        self.id, self.type, self.callable, self.repr = int(id), str(type), bool(callable), str(repr)

    def __repr__(self):
        return f"<{self.type} in the student's kernel: {self.repr}>"


class _Budget:
    def __init__(self):
        self.bytes = 0
        self.items = 0

    def add(self, nbytes=0, items=0):
        self.bytes += nbytes
        self.items += items
        if self.bytes > MAX_BYTES:
            raise WireError(f"the value is too large to check (more than {MAX_BYTES // 2**20} "
                            f"MiB of numbers and text)")
        if self.items > MAX_ITEMS:
            raise WireError(f"the value has too many entries to check (more than {MAX_ITEMS})")


def _b64(raw):
    return base64.b64encode(raw).decode("ascii")


def _short_repr(obj, limit=200):
    try:
        text = repr(obj)
    except Exception as exc:  # noqa: BLE001 - a repr that raises is reported, not trusted
        text = f"<repr failed: {type(exc).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def encode(obj, keep=None, _depth=0, _budget=None, library=True):
    """JSON-safe data for ``obj``.

    ``keep(obj) -> int`` stores an object that cannot cross and returns its handle id; without
    it such objects raise WireError. ``library=False`` sends the course's objects as handles.
    """
    budget = _budget or _Budget()
    if _depth > MAX_DEPTH:
        raise WireError(f"the value is nested more than {MAX_DEPTH} levels deep")
    again = lambda v: encode(v, keep, _depth + 1, budget, library)  # noqa: E731
    if obj is None or type(obj) is bool or type(obj) is str:
        if type(obj) is str:
            if len(obj) > MAX_STR:
                raise WireError(f"a string of {len(obj)} characters is too long to check")
            budget.add(nbytes=len(obj))
        return obj
    if type(obj) is int:
        return obj if abs(obj) < 2**53 else {"$i": str(obj)}
    if type(obj) is float:
        return obj if math.isfinite(obj) else {"$f": repr(obj)}
    if type(obj) is complex:
        return {"$c": [again(obj.real), again(obj.imag)]}
    if type(obj) is list:
        budget.add(items=len(obj))
        return [again(v) for v in obj]
    if type(obj) is tuple:
        budget.add(items=len(obj))
        return {"$t": [again(v) for v in obj]}
    if type(obj) is dict:
        budget.add(items=len(obj))
        return {"$d": [[again(k), again(v)] for k, v in obj.items()]}
    if isinstance(obj, np.ndarray) and obj.dtype.kind in _NUMERIC_KINDS \
            and obj.dtype.fields is None:
        arr = np.array(obj.view(np.ndarray), order="C", copy=True)
        budget.add(nbytes=arr.nbytes)
        return {"$a": _b64(arr.tobytes()), "dtype": arr.dtype.str, "shape": list(arr.shape)}
    if isinstance(obj, np.generic) and np.dtype(type(obj)).kind in _NUMERIC_KINDS:
        arr = np.asarray(obj)
        return {"$s": _b64(arr.tobytes()), "dtype": arr.dtype.str}
    if isinstance(obj, np.random.Generator) and type(obj) is np.random.Generator:
        state = obj.bit_generator.state
        return {"$g": type(obj.bit_generator).__name__, "state": again(state)}
    encoded = _encode_library(obj, library)
    if encoded is not None:
        if "$y" in encoded and len(encoded["$y"]) > MAX_SREPR:
            raise WireError("the SymPy expression is too large to check")
        return encoded
    if keep is None:
        raise WireError(f"a {type(obj).__name__} cannot be sent to the other side")
    return {"$h": keep(obj), "type": type(obj).__name__, "callable": callable(obj),
            "repr": _short_repr(obj)}


def _encode_library(obj, library=True):
    """SymPy objects, and (``library``) the course's activations and surface gradients, when
    those libraries are loaded."""
    import sys

    sympy = sys.modules.get("sympy")
    if sympy is not None and isinstance(obj, (sympy.Basic, sympy.MatrixBase)):
        return {"$y": sympy.srepr(obj)}
    if not library:
        return None
    surfaces = sys.modules.get("actlib.surfaces")
    owner = getattr(obj, "__self__", None)
    if surfaces is not None and isinstance(owner, surfaces.Surface) \
            and getattr(obj, "__name__", "") == "grad" \
            and getattr(surfaces, type(owner).__name__, None) is type(owner):
        name, args, kwargs = owner.spec
        return {"$grad": name, "args": encode(list(args)), "kwargs": encode(dict(kwargs))}
    init = sys.modules.get("actlib.init")
    if init is not None and isinstance(obj, init.Network):
        return {"$init": obj.name}
    activations = sys.modules.get("actlib.activations")
    if activations is not None and isinstance(obj, activations.Activation):
        try:
            if activations.get(obj.name) is obj:
                return {"$act": obj.name}
        except ValueError:
            return None
    return None


def decode(data, resolve=None, _depth=0, _budget=None, library=True):
    """The value that ``data`` (made by `encode`) stands for.

    ``resolve(Handle)`` turns a handle into a local object (e.g. a proxy); without it handles
    are returned as `Handle` objects. ``library=False`` (the grader, decoding what a kernel
    sent) refuses the course's objects: a kernel has no business sending them.
    """
    budget = _budget or _Budget()
    if _depth > MAX_DEPTH:
        raise WireError(f"the value is nested more than {MAX_DEPTH} levels deep")
    again = lambda v: decode(v, resolve, _depth + 1, budget, library)  # noqa: E731
    if data is None or isinstance(data, bool):
        return data
    if isinstance(data, str):
        budget.add(nbytes=len(data))
        return data
    if isinstance(data, (int, float)):
        return data
    if isinstance(data, list):
        budget.add(items=len(data))
        return [again(v) for v in data]
    if not isinstance(data, dict) or len(data) == 0:
        raise WireError(f"malformed value on the wire: {_short_repr(data, 80)}")
    if "$i" in data:
        return int(str(data["$i"]))
    if "$f" in data:
        text = str(data["$f"])
        if text not in ("nan", "inf", "-inf"):
            raise WireError(f"malformed float {text!r}")
        return float(text)
    if "$c" in data:
        re_, im = (float(again(v)) for v in data["$c"])
        return complex(re_, im)
    if "$t" in data:
        budget.add(items=len(data["$t"]))
        return tuple(again(v) for v in data["$t"])
    if "$d" in data:
        budget.add(items=len(data["$d"]))
        out = {}
        for pair in data["$d"]:
            key, value = again(pair[0]), again(pair[1])
            try:
                out[key] = value
            except TypeError:
                raise WireError("a dict key that cannot be hashed") from None
        return out
    if "$a" in data or "$s" in data:
        dtype = np.dtype(str(data["dtype"]))
        if dtype.kind not in _NUMERIC_KINDS or dtype.fields is not None:
            raise WireError(f"arrays of dtype {dtype} cannot be checked")
        raw = base64.b64decode(data.get("$a", data.get("$s")), validate=True)
        budget.add(nbytes=len(raw))
        if "$s" in data:
            return np.frombuffer(raw, dtype=dtype)[0]
        shape = tuple(int(n) for n in data["shape"])
        if any(n < 0 for n in shape) or math.prod(shape) * dtype.itemsize != len(raw):
            raise WireError("an array whose shape does not match its data")
        return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
    if "$g" in data:
        kind = str(data["$g"])
        if kind not in ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64"):
            raise WireError(f"unknown random generator {kind!r}")
        bit_generator = getattr(np.random, kind)()
        bit_generator.state = again(data["state"])
        return np.random.Generator(bit_generator)
    if "$y" in data:
        text = str(data["$y"])
        budget.add(nbytes=len(text))
        return parse_srepr(text)
    if ("$grad" in data or "$act" in data or "$init" in data) and not library:
        raise WireError("a course object cannot be an answer: write your own")
    if "$grad" in data:
        from actlib import surfaces

        cls = getattr(surfaces, str(data["$grad"]), None)
        if not (isinstance(cls, type) and issubclass(cls, surfaces.Surface)):
            raise WireError(f"unknown surface {data['$grad']!r}")
        return cls(*again(data["args"]), **again(data["kwargs"])).grad
    if "$act" in data:
        from actlib import activations

        return activations.get(str(data["$act"]))
    if "$init" in data:
        from actlib import init

        try:
            return init.Network(str(data["$init"]))
        except ValueError as exc:
            raise WireError(str(exc)) from None
    if "$h" in data:
        handle = Handle(data["$h"], data.get("type", "object"), data.get("callable", False),
                        data.get("repr", ""))
        return resolve(handle) if resolve else handle
    raise WireError(f"malformed value on the wire: {_short_repr(data, 80)}")


# ------------------------------------------------------------------------------ SymPy, safely

_SYMPY_NAMES = None
_SINGLETONS = ("pi", "E", "I", "oo", "zoo", "nan", "true", "false", "EulerGamma", "Catalan",
               "GoldenRatio")
_NAMED = ("Symbol", "Dummy", "Function", "Wild")


def _sympy_names():
    global _SYMPY_NAMES
    if _SYMPY_NAMES is None:
        import sympy
        from sympy.core.function import FunctionClass

        names = {}
        for name in dir(sympy):
            if name.startswith("_"):
                continue
            obj = getattr(sympy, name)
            if isinstance(obj, type) and issubclass(obj, (sympy.Basic, sympy.MatrixBase)):
                names[name] = obj
            elif isinstance(obj, FunctionClass):
                names[name] = obj
        for name in _SINGLETONS:
            names[name] = getattr(sympy, name)
        names["Function"] = sympy.Function
        from sympy.functions.elementary.piecewise import ExprCondPair

        names["ExprCondPair"] = ExprCondPair
        _SYMPY_NAMES = names
    return _SYMPY_NAMES


def parse_srepr(text):
    """Build the SymPy object that ``srepr`` printed as ``text``, without ``eval``.

    Only calls of SymPy classes and functions (looked up by name in the ``sympy`` namespace),
    SymPy's named constants, and literal numbers, strings, booleans, tuples and lists are
    accepted; symbol and function names must be plain identifiers.
    """
    if len(text) > MAX_SREPR:
        raise WireError("the SymPy expression is too large to check")
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, RecursionError) as exc:
        raise WireError(f"not a SymPy expression: {exc}") from None
    names = _sympy_names()
    count = [0]

    def build(node, depth=0):
        count[0] += 1
        if count[0] > MAX_ITEMS or depth > 400:
            raise WireError("the SymPy expression is too large to check")
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str, bool)) \
                or isinstance(node, ast.Constant) and node.value is None:
            value = node.value
            if isinstance(value, int) and not isinstance(value, bool) \
                    and len(str(abs(value))) > MAX_DIGITS \
                    or isinstance(value, str) and len(value) > MAX_DIGITS:
                raise WireError(f"a number of more than {MAX_DIGITS} digits is too large to check")
            return value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) \
                and isinstance(node.operand, ast.Constant) \
                and isinstance(node.operand.value, (int, float)):
            return -node.operand.value
        if isinstance(node, (ast.Tuple, ast.List)):
            items = [build(e, depth + 1) for e in node.elts]
            return tuple(items) if isinstance(node, ast.Tuple) else items
        if isinstance(node, ast.Name):
            if node.id in _SINGLETONS:
                return names[node.id]
            raise WireError(f"unexpected name {node.id!r} in a SymPy expression")
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name):
                if node.func.id not in names:
                    raise WireError(f"{node.func.id!r} is not a SymPy class")
                func = names[node.func.id]
            elif isinstance(node.func, ast.Call):     # Function('y')(x)
                func = build(node.func, depth + 1)
                from sympy.core.function import UndefinedFunction

                if not isinstance(func, UndefinedFunction):
                    raise WireError("only undefined functions may be applied in a SymPy answer")
            else:
                raise WireError("unexpected call in a SymPy expression")
            args = [build(a, depth + 1) for a in node.args]
            kwargs = {}
            for kw in node.keywords:
                if kw.arg is None:
                    raise WireError("unexpected ** in a SymPy expression")
                kwargs[kw.arg] = build(kw.value, depth + 1)
            if isinstance(node.func, ast.Name):
                _bounded(node.func.id, args, kwargs)
            if isinstance(node.func, ast.Name) and node.func.id in _NAMED:
                if not args or not isinstance(args[0], str) or not _NAME.match(args[0]) \
                        or keyword.iskeyword(args[0]):
                    raise WireError(f"{node.func.id} names must be plain identifiers")
                if any(not isinstance(v, (bool, int, str)) for v in kwargs.values()):
                    raise WireError("unexpected assumption value in a SymPy expression")
            try:
                return func(*args, **kwargs)
            except WireError:
                raise
            except Exception as exc:  # noqa: BLE001 - malformed input is reported, not trusted
                raise WireError(f"could not rebuild the SymPy expression: "
                                f"{type(exc).__name__}: {exc}") from None
        raise WireError(f"unexpected {type(node).__name__} in a SymPy expression")

    return build(tree.body)


_EXPLOSIVE = {"factorial", "factorial2", "subfactorial", "binomial", "fibonacci", "lucas",
              "bell", "catalan", "harmonic", "RisingFactorial", "FallingFactorial", "primorial",
              "partition", "bernoulli", "euler", "genocchi", "motzkin", "tribonacci"}


def _bounded(name, args, kwargs):
    """Refuse a node whose evaluation would be huge, before it is built: an integer power of a
    number with more than `MAX_DIGITS` digits, a combinatorial function of a large integer, or
    a Float asked for more than 4 × `MAX_DIGITS` digits. (Each node is built from arguments
    already built and bounded, so no step can explode.)"""
    import sympy

    if name == "Pow" and len(args) == 2 and isinstance(args[1], (int, sympy.Integer)) \
            and isinstance(args[0], (int, sympy.Rational)):
        base = max(abs(sympy.Rational(args[0]).p), abs(sympy.Rational(args[0]).q))
        exp = abs(int(args[1]))
        if base > 1 and exp * math.log10(base) > MAX_DIGITS:
            raise WireError(f"a power with more than {MAX_DIGITS} digits is too large to check")
    if name in _EXPLOSIVE and any(isinstance(a, (int, sympy.Integer)) and abs(int(a)) > 10_000
                                  for a in args):
        raise WireError(f"{name} of a number that large is too large to check")
    if name == "Float":
        for precision in [*args[1:2], *(kwargs.get(k) for k in ("dps", "precision") if k in kwargs)]:
            if not isinstance(precision, int) or isinstance(precision, bool) \
                    or abs(precision) > 4 * MAX_DIGITS:
                raise WireError("a Float of that precision is too large to check")
