"""Every plot helper gives its axes a title, axis labels and, where lines are compared, a legend."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from actlib import activations, neuron as nrn, plots  # noqa: E402


def assert_labelled(ax, legend):
    assert ax.get_title(), "the plot has no title"
    assert ax.get_xlabel() and ax.get_ylabel(), "an axis has no label"
    assert (ax.get_legend() is not None) == legend, "legend presence is wrong"


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_plot_curves_labels_and_legend_only_when_comparing():
    x = np.linspace(0, 1, 5)
    assert_labelled(plots.plot_curves(x, {"a": x, "b": 2 * x}, title="t"), legend=True)
    assert_labelled(plots.plot_curves(x, {"a": x}, title="t"), legend=False)


@pytest.mark.parametrize("name", activations.names())
def test_plot_activation_draws_value_and_derivative(name):
    ax_f, ax_g = plots.plot_activation(name)
    for ax in (ax_f, ax_g):
        assert_labelled(ax, legend=True)
        assert np.all(np.isfinite(ax.get_lines()[0].get_ydata()))


def test_all_activations_figure_covers_the_registry():
    fig = plots.plot_all_activations()
    titles = {ax.get_title() for ax in fig.axes if ax.get_visible()}
    for name in activations.names():
        assert name in titles and f"{name}′" in titles
    assert fig._suptitle is not None and fig._suptitle.get_text()


def test_decision_boundary_plot():
    X, y = nrn.xor_data()
    ax = plots.plot_decision_boundary(np.array([1.0, 1.0]), -1.5, X, y)
    assert_labelled(ax, legend=True)


def test_finish_rejects_nothing_but_sets_everything():
    _, ax = plt.subplots()
    plots.finish(ax, "T", "x", "y")
    assert (ax.get_title(), ax.get_xlabel(), ax.get_ylabel()) == ("T", "x", "y")


def test_unit_activity_histogram_reports_dead_units():
    X = np.array([[1.0, 0.0], [0.0, 1.0]])
    W = np.array([[1.0, -1.0], [1.0, -1.0]])
    ax = plots.plot_unit_activity(X, W, np.zeros(2))
    assert_labelled(ax, legend=True)
    assert "50% dead" in ax.get_title()


# --- legends that hide no data, trajectories that stay in view ------------------------------

def _covered(ax):
    from actlib.plots import data_points, legend_covers

    return legend_covers(ax.get_legend(), data_points(ax))


def test_a_legend_in_the_way_is_detected():
    from actlib.plots import data_points, legend_covers

    _, ax = plt.subplots()
    x = np.linspace(0, 1, 50)
    ax.plot(x, np.ones_like(x), label="flat at the top")
    ax.plot(x, np.zeros_like(x), label="flat at the bottom")
    legend = ax.legend(loc="upper left")
    assert legend_covers(legend, data_points(ax)) > 0
    plt.close("all")


@pytest.mark.parametrize("names", [("relu", "softplus", "sigmoid"), ("relu", "gelu", "gelu_tanh"),
                                   ("silu", "mish", "gelu"), ("softplus",), ("tanh",)])
def test_activation_legends_hide_no_curve(names):
    from actlib.plots import plot_activation

    axes = plot_activation(names[0], label=names[0])
    for name in names[1:]:
        plot_activation(name, axes=axes, label=f"{name} (for comparison)")
    for ax in axes:
        assert _covered(ax) == 0, (names, ax.get_title())
    plt.close("all")


def test_axis_lines_are_not_data():
    from actlib.plots import data_points

    _, ax = plt.subplots()
    ax.axhline(0.5)
    ax.axvline(0.5)
    assert len(data_points(ax)) == 0
    plt.close("all")


def test_trajectories_that_leave_the_window_stay_in_view():
    from actlib import surfaces
    from actlib.plots import plot_trajectories

    paths = {}
    for opt_name, lr in (("momentum", 0.02), ("rmsprop", 0.05), ("adam", 0.1)):
        surf, path, note = surfaces.explore("rational", opt_name, learning_rate=lr, steps=80)
        paths[opt_name] = path
    assert max(p[:, 0].max() for p in paths.values()) > surf.window[0][1]   # they do leave
    ax = plot_trajectories(surf, paths, markers=False)
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    for path in paths.values():
        assert (x0 <= path[:, 0].min() and path[:, 0].max() <= x1
                and y0 <= path[:, 1].min() and path[:, 1].max() <= y1)
    assert _covered(ax) == 0
    plt.close("all")


def test_a_diverging_trajectory_widens_the_view_only_so_far():
    from actlib import surfaces
    from actlib.plots import trajectory_window

    surf = surfaces.Quadratic(condition_number=2.0)
    (x0, x1), _ = surf.window
    far = np.array([[0.0, 0.0], [1e6, 0.0]])
    (lo, hi), _ = trajectory_window(surf, [far])
    assert lo == x0 and hi == x1 + 4 * (x1 - x0)
    inside = np.array([[x0 + 0.1, 0.0]])
    assert trajectory_window(surf, [inside]) == surf.window


# --- text alternatives and colour vision ---------------------------------------------------

def test_every_figure_gets_a_text_alternative_saying_what_it_shows():
    from actlib import plots

    x = np.linspace(-3, 3, 50)
    ax = plots.plot_curves(x, {"sigmoid": 1 / (1 + np.exp(-x)), "tanh": np.tanh(x)},
                           title="Two activations", xlabel="z", ylabel="g(z)")
    text = plots.describe(ax.figure)
    for part in ("Two activations", "g(z) against z", "sigmoid (solid)", "tanh (dashed)"):
        assert part in text, text
    html = plots.figure_html(ax.figure, "svg")
    assert "<figure" in html and 'alt="Figure: line plot' in html
    assert "data:image/svg+xml," in html and "<figcaption" in html
    plots.set_description(ax.figure, "Sigmoid and tanh, both S-shaped.")
    assert 'alt="Sigmoid and tanh, both S-shaped."' in plots.figure_html(ax.figure, "png")


def test_a_figure_of_several_panels_is_described_panel_by_panel():
    from actlib import plots

    axes = plots.plot_activation("elu")
    text = plots.describe(axes[0].figure)
    assert "2 panels" in text and "elu: value" in text and "elu: derivative" in text


def test_compared_lines_differ_in_style_as_well_as_colour():
    """The course's style cycles line styles with the Okabe–Ito colours: no two of the first
    eight lines of a plot share a style, so none is told apart by colour alone."""
    from actlib import plots

    fig, ax = plt.subplots()
    for k in range(8):
        ax.plot([0, 1], [0, k], label=f"line {k}")
    assert len({plots._cue(line) for line in ax.get_lines()}) == 8
    assert plots.indistinct_lines(ax) == []


def test_the_colour_vision_check_can_fail():
    """Red and green of one style, as lesson 2's two learning rates once were, collapse
    under deuteranopia; a dashed line makes the same pair fine."""
    from actlib import plots

    fig, ax = plt.subplots()
    ax.plot([0, 1], color="#d62728", linestyle="-", label="η = 0.45")
    ax.plot([1, 0], color="#2ca02c", linestyle="-", label="η = 0.55")
    found = plots.indistinct_lines(ax)
    assert found and found[0][:2] == ("η = 0.45", "η = 0.55"), found
    ax.get_lines()[1].set_linestyle("--")
    assert plots.indistinct_lines(ax) == []


def test_a_widened_view_keeps_its_contour_lines_apart():
    """The surface explorer on "cosine" at rate 1.0: the path leaves the window, the view
    widens, and the contour lines of the wavy surface must not crowd into moiré — fewer
    levels, drawn from a finer grid, as the view widens."""
    from actlib import surfaces
    from actlib.plots import plot_trajectories, trajectory_window

    surf, path, note = surfaces.explore("cosine", "momentum", learning_rate=1.0, steps=60)
    window = trajectory_window(surf, [path])
    zoom = max((window[0][1] - window[0][0]) / (surf.window[0][1] - surf.window[0][0]),
               (window[1][1] - window[1][0]) / (surf.window[1][1] - surf.window[1][0]))
    assert zoom > 2, "the example should widen the view"
    ax = plot_trajectories(surf, {"momentum (rate 1)": path}, markers=False)
    contour = next(c for c in ax.collections if hasattr(c, "levels"))
    assert len(contour.levels) <= max(6, 30 / zoom) + 1
    plt.close("all")


def test_a_figure_drawn_again_is_narrowed_the_same_way():
    """fit_width starts from the width the figure was made with, so a widget's figure shown
    again with the same content gives the same bytes (the browser test's restore check)."""
    from IPython.core.pylabtools import print_figure
    from actlib import plots

    fig, ax = plt.subplots(figsize=(14, 3))
    line, = ax.plot([0, 1], label="a short legend")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    assert plots.fit_width(fig) <= plots.WIDEST + 1e-3
    def svg():
        with matplotlib.rc_context({"svg.hashsalt": "fixed"}):
            return print_figure(fig, "svg", metadata={"Date": None})

    first = svg()
    line.set_label("a much, much longer legend entry than before, pushing the figure wider")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    plots.fit_width(fig)
    line.set_label("a short legend")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    plots.fit_width(fig)
    assert svg() == first
