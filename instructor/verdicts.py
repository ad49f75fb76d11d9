"""Grading verdicts decided where no student code runs.

For each graded exercise of a submission, ``decide_all``:

1. draws fresh hidden cases for this run (so knowing the tests gives nothing to hard-code);
2. runs the student's solution cell, reduced to its imports and definitions, after the
   *release's* setup imports, in a fresh sandboxed child forked for this exercise alone by
   one runner per submission (``instructor.verdict_runner``), which returns raw outputs as
   plain arrays (no pickle);
3. runs the reference on the same cases in this process, and compares.

``ApplyVerdicts`` is an nbgrader preprocessor that runs after ``Execute`` in
``nbgrader autograde``: it replaces the outputs of every autograded test cell with the verdict
of its exercise, so that nbgrader's gradebook, feedback and scores come from the verdicts and
nothing the student's kernel printed or did can change them.

The class grader decides the verdicts before nbgrader starts (``decide_ahead``), each with the
digest of the cell it was decided on, in a folder that nbgrader's process reads when it starts
(``nbgrader_config.py``), before any kernel runs: a kernel, sandboxed or not, cannot change
them. nbgrader's process, one per submission, then needs neither torch nor the references.
``ApplyVerdicts`` decides itself wherever no verdict was decided ahead on the very cells it
sees. It also writes a small report (sandboxed or not, constructs worth a human look) for the
class-grading table.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import stat
import subprocess
import tempfile
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Dict

from instructor import sandbox
from instructor.notebook import (
    REPO_ROOT,
    Topic,
    find_cell,
    is_test_of,
    nbgrader_metadata,
    setup_imports,
    topics,
)

# numpy, torch and helpers (which imports torch) are imported where a verdict is decided:
# nbgrader's process imports this module and usually only applies verdicts decided earlier.
if TYPE_CHECKING:
    from helpers.exercise import Exercise

CHILD_TIMEOUT_S = 120  # per exercise and source
RUNNER_START_S = 60  # the runner's imports, before the first child
MAX_RESULT_BYTES = 64 * 2**20
REPORT_FOLDER_VARIABLE = "COURSE_VERDICT_REPORTS"
DECIDED_FOLDER_VARIABLE = "COURSE_DECIDED_VERDICTS"  # read by nbgrader_config.py
RELEASE_ROOT_VARIABLE = "COURSE_RELEASE_ROOT"  # the course whose notebooks/ holds the release
# The class grader decides verdicts in several threads, and a reference may seed torch's
# global generator: one reference runs at a time.
_REFERENCE_LOCK = threading.Lock()

# Constructs in an exercise's code that deserve a human look (flagged, never penalised).
FLAGGED_CALLS = {
    "exec": "exec",
    "eval": "eval",
    "compile": "compile",
    "__import__": "__import__",
    "open": "file access",
    "setattr": "setattr",
    "globals": "globals()",
    "get_ipython": "get_ipython",
}
FLAGGED_MODULES = {
    "threading": "threads",
    "_thread": "threads",
    "concurrent": "threads",
    "multiprocessing": "subprocesses",
    "subprocess": "subprocesses",
    "inspect": "inspect",
    "ctypes": "ctypes",
    "gc": "gc",
    "importlib": "importlib",
    "os": "os",
    "shutil": "file access",
    "pathlib": "file access",
    "marshal": "marshal",
    "pickle": "pickle",
    "IPython": "get_ipython",
    "builtins": "builtins",
    "linecache": "source reading",
}
FLAGGED_ATTRIBUTES = {
    "setprofile": "sys.setprofile",
    "settrace": "sys.settrace",
    "_getframe": "sys._getframe",
    "__code__": "__code__",
    "__globals__": "__globals__",
    "__closure__": "__closure__",
    "f_back": "frames",
    "f_globals": "frames",
    "system": "subprocesses",
    "Popen": "subprocesses",
    "write_text": "file writes",
    "write_bytes": "file writes",
    "modules": "sys.modules",
    "exec": "exec",
    "eval": "eval",
    "compile": "compile",
    "open": "file access",
    "__loader__": "module loaders",
    "exec_module": "module loaders",
    "__import__": "__import__",
}


def flag_constructs(source: str) -> list[str]:
    """Constructs in a solution cell worth a human look (threads, exec, inspect, frames, ...).

    A static scan: it costs no points, it only puts the cell on the instructor's list.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    found: list[str] = []

    def add(label: str | None) -> None:
        if label and label not in found:
            found.append(label)

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(FLAGGED_MODULES.get(alias.name.split(".")[0]))
        elif isinstance(node, ast.ImportFrom) and node.module:
            add(FLAGGED_MODULES.get(node.module.split(".")[0]))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            add(FLAGGED_CALLS.get(node.func.id))
        elif isinstance(node, ast.Attribute):
            add(FLAGGED_ATTRIBUTES.get(node.attr))
    return found


@dataclass
class Verdict:
    """Whether one exercise of one submission passed its hidden checks, and why not."""

    exercise: str
    passed: bool
    message: str
    sandboxed: bool
    flags: list[str] = field(default_factory=list)


def _child_command(job: Path, sandboxed: bool, root: Path) -> tuple[list[str], dict | None]:
    argv = [sandbox.python(), "-m", "instructor.verdict_runner", str(job)]
    environment = sandbox.environment()
    if not sandboxed:
        environment["PYTHONPATH"] = str(root)
        return argv, environment
    hidden = [*sandbox.reference_files(root), *sorted((root / "helpers").glob("*/__pycache__"))]
    command = sandbox.command(
        argv,
        writable=[job],
        hidden=[path for path in hidden if path.is_file()],
        empty=[path for path in hidden if path.is_dir()],
        workdir=job,
        environment=environment,
        root=root,
    )
    return command, None


def _regular_file(path: Path) -> bool:
    """A plain file of sensible size, not a link or a FIFO the child planted to stall us."""
    try:
        status = path.lstat()
    except OSError:
        return False
    return stat.S_ISREG(status.st_mode) and status.st_size <= MAX_RESULT_BYTES


def _student_outputs(job: Path, cases: int) -> list[dict | str]:
    """Per case: the outputs as tensors, or the error message the child reported."""
    import numpy as np
    import torch

    result_file = job / "result.json"
    if not _regular_file(result_file):
        return ["the code did not finish (it crashed, ran out of memory or exited early)"] * cases
    results = json.loads(result_file.read_text())
    if not isinstance(results, list) or len(results) != cases:
        return ["the code did not finish every hidden case"] * cases
    outputs: list[dict | str] = []
    for index, result in enumerate(results):
        if not isinstance(result, dict) or "error" in result:
            outputs.append(str(result.get("error", "no result"))[:500])
            continue
        path = job / f"case_{index}.npz"
        if not _regular_file(path):
            outputs.append("the outputs of a hidden case are missing")
            continue
        keys = [str(key) for key in result.get("keys", [])]
        with np.load(path, allow_pickle=False) as arrays:
            values = [arrays[f"output_{i}"] for i in range(len(keys)) if f"output_{i}" in arrays]
        outputs.append({key: torch.from_numpy(np.array(v)) for key, v in zip(keys, values)})
    return outputs


def decide(
    topic: str,
    exercise: Exercise,
    source: str,
    prelude: list[str],
    *,
    seed: int | None = None,
    sandboxed: bool | None = None,
    root: Path = REPO_ROOT,
) -> Verdict:
    """The verdict on ``source`` (a solution cell) for ``exercise`` of ``helpers.<topic>``."""
    verdicts = decide_all(
        topic, [(exercise, [source])], prelude, seed=seed, sandboxed=sandboxed, root=root
    )
    return verdicts[0][0]


def decide_many(
    topic: str,
    exercise: Exercise,
    sources: list[str],
    prelude: list[str],
    *,
    seed: int | None = None,
    sandboxed: bool | None = None,
    root: Path = REPO_ROOT,
) -> list[Verdict]:
    """Verdicts on several solution cells of one exercise, run one after the other in ONE
    child process.

    Only for trusted code (the mutation suites): the sources share the child's process.
    A submission's cell is always judged alone, through ``decide`` or ``decide_all``.
    """
    verdicts = decide_all(
        topic, [(exercise, sources)], prelude, seed=seed, sandboxed=sandboxed, root=root
    )
    return verdicts[0]


def decide_all(
    topic: str,
    work: list[tuple[Exercise, list[str]]],
    prelude: list[str],
    *,
    seed: int | None = None,
    sandboxed: bool | None = None,
    root: Path = REPO_ROOT,
) -> list[list[Verdict]]:
    """Per exercise of ``work``, the verdict on each of its sources.

    One sandboxed runner serves the whole list: it pays for torch and the topic's imports
    once, and forks a fresh child per exercise (``instructor.verdict_runner``).
    """
    import numpy as np

    from helpers.exercise import as_tensors

    sandboxed = sandbox.available() if sandboxed is None else sandboxed
    rng = np.random.default_rng(seed)
    cases = [exercise.draw_cases(rng) for exercise, _ in work]
    limits = [CHILD_TIMEOUT_S * len(sources) for _, sources in work]
    with tempfile.TemporaryDirectory(prefix="verdict-") as folder:
        job = Path(folder)
        job_spec = {
            "topic": topic,
            "prelude": prelude,
            "exercises": [
                {"exercise": exercise.name, "sources": sources, "cases": drawn, "timeout_s": limit}
                for (exercise, sources), drawn, limit in zip(work, cases, limits)
            ],
        }
        (job / "job.json").write_text(json.dumps(job_spec))
        command, environment = _child_command(job, sandboxed, root)
        try:
            report = subprocess.run(
                command,
                cwd=job,
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                timeout=sum(limits) + RUNNER_START_S,
                start_new_session=True,
            ).stdout
        except subprocess.TimeoutExpired as expired:
            report = expired.stdout or b""
        timed_out = _timed_out_exercises(report)
        outputs = [
            [
                _student_outputs(job / f"exercise_{k}" / f"source_{n}", len(cases[k]))
                for n in range(len(sources))
            ]
            for k, (_, sources) in enumerate(work)
        ]
    verdicts = []
    for k, (exercise, sources) in enumerate(work):
        reference = exercise.load_reference()
        with _REFERENCE_LOCK:
            expected = [as_tensors(exercise.run_case(reference, case)) for case in cases[k]]
        judged = []
        for source, source_outputs in zip(sources, outputs[k]):
            verdict = _judge(exercise, cases[k], source_outputs, expected, k in timed_out)
            verdict.sandboxed, verdict.flags = sandboxed, flag_constructs(source)
            judged.append(verdict)
        verdicts.append(judged)
    return verdicts


def _timed_out_exercises(report: bytes) -> set[int]:
    """The exercises whose child the runner killed at its time limit, from its report lines
    (only the runner writes there: each child's output goes to /dev/null)."""
    timed_out = set()
    for line in report.decode(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(entry, dict) and entry.get("outcome") == "timed out":
            timed_out.add(entry.get("exercise"))
    return timed_out


def _judge(
    exercise: Exercise,
    cases: list[dict],
    outputs: list[dict | str],
    expected: list[dict],
    timed_out: bool,
) -> Verdict:
    """Compare one source's outputs on every case with the reference's."""
    name = exercise.name
    for case, actual, right in zip(cases, outputs, expected):
        if isinstance(actual, str):
            if actual.startswith("NotImplementedError"):
                message = f"`{name}` is not done yet."
            elif timed_out:
                message = f"`{name}` took longer than {CHILD_TIMEOUT_S} s on the hidden cases."
            else:
                message = f"On a hidden case, `{name}` failed: {actual}"
            return Verdict(name, False, message, True)
        try:
            exercise.compare(case, actual, right)
        except AssertionError as error:
            return Verdict(name, False, str(error), True)
        except Exception as error:  # malformed outputs: wrong types or shapes
            message = f"The outputs of `{name}` could not be checked: {error}"
            return Verdict(name, False, message, True)
    return Verdict(name, True, f"`{name}` passed every hidden check.", True)


def topic_of(assignment: str) -> Topic:
    for topic in topics():
        if topic.assignment == assignment:
            return topic
    raise KeyError(f"no helpers package declares ASSIGNMENT = {assignment!r}")


def _solution_source(notebook: nbformat.NotebookNode, name: str) -> str:
    try:
        return find_cell(notebook, name).source
    except KeyError:
        return ""


def verdicts_for(
    notebook: nbformat.NotebookNode, release: nbformat.NotebookNode, topic: Topic
) -> dict[str, Verdict]:
    """The verdict on every exercise of ``topic`` in a submitted notebook."""
    verdicts, work = {}, []
    for name, exercise in topic.exercises.items():
        source = _solution_source(notebook, name)
        if source.strip() == find_cell(release, name).source.strip():
            # The release's scaffold, untouched: it raises NotImplementedError, no need to run it.
            message = f"`{name}` is not done yet."
            verdicts[name] = Verdict(name, False, message, sandbox.available())
        else:
            work.append((exercise, [source]))
    if work:
        decided = decide_all(topic.name, work, setup_imports(release))
        verdicts |= {exercise.name: judged[0] for (exercise, _), judged in zip(work, decided)}
    return {name: verdicts[name] for name in topic.exercises}


def _source_digest(notebook: nbformat.NotebookNode, name: str) -> str:
    return hashlib.sha256(_solution_source(notebook, name).encode()).hexdigest()


def write_report(
    path: Path, notebook: nbformat.NotebookNode, verdicts: dict[str, Verdict]
) -> None:
    """Save ``verdicts`` with the digest of the solution cell each was decided on."""
    entries = {
        name: {**asdict(verdict), "source_sha256": _source_digest(notebook, name)}
        for name, verdict in verdicts.items()
    }
    path.write_text(json.dumps(entries))


def load_decided(folder: str | None) -> dict[str, dict]:
    """Every report that ``decide_ahead`` wrote in ``folder``, by student (none without one)."""
    if not folder:
        return {}
    return {path.stem: json.loads(path.read_text()) for path in Path(folder).glob("*.json")}


def unchanged_verdicts(
    entries: dict | None, notebook: nbformat.NotebookNode
) -> dict[str, Verdict] | None:
    """The verdicts of a report if each was decided on the cell ``notebook`` has now;
    otherwise (no report, or a cell differs) None."""
    verdicts = {}
    for name, entry in (entries or {}).items():
        fields = dict(entry)
        if fields.pop("source_sha256", None) != _source_digest(notebook, name):
            return None
        verdicts[name] = Verdict(**fields)
    return verdicts or None


def decide_ahead(submission: Path, assignment: str, release_root: Path, report: Path) -> None:
    """Decide the verdicts on a submission (its assignment's folder) before nbgrader runs it,
    and save them in ``report`` for ``ApplyVerdicts``; nothing for an assignment without a
    registry."""
    try:
        topic = topic_of(assignment)
    except KeyError:
        return
    notebook = nbformat.read(submission / topic.notebook_name, as_version=4)
    release = nbformat.read(topic.release_path(release_root), as_version=4)
    write_report(report, notebook, verdicts_for(notebook, release, topic))


class ApplyVerdicts(NbGraderPreprocessor):
    """Set each autograded test cell's outcome from its exercise's verdict (after Execute)."""

    decided = Dict(help="Reports decided ahead, by student (see load_decided).").tag(config=True)

    def preprocess(self, nb: nbformat.NotebookNode, resources: dict) -> tuple:
        assignment = resources["nbgrader"]["assignment"]
        student = resources["nbgrader"]["student"]
        verdicts = unchanged_verdicts(self.decided.get(student), nb)
        if verdicts is None:
            try:
                topic = topic_of(assignment)
            except KeyError:  # an assignment without a registry (the toy course of the tests)
                self.log.warning("No registry for %s: outcomes come from the kernel.", assignment)
                return nb, resources
            release_root = Path(os.environ.get(RELEASE_ROOT_VARIABLE, REPO_ROOT))
            release = nbformat.read(topic.release_path(release_root), as_version=4)
            verdicts = verdicts_for(nb, release, topic)
        for cell in nb.cells:
            meta = nbgrader_metadata(cell)
            if not (meta.get("grade") and not meta.get("solution")):
                continue
            grade_id = meta.get("grade_id", "")
            verdict = next(
                (v for name, v in verdicts.items() if is_test_of(grade_id, name)), None
            )
            if verdict is None:  # fail closed: no outcome ever comes from the kernel here
                message = f"{grade_id} tests no exercise of the registry: it earns nothing."
                verdict = Verdict(grade_id, False, message, sandbox.available())
            if verdict.passed:
                cell.outputs = [
                    nbformat.v4.new_output("stream", name="stdout", text=verdict.message + "\n")
                ]
            else:
                cell.outputs = [
                    nbformat.v4.new_output(
                        "error",
                        ename="AssertionError",
                        evalue=verdict.message,
                        traceback=[f"AssertionError: {verdict.message}"],
                    )
                ]
        report_folder = os.environ.get(REPORT_FOLDER_VARIABLE)
        if report_folder:
            write_report(Path(report_folder) / f"{student}.json", nb, verdicts)
        return nb, resources
