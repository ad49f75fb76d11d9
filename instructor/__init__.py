"""The instructor's tooling: release the notebooks, grade a class. Never imported by a notebook.

- ``notebook``: reading solution and release notebooks (cells by ``grade_id``, setup imports).
- ``classroom``: ``python -m instructor.classroom release|grade`` (what ``make`` runs).
- ``verdicts``: grading verdicts decided outside the student's kernel, in a sandbox.
- ``cluster``: the same grading on a Dask cluster (``make grade SCHEDULER=...``).
- ``gradebook``: the grades recorded in a shared nbgrader gradebook (``make grade DB_URL=...``).
"""
