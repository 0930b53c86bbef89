"""Feedback HTML that works offline: formulas as MathML, no script or style from the network.

nbgrader renders feedback with nbconvert's HTML exporter, whose template loads MathJax from a
CDN: offline (an exam room, a student reading a downloaded file on a train) every formula stays
raw LaTeX. `OfflineFeedbackExporter` (``c.GenerateFeedback.exporter_class`` in
``nbgrader_config.py``) fixes that.

Why MathML made at generation time, and not a local copy of MathJax: nbgrader's exchange
returns each feedback page as one lone ``.html`` file (``nbgrader release_feedback`` /
``fetch_feedback`` copy nothing beside it), so a script could only come inlined — MathJax with
its fonts is megabytes per page, and it still needs JavaScript to run. MathML is the web's own
maths markup: Chromium (since 109), Firefox and Safari lay it out natively, without any script,
and the page stays small. The LaTeX of every markdown formula (``$...$``, ``$$...$$``,
``\\begin{...}`` environments, found by nbconvert's own markdown parser, exactly where MathJax
would look) is converted with the pure-Python ``latex2mathml`` package. A formula it cannot
convert is shown as its LaTeX source in a ``<code>`` element (and logged), never dropped.

The exporter then removes what would still reach the network: every ``<script>`` or
``<link>`` whose address is not local (nbconvert's MathJax loader, a widgets loader) and
MathJax's inline configuration script.
"""
import logging
import re
from html import escape

from jinja2 import pass_context
from nbconvert.exporters import HTMLExporter
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

__all__ = ["tex_to_mathml", "MathMLRenderer", "OfflineFeedbackExporter", "external_references",
           "strip_external"]

log = logging.getLogger(__name__)

# A reference to the network: an absolute http(s) address, or a protocol-relative one (//host).
_REMOTE = r"""["']\s*(?:https?:)?//"""
_REMOTE_SCRIPT = re.compile(rf"<script\b[^>]*\bsrc\s*=\s*{_REMOTE}[^>]*>.*?</script\s*>",
                            re.S | re.I)
_REMOTE_LINK = re.compile(rf"<link\b[^>]*\bhref\s*=\s*{_REMOTE}[^>]*>", re.S | re.I)
_MATHJAX_CONFIG = re.compile(r"<script\b[^>]*type\s*=\s*[\"']text/x-mathjax-config[\"'][^>]*>"
                             r".*?</script\s*>", re.S | re.I)
_MTEXT = re.compile(r"(<mtext\b[^>]*>)(.*?)(</mtext>)", re.S)
_TEXT_ESCAPE = re.compile(r"\\([_%&#$\{\} ])")
_NS_DECLARATION = re.compile(r'\s+xmlns:ns\d+="http://www\.w3\.org/1998/Math/MathML"')
_NS_PREFIX = re.compile(r"(</?)ns\d+:")
_CSS_IMPORT = re.compile(r"@import\s+(?:url\()?\s*[\"']?\s*(?:https?:)?//[^;]*;", re.I)


def tex_to_mathml(tex, display=False):
    """MathML markup for the LaTeX formula ``tex`` (without its ``$`` delimiters).

    ``display`` makes a block formula. When ``latex2mathml`` cannot convert the formula, the
    LaTeX source is returned escaped inside ``<code class="tex-source">``.
    """
    from latex2mathml.converter import convert

    try:
        mathml = convert(tex.strip(), display="block" if display else "inline")
    except Exception as exc:  # noqa: BLE001 - any parser failure: show the source instead
        log.warning("formula not converted to MathML (%s: %s): %s", type(exc).__name__, exc, tex)
        return f'<code class="tex-source">{escape(tex)}</code>'
    # latex2mathml keeps the escapes inside \\text{...} as typed (fan\\_in): unescape them.
    return _MTEXT.sub(lambda m: m.group(1) + _TEXT_ESCAPE.sub(r"\1", m.group(2)) + m.group(3),
                      mathml)


class MathMLRenderer(IPythonRenderer):
    """nbconvert's markdown renderer, with every formula written as MathML instead of being
    left as ``$...$`` text for MathJax."""

    def block_math(self, body):
        """A ``$$...$$`` (or ``\\[...\\]``) formula, as block MathML."""
        return tex_to_mathml(body, display=True)

    def inline_math(self, body):
        """A ``$...$`` (or ``\\(...\\)``) formula, as inline MathML."""
        return tex_to_mathml(body, display=False)

    def heading(self, text, level, **attrs):
        """A heading, as nbconvert makes it (an id and an anchor link), with its formulas
        kept as plain ``<math>`` elements: nbconvert re-serialises headings with ElementTree,
        which writes MathML as ``<ns0:math>``, an element no browser renders as maths."""
        html = super().heading(text, level, **attrs)
        html = _NS_DECLARATION.sub("", html)
        return _NS_PREFIX.sub(r"\1", html)

    def latex_environment(self, name, body):
        """A ``\\begin{name}...\\end{name}`` environment, as block MathML."""
        return tex_to_mathml(f"\\begin{{{name}}}{body}\\end{{{name}}}", display=True)


def strip_external(page):
    """``page`` (HTML) without scripts, stylesheets or CSS imports loaded from the network, and
    without MathJax's configuration script."""
    for pattern in (_REMOTE_SCRIPT, _REMOTE_LINK, _MATHJAX_CONFIG, _CSS_IMPORT):
        page = pattern.sub("", page)
    return page


def external_references(page):
    """The network addresses that ``page`` (HTML) would load: ``src`` of scripts, images and
    frames, ``href`` of stylesheet links, CSS ``@import`` and ``url()``. Hyperlinks (``<a
    href>``) are not loads and are not listed."""
    found = []
    for tag in re.finditer(r"<(script|img|iframe|link|source|embed|object)\b[^>]*>", page, re.I):
        for attr in re.finditer(r"\b(?:src|href|data)\s*=\s*[\"']([^\"']*)[\"']", tag.group(0), re.I):
            if re.match(r"\s*(?:https?:)?//", attr.group(1)):
                found.append(attr.group(1))
    for css in re.finditer(r"(?:@import\s+|url\()\s*[\"']?\s*((?:https?:)?//[^\"')\s;]+)", page, re.I):
        found.append(css.group(1))
    return found


class OfflineFeedbackExporter(HTMLExporter):
    """nbconvert's HTML exporter, for nbgrader's feedback: formulas rendered as MathML at
    generation time and nothing loaded from the network (see the module's docstring)."""

    @pass_context
    def markdown2html(self, context, source):
        """Markdown to HTML, like `HTMLExporter.markdown2html`, with formulas as MathML."""
        cell = context.get("cell", {})
        attachments = cell.get("attachments", {})
        path = context.get("resources", {}).get("metadata", {}).get("path", "")
        renderer = MathMLRenderer(
            escape=False,
            attachments=attachments,
            embed_images=self.embed_images,
            path=path,
            anchor_link_text=self.anchor_link_text,
            exclude_anchor_links=self.exclude_anchor_links,
            **self.lexer_options,
        )
        return MarkdownWithMath(renderer=renderer).render(source)

    def from_notebook_node(self, nb, resources=None, **kw):
        """Export ``nb`` to HTML, then drop every script and stylesheet from the network."""
        output, resources = super().from_notebook_node(nb, resources=resources, **kw)
        return strip_external(output), resources
