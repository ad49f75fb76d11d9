"""The notebooks work for a person in a real browser: JupyterLab in headless Chromium.

Each release and solution notebook is opened in JupyterLab, run with Run > Run All Cells, and
must reach its last cell. Every interactive demo renders its controls, and each control,
moved or pressed once (then Run, where the demo has a Run button), draws a new figure, with
no widget or JavaScript error. The release's demos run from the reference and say so; the
solutions' say they used the student's code, and so does a release demo once an exercise is
solved in the browser. Demos that can be given a bad input or a diverging setting answer
with one friendly line and a named divergence.

Screenshots of every demo and the time from each change to its new figure go to
``build/browser/`` (``timings.json`` is what ``make bench`` reports). Debian's chromium is
needed (``apt-get install chromium``); run this file alone with
``.venv/bin/python -m pytest tests/test_browser.py``.
"""

from __future__ import annotations

import inspect
import json
import re
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat
import pytest
from browser import (
    CHROMIUM,
    Demo,
    DemoFailure,
    NotebookPage,
    Redraw,
    check_demo,
    jupyter_lab,
    press_run,
    set_control,
)

from helpers.widgets import CANNOT_RUN
from instructor.notebook import nbgrader_metadata, topics
from instructor.settings import REPO_ROOT

pytestmark = [pytest.mark.kernel, pytest.mark.browser, pytest.mark.network]
TOPICS = topics()
BUILD = REPO_ROOT / "build" / "browser"
FIXTURE = Path(__file__).parent / "fixtures" / "broken_demo" / "broken_demo.ipynb"
RUN_ALL_TIMEOUT = 600.0  # seconds; a hang, not a speed limit (speed is `make bench`'s job)
REDRAW_TIMEOUT = 120.0
SOLVED_IN_THE_BROWSER = "basics"  # whose release test then solves its demo's exercise
NOTICE = re.compile(r"This run used your `(\w+)`|`(\w+)` is not done yet: this run used the "
                    r"reference|This run used the reference `(\w+)`")
DIVERGED = re.compile(r"diverged(, the first)? at step \d+")


@dataclass(frozen=True)
class DemoPlan:
    """What the browser test does with one demo beyond moving each control once.

    ``exercises``: the exercises whose notice every redraw prints; ``text_values``: a valid
    new value per text box; ``bad_input`` and ``diverging``: settings (control description
    to typed value) that must produce one friendly line, or a named divergence.
    """

    exercises: tuple[str, ...] = ()
    text_values: dict[str, str] = field(default_factory=dict)
    bad_input: dict[str, str] = field(default_factory=dict)
    diverging: dict[str, str] = field(default_factory=dict)


PLANS = {
    "lr_widget": DemoPlan(
        ("fit_polynomial", "stability_limit"), diverging={"learning rate": "1e-5"}
    ),
    # No setting of 02's sliders diverges (tests/test_deep_linear_demos.py).
    "loss_lr_gamma_widget": DemoPlan(("ex_initializer_",)),
    "svd_rsa_explorer": DemoPlan(("ex_initializer_",)),
    "momentum_widget": DemoPlan(
        ("gradient_update", "momentum_update", "momentum_hyperparameters"),
        diverging={"lr": "30"},
    ),
    "overparameterization_widget": DemoPlan(
        ("gradient_update",), diverging={"hidden layers": "100, 100", "lr": "1"}
    ),
    "computation_time_widget": DemoPlan(),
    "minibatch_widget": DemoPlan(
        ("gradient_update", "sample_minibatch"),
        text_values={"batch sizes": "50, 250, 1000", "learning rates": "0.1, 0.1, 0.1"},
        bad_input={"batch sizes": "20, 250", "learning rates": "0.05, 0.1, 0.1"},
        diverging={"batch sizes": "100", "learning rates": "50"},
    ),
    "compare_optimizers_widget": DemoPlan(
        ("gradient_update", "momentum_update", "rmsprop_update", "sample_minibatch"),
        diverging={"lr": "1"},
    ),
    "rules_widget": DemoPlan(("Nesterov", "Adagrad", "Adam"), diverging={"lr (Descent": "0.1"}),
    # Momentum at a base rate of 1 diverges on minibatches of 1 whatever the other controls
    # (tests/test_rules_demos.py).
    "schedules_widget": DemoPlan(
        ("warmup",), diverging={"rule": "Momentum", "base lr": "1.0", "batch size": "1"}
    ),
}
REDRAWS: list[dict] = []


# --------------------------------------------------------------------------------------
# Fixtures: one server and one browser for the module
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """JupyterLab over copies of the release, the solutions and the broken-demo fixture."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    root = tmp_path_factory.mktemp("lab") / "root"
    for topic in TOPICS:
        for version, path in (("release", topic.release_path()),
                              ("solutions", topic.solution_path())):
            target = root / version / topic.assignment / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, target)
    shutil.copytree(FIXTURE.parent, root / "fixtures")
    shutil.rmtree(BUILD, ignore_errors=True)
    BUILD.mkdir(parents=True)
    with jupyter_lab(root, BUILD / "jupyterlab.log") as server:
        yield server
    (BUILD / "timings.json").write_text(json.dumps(_timings(), indent=2) + "\n")


@pytest.fixture(scope="module")
def browser(served):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield chromium
        chromium.close()


def _timings() -> dict:
    """Per demo (and version): every change's seconds to a new figure, the first (defaults)."""
    demos: dict[str, dict] = {}
    for redraw in REDRAWS:
        row = demos.setdefault(f"{redraw['notebook']}: {redraw['demo']}", {
            "notebook": redraw["notebook"], "demo": redraw["demo"], "redraws": []})
        row["redraws"].append({"control": redraw["control"], "seconds": redraw["seconds"]})
    for row in demos.values():
        seconds = [r["seconds"] for r in row["redraws"]]
        row.update(first_seconds=seconds[0], max_seconds=max(seconds))
    return {"what": "seconds from a control's change (or the Run click) to the new figure "
                    "in headless Chromium", "demos": list(demos.values())}


def _record(notebook: NotebookPage, redraws: list[Redraw]) -> None:
    REDRAWS.extend({"notebook": notebook.label, **asdict(r)} for r in redraws)


def _screenshot(notebook: NotebookPage, demo: Demo, capsys) -> None:
    name = re.sub(r"[^\w.]+", "-", f"{notebook.label}-{demo.name}").strip("-")
    path = BUILD / f"{name}.png"
    notebook.cells().nth(demo.cell).screenshot(path=path)
    with capsys.disabled():
        print(f"\n  screenshot of {demo}: {path.relative_to(REPO_ROOT)}", end="")


# --------------------------------------------------------------------------------------
# Helpers of the tests
# --------------------------------------------------------------------------------------


def _sources(path: Path) -> list[str]:
    return [cell.source for cell in nbformat.read(path, as_version=4).cells]


def _widget_demos(topic, sources: list[str]) -> list[str]:
    """The demos the notebook's cells call that build a widget (return one, per annotation)."""
    module = __import__(f"{topic.package.__name__}.demos", fromlist=["demos"])
    names = []
    for source in sources:
        for name in re.findall(r"demos\.(\w+)\(", source):
            builder = inspect.unwrap(getattr(module, name))
            if "VBox" in str(inspect.signature(builder).return_annotation):
                names.append(name)
    return names


def _run_notebook(browser, served, version: str, topic) -> tuple[NotebookPage, list[Demo]]:
    path = Path(version, topic.assignment, topic.release_path().name)
    label = f"{topic.assignment} ({version})"
    notebook = NotebookPage.open(browser, served, path, label)
    notebook.run_all(RUN_ALL_TIMEOUT)
    prompts = notebook.prompts()
    assert re.fullmatch(r"\[\d+\]:", prompts[-1]), (
        f"{label}: Run All stopped before the last cell; prompts {prompts}\n"
        f"{notebook.all_output_text()[-3000:]}"
    )
    sources = _sources(served.root / path)
    demos = notebook.demos(sources)
    assert [d.name for d in demos] == _widget_demos(topic, sources), f"{label}: demos rendered"
    return notebook, demos


def _notices(text: str) -> dict[str, str]:
    """Exercise name -> 'student' or 'reference', from the notices printed under a figure."""
    found = {}
    for student, fallback, tool in NOTICE.findall(text):
        found[student or fallback or tool] = "student" if student else "reference"
    return found


def _check_settings(notebook: NotebookPage, demo: Demo, plan: DemoPlan, capsys) -> None:
    """The plan's bad input (one line, no traceback) and diverging setting (named)."""
    for settings, expect in ((plan.bad_input, "bad input"), (plan.diverging, "divergence")):
        if not settings:
            continue
        before = notebook.figures(demo)
        for description, value in settings.items():
            set_control(notebook, demo, description, value)
        if notebook.controls(demo).filter(has_text=re.compile(r"^\s*Run\s*$")).count():
            press_run(notebook, demo)
        # The run's first output replaces the last run's (clear_output(wait=True)): until then
        # the old text shows, so wait for the line expected, then read it whole.
        expected = (re.compile(f"^{re.escape(CANNOT_RUN)}.+$", re.MULTILINE)
                    if expect == "bad input" else DIVERGED)
        deadline = time.monotonic() + REDRAW_TIMEOUT
        while (not expected.search(notebook.output_text(demo.cell))
               and time.monotonic() < deadline):
            notebook.page.wait_for_timeout(300)
        notebook.wait_until_idle(REDRAW_TIMEOUT)
        text = notebook.output_text(demo.cell)
        where = f"{demo}: {expect} {settings}"
        assert "Traceback" not in text and "Error" not in text, f"{where} gave\n{text}"
        if expect == "bad input":
            assert expected.search(text), f"{where} gave\n{text}"
        else:
            assert expected.search(text), f"{where} does not say where it diverged:\n{text}"
            assert notebook.figures(demo) != before, f"{where} drew no new figure"
        _screenshot_setting(notebook, demo, expect, capsys)


def _screenshot_setting(notebook: NotebookPage, demo: Demo, what: str, capsys) -> None:
    _screenshot(notebook, Demo(demo.notebook, f"{demo.name}-{what}", demo.cell), capsys)


def _check_demos(notebook: NotebookPage, demos: list[Demo], expected_user: str, capsys,
                 settings: bool) -> None:
    for demo in demos:
        plan = PLANS[demo.name]
        redraws = check_demo(notebook, demo, REDRAW_TIMEOUT, plan.text_values)
        _record(notebook, redraws)
        _screenshot(notebook, demo, capsys)
        notices = _notices(notebook.output_text(demo.cell))
        for exercise in plan.exercises:
            assert exercise in notices, f"{demo}: no notice names `{exercise}` after a redraw"
            if not exercise.startswith("ex_initializer"):  # 02 trains with the seeded reference
                assert notices[exercise] == expected_user, f"{demo}: `{exercise}` notice"
        if settings:
            _check_settings(notebook, demo, plan, capsys)
    assert notebook.widget_errors() == []


def _solve_and_rerun_the_demo(notebook: NotebookPage, demos: list[Demo], topic) -> None:
    """Type the solutions of the exercises the notebook's demo uses into their cells, run
    the cells, press the demo's Run: the demo must say it used the student's code for each.

    Done in the release test's page, so that the notebook is not run all over again."""
    (demo,) = demos
    exercises = PLANS[demo.name].exercises
    solution = nbformat.read(topic.solution_path(), as_version=4)
    for exercise in exercises:
        index, cell = next((i, c) for i, c in enumerate(solution.cells)
                           if nbgrader_metadata(c).get("grade_id") == exercise)
        notebook.replace_cell_source(index, re.sub(r"\s*### (BEGIN|END) SOLUTION", "", cell.source))
        notebook.run_cell(index, REDRAW_TIMEOUT)
    # The student's code computes what the reference did: the figure may not change at all.
    # A redraw ends with one notice per exercise, in the plan's order.
    used = f"This run used your `{exercises[-1]}`."
    notebook.wait_for_output(demo, used, lambda: press_run(notebook, demo), REDRAW_TIMEOUT)
    notices = _notices(notebook.output_text(demo.cell))
    assert all(notices.get(exercise) == "student" for exercise in exercises), notices


# --------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("topic", TOPICS, ids=lambda t: t.assignment)
def test_release_runs_to_the_end_and_every_demo_redraws_from_the_fallback(
    browser, served, topic, capsys
):
    notebook, demos = _run_notebook(browser, served, "release", topic)
    try:
        printed = notebook.all_output_text()
        for name in topic.exercises:
            assert f"`{name}` is not done yet: the demos below use the reference." in printed
        _check_demos(notebook, demos, "reference", capsys, settings=True)
        if topic.name == SOLVED_IN_THE_BROWSER:
            _solve_and_rerun_the_demo(notebook, demos, topic)
    finally:
        notebook.close()
        served.shut_down_kernels()


@pytest.mark.parametrize("topic", TOPICS, ids=lambda t: t.assignment)
def test_solution_runs_to_the_end_and_every_demo_redraws_with_the_students_code(
    browser, served, topic, capsys
):
    notebook, demos = _run_notebook(browser, served, "solutions", topic)
    try:
        assert "not done yet" not in notebook.all_output_text()
        _check_demos(notebook, demos, "student", capsys, settings=False)
    finally:
        notebook.close()
        served.shut_down_kernels()


def test_the_checker_fails_on_a_demo_whose_control_does_not_redraw(browser, served):
    notebook = NotebookPage.open(browser, served, Path("fixtures", FIXTURE.name), "fixture")
    try:
        notebook.run_all(RUN_ALL_TIMEOUT)
        demos = notebook.demos(_sources(FIXTURE))
        assert [d.name for d in demos] == ["broken_demo"]
        with pytest.raises(DemoFailure, match=r"fixture: broken_demo: ignored did not produce"):
            check_demo(notebook, demos[0], timeout=5.0)
    finally:
        notebook.close()
        served.shut_down_kernels()
