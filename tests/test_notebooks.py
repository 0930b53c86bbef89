"""Every solution notebook runs top to bottom without an error, a warning or stderr output,
and every figure it draws has a title, axis labels and a legend where lines are compared.

The figures are audited inside the kernel: a first cell (not part of the notebook) wraps
Matplotlib's ``print_figure``, so each figure is checked at the moment it is rendered —
inline, in a widget's output, or saved.
"""
import json

import nbformat
import pytest
from nbclient import NotebookClient

from coursetools import ROOT, assignments, notebook_names, output_problems

pytestmark = pytest.mark.notebooks

AUDIT = r'''
import json as _json
import matplotlib.backend_bases as _mbb
from matplotlib.lines import Line2D as _Line2D

_FIGURE_PROBLEMS = []

def _audit_figure(fig):
    suptitle = fig._suptitle.get_text() if fig._suptitle is not None else ""
    for i, ax in enumerate(fig.axes):
        if not ax.get_visible() or getattr(ax, "_colorbar", None) is not None:
            continue
        if not (ax.lines or ax.collections or ax.images or ax.patches or ax.containers):
            continue
        where = f"figure {suptitle or ax.get_title()!r}, axes {i}"
        if not (ax.get_title() or suptitle):
            _FIGURE_PROBLEMS.append(f"{where}: no title")
        if not ax.get_xlabel() or not ax.get_ylabel():
            _FIGURE_PROBLEMS.append(f"{where}: missing axis label")
        labelled = [l for l in ax.get_lines() if not l.get_label().startswith("_")]
        if len(labelled) >= 2 and ax.get_legend() is None and not fig.legends:
            _FIGURE_PROBLEMS.append(f"{where}: {len(labelled)} labelled lines but no legend")

_original_print_figure = _mbb.FigureCanvasBase.print_figure

def _print_figure(self, *args, **kwargs):
    _audit_figure(self.figure)
    return _original_print_figure(self, *args, **kwargs)

_mbb.FigureCanvasBase.print_figure = _print_figure
'''

REPORT = "print(_json.dumps(_FIGURE_PROBLEMS))"


def run_with_audit(nb, folder):
    """Execute ``nb`` in ``folder`` between the audit cell and the report cell; return
    (executed notebook without those two cells, list of figure problems)."""
    nb.cells.insert(0, nbformat.v4.new_code_cell(AUDIT))
    nb.cells.append(nbformat.v4.new_code_cell(REPORT))
    client = NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(folder)}})
    client.execute()
    report = [o for o in nb.cells[-1].outputs if o["output_type"] == "stream"]
    assert report, "the figure audit did not report (did the kernel die?)"
    nb.cells = nb.cells[1:-1]
    return nb, json.loads(report[0]["text"])


def test_the_audit_catches_an_unlabelled_figure(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "import matplotlib.pyplot as plt\n"
        "plt.plot([0, 1], label='a'); plt.plot([1, 0], label='b'); plt.show()")]
    _, problems = run_with_audit(nb, tmp_path)
    assert any("no title" in p for p in problems)
    assert any("missing axis label" in p for p in problems)
    assert any("no legend" in p for p in problems)


CASES = [(a, n) for a in assignments() for n in notebook_names(a)]


@pytest.mark.parametrize("assignment,name", CASES, ids=[f"{a}/{n}" for a, n in CASES])
def test_solution_runs_cleanly_and_every_figure_is_labelled(assignment, name):
    folder = ROOT / "solutions" / assignment
    nb, problems = run_with_audit(nbformat.read(str(folder / f"{name}.ipynb"), as_version=4),
                                  folder)
    found = output_problems(nb)
    assert not found, f"{name}: " + "; ".join(f"cell {i}: {text}" for i, text in found)
    assert not problems, f"{name}: figures not labelled:\n" + "\n".join(problems)
