"""Test configuration: the instructor tools in tools/ are importable by the tests."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
