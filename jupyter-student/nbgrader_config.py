"""The students' nbgrader configuration (with nbgrader_config.json beside it).

Validate runs the notebook as nbgrader does, and puts each failed test's one-line message
above the test's code in its dialog (`actlib.grading.preprocessors.lead_with_message`). The
setting is scoped to the Execute that Validate runs (``c.Validator.Execute``).
"""
from actlib.grading.preprocessors import lead_with_message

c = get_config()  # noqa: F821 - provided by traitlets when the file is loaded
c.Validator.Execute.on_cell_error = lead_with_message
