"""The artificial neuron of lesson 1: a weighted sum, a bias and an activation.

    z = w·x + b,        a = g(z)

plus the small experiments the lesson runs on it: XOR data, a perceptron (a single
linear-threshold unit trained by the perceptron rule) and the collapse of stacked linear
layers into one.
"""
import numpy as np

__all__ = ["neuron", "xor_data", "perceptron_fit", "collapse_linear", "two_layer"]


def neuron(x, w, b, g):
    """Output of one neuron, a = g(w·x + b).

    ``x`` is one input of shape (d,) or a batch of shape (n, d); ``w`` has shape (d,);
    ``b`` is a number; ``g`` any elementwise activation. Returns a number for one input and
    an array of shape (n,) for a batch.
    """
    x = np.asarray(x, dtype=float)
    w = np.asarray(w, dtype=float)
    if w.ndim != 1:
        raise ValueError(f"w must be a 1-D weight vector, got shape {w.shape}")
    if x.shape[-1:] != w.shape:
        raise ValueError(f"x has {x.shape[-1:]} features in its last axis but w has {w.shape}; "
                         f"pass x of shape (d,) or (n, d) with d = {w.shape[0]}")
    return g(x @ w + b)


def xor_data():
    """The four XOR points: X of shape (4, 2) and labels y = x₁ XOR x₂."""
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    return X, np.array([0, 1, 1, 0])


def perceptron_fit(X, y, epochs=100, learning_rate=1.0):
    """Train one linear-threshold unit with the perceptron rule.

    Prediction ŷ = 1 if w·x + b > 0 else 0; after each example
    w ← w + η (y − ŷ) x and b ← b + η (y − ŷ). Returns (w, b, accuracies per epoch).
    The rule converges when the classes are linearly separable and cycles forever when
    they are not (XOR).
    """
    if learning_rate <= 0:
        raise ValueError(f"learning_rate must be positive, got {learning_rate}")
    X = np.asarray(X, dtype=float)
    y = np.asarray(y)
    w, b = np.zeros(X.shape[1]), 0.0
    accuracy = []
    for _ in range(epochs):
        for xi, yi in zip(X, y):
            error = yi - float(xi @ w + b > 0)
            w, b = w + learning_rate * error * xi, b + learning_rate * error
        accuracy.append(float(np.mean((X @ w + b > 0) == y)))
    return w, b, np.array(accuracy)


def collapse_linear(W1, b1, W2, b2):
    """The single layer equal to two stacked linear layers.

    With layers x ↦ W₁x + b₁ and h ↦ W₂h + b₂ (W of shape (out, in)):
    W₂(W₁x + b₁) + b₂ = (W₂W₁)x + (W₂b₁ + b₂). Returns (W₂W₁, W₂b₁ + b₂).
    """
    W1, b1, W2, b2 = (np.asarray(a, dtype=float) for a in (W1, b1, W2, b2))
    if W2.shape[1] != W1.shape[0]:
        raise ValueError(f"W2 takes {W2.shape[1]} inputs but W1 gives {W1.shape[0]} outputs")
    return W2 @ W1, W2 @ b1 + b2


def two_layer(X, W1, b1, w2, b2, g):
    """A network with one hidden layer and a threshold output.

    Lesson 1's convention: a weight matrix has one row per unit, shape (outputs, inputs).
    W₁ has shape (k, d), row j holding hidden unit j's weights, so one input x gives
    h = g(W₁x + b₁) and a batch X of shape (n, d) gives h = g(X W₁ᵀ + b₁). Output 1 where
    h·w₂ + b₂ > 0, else 0.
    """
    h = g(np.asarray(X, dtype=float) @ np.asarray(W1, dtype=float).T
          + np.asarray(b1, dtype=float))
    return (h @ np.asarray(w2, dtype=float) + b2 > 0).astype(int)
