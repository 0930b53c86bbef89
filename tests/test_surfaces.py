"""Tests of actlib.surfaces: values against SymPy, gradients against SymPy and finite
differences, domains and their errors, the registry, run(), and linear regression."""
import warnings

import numpy as np
import pytest
import sympy as sp

from actlib import optim
from actlib import surfaces as S

X, Y = sp.symbols("x y", real=True)
A_, B_, C_, D_ = sp.symbols("a b c d", real=True)

# the formulas as stated in the syllabus, written in SymPy
SYMBOLIC = {
    "rosenbrock": lambda k: (k["a"] - X) ** 2 + k["b"] * (Y - X ** 2) ** 2,
    "polynomial": lambda k: k["a"] * X ** 2 + k["b"] * Y ** 2 + k["c"] * X * Y + k["d"] * X,
    "cosine": lambda k: sp.cos(k["a"] * X * Y + k["b"] * X + k["c"] * Y),
    "logarithm": lambda k: sp.log(k["a"] * X * Y + k["b"] * X + k["c"] * Y + 1),
    "rational": lambda k: (k["a"] * X ** 2 + k["b"] * Y ** 2 + k["c"] * X ** 2 * Y)
    / (X ** 2 + Y ** 2),
}

CONSTANTS = {
    "quadratic": [{}, {"condition_number": 50.0, "smallest": 0.2, "angle": 1.1,
                       "centre": (1.0, -2.0)}],
    "rosenbrock": [{}, {"a": -0.5, "b": 10.0}],
    "polynomial": [{}, {"a": 1.0, "b": -1.0, "c": 2.0, "d": 0.5}, {"a": 0, "b": 0, "c": 1,
                                                                    "d": 1}],
    "cosine": [{}, {"a": 2.0, "b": -1.0, "c": 0.3}],
    "logarithm": [{}, {"a": -1.0, "b": 0.3, "c": 2.0}],
    "rational": [{}, {"a": 1.0, "b": 1.0, "c": -3.0}, {"a": -2.0, "b": 0.5, "c": 0.0}],
}
CASES = [(n, k) for n in S.names() for k in CONSTANTS[n]]
IDS = [f"{n}-{i}" for n in S.names() for i in range(len(CONSTANTS[n]))]


def test_every_surface_has_test_constants():
    assert set(CONSTANTS) == set(S.names()), "add test constants for the new surface"


def _points(surface, rng, n=40):
    """Random points of the window where the surface is comfortably defined."""
    (x0, x1), (y0, y1) = surface.window
    pts = np.stack([rng.uniform(x0, x1, 400), rng.uniform(y0, y1, 400)])
    if surface.name == "logarithm":
        u = surface.constants["a"] * pts[0] * pts[1] + surface.constants["b"] * pts[0] \
            + surface.constants["c"] * pts[1] + 1
        pts = pts[:, u > 0.2]
    if surface.name == "rational":
        pts = pts[:, np.hypot(*pts) > 0.2]
    return pts[:, :n]


@pytest.mark.parametrize("name, constants", CASES, ids=IDS)
def test_gradient_matches_finite_differences(name, constants):
    s = S.get(name, **constants)
    rng = np.random.default_rng(1)
    pts = _points(s, rng)
    assert pts.shape[1] >= 20
    h = 1e-6
    for p in pts.T:
        g = s.grad(p)
        fd = np.array([(s.value(p + h * e) - s.value(p - h * e)) / (2 * h)
                       for e in np.eye(2)])
        scale = max(1.0, np.max(np.abs(g)))
        assert np.allclose(g, fd, rtol=1e-6, atol=1e-6 * scale), (name, p, g, fd)
    # vectorised over a stack of points equals point by point
    G = s.grad(pts)
    V = s.value(pts)
    assert G.shape == pts.shape and V.shape == pts.shape[1:]
    for j in range(pts.shape[1]):
        assert np.allclose(G[:, j], s.grad(pts[:, j]), rtol=1e-13)
        assert np.isclose(V[j], s.value(pts[:, j]), rtol=1e-13)


def test_gradient_check_can_fail():
    """A surface with a deliberately wrong gradient is caught by the same comparison."""
    s = S.get("cosine")

    class Wrong(S.Cosine):
        def _g(self, x, y):
            gx, gy = super()._g(x, y)
            return gx, -gy

    w = Wrong()
    p = np.array([0.7, -1.2])
    h = 1e-6
    fd = np.array([(w.value(p + h * e) - w.value(p - h * e)) / (2 * h) for e in np.eye(2)])
    assert not np.allclose(w.grad(p), fd, rtol=1e-6, atol=1e-6)
    assert np.allclose(s.grad(p), fd, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name, constants", [c for c in CASES if c[0] in SYMBOLIC],
                         ids=[i for c, i in zip(CASES, IDS) if c[0] in SYMBOLIC])
def test_value_and_gradient_match_sympy(name, constants):
    s = S.get(name, **constants)
    expr = SYMBOLIC[name](s.constants)
    f = sp.lambdify((X, Y), expr, "mpmath")
    gx = sp.lambdify((X, Y), sp.diff(expr, X), "mpmath")
    gy = sp.lambdify((X, Y), sp.diff(expr, Y), "mpmath")
    for p in _points(s, np.random.default_rng(2), 15).T:
        x, y = float(p[0]), float(p[1])
        assert np.isclose(s.value(p), float(f(x, y)), rtol=1e-12, atol=1e-13)
        assert np.allclose(s.grad(p), [float(gx(x, y)), float(gy(x, y))], rtol=1e-10,
                           atol=1e-12)


def test_quadratic_matches_its_matrix():
    q = S.Quadratic(condition_number=25.0, smallest=0.4, angle=0.7, centre=(1.0, 2.0))
    assert np.isclose(q.condition_number, 25.0) and np.isclose(q.mu, 0.4)
    assert np.isclose(q.L, 10.0) and np.allclose(q.matrix, q.matrix.T)
    p = np.array([0.3, -0.5])
    d = p - q.minimum
    assert np.isclose(q.value(p), 0.5 * d @ q.matrix @ d)
    assert np.allclose(q.grad(p), q.matrix @ d)
    m = S.Quadratic.from_matrix([[3.0, 1.0], [1.0, 2.0]], centre=(0.5, 0.5))
    assert np.isclose(m.condition_number, (5 + np.sqrt(5)) / (5 - np.sqrt(5)))
    assert np.allclose(m.grad(m.minimum), 0)


@pytest.mark.parametrize("make, exc, words", [
    (lambda: S.Quadratic(condition_number=0.5), ValueError, ">= 1"),
    (lambda: S.Quadratic(smallest=0.0), ValueError, "> 0"),
    (lambda: S.Quadratic.from_matrix([[1.0, 0.0], [0.0, -1.0]]), ValueError, "positive definite"),
    (lambda: S.Quadratic.from_matrix([[1.0, 2.0], [0.0, 1.0]]), ValueError, "symmetric"),
    (lambda: S.Quadratic.from_matrix(np.eye(3)), ValueError, "2×2"),
    (lambda: S.Rosenbrock(b=-1.0), ValueError, "b must be > 0"),
    (lambda: S.get("sphere"), ValueError, "quadratic, rosenbrock, polynomial"),
    (lambda: S.get("cosine", d=1.0), TypeError, "allowed: a, b, c"),
    (lambda: S.get("polynomial", a="1"), TypeError, "real number"),
    (lambda: S.get("cosine", a=float("inf")), ValueError, "finite"),
])
def test_bad_constructor_arguments(make, exc, words):
    with pytest.raises(exc) as info:
        make()
    assert words in str(info.value), str(info.value)


def test_undefined_points_raise_or_give_nan():
    log = S.get("logarithm", a=1.0, b=1.0, c=1.0)
    with pytest.raises(ValueError, match="undefined.*must be > 0"):
        log.value((-2.0, 0.5))
    with pytest.raises(ValueError, match="undefined"):
        log.grad((-1.0, 0.0))          # argument exactly 0
    grid = log.value(np.array([[-2.0, 1.0], [0.5, 1.0]]), nan_outside=True)
    assert np.isnan(grid[0]) and np.isclose(grid[1], np.log(4.0))
    rat = S.get("rational")
    with pytest.raises(ValueError, match="origin"):
        rat.value((0.0, 0.0))
    with pytest.raises(ValueError, match="origin"):
        rat.grad(np.zeros((2, 3)))
    assert np.isnan(rat.value((0.0, 0.0), nan_outside=True))
    with pytest.raises(ValueError, match="first axis"):
        rat.value((1.0, 2.0, 3.0))
    with pytest.raises(TypeError):
        rat.value(("a", "b"))


def test_rational_is_stable_near_the_origin():
    rat = S.get("rational", a=1.0, b=2.0, c=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for r in (1e-8, 1e-150, 1e-300, 1e-320):
            p = np.array([r, r])
            assert np.isclose(rat.value(p), 1.5), "f depends on the direction only near 0"
            g = rat.grad((r, 0.0))
            assert np.all(np.isfinite(g)) and g[0] == 0.0
        rat.grid(60)
        S.get("logarithm").grid(60)


def test_convexity_flags_and_minima():
    for consts, convex in (({"a": 1, "b": 1, "c": 1, "d": 0}, True),
                           ({"a": 1, "b": 1, "c": 3, "d": 0}, False),
                           ({"a": 1, "b": -1, "c": 0, "d": 0}, False)):
        s = S.get("polynomial", **consts)
        hess_eigs = np.linalg.eigvalsh([[2 * s.constants["a"], s.constants["c"]],
                                        [s.constants["c"], 2 * s.constants["b"]]])
        assert s.convex == convex == bool(hess_eigs[0] >= 0)
    for name in S.names():
        s = S.get(name)
        if s.minimum is not None:
            assert np.allclose(s.grad(s.minimum), 0, atol=1e-12), name
        assert s.value(s.start) == s.value(s.start)       # start is in the domain
    assert S.get("quadratic").convex and not S.get("rosenbrock").convex


# ----------------------------------------------------------------------------------- run
def test_run_shape_start_and_steps():
    s = S.get("polynomial")
    traj = S.run(optim.SGD(0.1), s, steps=25)
    assert traj.shape == (26, 2) and np.array_equal(traj[0], s.start)
    p = s.start.copy()
    for k in range(25):
        p = p - 0.1 * s.grad(p)
        assert np.array_equal(traj[k + 1], p)
    assert np.allclose(S.run(optim.SGD(0.1), s, steps=300)[-1], s.minimum, atol=1e-8)


def test_run_leaving_the_domain_or_diverging():
    log = S.get("logarithm")
    with pytest.raises(ValueError, match="step .*undefined"):
        S.run(optim.SGD(2.0), log, start=(0.5, 0.0), steps=20)
    short = S.run(optim.SGD(2.0), log, start=(0.5, 0.0), steps=20, stop_when_undefined=True)
    assert 1 < len(short) < 21
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="diverged"):
            S.run(optim.SGD(1.0), S.get("rosenbrock"), steps=500)
        short = S.run(optim.SGD(1.0), S.get("rosenbrock"), steps=500,
                      stop_when_undefined=True)
    assert np.all(np.isfinite(short)) and len(short) < 501
    with pytest.raises(ValueError, match="non-negative"):
        S.run(optim.SGD(), S.get("quadratic"), steps=-1)
    with pytest.raises(TypeError, match="step"):
        S.run("adam", S.get("quadratic"))


def test_converged_at():
    traj = np.array([[3.0, 0], [0.5, 0], [0.0001, 0], [0.01, 0], [0.0, 0]])
    assert S.converged_at(traj, (0, 0), tol=1e-3) == 4
    assert S.converged_at(traj, (0, 0), tol=0.02) == 2
    assert S.converged_at(traj[:4], (0, 0), tol=1e-3) is None
    assert S.converged_at(traj, (0, 0), tol=10) == 0


# ----------------------------------------------------------------------- linear regression
def test_linear_data_is_seeded_and_checked():
    a = S.linear_data(30, rng=np.random.default_rng(5))
    b = S.linear_data(30, rng=np.random.default_rng(5))
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]) and len(a[0]) == 30
    x, y = S.linear_data(20, slope=-1.0, intercept=3.0, noise=0.0, rng=np.random.default_rng(0))
    assert np.allclose(y, 3.0 - x)
    with pytest.raises(ValueError, match="noise"):
        S.linear_data(noise=-1.0)
    with pytest.raises(ValueError, match="n must"):
        S.linear_data(1)


def test_linear_regression_loss():
    x, y = S.linear_data(40, rng=np.random.default_rng(7))
    prob = S.LinearRegression(x, y)
    assert np.allclose(prob.minimum, np.polyfit(x, y, 1), rtol=1e-10)
    rng = np.random.default_rng(8)
    for p in rng.normal(size=(10, 2)):
        assert np.isclose(prob.value(p), np.mean((p[0] * x + p[1] - y) ** 2))
        h = 1e-6
        fd = [(prob.value(p + h * e) - prob.value(p - h * e)) / (2 * h) for e in np.eye(2)]
        assert np.allclose(prob.grad(p), fd, rtol=1e-6, atol=1e-8)
        per_example = np.array([prob.grad(p, batch=[i]) for i in range(40)])
        assert np.allclose(per_example.mean(axis=0), prob.grad(p), rtol=1e-12)
        assert np.allclose(prob.grad(p, batch=np.arange(40)), prob.grad(p), rtol=1e-12)
    X_, Y_, Z = prob.grid(30)
    assert Z.shape == (30, 30) and np.all(np.isfinite(Z))
    assert np.allclose(prob.predict((2.0, 1.0), [0.0, 1.0]), [1.0, 3.0])
    with pytest.raises(ValueError, match="same length"):
        S.LinearRegression(x, y[:-1])
    with pytest.raises(ValueError, match="at least one"):
        prob.grad((0.0, 0.0), batch=[])


def test_train_batch_stochastic_minibatch():
    x, y = S.linear_data(40, rng=np.random.default_rng(7))
    prob = S.LinearRegression(x, y)
    full = S.train(optim.SGD(0.1), prob, epochs=30)
    assert full["epochs"].shape == (31, 2) and full["steps"].shape == (31, 2)
    assert np.array_equal(full["epochs"], S.run(optim.SGD(0.1), prob, steps=30))
    sgd = S.train(optim.SGD(0.02), prob, epochs=30, batch_size=1, rng=np.random.default_rng(1))
    assert sgd["steps"].shape == (30 * 40 + 1, 2)
    mini = S.train(optim.SGD(0.05), prob, epochs=30, batch_size=16, rng=np.random.default_rng(1))
    assert mini["steps"].shape == (30 * 3 + 1, 2)
    for run_ in (full, sgd, mini):
        assert run_["loss"][-1] < 0.2 * run_["loss"][0]
        assert np.allclose(run_["loss"], [prob.value(p) for p in run_["epochs"]])
    again = S.train(optim.SGD(0.02), prob, epochs=30, batch_size=1, rng=np.random.default_rng(1))
    assert np.array_equal(again["steps"], sgd["steps"]), "seeded shuffling must repeat"
    with pytest.raises(ValueError, match="batch_size"):
        S.train(optim.SGD(), prob, batch_size=0)
    with pytest.raises(ValueError, match="diverged"):
        S.train(optim.SGD(50.0), prob, epochs=200)


# ------------------------------------------------------------------ plots and widgets
def test_plot_helpers_label_everything():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from actlib import plots

    s = S.get("rosenbrock")
    paths = {"Adam": S.run(optim.Adam(0.05), s, steps=20),
             "Momentum Optimizer (decay = 0.9)": S.run(optim.SGD(2e-4, 0.9), s, steps=20)}
    ax = plots.plot_trajectories(s, paths)
    assert ax.get_title() and ax.get_xlabel() == "x" and ax.get_ylabel() == "y"
    assert [t.get_text() for t in ax.get_legend().get_texts()][-2:] == list(paths)
    x, y = S.linear_data(30, rng=np.random.default_rng(0))
    prob = S.LinearRegression(x, y)
    run_ = S.train(optim.SGD(0.1, momentum=0.9), prob, epochs=60)
    ax_fit, ax_path = plots.plot_training_frame(prob, run_["epochs"], 49,
                                                label="Momentum Optimizer (decay = 0.9)",
                                                true_line=(2.0, 1.0))
    assert ax_fit.get_title() == "Momentum Optimizer (decay = 0.9) epoch number: 49"
    assert ax_path.get_xlabel() == "slope w" and ax_fit.get_legend() is not None
    ax = plots.plot_loss_curves({"a": run_["loss"], "b": run_["loss"] * 2})
    assert ax.get_yscale() == "log" and ax.get_legend() is not None
    ax = plots.plot_ewma(np.arange(10.0), {"β = 0.5": optim.ewma(np.arange(10.0), 0.5)})
    assert ax.get_legend() is not None
    plt.close("all")


def test_widgets_build_and_update(capsys, monkeypatch):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from actlib import widgets as W

    for name in W.HEADLESS_VARIABLES:      # as a person at JupyterLab gets them
        monkeypatch.delenv(name, raising=False)

    box = W.surface_explorer()
    surface_dd, opt_dd, _ = box.children[0].children
    for name in ("logarithm", "rational", "cosine"):
        surface_dd.value = name          # each change re-runs and redraws without error
    opt_dd.value = "adam"
    x, y = S.linear_data(30, rng=np.random.default_rng(0))
    prob = S.LinearRegression(x, y)
    runs = {"Batch Gradient Descent": S.train(optim.SGD(0.1), prob, epochs=20)["epochs"],
            "Adam (η = 0.1)": S.train(optim.Adam(0.1), prob, epochs=20)["epochs"]}
    player = W.training_player(prob, runs)
    choice, _, epoch = player.children[0].children
    epoch.value = 12
    choice.value = "Adam (η = 0.1)"
    epoch.value = 20
    plt.close("all")
    capsys.readouterr()


def test_explore_reports_how_a_run_ended():
    surf, traj, note = S.explore("polynomial", "sgd", {"a": 1, "b": 1, "c": 0, "d": 0,
                                                       "unused": 5}, 0.1, 50)
    assert surf.constants == {"a": 1.0, "b": 1.0, "c": 0.0, "d": 0.0} and len(traj) == 51
    assert "after 50 steps" in note
    _, traj, note = S.explore("logarithm", "sgd", None, 2.0, 20, start=(0.5, 0.0))
    assert "left the domain" in note and len(traj) < 21
    _, traj, note = S.explore("rational", "adam", None, 0.1, 5, start=(0.0, 0.0))
    assert "cannot start" in note and len(traj) == 1
    with pytest.raises(ValueError, match="valid names"):
        S.explore("sphere", "adam")
