"""Whether nbgrader is running the notebook, for code that skips heavy work while grading.

Kept apart from ``helpers.widgets``: code that the grader's sandbox imports (such as
``helpers.basics.loops``) asks it too, and should not pay for importing the display machinery.
"""

import os


def grading_mode() -> bool:
    """True while nbgrader executes the notebook (autograde or validate): skip heavy work."""
    return bool(os.environ.get("NBGRADER_EXECUTION"))
