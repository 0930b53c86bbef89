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
