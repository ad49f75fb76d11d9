"""Grading verdicts decided where no student code runs.

For each graded exercise of a submission, ``decide_all``:

1. draws fresh hidden cases for this run (so knowing the tests gives nothing to hard-code);
2. sends the exercise's solution cell, with the earlier exercises' solution cells it may rely
   on (``helpers.solution_cells``), and the cases to one sandboxed runner per submission
   (``instructor.verdict_runner``), which runs them in a fresh child forked for this
   exercise alone and sends back raw outputs over a pipe (``instructor.channel``);
3. runs the reference on the same cases in this process, checks what came back against a
   fixed format, and compares.

``ApplyVerdicts`` is an nbgrader preprocessor that runs after ``Execute`` in
``nbgrader autograde``: it replaces the outputs of every autograded test cell with the verdict
of its exercise, so that nbgrader's gradebook, feedback and scores come from the verdicts and
nothing the student's kernel printed or did can change them.

The class grader decides the verdicts before nbgrader starts (``decide_ahead``), each with the
digest of the cells it was decided on, in a folder that nbgrader's process reads when it
starts (``nbgrader_config.py``), before any kernel runs: a kernel, sandboxed or not, cannot
change them. nbgrader's process, one per submission, then needs neither torch nor the
references. ``ApplyVerdicts`` decides itself wherever no verdict was decided ahead on the very
cells it sees. It also writes a small report (sandboxed or not, constructs worth a human look)
for the class-grading table.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

from instructor import channel, sandbox
from instructor.model import Verdict, VerdictKind
from instructor.notebook import (
    Topic,
    find_cell,
    is_test_of,
    nbgrader_metadata,
    topics,
)
from instructor.settings import SETTINGS

# numpy, torch and helpers (which imports torch) are imported where a verdict is decided:
# nbgrader's process imports this module and usually only applies verdicts decided earlier.
if TYPE_CHECKING:
    from helpers.exercise import Exercise

OUTCOMES = ("finished", "crashed", "timed out", "too large")
# The short labels of verdicts that no comparison produced (the report counts labels).
PASSED, NOT_DONE = "passed", "not done yet"
TOOK_TOO_LONG, CRASHED = "took too long", "crashed or exited early"
UNREADABLE, TOO_LARGE = "sent back what the grader cannot read", "returned too much"
SHORTCUT, RAISED = "used what the exercise asks to write", "raised an error"
NAME_UNSEEN, UNCHECKABLE = "used a name the grader does not see", "outputs of the wrong kind"
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
    "zipimport": "import machinery",
    "imp": "import machinery",
    "runpy": "import machinery",
    "pkgutil": "import machinery",
    "_imp": "import machinery",
    "site": "import machinery",
    "mmap": "file access",
    "tempfile": "file access",
    "io": "file access",
    "socket": "network",
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
    "rename": "file changes",
    "unlink": "file changes",
    "symlink": "file changes",
    "symlink_to": "file changes",
    "hardlink_to": "file changes",
    "link": "file changes",
    "link_to": "file changes",
    "mkdir": "file changes",
    "makedirs": "file changes",
    "rmdir": "file changes",
    "rmtree": "file changes",
    "chmod": "file changes",
    "truncate": "file changes",
    "touch": "file changes",
    "copyfile": "file changes",
    "copytree": "file changes",
    "fdopen": "file access",
    "meta_path": "import machinery",
    "path_hooks": "import machinery",
    "path_importer_cache": "import machinery",
    "find_spec": "import machinery",
    "spec_from_file_location": "import machinery",
    "module_from_spec": "import machinery",
    "_C": "torch internals",
    "library": "torch internals",
}
# Names that mean something only through their module (``str.replace`` is everywhere,
# ``os.replace`` changes files), flagged by their dotted name.
FLAGGED_DOTTED = {
    "os.replace": "file changes",
    "os.remove": "file changes",
    "os.open": "file access",
    "os.write": "file access",
    "os.dup2": "file access",
    "sys.path": "sys.path changes",
    "torch.ops": "torch internals",
}


def _dotted(node: ast.AST) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


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
            dotted = _dotted(node)
            add(next((label for name, label in FLAGGED_DOTTED.items()
                      if dotted == name or dotted.startswith(name + ".")), None))
    return found


def _runner_command(sandboxed: bool, root: Path) -> tuple[list[str], dict | None]:
    argv = [sandbox.python(), "-m", "instructor.verdict_runner"]
    environment = sandbox.environment()
    if not sandboxed:
        environment["PYTHONPATH"] = str(root)
        return argv, environment
    hidden = [*sandbox.reference_files(root), *sorted((root / "helpers").glob("*/__pycache__"))]
    command = sandbox.command(
        argv,
        hidden=[path for path in hidden if path.is_file()],
        empty=[path for path in hidden if path.is_dir()],
        workdir=Path("/"),
        environment=environment,
        writable_tmp=False,
        root=root,
    )
    return command, None


class RunnerStopped(RuntimeError):
    """The verdict runner ended or broke the protocol before every exercise was run."""


class Runner:
    """One sandboxed verdict runner (``instructor.verdict_runner``) for one submission.

    The grader owns both ends of its pipes and reads them with deadlines and byte limits, so
    nothing a child does can make the grader wait forever or hold more than one exercise's
    ``channel.MAX_FRAME_BYTES`` of its output.
    """

    def __init__(self, topic: str, sandboxed: bool, root: Path) -> None:
        command, environment = _runner_command(sandboxed, root)
        self.process = subprocess.Popen(
            command,
            cwd=root,
            env=environment,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self.reader = channel.FrameReader(self.process.stdout.fileno())
        self.ready = False
        self._send({"topic": topic})

    def _send(self, value: dict) -> None:
        try:
            channel.write_json(self.process.stdin, value)  # type: ignore[arg-type]
        except (BrokenPipeError, OSError) as error:
            raise RunnerStopped("the verdict runner stopped") from error

    def run(self, name: str, sources: list[list[str]], cases: list[dict], timeout_s: float):
        """Run one exercise's sources on ``cases``: the child's outcome and its result."""
        try:
            if not self.ready:
                self.reader.read(time.monotonic() + SETTINGS.limits.runner_start_s)
                self.ready = True
            self._send({"timeout_s": timeout_s})
            self._send({"exercise": name, "sources": sources, "cases": cases})
            deadline = time.monotonic() + timeout_s + SETTINGS.limits.answer_margin_s
            outcome = json.loads(self.reader.read(deadline, limit=4096))
            payload = self.reader.read(deadline + SETTINGS.limits.answer_margin_s)
        except (channel.ChannelTimeout, EOFError, channel.MalformedResult, ValueError) as error:
            raise RunnerStopped(f"the verdict runner stopped answering ({error})") from error
        if not isinstance(outcome, dict) or outcome.get("outcome") not in OUTCOMES:
            raise RunnerStopped("the verdict runner sent an unknown outcome")
        return outcome["outcome"], payload

    def close(self) -> None:
        try:
            self.process.stdin.close()  # type: ignore[union-attr]
            self.process.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except OSError:
            pass
        self.process.wait()
        self.reader.close()
        self.process.stdout.close()  # type: ignore[union-attr]


def decide(
    topic: str,
    exercise: Exercise,
    cells: list[str],
    *,
    seed: int | None = None,
    sandboxed: bool | None = None,
    root: Path = SETTINGS.root,
) -> Verdict:
    """The verdict on one solution source (``cells``: earlier exercises' solution cells, then
    the exercise's own) for ``exercise`` of ``helpers.<topic>``."""
    return decide_all(topic, [(exercise, [cells])], seed=seed, sandboxed=sandboxed, root=root)[0][0]


def decide_many(
    topic: str,
    exercise: Exercise,
    sources: list[list[str]],
    *,
    seed: int | None = None,
    sandboxed: bool | None = None,
    root: Path = SETTINGS.root,
) -> list[Verdict]:
    """Verdicts on several solution sources of one exercise, run one after the other in ONE
    child process.

    Only for trusted code (the mutation suites): the sources share the child's process.
    A submission's cell is always judged alone, through ``decide`` or ``decide_all``.
    """
    return decide_all(topic, [(exercise, sources)], seed=seed, sandboxed=sandboxed, root=root)[0]


def decide_all(
    topic: str,
    work: list[tuple[Exercise, list[list[str]]]],
    *,
    seed: int | None = None,
    sandboxed: bool | None = None,
    root: Path = SETTINGS.root,
) -> list[list[Verdict]]:
    """Per exercise of ``work``, the verdict on each of its sources (a source is a list of
    cells: earlier exercises' solution cells, then the exercise's own).

    One sandboxed runner serves the whole list: it pays for torch and the topic's imports
    once (while this process runs the reference), and forks a fresh child per exercise.
    """
    import numpy as np

    sandboxed = sandbox.available() if sandboxed is None else sandboxed
    # One seed per exercise, each recorded in its verdicts: the notebook's hidden check draws
    # the same cases from it (``seed=``), so that any failure can be replayed.
    root_seed = np.random.SeedSequence(seed)
    seeds = [int(s) for s in root_seed.generate_state(len(work))]
    cases = [exercise.draw_cases(np.random.default_rng(s)) for (exercise, _), s in zip(work, seeds)]
    runner = Runner(topic, sandboxed, root)
    try:
        expected = [_expected(exercise, drawn) for (exercise, _), drawn in zip(work, cases)]
        verdicts: list[list[Verdict]] = []
        stopped = ""
        for (exercise, sources), drawn, right in zip(work, cases, expected):
            limit = SETTINGS.limits.cell_timeout_s * len(sources)
            if not stopped:
                try:
                    outcome, payload = runner.run(exercise.name, sources, drawn, limit)
                except RunnerStopped as error:
                    stopped = str(error)
            if stopped:
                message = f"`{exercise.name}` could not be graded: {stopped}."
                verdicts.append([
                    Verdict(exercise.name, VerdictKind.CRASHED, CRASHED, message, sandboxed)
                    for _ in sources
                ])
                continue
            verdicts.append(_judge_all(exercise, sources, drawn, right, outcome, payload))
    finally:
        runner.close()
    for judged, (_, sources), exercise_seed in zip(verdicts, work, seeds):
        for verdict, cells in zip(judged, sources):
            verdict.sandboxed, verdict.flags = sandboxed, flag_constructs(cells[-1])
            verdict.seed = exercise_seed
    return verdicts


def _expected(exercise: Exercise, cases: list[dict]) -> list[dict]:
    from helpers.exercise import as_tensors

    reference = exercise.load_reference()
    with _REFERENCE_LOCK:
        return [as_tensors(exercise.run_case(reference, case)) for case in cases]


def _judge_all(
    exercise: Exercise,
    sources: list[list[str]],
    cases: list[dict],
    expected: list[dict],
    outcome: str,
    payload: bytes,
) -> list[Verdict]:
    """The verdict on each source from one child's outcome and result."""
    name = exercise.name
    limit = SETTINGS.limits.cell_timeout_s
    if outcome != "finished":
        kind, check, message = {
            "timed out": (VerdictKind.TIMED_OUT, TOOK_TOO_LONG,
                          f"`{name}` took longer than {limit} s on the hidden cases."),
            "too large": (VerdictKind.CRASHED, TOO_LARGE,
                          f"`{name}` returned more than {channel.MAX_FRAME_BYTES // 2**20} MiB "
                          "of outputs, more than the grader reads."),
        }.get(outcome, (VerdictKind.CRASHED, CRASHED,
                        f"`{name}` did not finish: it crashed, ran out of memory or exited "
                        "early."))
        return [Verdict(name, kind, check, message, True) for _ in sources]
    try:
        results = channel.read_result(payload, len(sources), len(cases))
    except channel.MalformedResult as error:
        message = f"The grader could not read what `{name}` returned: {error}."
        return [Verdict(name, VerdictKind.CRASHED, UNREADABLE, message, True) for _ in sources]
    return [_judge(exercise, cases, result, expected) for result in results]


def _from_error(name: str, entry: dict) -> Verdict:
    """The verdict for an error the child reported (its text is the student's, so it only
    ever fails the exercise)."""
    from helpers.solution_cells import RULE

    error = entry["error"]
    if entry["kind"] == "not done":
        return Verdict(name, VerdictKind.NOT_DONE, NOT_DONE, f"`{name}` is not done yet.", True)
    if entry["kind"] == "shortcut":
        return Verdict(name, VerdictKind.SHORTCUT, SHORTCUT, error, True)
    if entry["kind"] == "too large":
        message = f"`{name}` returned more outputs than the grader reads: {error}."
        return Verdict(name, VerdictKind.CRASHED, TOO_LARGE, message, True)
    message = f"On a hidden case, `{name}` failed: {error}"
    if entry["kind"] == "missing name":
        return Verdict(name, VerdictKind.FAILED, NAME_UNSEEN, f"{message} {RULE}", True)
    return Verdict(name, VerdictKind.FAILED, RAISED, message, True)


def _judge(exercise: Exercise, cases: list[dict], result: Any, expected: list[dict]) -> Verdict:
    """Compare one source's outputs on every case with the reference's."""
    import torch

    from helpers.checking import check_of

    name = exercise.name
    if isinstance(result, dict):  # the cell could not be loaded
        return _from_error(name, result)
    for case, actual, right in zip(cases, result, expected):
        if isinstance(actual.get("error"), str):
            return _from_error(name, actual)
        try:
            tensors = {key: torch.from_numpy(array.copy()) for key, array in actual.items()}
            exercise.compare(case, tensors, right)
        except AssertionError as error:
            return Verdict(name, VerdictKind.FAILED, check_of(error), str(error), True)
        except Exception as error:  # outputs of the wrong kind or shape for this comparison
            message = f"The outputs of `{name}` could not be checked: {error}"
            return Verdict(name, VerdictKind.FAILED, UNCHECKABLE, message, True)
    passed = f"`{name}` passed every hidden check."
    return Verdict(name, VerdictKind.PASSED, PASSED, passed, True)


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


def solution_cells(notebook: nbformat.NotebookNode, names: list[str], name: str) -> list[str]:
    """The cells the grader loads for exercise ``name`` (``names``: the notebook's exercises,
    in order): the earlier exercises' solution cells the notebook has, then its own."""
    earlier = names[: names.index(name)]
    cells = [find_cell(notebook, other).source for other in earlier if _has_cell(notebook, other)]
    return [*cells, _solution_source(notebook, name)]


def _has_cell(notebook: nbformat.NotebookNode, grade_id: str) -> bool:
    try:
        find_cell(notebook, grade_id)
    except KeyError:
        return False
    return True


def verdicts_for(
    notebook: nbformat.NotebookNode, release: nbformat.NotebookNode, topic: Topic
) -> dict[str, Verdict]:
    """The verdict on every exercise of ``topic`` in a submitted notebook."""
    names = list(topic.exercises)
    verdicts, work = {}, []
    for name, exercise in topic.exercises.items():
        cells = solution_cells(notebook, names, name)
        if cells[-1].strip() == find_cell(release, name).source.strip():
            # The release's scaffold, untouched: it raises NotImplementedError, no need to run it.
            message = f"`{name}` is not done yet."
            verdicts[name] = Verdict(
                name, VerdictKind.NOT_DONE, NOT_DONE, message, sandbox.available()
            )
        else:
            work.append((exercise, [cells]))
    if work:
        decided = decide_all(topic.name, work)
        verdicts |= {exercise.name: judged[0] for (exercise, _), judged in zip(work, decided)}
    return {name: verdicts[name] for name in topic.exercises}


def _cells_digest(notebook: nbformat.NotebookNode, grade_ids: list[str]) -> str:
    sources = [_solution_source(notebook, grade_id) for grade_id in grade_ids]
    return hashlib.sha256(json.dumps(sources).encode()).hexdigest()


@dataclass
class Report:
    """What ``ApplyVerdicts`` applied to one submission: the verdict on each exercise, and
    the cells nbgrader stopped at their time limit (from its ``Execute`` step, never from
    anything the kernel printed)."""

    verdicts: dict[str, Verdict] = field(default_factory=dict)
    timed_out_cells: list[str] = field(default_factory=list)


def write_report(
    path: Path,
    notebook: nbformat.NotebookNode,
    verdicts: dict[str, Verdict],
    timed_out_cells: list[str] = (),
) -> None:
    """Save ``verdicts`` (in the notebook's exercise order) with the digest of the cells each
    was decided on (its own solution cell and those of the exercises before it), and the
    cells that ran over their time."""
    names = list(verdicts)
    entries = {}
    for name, verdict in verdicts.items():
        grade_ids = names[: names.index(name) + 1]
        entries[name] = {
            **verdict.to_json(),
            "cells": grade_ids,
            "cells_sha256": _cells_digest(notebook, grade_ids),
        }
    path.write_text(json.dumps({"verdicts": entries, "timed_out_cells": list(timed_out_cells)}))


def read_report(path: Path) -> Report:
    """A report written by ``write_report``; an empty one where there is none (an assignment
    without a registry)."""
    if not path.exists():
        return Report()
    data = json.loads(path.read_text())
    verdicts = {}
    for name, entry in data["verdicts"].items():
        fields = {key: value for key, value in entry.items() if key not in DIGEST_FIELDS}
        verdicts[name] = Verdict(**fields)
    return Report(verdicts, list(data["timed_out_cells"]))


DIGEST_FIELDS = ("cells", "cells_sha256")


def load_decided(folder: str) -> dict[str, dict]:
    """Every report that ``decide_ahead`` wrote in ``folder``, by student (none without one)."""
    if not folder:
        return {}
    return {
        path.stem: json.loads(path.read_text())["verdicts"]
        for path in Path(folder).glob("*.json")
    }


def unchanged_verdicts(
    entries: dict | None, notebook: nbformat.NotebookNode
) -> dict[str, Verdict] | None:
    """The verdicts of a report if each was decided on the cells ``notebook`` has now;
    otherwise (no report, or a cell differs) None."""
    verdicts = {}
    for name, entry in (entries or {}).items():
        fields = dict(entry)
        grade_ids = fields.pop("cells", [name])
        if fields.pop("cells_sha256", None) != _cells_digest(notebook, grade_ids):
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
    """Set each autograded test cell's outcome from its exercise's verdict (after Execute).

    The class grader passes three folders on nbgrader's command line; the verdicts decided
    ahead are read when nbgrader builds this step, before any kernel runs.
    """

    decided_folder = Unicode("", help="Reports decided ahead (see decide_ahead).").tag(
        config=True
    )
    report_folder = Unicode("", help="Where to write each submission's report.").tag(
        config=True
    )
    release_root = Unicode(
        str(SETTINGS.root), help="The course whose release notebooks judge a changed cell."
    ).tag(config=True)

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.decided = load_decided(self.decided_folder)

    def preprocess(self, nb: nbformat.NotebookNode, resources: dict) -> tuple:
        assignment = resources["nbgrader"]["assignment"]
        student = resources["nbgrader"]["student"]
        verdicts = unchanged_verdicts(self.decided.get(student), nb)
        if verdicts is None:
            try:
                topic = topic_of(assignment)
            except KeyError:  # an assignment without a registry (the toy course of the tests)
                self.log.warning("No registry for %s: outcomes come from the kernel.", assignment)
                verdicts = {}
            else:
                release = nbformat.read(topic.release_path(Path(self.release_root)), 4)
                verdicts = verdicts_for(nb, release, topic)
        if verdicts:
            self._apply(nb, verdicts)
        if self.report_folder:
            timed_out = resources.get("course", {}).get("timed_out_cells", [])
            write_report(Path(self.report_folder) / f"{student}.json", nb, verdicts, timed_out)
        return nb, resources

    @staticmethod
    def _apply(nb: nbformat.NotebookNode, verdicts: dict[str, Verdict]) -> None:
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
                verdict = Verdict(
                    grade_id, VerdictKind.FAILED, "no exercise", message, sandbox.available()
                )
            if verdict.passed:
                cell.outputs = [
                    nbformat.v4.new_output("stream", name="stdout", text=verdict.explanation + "\n")
                ]
            else:
                cell.outputs = [
                    nbformat.v4.new_output(
                        "error",
                        ename="AssertionError",
                        evalue=verdict.explanation,
                        traceback=[f"AssertionError: {verdict.explanation}"],
                    )
                ]
