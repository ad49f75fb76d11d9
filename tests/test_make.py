"""The Makefile stays thin: what it passes on to pip, the release and JupyterLab."""

from __future__ import annotations

import os
import subprocess

from instructor.settings import REPO_ROOT

CPU_INDEX = "https://download.pytorch.org/whl/cpu"

# Stands in for Python: records its arguments and pip's index settings, and makes a "venv"
# whose python is this same script.
FAKE_PYTHON = """#!/bin/sh
echo "$0 $* | extra=$PIP_EXTRA_INDEX_URL index=$PIP_INDEX_URL" >> "$CALLS"
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then
    mkdir -p "$3/bin" && cp "$0" "$3/bin/python"
fi
"""


def test_make_installs_with_the_pip_index_given_in_the_environment(tmp_path):
    python = tmp_path / "python"
    python.write_text(FAKE_PYTHON)
    python.chmod(0o755)
    venv = tmp_path / "venv"
    environment = {**os.environ, "CALLS": str(tmp_path / "calls"), "PIP_EXTRA_INDEX_URL": CPU_INDEX}
    environment.pop("PIP_INDEX_URL", None)
    subprocess.run(
        ["make", "-B", f"PYTHON={python}", f"VENV={venv}", f"{venv}/.installed"],
        cwd=REPO_ROOT,
        env=environment,
        check=True,
        capture_output=True,
    )
    calls = (tmp_path / "calls").read_text().splitlines()
    [pip] = [line for line in calls if " pip install " in line]
    assert pip.startswith(f"{venv}/bin/python -m pip install")
    assert f"extra={CPU_INDEX} " in pip
    assert "--index-url" not in pip and "--extra-index-url" not in pip and " -i " not in pip


def _dry_run(*arguments: str) -> str:
    return subprocess.run(
        ["make", "-n", "-o", ".venv/.installed", *arguments],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_make_release_and_grade_pass_force_and_course_repo_on():
    for target in ("release", "grade"):
        plain = _dry_run(target)
        assert f"-m instructor.cli {target}" in plain and "--force" not in plain
        forced = _dry_run(target, "FORCE=1", "COURSE_REPO=https://github.com/o/r")
        assert "--force --course-repo 'https://github.com/o/r'" in forced


def test_readme_says_how_to_install_cpu_only_torch_wheels():
    readme = (REPO_ROOT / "README.md").read_text()
    assert f"PIP_EXTRA_INDEX_URL={CPU_INDEX} make" in readme
    assert "PIP_INDEX_URL" in readme


def test_readme_gives_the_colab_link_pattern_and_how_to_publish():
    readme = (REPO_ROOT / "README.md").read_text()
    assert "make release COURSE_REPO=https://github.com/<owner>/<repo>" in readme
    pattern = "https://colab.research.google.com/github/<owner>/<repo>/blob/main/notebooks/"
    assert pattern in readme
    assert "dl-optimization-course/course" not in readme  # no made-up organisation


def test_lab_target_is_documented_for_students_with_lab_args():
    readme = (REPO_ROOT / "README.md").read_text()
    students = readme.split("## For students")[1].split("## For self-paced readers")[0]
    assert "make lab" in students and "work/" in students and "LAB_ARGS" in students
