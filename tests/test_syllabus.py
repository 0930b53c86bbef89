"""Every syllabus bullet is taught somewhere: a map from each bullet to a lesson and the words
that lesson must contain, checked against the master notebooks.

The map (`COVERAGE`) is the course's table of where each point is taught; it has one entry per
bullet of the syllabus, in order. When the project's syllabus (``../shared/syllabus.md`` beside
the repository, where the developers keep it) is present, its bullets are counted too, so a
bullet added there without a lesson that teaches it fails here.
"""
import re

import nbformat
import pytest

from coursetools import ROOT, notebook_names

SYLLABUS = ROOT.parent / "shared" / "syllabus.md"

# (section, lesson, words the lesson must contain — case-insensitive), one row per bullet.
COVERAGE = [
    # 1. The artificial neuron and why activations exist
    (1, "01-neuron", ["weighted", "bias", "transfer", "pre-activation"]),
    (1, "01-neuron", ["linear regression", "collapse", "two linear layers"]),
    (1, "01-neuron", ["unbounded regression", "[-100, 100]"]),
    (1, "01-neuron", ["piecewise linear", "counterexample", "additiv"]),
    (1, "01-neuron", ["XOR", "linearly separable", "hidden layer", r"z\cos z"]),
    (1, "01-neuron", ["ridge", "radial", "folding", "max-pooling", "Gaussian"]),
    (1, "01-neuron", ["range", "monotonic", "smooth", "zero-centred", "saturates", "cost"]),
    # 2. Threshold (step) functions
    (2, "01-neuron", ["fires", "threshold", "not fired"]),
    (2, "01-neuron", ["unipolar", "bipolar", "sign"]),
    (2, "01-neuron", ["cannot be trained", "zero", "does not exist"]),
    # 3. Sigmoid and tanh
    (3, "03-sigmoid-tanh", ["S-shaped", "(0, 1)", "probability"]),
    (3, "03-sigmoid-tanh", ["quotient rule", "σ(1 − σ)"]),
    (3, "03-sigmoid-tanh", ["0.25", "saturat"]),
    (3, "07-symbolic", ["logistic", "dsolve", "y(1 - y)"]),
    (3, "06-softmax", ["two logits", "sigmoid"]),
    (3, "03-sigmoid-tanh", ["zero-centred", "vanishing", "depth"]),
    (3, "03-sigmoid-tanh", ["initial weights", "saturated"]),
    (3, "03-sigmoid-tanh", [r"2\sigma(2z) - 1", "(-1, 1)", r"1 - \tanh^2"]),
    (3, "03-sigmoid-tanh", ["overflow", "stable"]),
    # 4. ReLU and its family
    (4, "04-relu-family", ["ramp", "half-wave", "Hahnloser", "2011", "CNN"]),
    (4, "04-relu-family", ["sparse", "exactly 0", "1–4"]),
    (4, "04-relu-family", ["dying", "dead", "never recover"]),
    (4, "04-relu-family", ["leaky", "0.01"]),
    (4, "04-relu-family", ["PReLU", "learned"]),
    (4, "04-relu-family", ["ELU", "e^z - 1"]),
    (4, "04-relu-family", ["SELU", "1.6732632423543772848170429916717",
                           "1.0507009873554804934193349852946", "LeCun"]),
    # 5. Smooth modern activations
    (5, "05-smooth-activations", ["GELU", "erf", "standard normal"]),
    (5, "05-smooth-activations", ["0.044715", "tanh approximation"]),
    (5, "05-smooth-activations", ["SiLU", "Swish", "custom activation"]),
    (5, "05-smooth-activations", ["Mish", "softplus", "smooth ReLU"]),
    (5, "05-smooth-activations", ["non-monotonic", "oscillat"]),
    (5, "05-smooth-activations", ["vanishing gradient", "dying ReLU", "self-normalising"]),
    # 6. Output layers: softmax and friends
    (6, "06-softmax", ["AlexNet", "sums to 1"]),
    (6, "06-softmax", ["mutually exclusive", "multi-label", "independent sigmoid"]),
    (6, "06-softmax", ["max", "log-sum-exp"]),
    (6, "06-softmax", ["Jacobian", r"s_i(\delta_{ij} - s_j)"]),
    (6, "06-softmax", ["regression", "linear"]),
    # 7. Symbolic derivation with SymPy
    (7, "07-symbolic", ["every activation", "quotient rule", "lambdify"]),
    (7, "07-symbolic", ["2σ(2x) − 1", "softplus", "ELU"]),
    (7, "07-symbolic", ["dsolve"]),
    (7, "07-symbolic", ["series", "minimax", "0.044715"]),
    (7, "07-symbolic", ["SELU", "fixed point", "variance 1"]),
    # 8. Training loop, weight initialisation and normalisation
    (8, "02-training", ["initialise", "optimiser", "forward pass", "cost", "backprop", "chain rule", "update"]),
    (8, "08-initialisation", ["zero", "constant", "identical", "symmetr"]),
    (8, "08-initialisation", ["500", "histogram", "vanish", "explod"]),
    (8, "08-initialisation", ["Xavier", "Glorot", "He", "Kaiming", "LeCun"]),
    (8, "08-initialisation", ["mean 0", "standard deviation 1"]),
    (8, "08-initialisation", ["batch normalisation", "γ", "β", "covariate shift", "BatchNormalization",
                              "running statistics", "evaluation mode"]),
    # 9. Optimisers
    (9, "09-gradient-descent", ["moving average", "bias correction", "1/(1 − β)"]),
    (9, "09-gradient-descent", ["stochastic", "mini-batch"]),
    (9, "09-gradient-descent", ["momentum", "0.5", "0.8", "0.9", "epochs"]),
    (9, "09-gradient-descent", ["Nesterov", "look-ahead"]),
    (9, "10-adaptive-optimisers", ["Adagrad", "RMSProp", "Adam", "sparse"]),
    (9, "09-gradient-descent", ["SGD(learning_rate=0.01, momentum=0.0, nesterov=False)"]),
    (9, "10-adaptive-optimisers", ["convex", "non-convex", "cos(", "log(", "x^2 + y^2"]),
    (9, "09-gradient-descent", ["model line", "true_line", "contour", "plot_training_frame", "training_player"]),
]


# Lessons that go beyond the syllabus's bullets, with the words each must contain: lesson 11
# (course issue 20) teaches the checks made before and during training.
BEYOND_SYLLABUS = [
    ("11-making-it-train", ["ln K", "initialisation", "tiny batch", "range test",
                            "saturated", "dead", "update-to-data", "5/3", "kaiming_uniform_",
                            "glorot_uniform", "layer normalisation", "running statistics",
                            "early stopping", "AdamW", "validation"]),
]

def lesson_text(assignment):
    parts = []
    for name in notebook_names(assignment):
        nb = nbformat.read(str(ROOT / "source" / assignment / f"{name}.ipynb"), as_version=4)
        parts.extend(cell.source for cell in nb.cells)
    return "\n".join(parts).lower()


@pytest.mark.parametrize("section,lesson,words", COVERAGE,
                         ids=[f"{s}.{i}-{lesson}" for i, (s, lesson, _) in enumerate(COVERAGE)])
def test_bullet_is_taught(section, lesson, words):
    text = lesson_text(lesson)
    missing = [w for w in words if w.lower() not in text]
    assert not missing, f"syllabus section {section}: {lesson} does not mention {missing}"


def syllabus_bullets():
    counts, section = {}, None
    for line in SYLLABUS.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"## (\d+)\.", line)
        if heading:
            section = int(heading.group(1))
        elif line.startswith("- ") and section is not None:
            counts[section] = counts.get(section, 0) + 1
    return counts


@pytest.mark.skipif(not SYLLABUS.exists(), reason="the project's syllabus is kept beside the repo")
def test_map_has_one_row_per_syllabus_bullet():
    mapped = {}
    for section, _, _ in COVERAGE:
        mapped[section] = mapped.get(section, 0) + 1
    assert mapped == syllabus_bullets(), "the coverage map and the syllabus disagree"


@pytest.mark.parametrize("lesson,words", BEYOND_SYLLABUS, ids=[lesson for lesson, _ in BEYOND_SYLLABUS])
def test_lesson_beyond_the_syllabus_teaches_its_topics(lesson, words):
    text = lesson_text(lesson)
    missing = [w for w in words if w.lower() not in text]
    assert not missing, f"{lesson} does not mention {missing}"
