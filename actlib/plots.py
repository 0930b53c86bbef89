"""Plot helpers of the course.

Every helper takes an optional Matplotlib ``ax`` (a new figure is made when it is None),
always sets a title and axis labels, adds a legend where lines are compared, and returns
the Axes so that a notebook can add to it.
"""
import html
import os
import urllib.parse

import matplotlib.pyplot as plt
import numpy as np
from cycler import cycler

# --- the course's style: a colour-blind-safe palette, and a second cue besides colour ------

# Okabe and Ito's eight colours (black last), safe under the common colour-vision
# deficiencies; each paired with its own line style, so that two lines of one plot differ in
# style as well as colour (a reader who cannot tell the colours apart still can the lines).
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
             "#000000")
LINE_STYLES = ("-", "--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1, 1, 1)), (0, (1, 3)),
               (0, (8, 2, 1, 2)))
COURSE_STYLE = {
    "axes.prop_cycle": cycler(color=OKABE_ITO) + cycler(linestyle=LINE_STYLES),
    # 11.5 pt text: a log axis's exponents (mathtext sets them at 70 %) are still 8 pt.
    "font.size": 11.5,
}
# The widest figure the course shows, in inches: a notebook's output at a laptop's window
# (1400 px wide, the file browser open) is about 10 inches of 96 px; a wider figure would be
# scaled down on the page, and its text with it.
WIDEST = 9.5


def use_course_style():
    """Set the course's Matplotlib style (palette, line styles, legend size)."""
    plt.rcParams.update(COURSE_STYLE)


use_course_style()


def new_axes(ax=None, figsize=(6, 4)):
    """Return ``ax``, or the Axes of a new figure of the given size when ``ax`` is None."""
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def finish(ax, title, xlabel, ylabel, legend=None):
    """Set the title and axis labels of ``ax``; add a legend when ``legend`` is true
    (by default: when more than one artist carries a label), placed by `place_legend`
    where it hides no data. Returns ``ax``."""
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    labelled = [h for h in ax.get_legend_handles_labels()[1] if not h.startswith("_")]
    if legend or (legend is None and len(labelled) > 1):
        place_legend(ax)
    return ax


_LEGEND_SPOTS = ("upper left", "upper right", "lower right", "lower left", "center left",
                 "center right", "upper center", "lower center")


def data_points(ax, spacing=3.0):
    """Display coordinates of the data drawn in ``ax``: the vertices of every data line,
    with points added along each segment every ``spacing`` pixels, and scatter points.
    Lines tied to the axes (``axhline``, ``axvline``) are left out."""
    ax.get_xlim(), ax.get_ylim()          # brings pending autoscaling up to date
    chunks = [np.empty((0, 2))]
    for line in ax.get_lines():
        if line.get_transform() is not ax.transData or not line.get_visible():
            continue
        xy = np.asarray(line.get_xydata(), dtype=float)
        xy = xy[np.all(np.isfinite(xy), axis=1)]
        if not len(xy):
            continue
        with np.errstate(all="ignore"):       # non-positive values on a log axis
            pts = ax.transData.transform(xy)
        pts = pts[np.all(np.isfinite(pts), axis=1)]
        if len(pts) > 1 and line.get_linestyle() not in ("None", "", " ", "none"):
            lengths = np.hypot(*np.diff(pts, axis=0).T)
            for (a, b), n in zip(zip(pts[:-1], pts[1:]),
                                 np.minimum(np.ceil(lengths / spacing), 200).astype(int)):
                if n > 1:
                    chunks.append(a + np.linspace(0, 1, n)[:, None] * (b - a))
        chunks.append(pts)
    for collection in ax.collections:
        offsets = np.asarray(collection.get_offsets(), dtype=float)
        if (offsets.ndim == 2 and len(offsets)
                and collection.get_offset_transform() is ax.transData):
            chunks.append(ax.transData.transform(offsets))
    return np.concatenate(chunks)


def legend_covers(legend, points):
    """How many of ``points`` (display coordinates) the drawn ``legend`` box covers."""
    box = legend.get_window_extent()
    if not len(points):
        return 0
    inside = ((points[:, 0] >= box.x0) & (points[:, 0] <= box.x1)
              & (points[:, 1] >= box.y0) & (points[:, 1] <= box.y1))
    return int(inside.sum())


def place_legend(ax, **kwargs):
    """A legend that hides no data: the first of the usual spots (upper left, upper
    right, …) whose box covers no data point of ``ax``; when every spot covers some,
    outside the axes on the right. Returns the Legend."""
    points = data_points(ax)
    for loc in _LEGEND_SPOTS:
        legend = ax.legend(loc=loc, **kwargs)
        if legend_covers(legend, points) == 0:
            return legend
    return ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, **kwargs)


def plot_curves(x, curves, *, title, xlabel="x", ylabel="y", ax=None, styles=None,
                **line_kwargs):
    """Plot several labelled curves over the same ``x``.

    ``curves`` maps a label to an array of y values of the same length as ``x``;
    ``styles`` optionally maps a label to keyword arguments of that curve alone (e.g. a
    dashed line where two curves coincide).
    """
    ax = new_axes(ax)
    x = np.asarray(x)
    styles = styles or {}
    for label, y in curves.items():
        ax.plot(x, np.asarray(y), label=label, **{**line_kwargs, **styles.get(label, {})})
    ax.grid(True, alpha=0.3)
    return finish(ax, title, xlabel, ylabel, legend=len(curves) > 1)


# --- activations ---------------------------------------------------------------------------

def plot_activation(name, x=None, *, axes=None, label=None, **params):
    """Plot a registered activation and its derivative side by side.

    ``name`` is a registry name (`actlib.activations.names()`); ``params`` are its keyword
    parameters. Returns the pair of Axes (value, derivative).
    """
    from actlib import activations

    f = activations.get(name)
    x = np.linspace(-5, 5, 801) if x is None else np.asarray(x, dtype=float)
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    ax_f, ax_g = axes
    shown = ", ".join(f"{k}={v:g}" for k, v in params.items())
    label = label or (f"{name}({shown})" if shown else name)
    y, dy = _elementwise(f, x, params)
    ax_f.plot(x, y, label=label)
    ax_g.plot(x, dy, label=label + "′")
    for ax, title, ylabel in ((ax_f, f"{name}: value", "g(z)"),
                              (ax_g, f"{name}: derivative", "g′(z)")):
        ax.axhline(0, color="0.7", lw=0.8)
        ax.axvline(0, color="0.7", lw=0.8)
        ax.grid(True, alpha=0.3)
        finish(ax, title, "z", ylabel, legend=True)
    return axes


def _elementwise(f, x, params):
    """Value and elementwise derivative of an activation on a 1-D grid.

    Softmax-like activations act on a vector; for them the grid point z is the first of the
    two logits (z, 0), and the derivative is the diagonal entry ∂s₀/∂z of the Jacobian.
    """
    if f.name in ("softmax", "log_softmax"):
        logits = np.stack([x, np.zeros_like(x)], axis=-1)
        return f(logits, **params)[:, 0], f.grad(logits, **params)[:, 0, 0]
    return f(x, **params), f.grad(x, **params)


def plot_all_activations(x=None, names=None, ncols=6):
    """One figure with every registered activation (top of each cell) and its derivative
    (bottom), all on a common grid, generated from the registry. Returns the Figure."""
    from actlib import activations

    names = list(activations.names() if names is None else names)
    x = np.linspace(-4, 4, 801) if x is None else np.asarray(x, dtype=float)
    nrows = -(-len(names) // ncols)
    fig, axes = plt.subplots(2 * nrows, ncols, figsize=(2.6 * ncols, 3.6 * nrows),
                             sharex=True, squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.set_visible(False)
    for k, name in enumerate(names):
        row, col = divmod(k, ncols)
        f = activations.get(name)
        y, dy = _elementwise(f, x, {})
        for ax, values, what, colour in ((axes[2 * row, col], y, "g", "C0"),
                                         (axes[2 * row + 1, col], dy, "g′", "C1")):
            ax.set_visible(True)
            ax.plot(x, values, color=colour, label=what)
            ax.axhline(0, color="0.8", lw=0.6)
            ax.grid(True, alpha=0.3)
            finish(ax, f"{name}" if what == "g" else f"{name}′", "z", what, legend=False)
    fig.suptitle("Every activation (blue) and its derivative (orange) on z ∈ [−4, 4]")
    # A fixed layout: tight_layout over dozens of axes costs seconds and gains nothing here.
    fig.subplots_adjust(left=0.04, right=0.99, bottom=0.05, top=0.93, wspace=0.35, hspace=0.6)
    return fig


# --- the neuron (lesson 1) -----------------------------------------------------------------

def plot_decision_boundary(w, b, X, y, *, g=None, ax=None, title="Decision boundary of one neuron",
                           lim=(-0.5, 1.5)):
    """Shade where one neuron a = g(w·x + b) fires (a > 0.5 for a unipolar g, else a > 0) over
    the plane, draw its boundary w·x + b = 0 and the labelled points. Returns the Axes."""
    ax = new_axes(ax, figsize=(4.5, 4.5))
    grid = np.linspace(*lim, 201)
    gx, gy = np.meshgrid(grid, grid)
    z = w[0] * gx + w[1] * gy + b
    a = z if g is None else g(z)
    ax.contourf(gx, gy, a, levels=20, cmap="coolwarm", alpha=0.35)
    ax.contour(gx, gy, z, levels=[0.0], colors="k", linewidths=1.5)
    for label, marker in ((0, "o"), (1, "s")):
        pts = X[np.asarray(y) == label]
        ax.scatter(pts[:, 0], pts[:, 1], marker=marker, s=80, edgecolor="k",
                   label=f"class {label}")
    ax.set_xlim(*lim)
    ax.set_ylim(*lim)
    ax.set_aspect("equal")
    return finish(ax, title, "x₁", "x₂", legend=True)


# --- optimisers and loss surfaces ----------------------------------------------------------

def _surface_labels(surface):
    if getattr(surface, "name", "") == "linear_regression":
        return "slope w", "intercept b"
    return "x", "y"


def plot_contour(surface, *, ax=None, levels=30, n=150, title=None, window=None):
    """Contour lines of a 2-D surface (`actlib.surfaces`) over its plotting window (or
    ``window``, ((x0, x1), (y0, y1))), with its minimum marked when it has one. Levels are
    spaced so that the floor of the bowl is visible too (quantiles of the values on the
    grid). Returns the Axes."""
    ax = new_axes(ax, figsize=(6, 5))
    zoom = 1.0
    if window is None:
        X, Y, Z = surface.grid(n)
    else:
        (x0, x1), (y0, y1) = window
        (w0, w1), (v0, v1) = surface.window
        zoom = max((x1 - x0) / (w1 - w0), (y1 - y0) / (v1 - v0), 1.0)
        # A wider view of a wavy surface packs its contour lines closer: more grid points to
        # follow them, fewer levels so that lines stay apart (no moiré).
        n = int(min(4 * n, n * zoom))
        X, Y = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
        Z = surface.value((X, Y), nan_outside=True)
    finite = Z[np.isfinite(Z)]
    if isinstance(levels, int):
        levels = max(6, int(round(levels / zoom)))
        levels = np.unique(np.quantile(finite, np.linspace(0, 1, levels + 2)[1:-1] ** 2))
    ax.contour(X, Y, Z, levels=levels, cmap="viridis", linewidths=0.8)
    if np.isnan(Z).any():
        ax.contourf(X, Y, np.isnan(Z).astype(float), levels=[0.5, 1.5], colors=["0.85"])
    if surface.minimum is not None:
        ax.plot(*surface.minimum, marker="*", ms=14, color="k", ls="none", label="minimum")
    (x0, x1), (y0, y1) = surface.window if window is None else window
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    xlabel, ylabel = _surface_labels(surface)
    if title is None:
        title = f"{surface.name}: ${surface.formula}$" if surface.formula else surface.name
    return finish(ax, title, xlabel, ylabel, legend=False)


def plot_trajectories(surface, trajectories, *, ax=None, title=None, levels=30, markers=True):
    """Several optimisers' paths on the contour plot of one surface.

    ``trajectories`` maps a label (e.g. ``"Momentum Optimizer (decay = 0.9)"``) to an array
    of points of shape (steps + 1, 2), as returned by `actlib.surfaces.run`. Each path
    starts at a circle and ends at a cross. Returns the Axes (with a legend).
    """
    trajectories = {label: np.asarray(traj, dtype=float)
                    for label, traj in trajectories.items()}
    window = trajectory_window(surface, trajectories.values())
    ax = plot_contour(surface, ax=ax, levels=levels, title=title,
                      window=None if window == surface.window else window)
    for k, (label, traj) in enumerate(trajectories.items()):
        colour = f"C{k % 10}"
        ax.plot(traj[:, 0], traj[:, 1], "-", color=colour, lw=1.5, label=label,
                marker="." if markers else None, ms=3)
        ax.plot(*traj[0], "o", color=colour, ms=6)
        ax.plot(*traj[-1], "x", color=colour, ms=9, mew=2)
    place_legend(ax, fontsize=9)
    return ax


def trajectory_window(surface, trajectories, *, most=4.0):
    """The surface's window, widened (with a 5 % margin) to hold every finite point of
    the ``trajectories``, so that a path that leaves the window stays in view; a side
    grows to at most ``most`` times the window's size (a diverging path is cut there).
    Returns ((x0, x1), (y0, y1))."""
    (x0, x1), (y0, y1) = surface.window
    points = [np.asarray(t, dtype=float).reshape(-1, 2) for t in trajectories]
    points = np.concatenate(points or [np.empty((0, 2))])
    points = points[np.all(np.isfinite(points), axis=1)]
    if not len(points) or (points[:, 0].min() >= x0 and points[:, 0].max() <= x1
                           and points[:, 1].min() >= y0 and points[:, 1].max() <= y1):
        return ((x0, x1), (y0, y1))
    limits = []
    for lo, hi, values in ((x0, x1, points[:, 0]), (y0, y1, points[:, 1])):
        span = hi - lo
        new_lo, new_hi = min(lo, values.min()), max(hi, values.max())
        margin = 0.05 * (new_hi - new_lo)
        new_lo = max(new_lo - (margin if new_lo < lo else 0.0), lo - most * span)
        new_hi = min(new_hi + (margin if new_hi > hi else 0.0), hi + most * span)
        limits.append((float(new_lo), float(new_hi)))
    return tuple(limits)


def plot_regression_fit(problem, weights, *, epochs=None, true_line=None, ax=None, title=None):
    """The data of a `LinearRegression` problem, the ground-truth line and the model line
    ŷ = w x + b after some epochs (lighter = earlier).

    ``weights`` is an array (epochs + 1, 2) of (w, b), e.g. ``train(...)["epochs"]``;
    ``epochs`` the epochs to draw (default: five spread from the first to the last);
    ``true_line`` the (slope, intercept) the data came from. Returns the Axes.
    """
    ax = new_axes(ax)
    weights = np.asarray(weights, dtype=float)
    if epochs is None:
        epochs = np.unique(np.linspace(0, len(weights) - 1, 5).astype(int))
    ax.scatter(problem.x, problem.y, s=12, color="0.5", label="data")
    xs = np.linspace(problem.x.min(), problem.x.max(), 2)
    if true_line is not None:
        ax.plot(xs, true_line[0] * xs + true_line[1], "k--", lw=2, label="ground truth")
    shades = plt.cm.Reds(np.linspace(0.35, 1.0, len(epochs)) if len(epochs) > 1 else [0.9])
    for colour, e in zip(shades, epochs):
        w, b = weights[e]
        ax.plot(xs, w * xs + b, color=colour, lw=1.5, label=f"model, epoch {e}")
    finish(ax, title or "Ground truth and model as epochs pass", "x", "y", legend=False)
    place_legend(ax, fontsize=9)
    return ax


def plot_loss_curves(losses, *, ax=None, log=True, xlabel="epoch", title="Loss during training"):
    """Loss against epoch for several runs (``losses`` maps a label to a 1-D array);
    logarithmic y axis by default. Returns the Axes."""
    ax = new_axes(ax)
    for label, values in losses.items():
        ax.plot(np.arange(len(values)), np.asarray(values, dtype=float), label=label)
    if log:
        ax.set_yscale("log")
    ax.grid(True, alpha=0.3)
    return finish(ax, title, xlabel, "loss", legend=len(losses) > 1)


def plot_ewma(values, averages, *, ax=None, title="Exponentially weighted moving averages"):
    """A noisy series (dots) and one or more of its averages (``averages``: label -> array)."""
    ax = new_axes(ax, figsize=(8, 4))
    t = np.arange(1, len(values) + 1)
    ax.plot(t, values, ".", color="0.6", ms=4, label="data θₜ")
    for label, v in averages.items():
        ax.plot(t, v, lw=2, label=label)
    ax.grid(True, alpha=0.3)
    return finish(ax, title, "t", "value", legend=True)


def plot_training_frame(problem, weights, epoch, *, label, true_line=None, axes=None,
                        steps_per_epoch=1):
    """One frame of training: left, the data, the ground truth and the model line at
    ``epoch``; right, the path of (w, b) so far on the loss contours. The titles carry
    the epoch counter, e.g. ``"Momentum Optimizer (decay = 0.9) epoch number: 49"``.

    ``weights`` holds (w, b) per step (``steps_per_epoch`` steps per epoch, 1 for batch
    gradient descent). Returns the pair of Axes.
    """
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(11, 4))
    ax_fit, ax_path = axes
    weights = np.asarray(weights, dtype=float)
    upto = min(epoch * steps_per_epoch, len(weights) - 1)
    plot_regression_fit(problem, weights, epochs=[upto], true_line=true_line, ax=ax_fit,
                        title=f"{label} epoch number: {epoch}")
    ax_fit.get_lines()[-1].set_label(f"model, epoch {epoch}")
    place_legend(ax_fit, fontsize=9)
    plot_trajectories(problem, {label: weights[:upto + 1]}, ax=ax_path, markers=False,
                      title=f"Loss contours, epoch number: {epoch}")
    return axes


# --- signal propagation (initialisation lesson) ---

# The two histograms one above the other, each with its legend (one stats line per layer)
# on its right, inside the figure.
SIGNAL_FIGSIZE = (9.5, 7.5)
SIGNAL_LAYOUT = dict(left=0.08, right=0.58, bottom=0.08, top=0.95, hspace=0.4)

def _shown_layers(depth, layers):
    """All layers of a shallow net; about six spread from first to last of a deep one."""
    if layers is not None:
        return [int(i) for i in layers]
    if depth <= 6:
        return list(range(depth))
    return sorted(set(np.linspace(0, depth - 1, 6).round().astype(int).tolist()))


def plot_layer_histograms(values, *, title, xlabel, saturated=None, layers=None, bins=60,
                          logy=False, ax=None, legend_outside=False):
    """Overlaid histograms (as density lines) of one quantity per layer.

    ``values`` is a list of arrays, one per layer (index 0 = first hidden layer);
    ``saturated`` an optional list of saturated fractions per layer. Each line's legend
    entry is its stats line: ``layer k: mean …, std …, … % saturated``. All layers share
    one bin range (0.5–99.5 % quantiles of the layers shown, widened to include 0); values
    outside it are left out, so each curve is the density of the central part of its layer.
    ``logy`` puts the density on a log scale (useful for ReLU's spike of exact zeros).
    ``layers`` picks which to show (default: all of a net of ≤ 6 layers, else six spread
    from first to last); ``legend_outside`` puts the legend right of the axes. Returns the
    Axes.
    """
    ax = new_axes(ax, figsize=(7, 4))
    shown = _shown_layers(len(values), layers)
    pooled = np.concatenate([np.ravel(values[i]) for i in shown])
    lo, hi = np.quantile(pooled, [0.005, 0.995])
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    if hi - lo <= 0:
        lo, hi = -1.0, 1.0
    edges = np.linspace(lo, hi, bins + 1)
    centres = 0.5 * (edges[:-1] + edges[1:])
    colours = plt.cm.viridis(np.linspace(0.0, 0.9, len(shown)))
    for colour, i in zip(colours, shown):
        v = np.ravel(values[i])
        density, _ = np.histogram(v, bins=edges)
        density = density / (max(density.sum(), 1) * (edges[1] - edges[0]))
        if logy:
            density = np.where(density > 0, density, np.nan)      # empty bins leave gaps
        label = f"layer {i + 1}: mean {v.mean():+.3g}, std {v.std():.3g}"
        if saturated is not None:
            label += f", {100 * saturated[i]:.1f} % saturated"
        ax.plot(centres, density, color=colour, lw=1.5, label=label,
                linestyle=LINE_STYLES[len(ax.get_lines()) % len(LINE_STYLES)])
    if logy:
        ax.set_yscale("log")
    ax.grid(True, alpha=0.3)
    finish(ax, title, xlabel, "density", legend=False)
    if legend_outside:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, fontsize=9)
    else:
        place_legend(ax, fontsize=9)
    return ax


def plot_signal(prop, *, axes=None, layers=None, logy=False):
    """Histograms of activations (top, with % saturated) and of gradients ∂L/∂a (below)
    for each layer of an ``actlib.nn.propagate`` result, each legend right of its plot.
    Returns the pair of Axes."""
    if axes is None:
        fig, axes = plt.subplots(2, 1, figsize=SIGNAL_FIGSIZE)
        fig.subplots_adjust(**SIGNAL_LAYOUT)
    ax_a, ax_g = axes
    init = prop.init if isinstance(prop.init, str) else f"N(0, {prop.init:g}²)" \
        if isinstance(prop.init, (int, float)) else getattr(prop.init, "__name__", "custom")
    width = prop.acts[0].shape[1]
    setup = f"{prop.activation}, {init}, {prop.depth}×{width}"
    plot_layer_histograms(prop.acts, saturated=prop.saturated, layers=layers, logy=logy,
                          ax=ax_a, title=f"Activations per layer ({setup})",
                          xlabel="activation a", legend_outside=True)
    plot_layer_histograms(prop.grads, layers=layers, logy=logy, ax=ax_g,
                          title=f"Gradients per layer ({setup})", xlabel="∂L/∂a",
                          legend_outside=True)
    return axes


def plot_grad_norms(norms, *, ax=None, title="Weight-gradient norm per layer",
                    ylabel="‖∂L/∂W‖ (log scale)"):
    """Per-layer gradient norms of several set-ups (``norms`` maps a label to an array,
    index 0 = first layer) on a logarithmic axis: a falling line towards layer 1 means
    vanishing gradients, a rising one exploding. Returns the Axes."""
    ax = new_axes(ax, figsize=(7, 4))
    for label, values in norms.items():
        values = np.asarray(values, dtype=float)
        ax.plot(np.arange(1, len(values) + 1), values, marker="o", ms=3, label=label)
    ax.set_yscale("log")
    ax.grid(True, alpha=0.3, which="both")
    return finish(ax, title, "layer", ylabel, legend=len(norms) > 1)


# --- dead ReLU units (lesson 04, the ReLU family; the count itself is actlib.nn.dead_unit_fraction)

def plot_unit_activity(X, W, b, *, ax=None, title=None, bins=40):
    """Histogram of each unit's largest pre-activation max_x (x·W[:, j] + b_j) over ``X``.

    Units at or left of 0 are dead (never active on ``X``); the title reports their share.
    Returns the Axes.
    """
    ax = new_axes(ax)
    peak = (np.asarray(X, dtype=float) @ np.asarray(W, dtype=float)
            + np.asarray(b, dtype=float)).max(axis=0)
    dead = peak <= 0
    edges = np.histogram_bin_edges(peak, bins=bins)
    ax.hist(peak[~dead], bins=edges, color="C0", label=f"alive ({np.sum(~dead)})")
    ax.hist(peak[dead], bins=edges, color="C3", label=f"dead ({np.sum(dead)})")
    ax.axvline(0, color="0.3", lw=1)
    ax.grid(True, alpha=0.3)
    title = title or f"Largest pre-activation per unit: {dead.mean():.0%} dead"
    return finish(ax, title, "max over the inputs of $z_j$", "number of units", legend=True)


# --- text alternatives: what a figure shows, for a screen reader ----------------------------

def _style_name(line):
    style = line.get_linestyle()
    names = {"-": "solid", "--": "dashed", "-.": "dash-dot", ":": "dotted"}
    marker = line.get_marker()
    words = [names.get(style, "patterned") if style not in ("None", "", " ", "none") else ""]
    if marker not in (None, "None", "", " ", "none"):
        words.append("with markers")
    return " ".join(w for w in words if w)


def _kind(ax):
    if any(type(c).__name__ in ("QuadContourSet", "ContourSet") for c in ax.collections) \
            or any(getattr(c, "levels", None) is not None for c in ax.collections):
        return "contour plot"
    if ax.patches and not ax.get_lines():
        return "histogram"
    if ax.images:
        return "image"
    if ax.collections and not ax.get_lines():
        return "scatter plot"
    return "line plot"


def describe(fig, *, most=600):
    """A text alternative for ``fig``: what each panel shows (its title, its kind, its axes
    and the entries it compares), at most ``most`` characters. A description set with
    `set_description` is used as it is."""
    given = getattr(fig, "actlib_description", None)
    if given:
        return given
    panels = []
    for ax in fig.axes:
        if not ax.get_visible() or getattr(ax, "_colorbar", None) is not None:
            continue
        if not (ax.lines or ax.collections or ax.images or ax.patches):
            continue
        title = ax.get_title() or ax.get_title("left") or ""
        text = f"{_kind(ax)}" + (f" \u201c{title}\u201d" if title else "")
        xlabel, ylabel = ax.get_xlabel(), ax.get_ylabel()
        if xlabel or ylabel:
            text += f" of {ylabel or 'y'} against {xlabel or 'x'}"
        entries = []
        for line in ax.get_lines():
            label = line.get_label()
            if not label.startswith("_"):
                cue = _style_name(line)
                entries.append(f"{label}" + (f" ({cue})" if cue else ""))
        if not entries and ax.get_legend() is not None:
            entries = [t.get_text() for t in ax.get_legend().get_texts()]
        if entries:
            text += "; it compares " + ", ".join(entries[:8])
            if len(entries) > 8:
                text += f" and {len(entries) - 8} more"
        panels.append(text)
    suptitle = fig._suptitle.get_text() if fig._suptitle is not None else ""
    head = f"Figure \u201c{suptitle}\u201d" if suptitle else "Figure"
    if not panels:
        return head + "."
    if len(panels) == 1:
        out = f"{head}: {panels[0]}."
    else:
        out = f"{head} with {len(panels)} panels: " + "; ".join(
            f"({k}) {p}" for k, p in enumerate(panels, 1)) + "."
    return out if len(out) <= most else out[:most - 1].rstrip() + "\u2026"


def set_description(fig, text):
    """Give ``fig`` its own text alternative (one or two sentences saying what it shows)."""
    fig.actlib_description = text
    return fig


def fit_width(fig, most=None):
    """Narrow ``fig`` (its drawing, legends outside the axes included) to at most ``most``
    inches (default `WIDEST`), keeping its text sizes: the page then shows it unscaled, every
    text at its size. Returns the figure's width in inches as drawn."""
    most = WIDEST if most is None else most
    # Always from the width the figure was made with: a figure drawn again (a widget's) is
    # narrowed the same way for the same content, whatever was shown before.
    requested = getattr(fig, "_actlib_requested_width", None)
    if requested is None:
        fig._actlib_requested_width = requested = float(fig.get_size_inches()[0])
    elif fig.get_size_inches()[0] != requested:
        fig.set_size_inches(requested, fig.get_size_inches()[1])
    for _ in range(3):
        renderer = fig.canvas.get_renderer() if hasattr(fig.canvas, "get_renderer") \
            else fig._get_renderer()
        drawn = fig.get_tightbbox(renderer).width
        if drawn <= most + 1e-3:
            return drawn
        width, height = fig.get_size_inches()
        fig.set_size_inches(max(width - (drawn - most) - 0.05, 1.0), height)
    return fig.get_tightbbox(fig._get_renderer()).width


def figure_html(fig, fmt="png"):
    """The figure as an HTML ``<figure>``: the image (``fmt`` "svg" or "png") with its text
    alternative (`describe`) as ``alt`` and as a caption a screen reader announces."""
    from IPython.core.pylabtools import print_figure

    fit_width(fig)
    alt = html.escape(describe(fig), quote=True)
    if fmt == "svg":
        data = print_figure(fig, "svg")
        src = "data:image/svg+xml," + urllib.parse.quote(data, safe="")
    else:
        data = print_figure(fig, "png", base64=True, bbox_inches="tight")
        src = f"data:image/png;base64,{data}"
    return (f'{READING_CSS}<figure class="actlib-figure" style="margin: 0">'
            f'<img src="{src}" alt="{alt}"/>'
            f'<figcaption class="jp-sr-only" style="position:absolute;width:1px;height:1px;'
            f'overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap">{alt}</figcaption>'
            f'</figure>')


_IMAGE_TYPES = ("image/png", "image/svg+xml", "image/jpeg", "application/pdf")

# Prose at a readable measure: the text cells' paragraphs, lists and headings stop at about
# 75 characters a line however wide the window (tables, formulas set apart, code and figures
# keep the full width). JupyterLab 4 has no setting for it, and its custom.css route does not
# reach a course's own configuration folder, so the course's kernel side sets it: a style
# shown (invisibly) by the lesson's first cell and with every figure.
READING_CSS = ("<style>.jp-Notebook .jp-MarkdownOutput > :is(p, ul, ol, blockquote, h1, h2, "
               "h3, h4) { max-width: 62ch; }</style>")


def show_figures_with_text_alternatives(shell=None):
    """In a notebook's kernel, show every Matplotlib figure as `figure_html` (the image with
    its text alternative) instead of a bare image, and set the prose's measure
    (`READING_CSS`). Not in a headless run (nbgrader's or the
    tests', see `actlib.widgets.headless`), where nobody reads the page. Returns True when
    installed."""
    if any(os.environ.get(name) for name in ("NBGRADER_EXECUTION", "ACTLIB_HEADLESS")):
        return False
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:  # pragma: no cover - IPython comes with ipykernel
            return False
        shell = get_ipython()
    if shell is None or not hasattr(shell, "display_formatter") \
            or type(shell).__name__ != "ZMQInteractiveShell":
        return False
    from matplotlib.figure import Figure

    # Load the inline backend first: setting it up clears every formatter's Figure printer
    # (IPython's select_figure_formats), which would undo ours.
    plt._get_backend_mod()
    formatters = shell.display_formatter.formatters

    def as_html(fig):
        chosen = "png"
        try:
            from matplotlib_inline.backend_inline import InlineBackend
            formats = InlineBackend.instance().figure_formats
            chosen = "svg" if "svg" in formats and "png" not in formats else "png"
        except Exception:  # noqa: BLE001 - any trouble: PNG, the inline default
            pass
        for mime in _IMAGE_TYPES:      # one image per figure: the one in the HTML
            formatters[mime].pop(Figure, None)
        return figure_html(fig, chosen)

    formatters["text/html"].for_type(Figure, as_html)
    from IPython.display import HTML, display
    display(HTML(READING_CSS))
    return True


show_figures_with_text_alternatives()


# --- colour vision: lines a reader with a colour-vision deficiency cannot tell apart --------

# Machado, Oliveira and Fernandes (2009), severity 1, applied to linear RGB.
CVD_MATRICES = {
    "protanopia": np.array([[0.152286, 1.052583, -0.204868],
                            [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968],
                              [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "tritanopia": np.array([[1.255528, -0.076749, -0.178779],
                            [-0.078411, 0.930809, 0.147602],
                            [0.004733, 0.691367, 0.303900]]),
}


def _to_lab(rgb):
    """CIELAB (D65) of sRGB colours (rows in [0, 1])."""
    rgb = np.clip(np.asarray(rgb, dtype=float), 0, 1)
    lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    xyz = lin @ np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                          [0.0193, 0.1192, 0.9505]]).T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]),
                     200 * (f[..., 1] - f[..., 2])], axis=-1)


def simulate(rgb, deficiency):
    """sRGB colours (rows in [0, 1]) as seen with ``deficiency`` (a key of CVD_MATRICES)."""
    rgb = np.clip(np.asarray(rgb, dtype=float), 0, 1)
    lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    lin = np.clip(lin @ CVD_MATRICES[deficiency].T, 0, 1)
    return np.where(lin <= 0.0031308, 12.92 * lin, 1.055 * lin ** (1 / 2.4) - 0.055)


def _cue(line):
    style = line.get_linestyle()
    marker = line.get_marker()
    dashes = tuple(np.round(line._unscaled_dash_pattern[1] or (), 1)) \
        if hasattr(line, "_unscaled_dash_pattern") else ()
    return (style, dashes, marker if marker not in (None, "", " ", "none") else "None")


def indistinct_lines(ax, *, smallest_difference=12.0):
    """Pairs of labelled lines of ``ax`` told apart by colour alone whose colours come
    closer than ``smallest_difference`` (CIELAB ΔE) for a reader with protanopia,
    deuteranopia or tritanopia: [(label, label, deficiency, ΔE)]. Lines with different
    styles or markers are told apart without colour and never listed."""
    from matplotlib.colors import to_rgb

    lines = [line for line in ax.get_lines() if not line.get_label().startswith("_")
             and line.get_visible()]
    found = []
    for i, a in enumerate(lines):
        for b in lines[i + 1:]:
            if _cue(a) != _cue(b):
                continue
            pair = np.array([to_rgb(a.get_color()), to_rgb(b.get_color())])
            for deficiency in CVD_MATRICES:
                lab = _to_lab(simulate(pair, deficiency))
                difference = float(np.linalg.norm(lab[0] - lab[1]))
                if difference < smallest_difference:
                    found.append((a.get_label(), b.get_label(), deficiency, round(difference, 1)))
                    break
    return found
