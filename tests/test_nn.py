"""Tests of actlib.nn: gradient checks of every layer and loss, batch-norm statistics,
training, determinism, signal-propagation helpers and error messages."""
import math

import mpmath
import numpy as np
import pytest

from actlib import activations, nn

TOL = 1e-5          # a correct float64 backward pass gives ≈1e-7 or less; a wrong one O(1)


def randomise_biases(net, rng):
    """Non-zero biases and batch-norm parameters, so no unit sits exactly on a kink
    (with zero biases a ReLU layer whose inputs are all 0 outputs z = 0 exactly)."""
    layers = net.layers if isinstance(net, nn.Sequential) else [net]
    for layer in layers:
        for key, p in layer.params.items():
            if key in ("b", "beta"):
                p[:] = rng.normal(0.0, 0.5, p.shape)
            elif key == "gamma":
                p[:] = rng.uniform(0.5, 2.0, p.shape)
        if isinstance(layer, nn.BatchNorm):
            layer.running_mean = rng.normal(0.0, 1.0, layer.dim)
            layer.running_var = rng.uniform(0.5, 2.0, layer.dim)
    return net


def syllabus_net(rng, batchnorm=True):
    """Dense(3, relu, input_dim=2) → BatchNorm → Dense(2, relu) → BatchNorm → Dense(1, sigmoid)."""
    layers = [nn.Dense(2, 3, "relu", rng=rng), nn.BatchNorm(3),
              nn.Dense(3, 2, "relu", rng=rng), nn.BatchNorm(2),
              nn.Dense(2, 1, "sigmoid", init="xavier_normal", rng=rng)]
    if not batchnorm:
        layers = [layer for layer in layers if not isinstance(layer, nn.BatchNorm)]
    return nn.Sequential(layers)


# --- gradient checks ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", activations.names())
def test_dense_gradient_check_every_activation(name):
    rng = np.random.default_rng(0)
    layer = randomise_biases(nn.Dense(4, 3, name, init="xavier_normal", rng=rng), rng)
    x = rng.normal(size=(6, 4))
    target = rng.normal(size=(6, 3))
    assert nn.gradient_check(layer, x, target) < TOL


@pytest.mark.parametrize("name", ["relu", "tanh", "sigmoid", "selu"])
def test_activation_layer_gradient_check(name):
    rng = np.random.default_rng(1)
    assert nn.gradient_check(nn.Activation(name), rng.normal(size=(5, 3)),
                             rng.normal(size=(5, 3))) < TOL


@pytest.mark.parametrize("training", [True, False])
def test_batchnorm_gradient_check(training):
    rng = np.random.default_rng(2)
    bn = randomise_biases(nn.BatchNorm(4), rng)
    bn.training = training
    x = rng.normal(3.0, 2.0, size=(7, 4))
    assert nn.gradient_check(bn, x, rng.normal(size=(7, 4))) < TOL


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("loss", [nn.mse_loss, nn.binary_cross_entropy])
def test_syllabus_network_gradient_check(training, loss):
    rng = np.random.default_rng(3)
    net = randomise_biases(syllabus_net(rng), rng).train(training)
    x = rng.normal(size=(8, 2))
    y = rng.integers(0, 2, 8).astype(float)
    assert nn.gradient_check(net, x, y, loss=loss) < TOL


def test_batchnorm_before_activation_gradient_check():
    rng = np.random.default_rng(4)
    net = randomise_biases(nn.Sequential([nn.Dense(3, 5, "linear", rng=rng), nn.BatchNorm(5),
                                          nn.Activation("tanh"), nn.Dense(5, 4, "linear", rng=rng)]),
                           rng)
    x = rng.normal(size=(9, 3))
    assert nn.gradient_check(net, x, rng.integers(0, 4, 9), loss=nn.softmax_cross_entropy) < TOL


@pytest.mark.parametrize("loss, make_target", [
    (nn.mse_loss, lambda rng, shape: rng.normal(size=shape)),
    (nn.softmax_cross_entropy, lambda rng, shape: rng.integers(0, shape[1], shape[0])),
    (nn.softmax_cross_entropy, lambda rng, shape: rng.dirichlet(np.ones(shape[1]), shape[0])),
    (nn.binary_cross_entropy, lambda rng, shape: rng.integers(0, 2, shape).astype(float)),
])
def test_loss_gradients_by_finite_differences(loss, make_target):
    rng = np.random.default_rng(5)
    pred = rng.uniform(0.05, 0.95, size=(6, 3))
    target = make_target(rng, pred.shape)
    _, grad = loss(pred, target)
    num = np.zeros_like(pred)
    eps = 1e-6
    for idx in np.ndindex(pred.shape):
        up, down = pred.copy(), pred.copy()
        up[idx] += eps
        down[idx] -= eps
        num[idx] = (loss(up, target)[0] - loss(down, target)[0]) / (2 * eps)
    assert np.allclose(grad, num, rtol=1e-6, atol=1e-9)


# --- the gradient check can fail --------------------------------------------------------------
class DenseForgetsActivation(nn.Dense):
    """Wrong: backward skips the activation's derivative."""

    def backward(self, grad_out):
        self.grads = {"W": self.x.T @ grad_out, "b": grad_out.sum(axis=0)}
        return grad_out @ self.W.T


class DenseWrongBias(nn.Dense):
    """Wrong: bias gradient averaged instead of summed over the batch."""

    def backward(self, grad_out):
        out = super().backward(grad_out)
        self.grads["b"] = self.grads["b"] / len(grad_out)
        return out


class BatchNormNaive(nn.BatchNorm):
    """Wrong: treats the batch mean and variance as constants in training mode."""

    def backward(self, grad_out):
        x_hat, inv_std, _ = self._cache
        self.grads = {"gamma": (grad_out * x_hat).sum(0), "beta": grad_out.sum(0)}
        return grad_out * self.gamma * inv_std


@pytest.mark.parametrize("make", [lambda rng: DenseForgetsActivation(4, 3, "tanh", rng=rng),
                                  lambda rng: DenseWrongBias(4, 3, "tanh", rng=rng),
                                  lambda rng: BatchNormNaive(4)])
def test_gradient_check_catches_wrong_backward(make):
    rng = np.random.default_rng(6)
    layer = randomise_biases(make(rng), rng)
    x = rng.normal(1.0, 2.0, size=(6, 4))
    assert nn.gradient_check(layer, x, rng.normal(size=(6, layer.params[next(iter(layer.params))].shape[-1]))) > 1e-2


def test_gradient_check_restores_state():
    rng = np.random.default_rng(7)
    net = randomise_biases(syllabus_net(rng), rng)
    before = [p.copy() for p in net.params()]
    stats = [(l.running_mean.copy(), l.running_var.copy()) for l in net.layers
             if isinstance(l, nn.BatchNorm)]
    x = rng.normal(size=(8, 2))
    x0 = x.copy()
    nn.gradient_check(net, x, rng.integers(0, 2, 8))
    assert all(np.array_equal(a, b) for a, b in zip(before, net.params()))
    after = [(l.running_mean, l.running_var) for l in net.layers if isinstance(l, nn.BatchNorm)]
    assert all(np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
               for a, b in zip(stats, after))
    assert np.array_equal(x, x0)


# --- forward values ----------------------------------------------------------------------------
def test_dense_forward_value():
    rng = np.random.default_rng(8)
    layer = randomise_biases(nn.Dense(3, 2, "tanh", rng=rng), rng)
    x = rng.normal(size=(4, 3))
    expected = np.tanh(x @ layer.W + layer.b)
    assert np.allclose(layer.forward(x), expected)


def test_mse_value_and_column_target():
    pred = np.array([[1.0], [2.0], [4.0]])
    loss, grad = nn.mse_loss(pred, np.array([0.0, 2.0, 1.0]))
    assert loss == pytest.approx((1 + 0 + 9) / 3)
    assert np.allclose(grad, [[2 / 3], [0.0], [2.0]])


def test_softmax_cross_entropy_against_mpmath_at_extremes():
    logits = np.array([[1000.0, -1000.0, 0.0], [-745.0, 30.0, 1e-8], [0.0, 0.0, 0.0]])
    labels = np.array([1, 0, 2])
    with np.errstate(all="raise"):
        loss, grad = nn.softmax_cross_entropy(logits, labels)
    mpmath.mp.dps = 50
    ref = 0
    for row, k in zip(logits, labels):
        lse = mpmath.log(mpmath.fsum(mpmath.exp(mpmath.mpf(v)) for v in row))
        ref += lse - mpmath.mpf(row[k])
    assert loss == pytest.approx(float(ref / 3), rel=1e-12)
    assert np.all(np.isfinite(grad)) and np.allclose(grad.sum(axis=1), 0.0, atol=1e-15)
    one_hot = np.eye(3)[labels]
    assert nn.softmax_cross_entropy(logits, one_hot)[0] == pytest.approx(loss, rel=1e-14)


def test_binary_cross_entropy_value_and_saturation():
    p = np.array([0.9, 0.2, 0.5])
    y = np.array([1.0, 0.0, 1.0])
    expected = -np.mean([math.log(0.9), math.log(0.8), math.log(0.5)])
    assert nn.binary_cross_entropy(p, y)[0] == pytest.approx(expected, rel=1e-12)
    with np.errstate(all="raise"):
        loss, grad = nn.binary_cross_entropy(np.array([0.0, 1.0]), np.array([1.0, 0.0]))
    assert np.isfinite(loss) and np.all(np.isfinite(grad))


# --- batch normalisation -------------------------------------------------------------------------
def test_batchnorm_training_output_statistics():
    rng = np.random.default_rng(9)
    bn = nn.BatchNorm(3, eps=1e-5)
    bn.params["gamma"][:] = [1.0, 2.0, 0.5]
    bn.params["beta"][:] = [0.0, -1.0, 3.0]
    x = rng.normal([5.0, -2.0, 0.0], [3.0, 0.1, 10.0], size=(256, 3))
    y = bn.forward(x)
    var = x.var(axis=0)
    assert np.allclose(y.mean(axis=0), bn.beta, atol=1e-12)
    assert np.allclose(y.std(axis=0), bn.gamma * np.sqrt(var / (var + 1e-5)), rtol=1e-12)


def test_batchnorm_running_statistics_and_inference():
    rng = np.random.default_rng(10)
    bn = nn.BatchNorm(2, momentum=0.9)
    mean, var = np.zeros(2), np.ones(2)
    for _ in range(5):
        x = rng.normal([4.0, -1.0], [2.0, 0.5], size=(32, 2))
        bn.forward(x)
        mean = 0.9 * mean + 0.1 * x.mean(axis=0)
        var = 0.9 * var + 0.1 * x.var(axis=0)
    assert np.allclose(bn.running_mean, mean) and np.allclose(bn.running_var, var)
    bn.training = False
    x = rng.normal(size=(6, 2))
    expected = (x - mean) / np.sqrt(var + bn.eps)
    assert np.allclose(bn.forward(x), expected)
    # inference does not update the statistics and one row does not depend on the others
    assert np.allclose(bn.running_mean, mean)
    assert np.allclose(bn.forward(x[2:3]), expected[2:3])


def test_batchnorm_running_statistics_converge():
    rng = np.random.default_rng(11)
    bn = nn.BatchNorm(2, momentum=0.9)
    for _ in range(300):
        bn.forward(rng.normal([4.0, -1.0], [2.0, 0.5], size=(256, 2)))
    assert np.allclose(bn.running_mean, [4.0, -1.0], atol=0.1)
    assert np.allclose(bn.running_var, [4.0, 0.25], rtol=0.05)


def test_sequential_train_eval_switches_batchnorm():
    net = syllabus_net(np.random.default_rng(12))
    bns = [l for l in net.layers if isinstance(l, nn.BatchNorm)]
    assert all(b.training for b in bns)
    net.eval()
    assert not any(b.training for b in bns)
    net.train()
    assert all(b.training for b in bns)


# --- Sequential, training, determinism ---------------------------------------------------------
def test_params_and_grads_match_and_are_live():
    rng = np.random.default_rng(13)
    net = syllabus_net(rng)
    params = net.params()
    assert len(params) == 3 * 2 + 2 * 2
    out = net.forward(rng.normal(size=(5, 2)))
    net.backward(nn.mse_loss(out, np.zeros(5))[1])
    assert [p.shape for p in params] == [g.shape for g in net.grads()]
    params[0] -= 1.0           # in-place update reaches the layer
    assert net.layers[0].W is params[0]


def test_training_reduces_loss_and_learns_xor():
    from actlib import data
    rng = np.random.default_rng(14)
    X, y = data.xor(400, rng=rng, noise=0.2)
    net = nn.Sequential([nn.Dense(2, 8, "tanh", init="xavier_normal", rng=rng),
                         nn.Dense(8, 1, "sigmoid", init="xavier_normal", rng=rng)])
    first = None
    for _ in range(300):
        loss, grad = nn.binary_cross_entropy(net.forward(X), y)
        first = loss if first is None else first
        net.backward(grad)
        for p, g in zip(net.params(), net.grads()):
            p -= 1.0 * g
    assert loss < 0.5 * first
    assert np.mean((net.forward(X)[:, 0] > 0.5) == (y == 1)) > 0.95


def test_syllabus_network_trains_with_batchnorm():
    from actlib import data
    rng = np.random.default_rng(15)
    X, y = data.two_moons(256, rng=rng)
    net = syllabus_net(rng)
    losses = []
    for _ in range(100):
        loss, grad = nn.binary_cross_entropy(net.forward(X), y)
        losses.append(loss)
        net.backward(grad)
        for p, g in zip(net.params(), net.grads()):
            p -= 0.5 * g
    assert losses[-1] < 0.8 * losses[0]


def test_seeded_networks_are_identical():
    a = syllabus_net(np.random.default_rng(16))
    b = syllabus_net(np.random.default_rng(16))
    c = syllabus_net(np.random.default_rng(17))
    x = np.random.default_rng(0).normal(size=(4, 2))
    assert all(np.array_equal(p, q) for p, q in zip(a.params(), b.params()))
    assert np.array_equal(a.forward(x), b.forward(x))
    assert not np.array_equal(a.forward(x), c.forward(x))


def test_init_choices():
    rng = np.random.default_rng(18)
    assert np.all(nn.Dense(3, 4, init="zeros", rng=rng).W == 0)
    W = nn.Dense(400, 300, init=0.5, rng=rng).W
    assert abs(W.std() - 0.5) < 5 * 0.5 / math.sqrt(2 * W.size)
    W = nn.Dense(2, 2, init=lambda shape, rng=None: np.full(shape, 3.0), rng=rng).W
    assert np.all(W == 3.0)


# --- signal propagation -------------------------------------------------------------------------
def test_propagate_shapes():
    p = nn.propagate(4, 20, "tanh", "xavier_normal", rng=np.random.default_rng(19), n=30)
    assert p.depth == 4 and len(p.pre) == len(p.grads) == 4
    assert all(a.shape == (30, 20) for a in p.acts + p.grads)
    assert p.weight_grad_norms.shape == (4,) and len(p.act_stats()) == 4
    assert set(p.act_stats()[0]) == {"mean", "std", "saturated"}


def test_small_weights_shrink_activations_and_gradients():
    p = nn.propagate(10, 200, "tanh", 0.01, rng=np.random.default_rng(20), n=100)
    stds = [s["std"] for s in p.act_stats()]
    # each layer multiplies the scale by about 0.01·√200 ≈ 0.14, forward and backward
    assert stds[-1] < 1e-6 * stds[0]
    grad_stds = [s["std"] for s in p.grad_stats()]
    assert grad_stds[0] < 1e-6 * grad_stds[-1]
    # ∂L/∂W_l = a_{l-1}ᵀ δ_l: the shrinking forward and backward factors multiply to the same
    # tiny number at every layer, far below what Xavier gives
    good = nn.propagate(10, 200, "tanh", "xavier_normal", rng=np.random.default_rng(20), n=100)
    assert p.weight_grad_norms.max() < 1e-6 * good.weight_grad_norms.min()


def test_large_weights_saturate_tanh():
    p = nn.propagate(10, 200, "tanh", 1.0, rng=np.random.default_rng(21), n=100)
    assert min(s["saturated"] for s in p.act_stats()) > 0.8


@pytest.mark.parametrize("activation, init", [("relu", "he_normal"), ("selu", "lecun_normal")])
def test_matched_initialisers_keep_the_scale(activation, init):
    p = nn.propagate(15, 200, activation, init, rng=np.random.default_rng(22), n=100)
    second = [float(np.mean(z ** 2)) for z in p.pre]
    assert 0.2 < second[-1] / second[0] < 5.0


def test_xavier_keeps_tanh_out_of_both_failure_modes():
    """With Xavier, tanh's variance decays only slowly (about 1/(2·layer)), neither
    collapsing geometrically nor saturating."""
    p = nn.propagate(15, 200, "tanh", "xavier_normal", rng=np.random.default_rng(22), n=100)
    assert p.act_stats()[-1]["std"] > 0.1
    assert max(s["saturated"] for s in p.act_stats()) < 0.05
    assert 0.01 < p.weight_grad_norms.min() / p.weight_grad_norms.max()


def test_selu_with_lecun_is_self_normalising():
    p = nn.propagate(20, 300, "selu", "lecun_normal", rng=np.random.default_rng(23), n=100)
    last = p.acts[-1]
    assert abs(last.mean()) < 0.1 and abs(last.var() - 1.0) < 0.15


def test_mismatched_initialiser_drifts():
    """Xavier with ReLU (half He's variance) halves the second moment at every layer."""
    p = nn.propagate(15, 200, "relu", "xavier_normal", rng=np.random.default_rng(24), n=100)
    second = [float(np.mean(z ** 2)) for z in p.pre]
    assert second[-1] / second[0] < 1e-3


def test_saturated_fraction_definitions():
    z = np.linspace(-6, 6, 10001)
    t = np.tanh(z)
    assert nn.saturated_fraction(z, "tanh") == pytest.approx(np.mean(1 - t ** 2 <= 0.05),
                                                             abs=1e-12)
    assert nn.saturated_fraction(z, "relu") == pytest.approx(np.mean(z <= 0), abs=1e-12)
    s = 1 / (1 + np.exp(-z))
    assert nn.saturated_fraction(z, "sigmoid") == pytest.approx(
        np.mean(s * (1 - s) <= 0.05 * 0.25), abs=1e-3)
    with pytest.raises(ValueError, match="elementwise"):
        nn.saturated_fraction(np.zeros((2, 3)), "softmax")


# --- errors --------------------------------------------------------------------------------------
def test_error_messages():
    rng = np.random.default_rng(25)
    layer = nn.Dense(3, 2, rng=rng)
    with pytest.raises(ValueError, match=r"\(batch, 3\).*\(4, 5\)"):
        layer.forward(np.ones((4, 5)))
    with pytest.raises(RuntimeError, match="before forward"):
        nn.Dense(3, 2, rng=rng).backward(np.ones((1, 2)))
    with pytest.raises(ValueError, match="relu"):
        nn.Dense(3, 2, activation="rleu")
    with pytest.raises(ValueError, match="he_normal"):
        nn.Dense(3, 2, init="kaiming")
    with pytest.raises(ValueError, match="fan_in"):
        nn.Dense(0, 2)
    with pytest.raises(ValueError, match="at least 2"):
        nn.BatchNorm(3).forward(np.ones((1, 3)))
    with pytest.raises(ValueError, match="momentum"):
        nn.BatchNorm(3, momentum=1.5)
    with pytest.raises(ValueError, match="shape"):
        nn.mse_loss(np.ones((3, 2)), np.ones(3))
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        nn.softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match="integers"):
        nn.softmax_cross_entropy(np.zeros((2, 3)), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="probabilities"):
        nn.binary_cross_entropy(np.array([1.5]), np.array([1.0]))
    with pytest.raises(TypeError, match="layer"):
        nn.Sequential([nn.Dense(2, 2), "relu"])


def _mse_without_mean(pred, target):
    """Wrong: the gradient forgets the 1/N of the mean."""
    loss, grad = nn.mse_loss(pred, target)
    return loss, grad * np.size(pred)


def test_gradient_check_catches_wrong_loss_gradient():
    rng = np.random.default_rng(26)
    layer = randomise_biases(nn.Dense(3, 2, "tanh", rng=rng), rng)
    x, t = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    assert nn.gradient_check(layer, x, t, loss=nn.mse_loss) < TOL
    assert nn.gradient_check(layer, x, t, loss=_mse_without_mean) > 0.5


def test_benchmark_quick_smoke(capsys):
    """tools/bench_network.py --quick runs, prints its table and both versions agree."""
    import importlib.util
    import pathlib
    path = pathlib.Path(__file__).resolve().parents[1] / "tools" / "bench_network.py"
    spec = importlib.util.spec_from_file_location("bench_network", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.main(["--quick", "--samples", "3000"]) == 0
    out = capsys.readouterr().out
    assert "actlib.nn" in out and "plain NumPy (floor)" in out and "ratio" in out


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "selu", "softplus", "softmax"])
def test_extreme_inputs_raise_no_floating_point_error(name):
    rng = np.random.default_rng(27)
    net = nn.Sequential([nn.Dense(3, 4, name, init=1.0, rng=rng), nn.BatchNorm(4),
                         nn.Dense(4, 2, "linear", rng=rng)])
    x = np.array([[1000.0, -1000.0, 30.0], [-745.0, 745.0, 0.0], [1e-8, -30.0, 1000.0]])
    # underflow of a product of tiny numbers is the correctly rounded result, not an error
    # (NumPy ignores it by default); overflow, invalid and divide-by-zero must not occur
    with np.errstate(all="raise", under="ignore"):
        out = net.forward(x)
        loss, grad = nn.softmax_cross_entropy(out * 1e3, np.array([0, 1, 1]))
        gx = net.backward(grad)
    assert np.isfinite(loss) and np.all(np.isfinite(gx))
    assert all(np.all(np.isfinite(g)) for g in net.grads())


def test_signal_plots_have_titles_labels_and_stats_legends():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from actlib import plots
    prop = nn.propagate(8, 30, "tanh", 1.0, rng=np.random.default_rng(28), n=20)
    ax_a, ax_g = plots.plot_signal(prop)
    for ax in (ax_a, ax_g):
        assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    labels = [t.get_text() for t in ax_a.get_legend().get_texts()]
    assert len(labels) == 6 and labels[0].startswith("layer 1: mean")
    assert all("std" in t and "% saturated" in t for t in labels)
    ax = plots.plot_grad_norms({"a": prop.weight_grad_norms, "b": prop.weight_grad_norms * 2})
    assert ax.get_yscale() == "log" and len(ax.get_legend().get_texts()) == 2
    plots.plot_signal(nn.propagate(3, 10, "relu", "he_normal", rng=np.random.default_rng(1), n=5),
                      logy=True)
    plt.close("all")


def test_dead_units_are_those_never_active_on_any_input():
    X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    W = np.array([[1.0, -1.0, 0.0], [1.0, -1.0, 0.0]])
    b = np.array([0.0, 0.5, 0.0])          # unit 1 reaches exactly 0.5 - 1 = -0.5 at most; unit 2 is 0
    np.testing.assert_array_equal(nn.dead_unit_mask(X, W, b), [False, True, True])
    assert nn.dead_unit_fraction(X, W, b) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match=r"X \(3, 2\) and W \(3, 3\)"):
        nn.dead_unit_mask(X, np.ones((3, 3)), b)
