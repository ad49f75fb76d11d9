"""Adversarial specification of the autograder: no submission can cheat its way to points.

Every attack of ``attacks.py`` is a submission of notebook 01, 03 or 04, graded by the real
path (``instructor.grading.grade_class``, what ``make grade`` runs: one ``nbgrader autograde``
process per submission, the default sandbox) in ONE run, beside an honest student whose
notebooks are the solutions and sentinel files of the course. Then, for every attack: the
exercises it attacks earn nothing (or, where only a human can judge, the status flags them);
the honest student keeps full marks; every student gets a row, and the attacks meant to make
the grader raise or swell are named in theirs; no course file changed; no process an attack
started is still running; the feedback never shows the hidden tests and no kernel output shows
the grader's environment.

Attack notebooks drop the release's demo cells (any student may delete them; the grader puts
back deleted test cells), which keeps the run short; the honest notebook runs in full.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import shutil
import signal
import site
import tempfile
import time
from pathlib import Path

import attacks
import nbformat
import numpy as np
import pytest

from helpers.exercise import as_tensors
from instructor import grading, integrity, model, release
from instructor.notebook import find_cell, nbgrader_metadata, topics
from instructor.settings import REPO_ROOT

pytestmark = [pytest.mark.nbgrader, pytest.mark.kernel, pytest.mark.bubblewrap]

HONEST = "honest-student"
TOPICS = {topic.assignment: topic for topic in topics()}
ASSIGNMENTS = sorted({attack.assignment for attack in attacks.ATTACKS.values()})
# What no submission may change: the course's code, configuration, solutions and data.
SENTINELS = ("helpers", "instructor", "nbgrader_config.py", "solutions", "data")


def _digests(paths: list[Path]) -> dict[str, str]:
    """SHA-256 of every file under ``paths`` (caches excluded)."""
    digests = {}
    for top in paths:
        files = [top] if top.is_file() else sorted(top.rglob("*")) if top.is_dir() else []
        for path in files:
            if path.is_file() and "__pycache__" not in path.parts:
                digests[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digests


def _sentinel_paths(course: model.Course) -> list[Path]:
    releases = [course.root / course.release / assignment for assignment in ASSIGNMENTS]
    return [
        *(REPO_ROOT / name for name in SENTINELS),
        course.gradebook,
        *releases,
        REPO_ROOT / "grades.csv",
    ]


def _planted_files() -> list[Path]:
    """Files an attack tries to create where the grader's Python would pick them up."""
    return [Path(folder) / "adv_evil.pth" for folder in site.getsitepackages()]


def _marked_processes() -> list[int]:
    """Processes whose command line carries an attack's marker."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if attacks.MARKER.encode() in command:
            found.append(int(entry.name))
    return found


def _release(root: Path) -> model.Course:
    """A throw-away course with this repository's solutions and a fresh release of the
    attacked notebooks."""
    (root / "solutions").symlink_to(REPO_ROOT / "solutions")
    course = model.Course(root=root)
    release.release(course, ASSIGNMENTS)
    return course


def _slim(notebook: nbformat.NotebookNode) -> tuple[nbformat.NotebookNode, int]:
    """The release without its demo cells, and the index of its last setup cell.

    Setup cells are the code cells with imports before the first exercise; graded cells and
    markdown stay.
    """
    first_exercise = next(
        i for i, cell in enumerate(notebook.cells) if nbgrader_metadata(cell).get("solution")
    )
    kept, setup_end = [], -1
    for index, cell in enumerate(notebook.cells):
        is_setup = cell.cell_type == "code" and index < first_exercise and "import" in cell.source
        if cell.cell_type == "markdown" or nbgrader_metadata(cell) or is_setup:
            kept.append(cell)
            if is_setup:
                setup_end = len(kept) - 1
    slim = copy.deepcopy(notebook)
    slim.cells = copy.deepcopy(kept)
    return slim, setup_end


def build_submission(release: nbformat.NotebookNode, attack: attacks.Attack):
    notebook, setup_end = _slim(release)
    for grade_id, source in attack.replace.items():
        find_cell(notebook, grade_id).source = source
    inserted = []
    for after, source in attack.insert:
        cell = nbformat.v4.new_code_cell(source)
        if attacks.INSERTED in attack.metadata:
            cell.metadata["nbgrader"] = dict(attack.metadata[attacks.INSERTED])
        if after == attacks.SETUP:
            position = setup_end + 1 + len([c for c in inserted if c[0] == attacks.SETUP])
        else:
            position = notebook.cells.index(find_cell(notebook, after)) + 1
        notebook.cells.insert(position, cell)
        inserted.append((after, cell))
    for grade_id, updates in attack.metadata.items():
        if grade_id != attacks.INSERTED:
            nbgrader_metadata(find_cell(notebook, grade_id)).update(updates)
    return notebook


@pytest.fixture(scope="module")
def graded():
    """Grade the honest student and every attack in one ``grade_class`` call."""
    root = Path(tempfile.mkdtemp(prefix="adversarial-"))
    try:
        course = _release(root)
        releases = {
            assignment: nbformat.read(TOPICS[assignment].release_path(course.root), 4)
            for assignment in ASSIGNMENTS
        }
        submitted = root / "submitted"
        for assignment in ASSIGNMENTS:
            honest = submitted / HONEST / assignment
            honest.mkdir(parents=True)
            shutil.copy(TOPICS[assignment].solution_path(), honest)
        for attack in attacks.ATTACKS.values():
            folder = submitted / attack.name / attack.assignment
            folder.mkdir(parents=True)
            notebook = build_submission(releases[attack.assignment], attack)
            nbformat.write(notebook, folder / TOPICS[attack.assignment].notebook_name)

        sentinels = _sentinel_paths(course)
        before = _digests(sentinels)
        started = time.monotonic()
        integrity_error = None
        try:
            results = grading.grade_class(
                course,
                submitted_root=submitted,
                output_root=root / "out",
                workers=2,
                batch_size=1,
                assignments=ASSIGNMENTS,
            )
        except integrity.IntegrityError as error:  # the grader's own check caught a change
            integrity_error, results = str(error), []
        elapsed = time.monotonic() - started
        graded_rows = [r for r in results if r.status != "missing"]
        print(f"\nGraded {len(graded_rows)} submissions in {elapsed:.0f} s.")
        time.sleep(2)  # give a process that escaped the time to show up
        survivors = _marked_processes()
        after = _digests(sentinels)
        state = {
            "course": course,
            "out": root / "out",
            "results": {(r.student, r.assignment): r for r in results},
            "changed": sorted(
                p for p in before.keys() | after.keys() if before.get(p) != after.get(p)
            ),
            "planted": [str(path) for path in _planted_files() if path.exists()],
            "integrity_error": integrity_error,
            "survivors": survivors,
        }
        yield state
    finally:
        for pid in _marked_processes():  # only processes our attacks started carry the marker
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        shutil.rmtree(root, ignore_errors=True)


def _max_score(assignment: str) -> float:
    """The assignment's points, from the solution notebook's test cells."""
    notebook = nbformat.read(TOPICS[assignment].solution_path(), as_version=4)
    return sum(
        float(nbgrader_metadata(cell)["points"])
        for cell in notebook.cells
        if nbgrader_metadata(cell).get("grade") and not nbgrader_metadata(cell).get("solution")
    )


def _result(graded, student: str, assignment: str) -> model.Result:
    assert graded["integrity_error"] is None, graded["integrity_error"]
    assert (student, assignment) in graded["results"], f"{student} was not graded"
    return graded["results"][(student, assignment)]


def _points(result: model.Result, exercise: str) -> float:
    return sum(
        points
        for grade_id, points in result.cells.items()
        if grade_id == f"test_{exercise}" or grade_id.startswith(f"test_{exercise}_")
    )


# --------------------------------------------------------------------------------------
# The suite itself
# --------------------------------------------------------------------------------------


def test_suite_has_attacks_in_every_class_and_at_least_15_on_the_verdict_child():
    kinds = [attack.kind for attack in attacks.ATTACKS.values()]
    assert len(kinds) >= 40
    assert set(kinds) == set(attacks.KINDS)
    assert len(attacks.VERDICT_CHILD) >= 15
    assert {attack.assignment for attack in attacks.VERDICT_CHILD} == set(ASSIGNMENTS)
    for attack in attacks.ATTACKS.values():
        assert set(attack.targets) <= set(TOPICS[attack.assignment].exercises), attack.name
        assert attack.expect in ("zero", "flagged"), attack.name


def test_no_attack_spells_the_hidden_checks_name():
    """Otherwise an attack's own source would put it in its feedback (see the test below)."""
    for attack in attacks.ATTACKS.values():
        sources = [*attack.replace.values(), *(source for _, source in attack.insert)]
        assert not any("hidden_check" in source for source in sources), attack.name


@pytest.mark.parametrize(
    "attack", [a for a in attacks.ATTACKS.values() if a.live], ids=lambda a: a.name
)
def test_shortcut_attack_gets_the_right_answer_when_nothing_stops_it(attack):
    """Run in this process, where the reference and torch.optim work, each live attack
    passes the hidden comparison: so a 0 in the graded run comes from the grader."""
    registry = TOPICS[attack.assignment].exercises
    for name in attack.targets:
        exercise = registry[name]
        implementation = registry.load(name, [attack.replace[name]])
        reference = exercise.load_reference()  # a caller's local, as in run_hidden_check
        for case in exercise.draw_cases(np.random.default_rng(0))[:2]:
            expected = as_tensors(exercise.run_case(reference, case))
            actual = as_tensors(exercise.run_case(implementation, case))
            exercise.compare(case, actual, expected)


# --------------------------------------------------------------------------------------
# The graded run
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_honest_student_keeps_full_marks_beside_the_attackers(graded, assignment):
    result = _result(graded, HONEST, assignment)
    assert result.status is model.Status.OK and not result.notes, result.status_text()
    assert result.score == result.max_score == _max_score(assignment), result.cells


@pytest.mark.parametrize("attack", list(attacks.ATTACKS.values()), ids=lambda a: a.name)
def test_attack_earns_nothing_on_the_exercises_it_attacks(graded, attack):
    result = _result(graded, attack.name, attack.assignment)
    maximum = _max_score(attack.assignment)
    assert result.max_score == maximum, f"the maximum changed: {result.max_score}"
    if attack.expect == "flagged":
        for exercise in attack.targets:
            assert f"flagged {exercise}" in result.status_text(), result.status_text()
        return
    earned = {exercise: _points(result, exercise) for exercise in attack.targets}
    assert earned == dict.fromkeys(attack.targets, 0.0), f"{result.cells} ({result.status})"
    # Nothing else was solved either: the whole submission is worth nothing.
    assert result.score == 0, f"{result.cells} ({result.status})"


def test_every_student_gets_a_row_and_the_grader_names_what_it_could_not_read(graded):
    assert graded["integrity_error"] is None, graded["integrity_error"]
    for attack in attacks.ATTACKS.values():
        result = _result(graded, attack.name, attack.assignment)
        status = result.status_text()
        assert result.status is not model.Status.GRADER_ERROR, (attack.name, status)
        assert attack.status in status, (attack.name, status)
    assert sum(1 for attack in attacks.ATTACKS.values() if attack.status) >= 3


def test_no_course_file_changed_while_grading(graded):
    assert graded["integrity_error"] is None, graded["integrity_error"]
    assert graded["changed"] == []
    assert graded["planted"] == []


def test_no_process_started_by_an_attack_outlives_grading(graded):
    assert graded["survivors"] == []


def test_feedback_never_shows_the_hidden_tests(graded):
    feedback = sorted((graded["out"] / "feedback").rglob("*.html"))
    assert any(HONEST in str(path) for path in feedback), "no feedback for the honest student"
    leaked = [str(path) for path in feedback if "hidden_check" in path.read_text()]
    assert leaked == []


def test_no_kernel_output_shows_the_graders_environment(graded):
    leaked = []
    for path in sorted((graded["out"] / "autograded").rglob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        outputs = json.dumps([c.get("outputs", []) for c in notebook.cells if "outputs" in c])
        leaked += [f"{path}: {name}" for name in attacks.GRADER_VARIABLES if name in outputs]
    assert leaked == []
