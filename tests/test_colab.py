"""Colab: the first cell of every notebook installs the course there, and does nothing elsewhere.

The end-to-end test simulates Colab's start: a fresh virtual environment with Colab's package
versions of the day, as listed in the README (ipywidgets 7 among them), a stand-in for the
``google.colab`` module that Colab's kernel imports, and a local ``file://`` copy of this
repository standing in for the course's repository on GitHub. The release notebook's first
cell installs the course from it with pip; the notebook then runs to the end.

What it does not reproduce: Colab's Python (3.13) and its torch and torchvision builds. Torch
cannot be downloaded here, so the environment reuses this environment's torch and torchvision
(and what they need, numpy aside): a ``.pth`` file adds a folder of links to them.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from instructor.execution import error_outputs, execute_notebook, printed_text
from instructor.notebook import topics
from instructor.release import stamp_course_repo
from instructor.settings import REPO_ROOT

# The cheapest release notebook to run to the end (about a minute on 2 busy cores).
TOPIC = next(t for t in topics() if t.assignment == "04_optimizer_rules")
README = REPO_ROOT / "README.md"


def colab_versions() -> dict[str, str]:
    """The README's table of Colab's package versions: {package: version}."""
    text = README.read_text()
    block = text.split("<!-- colab-versions -->")[1].split("<!-- /colab-versions -->")[0]
    rows = re.findall(r"^\| `([\w.-]+)` \| ([\w.]+) \|$", block, re.MULTILINE)
    return dict(rows)


def _first_cell(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    return next(cell for cell in notebook.cells if cell.cell_type == "code")


# --------------------------------------------------------------------------------------
# The first cell, run as IPython runs it, inside and outside Colab
# --------------------------------------------------------------------------------------


class _Shell:
    """Records the magics the cell runs (IPython turns `%pip ...` into run_line_magic)."""

    def __init__(self) -> None:
        self.magics: list[tuple[str, str]] = []

    def run_line_magic(self, name: str, line: str, _stack_depth: int = 1) -> None:
        self.magics.append((name, line))


def _run_first_cell(source: str, in_colab: bool, monkeypatch, capsys) -> tuple[list, str, dict]:
    if in_colab:
        monkeypatch.setitem(sys.modules, "google.colab", type(sys)("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    shell = _Shell()
    namespace = {"get_ipython": lambda: shell}
    exec(TransformerManager().transform_cell(source), namespace)
    return shell.magics, capsys.readouterr().out, namespace


@pytest.mark.parametrize("topic", topics(), ids=lambda t: t.assignment)
def test_first_cell_does_nothing_outside_colab(topic, monkeypatch, capsys):
    source = _first_cell(nbformat.read(topic.release_path(), as_version=4)).source
    magics, printed, _ = _run_first_cell(source, False, monkeypatch, capsys)
    assert (magics, printed) == ([], "")


def test_first_cell_in_colab_without_a_course_repo_says_so_in_one_line(monkeypatch, capsys):
    source = _first_cell(nbformat.read(TOPIC.solution_path(), as_version=4)).source
    magics, printed, _ = _run_first_cell(source, True, monkeypatch, capsys)
    assert magics == []
    assert len(printed.splitlines()) == 1 and "COURSE_REPO" in printed


def test_first_cell_in_colab_installs_the_stamped_course_repo_with_pip(monkeypatch, capsys):
    notebook = nbformat.read(TOPIC.solution_path(), as_version=4)
    stamp_course_repo(notebook, "https://github.com/someone/some-course")
    magics, printed, namespace = _run_first_cell(
        _first_cell(notebook).source, True, monkeypatch, capsys
    )
    assert magics == [("pip", "install --quiet git+{COURSE_REPO}")]  # IPython expands it
    assert namespace["COURSE_REPO"] == "https://github.com/someone/some-course"
    assert printed == ""


def test_readme_lists_colabs_versions_with_ipywidgets_7():
    versions = colab_versions()
    assert versions["ipywidgets"].startswith("7.")
    assert {"ipykernel", "ipython", "numpy", "matplotlib", "tqdm"} <= set(versions)


# --------------------------------------------------------------------------------------
# Colab's start, simulated end to end
# --------------------------------------------------------------------------------------


def _dependencies_of(names: list[str], leave_out: set[str]) -> set[str]:
    """The installed distributions ``names`` need, transitively, except ``leave_out``."""
    found: set[str] = set()
    pending = list(names)
    while pending:
        name = canonicalize_name(pending.pop())
        if name in found or name in leave_out:
            continue
        try:
            distribution = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue  # an optional dependency for another platform
        found.add(name)
        for requirement in map(Requirement, distribution.requires or []):
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                pending.append(requirement.name)
    return found


def _link_torch(folder: Path, leave_out: set[str]) -> None:
    """Links to this environment's torch, torchvision and their dependencies in ``folder``."""
    folder.mkdir()
    site_packages = Path(sysconfig.get_paths()["purelib"])
    for name in _dependencies_of(["torch", "torchvision"], leave_out):
        for file in importlib.metadata.distribution(name).files or []:
            top = file.parts[0]
            if top != ".." and not (folder / top).exists() and (site_packages / top).exists():
                (folder / top).symlink_to(site_packages / top)


def _copy_of_this_repository(destination: Path) -> str:
    """This working tree's files (what git would commit) as a git repository; its URL."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = REPO_ROOT / name
        if source.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.org"]
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "course"]):
        subprocess.run([*git, *command], cwd=destination, check=True)
    return destination.as_uri()


@pytest.fixture(scope="module")
def colab(tmp_path_factory) -> tuple[Path, Path]:
    """A virtual environment like Colab's, and the folder of its kernel's spec."""
    root = tmp_path_factory.mktemp("colab")
    environment = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(environment)], check=True)
    python = environment / "bin" / "python"
    versions = colab_versions()
    install = [str(python), "-m", "pip", "install", "--quiet", "--no-compile"]
    done = subprocess.run(
        [*install, *(f"{name}=={version}" for name, version in versions.items())],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, f"could not install Colab's versions:\n{done.stderr[-3000:]}"
    site_packages = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    _link_torch(root / "torch", {canonicalize_name(name) for name in versions})
    (site_packages / "torch-of-the-test-runner.pth").write_text(f"{root / 'torch'}\n")
    # Colab's kernel imports google.colab at start; the notebooks' first cell looks for it.
    colab_module = site_packages / "google" / "colab"
    colab_module.mkdir(parents=True)
    (colab_module / "__init__.py").write_text('"""Stands in for Colab in tests/test_colab.py."""\n')
    kernel = root / "jupyter" / "kernels" / "colab"
    kernel.mkdir(parents=True)
    argv = [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    argv.append("--IPKernelApp.exec_lines=import google.colab")
    spec = {"argv": argv, "display_name": "Colab (simulated)", "language": "python"}
    (kernel / "kernel.json").write_text(json.dumps(spec))
    return environment, root / "jupyter"


@pytest.mark.kernel
def test_colab_start_installs_the_course_from_its_repository_and_runs_the_notebook(
    colab, tmp_path, monkeypatch
):
    environment, kernels = colab
    repository = _copy_of_this_repository(tmp_path / "course")
    notebook = nbformat.read(TOPIC.release_path(), as_version=4)
    stamp_course_repo(notebook, repository)
    notebook.cells.append(
        nbformat.v4.new_code_cell(
            "import json, ipywidgets, helpers.data\n"
            "print(json.dumps({'helpers': helpers.data.__file__, "
            "'data': str(helpers.data.DATA_DIR), 'ipywidgets': ipywidgets.__version__}))"
        )
    )
    monkeypatch.setenv("JUPYTER_PATH", str(kernels))
    kernel_environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"NBGRADER_EXECUTION", "MPLBACKEND", "PYTHONPATH", "VIRTUAL_ENV"}
    }
    student_folder = tmp_path / "content"  # Colab's working folder: no course files in it
    student_folder.mkdir()
    execute_notebook(
        notebook, student_folder, kernel_name="colab", environment=kernel_environment, timeout=600
    )
    errors = [f"{output.ename}: {output.evalue}" for output in error_outputs(notebook)]
    assert errors == []
    printed = printed_text(notebook)
    for name in TOPIC.exercises:
        assert f"`{name}` is not done yet: the demos below use the reference." in printed
    installed = json.loads(printed.strip().splitlines()[-1])
    assert Path(installed["helpers"]).is_relative_to(environment)  # pip's copy, not this tree
    assert Path(installed["data"]).is_relative_to(environment)  # and the data came with it
    assert installed["ipywidgets"] == colab_versions()["ipywidgets"]
