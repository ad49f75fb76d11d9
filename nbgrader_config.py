"""nbgrader settings for the course: run nbgrader commands from the repository root."""

import os

from instructor.feedback import TEMPLATE_NAME, template_basedirs
from instructor.verdicts import DECIDED_FOLDER_VARIABLE, load_decided

c = get_config()  # noqa: F821 (injected by traitlets when nbgrader loads this file)

c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(c.CourseDirectory.root, "gradebook.db")

# The jupytext sources of the solutions (*.py) stay out of the release.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "*.py"]

# Student release: drop solutions and hidden tests; never ship outputs of the reference run.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearOutput.enabled = True

# Execution while validating and autograding: a cell that runs longer than this is
# interrupted (it gets an error, the rest of the notebook still runs).
c.Execute.timeout = 120
c.Execute.interrupt_on_timeout = True
# After the last cell the kernel is killed, not asked to exit: its clean-up (atexit hooks,
# freeing torch) serves nothing here and held each submission up for about 2 s.
c.Execute.shutdown_kernel = "immediate"

# nbgrader scores a test cell 0 when it writes anything to stderr, and Python warnings go
# there. Library warnings (deprecations in torch, numpy, matplotlib) say nothing about the
# student's answer, so grading kernels, which inherit this environment, ignore them.
os.environ["PYTHONWARNINGS"] = "ignore"

# Autograding: the hidden tests never run in the student's kernel (and so never reach the
# feedback); after the notebook has run, every test cell's outcome is set from a verdict
# decided outside the kernel (instructor/verdicts.py). The rest is nbgrader's own pipeline.
# The verdicts the class grader decided ahead are read now, before any kernel runs.
c.ApplyVerdicts.decided = load_decided(os.environ.get(DECIDED_FOLDER_VARIABLE))
c.Autograde.autograde_preprocessors = [
    "nbgrader.preprocessors.ClearHiddenTests",
    "instructor.execution.SlicedPollExecute",  # nbgrader's Execute, see its docstring
    "instructor.verdicts.ApplyVerdicts",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]

# Feedback: nbgrader's own steps, then the grading machine's folders hidden from every output
# (tracebacks, printed paths) so that students see no absolute path of it, and the page made
# readable offline: math as MathML, long messages wrapped (nbgrader's template without MathJax).
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
    "instructor.feedback.HideMachinePaths",
    "instructor.feedback.ReadableFeedback",
]
c.HTMLExporter.template_name = TEMPLATE_NAME
c.HTMLExporter.extra_template_basedirs = template_basedirs()
