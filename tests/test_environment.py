"""The conda environment and pyproject.toml must ask for the same packages and versions."""

import sys
from pathlib import Path

import yaml

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
# conda-forge's dask includes distributed and the dashboard (bokeh); its psycopg brings libpq.
CONDA_TO_PIP = {
    "pytorch": "torch",
    "dask": "dask[distributed,diagnostics]",
    "psycopg": "psycopg[binary]",
}
# Packages that conda-forge does not have: environment.yml installs them with pip.
PIP_ONLY = {"sphinx-mathjax-offline"}


def _split(requirement: str) -> tuple[str, str]:
    for index, char in enumerate(requirement):
        if char in "<>=!~ ":
            return requirement[:index].strip().lower(), requirement[index:].strip()
    return requirement.strip().lower(), ""


def test_environment_yml_lists_the_dependencies_and_the_lab_instructor_book_and_hub_extras():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    requirements = [
        *project["dependencies"], *extras["lab"], *extras["instructor"], *extras["book"],
        *extras["hub"],
    ]
    pip_side = dict(_split(r) for r in requirements)
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda_side = {}
    for entry in environment["dependencies"]:
        if isinstance(entry, str) and not entry.startswith(("python", "pip")):
            name, version = _split(entry)
            conda_side[CONDA_TO_PIP.get(name, name)] = version
        elif isinstance(entry, dict):
            conda_side |= dict(_split(r) for r in entry["pip"] if r != "-e .")
    assert conda_side == pip_side


def test_environment_yml_installs_this_repository_with_pip():
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    [pip_section] = [e["pip"] for e in environment["dependencies"] if isinstance(e, dict)]
    assert pip_section[0] == "-e ."
    assert {_split(r)[0] for r in pip_section[1:]} == PIP_ONLY


def test_python_requirement_agrees():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert f"python{pyproject['project']['requires-python']}" in environment["dependencies"]
