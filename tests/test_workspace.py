"""`make lab`: a learner works in their own copy of the notebooks, which no command overwrites."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from instructor import workspace
from instructor.settings import REPO_ROOT


def _release(root: Path, notebooks: dict[str, str]) -> Path:
    release = root / "notebooks"
    for name, text in notebooks.items():
        (release / name).parent.mkdir(parents=True, exist_ok=True)
        (release / name).write_text(text)
    return release


def test_first_use_copies_every_release_notebook_into_the_work_folder(tmp_path):
    release = _release(tmp_path, {"01_a/a.ipynb": "a v1", "02_b/b.ipynb": "b v1"})
    work = tmp_path / "work"
    done = workspace.update(release, work)
    assert done.added == ["01_a/a.ipynb", "02_b/b.ipynb"]
    assert done.changed_upstream == []
    assert (work / "01_a" / "a.ipynb").read_text() == "a v1"
    assert (work / "02_b" / "b.ipynb").read_text() == "b v1"


def test_later_runs_add_new_notebooks_name_changed_ones_and_never_overwrite(tmp_path):
    release = _release(tmp_path, {"01_a/a.ipynb": "a v1", "02_b/b.ipynb": "b v1"})
    work = tmp_path / "work"
    workspace.update(release, work)
    (work / "01_a" / "a.ipynb").write_text("my answers")  # the learner's work
    _release(tmp_path, {"01_a/a.ipynb": "a v2", "03_c/c.ipynb": "c v1"})  # a new release

    done = workspace.update(release, work)
    assert done.added == ["03_c/c.ipynb"]
    assert done.changed_upstream == ["01_a/a.ipynb"]
    assert (work / "01_a" / "a.ipynb").read_text() == "my answers"
    assert (work / "03_c" / "c.ipynb").read_text() == "c v1"
    message = workspace.describe(done, release, work)
    assert "03_c/c.ipynb" in message and "01_a/a.ipynb" in message
    assert "untouched" in message

    again = workspace.update(release, work)  # nothing new: still says what changed upstream
    assert (again.added, again.changed_upstream) == ([], ["01_a/a.ipynb"])


def test_a_renamed_copy_is_replaced_by_the_new_release_on_the_next_run(tmp_path):
    release = _release(tmp_path, {"01_a/a.ipynb": "a v1"})
    work = tmp_path / "work"
    workspace.update(release, work)
    _release(tmp_path, {"01_a/a.ipynb": "a v2"})
    (work / "01_a" / "a.ipynb").rename(work / "01_a" / "a (mine).ipynb")
    done = workspace.update(release, work)
    assert (done.added, done.changed_upstream) == (["01_a/a.ipynb"], [])
    assert (work / "01_a" / "a.ipynb").read_text() == "a v2"
    assert (work / "01_a" / "a (mine).ipynb").read_text() == "a v1"


@pytest.mark.parametrize("uid, allow_root", [(0, True), (1000, False)])
def test_lab_runs_as_root_only_with_allow_root_and_passes_the_learners_options(uid, allow_root):
    command = workspace.lab_command(Path("/w"), ["--port", "8899", "--no-browser"], uid=uid)
    assert command[:3] == [sys.executable, "-m", "jupyterlab"]
    assert "--ServerApp.root_dir=/w" in command
    assert ("--allow-root" in command) == allow_root
    assert command[-3:] == ["--port", "8899", "--no-browser"]


def test_main_fills_the_work_folder_then_opens_jupyterlab_there(tmp_path, monkeypatch, capsys):
    release = _release(tmp_path, {"01_a/a.ipynb": "a v1"})
    monkeypatch.setattr(workspace, "RELEASE", release)
    monkeypatch.setattr(workspace, "WORK", tmp_path / "work")
    started = []
    monkeypatch.setattr(workspace, "SOLUTIONS", _release(tmp_path / "s", {"01_a/a.ipynb": "s"}))
    monkeypatch.setattr(workspace.os, "execve", lambda path, argv, env: started.append(argv))
    workspace.main(["--no-browser"])
    assert (tmp_path / "work" / "solutions" / "01_a" / "a.ipynb").read_text() == "s"
    assert (tmp_path / "work" / "01_a" / "a.ipynb").exists()
    [command] = started
    assert f"--ServerApp.root_dir={tmp_path / 'work'}" in command
    assert command[-1] == "--no-browser"
    assert "Copied into" in capsys.readouterr().out


def test_main_without_a_release_says_what_to_run(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(workspace, "RELEASE", tmp_path / "notebooks")
    assert workspace.main([]) == 1
    assert "make release" in capsys.readouterr().err


def test_make_lab_passes_lab_args_to_the_workspace():
    printed = subprocess.run(
        ["make", "-n", "-o", ".venv/.installed", "lab", "LAB_ARGS=--port 8899 --no-browser"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "-m instructor.workspace --port 8899 --no-browser" in printed


def test_the_work_folder_is_ignored_by_git():
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", "work/03_optimization/optimization.ipynb"], cwd=REPO_ROOT
    )
    assert ignored.returncode == 0


def test_make_labs_jupyterlab_leaves_out_the_instructor_tools(monkeypatch):
    monkeypatch.setenv("JUPYTER_CONFIG_PATH", "/elsewhere")
    environment = workspace.lab_environment()
    first, *rest = environment["JUPYTER_CONFIG_PATH"].split(os.pathsep)
    assert Path(first) == workspace.STUDENT_JUPYTER_CONFIG and rest == ["/elsewhere"]
    page = json.loads((Path(first) / "labconfig" / "page_config.json").read_text())
    assert page["disabledExtensions"] == {
        "@jupyter/nbgrader:formgrader": True, "@jupyter/nbgrader:create-assignment": True,
        "@jupyter/nbgrader:course-list": True}
    server = json.loads((Path(first) / "jupyter_server_config.json").read_text())
    assert server["ServerApp"]["jpserver_extensions"] == {
        "nbgrader.server_extensions.formgrader": False,
        "nbgrader.server_extensions.course_list": False}


def test_the_reader_finds_the_solutions_inside_make_labs_root():
    assert workspace.SOLUTIONS == REPO_ROOT / "solutions"
    assert any(workspace.SOLUTIONS.glob("*/*.ipynb"))
