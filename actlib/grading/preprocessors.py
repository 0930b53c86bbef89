"""nbgrader preprocessors of the course (configured in ``nbgrader_config.py``).

`HideHiddenTests` keeps hidden tests out of the feedback returned to students;
`DropDuplicateIds` lets a submission with a copied graded cell be graded;
`lead_with_message` puts a failed test's one-line message first in the students' *Validate*.

Hidden tests in feedback. nbgrader's feedback HTML shows every test cell as it ran at grading time, hidden tests
included, and the traceback of a failing test quotes the lines around the failure. For each
code cell holding a hidden-test region this preprocessor

* replaces the region by a one-line note, and
* reduces every error output to its last line, ``ExceptionName: message``.

The failure message is what `actlib.grading.checks` wrote for the student (the input, the expected
and the returned value, the convention), so the feedback stays useful without showing the
tests themselves. The autograded notebooks the instructor keeps are not changed.
"""
from nbgrader import utils
from nbgrader.preprocessors import DeduplicateIds, NbGraderPreprocessor
from traitlets import List

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

    # nbconvert's HTML exporter configures display_data_priority for every NbConvertBase;
    # nbgrader's base preprocessor redeclares it without config=True, so traitlets warned
    # "Config option `display_data_priority` not recognized" on every feedback page (nbgrader's
    # own GetGrades declares it configurable the same way).
    display_data_priority = List(['text/html', 'application/pdf', 'text/latex', 'image/svg+xml',
                                  'image/png', 'image/jpeg', 'text/plain']).tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        cell.source, found = strip_hidden(cell.source)
        if found:
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]
        return cell, resources


class DropDuplicateIds(DeduplicateIds):
    """nbgrader's de-duplication of grade ids, made safe for ``add_missing_cells``.

    When a student copies a graded cell, two cells carry the same ``grade_id``. nbgrader keeps
    the last of them and empties the others' nbgrader metadata to ``{}``; with
    ``OverwriteCells.add_missing_cells`` enabled, the next step then fails on the empty
    metadata (KeyError 'grade_id') and the whole submission is not graded. This version keeps
    the same rule (the last copy counts) but removes the metadata key altogether, so the copy
    becomes an ordinary cell and the submission is graded.
    """

    def preprocess_cell(self, cell, resources, cell_index):
        if not (utils.is_grade(cell) or utils.is_solution(cell) or utils.is_locked(cell)):
            return cell, resources
        grade_id = cell.metadata.nbgrader["grade_id"]
        if grade_id in self.grade_ids:
            self.log.warning("Cell with id '%s' exists multiple times! Only the last one is "
                             "graded.", grade_id)
            del cell.metadata["nbgrader"]
        else:
            self.grade_ids.add(grade_id)
        return cell, resources


LONGEST_MESSAGE = 300   # characters of a failed test's message kept on Validate's first line


def lead_with_message(cell, execute_reply=None, **_):
    """In *Validate*, put a failed test's one-line message above the test cell's code.

    nbgrader's Validate dialog shows a failed cell's source first and its error after it, so
    a student who has not answered yet reads the whole test before the line that matters.
    Called by nbgrader's ``Execute`` when a cell raises (its ``on_cell_error`` hook, set for
    Validate alone in ``jupyter-student/nbgrader_config.py``), this rewrites the source of an
    unchanged test cell into

        ExceptionName: the check's message
        (the test cell follows)
        <the cell's code>

    and updates the cell's checksum to match, so that only cells the student really changed
    are reported as changed. Validate never saves the notebook: the student's file is untouched.
    """
    if cell.cell_type != "code" or not utils.is_grade(cell) or utils.is_solution(cell):
        return
    meta = cell.metadata.get("nbgrader", {})
    if "checksum" not in meta or utils.compute_checksum(cell) != meta["checksum"]:
        return                             # a changed cell is reported as such, unchanged
    content = (execute_reply or {}).get("content", {})
    lines = str(content.get("evalue", "")).strip().splitlines() or [""]
    message = f"{content.get('ename', 'Error')}: {lines[0]}"
    if len(message) > LONGEST_MESSAGE:
        message = message[: LONGEST_MESSAGE - 3] + "..."
    cell.source = f"{message}\n(the test cell follows)\n\n{cell.source}"
    meta["checksum"] = utils.compute_checksum(cell)
