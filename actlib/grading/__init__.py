"""The grading machinery of the course, apart from what the lessons teach with.

Its layout is its trust boundary:

- `kernel/`   what runs inside the student's process while a submission is graded: the agent
              that answers the grader's requests with data. A student can change all of it;
              nothing in it decides a grade.
- `grader/`   what runs in the grader's process, where the student's code cannot reach: the
              nbgrader step that runs the submission (`execute`), the test cells' runner, the
              link to the kernel and the decoding of its replies (`remote`), the sandbox, the
              views of the course with an exercise's ban in force (`views`), the bans' table,
              and the parallel batch.
- `wire`      the data format both sides speak (plain data; no code crosses).

Shared by the lessons and the grader (the test cells call them in the student's kernel while
they work, and in the grader when grading):

- `checks`         what the notebooks' test cells call (compare results, name the input)
- `symcheck`       grading answers that are SymPy expressions
- `optimcheck`     grading optimiser steps; naming the convention mix-up behind a wrong one

The instructor's side: `preprocessors` and `feedback` (nbgrader steps), `term` and `analytics`.

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
