"""Unit tests of the trusted-grading machinery: the wire format, the grader-side runner's name
analysis, the kernel link and its proxies (against a real kernel), and the sandbox."""
import math
import os
import subprocess
import sys
import json
import time

import numpy as np
import pytest
import sympy as sp

from actlib import activations
from actlib.grading import wire
from actlib.grading.grader.runner import bound_names, free_names


# ------------------------------------------------------------------------------ wire

@pytest.mark.parametrize("value", [
    None, True, 0, -3, 2**80, 1.5, float("inf"), -float("inf"), 1 + 2j, "text",
    [1, [2.5, "a"]], (1, (2,)), {"a": 1, 3: (4, 5), 2.5: None, (1, 2): [3]},
])
def test_plain_values_cross_unchanged(value):
    back = wire.decode(wire.encode(value))
    assert back == value and type(back) is type(value)


def test_nan_crosses_as_nan():
    assert math.isnan(wire.decode(wire.encode(float("nan"))))


@pytest.mark.parametrize("arr", [
    np.arange(6.0).reshape(2, 3), np.array(2.5), np.zeros((0, 4)), np.arange(5, dtype=np.int32),
    np.array([True, False]), np.linspace(-1, 1, 7, dtype=np.float32), np.array([1 + 1j]),
    np.asfortranarray(np.arange(6.0).reshape(2, 3)),
])
def test_arrays_keep_shape_dtype_and_values(arr):
    back = wire.decode(wire.encode(arr))
    assert type(back) is np.ndarray and back.dtype == arr.dtype and back.shape == arr.shape
    assert np.array_equal(back, arr) and back.flags.writeable


def test_numpy_scalars_and_generators_cross():
    for scalar in (np.float32(2.5), np.int64(-3), np.float64(1e-300)):
        back = wire.decode(wire.encode(scalar))
        assert type(back) is type(scalar) and back == scalar
    rng = np.random.default_rng(5)
    rng.normal(size=3)
    twin = wire.decode(wire.encode(rng))
    assert np.array_equal(twin.normal(size=4), rng.normal(size=4))


def test_sympy_and_activations_cross():
    x = sp.Symbol("x", real=True)
    y = sp.Function("y")
    for expr in (sp.Piecewise((1, x > 0), (sp.Symbol("alpha", positive=True) * sp.exp(x), True)),
                 sp.Matrix([[x, 1], [sp.pi, sp.Rational(1, 4)]]), y(x).diff(x),
                 sp.KroneckerDelta(sp.Symbol("i"), 2), sp.Float("0.1"), sp.erf(x / sp.sqrt(2))):
        assert wire.decode(wire.encode(expr)) == expr
    # the grader may send the kernel a course activation; it never decodes one from a kernel
    assert wire.decode(wire.encode(activations.relu)) is activations.relu
    with pytest.raises(wire.WireError, match="course object cannot be an answer"):
        wire.decode(wire.encode(activations.relu), library=False)
    sent = wire.encode(activations.relu, keep=lambda obj: 7, library=False)
    assert sent["$h"] == 7 and sent["callable"]


def test_a_network_initialiser_crosses_by_name_one_way():
    """The capstone's check sends `init.Network` to the kernel (rebuilt there by name); a
    kernel's reply holding one is refused; an unknown rule is a WireError."""
    from actlib import init

    sent = wire.encode(init.Network("xavier_normal"))
    assert sent == {"$init": "xavier_normal"}
    twin = wire.decode(sent)
    assert isinstance(twin, init.Network) and twin == init.Network("xavier_normal")
    a = twin([5, 4, 3], np.random.default_rng(1))
    b = init.Network("xavier_normal")([5, 4, 3], np.random.default_rng(1))
    assert all(np.array_equal(x, y) for pa, pb in zip(a, b) for x, y in zip(pa, pb))
    with pytest.raises(wire.WireError, match="course object cannot be an answer"):
        wire.decode(sent, library=False)
    with pytest.raises(wire.WireError, match="unknown initialiser"):
        wire.decode({"$init": "no_such_rule"})


@pytest.mark.parametrize("text", [
    "Pow(Integer(3), Integer(30000000))",
    "Pow(Pow(Integer(10), Integer(999)), Integer(999))",
    "factorial(Integer(1000000))",
    "Float('1.0', precision=10000000)",
    "Integer(" + "9" * 2000 + ")",
])
def test_sympy_numbers_are_bounded_before_they_are_computed(text):
    """A SymPy answer that would evaluate to an enormous number is refused while it is
    rebuilt, in milliseconds, instead of being computed by the grader."""
    start = time.monotonic()
    with pytest.raises(wire.WireError, match="too large"):
        wire.decode({"$y": text})
    assert time.monotonic() - start < 2.0


def test_odd_objects_never_cross_as_values():
    class Anything(float):
        def __eq__(self, other):
            return True

    for obj in (Anything(1.0), np.array([object()], dtype=object), lambda v: v, object()):
        with pytest.raises(wire.WireError):
            wire.encode(obj)
        kept = []
        data = wire.encode(obj, keep=lambda o: kept.append(o) or 7)
        handle = wire.decode(data)
        assert isinstance(handle, wire.Handle) and handle.id == 7 and kept == [obj]


@pytest.mark.parametrize("text", [
    "__import__('os').system('true')", "Symbol('x').__class__", "Symbol('x; import os')",
    "open('/etc/passwd')", "(lambda: 1)()", "Symbol(**{'name': 'x'})", "getattr(Symbol, 'x')",
    "Integer(1) + Integer(2)", "Function('__import__')(Symbol('x'))", "eval('1')",
])
def test_sympy_text_is_parsed_never_evaluated(text):
    with pytest.raises(wire.WireError):
        wire.parse_srepr(text)


def test_sizes_are_bounded():
    with pytest.raises(wire.WireError, match="too large"):
        wire.encode(np.zeros(wire.MAX_BYTES // 8 + 1))
    with pytest.raises(wire.WireError, match="too many"):
        wire.encode(list(range(wire.MAX_ITEMS + 1)))
    deep = []
    for _ in range(wire.MAX_DEPTH + 2):
        deep = [deep]
    with pytest.raises(wire.WireError, match="nested"):
        wire.encode(deep)
    with pytest.raises(wire.WireError):
        wire.decode({"$a": "AAAA", "dtype": "<f8", "shape": [5]})
    with pytest.raises(wire.WireError):
        wire.decode({"$a": "", "dtype": "|O", "shape": [0]})


# ------------------------------------------------------------------------------ runner names

def test_bound_and_free_names():
    source = ("import numpy as np\nfrom a import b as c\nx, (y, z) = 1, (2, 3)\n"
              "def f(u):\n    inner = u\n    return inner + w\n"
              "for k in range(3):\n    total = k\n[q for q in range(2)]\n")
    assert bound_names(source) == {"np", "c", "x", "y", "z", "f", "k", "total"}
    assert free_names(source) == {"w"}
    assert free_names("checks.check_value(relu(_x), 1)\n_x = 2") == {"checks", "relu"}


# ------------------------------------------------------------------------------ the kernel link

@pytest.fixture(scope="module")
def kernel():
    """A real kernel (unconfined, for speed) with a few student functions, and its link."""
    from jupyter_client.manager import KernelManager

    from actlib.grading.grader.remote import KernelLink

    km = KernelManager(kernel_name="python3")
    km.start_kernel()
    client = km.blocking_client()
    client.start_channels()
    client.wait_for_ready(timeout=60)
    client.execute_interactive(STUDENT, timeout=60)
    client.stop_channels()
    link = KernelLink(km, grace=3.0)
    yield link
    link.close()
    if km.has_kernel:
        km.shutdown_kernel(now=True)


STUDENT = '''
import numpy as np
def double(x):
    return 2 * np.asarray(x)
def appends(history):
    history.extend([1.0, 2.0])
def scale_in_place(x):
    x *= 3
    return x
def fails(x):
    raise ValueError(f"bad input {x}")
def todo(x):
    raise NotImplementedError()
def overflows(x):
    return np.exp(np.asarray(x, dtype=float))
def sleeps(seconds):
    import time
    time.sleep(seconds)
    return seconds
def draws(rng):
    return rng.normal(size=2)
class Odd(float):
    def __eq__(self, other):
        return True
def odd(x):
    return Odd(x)
answer = {"a": (1.5, np.arange(3))}
from actlib import activations
from actlib.grading.kernel import stubs
def reaches(z):
    raise stubs.refuse("activations.sigmoid")       # what a stubbed course function does
def swallows(z):
    try:
        raise stubs.refuse("activations.sigmoid")
    except Exception:
        return 1 / (1 + np.exp(-np.asarray(z, dtype=float)))
the_course = activations.sigmoid
import warnings
def leaks_warning(x):
    warnings.warn(f"the input was {x}")
    return x
def leaks_string(x):
    return f"{x}".ljust(80, "!")
def own(z):
    return 1 / (1 + np.exp(-np.asarray(z, dtype=float)))
'''


def test_values_and_functions_come_back_as_data(kernel):
    value = kernel.get("answer")
    assert value["a"][0] == 1.5 and np.array_equal(value["a"][1], np.arange(3))
    double = kernel.get("double")
    assert double.__name__ == "double" and callable(double)
    out = double(np.array([1.0, 2.0], dtype=np.float32))
    assert type(out) is np.ndarray and out.dtype == np.float32 and np.array_equal(out, [2, 4])
    with pytest.raises(KeyError):
        kernel.get("no_such_name")


def test_in_place_changes_and_generators_are_copied_back(kernel):
    x = np.array([1.0, 2.0])
    kernel.get("scale_in_place")(x)
    assert np.array_equal(x, [3.0, 6.0])
    history = [0.5]
    kernel.get("appends")(history)
    assert history == [0.5, 1.0, 2.0]
    rng, twin = np.random.default_rng(3), np.random.default_rng(3)
    assert np.array_equal(kernel.get("draws")(rng), twin.normal(size=2))
    assert np.array_equal(rng.normal(size=2), twin.normal(size=2))


def test_exceptions_and_warnings_are_raised_here(kernel):
    with pytest.raises(ValueError, match="bad input 4"):
        kernel.get("fails")(4)
    with pytest.raises(NotImplementedError):
        kernel.get("todo")(1)
    with pytest.warns(RuntimeWarning, match="overflow"):
        kernel.get("overflows")(1000.0)
    with np.errstate(over="raise"), pytest.raises(FloatingPointError):
        kernel.get("overflows")(1000.0)


def test_a_reached_banned_name_fails_the_call_by_name(kernel):
    """The kernel's report of a banned name its code reached (a hint: in a check kernel the
    name's code is not there) fails the call with the exercise's message when the exercise bans
    it, even when the student's code caught the exception; a name only another exercise bans
    asks for a view of the exercise's own; a course object sent back as an answer stays a
    handle, called in the kernel."""
    from actlib.grading.grader import views
    from actlib.grading.grader.bans import ban_for
    from actlib.grading.grader.remote import ForeignReach, RemoteFunction

    kernel.ban = ban_for("03-sigmoid-tanh", "test_sigmoid_stable_hidden")
    try:
        for name in ("reaches", "swallows"):
            with pytest.raises(AssertionError, match=r"Exercise 3\.5 asks you to write the "
                               rf"sigmoid: `activations.sigmoid` is not available inside `{name}`"):
                kernel.get(name)(0.5)
        assert kernel.get("own")(0.0) == 0.5
        kernel.ban = ban_for("03-sigmoid-tanh", "test_tanh_from_sigmoid_hidden")
        kernel.view = views.View.of(ban_for("03-sigmoid-tanh", "sigmoid_stable"))
        with pytest.raises(ForeignReach):
            kernel.get("reaches")(0.5)
        assert isinstance(kernel.get("the_course"), RemoteFunction)
    finally:
        kernel.ban = kernel.view = None


def test_hidden_tests_show_nothing_the_student_wrote(kernel):
    """In a hidden test the checks still see the student's texts (an exception's message, a
    warning, a string answer), but the runner redacts every one of them from the test's
    outputs, so no hidden input reaches the feedback through them."""
    from actlib.grading.grader.runner import GraderSession

    session = GraderSession({}, {"test_x_hidden": (
        "### BEGIN HIDDEN TESTS\n"
        "try:\n"
        "    fails(1234.5)\n"
        "except ValueError as exc:\n"
        "    assert '1234.5' in str(exc)\n"
        "import warnings\n"
        "leaks_warning(4321.5)\n"
        "assert False, 'got ' + leaks_string(9876.5)\n"
        "### END HIDDEN TESTS\n")}, timeout=30.0)
    session.answer_names = {"fails", "leaks_warning", "leaks_string"}
    outputs = session.run_test("test_x_hidden", kernel)
    text = json.dumps(outputs)
    assert "AssertionError" in text and "not shown for hidden tests" in text, text
    assert "1234" not in text and "9876" not in text and "4321" not in text, text


def test_odd_results_arrive_as_opaque_proxies(kernel):
    from actlib.grading import checks
    from actlib.grading.grader.remote import RemoteObject

    got = kernel.get("odd")(1.0)
    assert isinstance(got, RemoteObject) and "1.0" in repr(got)
    with pytest.raises(AssertionError, match="should be a number"):
        checks.check_value(got, 2.0)


def test_a_call_past_its_deadline_is_interrupted(kernel):
    kernel.deadline = time.monotonic() + 1.0
    try:
        with pytest.raises(AssertionError, match="did not return in time"):
            kernel.get("sleeps")(30)
    finally:
        kernel.deadline = None
    assert kernel.get("double")(1) == 2, "the kernel answers again after the interrupt"


# ------------------------------------------------------------------------------ the sandbox

def _sandboxed(tmp_path, code):
    from actlib.grading.grader import sandbox

    reason = sandbox.check_isolation()
    if reason and os.environ.get("CI") != "true":
        pytest.skip(f"this host cannot isolate: {reason}")
    run, work = tmp_path / "run", tmp_path / "work"
    run.mkdir()
    work.mkdir()
    (work / "mine.txt").write_text("mine")
    shared = tmp_path / "shared"          # below /tmp, like a CI job's virtual environment
    shared.mkdir()
    (shared / "lib.txt").write_text("library")
    return subprocess.run([sys.executable, "-m", "actlib.grading.grader.sandbox", "--runtime", str(run),
                           "--processes", "64", "--expose", str(shared), "--",
                           sys.executable, "-c", code],
                          cwd=work, capture_output=True, text=True, timeout=120)


def test_sandbox_hides_the_course_and_the_disk(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("answers")
    code = f"""
import os
print(open('mine.txt').read(), open({str(tmp_path / 'shared' / 'lib.txt')!r}).read())
for path in ({str(secret)!r}, {os.path.abspath('source')!r}, {os.path.abspath('.git')!r}, '/root/.bashrc'):
    print(path, os.path.exists(path))
"""
    result = _sandboxed(tmp_path, code)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "mine library", "the work folder's files are copied in, /tmp paths shown"
    assert all(line.endswith(" False") for line in lines[1:]), result.stdout


def test_sandbox_writes_stay_inside_and_the_user_is_not_root(tmp_path):
    code = f"""
import os
print(os.getuid() != 0)
open('new.txt', 'w').write('x')
for path in ({str(tmp_path / 'outside.txt')!r}, '/usr/escape.txt', '/etc/escape.txt'):
    try:
        open(path, 'w').write('x')
        print('WROTE', path)
    except OSError:
        pass
"""
    result = _sandboxed(tmp_path, code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True"], result.stdout
    assert not (tmp_path / "work" / "new.txt").exists(), "the work folder is a private copy"
    assert not (tmp_path / "outside.txt").exists()


def test_sandbox_has_no_network_and_limits(tmp_path):
    code = """
import resource, socket
try:
    socket.create_connection(('127.0.0.1', 22), timeout=2)
    print('CONNECTED')
except OSError:
    print('no network')
print(resource.getrlimit(resource.RLIMIT_NPROC)[0], resource.getrlimit(resource.RLIMIT_AS)[0] > 0)
"""
    result = _sandboxed(tmp_path, code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["no network", "64 True"], result.stdout


def test_sandbox_refuses_to_run_without_a_command(tmp_path):
    result = subprocess.run([sys.executable, "-m", "actlib.grading.grader.sandbox", "--runtime",
                             str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "no command" in result.stderr


def test_answers_that_silence_warnings_are_found_and_fail_their_tests():
    from actlib.grading.grader.runner import GraderSession, silencers

    source = ("def f(z):\n    # np.errstate would be cheating\n    s = 'seterr'\n"
              "    with np.errstate(over='ignore'):\n        return 1 / (1 + np.exp(-z))\n")
    assert silencers(source) == ["errstate"]
    assert silencers("import warnings\nwarnings.simplefilter('ignore')\nnp.seterr(all='ignore')") \
        == ["simplefilter", "seterr"]
    assert silencers("def f(z):\n    return np.exp(-abs(z))  # no errstate here\n") == []
    session = GraderSession({}, {"test_f_visible": "assert True", "test_g_visible": "pass"})
    session.silenced["f"] = ["errstate"]
    out = session.run_test("test_f_visible", link=object())
    assert out[0]["ename"] == "AssertionError"
    assert "the cell of `f` switches warnings off (`errstate`)" in out[0]["evalue"]
