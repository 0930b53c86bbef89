"""Unit tests of the grading checks (actlib.grading.checks) and the nbgrader preprocessors."""
import warnings

import nbformat
import numpy as np
import pytest

from actlib.grading import checks
from actlib.grading.preprocessors import DropDuplicateIds, HideHiddenTests, strip_hidden


def good_sigmoid(x):
    x = np.asarray(x, dtype=float)
    return np.exp(-np.logaddexp(0.0, -x))


def naive_sigmoid(x):
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))


def test_check_function_accepts_a_correct_answer_written_differently():
    def loop_sigmoid(x):
        flat = [1 / (1 + np.exp(-v)) if v >= 0 else np.exp(v) / (1 + np.exp(v))
                for v in np.ravel(np.asarray(x, dtype=float))]
        return np.reshape(flat, np.shape(x))

    checks.check_function(loop_sigmoid, good_sigmoid, [0.0, np.linspace(-30, 30, 7)],
                          name="sigmoid")


def test_check_function_message_names_input_expected_got_and_convention():
    def relu_grad_wrong(x):
        return (np.asarray(x) >= 0).astype(float)

    def relu_grad(x):
        return (np.asarray(x) > 0).astype(float)

    with pytest.raises(AssertionError) as err:
        checks.check_function(relu_grad_wrong, relu_grad, [np.array([-1.0, 0.0, 2.0])],
                              name="relu_grad", convention="ReLU'(0) = 0")
    message = str(err.value)
    assert "relu_grad([-1.0, 0.0, 2.0] (shape (3,), dtype float64))" in message
    assert "index (1,)" in message and "expected 0.0, got 1.0" in message
    assert "Convention: ReLU'(0) = 0." in message


def test_overflow_in_a_students_function_fails_with_a_message_not_stderr():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning escaping the check would raise here
        with pytest.raises(AssertionError, match=r"sigmoid\(-1000\.0\).*overflow"):
            checks.check_function(naive_sigmoid, good_sigmoid, [-1000.0], name="sigmoid")
        with pytest.raises(AssertionError, match="overflow"):
            checks.check_stable(naive_sigmoid, [np.array([-1000.0, 1000.0])], name="sigmoid")
    checks.check_stable(good_sigmoid, [np.array([-1000.0, 1000.0])], name="sigmoid")


def test_check_stable_rejects_nan_and_inf_results():
    with pytest.raises(AssertionError, match="not finite"):
        checks.check_stable(lambda x: np.array([np.nan]), [0.0], name="f")


def test_odd_objects_cannot_pass_by_overriding_eq():
    class AlwaysEqual:
        def __eq__(self, other):
            return True

        def __array__(self, dtype=None, copy=None):
            return np.array(0.5)

    class LyingArray(np.ndarray):
        def __eq__(self, other):
            return np.ones(np.shape(self), dtype=bool)

    with pytest.raises(AssertionError, match="type AlwaysEqual"):
        checks.check_value(AlwaysEqual(), 0.5, name="answer")
    lying = np.array([1.0, 2.0]).view(LyingArray)
    with pytest.raises(AssertionError, match="wrong at index"):
        checks.check_value(lying, [3.0, 4.0], name="answer")
    for odd in (None, "0.5", 0.5 + 0j, True):
        with pytest.raises(AssertionError):
            checks.check_value(odd, 0.5, name="answer")


def test_check_value_shapes_nan_and_infinities():
    checks.check_value([np.inf, -np.inf, np.nan], [np.inf, -np.inf, np.nan], name="a")
    with pytest.raises(AssertionError, match="shape"):
        checks.check_value([1.0, 2.0], [[1.0, 2.0]], name="a")
    with pytest.raises(AssertionError):
        checks.check_value([np.inf], [1e308], name="a")
    with pytest.raises(AssertionError):
        checks.check_value([np.nan], [0.0], name="a")
    checks.check_value(np.array([0.25]), 0.25, name="a")  # a 1-element array for a scalar


def test_dtype_preservation_and_input_mutation_are_checked():
    with pytest.raises(AssertionError, match="float32"):
        checks.check_function(lambda x: np.asarray(x, dtype=np.float64), good_sigmoid,
                              [np.zeros(3, dtype=np.float32)], name="f", dtype="preserve",
                              rtol=1e-6)

    def mutating(x):
        x *= 0
        return good_sigmoid(x)

    with pytest.raises(AssertionError, match="in place"):
        checks.check_function(mutating, lambda x: good_sigmoid(np.zeros_like(x)),
                              [np.ones(3)], name="f")


def test_not_implemented_is_reported_plainly():
    def stub(x):
        raise NotImplementedError()

    with pytest.raises(AssertionError, match=r"^`sigmoid` is not answered yet: write your "
                                             r"answer in its cell"):
        checks.check_function(stub, good_sigmoid, [0.0], name="sigmoid")
    with pytest.raises(AssertionError, match=r"^`stub` is not answered yet"):
        checks.check_raises(stub, (0.0,), ValueError)
    try:
        undefined_answer  # noqa: F821 - the point of the test
    except NameError as exc:
        error = checks.not_set(exc)
    assert str(error).startswith("`undefined_answer` is not answered yet: write your answer")


def test_check_grad_against_finite_differences():
    checks.check_grad(lambda x: good_sigmoid(x) * good_sigmoid(-x), good_sigmoid,
                      [np.linspace(-5, 5, 11)], name="sigmoid'")
    with pytest.raises(AssertionError, match="finite difference"):
        checks.check_grad(lambda x: good_sigmoid(x), good_sigmoid, [np.array([0.3])],
                          name="sigmoid'")


def test_check_raises():
    def strict(lr):
        if lr < 0:
            raise ValueError("learning_rate must be >= 0")

    checks.check_raises(strict, (-1.0,), ValueError, name="strict")
    with pytest.raises(AssertionError, match="returned normally"):
        checks.check_raises(strict, (1.0,), ValueError, name="strict")
    with pytest.raises(AssertionError, match="raised TypeError"):
        checks.check_raises(lambda lr: None + 1, (1.0,), ValueError, name="broken")


SOURCE = """visible_check()
### BEGIN HIDDEN TESTS
secret_check(x=1000.0)
### END HIDDEN TESTS
after()"""


def test_strip_hidden_removes_only_the_hidden_region():
    text, found = strip_hidden(SOURCE)
    assert found
    assert "secret_check" not in text and "BEGIN HIDDEN" not in text
    assert text.splitlines()[0] == "visible_check()" and text.splitlines()[-1] == "after()"
    assert strip_hidden("plain()") == ("plain()", False)


def test_feedback_preprocessor_hides_code_and_traceback_of_hidden_tests():
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(SOURCE)
    cell.outputs = [nbformat.v4.new_output(
        "error", ename="AssertionError", evalue="f(1000.0) is wrong: expected 1.0, got nan",
        traceback=["----> 3 secret_check(x=1000.0)", "AssertionError: ..."])]
    visible = nbformat.v4.new_code_cell("visible_check()")
    visible.outputs = [nbformat.v4.new_output("error", ename="E", evalue="v", traceback=["tb"])]
    nb.cells = [cell, visible]
    out, _ = HideHiddenTests().preprocess(nb, {})
    assert "secret_check" not in out.cells[0].source
    assert out.cells[0].outputs[0].traceback == [
        "AssertionError: f(1000.0) is wrong: expected 1.0, got nan"]
    assert out.cells[1].outputs[0].traceback == ["tb"]  # cells without hidden tests keep theirs


def test_duplicate_grade_ids_keep_the_last_copy_and_drop_the_metadata_key():
    nb = nbformat.v4.new_notebook()
    meta = {"grade": True, "grade_id": "test_a", "locked": True, "points": 1,
            "schema_version": 3, "solution": False, "task": False}
    first, second = (nbformat.v4.new_code_cell(src) for src in ("first()", "second()"))
    for cell in (first, second):
        cell.metadata["nbgrader"] = dict(meta)
    nb.cells = [first, second]
    out, _ = DropDuplicateIds().preprocess(nb, {})
    assert "nbgrader" not in out.cells[0].metadata
    assert out.cells[1].metadata["nbgrader"]["grade_id"] == "test_a"


def test_a_failure_on_a_large_input_names_the_failing_entry_not_the_array():
    x = np.linspace(-3.0, 3.0, 40).reshape(4, 10)

    def wrong(z):
        out = np.maximum(np.asarray(z), 0.0)
        out[2, 7] += 1.0
        return out

    with pytest.raises(AssertionError) as info:
        checks.check_function(wrong, lambda z: np.maximum(z, 0.0), [x], name="relu")
    message = str(info.value)
    assert message.startswith("relu(an array of shape (4, 10), dtype float64) is wrong at index "
                              f"(2, 7) (input {x[2, 7].item()!r}): expected ")
    assert message.count(",") < 8, f"the message lists the array: {message}"


def test_a_python_float_is_fine_for_a_zero_d_float64_input():
    def as_float(z):
        return float(np.maximum(z, 0.0))

    checks.check_function(as_float, lambda z: np.maximum(z, 0.0), [np.array(1.5), np.float64(-2.0)],
                          name="relu", dtype="preserve")
    with pytest.raises(AssertionError, match="expected float32"):
        checks.check_function(as_float, lambda z: np.maximum(z, 0.0),
                              [np.array(1.5, dtype=np.float32)], name="relu", dtype="preserve")
