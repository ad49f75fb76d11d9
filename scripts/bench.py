"""The project's performance record: every figure next to its baseline or its target.

    make bench                      # everything (6 to 11 minutes on 2 CPU cores)
    .venv/bin/python scripts/bench.py --only demos,grading --class-size 20

Writes ``benchmarks/results.json`` and prints one table. Sections:

- **demos**: each interactive demo's compute function at its default widget values and at its
  heaviest setting, next to the straightforward formulation in ``benchmarks/baselines.py``
  (``tests/test_baselines_agree.py`` shows that both compute the same numbers). Both run on
  one CPU thread, the setting the demos choose themselves (``helpers.device.one_cpu_thread``),
  so the ratio measures the formulation alone. Median of several runs.
- **notebooks**: each solution notebook executed headless top to bottom, outside grading mode
  (demos run) and inside it (``NBGRADER_EXECUTION=autograde``: demos and training skipped).
- **grading**: seconds per graded notebook for a generated class (a third correct, a third
  with a wrong answer per exercise from the mutation suite, a third the untouched release),
  with 1 and 2 workers, with and without the sandbox, and the speedup of 2 workers over 1.
  With the sandbox, two workers grade the whole class (20 submissions of notebook 01;
  ``--assignment`` picks another) and one worker its first 6 (two of each kind); to keep the
  bench's time down, 1 and 2 workers without the sandbox grade its first 4, and a local Dask
  cluster of 2 workers its first 4. One worker grades half of its sample before two workers
  grade theirs, and the other half after (``grading_turns``).
- **book**: ``make book`` from nothing (an empty execution cache: the four notebooks run, then
  Sphinx) and again with no change, each as the command a reader runs.
- **hub**: a class of 40 on a course hub (``make hub``: Unix accounts, nbgrader's exchange):
  every student logs in, their server starts, they fetch notebook 01 and submit it (a third
  solved, a third wrong, a third untouched) through their server's Assignments API, as the
  Assignments tab does, all within a minute; then the instructor's steps run as they would
  (collect, grade with 2 workers, release feedback). The row is the time from the last
  submission to the last feedback released; every submission must be collected, graded and
  given its own feedback. Needs root and bubblewrap, else skipped.
- **tests**: the wall time of the last ``make test-fast`` and ``make test`` runs, which the test
  suite records itself in ``benchmarks/test_times.json`` (running the suite here would take
  longer than the whole bench may).
- **gpu**: with CUDA, each notebook and the bonus training on CUDA against the CPU, and each
  demo's compute on CUDA; skipped (and said so) on machines without CUDA.
- **hooks**: rows other tools provide when present (see ``hook_rows``).

Absolute seconds depend on the machine and on whatever else runs on it; the ratios much less.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))  # benchmarks/ and tests/ are not installed packages

import nbformat  # noqa: E402
import torch  # noqa: E402

from benchmarks import baselines  # noqa: E402
from helpers.basics import demos as basics_demos  # noqa: E402
from helpers.basics import reference as basics_reference  # noqa: E402
from helpers.data import hierarchical_data, load_mnist  # noqa: E402
from helpers.deep_linear import demos as linear_demos  # noqa: E402
from helpers.device import set_seed  # noqa: E402
from helpers.models import MLP  # noqa: E402
from helpers.optimization import demos as optimization_demos  # noqa: E402
from helpers.optimization import reference as updates  # noqa: E402
from helpers.optimization.landscape import LossSlice, newton_optimum  # noqa: E402
from helpers.rules import demos as rules_demos  # noqa: E402
from helpers.rules import reference as rules_reference  # noqa: E402

RESULTS = REPO_ROOT / "benchmarks" / "results.json"
TEST_TIMES = REPO_ROOT / "benchmarks" / "test_times.json"
BROWSER_TIMINGS = REPO_ROOT / "build" / "browser" / "timings.json"
SECTIONS = ("demos", "notebooks", "book", "grading", "hub", "tests", "gpu", "hooks")
HUB_CLASS_SIZE = 40
HUB_SUBMIT_WINDOW_S = 60.0  # the class submits within this (the "one minute")
DEMO_TARGET_SECONDS = 1.0
DEMO_TARGET_RATIO = 2.0
DEMOS_SUM_TARGET_RATIO = 3.0
NOTEBOOK_TARGET_SECONDS = 60.0
BOOK_FIRST_TARGET_SECONDS = 300.0
BOOK_REBUILD_TARGET_SECONDS = 10.0
GRADING_TARGET_SECONDS = 10.0
GRADING_TARGET_SPEEDUP = 1.7


@dataclass
class Row:
    """One line of the record: a measurement, and what it is compared with."""

    section: str
    name: str
    seconds: float | None
    baseline: float | None = None  # the baseline's seconds, when there is one
    target: str = ""  # what the row must meet, in words ("<= 1 s, >= 2x")
    met: bool | None = None  # None: no target
    note: str = ""
    date: str = ""  # when the row was measured

    @property
    def ratio(self) -> float | None:
        if self.seconds and self.baseline:
            return self.baseline / self.seconds
        return None


def median_time(run: Callable[[], object], repeats: int) -> float:
    """Median seconds of ``repeats`` runs (the median leaves out a first, colder run)."""
    return median_times([run], repeats)[0]


def median_times(runs: Sequence[Callable[[], object]], repeats: int) -> list[float]:
    """Median seconds of each of ``runs``, taken in turns ``repeats`` times: a machine that
    slows down for a while slows them alike, so their ratio holds."""
    times: list[list[float]] = [[] for _ in runs]
    for _ in range(repeats):
        for run, seconds in zip(runs, times):
            start = time.perf_counter()
            run()
            seconds.append(time.perf_counter() - start)
    return [statistics.median(seconds) for seconds in times]


# --------------------------------------------------------------------------------------
# Demos
# --------------------------------------------------------------------------------------


@dataclass
class DemoCase:
    name: str
    fast: Callable[[], object]
    baseline: Callable[[], object] | None
    default: bool  # at the widget's default values (the 1-second target applies)
    note: str = ""


def demo_cases(device: torch.device) -> list[DemoCase]:
    """Every interactive demo's compute, at its defaults and at its heaviest setting."""
    set_seed(2021)
    train_set, _ = load_mnist()
    subset = torch.randperm(len(train_set))[:500]
    inputs, targets = train_set.data[subset].to(device), train_set.targets[subset].to(device)
    all_inputs, all_targets = train_set.data.to(device), train_set.targets.to(device)
    linear = optimization_demos.partially_train(MLP(hidden_dims=[]).to(device), inputs, targets)
    loss_slice = LossSlice.from_model(linear, inputs, targets)
    tree = hierarchical_data(n_features=10_000, flip_probability=0.15, seed=2021, device=device)
    gd, momentum, rmsprop, sample = (
        updates.gradient_update,
        updates.momentum_update,
        updates.rmsprop_update,
        updates.sample_minibatch,
    )
    exercises = {
        "Nesterov": rules_reference.Nesterov,
        "Adagrad": rules_reference.Adagrad,
        "Adam": rules_reference.Adam,
    }
    rules = rules_demos.default_rules(exercises, 0.01, 0.1, 0.9)

    def lr_demo(steps: int) -> DemoCase:
        fit = basics_reference.fit_polynomial
        return DemoCase(
            f"01 learning rate, {steps} steps",
            lambda: basics_demos.lr_run(fit, 1e-6, steps, device=device),
            lambda: baselines.lr_run_history(fit, 1e-6, steps),
            steps == 2000,
            "baseline: Polynomial3, four scalar parameters",
        )

    def rules_demo(function: str, steps: int, schedule: str) -> DemoCase:
        return DemoCase(
            f"04 rules, {function}, {steps} steps, {schedule}",
            lambda: rules_demos.compare_rules(function, rules, steps, schedule),
            lambda: baselines.compare_rules(function, rules, steps, schedule),
            steps == 300,
            "baseline: one rule at a time, lr adjusted every step",
        )

    def schedule_race(steps: int) -> DemoCase:
        adam = rules_reference.Adam(lr=0.05)
        return DemoCase(
            f"04 schedules against noise, {steps} steps",
            lambda: rules_demos.schedule_race(adam, steps),
            lambda: baselines.schedule_race(adam, steps),
            steps == 1000,
            "baseline: the model, autograd and the state tree, one schedule at a time",
        )

    def overparameterization(hidden: str, steps: int, copies: int) -> DemoCase:
        settings = {"hidden_dims": hidden, "steps": steps, "num_inits": copies}
        return DemoCase(
            f"03 overparameterization [{hidden}], {copies} x {steps} steps",
            lambda: optimization_demos.overparameterization(inputs, targets, gd, **settings),
            lambda: baselines.overparameterization(inputs, targets, gd, **settings),
            hidden == "10",
            "baseline: one perturbed model trained at a time",
        )

    def optimizers(batch_size: int, steps: int) -> DemoCase:
        settings = {"batch_size": batch_size, "steps": steps}
        data = (all_inputs, all_targets, gd, momentum, rmsprop, sample)
        return DemoCase(
            f"03 compare optimizers, batch {batch_size}, {steps} steps",
            lambda: optimization_demos.compare_optimizers(*data, **settings),
            None,
            steps == 100,
            "matrix products dominate: the four models take turns on each minibatch",
        )

    return [
        lr_demo(2000),
        lr_demo(10_000),
        DemoCase(
            "02 loss vs eta and gamma, 250 epochs",
            lambda: linear_demos.loss_for_settings(tree),
            lambda: baselines.tree_training_losses(tree),
            True,
            "baseline: plain training at full size, reading the loss alone",
        ),
        DemoCase(
            "02 SVD/RSA explorer, 250 epochs",
            lambda: linear_demos.svd_rsa_record(tree),
            lambda: baselines.tree_training_record(tree),
            True,
            "baseline: one training run per recorded quantity",
        ),
        DemoCase(
            "03 loss surface, 30 x 30 grid",
            lambda: LossSlice.from_model(linear, inputs, targets).grid(points=30),
            lambda: baselines.loss_slice_grid(linear, inputs, targets, points=30),
            True,
            "baseline: a model copy per grid point",
        ),
        DemoCase(
            "03 Newton's optimum",
            lambda: newton_optimum(LossSlice.from_model(linear, inputs, targets)),
            lambda: baselines.newton_fixed_iterations(linear, inputs, targets),
            True,
            f"baseline: {baselines.NEWTON_ITERATIONS} iterations through the whole model",
        ),
        DemoCase(
            "03 loss changes, 100 directions",
            lambda: optimization_demos.loss_changes(linear, inputs, targets, gd),
            lambda: baselines.loss_changes(linear, inputs, targets, gd),
            True,
            "baseline: a model copy per direction",
        ),
        DemoCase(
            "03 momentum vs gradient descent, 300 steps",
            lambda: optimization_demos.momentum_vs_gd(loss_slice, gd, momentum),
            lambda: baselines.momentum_vs_gd(linear, inputs, targets, gd, momentum),
            True,
            "baseline: the loss through the whole model",
        ),
        DemoCase(
            "03 momentum vs gradient descent, 500 steps",
            lambda: optimization_demos.momentum_vs_gd(loss_slice, gd, momentum, steps=500),
            lambda: baselines.momentum_vs_gd(linear, inputs, targets, gd, momentum, steps=500),
            False,
        ),
        overparameterization("10", 150, 7),
        overparameterization("100, 100", 500, 10),
        DemoCase(
            "03 cost of computation, hidden [100]",
            lambda: optimization_demos.computation_time(all_inputs, all_targets),
            None,
            True,
            "measures time itself: no baseline",
        ),
        optimizers(100, 100),
        optimizers(250, 500),
        rules_demo("ill-conditioned quadratic", 300, "constant"),
        rules_demo("Rosenbrock", 1500, "warm-up + cosine"),
        schedule_race(1000),
        schedule_race(3000),
    ]


def demo_rows(repeats: int) -> list[Row]:
    # One thread for the demos and their baselines alike: the demos choose it themselves, and
    # the ratio should measure the formulation, not the thread setting.
    torch.set_num_threads(1)
    rows = []
    fast_sum = baseline_sum = 0.0
    for case in demo_cases(torch.device("cpu")):
        runs = repeats if case.default else 1  # the heaviest settings take long enough once
        if case.baseline:
            seconds, baseline = median_times([case.fast, case.baseline], runs)
        else:
            seconds, baseline = median_time(case.fast, runs), None
        row = Row("demos", case.name, seconds, baseline, note=case.note)
        if case.default:
            row.target = f"<= {DEMO_TARGET_SECONDS:g} s" + (
                f", >= {DEMO_TARGET_RATIO:g}x" if baseline else ""
            )
            row.met = seconds <= DEMO_TARGET_SECONDS and (
                baseline is None or row.ratio >= DEMO_TARGET_RATIO
            )
            if baseline:
                fast_sum, baseline_sum = fast_sum + seconds, baseline_sum + baseline
        rows.append(row)
        print(format_row(row), flush=True)
    total = Row(
        "demos",
        "sum of the demos at their defaults",
        fast_sum,
        baseline_sum,
        f">= {DEMOS_SUM_TARGET_RATIO:g}x",
    )
    total.met = total.ratio is not None and total.ratio >= DEMOS_SUM_TARGET_RATIO
    rows.append(total)
    torch.set_num_threads(os.cpu_count() or 1)
    return rows


# --------------------------------------------------------------------------------------
# Notebooks
# --------------------------------------------------------------------------------------


def time_notebook(
    path: Path, grading: bool, extra_env: dict[str, str] | None = None
) -> tuple[float, int]:
    """Seconds to run a notebook top to bottom in a fresh kernel, and its number of errors."""
    from instructor.execution import error_outputs, execute_notebook

    notebook = nbformat.read(path, as_version=4)
    environment = {k: v for k, v in os.environ.items() if k != "NBGRADER_EXECUTION"}
    if grading:
        environment["NBGRADER_EXECUTION"] = "autograde"
    environment.update(extra_env or {})
    start = time.perf_counter()
    execute_notebook(notebook, path.parent, environment=environment)
    return time.perf_counter() - start, len(error_outputs(notebook))


def notebook_rows() -> list[Row]:
    from instructor.notebook import topics

    rows = []
    for topic in topics():
        for grading in (False, True):
            seconds, errors = time_notebook(topic.solution_path(), grading)
            mode = "grading mode" if grading else "outside grading"
            row = Row(
                "notebooks",
                f"{topic.assignment}, {mode}",
                seconds,
                target=f"<= {NOTEBOOK_TARGET_SECONDS:g} s",
                met=seconds <= NOTEBOOK_TARGET_SECONDS and errors == 0,
                note=f"{errors} cells with errors" if errors else "",
            )
            rows.append(row)
            print(format_row(row), flush=True)
    return rows


# --------------------------------------------------------------------------------------
# The website
# --------------------------------------------------------------------------------------


def book_rows() -> list[Row]:
    """``make book`` into a fresh folder with an empty cache, then again with no change."""
    with tempfile.TemporaryDirectory(prefix="bench-book-") as folder:
        command = [
            sys.executable, "-m", "instructor.book",
            "--output", f"{folder}/site", "--work", f"{folder}/work",
        ]
        seconds = []
        for _ in range(2):
            start = time.perf_counter()
            done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True)
            seconds.append(time.perf_counter() - start)
            if done.returncode != 0:
                raise RuntimeError(f"make book failed:\n{done.stderr[-3000:]}")
    first = Row(
        "book", "make book, first build (4 notebooks run, then Sphinx)", seconds[0],
        target=f"<= {BOOK_FIRST_TARGET_SECONDS:g} s",
        met=seconds[0] <= BOOK_FIRST_TARGET_SECONDS,
    )
    again = Row(
        "book", "make book again, nothing changed", seconds[1],
        target=f"<= {BOOK_REBUILD_TARGET_SECONDS:g} s",
        met=seconds[1] <= BOOK_REBUILD_TARGET_SECONDS,
        note="the executed notebooks come from the cache; Sphinx rebuilds no page",
    )
    for row in (first, again):
        print(format_row(row), flush=True)
    return [first, again]


# --------------------------------------------------------------------------------------
# Grading
# --------------------------------------------------------------------------------------


def generate_class(root: Path, topic, class_size: int) -> None:
    """A class of ``class_size`` submissions of ``topic`` under ``root/submitted``: a third
    correct, a third with one wrong answer per exercise (from the mutation suite), a third the
    untouched release."""
    from instructor.notebook import find_cell

    wrong = importlib.import_module(f"variants_{topic.name}").WRONG
    solution = nbformat.read(topic.solution_path(), as_version=4)
    for index in range(class_size):
        notebook = nbformat.read(topic.release_path(root), as_version=4)
        for name in topic.exercises:
            if index % 3 == 0:
                find_cell(notebook, name).source = find_cell(solution, name).source
            elif index % 3 == 1:
                variants = list(wrong[name].values())
                find_cell(notebook, name).source = variants[index % len(variants)]
        target = root / "submitted" / f"student_{index:03d}" / topic.assignment
        target.mkdir(parents=True)
        nbformat.write(notebook, target / topic.notebook_name)


def grading_turns(
    everyone: list[str], one_worker_sample: int, two_worker_sample: int
) -> list[tuple[int, list[str]]]:
    """(workers, students) in the order they are graded: one worker grades half of its sample
    before two workers grade theirs and the other half after, so that a machine that speeds up
    or slows down along the way changes both sides of the speedup alike. Two workers grade in
    one go: each stop would leave a worker idle while the other finishes its last notebook."""
    one = everyone[: max(2, one_worker_sample)]
    return [(1, one[: len(one) // 2]), (2, everyone[:two_worker_sample]), (1, one[len(one) // 2 :])]


def grade_in_turns(
    course, assignment: str, turns: list[tuple[int, list[str]]], sandboxed: bool
) -> dict[int, float]:
    """Seconds per graded notebook for each number of workers, summed over its turns."""
    from instructor import grading

    seconds: dict[int, float] = {}
    graded: dict[int, int] = {}
    for workers, students in turns:
        start = time.perf_counter()
        grading.grade_class(
            course,
            workers=workers,
            assignments=[assignment],
            students=students,
            feedback=False,
            sandboxed=sandboxed,
        )
        seconds[workers] = seconds.get(workers, 0.0) + time.perf_counter() - start
        graded[workers] = graded.get(workers, 0) + len(students)
        shutil.rmtree(course.root / "autograded", ignore_errors=True)
    return {workers: seconds[workers] / graded[workers] for workers in sorted(seconds)}


def grading_rows(
    class_size: int,
    assignment: str,
    one_worker_sample: int,
    unsandboxed_sample: int,
    cluster_sample: int,
) -> list[Row]:
    from instructor import model, release, sandbox
    from instructor.notebook import topics

    sys.path.insert(0, str(REPO_ROOT / "tests"))  # the mutation suites (variants_*.py)
    topic = next(t for t in topics() if t.assignment == assignment)
    modes = [True, False] if sandbox.available() else [False]
    rows: list[Row] = []
    per_notebook_by_mode: dict[bool, dict[int, float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as folder:
        root = Path(folder)
        (root / "solutions").symlink_to(REPO_ROOT / "solutions")
        course = model.Course(root=root)
        release.release(course, [topic.assignment])
        generate_class(root, topic, class_size)
        everyone = sorted(path.name for path in (root / "submitted").iterdir())
        # (one worker's sample, two workers' sample): samples of the first students (each kind
        # about equally often) except for the target's row, since the whole class three more
        # times would take the bench past 10 minutes.
        samples = {
            True: (one_worker_sample, len(everyone)),
            False: (unsandboxed_sample, unsandboxed_sample),
        }
        # Timing discarded: the first notebook graded pays for loading nbgrader, torch and the
        # sandbox from disk, which would count for the speedup.
        grade_in_turns(course, topic.assignment, [(1, everyone[:1])], modes[0])
        for sandboxed in modes:
            turns = grading_turns(everyone, *samples[sandboxed])
            per_notebook = grade_in_turns(course, topic.assignment, turns, sandboxed)
            per_notebook_by_mode[sandboxed] = per_notebook
            label = "with the sandbox" if sandboxed else "without the sandbox"
            for workers, seconds in per_notebook.items():
                graded = sum(len(students) for count, students in turns if count == workers)
                name = f"{graded} x {topic.assignment}, {label}, {workers} worker(s)"
                note = "half before, half after 2 workers" if workers == 1 else ""
                row = Row("grading", f"{name}, per notebook", seconds, note=note)
                if sandboxed and workers == 2:
                    row.target = f"<= {GRADING_TARGET_SECONDS:g} s"
                    row.met = seconds <= GRADING_TARGET_SECONDS
                rows.append(row)
                print(format_row(row), flush=True)
            speedup = Row(
                "grading",
                f"2 workers over 1, {label}",
                per_notebook[2],
                per_notebook[1],
                f">= {GRADING_TARGET_SPEEDUP:g}x" if sandboxed else "",
            )
            speedup.met = speedup.ratio >= GRADING_TARGET_SPEEDUP if sandboxed else None
            rows.append(speedup)
            print(format_row(speedup), flush=True)
        # Each Dask worker grades as the plain path does, in the sandbox where there is one.
        plain_two_workers = per_notebook_by_mode[modes[0]][2]
        rows.append(
            cluster_row(course, topic.assignment, everyone[:cluster_sample], plain_two_workers)
        )
    if len(modes) == 1:
        rows.append(Row("grading", "with the sandbox", None, note="skipped: no bubblewrap"))
    return rows


def cluster_row(course, assignment: str, students: list[str], baseline: float) -> Row:
    """The same class on a local Dask cluster of 2 worker processes, next to the plain path
    with 2 workers (sandboxed where bubblewrap works); the start-up is paid once per class."""
    from instructor import cluster, grading

    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as output:
        start = time.perf_counter()
        with cluster.local_cluster(2) as local:
            started = time.perf_counter() - start
            start = time.perf_counter()
            grading.grade_class(
                course,
                output_root=Path(output),
                assignments=[assignment],
                students=students,
                feedback=False,
                scheduler=local.scheduler_address,
            )
            seconds = (time.perf_counter() - start) / len(students)
    name = f"{len(students)} x {assignment} on a local Dask cluster, 2 workers, per notebook"
    row = Row("grading", name, seconds, baseline, note=f"cluster start-up {started:.1f} s")
    print(format_row(row), flush=True)
    return row


# --------------------------------------------------------------------------------------
# Tests, GPU, hooks
# --------------------------------------------------------------------------------------


def hub_rows(class_size: int = HUB_CLASS_SIZE, assignment: str = "01_pytorch_basics") -> list[Row]:
    """The class submits through the exchange; seconds from the last submission to the last
    feedback released (see the module's docstring)."""
    import signal
    from concurrent.futures import ThreadPoolExecutor

    from instructor import exchange, grading, hub, sandbox
    from instructor.notebook import find_cell, topics

    if os.geteuid() != 0 or not sandbox.available() or not hub.PROXY.exists():
        return [Row("hub", f"{class_size} students through the exchange", None,
                    note="skipped: needs root, bubblewrap and configurable-http-proxy")]
    sys.path.insert(0, str(REPO_ROOT / "tests"))  # the test's hub and the mutation suites
    from hubs import HubClient, course_hub

    # A stopped bench still stops the hub and removes its accounts (the `finally`s run).
    signal.signal(signal.SIGTERM, lambda number, frame: sys.exit(1))
    topic = next(t for t in topics() if t.assignment == assignment)
    wrong = importlib.import_module(f"variants_{topic.name}").WRONG
    solution = nbformat.read(topic.solution_path(), as_version=4)
    names = [f"s{index:03d}" for index in range(class_size)]
    with course_hub(names) as running:
        place = exchange.Place(running.settings.course_id, running.settings.exchange)
        exchange.release(running.course, place, [assignment])
        clients = [HubClient(running, student) for student in running.settings.students]

        def log_in_and_fetch(client: HubClient) -> None:
            client.login()
            client.start_server(timeout=900)
            if not client.assignments("fetch", assignment).get("success"):
                raise RuntimeError(f"{client.account} could not fetch {assignment}")

        def submit(client: HubClient) -> None:
            done = client.assignments("submit", assignment)
            if not done.get("success"):
                raise RuntimeError(f"{client.account} could not submit: {done}")

        # The class logs in and fetches first (servers start 4 at a time on 2 cores).
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(log_in_and_fetch, clients))
        servers_up = time.perf_counter() - started
        for index, client in enumerate(clients):  # each writes their answers
            path = Path(hub.pwd.getpwnam(client.account).pw_dir) / assignment
            notebook = nbformat.read(path / topic.notebook_name, as_version=4)
            for name in topic.exercises:
                if index % 3 == 0:
                    find_cell(notebook, name).source = find_cell(solution, name).source
                elif index % 3 == 1:
                    variants = list(wrong[name].values())
                    find_cell(notebook, name).source = variants[index % len(variants)]
            nbformat.write(notebook, path / topic.notebook_name)
        first = time.perf_counter()
        with ThreadPoolExecutor(max_workers=8) as pool:  # the Assignments tab's Submit
            list(pool.map(submit, clients))
        last_submission = time.perf_counter()
        collected = exchange.collect(running.course, place, [assignment])
        after_collect = time.perf_counter()
        results = grading.grade_class(running.course, workers=2, assignments=[assignment])
        after_grading = time.perf_counter()
        released = exchange.release_feedback(running.course, place, [assignment])
        done = time.perf_counter()
        students = running.settings.students
        problems = _hub_load_problems(running, students, assignment, collected, results, released)
    if problems:
        raise RuntimeError("the hub's class was not served whole: " + "; ".join(problems))
    window = last_submission - first
    row = Row(
        "hub",
        f"{class_size} students through the exchange: last submission to last feedback",
        done - last_submission,
        note=f"all submitted within {window:.1f} s; collect {after_collect - last_submission:.1f}"
        f" s, grading {after_grading - after_collect:.0f} s (2 workers), feedback "
        f"{done - after_grading:.1f} s; hub up in {running.started_in:.1f} s, the class's "
        f"{class_size} servers up and fetched in {servers_up:.0f} s",
    )
    row.target = f"submitted within {HUB_SUBMIT_WINDOW_S:.0f} s"
    row.met = window <= HUB_SUBMIT_WINDOW_S
    print(format_row(row), flush=True)
    return [row]


def _hub_load_problems(running, students, assignment, collected, results, released) -> list[str]:
    """What the load run got wrong: someone not collected, graded or given their feedback."""
    from nbgrader.utils import notebook_hash

    problems = []
    if sum(line.startswith("Collected") for line in collected) != len(students):
        problems.append(f"collected {len(collected)} of {len(students)}")
    graded = [r for r in results if r.student in students and r.status != "missing"]
    if len(graded) != len(students):
        problems.append(f"graded {len(graded)} of {len(students)}")
    if not any(f"released feedback to {len(students)} student(s)" in line for line in released):
        problems.append(f"feedback: {released}")
    feedback = running.settings.exchange / running.settings.course_id / "feedback"
    for student in students:  # each student's feedback sits where only their secret finds it
        secret = running.course.root / "submitted" / student / assignment / "submission_secret.txt"
        notebook = next((running.course.root / "feedback" / student / assignment).glob("*.html"))
        name = notebook_hash(secret=secret.read_text(), notebook_id=notebook.stem)
        released_file = feedback / f"{name}.html"
        if not released_file.exists() or released_file.read_bytes() != notebook.read_bytes():
            problems.append(f"{student}'s feedback is not where their submission finds it")
    return problems


def test_rows() -> list[Row]:
    """The last recorded wall time of each test selection (tests/conftest.py writes them)."""
    if not TEST_TIMES.exists():
        return [Row("tests", "make test, make test-fast", None, note="not recorded yet")]
    recorded = json.loads(TEST_TIMES.read_text())
    names = {"fast": "make test-fast (-m fast)", "all": "make test (whole suite)"}
    rows = []
    for selection, name in names.items():
        entry = recorded.get(selection)
        if entry is None:
            rows.append(Row("tests", name, None, note="not recorded yet"))
            continue
        outcome = "passed" if entry["exit_status"] == 0 else f"exit status {entry['exit_status']}"
        note = f"recorded {entry['finished']}, {entry['tests']} tests, {outcome}"
        rows.append(Row("tests", name, entry["seconds"], note=note))
    return rows


def gpu_rows(repeats: int) -> list[Row]:
    """Notebooks and the bonus training on CUDA against the CPU, and each demo on CUDA."""
    if not torch.cuda.is_available():
        return [Row("gpu", "CUDA rows", None, note="skipped: no CUDA on this machine")]
    from instructor.notebook import topics

    rows = []
    for topic in topics():
        cpu, _ = time_notebook(topic.solution_path(), False, {"COURSE_DEVICE": "cpu"})
        cuda, errors = time_notebook(topic.solution_path(), False, {"COURSE_DEVICE": "cuda"})
        note = f"{errors} cells with errors" if errors else "baseline: the same on the CPU"
        rows.append(Row("gpu", f"{topic.assignment} on CUDA", cuda, cpu, note=note))
    for device in ("cpu", "cuda"):
        bonus = bonus_training_seconds(torch.device(device))
        rows.append(Row("gpu", f"bonus training (03), 2 epochs, {device}", bonus))
    rows[-1].baseline = rows[-2].seconds
    for case in demo_cases(torch.device("cuda")):

        def synchronized(run: Callable[[], object] = case.fast) -> None:
            run()
            torch.cuda.synchronize()

        rows.append(Row("gpu", f"{case.name} on CUDA", median_time(synchronized, repeats)))
    return rows


def bonus_training_seconds(device: torch.device) -> float:
    """Seconds for notebook 03's bonus: the MLP [200, 100, 50], Adam, 2 epochs, batch 64."""
    from helpers.training import make_loader, split_validation, train_model

    set_seed(2021)
    train_set, _ = load_mnist()
    train_part, val_part = split_validation(train_set, validation_fraction=0.125, seed=2021)
    train_loader = make_loader(train_part, 64, shuffle=True, seed=2021)
    val_loader = make_loader(val_part, 256, shuffle=False, seed=2021)
    model = MLP(hidden_dims=[200, 100, 50]).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    start = time.perf_counter()
    train_model(model, optimizer, train_loader, val_loader, 2, device)
    return time.perf_counter() - start


def hook_rows() -> list[Row]:
    """Rows that other tools measure; each is reported when its source is present.

    - Browser redraw times: ``build/browser/timings.json``, written by
      ``tests/test_browser.py``: per demo, the seconds from a control's change to the new
      figure, at the defaults (``first_seconds``) and at worst (``max_seconds``).
    """
    rows = []
    if BROWSER_TIMINGS.exists():
        recorded = datetime.datetime.fromtimestamp(BROWSER_TIMINGS.stat().st_mtime)
        for demo in json.loads(BROWSER_TIMINGS.read_text())["demos"]:
            note = f"slowest redraw {demo['max_seconds']:.2f} s; recorded {recorded:%Y-%m-%d}"
            name = f"browser redraw {demo['notebook']}: {demo['demo']}"
            rows.append(Row("hooks", name, demo["first_seconds"], note=note))
    else:
        rows.append(Row("hooks", "browser redraw times", None, note=f"no {BROWSER_TIMINGS}"))
    return rows


# --------------------------------------------------------------------------------------
# The table and the record
# --------------------------------------------------------------------------------------


def format_row(row: Row) -> str:
    seconds = "skipped" if row.seconds is None else f"{row.seconds:8.3f}"
    baseline = f"{row.baseline:8.3f}" if row.baseline else ""
    ratio = f"{row.ratio:6.2f}x" if row.ratio else ""
    verdict = {True: "yes", False: "NO", None: ""}[row.met]
    return (
        f"{row.section:<9} {row.name[:58]:<58} {seconds:>8} {baseline:>8} {ratio:>7} "
        f"{row.target:<16} {verdict:<3} {row.note}"
    ).rstrip()


HEADER = (
    f"{'section':<9} {'row':<58} {'seconds':>8} {'baseline':>8} {'ratio':>7} "
    f"{'target':<16} {'met':<3} note"
)


def markdown_table(rows: list[Row]) -> str:
    """The record as the README's performance table."""
    lines = [
        "| section | row | seconds | baseline | ratio | target | met | note |",
        "|---|---|---:|---:|---:|---|---|---|",
    ]
    for row in rows:
        cells = [
            row.section,
            row.name,
            "skipped" if row.seconds is None else f"{row.seconds:.3f}",
            f"{row.baseline:.3f}" if row.baseline else "",
            f"{row.ratio:.2f}x" if row.ratio else "",
            row.target,
            {True: "yes", False: "**no**", None: ""}[row.met],
            row.note,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def recorded_rows() -> list[Row]:
    """The rows of the last record (``benchmarks/results.json``), none if there is none."""
    if not RESULTS.exists():
        return []
    rows = json.loads(RESULTS.read_text())["rows"]
    return [Row(**{key: value for key, value in row.items() if key != "ratio"}) for row in rows]


def machine() -> dict[str, object]:
    return {
        "cpus": os.cpu_count(),
        "load_average_at_start": os.getloadavg(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cuda": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
        "demo_threads": 1,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections")
    parser.add_argument("--repeats", type=int, default=3, help="runs per demo (median)")
    parser.add_argument("--class-size", type=int, default=20, help="submissions to grade")
    parser.add_argument(
        "--assignment", default="01_pytorch_basics", help="the notebook the class submits"
    )
    parser.add_argument(
        "--one-worker-sample", type=int, default=6, help="students graded with one worker"
    )
    parser.add_argument(
        "--unsandboxed-sample",
        type=int,
        default=4,
        help="students graded with 1 and with 2 workers without the sandbox",
    )
    parser.add_argument(
        "--cluster-sample", type=int, default=4, help="students graded on the local cluster"
    )
    parser.add_argument(
        "--markdown", action="store_true", help="print the last record as a table for the README"
    )
    arguments = parser.parse_args()
    if arguments.markdown:
        print(markdown_table(recorded_rows()))
        return
    chosen = [name.strip() for name in arguments.only.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown sections {unknown}; choose from {', '.join(SECTIONS)}")
    started = time.perf_counter()
    record = {"date": datetime.datetime.now().isoformat(timespec="seconds"), "machine": machine()}
    print(HEADER)
    runs = {
        "demos": lambda: demo_rows(arguments.repeats),
        "notebooks": notebook_rows,
        "book": book_rows,
        "grading": lambda: grading_rows(
            arguments.class_size,
            arguments.assignment,
            arguments.one_worker_sample,
            arguments.unsandboxed_sample,
            arguments.cluster_sample,
        ),
        "hub": hub_rows,
        "tests": test_rows,
        "gpu": lambda: gpu_rows(arguments.repeats),
        "hooks": hook_rows,
    }
    # Sections not run this time keep their rows from the previous record (each row is dated).
    kept = [row for row in recorded_rows() if row.section not in chosen]
    rows: list[Row] = []
    for section in chosen:
        rows += [Row(**{**asdict(row), "date": record["date"]}) for row in runs[section]()]
        # Written after every section, so that an interrupted run keeps what it measured.
        rows = sorted(kept + rows, key=lambda row: SECTIONS.index(row.section))
        kept = []
        record["seconds"] = time.perf_counter() - started
        record["rows"] = [{**asdict(row), "ratio": row.ratio} for row in rows]
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(json.dumps(record, indent=2) + "\n")
    print(f"\n{HEADER}")
    for row in rows:
        print(format_row(row))
    missed = [row.name for row in rows if row.met is False]
    print(f"\n{len(missed)} targets missed; {record['seconds']:.0f} s for {', '.join(chosen)}")
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
