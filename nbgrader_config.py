"""nbgrader settings for the course: run nbgrader commands from the repository root.

Every folder and limit comes from the course's one settings object (``instructor.settings``);
loading this file changes nothing else.
"""

from instructor.feedback import TEMPLATE_NAME, template_basedirs
from instructor.settings import SETTINGS

c = get_config()  # noqa: F821 (injected by traitlets when nbgrader loads this file)
folders, limits = SETTINGS.folders, SETTINGS.limits

c.CourseDirectory.root = str(SETTINGS.root)
c.CourseDirectory.source_directory = folders.source
c.CourseDirectory.release_directory = folders.release
c.CourseDirectory.submitted_directory = folders.submitted
c.CourseDirectory.autograded_directory = folders.autograded
c.CourseDirectory.feedback_directory = folders.feedback
c.CourseDirectory.db_url = f"sqlite:///{SETTINGS.root / folders.gradebook}"

# The jupytext sources of the solutions (*.py) stay out of the release.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "*.py"]

# Student release: drop solutions and hidden tests; never ship outputs of the reference run.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearOutput.enabled = True

# Execution while validating and autograding: a cell that runs longer than the course's one
# cell limit is interrupted (it gets an error, the rest of the notebook still runs).
c.Execute.timeout = limits.cell_timeout_s
c.Execute.interrupt_on_timeout = True
# After the last cell the kernel is killed, not asked to exit: its clean-up (atexit hooks,
# freeing torch) serves nothing here and held each submission up for about 2 s.
c.Execute.shutdown_kernel = "immediate"

# Autograding: the hidden tests never run in the student's kernel (and so never reach the
# feedback); after the notebook has run, every test cell's outcome is set from a verdict
# decided outside the kernel (instructor/verdicts.py; the class grader passes the folders of
# the verdicts it decided ahead and of the reports on the command line). The rest is
# nbgrader's own pipeline.
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
# The hidden tests are cleared once more: an autograded notebook never holds them, and
# feedback must not either.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.ClearHiddenTests",
    "nbgrader.preprocessors.GetGrades",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
    "instructor.feedback.HideMachinePaths",
    "instructor.feedback.ReadableFeedback",
]
c.HTMLExporter.template_name = TEMPLATE_NAME
c.HTMLExporter.extra_template_basedirs = template_basedirs()
