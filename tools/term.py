"""The instructor's term, one command: ``python tools/term.py <step>`` from the course root.

    python tools/term.py setup --roster students.csv   # gradebook: assignments and students; exchange
    python tools/term.py release 01-neuron
    python tools/term.py collect 01-neuron
    python tools/term.py grade 01-neuron               # new or changed submissions only
    (the Formgrader in JupyterLab)                     # grade the written answers by hand
    python tools/term.py feedback 01-neuron            # where the grades changed
    python tools/term.py return 01-neuron
    python tools/term.py export                        # grades.csv
    python tools/term.py status

``python tools/term.py --help`` and ``python tools/term.py STEP --help`` say more; the logic
lives in `actlib.grading.term`.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from actlib.grading.term import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
