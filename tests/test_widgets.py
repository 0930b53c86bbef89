"""The explorers build without a browser and redraw when their controls change."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from actlib import activations, neuron as nrn, widgets  # noqa: E402


@pytest.fixture(autouse=True)
def with_a_person(monkeypatch):
    """The widgets as a person at JupyterLab gets them (the suite is headless otherwise)."""
    for name in widgets.HEADLESS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    yield
    plt.close("all")


def controls(box):
    """All leaf widgets of a widget tree, in order."""
    found = []
    for child in getattr(box, "children", ()):
        found.extend(controls(child) if hasattr(child, "children") else [child])
    return found


def test_slider_waits_for_release():
    s = widgets.slider(0.5, 0, 1, 0.1, "a")
    assert (s.value, s.min, s.max, s.continuous_update) == (0.5, 0, 1, False)


def test_activation_explorer_follows_the_dropdown_and_the_parameter_slider():
    box = widgets.activation_explorer(names=["relu", "leaky_relu", "elu"])
    dropdown = box.children[0]
    fig = box.figure
    dropdown.value = "leaky_relu"
    p1 = box.children[1].children[0]
    assert p1.description == "α" and p1.parameter == "alpha"
    assert p1.layout.visibility == "visible"
    p1.value = 0.5
    line = fig.axes[0].get_lines()[0]
    x = line.get_xdata()
    np.testing.assert_allclose(line.get_ydata(), activations.leaky_relu(x, alpha=0.5))
    assert fig.axes[0].get_title() == "leaky_relu: value"
    dropdown.value = "relu"
    assert p1.layout.visibility == "hidden"
    np.testing.assert_allclose(fig.axes[1].get_lines()[0].get_ydata(), activations.relu.grad(x))


def test_neuron_explorer_builds_three_sliders():
    X, y = nrn.xor_data()
    box = widgets.neuron_explorer(X, y)
    sliders = [w for w in controls(box) if hasattr(w, "continuous_update")]
    assert [s.description for s in sliders] == ["w₁", "w₂", "b"]
    sliders[2].value = 0.0   # redraws without error


def test_headless_runs_build_no_widget_but_still_draw(monkeypatch, capsys):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert widgets.headless()
    assert widgets.slider(0.5, 0, 1, 0.1, "a") == 0.5
    assert widgets.dropdown(["relu", "elu"], "elu", "f") == "elu"
    calls = []
    widgets.interact(lambda a, f: calls.append((a, f)), a=widgets.slider(0.5, 0, 1, 0.1, "a"),
                     f=widgets.dropdown(["relu", "elu"], "elu", "f"))
    assert calls == [(0.5, "elu")]
    assert widgets.activation_explorer() is None
    assert "interactive explorer" in capsys.readouterr().out


def test_with_a_person_interact_builds_controls():
    box = widgets.interact(lambda a: None, a=widgets.slider(0.5, 0, 1, 0.1, "a"))
    assert box.widget.children[0].value == 0.5


def test_signal_explorer_recomputes_for_another_activation(monkeypatch):
    from actlib import nn

    calls = []
    real = nn.propagate
    monkeypatch.setattr(nn, "propagate", lambda *a, **k: calls.append(a) or real(*a, **k))
    box = widgets.signal_explorer(depth=3, width=50, n=40)
    act = box.children[0].children[0]
    assert act.description == "activation"
    act.value = "relu"
    assert [c[:3] for c in calls] == [(3, 50, "tanh"), (3, 50, "relu")]


def legend_texts(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_activation_explorer_opens_with_the_first_activations_parameters():
    box = widgets.activation_explorer(names=["relu", "elu"])
    p1, p2 = box.children[1].children
    assert (p1.layout.visibility, p2.layout.visibility) == ("hidden", "hidden")
    box = widgets.activation_explorer(names=["leaky_relu", "relu"])
    p1, p2 = box.children[1].children
    assert p1.description == "α" and p1.parameter == "alpha"
    assert p1.layout.visibility == "visible"
    assert p2.layout.visibility == "hidden"


def test_activation_explorer_titles_and_legends_follow_the_choice():
    box = widgets.activation_explorer(names=["softplus", "gelu", "leaky_relu"])
    fig = box.figure
    assert "softplus" in legend_texts(fig.axes[0])[0]
    box.children[0].value = "gelu"
    for ax, what in zip(fig.axes, ("value", "derivative")):
        assert ax.get_title() == f"gelu: {what}"
        assert all("softplus" not in t for t in legend_texts(ax)), legend_texts(ax)
        assert any("gelu" in t for t in legend_texts(ax))
        assert len(ax.get_lines()) == 3     # the curve and the two axis lines, no leftovers
    box.children[0].value = "leaky_relu"
    box.children[1].children[0].value = 0.3
    assert legend_texts(fig.axes[0]) == ["leaky_relu(alpha=0.3)"]


def test_neuron_explorer_title_counts_the_drawn_weights(monkeypatch):
    monkeypatch.setenv("ACTLIB_HEADLESS", "1")
    X, y = nrn.xor_data()
    widgets.neuron_explorer(X, y, w=(1.0, 1.0), b=-1.5)
    assert plt.gca().get_title().endswith("1/4 right")
    widgets.neuron_explorer(X, y, w=(1.0, 1.0), b=-0.5)
    assert plt.gca().get_title().endswith("3/4 right")


def test_every_widget_builder_is_listed():
    """`widgets.BUILDERS` (what the browser tests count) names every function that puts a
    widget on the page: all public functions but the helpers."""
    import inspect

    helpers = {"headless", "explorer", "slider", "dropdown", "decimals", "accessible",
               "option_width"}
    public = {name for name, f in vars(widgets).items() if inspect.isfunction(f)
              and not name.startswith("_") and f.__module__ == widgets.__name__}
    assert public - helpers == set(widgets.BUILDERS)


# --- controls that read well: labels, rounded values, widths, legends ---------------------

def test_slider_readouts_are_rounded_to_the_step_and_labels_shown_whole():
    assert widgets.decimals(0.05) == 2 and widgets.decimals(0.1) == 1
    assert widgets.decimals(1) == 0 and widgets.decimals(0.25) == 2
    s = widgets.slider(0.1, -3, 3, 0.1, "bias shift")
    assert s.readout_format == ".1f" and s.style.description_width == "initial"
    d = widgets.dropdown(["Momentum Optimizer (decay = 0.5)", "b"], "b", "optimiser")
    assert d.layout.width == "calc(42ch + 64px)", "a drop-down narrower than its options cuts them"


def test_the_parameter_explorer_labels_its_slider_with_the_parameter():
    seen = []
    box = widgets.parameter_explorer(lambda name, p: seen.append((name, p)),
                                     ["swish", "tanh", "elu"], "swish")
    choice, param = box.children[0].children
    assert param.description == "β" and seen[-1] == ("swish", 1.0)
    choice.value = "tanh"
    assert param.layout.visibility == "hidden" and seen[-1] == ("tanh", None)
    choice.value = "elu"
    assert param.description == "α" and seen[-1] == ("elu", 1.0)
    param.value = 2.0
    assert seen[-1] == ("elu", 2.0)


def test_the_training_player_keeps_slider_and_title_in_step():
    from actlib import surfaces

    problem = surfaces.LinearRegression(*surfaces.linear_data(
        20, slope=2.0, intercept=1.0, noise=0.1, rng=np.random.default_rng(0)))
    runs = {"Momentum Optimizer (decay = 0.9)": np.cumsum(np.ones((11, 2)) * 0.1, axis=0)}
    box = widgets.training_player(problem, runs)
    choice, play, epoch = box.children[0].children
    play.value = 7          # the kernel-side link moves the slider, which redraws
    assert epoch.value == 7
    assert box.figure.axes[0].get_title().endswith("epoch number: 7")
    assert box.figure.axes[1].get_title().endswith("epoch number: 7")


def legend_problems(fig, smallest=8.0):
    """Legends not inside the figure, over another axes, or in type smaller than
    ``smallest`` points."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)       # a figure the widget closed has a bare canvas
    canvas.draw()
    renderer = canvas.get_renderer()
    figure_box = fig.bbox
    found = []
    for ax in fig.axes:
        legend = ax.get_legend()
        if legend is None:
            continue
        box = legend.get_window_extent(renderer)
        if box.x0 < figure_box.x0 - 1 or box.x1 > figure_box.x1 + 1 \
                or box.y0 < figure_box.y0 - 1 or box.y1 > figure_box.y1 + 1:
            found.append(f"{ax.get_title()!r}: legend runs out of the figure")
        for other in fig.axes:
            if other is not ax and other.get_visible() and \
                    box.overlaps(other.get_tightbbox(renderer)):
                found.append(f"{ax.get_title()!r}: legend over {other.get_title()!r}")
        for text in legend.get_texts():
            if text.get_fontsize() < smallest:
                found.append(f"{ax.get_title()!r}: legend text {text.get_fontsize()} pt")
    return found


def test_signal_explorer_legends_fit_and_are_readable():
    from actlib import nn
    from actlib.plots import plot_signal

    box = widgets.signal_explorer(depth=10, width=50, n=40)
    assert legend_problems(box.figure) == []
    prop = nn.propagate(10, 50, "tanh", "xavier_normal", rng=np.random.default_rng(0), n=40)
    axes = plot_signal(prop)            # as the lesson draws it without the widget
    assert legend_problems(axes[0].figure) == []


def test_the_legend_check_can_fail():
    fig, (a, b) = plt.subplots(1, 2, figsize=(6, 3))
    a.plot([0, 1], label="a long legend entry for the left plot, far too long")
    a.set_title("left")
    a.legend(loc="upper left", bbox_to_anchor=(0.9, 1.0), fontsize=6)
    b.plot([0, 1])
    b.set_title("right")
    found = legend_problems(fig)
    assert any("over 'right'" in f for f in found) and any("6" in f for f in found)


def test_the_accessibility_script_names_sliders_and_play_buttons():
    script = widgets.ACCESSIBILITY_SCRIPT
    for needed in ("aria-labelledby", "aria-valuetext", "'Play'", "'Stop'", "'Repeat'"):
        assert needed in script
