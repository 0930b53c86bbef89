"""actlib: the helper library of the activation-functions course.

The reference implementation the exercises are checked against, one module per concept:

- `activations`  every activation and its derivative; the registry (`get`, `names`, `table`)
- `symbolic`     SymPy forms and derivations
- `symcheck`     grading answers that are SymPy expressions
- `neuron`       the single neuron, XOR and the perceptron (lesson 1)
- `init`         weight initialisers (zeros … lecun_normal), all ``(shape, rng=None)``
- `nn`           the tiny NumPy network: dense layers, batch norm, losses, gradient check
- `data`         toy data sets made in code
- `optim`        SGD (momentum, Nesterov), Adagrad, RMSprop, Adam; moving averages
- `optimcheck`   grading optimiser steps; naming the convention mix-up behind a wrong one
- `surfaces`     loss surfaces with value and gradient
- `plots`        plot helpers (always a title, axis labels and a legend where lines compare)
- `widgets`      ipywidgets explorers over the pure functions above
- `checks`       what the notebooks' test cells call
- `grading`      the course's nbgrader preprocessors

Submodules are imported on first use (``from actlib import activations`` or
``actlib.activations``), so importing the package itself stays cheap.
"""
import importlib

__all__ = ["activations", "symbolic", "symcheck", "neuron", "init", "nn", "data", "optim", "optimcheck", "surfaces",
           "plots", "widgets", "checks", "grading"]


def __getattr__(name):
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'actlib' has no attribute {name!r}; "
                         f"its modules are {', '.join(__all__)}")


def __dir__():
    return sorted(__all__)
