"""Checks that the notebooks' test cells call.

Every check compares *results*, never the way they were computed, so any correct
implementation passes. Before comparing, an answer is converted to a plain float64 NumPy
array (`as_array`): an object that overrides ``==`` or ``__array__`` in odd ways is rejected
instead of being trusted. A failing check raises ``AssertionError`` whose message says

* which input was used,
* what was expected and what came back,
* which convention the course assumes there (e.g. "ReLU'(0) = 0"),

so the student knows what to fix without seeing the test's code.

Warning policy. The course's own code emits no warnings. A numeric problem in a student's
function (overflow, invalid value, division by zero, a ``RuntimeWarning``) is turned into a
failed check with a message that names the input; it is never left to print on stderr
(nbgrader would then zero the cell without saying why). Other warnings raised inside a
student's call (e.g. a ``DeprecationWarning``) are recorded and ignored.
"""
import numbers
import re
import warnings

import numpy as np

__all__ = [
    "unanswered",
    "undefined",
    "not_set",
    "as_array",
    "check_function",
    "check_value",
    "check_stable",
    "check_grad",
    "check_raises",
    "check_shape",
    "check_expression",
    "expressions_equal",
    "call_checked",
]

_PLAIN_TYPES = (numbers.Real, np.ndarray, np.generic, list, tuple)


def unanswered(what):
    """The course's one message for an exercise that is not answered yet."""
    return (f"{what} is not answered yet: write your answer in its cell, in place of "
            f"`raise NotImplementedError()`, and run that cell.")


def undefined(name):
    """The course's message for a name a test needs that the notebook has not defined."""
    return (f"`{name}` is not defined: if it is an exercise's answer, the exercise is not "
            f"answered yet (or its cell was not run) — write your answer in its cell, in place "
            f"of `raise NotImplementedError()`, and run that cell.")


def not_set(exc):
    """The AssertionError a test cell raises when an answer variable is missing: the
    unanswered message for the name of ``exc`` (a NameError).

    Test cells read answer variables as ``try: _v = (a, b)`` / ``except NameError as _exc:
    raise checks.not_set(_exc) from None``."""
    error = AssertionError(unanswered(f"`{getattr(exc, 'name', None) or exc}`"))
    error.course_message = True          # shown as one line in the kernel (no traceback)
    return error


def _show_unanswered_in_the_kernel():
    """In a notebook's kernel, show the course's one-line message instead of a traceback when
    a cell meets an unanswered exercise (a NotImplementedError from a stub, or a NameError for
    a name an unanswered cell never defined) or fails one of these checks: what students see
    when they run a test cell or press Validate. Other errors keep their full traceback."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None or not hasattr(shell, "set_custom_exc") \
            or getattr(shell, "_actlib_unanswered", False):
        return
    here = __file__.rsplit("/", 1)[0]

    def show(self, etype, value, tb, tb_offset=None):
        import traceback

        frames = traceback.extract_tb(tb)
        if issubclass(etype, NotImplementedError):
            where = frames[-1].name if frames else "<module>"
            text = unanswered("this exercise" if where.startswith("<") else f"`{where}`")
        elif issubclass(etype, NameError):
            text = undefined(getattr(value, "name", None) or str(value))
        elif getattr(value, "course_message", False) \
                or any(f.filename.startswith(here) for f in frames):
            text = str(value)
        else:
            stb = self.InteractiveTB.structured_traceback(etype, value, tb, tb_offset=tb_offset)
            self._showtraceback(etype, value, stb)
            return stb
        stb = [f"{etype.__name__}: {text}"]
        self._showtraceback(etype, value, stb)
        return stb

    shell.set_custom_exc((NotImplementedError, NameError, AssertionError), show)
    shell._actlib_unanswered = True


_show_unanswered_in_the_kernel()


def _fmt(value):
    """Short, readable text for an input or a result in a message."""
    arr = np.asarray(value)
    if arr.ndim == 0:
        return repr(arr.item())
    if arr.size <= 8:
        return f"{arr.tolist()!r} (shape {arr.shape}, dtype {arr.dtype})"
    # a large (random) input is named by its shape; a failure names the entry that failed
    return f"an array of shape {arr.shape}, dtype {arr.dtype}"


def _tail(convention):
    return f" Convention: {convention}." if convention else ""


def as_array(value, name="answer"):
    """Return ``value`` as a plain float64 ndarray, or raise AssertionError saying why not.

    Accepted: Python numbers, NumPy scalars and arrays of a real numeric dtype, and (nested)
    lists/tuples of numbers. Anything else (None, strings, complex numbers, SymPy objects,
    objects that merely claim to be arrays) is rejected.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, _PLAIN_TYPES):
        raise AssertionError(
            f"{name} should be a number or a NumPy array of numbers, "
            f"but it is of type {type(value).__name__}: {value!r:.200}")
    if isinstance(value, np.ndarray) and type(value) is not np.ndarray:
        value = value.view(np.ndarray)
    try:
        arr = np.array(value, dtype=np.float64, copy=True)
    except (TypeError, ValueError) as exc:
        raise AssertionError(
            f"{name} could not be read as an array of real numbers ({exc}).") from None
    if arr.dtype != np.float64:  # pragma: no cover - np.array with dtype guarantees this
        raise AssertionError(f"{name} is not an array of real numbers.")
    return arr


def call_checked(fn, args=(), kwargs=None, *, name="your function", where=""):
    """Call ``fn(*args, **kwargs)`` with numeric problems raised as AssertionError.

    Floating-point errors (overflow, invalid, divide-by-zero) and RuntimeWarnings become
    failures whose message names the call; other warnings are swallowed.
    """
    kwargs = kwargs or {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
                result = fn(*args, **kwargs)
        except FloatingPointError as exc:
            raise AssertionError(
                f"{name}{where} hit a floating-point problem: {exc}. A stable form never "
                f"evaluates an expression that overflows or divides by zero, even in a branch "
                f"that np.where would discard.") from None
        except NotImplementedError:
            raise AssertionError(unanswered(f"`{_function_name(name)}`")) from None
    numeric = [w for w in caught if issubclass(w.category, RuntimeWarning)]
    if numeric:
        raise AssertionError(
            f"{name}{where} emitted a warning: {numeric[0].message}. Course code must run "
            f"without warnings; rewrite it so that no intermediate value overflows or is "
            f"undefined.")
    return result


def _function_name(label):
    """The function a check's label names: its leading identifier ("minibatch_epoch" of
    "minibatch_epoch on the example (n = 3), theta=[0.0, 0.0]" or of "relu(x=[1, 2])")."""
    match = re.match(r"\s*([A-Za-z_][A-Za-z0-9_.]*)", label)
    return match.group(1) if match else label.strip()


def _mismatch(got, expected, rtol, atol):
    """Boolean mask of entries where ``got`` and ``expected`` disagree (nan matches nan,
    infinities must match exactly)."""
    both_nan = np.isnan(got) & np.isnan(expected)
    finite = np.isfinite(expected) & np.isfinite(got)
    close = np.zeros(got.shape, dtype=bool)
    close[finite] = np.abs(got[finite] - expected[finite]) <= atol + rtol * np.abs(expected[finite])
    same_inf = np.isinf(expected) & (got == expected)
    return ~(both_nan | close | same_inf)


def check_value(got, expected, *, name="answer", rtol=1e-9, atol=1e-12, convention=None,
                context="", inputs=None):
    """Check a computed number or array against the expected one.

    Shapes must agree (a scalar answer may be a 0-d or 1-element array only if the expected
    value is a scalar); values must satisfy ``|got - expected| <= atol + rtol * |expected|``.
    ``inputs``, an array of the same shape (an elementwise function's input), lets the message
    name the input entry where the answer is wrong.
    """
    got_arr = as_array(got, name)
    exp_arr = as_array(expected, "the expected value")
    if exp_arr.ndim == 0 and got_arr.size == 1:
        got_arr = got_arr.reshape(())
    if got_arr.shape != exp_arr.shape:
        raise AssertionError(
            f"{name}{context} has shape {got_arr.shape}, expected shape {exp_arr.shape}."
            + _tail(convention))
    bad = _mismatch(got_arr, exp_arr, rtol, atol)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        where = f" at index {idx}" if got_arr.ndim else ""
        if got_arr.ndim and inputs is not None and np.shape(inputs) == got_arr.shape:
            where += f" (input {np.asarray(inputs)[idx].item()!r})"
        if bad.sum() > 1:
            where += f" and {int(bad.sum()) - 1} other entr{'y' if bad.sum() == 2 else 'ies'}"
        raise AssertionError(
            f"{name}{context} is wrong{where}: expected {exp_arr[idx].item()!r}, "
            f"got {got_arr[idx].item()!r}"
            f" (tolerance: rtol={rtol:g}, atol={atol:g})." + _tail(convention))


def check_shape(got, shape, name="answer"):
    """Check that ``got`` is an array-like of the given shape."""
    arr = as_array(got, name)
    if arr.shape != tuple(shape):
        raise AssertionError(f"{name} has shape {arr.shape}, expected shape {tuple(shape)}.")


def check_function(student_fn, reference_fn, inputs, *, name=None, kwargs=None, rtol=1e-9,
                   atol=1e-12, convention=None, dtype=None):
    """Compare ``student_fn(x, **kwargs)`` with ``reference_fn(x, **kwargs)`` for each input.

    Parameters
    ----------
    inputs : iterable
        Inputs to try, each a number or an array (passed as is).
    dtype : None or "preserve"
        With "preserve", a float32 input must give a float32 result and a float64 input a
        float64 result (the answer's own dtype is checked before conversion).
    """
    if not callable(student_fn):
        raise AssertionError(f"{name or 'your answer'} should be a function, "
                             f"got {type(student_fn).__name__}.")
    name = name or getattr(student_fn, "__name__", "your function")
    kwargs = dict(kwargs or {})
    shown = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    for x in inputs:
        x_in = np.array(x, copy=True) if isinstance(x, np.ndarray) else x
        label = f"{name}({_fmt(x)}{', ' + shown if shown else ''})"
        got = call_checked(student_fn, (x_in,), kwargs, name=label)
        if isinstance(x, np.ndarray) and not np.array_equal(x_in, x, equal_nan=True):
            raise AssertionError(f"{label} changed its input array in place; it must not.")
        if dtype == "preserve" and isinstance(x, (np.ndarray, np.floating)):
            got_dtype = getattr(got, "dtype", None)
            if got_dtype is None and isinstance(got, float) and np.ndim(x) == 0:
                got_dtype = np.dtype(np.float64)     # a Python float is a float64 number
            if got_dtype != np.asarray(x).dtype:
                raise AssertionError(
                    f"{label} returned dtype {got_dtype}, expected {np.asarray(x).dtype}: "
                    f"a float32 input should give a float32 result.")
        expected = reference_fn(x, **kwargs)
        check_value(got, expected, name=label, rtol=rtol, atol=atol, convention=convention,
                    inputs=x if np.ndim(x) else None)
        if np.ndim(x) and np.shape(got) != np.shape(x) and np.shape(expected) == np.shape(x):
            raise AssertionError(f"{label} returned shape {np.shape(got)}, "
                                 f"expected the input's shape {np.shape(x)}.")


def check_stable(student_fn, inputs, *, name=None, kwargs=None, hint=None):
    """Check that ``student_fn`` returns finite values without warnings at extreme inputs.

    Fails on overflow, invalid operations, RuntimeWarnings, nan or inf results.
    """
    name = name or getattr(student_fn, "__name__", "your function")
    kwargs = dict(kwargs or {})
    extra = f" Hint: {hint}" if hint else ""
    for x in inputs:
        label = f"{name}({_fmt(x)})"
        try:
            got = call_checked(student_fn, (x,), kwargs, name=label)
        except AssertionError as exc:
            raise AssertionError(f"{exc}{extra}") from None
        arr = as_array(got, label)
        if not np.all(np.isfinite(arr)):
            raise AssertionError(f"{label} returned {_fmt(arr)}, which is not finite; "
                                 f"the true value is finite.{extra}")


def check_grad(student_grad, fn, inputs, *, name=None, kwargs=None, rtol=1e-6, atol=1e-9,
               eps=1e-6, convention=None):
    """Compare a derivative with the central finite difference (fn(x+h) - fn(x-h)) / 2h.

    Inputs should be away from kinks (the finite difference is meaningless there).
    """
    name = name or getattr(student_grad, "__name__", "your derivative")
    kwargs = dict(kwargs or {})
    for x in inputs:
        x = np.asarray(x, dtype=np.float64)
        h = eps * np.maximum(1.0, np.abs(x))
        numeric = (np.asarray(fn(x + h, **kwargs)) - np.asarray(fn(x - h, **kwargs))) / (2 * h)
        label = f"{name}({_fmt(x)})"
        got = call_checked(student_grad, (x,), kwargs, name=label)
        check_value(got, numeric, name=label, rtol=rtol, atol=atol, convention=convention,
                    context=" (compared with a central finite difference)")


def check_raises(student_fn, args, exceptions, *, name=None, kwargs=None):
    """Check that ``student_fn(*args, **kwargs)`` raises one of ``exceptions``."""
    name = name or getattr(student_fn, "__name__", "your function")
    kwargs = dict(kwargs or {})
    if not isinstance(exceptions, tuple):
        exceptions = (exceptions,)
    wanted = " or ".join(e.__name__ for e in exceptions)
    call = f"{name}({', '.join(_fmt(a) for a in args)})"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            student_fn(*args, **kwargs)
    except exceptions:
        return
    except NotImplementedError:
        raise AssertionError(unanswered(f"`{name}`")) from None
    except Exception as exc:  # noqa: BLE001 - the message names what was raised instead
        raise AssertionError(f"{call} should raise {wanted}, "
                             f"but it raised {type(exc).__name__}: {exc}") from None
    raise AssertionError(f"{call} should raise {wanted}, but it returned normally.")


def check_expression(student, reference, **kwargs):
    """Check that a SymPy expression equals the reference (see `actlib.grading.symcheck`)."""
    from actlib.grading.symcheck import check_expression as _check

    return _check(student, reference, **kwargs)


def expressions_equal(student, reference, **kwargs):
    """(equal, explanation) for a SymPy expression and the reference (see `actlib.grading.symcheck`)."""
    from actlib.grading.symcheck import expressions_equal as _equal

    return _equal(student, reference, **kwargs)
