"""Interactive explorers of the course (ipywidgets).

Each explorer is wiring only: the computation lives in a pure function of another module,
the figure is drawn once and its lines are updated in place, and sliders use
``continuous_update=False`` so the kernel is not flooded while a slider moves.

Headless runs. Widgets are for a person at JupyterLab. When a notebook is executed without
one — ``nbgrader autograde`` or ``validate`` (which set ``NBGRADER_EXECUTION``), the test
suite and ``tools/run_notebook.py`` (which set ``ACTLIB_HEADLESS``) — no widget is created:
`slider` and `dropdown` return their initial value, `interact` calls the function once with
those values (so its plot is still drawn), and the explorers print a one-line note instead
(except `neuron_explorer`, which draws the figure of its starting values once).
Executing widget cells headless is not only pointless but can stall the notebook client
(a known, intermittent nbclient hang with ``interact`` and output widgets).
"""
import functools
import os

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import display

HEADLESS_VARIABLES = ("NBGRADER_EXECUTION", "ACTLIB_HEADLESS")
# The functions that put one widget on the page (the browser tests count their calls).
BUILDERS = ("interact", "activation_explorer", "neuron_explorer", "surface_explorer",
            "training_player", "signal_explorer", "parameter_explorer")


def headless():
    """True when the notebook runs without a person at it (see the module docstring)."""
    return any(os.environ.get(name) for name in HEADLESS_VARIABLES)


def explorer(build):
    """Decorator for an explorer: in a headless run, print a note and build nothing."""
    @functools.wraps(build)
    def wrapper(*args, **kwargs):
        if headless():
            print(f"[{build.__name__}: an interactive explorer, shown when you run this "
                  f"notebook in JupyterLab]")
            return None
        accessible()
        return build(*args, **kwargs)
    return wrapper


# Labels are shown whole (no fixed label column that cuts them), and a control is as wide
# as its longest option.
LABEL_STYLE = {"description_width": "initial"}
# Greek letters for the parameters of the registry's activations (the slider's label).
PARAMETER_SYMBOLS = {"alpha": "α", "beta": "β", "threshold": "θ", "scale": "λ"}


def decimals(step):
    """How many decimals show a value on a grid of ``step`` exactly (0.05 -> 2, 0.1 -> 1)."""
    for places in range(8):
        if abs(round(step, places) - step) < 1e-12 * max(1.0, abs(step)):
            return places
    return 8


def slider(value, lo, hi, step, description):
    """A float slider that only updates when released (``continuous_update=False``),
    its readout rounded to the step; in a headless run, just ``value``."""
    if headless():
        return value
    return widgets.FloatSlider(value=value, min=lo, max=hi, step=step,
                               description=description, continuous_update=False,
                               readout_format=f".{decimals(step)}f", style=LABEL_STYLE)


def option_width(options, description):
    """A CSS width for a drop-down with its label that shows its longest option whole
    (characters of the proportional font are at most one ``ch`` wide, plus room for the
    arrow and the padding)."""
    labels = [o[0] if isinstance(o, (tuple, list)) else o for o in options]
    longest = max((len(str(label)) for label in labels), default=1)
    return f"calc({longest + len(description) + 1}ch + 64px)"


def dropdown(options, value, description):
    """A drop-down menu as wide as its longest option; in a headless run, just ``value``."""
    if headless():
        return value
    return widgets.Dropdown(options=options, value=value, description=description,
                            style=LABEL_STYLE,
                            layout=widgets.Layout(width=option_width(options, description)))


# What a screen reader needs and ipywidgets' sliders and Play buttons lack: each slider
# handle named by its visible label (aria-labelledby) and announcing its rounded readout
# (aria-valuetext: the rate of a log-scale slider, not its exponent), the readout named too,
# and the Play widget's icon buttons named. Run by JupyterLab's JavaScript renderer (trusted
# output: the notebook the student runs), once per page; it keeps up with new widgets.
ACCESSIBILITY_SCRIPT = r"""
(function () {
  if (window.actlibAccessibleWidgets) { window.actlibAccessibleWidgets(); return; }
  let pending = false, serial = 0;
  function label(box) {
    const l = box.querySelector(':scope > label.widget-label');
    if (!l || !l.textContent.trim()) return null;
    if (!l.id) l.id = 'actlib-label-' + (++serial);
    return l;
  }
  function fix() {
    pending = false;
    document.querySelectorAll('.widget-slider').forEach(box => {
      const l = label(box);
      const readout = box.querySelector('.widget-readout');
      box.querySelectorAll('[role="slider"]').forEach(handle => {
        if (l && handle.getAttribute('aria-labelledby') !== l.id)
          handle.setAttribute('aria-labelledby', l.id);
        const text = readout ? readout.textContent.trim().replace('−', '-') : '';
        if (text && handle.getAttribute('aria-valuetext') !== text)
          handle.setAttribute('aria-valuetext', text);
      });
      if (readout && l && !readout.getAttribute('aria-label')) {
        readout.setAttribute('role', 'textbox');
        readout.setAttribute('aria-label', l.textContent.trim() + ', value');
      }
    });
    document.querySelectorAll('.widget-play').forEach(box => {
      const names = ['Play', 'Pause', 'Stop', 'Repeat'];
      box.querySelectorAll('button').forEach((b, i) => {
        const name = names[i] || 'Button';
        if (b.getAttribute('aria-label') !== name) {
          b.setAttribute('aria-label', name);
          b.title = name;
        }
      });
    });
    document.querySelectorAll('.widget-dropdown').forEach(box => {
      const l = label(box), select = box.querySelector('select');
      if (l && select && !select.getAttribute('aria-labelledby'))
        select.setAttribute('aria-labelledby', l.id);
    });
  }
  function soon() { if (!pending) { pending = true; requestAnimationFrame(fix); } }
  window.actlibAccessibleWidgets = soon;
  new MutationObserver(soon).observe(document.body,
    {subtree: true, childList: true, characterData: true});
  soon();
})();
"""


def accessible():
    """Display `ACCESSIBILITY_SCRIPT` (nothing in a headless run)."""
    if headless():
        return
    from IPython.display import Javascript
    display(Javascript(ACCESSIBILITY_SCRIPT))


def interact(function, **controls):
    """`ipywidgets.interact` with the course's headless rule: without a person at the
    notebook, call ``function`` once with the controls' values and return its result."""
    if headless():
        return function(**{name: getattr(c, "value", c) for name, c in controls.items()})
    accessible()
    return widgets.interact(function, **controls)


@explorer
def activation_explorer(names=None, x=None):
    """Pick a registered activation and move its parameters; f and f′ are redrawn in place.

    Every activation of the registry is offered (or ``names``); one slider per parameter the
    chosen activation has (α, β, threshold …), named after it, and none for an activation
    without parameters. Titles and legend entries name the activation shown and its
    parameters. Returns the widget box (its ``figure`` attribute is the Figure drawn).
    """
    from actlib import activations
    from actlib.plots import plot_activation

    names = list(activations.names() if names is None else names)
    x = np.linspace(-5, 5, 801) if x is None else np.asarray(x, dtype=float)
    choice = dropdown(names, names[0], "activation")
    p1 = slider(0.0, -2.0, 2.0, 0.05, "parameter 1")
    p2 = slider(0.0, -2.0, 2.0, 0.05, "parameter 2")
    out = widgets.Output()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    plt.close(fig)
    state = {"configuring": False}

    def configure(*_):
        params = list(activations.get(choice.value).params.items())
        state["configuring"] = True          # one redraw for the whole change
        try:
            for s, item in zip((p1, p2), params + [None, None]):
                s.layout.visibility = "visible" if item else "hidden"
                if item:
                    s.parameter = item[0]
                    s.description = PARAMETER_SYMBOLS.get(item[0], item[0])
                    s.value = float(item[1])
        finally:
            state["configuring"] = False
        redraw()

    def redraw(*_):
        if state["configuring"]:
            return
        f = activations.get(choice.value)
        params = {s.parameter: s.value for s in (p1, p2)
                  if s.layout.visibility == "visible" and getattr(s, "parameter", None) in f.params}
        for ax in axes:
            ax.clear()
        plot_activation(choice.value, x, axes=axes, **params)
        out.clear_output(wait=True)
        with out:
            display(fig)

    choice.observe(configure, names="value")
    p1.observe(redraw, names="value")
    p2.observe(redraw, names="value")
    configure()
    box = widgets.VBox([choice, widgets.HBox([p1, p2]), out])
    box.figure = fig
    return box


def parameter_explorer(view, names, value, *, lo=0.05, hi=3.0, step=0.05):
    """Pick an activation and move its first parameter: ``view(name, parameter)`` draws
    what it shows (the parameter is None for an activation without one). The slider is
    labelled with the chosen activation's parameter (β for swish, α for ELU) and hidden when
    it has none. In a headless run, ``view`` is called once for ``value``. Returns the
    widget box."""
    from actlib import activations

    def first_parameter(name):
        params = [k for k in activations.get(name).params if k != "axis"]
        return params[0] if params else None

    def start(name):
        p = first_parameter(name)
        return float(activations.get(name).params[p]) if p else None

    if headless():
        return view(value, start(value))
    accessible()
    choice = dropdown(list(names), value, "activation")
    param = slider(1.0, lo, hi, step, "parameter")
    out = widgets.Output()
    state = {"configuring": False}

    def configure(*_):
        p = first_parameter(choice.value)
        state["configuring"] = True
        try:
            param.layout.visibility = "visible" if p else "hidden"
            if p:
                param.description = PARAMETER_SYMBOLS.get(p, p)
                param.value = min(max(start(choice.value), lo), hi)
        finally:
            state["configuring"] = False
        redraw()

    def redraw(*_):
        if state["configuring"]:
            return
        with out:
            out.clear_output(wait=True)
            view(choice.value, param.value if first_parameter(choice.value) else None)

    choice.observe(configure, names="value")
    param.observe(redraw, names="value")
    configure()
    return widgets.VBox([widgets.HBox([choice, param]), out])


def neuron_explorer(X, y, g=None, w=(1.0, 1.0), b=-1.5):
    """Sliders for a neuron's weights w₁, w₂ and bias b (starting at ``w``, ``b``) over its
    decision boundary on the points ``X`` with labels ``y``; the title reports how many
    points it classifies right, counted from the drawn weights. In a headless run the
    figure of the starting values is drawn once, without sliders."""
    from actlib.plots import plot_decision_boundary

    X, y = np.asarray(X, dtype=float), np.asarray(y)

    def draw(w1, w2, b):
        correct = int(np.sum((X @ np.array([w1, w2]) + b > 0) == y))
        plot_decision_boundary(np.array([w1, w2]), b, X, y, g=g,
                               title=f"w = ({w1:.1f}, {w2:.1f}), b = {b:.1f}: "
                                     f"{correct}/{len(y)} right")
        plt.show()

    controls = dict(w1=slider(float(w[0]), -3, 3, 0.1, "w₁"),
                    w2=slider(float(w[1]), -3, 3, 0.1, "w₂"), b=slider(float(b), -3, 3, 0.1, "b"))
    if headless():
        return interact(draw, **controls)       # the figure of the starting values, once
    accessible()
    return widgets.interactive(draw, **controls)


# --- optimisers and loss surfaces ----------------------------------------------------------

@explorer
def surface_explorer(surfaces_offered=("polynomial", "cosine", "logarithm", "rational"),
                     steps=60):
    """Choose a surface and an optimiser, move the constants a, b, c, d, the learning rate
    and the start; the trajectory (`actlib.surfaces.explore`) is redrawn on the contours.
    Returns the widget box."""
    from actlib import optim
    from actlib import surfaces
    from actlib.plots import plot_trajectories

    surface = dropdown(list(surfaces_offered), surfaces_offered[0], "surface")
    opt = dropdown(optim.names(), "momentum", "optimiser")
    consts = [slider(v, -3.0, 3.0, 0.1, k) for k, v in zip("abcd", (1.0, 2.0, 0.5, -1.0))]
    rate = widgets.FloatLogSlider(value=0.05, base=10, min=-4, max=0, step=0.25,
                                  description="rate", continuous_update=False,
                                  readout_format=".2g", style=LABEL_STYLE)
    x0, y0 = slider(-2.5, -3.0, 3.0, 0.1, "start x"), slider(2.5, -3.0, 3.0, 0.1, "start y")
    n_steps = widgets.IntSlider(value=steps, min=5, max=300, step=5, description="steps",
                                continuous_update=False, style=LABEL_STYLE)
    out = widgets.Output()
    fig, ax = plt.subplots(figsize=(9.5, 6))
    plt.close(fig)

    def draw(*_):
        constants = {s.description: s.value for s in consts}
        surf, traj, note = surfaces.explore(surface.value, opt.value, constants, rate.value,
                                            n_steps.value, (x0.value, y0.value))
        ax.clear()
        plot_trajectories(surf, {f"{opt.value} (rate {rate.value:.3g})": traj}, ax=ax,
                          title=f"{surface.value}: {note}")
        with out:
            out.clear_output(wait=True)
            display(fig)

    for w in [surface, opt, rate, x0, y0, n_steps, *consts]:
        w.observe(draw, names="value")
    draw()
    return widgets.VBox([widgets.HBox([surface, opt, rate]), widgets.HBox(consts[:2]),
                         widgets.HBox(consts[2:]), widgets.HBox([x0, y0, n_steps]), out])


@explorer
def training_player(problem, runs, *, true_line=None):
    """Step through training epoch by epoch: a dropdown picks a run, a Play button (or the
    slider) moves the epoch; the model line, the path on the loss contours and the title
    "<run> epoch number: k" are updated in place.

    ``runs`` maps a label (e.g. an optimiser's ``title``) to the (w, b) after each epoch,
    an array (epochs + 1, 2). Returns the widget box.
    """
    from actlib.plots import place_legend, plot_training_frame

    labels = list(runs)
    n_epochs = min(len(np.asarray(w)) for w in runs.values()) - 1
    choice = dropdown(labels, labels[0], "optimiser")
    epoch = widgets.IntSlider(value=0, min=0, max=n_epochs, description="epoch",
                              continuous_update=False, style=LABEL_STYLE)
    play = widgets.Play(value=0, min=0, max=n_epochs, interval=150, description="play")
    # Linked in the kernel, not in the page: the slider moves when the kernel draws that
    # epoch, so the slider and the figure's title show the same epoch while it plays.
    widgets.link((play, "value"), (epoch, "value"))
    out = widgets.Output()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    plt.close(fig)
    state = {}

    def full(*_):
        for ax in axes:
            ax.clear()
        w = np.asarray(runs[choice.value], dtype=float)
        plot_training_frame(problem, w, epoch.value, label=choice.value,
                            true_line=true_line, axes=axes)
        state["model"] = axes[0].get_lines()[-1]
        state["path"] = next(line for line in axes[1].get_lines()
                             if line.get_label() == choice.value)
        show()

    def move(*_):
        w = np.asarray(runs[choice.value], dtype=float)
        k = epoch.value
        xs = state["model"].get_xdata()
        state["model"].set_ydata(w[k, 0] * np.asarray(xs) + w[k, 1])
        state["model"].set_label(f"model, epoch {k}")
        state["path"].set_data(w[:k + 1, 0], w[:k + 1, 1])
        axes[0].set_title(f"{choice.value} epoch number: {k}")
        axes[1].set_title(f"Loss contours, epoch number: {k}")
        place_legend(axes[0], fontsize=9)
        show()

    def show():
        with out:
            out.clear_output(wait=True)
            display(fig)

    choice.observe(full, names="value")
    epoch.observe(move, names="value")
    full()
    box = widgets.VBox([widgets.HBox([choice, play, epoch]), out])
    box.figure = fig
    return box


# --- signal propagation (initialisation lesson) ---

_SIGNAL_INITS = [("N(0, 0.01²) – too small", 0.01), ("N(0, 1) – too large", 1.0),
                 ("xavier_normal", "xavier_normal"), ("xavier_uniform", "xavier_uniform"),
                 ("he_normal", "he_normal"), ("he_uniform", "he_uniform"),
                 ("lecun_normal", "lecun_normal")]


@explorer
def signal_explorer(activations_offered=("tanh", "sigmoid", "relu", "selu", "leaky_relu",
                                         "elu", "gelu"), depth=10, width=300, n=200, seed=0):
    """Pick depth, width, activation and initialiser; the per-layer histograms of
    activations and gradients (`actlib.nn.propagate`, drawn by `actlib.plots.plot_signal`)
    are redrawn in the same figure. Same seed for every redraw, so only the choice changes
    the picture. Returns the widget box."""
    from actlib import nn
    from actlib.plots import plot_signal

    from actlib.plots import SIGNAL_FIGSIZE, SIGNAL_LAYOUT

    act = dropdown(list(activations_offered), activations_offered[0], "activation")
    init = dropdown(_SIGNAL_INITS, "xavier_normal", "initialisation")
    depth_s = widgets.IntSlider(value=depth, min=2, max=30, description="depth",
                                continuous_update=False, style=LABEL_STYLE)
    width_s = widgets.IntSlider(value=width, min=50, max=500, step=50, description="width",
                                continuous_update=False, style=LABEL_STYLE)
    out = widgets.Output()
    fig, axes = plt.subplots(2, 1, figsize=SIGNAL_FIGSIZE)
    plt.close(fig)

    def draw(*_):
        prop = nn.propagate(depth_s.value, width_s.value, act.value, init.value,
                            rng=np.random.default_rng(seed), n=n)
        for ax in axes:
            ax.clear()
        # A fixed layout, set before drawing: tight_layout would start from the previous
        # picture's layout, and the same choice could then give a slightly different figure.
        fig.subplots_adjust(**SIGNAL_LAYOUT)
        plot_signal(prop, axes=axes)
        with out:
            out.clear_output(wait=True)
            display(fig)

    for w in (act, init, depth_s, width_s):
        w.observe(draw, names="value")
    draw()
    box = widgets.VBox([widgets.HBox([act, init]), widgets.HBox([depth_s, width_s]), out])
    box.figure = fig
    return box
