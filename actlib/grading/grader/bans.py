"""What each exercise may not call: the course's own implementation of what it asks for.

Each lesson imports the course's reference implementations (``activations``, ``init``,
``optim``, ...) so that the lesson can teach with them — which puts the answer to many
exercises one call away. While an exercise's checks run the student's code, and while the
exercise's answer cell runs, the course's implementations of what that exercise asks the
student to write are unavailable: a call to one fails the exercise with a message that names
the exercise and the call, e.g. "Exercise 3.5 asks you to write the sigmoid:
`activations.sigmoid` is not available inside `sigmoid_stable`". What an exercise allows is
stated in its text (a test checks that the text names every ban).

How it works: the exercise's checks call the student's code in a *check kernel* whose view of
the course (`actlib.grading.grader.views`) has every Python function behind a banned name
rewritten, at the source level, into a stub that raises — the registry object's value or
gradient function and the private helpers that compute it (``softplus.grad`` is the sigmoid's
kernel), or every method of a banned class — and in which the library modules the exercise's
text forbids (``libraries``: ``scipy.special``, ``sklearn.neural_network``...) cannot be
imported. The original code is not in that process or on its disk, so no alias, reload,
fresh copy of the module, saved code object or patched ban can bring it back. The kernel
reports the banned names its code reached only as a hint: the grader adds this module's
message for them, and a student who hides the report only keeps a failing answer.

What this does not stop: a student who copies the library's source text into the answer (or
execs it) has written the answer out by hand; that is copying, for a plagiarism review, not a
call the runtime can refuse.

`BANS` is the course's table, read in the grader's process (the student's copy of this module
is never consulted for what is banned): ``{assignment: {answer grade id: Ban}}``.
"""
import importlib
import types
from dataclasses import dataclass

__all__ = ["Ban", "BANS", "answer_of", "ban_for", "failure", "resolve", "functions_behind",
           "bans_of"]


@dataclass(frozen=True)
class Ban:
    """Exercise ``exercise`` asks the student to write ``asks``; ``unavailable`` are the
    course's names (as the lesson writes them) that may not be called meanwhile."""

    exercise: str
    asks: str
    unavailable: tuple
    libraries: tuple = ()

    def message(self, name, inside):
        """The failure message of a check whose student code ``inside`` reached ``name``."""
        what = "the library" if name in self.libraries else ""
        return failure(f"Exercise {self.exercise} asks you to write {self.asks}: "
                       f"{what + ' ' if what else ''}`{name}` is not available inside {inside}")


def _ban(exercise, asks, *names, libraries=()):
    return Ban(exercise, asks, tuple(names), tuple(libraries))


# every optimiser class of actlib.optim: an exercise that asks for a step or a loop bans them all
OPTIMISERS = ("optim.SGD", "optim.Adagrad", "optim.RMSprop", "optim.Adam", "optim.AdamW")
# libraries that compute what an exercise asks: SciPy's special functions (expit, log_expit,
# softmax, log_softmax, logsumexp, logit) and scikit-learn's networks and their optimisers
SPECIAL = ("scipy.special",)
NETWORKS = ("sklearn.neural_network",)

BANS = {
    "01-neuron": {
        "neuron": _ban("1.1", "the neuron", "nrn.neuron"),
        "step": _ban("1.2", "the unipolar step", "activations.heaviside",
                     "activations.bipolar_step"),
        "collapse": _ban("1.3", "the collapse of two linear layers", "nrn.collapse_linear"),
    },
    "02-training": {
        "neuron_grad": _ban("2.2", "the cross-entropy gradient", "nn.binary_cross_entropy",
                            "nn.Dense"),
        "numeric_grad_W": _ban("2.3", "a gradient check", "nn.gradient_check", "nn.Dense"),
        "dense_backward": _ban("2.4", "a dense layer's backward pass", "nn.Dense",
                               "nn.gradient_check", "nn.Sequential", "nn.Activation",
                               "nn.BatchNorm"),
        "train_two_layer": _ban("2.5", "the training loop", "nn.Dense", "nn.Sequential",
                                "nn.Activation", "nn.BatchNorm", "nn.binary_cross_entropy",
                                "nn.mse_loss", "nn.softmax_cross_entropy", "nn.gradient_check",
                                *OPTIMISERS,
            libraries=NETWORKS),
    },
    "03-sigmoid-tanh": {
        "sigmoid_naive": _ban("3.1", "the sigmoid", "activations.sigmoid",
            libraries=SPECIAL),
        "sigmoid_grad": _ban("3.2", "the sigmoid's derivative", "activations.sigmoid.grad",
                             "activations.tanh.grad"),
        "sigmoid_stable": _ban("3.5", "the sigmoid", "activations.sigmoid",
                               "activations.softplus.grad", "activations.silu",
            libraries=SPECIAL),
        "tanh_from_sigmoid": _ban("3.6", "tanh", "activations.tanh"),
    },
    "04-relu-family": {
        "relu": _ban("4.1", "ReLU", "activations.relu", "activations.leaky_relu",
                     "activations.prelu", "activations.elu"),
        "relu_grad": _ban("4.2", "ReLU's derivative", "activations.relu.grad",
                          "activations.leaky_relu.grad", "activations.prelu.grad",
                          "activations.heaviside"),
        "dead_fraction": _ban("4.4", "the dead-unit count", "nn.dead_unit_fraction",
                              "nn.dead_unit_mask"),
        "leaky_relu": _ban("4.5", "leaky ReLU", "activations.leaky_relu", "activations.prelu"),
        "prelu_alpha_grad": _ban("4.6", "PReLU's gradient in alpha",
                                 "activations.prelu_grad_alpha", "activations.prelu.grad",
                                 "activations.prelu"),
        "elu": _ban("4.7", "ELU", "activations.elu", "activations.selu"),
    },
    "05-smooth-activations": {
        "softplus_stable": _ban("5.1", "softplus", "A.softplus", "A.mish",
            libraries=SPECIAL),
        "softplus_grad_from_output": _ban("5.2", "softplus' derivative", "A.sigmoid",
                                          "A.softplus.grad",
            libraries=SPECIAL),
        "gelu_exact": _ban("5.4", "the exact GELU", "A.gelu"),
    },
    "06-softmax": {
        "softmax_stable": _ban("6.1", "softmax", "A.softmax", "A.log_softmax",
            libraries=SPECIAL),
        "log_softmax": _ban("6.2", "log-softmax", "A.log_softmax", "A.softmax",
            libraries=SPECIAL),
        "softmax_jacobian": _ban("6.3", "the softmax Jacobian", "A.softmax.grad"),
        "predict_labels": _ban("6.5", "multi-label prediction without a sigmoid", "A.sigmoid",
            libraries=SPECIAL),
    },
    "07-symbolic": {
        "quotient_rule": _ban("7.1", "the quotient rule", "sym.quotient_rule_steps",
                              "sym.sigmoid_derivative_steps", "sym.tanh_derivative_steps"),
        "elu_prime": _ban("7.3", "ELU's derivative", "sym.elu_expr", "sym.selu_expr",
                          "sym.symbolic_derivative", "sym.derivative_table"),
        "softmax_jacobian_formula": _ban("7.4", "the log-softmax Jacobian in terms of the outputs",
                                         "sym.softmax_jacobian"),
        "logistic_quarter": _ban("7.5", "the logistic curve through y(0) = 1/4",
                                 "sym.logistic_ode_solution"),
        "k_taylor": _ban("7.6", "the Taylor coefficient", "sym.gelu_coefficient_taylor"),
        "k_minimax": _ban("7.7", "the minimax fit", "sym.gelu_coefficient_fit",
                          "sym.cdf_tanh_error"),
        "selu_parameters": _ban("7.8", "SELU's constants from the fixed-point conditions",
                                "sym.selu_constants", "sym.selu_moment_equations",
                                "activations.selu"),
    },
    "08-initialisation": {
        "xavier_uniform_init": _ban("8.2", "Xavier's uniform initialiser", "nn.Dense",
                                    "init.zeros", "init.constant", "init.normal", "init.uniform", "init.xavier_normal",
                    "init.xavier_uniform", "init.he_normal", "init.he_uniform", "init.lecun_normal"),
        "he_normal_init": _ban("8.3", "He's normal initialiser", "nn.Dense",
                               "init.zeros", "init.constant", "init.normal", "init.uniform", "init.xavier_normal",
                    "init.xavier_uniform", "init.he_normal", "init.he_uniform", "init.lecun_normal"),
        "standardise": _ban("8.4", "standardisation", "data.standardise"),
        "batchnorm_forward": _ban("8.5", "batch normalisation", "nn.BatchNorm"),
        "batchnorm_backward": _ban("8.6", "batch normalisation's backward pass", "nn.BatchNorm"),
        "batchnorm_layer": _ban("8.7", "batch normalisation's running statistics and evaluation mode",
                                "nn.BatchNorm"),
    },
    "09-gradient-descent": {
        "ewma": _ban("9.1", "the moving average", "optim.ewma"),
        "minibatch_epoch": _ban("9.2", "an epoch of mini-batch gradient descent", "data.minibatches",
                                "surfaces.train", "surfaces.run", "surfaces.LinearRegression",
                                *OPTIMISERS,
            libraries=NETWORKS),
        "cost_to_reach": _ban("9.3", "the measurement of epochs and updates to a target loss",
                              "surfaces.train", "surfaces.run", "surfaces.LinearRegression",
                              "data.minibatches", *OPTIMISERS,
            libraries=NETWORKS),
        "momentum_step": _ban("9.4", "a momentum step", *OPTIMISERS,
            libraries=NETWORKS),
        "epochs_to_converge": _ban("9.5", "the training loop and its convergence counter",
                                   *OPTIMISERS, "surfaces.run",
                                   "surfaces.train", "surfaces.converged_at",
                                   "surfaces.LinearRegression",
            libraries=NETWORKS),
        "nesterov_step": _ban("9.6", "a Nesterov step", *OPTIMISERS,
            libraries=NETWORKS),
        "heavy_ball": _ban("9.7", "the heavy-ball constants", "optim.heavy_ball_optimal"),
    },
    "10-adaptive-optimisers": {
        "adagrad_step": _ban("10.1", "an Adagrad step", *OPTIMISERS,
            libraries=NETWORKS),
        "rmsprop_step": _ban("10.3", "an RMSprop step", *OPTIMISERS,
            libraries=NETWORKS),
        "adam_step": _ban("10.4", "an Adam step", *OPTIMISERS,
            libraries=NETWORKS),
        "warmup_cosine": _ban("10.5", "the warm-up and cosine schedule", "schedules.step_decay",
                              "schedules.exponential", "schedules.cosine", "schedules.warmup",
                              "schedules.inverse_sqrt", "schedules.rates"),
        "adamw_step": _ban("10.6", "an AdamW step", *OPTIMISERS,
            libraries=NETWORKS),
        "clip_by_global_norm": _ban("10.7", "clipping by the global norm", "optim.clip_grad_norm"),
    },
    # lesson 11, making a network train
    "11-making-it-train": {
        "predicted_initial_loss": _ban("11.1", "the predicted initial loss",
                                       "diagnostics.predicted_initial_loss"),
        "steps_to_memorise": _ban("11.3", "the tiny-batch test", "diagnostics.steps_to_memorise"),
        "lr_range_test": _ban("11.4", "the learning-rate range test", "diagnostics.lr_range_test"),
        "update_to_data": _ban("11.5", "the update-to-data ratios", "diagnostics.update_to_data"),
        "layer_norm_backward": _ban("11.6", "layer normalisation's backward pass", "nn.LayerNorm",
                                    "nn.BatchNorm"),
        "early_stopping": _ban("11.7", "early stopping", "diagnostics.early_stopping"),
    },
    "12-capstone": {
        "init_params": _ban("12.1", "He initialisation", "init.he_normal"),
        "cross_entropy": _ban("12.2", "softmax cross-entropy and its gradient",
                              "nn.softmax_cross_entropy", "activations.softmax",
                              "activations.log_softmax",
            libraries=SPECIAL),
        "forward": _ban("12.3", "the network's forward pass", "nn.Dense", "nn.Sequential",
                        "activations.relu", "activations.tanh"),
        "backward": _ban("12.4", "the network's backward pass", "nn.Dense", "nn.Sequential",
                         "activations.relu.grad", "activations.tanh.grad"),
        "minibatch_indices": _ban("12.5", "the mini-batch partition", "data.minibatches"),
        "momentum_update": _ban("12.6", "a momentum update", "optim.SGD",
            libraries=NETWORKS),
        "adam_update": _ban("12.7", "an Adam update", "optim.Adam", "optim.AdamW",
            libraries=NETWORKS),
        "train": _ban("12.8", "the training loop with your parts", "nn.Sequential",
            libraries=NETWORKS),
    },
}


def answer_of(grade_id):
    """The answer cell a test cell checks, by the course's naming (``test_<answer>_visible``
    / ``test_<answer>_hidden``), or None."""
    for suffix in ("_visible", "_hidden"):
        if grade_id.startswith("test_") and grade_id.endswith(suffix):
            return grade_id[len("test_"):-len(suffix)]
    return None


def ban_for(assignment, grade_id):
    """The ban of the exercise a cell belongs to: its answer cell (``grade_id``) or one of its
    test cells (``test_<answer>_visible`` / ``test_<answer>_hidden``); None when there is none."""
    table = BANS.get(assignment, {})
    return table.get(grade_id) or table.get(answer_of(grade_id))


def bans_of(assignment):
    """The bans of an assignment's exercises, in exercise order."""
    return list(BANS.get(assignment, {}).values())


def failure(refused):
    """The failure message of a check whose student code made the refused call ``refused``."""
    return (f"{refused}. Write it yourself: the exercise's text says which course functions "
            f"it may use.")


# ------------------------------------------------------------------------------ what a name stands for

# How the lessons name the course's modules (``from actlib import activations as A`` ...).
MODULES = {"A": "actlib.activations", "activations": "actlib.activations",
           "nrn": "actlib.neuron", "neuron": "actlib.neuron",
           "sym": "actlib.symbolic", "symbolic": "actlib.symbolic",
           "init": "actlib.init", "nn": "actlib.nn", "data": "actlib.data",
           "optim": "actlib.optim", "schedules": "actlib.schedules", "surfaces": "actlib.surfaces",
           "sp": "sympy", "diagnostics": "actlib.diagnostics"}

# Helpers every activation goes through: never banned (they compute nothing of their own).
_SHARED = {"_two_prod", "_two_sum", "_split", "_as_input", "_finish", "_elementwise", "_check_param", "_native32", "_whole",
           "_check_axis", "_bind", "_evaluate", "_number", "_check_lists", "_positive_int",
           "_batch", "_resolve_activation", "_resolve_init", "_scale", "as_generator", "fans",
           "_same_shape", "_count", "_noise"}


def resolve(name):
    """The course object a ban's name stands for (``"activations.sigmoid.grad"`` ...)."""
    head, *rest = name.split(".")
    if head not in MODULES:
        raise ValueError(f"ban name {name!r} must start with one of {sorted(MODULES)}")
    obj = importlib.import_module(MODULES[head])
    for attr in rest:
        obj = getattr(obj, attr)
    return obj


def _reached(fn, seen, root=False):
    """``fn`` and the module's private functions it reaches by name or closure (a named
    function of any library; what it reaches, only within actlib)."""
    if not isinstance(fn, types.FunctionType) or fn in seen or fn.__name__ in _SHARED \
            or not (root or str(getattr(fn, "__module__", "")).startswith("actlib.")):
        return
    seen.append(fn)
    codes = [fn.__code__]
    while codes:
        code = codes.pop()
        codes.extend(c for c in code.co_consts if isinstance(c, types.CodeType))
        for name in code.co_names:
            target = fn.__globals__.get(name)
            if isinstance(target, types.FunctionType) and name.startswith("_"):
                _reached(target, seen)
    for cell in fn.__closure__ or ():
        try:
            _reached(cell.cell_contents, seen)
        except ValueError:       # an empty cell
            pass


def functions_behind(obj):
    """The Python functions that compute what ``obj`` computes (see the module's text)."""
    from actlib.activations import Activation

    seen = []
    if isinstance(obj, Activation):
        _reached(obj._value, seen)
    elif isinstance(obj, types.MethodType) and isinstance(obj.__self__, Activation) \
            and obj.__func__ is Activation.grad:
        _reached(obj.__self__._grad, seen)
        value = []                 # the value stays available: keep what it shares
        _reached(obj.__self__._value, value)
        seen = [fn for fn in seen if fn not in value]
    elif isinstance(obj, type):
        for member in vars(obj).values():
            member = getattr(member, "__func__", member)
            if isinstance(member, property):
                for part in (member.fget, member.fset):
                    _reached(part, seen, root=True)
            else:
                _reached(member, seen, root=True)
    elif isinstance(obj, types.MethodType):
        _reached(obj.__func__, seen, root=True)
    elif callable(getattr(obj, "cache_clear", None)) and hasattr(obj, "__wrapped__"):
        obj.cache_clear()          # a cached result would answer without a call
        _reached(obj.__wrapped__, seen, root=True)
    else:
        _reached(obj, seen, root=True)
    return seen
