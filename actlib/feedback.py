"""nbgrader preprocessor that keeps hidden tests out of the feedback returned to students.

nbgrader's feedback HTML shows every test cell as it ran at grading time, hidden tests
included, and the traceback of a failing test quotes the lines around the failure. For each
code cell holding a hidden-test region this preprocessor

* replaces the region by a one-line note, and
* reduces every error output to its last line, ``ExceptionName: message``.

The failure message is what `actlib.checks` wrote for the student (the input, the expected
and the returned value, the convention), so the feedback stays useful without showing the
tests themselves. The autograded notebooks the instructor keeps are not changed.
"""
from nbgrader.preprocessors import NbGraderPreprocessor

BEGIN = "### BEGIN HIDDEN TESTS"
END = "### END HIDDEN TESTS"
NOTE = "# Hidden tests ran here; their result is shown below."


def strip_hidden(source):
    """Return ``(source without hidden regions, whether any region was found)``."""
    kept, hidden, found = [], False, False
    for line in source.splitlines():
        marker = line.strip().upper()
        if marker == BEGIN:
            hidden, found = True, True
            kept.append(line[: len(line) - len(line.lstrip())] + NOTE)
        elif marker == END:
            hidden = False
        elif not hidden:
            kept.append(line)
    return "\n".join(kept), found


class HideHiddenTests(NbGraderPreprocessor):
    """Remove hidden-test code and tracebacks from cells before feedback is rendered."""

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        cell.source, found = strip_hidden(cell.source)
        if found:
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]
        return cell, resources
