"""What stands in a check kernel for the course code an exercise may not use.

When the grader checks an exercise, the student's answers run in a kernel whose view of the
course (`actlib.grading.grader.views`) has the exercise's banned functions rewritten at the
source level: each body is replaced by ``raise refuse("<ban name>")``. The original code is
not in that kernel's process or on its disk, so nothing the student runs can bring it back.

`REACHED` lists the banned names the student's code reached. The grader reads it with each
reply only as a hint (to add a message, or to check an exercise again in a kernel of its own);
a student who empties it can only lose points, never gain them.
"""
import sys

__all__ = ["ReferenceUnavailable", "refuse", "library_unavailable", "REACHED", "drain"]

REACHED = []


class ReferenceUnavailable(Exception):
    """Raised by a course function (or library) that the exercise being checked may not use."""


def _note(name):
    if name not in REACHED and len(REACHED) < 50:
        REACHED.append(name)


def refuse(name):
    """The exception a stubbed course function raises (recording ``name``)."""
    _note(name)
    return ReferenceUnavailable(f"`{name}` is not available while this exercise is checked")


def library_unavailable(module):
    """The ImportError of a library module hidden from this check kernel.

    Imports made by the course's own modules (which fall back to NumPy) are not recorded."""
    frame = sys._getframe(1)
    while frame is not None and (frame.f_code.co_filename.startswith("<frozen")
                                 or frame.f_globals.get("__name__") == module):
        frame = frame.f_back
    importer = frame.f_globals.get("__name__", "") if frame is not None else ""
    if not importer.startswith("actlib."):
        _note(module)
    return ImportError(f"{module} is not available while this exercise is checked: the "
                       f"exercise's text says what it may use")


def drain():
    """The names reached since the last call (and forget them)."""
    found = list(REACHED)
    del REACHED[:]
    return found
