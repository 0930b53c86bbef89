"""Test configuration: the instructor tools in tools/ are importable; one BLAS thread."""
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))

# The suite runs two workers, each starting notebook kernels, on a two-core machine: one BLAS
# thread per process avoids oversubscription (which made small matrix products many times
# slower). Kernels started by nbgrader inherit this environment.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

# Notebooks executed by the tests (directly or through nbgrader) run headless: no widgets are
# built (see actlib.widgets). tests/test_widgets.py lifts this to test the widgets themselves.
os.environ.setdefault("ACTLIB_HEADLESS", "1")


def pytest_report_header(config):
    """Where the browser tests write their screenshots (tests/test_browser.py)."""
    from browserkit import screenshot_dir

    return f"browser screenshots: {screenshot_dir()}"
