"""The package's public surface: every listed module imports, an unknown name says what exists."""
import importlib

import pytest

import actlib


@pytest.mark.parametrize("name", actlib.__all__)
def test_every_listed_module_imports(name):
    assert getattr(actlib, name) is importlib.import_module(f"actlib.{name}")


def test_unknown_attribute_lists_the_modules():
    with pytest.raises(AttributeError, match="its modules are activations"):
        actlib.activation  # noqa: B018 - a typo a student could make
