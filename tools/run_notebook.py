"""Execute notebooks top to bottom and fail on any error, warning or stderr output.

    python tools/run_notebook.py source/01-neuron/01-neuron.ipynb [more.ipynb ...]

Used by authors on the master notebooks (solutions in place). Prints the run time of each
notebook and its slowest cells; exit status 1 when any notebook had a problem. The kernel
runs headless (``ACTLIB_HEADLESS=1``): widget cells draw their static plot only.
"""
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

sys.path.insert(0, str(Path(__file__).resolve().parent))
from coursetools import output_problems  # noqa: E402


def execute(path, timeout=300):
    """Execute the notebook at ``path`` in its folder; return (notebook, seconds, cell times)."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(Path(path).parent)}})
    times = []
    original = client.async_execute_cell

    async def timed(cell, index, **kwargs):
        start = time.perf_counter()
        result = await original(cell, index, **kwargs)
        times.append((time.perf_counter() - start, index))
        return result

    client.async_execute_cell = timed
    start = time.perf_counter()
    client.execute(env={**os.environ, "ACTLIB_HEADLESS": "1"})
    return nb, time.perf_counter() - start, sorted(times, reverse=True)


def main(argv=None):
    paths = sys.argv[1:] if argv is None else argv
    bad = 0
    for path in paths:
        try:
            nb, seconds, times = execute(path)
        except CellExecutionError as exc:  # pragma: no cover - allow_errors=True
            print(f"FAIL {path}: {exc}")
            bad += 1
            continue
        found = output_problems(nb)
        slowest = ", ".join(f"cell {i}: {t:.1f}s" for t, i in times[:3])
        print(f"{'FAIL' if found else 'ok  '} {path}  {seconds:.1f}s  (slowest {slowest})")
        for index, text in found:
            print(f"    cell {index}: {text}")
        bad += bool(found)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
