"""The course as students use it: JupyterLab in a real browser (headless Chromium).

    python -m pytest -m browser -n 2 --dist loadgroup

Each worker starts one JupyterLab server the way the README's students' command does (on a
scratch copy of the course, on loopback, with a token) and one Chromium driven by
Playwright, shared by every lesson it runs. Without Playwright or Chromium these tests skip
with a one-line reason, and fail under CI=true.

Each lesson is met as a student meets it: its student notebook, Run All before answering
(Run All reaches the end, each unanswered exercise says so in one line, every figure and
widget is there, readable and accessible: axe-core finds no critical or serious problem in
the course's content), its widgets moved, then the lesson answered in place and its cells
run. Screenshots before and after answering go to the folder named in the run's header
(``$BROWSER_SCREENSHOTS``, by default a fixed folder in the system's temp).

In the served course figures are drawn as SVG with their text kept as text (see
`browserkit.Lab.kernel_environment`), so that titles and legends can be read in the page.
"""
import json
import os
import re
import shutil
import time
import urllib.parse

import pytest

import browserkit
from browserkit import ROOT, SOLUTIONS

pytestmark = pytest.mark.browser

LESSONS = sorted(p.name for p in (ROOT / "source").iterdir() if (p / f"{p.name}.ipynb").exists())
# Two groups, each on one xdist worker with its own server and browser; roughly equal time.
GROUP_OF = {lesson: f"browser-{'ab'[i % 2]}" for i, lesson in enumerate(LESSONS)}
STUDENT_GROUP = "browser-a"

# "z_j", "θ_t": a subscript written as TeX but shown as it is typed (math text renders it).
LITERAL_SUBSCRIPT = re.compile(r"(?<![^\W_])[^\W\d_]_[^\W_]{1,2}(?![^\W_])")

RUN_ALL_TIMEOUT = 240      # seconds for Run All of one lesson (they take 5-25 s here)
REDRAW_TIMEOUT = 60        # seconds for one widget to redraw after a control changed


# For each lesson, each widget in page order: the control to change, its new value, texts
# that must then be in the widget's figure (a title, a legend entry) and texts that must be
# gone from it (the previous choice).
WIDGET_CHANGES = {
    "01-neuron": [
        dict(control="w₁", value="-1", present=["w = (-1.0, 1.0), b = -1.5: 2/4 right"],
             absent=["1/4 right"]),
    ],
    "02-training": [],          # no widget: its figures are static loss and error curves
    "03-sigmoid-tanh": [
        dict(control="weight w", value="2", present=["σ(2z − 1)", "2·σ′(2z − 1)"],
             absent=["σ(3z − 1)"]),
    ],
    "04-relu-family": [
        dict(control="bias shift", value="-1", present=["bias shift -1.0"],
             absent=["bias shift +0.0"]),
        dict(control="activation", value="elu", present=["elu: value", "elu: derivative"],
             absent=["relu"]),
    ],
    "05-smooth-activations": [
        dict(control="β", value="2", present=["swish with β = 2: value", "swish (β = 2)"],
             absent=["swish (β = 1)"]),
        dict(control="activation", value="gelu", present=["gelu: value", "gelu: derivative"],
             absent=["softplus"]),
    ],
    "06-softmax": [
        dict(control="T", value="2", present=["softmax(x / T), T = 2"], absent=["T = 1"]),
    ],
    "07-symbolic": [
        dict(control="activation", value="tanh", present=["tanh"], absent=["swish"]),
    ],
    "08-initialisation": [
        dict(control="activation", value="relu",
             present=["Activations per layer (relu, xavier_normal, 10×300)"],
             absent=["(tanh, xavier_normal, 10×300)"]),
    ],
    "09-gradient-descent": [
        dict(control="epoch", value="10",
             present=["Momentum Optimizer (decay = 0.5) epoch number: 10", "model, epoch 10"],
             absent=["model, epoch 0"]),
    ],
    "10-adaptive-optimisers": [
        dict(control="surface", value="rational", present=["rational:"], absent=["polynomial"]),
        dict(control="optimiser", value="Adam (η = 0.1)",
             present=["Adam (η = 0.1) epoch number: 0"], absent=["Gradient Descent"]),
    ],
    "11-making-it-train": [
        dict(control="log₁₀ η", value="-1", present=["Update-to-data ratio per layer, η = 0.1"],
             absent=["η = 0.01"]),
    ],
    "12-capstone": [],          # no widget: its comparison is a table and static curves
}


def widget_call_count(notebook_path):
    """How many widgets the notebook's code cells build: calls of the course's widget
    functions (`actlib.widgets.interact` and every explorer), definitions not counted."""
    from actlib import widgets

    pattern = re.compile(r"(?<![\w.])(?:widgets\.)?(" + "|".join(widgets.BUILDERS) + r")\s*\(")
    nb = json.loads(notebook_path.read_text(encoding="utf-8"))
    count = 0
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        for line in "".join(cell["source"]).splitlines():
            if not line.lstrip().startswith(("def ", "#")):
                count += len(pattern.findall(line))
    return count


# --- fixtures: one server and one browser per worker ----------------------------------------

def _unavailable(reason):
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"browser tests cannot run under CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser_home(tmp_path_factory):
    reason = browserkit.missing()
    if reason:
        _unavailable(reason)
    return tmp_path_factory.mktemp("browser")


@pytest.fixture(scope="session")
def chromium(browser_home):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = browserkit.launch_browser(playwright)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def student_lab(browser_home):
    """JupyterLab started like the README's students' command, on a scratch course copy."""
    course = browserkit.course_copy(browser_home / "course")
    lab = browserkit.Lab(course, "students", home=browser_home / "students")
    try:
        yield lab
    finally:
        lab.stop()


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        yield page
    finally:
        context.close()


# --- driving JupyterLab ---------------------------------------------------------------------

NOTEBOOK = ".jp-NotebookPanel:not(.lm-mod-hidden)"

ALL_RUN_JS = """() => {
  const panel = document.querySelector('%s');
  if (!panel) return false;
  const prompts = [...panel.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
      .map(e => e.textContent.trim());
  const indicator = panel.querySelector('.jp-Notebook-ExecutionIndicator')
      || document.querySelector('.jp-Notebook-ExecutionIndicator');
  return prompts.length > 0 && prompts.every(t => /^\\[\\d+\\]:$/.test(t))
      && indicator !== null && indicator.dataset.status === 'idle';
}""" % NOTEBOOK

IDLE_JS = """() => {
  const i = document.querySelector('.jp-Notebook-ExecutionIndicator');
  return i !== null && i.dataset.status === 'idle';
}"""

# Top-level widget views: outputs holding a widget, not themselves inside a widget.
WIDGET_ROOTS_JS = """() => [...document.querySelectorAll('%s .jp-OutputArea-output')]
  .filter(o => !o.parentElement.closest('.jupyter-widgets')
               && o.querySelector(':scope > .jupyter-widgets'))""" % NOTEBOOK


OPENED_JS = """() => {
  const panel = document.querySelector('%s');
  if (!panel) return false;
  const kernel = panel.querySelector("[data-jp-item-name='kernelName']");
  const indicator = document.querySelector('.jp-Notebook-ExecutionIndicator');
  return panel.querySelectorAll('.jp-Cell').length > 1 && kernel !== null
      && /Python/.test(kernel.innerText) && indicator !== null
      && indicator.dataset.status === 'idle';
}""" % NOTEBOOK


def open_notebook(page, lab, path, workspace):
    """Open ``path`` in a fresh workspace; wait until its cells are shown and its kernel
    has started and is idle."""
    page.goto(lab.page_url(path, workspace=workspace))
    page.wait_for_function(OPENED_JS, timeout=120_000)


def run_all(page):
    """Run → Run All Cells, then wait until every code cell has run and the kernel is idle."""
    page.locator(f"{NOTEBOOK} .jp-Cell").first.click()
    page.locator(".lm-MenuBar-item", has_text="Run").first.click()
    item = page.locator("#jp-mainmenu-run .lm-Menu-item[data-command='runmenu:run-all']")
    item.wait_for(state="visible")
    item.click()
    page.wait_for_function(ALL_RUN_JS, timeout=RUN_ALL_TIMEOUT * 1000)


def page_problems(page, allowed=None):
    """Error and stderr outputs (but those matching the regular expression ``allowed``), and
    widgets shown as text or not shown, anywhere in the notebook (widget outputs included)."""
    found = page.evaluate("""(sel) => {
      const panel = document.querySelector(sel);
      const out = [];
      panel.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
        .forEach(e => out.push('stderr or error output: ' + e.innerText.slice(0, 400)));
      const text = panel.innerText;
      for (const bad of ['interactive(children=', 'Error displaying widget',
                         'Loading widget...', 'VBox(children=', 'HBox(children=']) {
        if (text.includes(bad)) out.push('widget shown as text: ' + bad);
      }
      return out;
    }""", NOTEBOOK)
    if allowed is not None:
        found = [f for f in found if not allowed.match(f.partition(": ")[2].strip())]
    return found


def widget_roots(page):
    return page.evaluate_handle(WIDGET_ROOTS_JS)


def figure_sources(page, roots, index):
    """The ``src`` of every image in the widget (SVG data addresses), in order."""
    return page.evaluate("([rs, i]) => [...rs[i].querySelectorAll('img')].map(e => e.src)",
                         [roots, index])


def settled_figures(page, roots, index, timeout=90):
    """The widget's figures once they are drawn as SVG: on a busy machine the widget's first
    output can reach the page after the kernel went idle."""
    deadline = time.monotonic() + timeout
    sources = figure_sources(page, roots, index)
    while time.monotonic() < deadline and not (
            sources and all(src.startswith("data:image/svg") for src in sources)):
        page.wait_for_timeout(500)
        sources = figure_sources(page, roots, index)
    return sources


def figure_texts(sources):
    """Every text element of the SVG figures ``sources``."""
    texts = []
    for src in sources:
        head, _, data = src.partition(",")
        svg = urllib.parse.unquote(data)
        texts += [re.sub(r"&(lt|gt|amp|quot|#39);", lambda m: {"lt": "<", "gt": ">", "amp": "&",
                                                                "quot": '"', "#39": "'"}[m[1]], t)
                  for t in re.findall(r"<text\b[^>]*>(.*?)</text>", svg, flags=re.S)]
    return texts


def set_control(page, roots, index, label, value):
    """Set the control labelled ``label`` of widget ``index``: a drop-down picks the option
    ``value``; a slider gets ``value`` typed into its readout (as a student can)."""
    box = page.evaluate_handle(
        """([rs, i, label]) => [...rs[i].querySelectorAll('.widget-inline-hbox')]
             .find(b => [...b.querySelectorAll(':scope > label.widget-label')]
                         .some(l => l.textContent === label)) || null""",
        [roots, index, label]).as_element()
    assert box is not None, f"widget {index} has no control labelled {label!r}"
    select = box.query_selector("select")
    if select is not None:
        select.select_option(label=value)
        return
    readout = box.query_selector(".widget-readout")
    assert readout is not None, f"control {label!r} is neither a drop-down nor a slider"
    readout.click()
    page.keyboard.press("Control+A")
    page.keyboard.type(value)
    page.keyboard.press("Enter")


def control_value(page, roots, index, label):
    """What the control labelled ``label`` of widget ``index`` shows: the chosen option of a
    drop-down, the readout of a slider."""
    return page.evaluate(
        """([rs, i, label]) => {
             const box = [...rs[i].querySelectorAll('.widget-inline-hbox')]
               .find(b => [...b.querySelectorAll(':scope > label.widget-label')]
                           .some(l => l.textContent === label));
             const select = box.querySelector('select');
             if (select) return select.options[select.selectedIndex].text;
             return box.querySelector('.widget-readout').textContent.replace('−', '-');
           }""", [roots, index, label])


def wait_for_redraw(page, roots, index, before, *, timeout=REDRAW_TIMEOUT):
    """Wait until widget ``index`` shows figures other than ``before`` and the kernel is
    idle; return the new sources. Fails when the figure has not changed in time."""
    try:
        page.wait_for_function(
            """([rs, i, before]) => {
                 const now = [...rs[i].querySelectorAll('img')].map(e => e.src);
                 return now.length > 0 && now.every(s => s.startsWith('data:image/svg'))
                        && JSON.stringify(now) !== JSON.stringify(before);
               }""", arg=[roots, index, before], timeout=timeout * 1000)
    except Exception as exc:  # playwright's TimeoutError
        raise AssertionError(f"widget {index}: its figure did not change within {timeout} s "
                             f"after a control changed") from exc
    page.wait_for_function(IDLE_JS, timeout=timeout * 1000)
    return settled_figures(page, roots, index)


SHOT_HEIGHT = 3000         # px: screenshots of a tall window, a few per lesson


def screenshots(page, folder, name):
    """Screenshots of the whole notebook, one window at a time from the top, taken in a
    window SHOT_HEIGHT tall (fewer, larger pictures; the width, and so the layout, is
    unchanged); the window's size is put back afterwards."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": SHOT_HEIGHT})
    try:
        scroller = page.locator(f"{NOTEBOOK} .jp-WindowedPanel-outer").first
        height, total = scroller.evaluate("e => [e.clientHeight, e.scrollHeight]")
        # the notebook's own area only (no menus or side bars): fewer pixels to take
        box = page.locator(NOTEBOOK).first.bounding_box()
        shots = []
        for k, top in enumerate(range(0, max(total, 1), max(height - 40, 200))):
            scroller.evaluate("(e, top) => { e.scrollTop = top; }", top)
            path = folder / f"{name}-{k + 1:02d}.jpeg"
            page.screenshot(path=str(path), type="jpeg", quality=70, clip=box)
            shots.append(path)
    finally:
        page.set_viewport_size(size)
    return shots


# --- the lessons ---------------------------------------------------------------------------

# One line a student reads when a cell meets an exercise not answered yet (actlib.grading.checks).
UNANSWERED = re.compile(
    r"^(AssertionError|NotImplementedError|NameError): (`[A-Za-z_][A-Za-z0-9_.]*`|this exercise) "
    r"is (not answered yet: write your answer in its cell, in place of `raise "
    r"NotImplementedError\(\)`, and run that cell\.|not defined: if it is an exercise's answer, "
    r"the exercise is not answered yet .*)$")
# The course's limits: prose lines of at most this many characters, figure text of at least
# this many points as shown (SVG figures: 1 user unit = 1 pt at natural size).
MEASURE = 80
SMALLEST_PT = 8.0
# axe-core rules that JupyterLab's own page breaks (its toolbar, editors, cell list): left out
# where their nodes are JupyterLab's, never inside the course's content (outputs, text cells).
JUPYTERLAB_OWN = {
    "aria-allowed-attr": "JupyterLab's toolbar buttons (jp-button) carry aria-pressed",
    "aria-input-field-name": "CodeMirror's editors (read-only cells) have no accessible name",
    "aria-required-children": "the notebook's cell list is a feed whose cells are not articles",
    "button-name": "the collapse-heading buttons have no text",
    "scrollable-region-focusable": "CodeMirror's scrollers are not focusable",
}
AXE_LEVELS = ("critical", "serious")

CELLS_JS = """(sel) => [...document.querySelector(sel).querySelectorAll('.jp-Cell')].map(c => ({
    errors: [...c.querySelectorAll(
        '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
        .map(e => e.innerText.trim()),
    images: [...c.querySelectorAll('.jp-OutputArea-output img')].length,
    alts: [...c.querySelectorAll('.jp-OutputArea-output img')].map(i => i.getAttribute('alt') || '')
}))"""


def notebook_cells(lab, path):
    """The cells of the served notebook ``path``: (cell type, tags, is a visible test cell,
    source)."""
    nb = json.loads((lab.course / "notebooks" / path).read_text(encoding="utf-8"))

    def checks_something(cell):      # a visible test, not the comment left of a hidden one
        return (cell["cell_type"] == "code"
                and cell.get("metadata", {}).get("nbgrader", {}).get("grade", False)
                and any(line.strip() and not line.lstrip().startswith("#")
                        for line in "".join(cell["source"]).splitlines()))

    return [(c["cell_type"], c.get("metadata", {}).get("tags", []), checks_something(c),
             "".join(c["source"])) for c in nb["cells"]]


def unanswered_problems(cells, shown):
    """What is wrong with the error outputs of a student's notebook after Run All: each test
    cell shows exactly one one-line message; no other output is an error unless its cell is
    tagged raises-exception and it is one of those messages."""
    found = []
    assert len(cells) == len(shown), f"{len(shown)} cells in the page, {len(cells)} in the file"
    for k, ((kind, tags, is_test, source), out) in enumerate(zip(cells, shown)):
        first = source.strip().splitlines()[0][:70] if source.strip() else ""
        if is_test and len(out["errors"]) != 1:
            found.append(f"cell {k} (test {first!r}): {len(out['errors'])} messages, not one")
        for text in out["errors"]:
            if "raises-exception" not in tags:
                found.append(f"cell {k} ({first!r}), not tagged raises-exception: {text[:200]}")
            elif not UNANSWERED.match(text):
                found.append(f"cell {k} ({first!r}): not the course's one-line message: "
                             f"{text[:300]}")
    return found


def figure_font_sizes(page):
    """For every SVG figure in the notebook: (its smallest text in points as shown, that
    text, the figure's scale on the page, the start of its text alternative)."""
    return page.evaluate("""(sel) => [...document.querySelectorAll(sel + ' .jp-OutputArea-output img')]
      .filter(i => i.src.startsWith('data:image/svg+xml') && i.naturalWidth > 0)
      .map(i => {
        const svg = decodeURIComponent(i.src.slice(i.src.indexOf(',') + 1));
        const m = svg.match(/<svg[^>]*width="([0-9.]+)pt"/);
        const texts = [...svg.matchAll(/<text[^>]*font(?:-size)?:\\s*([0-9.]+)px[^>]*>([^<]*)</g)]
          .map(x => [+x[1], x[2]]);
        if (!m || !texts.length) return null;
        const scale = i.clientWidth / (+m[1] * 4 / 3);
        const [size, text] = texts.reduce((a, b) => (b[0] < a[0] ? b : a));
        return [size * scale, text, scale, (i.getAttribute('alt') || '').slice(0, 70)];
      }).filter(x => x)""", NOTEBOOK)


def control_problems(page, roots):
    """Controls of the widgets not fully visible or not named: a label cut short, a
    drop-down narrower than one of its options (measured in the drop-down's own font), a
    slider handle not named by its visible label or announcing another value than its
    rounded readout, a Play button without a name."""
    return page.evaluate("""(rs) => {
      const out = [], ctx = document.createElement('canvas').getContext('2d');
      rs.forEach((root, i) => {
        root.querySelectorAll('label.widget-label').forEach(l => {
          if (l.offsetParent !== null && l.scrollWidth > l.clientWidth + 1)
            out.push(`widget ${i}: label ${JSON.stringify(l.textContent)} is cut`);
        });
        root.querySelectorAll('[role="slider"]').forEach(h => {
          const box = h.closest('.widget-slider');
          const label = box && box.querySelector(':scope > label.widget-label');
          const named = document.getElementById(h.getAttribute('aria-labelledby') || '');
          if (!label || named !== label)
            out.push(`widget ${i}: a slider handle not named by its label ` +
                     JSON.stringify(label ? label.textContent : null));
          const readout = box && box.querySelector('.widget-readout');
          const said = h.getAttribute('aria-valuetext') || '';
          if (readout && said !== readout.textContent.trim().replace('\u2212', '-'))
            out.push(`widget ${i}: slider ${JSON.stringify(label && label.textContent)} ` +
                     `announces ${JSON.stringify(said)}, shows ${JSON.stringify(readout.textContent)}`);
        });
        root.querySelectorAll('.widget-play button').forEach(b => {
          if (!(b.getAttribute('aria-label') || '').trim())
            out.push(`widget ${i}: a Play-widget button without a name`);
        });
        root.querySelectorAll('select').forEach(s => {
          const cs = getComputedStyle(s);
          ctx.font = cs.font;
          const room = s.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight)
                       - 16;                 // the arrow
          for (const o of s.options) {
            const need = ctx.measureText(o.text).width;
            if (need > room)
              out.push(`widget ${i}: option ${JSON.stringify(o.text)} needs ${need.toFixed(0)} px, ` +
                       `the drop-down shows ${room.toFixed(0)}`);
          }
        });
      });
      return out;
    }""", roots)


def prose_measure(page):
    """The longest line, in characters, of the notebook's paragraphs (characters per line
    estimated from each paragraph's height and line height)."""
    return page.evaluate("""(sel) => {
      let worst = [0, ''];
      document.querySelectorAll(sel + ' .jp-MarkdownOutput > p').forEach(p => {
        const lh = parseFloat(getComputedStyle(p).lineHeight) || 20;
        const lines = Math.round(p.getBoundingClientRect().height / lh);
        if (lines < 3 || p.querySelector('.MathJax, mjx-container, img, table')) return;
        const per = p.innerText.length / lines;
        if (per > worst[0]) worst = [per, p.innerText.slice(0, 60)];
      });
      return worst;
    }""", NOTEBOOK)


def axe_violations(page):
    """Critical and serious axe-core violations of the page, JupyterLab's own left out:
    [(rule, impact, number of nodes, first node's html)]."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    # Two passes, for time: every rule but colour contrast on the whole page, and colour
    # contrast (axe's slowest rule) on the course's content only, its outputs and its prose.
    results = axe.run(page, options={"resultTypes": ["violations"],
                                     "rules": {"color-contrast": {"enabled": False}}})
    contrast = axe.run(page, context={"include": [[".jp-OutputArea-output"],
                                                  [".jp-MarkdownOutput"]]},
                       options={"resultTypes": ["violations"],
                                "runOnly": {"type": "rule", "values": ["color-contrast"]}})
    found = []
    for violation in results.response["violations"] + contrast.response["violations"]:
        if violation["impact"] not in AXE_LEVELS:
            continue
        course_nodes = [n for n in violation["nodes"] if page.evaluate(
            """(t) => { const e = document.querySelector(t);
                        return !!e && !!e.closest('.jp-OutputArea-output, .jp-MarkdownOutput'); }""",
            n["target"][0] if isinstance(n["target"][0], str) else "")]
        if violation["id"] in JUPYTERLAB_OWN and not course_nodes:
            continue
        nodes = course_nodes or violation["nodes"]
        found.append((violation["id"], violation["impact"], len(nodes), nodes[0]["html"][:200]))
    return found


ANSWER_JS = """async (answers) => {
  const app = window.jupyterapp;
  if (!app) throw new Error('window.jupyterapp is missing (--LabApp.expose_app_in_browser)');
  const notebook = app.shell.currentWidget.content;
  for (const [index, source] of answers.write)
    notebook.widgets[index].model.sharedModel.setSource(source);
  for (const index of answers.run) {
    notebook.deselectAll();
    notebook.activeCellIndex = index;
    await app.commands.execute('notebook:run-cell');
  }
  return notebook.widgets.length;
}"""


PROMPTS_JS = """([sel, code]) => {
  const cells = [...document.querySelector(sel).querySelectorAll('.jp-Cell')];
  return code.map(k => cells[k].querySelector('.jp-InputPrompt').textContent.trim());
}"""


def answer_in_place(page, lab, lesson):
    """Answer the open student notebook as a student would: each answer cell (code and
    written) gets the solution's text, then the answer cells, the test cells and the cells
    that need answers (tagged raises-exception) run, in order; wait until the kernel is idle."""
    student = json.loads((lab.course / "notebooks" / lesson / f"{lesson}.ipynb")
                         .read_text(encoding="utf-8"))["cells"]
    solution = {c["id"]: "".join(c["source"]) for c in json.loads(
        (lab.course / "notebooks" / SOLUTIONS / lesson / f"{lesson}.ipynb")
        .read_text(encoding="utf-8"))["cells"]}
    write, run = [], []
    for index, cell in enumerate(student):
        grading = cell.get("metadata", {}).get("nbgrader", {})
        if grading.get("solution"):
            write.append([index, solution[cell["id"]]])
        if grading.get("solution") or grading.get("grade") \
                or "raises-exception" in cell.get("metadata", {}).get("tags", []):
            run.append(index)
    assert write and run, f"{lesson}: nothing to answer"
    code = [k for k in run if student[k]["cell_type"] == "code"]
    before = page.evaluate(PROMPTS_JS, [NOTEBOOK, code])
    page.evaluate(ANSWER_JS, {"write": write, "run": run})
    page.wait_for_function(
        """([sel, code, before]) => {
             const i = document.querySelector('.jp-Notebook-ExecutionIndicator');
             const cells = [...document.querySelector(sel).querySelectorAll('.jp-Cell')];
             return i !== null && i.dataset.status === 'idle' && code.every((k, n) => {
               const t = cells[k].querySelector('.jp-InputPrompt').textContent.trim();
               return /^\\[\\d+\\]:$/.test(t) && t !== before[n];
             });
           }""", arg=[NOTEBOOK, code, before], timeout=RUN_ALL_TIMEOUT * 1000)
    return run


def move_widgets(page, lesson, roots):
    """Change each widget's control as WIDGET_CHANGES says, check its figure, put it back."""
    for index, change in enumerate(WIDGET_CHANGES[lesson]):
        before = settled_figures(page, roots, index)
        assert before, f"{lesson}, widget {index}: no figure before any change"
        original = control_value(page, roots, index, change["control"])
        set_control(page, roots, index, change["control"], change["value"])
        after = wait_for_redraw(page, roots, index, before)
        texts = figure_texts(after)
        joined = "\n".join(texts)
        for wanted in change["present"]:
            assert wanted in joined, (
                f"{lesson}, widget {index}: after {change['control']} = {change['value']} "
                f"the figure does not show {wanted!r}; its texts: {texts}")
        for stale in change["absent"]:
            assert stale not in joined, (
                f"{lesson}, widget {index}: after {change['control']} = {change['value']} "
                f"the figure still shows {stale!r} (stale title or legend); texts: {texts}")
        # The check can fail: figures are byte-for-byte reproducible, so the control put
        # back gives back the very same image, and nothing changes without a change.
        set_control(page, roots, index, change["control"], original)
        restored = wait_for_redraw(page, roots, index, after)
        if restored != before:
            folder = browserkit.screenshot_dir() / lesson
            for name, sources in (("before", before), ("restored", restored)):
                for k, src in enumerate(sources):
                    (folder / f"widget{index}-{name}-{k}.svg").write_text(
                        urllib.parse.unquote(src.partition(",")[2]), encoding="utf-8")
            pytest.fail(f"{lesson}, widget {index}: {change['control']} put back to "
                        f"{original} drew a different figure (both in {folder})")
        if lesson == LESSONS[0] and index == 0:
            with pytest.raises(AssertionError, match="did not change"):
                wait_for_redraw(page, roots, index, restored, timeout=2)


@pytest.mark.parametrize("lesson", [pytest.param(a, marks=pytest.mark.xdist_group(GROUP_OF[a]))
                                    for a in LESSONS])
def test_lesson_before_and_after_answering(lesson, student_lab, page):
    """The student's notebook, Run All before answering: it reaches the last cell (so every
    cell without an answer ran and drew its figures), each unanswered exercise's test shows
    its one-line message, every figure has a text alternative and every widget is live, fits
    and responds; axe-core finds no critical or serious problem in the course's content.
    Then the lesson answered in place (the solution's answers typed in, their cells and the
    tests run): no error anywhere. Screenshots of both in the run's folder."""
    student = f"{lesson}/{lesson}.ipynb"
    folder = browserkit.screenshot_dir() / lesson
    try:
        open_notebook(page, student_lab, student, workspace=lesson)
        start = time.monotonic()
        run_all(page)
        seconds = time.monotonic() - start
        shots = screenshots(page, folder / "before-answering", lesson)
        start_checks = time.monotonic()
        cells = notebook_cells(student_lab, student)
        shown = page.evaluate(CELLS_JS, NOTEBOOK)
        problems = unanswered_problems(cells, shown)
        assert not problems, f"{lesson}, Run All before answering:\n" + "\n".join(problems)
        assert sum(bool(c["errors"]) for c in shown) >= sum(c[2] for c in cells) > 0
        without_alt = [k for k, c in enumerate(shown) for a in c["alts"] if not a.strip()]
        assert not without_alt, f"{lesson}: figures without a text alternative in cells {without_alt}"
        small = [f for f in figure_font_sizes(page) if f[0] < SMALLEST_PT - 0.05]
        assert not small, (f"{lesson}: figure text smaller than {SMALLEST_PT} pt as shown "
                           f"(size, figure): {small}")
        per_line, where = prose_measure(page)
        assert per_line <= MEASURE, (f"{lesson}: prose at {per_line:.0f} characters a line "
                                     f"(at most {MEASURE}): {where!r}")
        raw = [t for t in figure_texts(page.evaluate(
            "(sel) => [...document.querySelectorAll(sel + ' img')].map(e => e.src)", NOTEBOOK))
            if LITERAL_SUBSCRIPT.search(t)]
        assert not raw, f"{lesson}: figure texts with a literal underscore: {raw}"

        expected = widget_call_count(student_lab.course / "notebooks" / student)
        roots = widget_roots(page)
        assert page.evaluate("rs => rs.length", roots) == expected, (
            f"{lesson}: the notebook builds {expected} widgets, not all rendered as controls")
        assert len(WIDGET_CHANGES[lesson]) == expected, f"WIDGET_CHANGES lists {lesson} wrong"
        unfit = control_problems(page, roots)
        assert not unfit, f"{lesson}: controls not fully visible:\n" + "\n".join(unfit)
        if expected:
            violations = axe_violations(page)
            assert not violations, (f"{lesson}: axe-core, critical or serious, in the "
                                    f"course's content:\n" + "\n".join(map(str, violations)))
        checked = time.monotonic()
        move_widgets(page, lesson, roots)
        assert not page_problems(page, allowed=UNANSWERED), f"{lesson}: after moving the widgets"
        moved = time.monotonic()

        # The lesson answered, in place: the solution's answers typed into the answer cells,
        # which run with the test cells and the cells that need answers.
        start = time.monotonic()
        ran = answer_in_place(page, student_lab, lesson)
        answering = time.monotonic() - start
        after = screenshots(page, folder / "after-answering", lesson)
        problems = page_problems(page)
        assert not problems, f"{lesson}, answered:\n" + "\n".join(problems)
        answered = page.evaluate(CELLS_JS, NOTEBOOK)
        undrawn = [k for k in ran if not cells[k][2] and "plt.show()" in cells[k][3]
                   and not answered[k]["images"]]
        assert not undrawn, f"{lesson}: cells that need answers drew no figure once answered: {undrawn}"
        print(f"{lesson}: Run All before answering {seconds:.1f} s, checks and axe "
              f"{checked - start_checks:.1f} s, widgets {moved - checked:.1f} s, answering "
              f"{answering:.1f} s; "
              f"screenshots: {len(shots)} in {shots[0].parent}, {len(after)} in {after[0].parent}")
    finally:
        student_lab.shut_down_sessions()


def test_widget_calls_are_counted():
    """The count the lesson test compares with: calls, not definitions or comments."""
    import tempfile
    from pathlib import Path

    cells = ["from actlib.widgets import interact, neuron_explorer",
             "def show(a):\n    pass\n# interact(show) in a comment\n"
             "interact(show, a=1)\nneuron_explorer(X, y)",
             "widgets.interact(show, a=2); widgets.training_player(p, runs)"]
    nb = {"cells": [{"cell_type": "code", "source": c} for c in cells]}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "n.ipynb"
        path.write_text(json.dumps(nb))
        assert widget_call_count(path) == 4


# --- the student's view ---------------------------------------------------------------------

INSTRUCTOR_PLUGINS = ("@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
                      "@jupyter/nbgrader:course-list")


def instructor_tools(lab, page):
    """The instructor tools a JupyterLab page and its server offer (empty for students)."""
    found = []
    if lab.get("/formgrader")[0] != 404:
        found.append("the formgrader server extension answers /formgrader")
    if lab.get("/formgraders")[0] != 404:
        found.append("the course-list server extension answers /formgraders")
    config = json.loads(page.locator("#jupyter-config-data").text_content())
    disabled = config.get("disabledExtensions", [])
    found += [f"lab plugin {p} is enabled" for p in INSTRUCTOR_PLUGINS if p not in disabled]
    page.locator(".lm-MenuBar-item", has_text="Nbgrader").first.click()
    menu = page.locator(".lm-Menu").last
    menu.wait_for(state="visible")
    items = menu.locator(".lm-Menu-itemLabel").all_inner_texts()
    page.keyboard.press("Escape")
    found += [f"menu item {t!r}" for t in items if t in ("Formgrader", "Course List")]
    sidebar = page.locator(".jp-SideBar .lm-TabBar-tab").evaluate_all(
        "ts => ts.map(t => (t.title || '') + ' ' + (t.getAttribute('data-id') || ''))")
    found += [f"side panel {t.strip()!r}" for t in sidebar if "create" in t.lower()
              and "assignment" in t.lower()]
    return found, items


@pytest.mark.xdist_group(STUDENT_GROUP)
def test_students_see_their_notebook_and_no_instructor_tool(student_lab, page):
    path = "01-neuron/01-neuron.ipynb"
    try:
        open_notebook(page, student_lab, path, workspace="student")
        text = page.locator(NOTEBOOK).inner_text()
        assert "# YOUR CODE HERE" in text and "raise NotImplementedError()" in text
        assert "YOUR ANSWER HERE" in text
        for hidden in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS",
                       "Model answer", "x_counter, y_counter = 1.0, -1.0"):
            assert hidden not in text, f"the student's notebook shows {hidden!r}"

        found, items = instructor_tools(student_lab, page)
        assert not found, "instructor tools reachable by students: " + "; ".join(found)
        assert "Assignment List" in items, f"the Nbgrader menu has {items}"

        # Validate, from the notebook's toolbar: nbgrader runs the notebook and reports the
        # course's one-line message for every unanswered exercise, never a traceback.
        page.locator(f"{NOTEBOOK} .jp-Toolbar-item jp-button[aria-label='Validate']").click()
        dialog = page.locator(".jp-Dialog")
        dialog.wait_for(state="visible", timeout=180_000)
        page.wait_for_function(
            "() => !/Validating/.test(document.querySelector('.jp-Dialog').innerText)",
            timeout=180_000)
        report = dialog.inner_text()
        for name in ("neuron", "step", "collapse"):
            message = (f"`{name}` is not answered yet: write your answer in its cell, in place "
                       f"of `raise NotImplementedError()`, and run that cell.")
            assert message in report, f"Validate did not report the course's message:\n{report}"
        assert ("`x_counter` is not answered yet: write your answer in its cell, in place of "
                "`raise NotImplementedError()`, and run that cell.") in report, report
        assert "Traceback" not in report, f"Validate showed a traceback:\n{report}"
        # ...and each failed test leads with that message, above the test's code
        # (actlib.grading.preprocessors.lead_with_message, set in jupyter-student/).
        blocks = report.split("The following cell failed:")[1:]
        tests = [b for b in blocks if "You did not provide a response" not in b]
        assert tests and all(re.match(r"\s*\w+: .+\n\(the test cell follows\)", b)
                             for b in tests), f"Validate did not lead with the message:\n{report}"
        page.screenshot(path=str(_student_shot("validate.png")))
    finally:
        student_lab.shut_down_sessions()


def _student_shot(name):
    folder = browserkit.screenshot_dir() / "students-view"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


@pytest.mark.xdist_group(STUDENT_GROUP)
def test_instructors_command_has_the_tools_the_students_lack(browser_home, page):
    """The instructor-tool check can fail: started the instructors' way, it finds them."""
    course = browserkit.course_copy(browser_home / "instructor-course")
    lab = browserkit.Lab(course, "instructors", home=browser_home / "instructors")
    try:
        page.goto(lab.page_url("", workspace="instructor"))
        page.wait_for_selector(".lm-MenuBar-item", timeout=90_000)
        found, items = instructor_tools(lab, page)
        assert any("/formgrader" in f for f in found), found
        assert any("create-assignment" in f for f in found), found
        assert "Formgrader" in items, items
    finally:
        lab.stop()


def test_literal_subscripts_are_recognised():
    """The pattern the lesson test applies to every figure text."""
    for raw in ("max over the inputs of z_j", "data θ_t", "|∂a_L / ∂a_0|", "x_1"):
        assert LITERAL_SUBSCRIPT.search(raw), raw
    for fine in ("leaky_relu: value", "gelu_tanh", "log_softmax", "zₜ", "layer ℓ"):
        assert not LITERAL_SUBSCRIPT.search(fine), fine


def test_without_a_browser_students_skip_and_ci_fails(monkeypatch):
    """The one-line reason, a skip on a person's machine, a failure under CI=true."""
    monkeypatch.setattr(browserkit, "chromium_path", lambda: None)
    reason = browserkit.missing()
    assert reason and "\n" not in reason and "chromium" in reason.lower()
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="Chromium"):
        _unavailable(reason)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="cannot run under CI"):
        _unavailable(reason)


def test_the_unanswered_rule_can_fail():
    """What the lesson test accepts after Run All before answering: one course message per
    visible test cell, errors only in cells tagged raises-exception, and nothing else."""
    message = ("AssertionError: `relu` is not answered yet: write your answer in its cell, in "
               "place of `raise NotImplementedError()`, and run that cell.")
    tagged = ["raises-exception"]
    cells = [("code", tagged, True, "check(relu)"), ("code", [], False, "plot()"),
             ("code", tagged, False, "def relu(x): ...")]
    fine = [{"errors": [message]}, {"errors": []}, {"errors": []}]
    assert unanswered_problems(cells, fine) == []
    garbled = message.replace("`relu`", "`relu on the example `")
    found = unanswered_problems(cells, [{"errors": [garbled]}, {"errors": ["KeyError: 'x'"]},
                                        {"errors": []}])
    assert any("not the course's one-line message" in f for f in found)
    assert any("not tagged raises-exception" in f for f in found)
    assert unanswered_problems(cells, [{"errors": []}, {"errors": []}, {"errors": []}])
    traceback = "NameError: name 'x' is not defined\nTraceback (most recent call last): ..."
    assert not UNANSWERED.match(traceback)
