"""Feedback formulas as MathML (actlib.grading.feedback), without nbgrader: every formula of
every lesson converts, nothing is left as LaTeX, and pages load nothing from the network.

The whole path (nbgrader's generate_feedback, the exchange, Chromium offline) is tested in
tests/test_term.py.
"""
import re
from pathlib import Path

import nbformat
import pytest
from nbconvert.filters.markdown_mistune import MarkdownWithMath

from actlib.grading.feedback import (MathMLRenderer, external_references, strip_external,
                                     tex_to_mathml)

ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted((ROOT / "source").glob("*/*.ipynb"))


class Counting(MathMLRenderer):
    """The course's renderer, counting the formulas nbconvert's parser hands over."""

    formulas = 0

    def block_math(self, body):
        self.formulas += 1
        return super().block_math(body)

    def inline_math(self, body):
        self.formulas += 1
        return super().inline_math(body)

    def latex_environment(self, name, body):
        self.formulas += 1
        return super().latex_environment(name, body)


def markdown_cells(path):
    return [c.source for c in nbformat.read(str(path), as_version=4).cells
            if c.cell_type == "markdown"]


@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_every_formula_of_a_lesson_becomes_mathml(path):
    """As many MathML formulas as nbconvert's parser finds formulas; none left as source, no
    LaTeX command or escape left inside the MathML."""
    found = made = 0
    for source in markdown_cells(path):
        counter = Counting(escape=False)
        ours = MarkdownWithMath(renderer=counter).render(source)
        found += counter.formulas
        made += ours.count("<math ")
        assert 'class="tex-source"' not in ours, f"{path.name}: a formula was not converted"
        tokens = re.findall(r"<m(?:i|o|n|text)\b[^>]*>([^<]*)</m(?:i|o|n|text)>", ours)
        assert not [t for t in tokens if "\\" in t], (
            f"{path.name}: LaTeX left in MathML: {[t for t in tokens if chr(92) in t][:5]}")
    assert made == found, f"{path.name}: {found} formulas, {made} MathML"


def test_a_formula_that_cannot_be_read_is_shown_as_its_source():
    out = tex_to_mathml(r"\frac{1}{", display=False)
    assert out == r'<code class="tex-source">\frac{1}{</code>'
    assert tex_to_mathml(r"\text{fan\_in}").count("fan_in") == 1


def test_external_references_finds_what_a_stock_page_loads():
    """nbconvert's stock feedback loads MathJax from a CDN: found, and stripped."""
    page = ('<script src="https://cdnjs.cloudflare.com/ajax/libs/mathjax/2.7.7/latest.js"> '
            '</script><link rel="stylesheet" href="//cdn.example/x.css"><style>@import '
            'url("https://fonts.example/f.css");</style><a href="https://example.org">ok</a>'
            '<script type="text/x-mathjax-config">MathJax.Hub.Config({})</script>')
    assert len(external_references(page)) == 3
    stripped = strip_external(page)
    assert external_references(stripped) == [] and "mathjax-config" not in stripped
    assert '<a href="https://example.org">' in stripped
