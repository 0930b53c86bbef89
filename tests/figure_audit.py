"""The figure audit shared by the notebook tests: cells that check every figure a kernel draws.

`AUDIT` (run first) wraps Matplotlib's ``print_figure`` so that each figure is checked when it is
rendered — inline, in a widget's output, or saved — for a title, axis labels, a legend where
labelled lines are compared, and a second cue besides colour (line style or marker) wherever
two compared lines' colours come close for a reader with a colour-vision deficiency
(`actlib.plots.indistinct_lines`); `REPORT` (run last) prints the problems found as JSON.
"""
import json

import nbformat

AUDIT = r'''
import json as _json
import matplotlib.backend_bases as _mbb
from matplotlib.lines import Line2D as _Line2D
from actlib.plots import indistinct_lines as _indistinct_lines

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
        for a, b, deficiency, difference in _indistinct_lines(ax):
            _FIGURE_PROBLEMS.append(
                f"{where}: lines {a!r} and {b!r} differ by colour alone, and with "
                f"{deficiency} their colours are only ΔE {difference} apart")

_original_print_figure = _mbb.FigureCanvasBase.print_figure

def _print_figure(self, *args, **kwargs):
    _audit_figure(self.figure)
    return _original_print_figure(self, *args, **kwargs)

_mbb.FigureCanvasBase.print_figure = _print_figure
'''

REPORT = "print(_json.dumps(_FIGURE_PROBLEMS))"


def with_audit(nb):
    """A copy of ``nb`` with the audit cell first and the report cell last."""
    out = nbformat.from_dict(json.loads(json.dumps(nb)))
    out.cells.insert(0, nbformat.v4.new_code_cell(AUDIT))
    out.cells.append(nbformat.v4.new_code_cell(REPORT))
    return out


def audit_report(nb):
    """The figure problems an executed ``with_audit`` notebook reported (AssertionError when the
    report cell printed nothing: the kernel died or the audit never ran)."""
    texts = [o.get("text", "") for o in nb.cells[-1].get("outputs", [])
             if o.get("output_type") == "stream" and o.get("name") == "stdout"]
    assert texts, "the figure audit did not report (did the kernel die?)"
    return json.loads("".join(texts))
