"""Interactive explorers of the course (ipywidgets).

Each explorer is wiring only: the computation lives in a pure function of another module,
the figure is drawn once and its lines are updated in place, and sliders use
``continuous_update=False`` so the kernel is not flooded while a slider moves.
"""

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import display


def slider(value, lo, hi, step, description):
    """A float slider that only updates when released (``continuous_update=False``)."""
    return widgets.FloatSlider(value=value, min=lo, max=hi, step=step,
                               description=description, continuous_update=False)


def activation_explorer(names=None, x=None):
    """Pick a registered activation and move its parameters; f and f′ are redrawn in place.

    Every activation of the registry is offered (or ``names``); one slider per parameter the
    chosen activation has (α, β, threshold …) in a sensible range. Returns the widget box.
    """
    from actlib import activations
    from actlib.plots import plot_activation, _elementwise

    names = list(activations.names() if names is None else names)
    x = np.linspace(-5, 5, 801) if x is None else np.asarray(x, dtype=float)
    choice = widgets.Dropdown(options=names, value=names[0], description="activation")
    p1 = slider(0.0, -2.0, 2.0, 0.05, "param 1")
    p2 = slider(0.0, -2.0, 2.0, 0.05, "param 2")
    out = widgets.Output()
    with out:
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
        plot_activation(names[0], x, axes=axes)
        plt.show()

    def configure(*_):
        params = list(activations.get(choice.value).params.items())
        for s, item in zip((p1, p2), params + [None, None]):
            s.layout.visibility = "visible" if item else "hidden"
            if item:
                s.description, s.value = item[0], float(item[1])
        redraw()

    def redraw(*_):
        f = activations.get(choice.value)
        params = {s.description: s.value for s in (p1, p2)
                  if s.layout.visibility == "visible" and s.description in f.params}
        y, dy = _elementwise(f, x, params)
        for ax, values in zip(axes, (y, dy)):
            line = ax.get_lines()[0]  # the curve; the axis lines come after it
            line.set_ydata(values)
            ax.relim()
            ax.autoscale_view()
        axes[0].set_title(f"{choice.value}: value")
        axes[1].set_title(f"{choice.value}: derivative")
        out.clear_output(wait=True)
        with out:
            display(fig)

    choice.observe(configure, names="value")
    p1.observe(redraw, names="value")
    p2.observe(redraw, names="value")
    return widgets.VBox([choice, widgets.HBox([p1, p2]), out])


def neuron_explorer(X, y, g=None):
    """Sliders for a neuron's weights w₁, w₂ and bias b over its decision boundary on the
    points ``X`` with labels ``y``; the title reports how many points it classifies right."""
    from actlib.plots import plot_decision_boundary

    X, y = np.asarray(X, dtype=float), np.asarray(y)
    sliders = [slider(1.0, -3, 3, 0.1, "w₁"), slider(1.0, -3, 3, 0.1, "w₂"),
               slider(-1.5, -3, 3, 0.1, "b")]
    out = widgets.Output()

    def draw(*_):
        w1, w2, b = (s.value for s in sliders)
        correct = int(np.sum((X @ np.array([w1, w2]) + b > 0) == y))
        with out:
            out.clear_output(wait=True)
            plot_decision_boundary(np.array([w1, w2]), b, X, y, g=g,
                                   title=f"w = ({w1:.1f}, {w2:.1f}), b = {b:.1f}: "
                                         f"{correct}/{len(y)} right")
            plt.show()

    for s in sliders:
        s.observe(draw, names="value")
    draw()
    return widgets.VBox([widgets.HBox(sliders), out])
