"""Pack what a graded class's students get: the release and what runs it, nothing more.

    python tools/pack_release.py                    # dist/activation-functions-release.zip
    python tools/pack_release.py --output FILE.zip

The archive holds one folder, ``activation-functions-release/``, with the student notebooks
(``notebooks/``, nbgrader's release folder as committed), the course library the notebooks
import (``actlib/``), the students' JupyterLab configuration (``jupyter-student/``),
``requirements.txt``, ``pyproject.toml``, ``nbgrader_config.py`` (for *Validate*) and a short
README with the one command that opens it. It holds no solution (``solutions/``), no master
notebook (``source/``, where the hidden tests are), no test, tool or gradebook
(tests/test_pack_release.py checks every notebook and text file in it).

The archive is reproducible: the same commit gives the same bytes (sorted entries, fixed
dates and modes).
"""
import argparse
import io
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOP = "activation-functions-release"
DEFAULT_OUTPUT = ROOT / "dist" / f"{TOP}.zip"
# What the release holds: folders (every file in them but caches and checkpoints) and files.
FOLDERS = ("notebooks", "actlib", "jupyter-student")
FILES = ("requirements.txt", "pyproject.toml", "nbgrader_config.py")
SKIPPED_PARTS = ("__pycache__", ".ipynb_checkpoints")
SKIPPED_SUFFIXES = (".pyc", ".egg-info")
DATE = (2024, 1, 1, 0, 0, 0)

README = """# Activation functions, their derivations, weight initialisation and optimisers

Your copy of the course: the lesson notebooks (`notebooks/`) and the library they use.
Open it in JupyterLab, from this folder, with Python 3.10 or newer:

```bash
python3 -m venv .venv && . .venv/bin/activate && pip install -r requirements.txt && JUPYTER_CONFIG_PATH="$PWD/jupyter-student" jupyter lab notebooks/
```

Open `notebooks/01-neuron/01-neuron.ipynb`, run it (*Run → Run All Cells*: every figure and
widget is drawn, and each exercise you have not answered yet says so in one line), and answer
each exercise in the cell that says `# YOUR CODE HERE` (written answers where it says
`YOUR ANSWER HERE`). *Validate* in the notebook's toolbar checks the whole notebook. Submit the
notebook files as your instructor says.
"""


def release_files(root=ROOT):
    """(path in the archive, path on disk) of every file the release holds, sorted."""
    out = []
    for folder in FOLDERS:
        for path in sorted((root / folder).rglob("*")):
            rel = path.relative_to(root)
            if not path.is_file() or any(part in SKIPPED_PARTS or part.endswith(SKIPPED_SUFFIXES)
                                         for part in rel.parts) or path.suffix == ".pyc":
                continue
            out.append((f"{TOP}/{rel.as_posix()}", path))
    for name in FILES:
        out.append((f"{TOP}/{name}", root / name))
    return sorted(out)


def _entry(name):
    info = zipfile.ZipInfo(name, date_time=DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def pack(output=DEFAULT_OUTPUT, root=ROOT):
    """Write the release archive to ``output``; return (its path, number of files)."""
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    files = release_files(root)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(_entry(f"{TOP}/README.md"), README)
        for name, path in files:
            archive.writestr(_entry(name), path.read_bytes())
    output.write_bytes(buffer.getvalue())
    return output, len(files) + 1


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Pack the students' release (notebooks, library, JupyterLab "
                    "configuration; no solution, no hidden test) into one zip archive.")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT,
                        help=f"the archive to write (default: {DEFAULT_OUTPUT.relative_to(ROOT)})")
    args = parser.parse_args(argv)
    path, count = pack(args.output)
    print(f"wrote {path} ({count} files, {path.stat().st_size / 1e6:.1f} MB): give students "
          f"this file; they unpack it and run the command in its README.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
