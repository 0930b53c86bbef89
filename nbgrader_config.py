"""nbgrader configuration of the course (the repository root is the course directory).

Folders: instructors edit ``source/<assignment>/``; ``nbgrader generate_assignment`` writes the
student version to ``notebooks/`` and ``nbgrader generate_solution`` the solution to
``solutions/`` (run ``python tools/regenerate.py`` for every assignment at once).
"""
import os

from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, ClearMarkScheme,
                                    ClearOutput, GetGrades, IgnorePattern, IncludeHeaderFooter,
                                    LimitOutput, LockCells, OverwriteCells, OverwriteKernelspec,
                                    SaveAutoGrades)

from actlib.grading.grader.execute import GradedExecute
from actlib.grading.feedback import OfflineFeedbackExporter
from actlib.grading.preprocessors import DropDuplicateIds, HideHiddenTests

c = get_config()  # noqa: F821 - provided by nbgrader when it loads this file

c.CourseDirectory.course_id = "activation-functions"
# nbgrader's exchange is not set here: a course file in the working folder would override each
# user's own Jupyter configuration (where a multi-user set-up puts it). tools/term.py uses
# /srv/nbgrader/exchange unless a Jupyter configuration or --exchange DIR says otherwise.
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "notebooks"
c.CourseDirectory.solution_directory = "solutions"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
# The gradebook sits in the course root (beside this file). Submissions are graded in parallel
# (tools/grade.py): a writer waits up to two minutes for another's short write instead of failing.
_here = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.db_url = f"sqlite:///{os.path.join(_here, 'gradebook.db')}?timeout=120"

# What students see in place of solutions.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Solutions are committed without outputs: deterministic, small, and diffable. The test
# suite executes them separately (tests/test_grading.py).
c.GenerateSolution.preprocessors = [IncludeHeaderFooter, LockCells, ClearOutput, ClearMarkScheme]

# A student who deletes or empties a test cell gets it back, and it is run and graded,
# instead of the cell silently turning into "needs manual grading".
c.OverwriteCells.add_missing_cells = True
# A copied graded cell (duplicate grade_id) would crash that step: de-duplicate safely first.
c.Autograde.sanitize_preprocessors = [ClearOutput, DropDuplicateIds, OverwriteKernelspec,
                                      OverwriteCells, CheckCellMetadata]

# Test cells are run and judged in the grader's process, never in the student's kernel: the
# kernel only runs the student's code and answers the grader's requests with data
# (actlib.grading.grader.execute). nbgrader's other autograde steps are kept, in nbgrader's order.
c.Autograde.autograde_preprocessors = [GradedExecute, IgnorePattern, ClearMetadataPreprocessor,
                                       LimitOutput, SaveAutoGrades, AssignLatePenalties,
                                       CheckCellMetadata]

# Each cell gets at most two minutes (every lesson runs in seconds); a runaway loop is
# interrupted and graded as an error instead of blocking the class.
c.Execute.timeout = 120
c.Execute.interrupt_on_timeout = True
# After a cell's reply, its last outputs may lag on a busy machine: wait for them up to 30 s
# (nbclient's default of 4 s made loaded graders fail whole submissions).
c.Execute.iopub_timeout = 30

# `nbgrader validate` (the students' check before submitting) would cut every line at 90
# characters, losing the end of the course's failure messages (expected, got, convention).
c.Validator.width = 400

# Keep huge printouts and tracebacks from bloating the gradebook and the feedback.
c.LimitOutput.max_lines = 200
c.LimitOutput.max_traceback = 60

# Feedback: the hidden tests' code and traceback lines are removed; the student keeps the
# score and the failure message of each test cell.
c.GenerateFeedback.preprocessors = [GetGrades, HideHiddenTests, CSSHTMLHeaderPreprocessor]
# Feedback renders its formulas offline, as MathML made at generation time, and loads no script
# or stylesheet from the network (actlib.grading.feedback says why not a local MathJax).
c.GenerateFeedback.exporter_class = OfflineFeedbackExporter
