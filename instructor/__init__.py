"""The instructor's tooling. Never imported by a notebook; CONTRIBUTING.md maps the stages.

- ``settings``: every folder, limit and course-wide name (``SETTINGS``).
- ``model``: the data that travels between stages (``Course``, ``Verdict``, ``Result``).
- ``notebook``, ``release``: reading the solutions, releasing the student notebooks.
- ``submissions``: the roster, gradable submissions, restored test cells.
- ``batch``: one nbgrader batch; ``verdicts``, ``verdict_runner``, ``channel``, ``sandbox``:
  verdicts decided outside the student's kernel, in a bubblewrap sandbox.
- ``grading``: one ``grade_class`` on local threads or a Dask cluster (``cluster``);
  ``integrity``: no grading run changes the course.
- ``report``, ``gradebook``, ``feedback``: the table, CSV, report, gradebook and feedback.
- ``exchange``, ``hub``, ``lms``: assignments out and submissions in (JupyterHub, an LMS).
- ``book``, ``workspace``, ``execution``: the website, a learner's copy, headless runs.
- ``cli``: ``python -m instructor.cli release|grade`` (what ``make`` runs).
"""
