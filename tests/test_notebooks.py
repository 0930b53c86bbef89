"""Every solution notebook runs top to bottom without an error, a warning or stderr output,
and every figure it draws has a title, axis labels and a legend where lines are compared.

The figures are audited inside the kernel (`figure_audit`). Each solution is executed once per
test run: the graded class of tests/test_grading.py submits the solution with the audit cells
around it, and the tests here read that graded run.
"""
import nbformat
import pytest
from nbclient import NotebookClient

from coursetools import output_problems
from figure_audit import audit_report, with_audit
from test_grading import graded  # noqa: F401 - the shared graded class of each assignment

pytestmark = pytest.mark.notebooks


def run_with_audit(nb, folder):
    """Execute ``nb`` in ``folder`` with the figure audit; return (notebook without the two
    audit cells, list of figure problems)."""
    nb = with_audit(nb)
    client = NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(folder)}})
    client.execute()
    problems = audit_report(nb)
    nb.cells = nb.cells[1:-1]
    return nb, problems


def test_the_audit_catches_an_unlabelled_figure(tmp_path, monkeypatch):
    # the kernel runs as the notebook tests' kernels do, whatever earlier tests left behind
    monkeypatch.setenv("ACTLIB_HEADLESS", "1")
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "import matplotlib.pyplot as plt\n"
        "plt.plot([0, 1], label='a'); plt.plot([1, 0], label='b'); plt.show()")]
    _, problems = run_with_audit(nb, tmp_path)
    assert any("no title" in p for p in problems)
    assert any("missing axis label" in p for p in problems)
    assert any("no legend" in p for p in problems)


@pytest.mark.nbgrader
def test_solution_runs_cleanly_and_every_figure_is_labelled(graded):  # noqa: F811
    for name, nb in graded.autograded("solution").items():
        problems = audit_report(nb)
        found = output_problems(nb)
        assert not found, f"{name}: " + "; ".join(f"cell {i}: {text}" for i, text in found)
        assert not problems, f"{name}: figures not labelled:\n" + "\n".join(problems)
