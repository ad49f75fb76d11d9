# Course tasks. Every target creates and fills the virtual environment on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

.PHONY: help grade test test-fast release sync lab lint bench clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 12

grade: $(INSTALLED)  ## release, autograde submitted/ (sandboxed), print the table, write grades.csv
	$(PY) -m instructor.classroom grade

test: $(INSTALLED)  ## the whole test suite (what CI runs)
	$(VENV)/bin/ruff check .
	$(PY) -m pytest

test-fast: $(INSTALLED)  ## unit tests and in-process exercise checks, about a minute
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -m "not e2e"

release: $(INSTALLED)  ## regenerate notebooks/ from solutions/ and the example submissions
	$(PY) -m instructor.classroom release

sync: $(INSTALLED)  ## pair each solution notebook with its jupytext source (edit the .py)
	$(VENV)/bin/jupytext --sync solutions/*/*.ipynb

lab: $(INSTALLED)  ## JupyterLab on the student notebooks
	$(VENV)/bin/jupyter lab notebooks

lint: $(INSTALLED)  ## ruff, notebooks included
	$(VENV)/bin/ruff check .

bench: $(INSTALLED)  ## demo response times and what the vectorized helpers buy (ratios)
	TQDM_DISABLE=1 $(PY) scripts/bench.py  # progress bars would bury the numbers

$(INSTALLED): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
		|| { echo "Python 3.10 or newer is needed (found $$($(PYTHON) --version))."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -e '.[lab,instructor,dev]'
	touch $@

clean:  ## remove grading output
	rm -rf autograded feedback gradebook.db grades.csv
