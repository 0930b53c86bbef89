"""Tests of the lesson-1 neuron helpers (actlib.neuron)."""
import numpy as np
import pytest

from actlib import activations, neuron as nrn


def test_neuron_matches_the_weighted_sum_for_one_input_and_a_batch():
    rng = np.random.default_rng(1)
    X, w, b = rng.normal(size=(6, 3)), rng.normal(size=3), 0.7
    expected = np.tanh(np.array([sum(wi * xi for wi, xi in zip(w, x)) + b for x in X]))
    np.testing.assert_allclose(nrn.neuron(X, w, b, np.tanh), expected, rtol=1e-14)
    np.testing.assert_allclose(nrn.neuron(X[2], w, b, np.tanh), expected[2], rtol=1e-14)
    assert nrn.neuron([1.0, 3.0], [2.0, -1.0], 0.5, activations.relu) == 0.0


def test_neuron_rejects_mismatched_shapes_with_a_clear_message():
    with pytest.raises(ValueError, match="3 features|w has"):
        nrn.neuron(np.ones(3), np.ones(2), 0.0, np.tanh)
    with pytest.raises(ValueError, match="1-D"):
        nrn.neuron(np.ones(2), np.ones((2, 1)), 0.0, np.tanh)


def test_perceptron_learns_and_or_but_never_xor():
    X, y_xor = nrn.xor_data()
    for y in (np.array([0, 0, 0, 1]), np.array([0, 1, 1, 1])):       # AND, OR
        _, _, accuracy = nrn.perceptron_fit(X, y, epochs=20)
        assert accuracy[-1] == 1.0
    _, _, accuracy = nrn.perceptron_fit(X, y_xor, epochs=200)
    assert accuracy.max() <= 0.75                                      # at most 3 of 4
    with pytest.raises(ValueError, match="learning_rate"):
        nrn.perceptron_fit(X, y_xor, learning_rate=-1.0)


def test_two_linear_layers_collapse_into_one():
    rng = np.random.default_rng(2)
    W1, b1, W2, b2 = rng.normal(size=(4, 3)), rng.normal(size=4), rng.normal(size=(2, 4)), rng.normal(size=2)
    W, b = nrn.collapse_linear(W1, b1, W2, b2)
    for x in rng.normal(size=(5, 3)):
        np.testing.assert_allclose(W @ x + b, W2 @ (W1 @ x + b1) + b2, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="W2 takes"):
        nrn.collapse_linear(W1, b1, rng.normal(size=(2, 5)), b2)


def test_hidden_layer_solves_xor_and_the_oscillating_neuron_too():
    X, y = nrn.xor_data()
    W1, b1 = np.array([[1.0, 1.0], [1.0, 1.0]]), np.array([-0.5, -1.5])
    pred = nrn.two_layer(X, W1, b1, np.array([1.0, -2.0]), -0.5, activations.heaviside)
    np.testing.assert_array_equal(pred, y)
    # lesson 1's convention: one row per hidden unit, W1 of shape (k, d), h = g(W1 x + b1)
    W1 = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])      # 3 hidden units, 2 inputs
    pred = nrn.two_layer(X, W1, np.array([0.0, 0.0, -1.5]), np.array([1.0, 1.0, -2.0]), -0.5,
                         activations.heaviside)
    np.testing.assert_array_equal(pred, y)
    a = nrn.neuron(X, np.array([-np.pi, -np.pi]), 0.0, lambda z: z * np.cos(z))
    np.testing.assert_array_equal((a > 1).astype(int), y)
