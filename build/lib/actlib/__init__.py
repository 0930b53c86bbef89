"""actlib: the helper library of the activation-functions course.

The reference implementation the exercises are checked against, one module per concept:

- `activations`  every activation and its derivative; the registry (`get`, `names`, `table`)
- `symbolic`     SymPy forms and derivations
- `neuron`       the single neuron, XOR and the perceptron (lesson 1)
- `init`         weight initialisers (zeros … lecun_normal), all ``(shape, rng=None)``
- `nn`           the tiny NumPy network: dense layers, batch norm, losses, gradient check
- `data`         toy data sets made in code
- `optim`        SGD (momentum, Nesterov), Adagrad, RMSprop, Adam; moving averages
- `surfaces`     loss surfaces with value and gradient
- `plots`        plot helpers (always a title, axis labels and a legend where lines compare)
- `widgets`      ipywidgets explorers over the pure functions above
- `grading`      the grading machinery, a room of its own (see `actlib.grading`)

Submodules are imported on first use (``from actlib import activations`` or
``actlib.activations``), so importing the package itself stays cheap.
"""
import importlib

__all__ = ["activations", "symbolic", "neuron", "init", "nn", "data", "optim", "surfaces",
           "plots", "widgets", "grading"]


def __getattr__(name):
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'actlib' has no attribute {name!r}; "
                         f"its modules are {', '.join(__all__)}")


def __dir__():
    return sorted(__all__)
