"""The grading machinery of the course, apart from what the lessons teach with.

- `checks`         what the notebooks' test cells call (compare results, name the input)
- `symcheck`       grading answers that are SymPy expressions
- `optimcheck`     grading optimiser steps; naming the convention mix-up behind a wrong one
- `preprocessors`  the course's nbgrader preprocessors (configured in ``nbgrader_config.py``)

Submodules are imported on first use, like the rest of `actlib`.
"""
import importlib

__all__ = ["checks", "symcheck", "optimcheck", "preprocessors"]


def __getattr__(name):
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'actlib.grading' has no attribute {name!r}; "
                         f"its modules are {', '.join(__all__)}")


def __dir__():
    return sorted(__all__)
