# Course tasks. Every target creates and fills the virtual environment on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

.PHONY: grade test release lab lint bench clean

grade: $(INSTALLED)  ## regenerate notebooks/, autograde submitted/, print the table, write grades.csv
	$(PY) -m helpers.classroom grade

test: $(INSTALLED)  ## the test suite that CI runs
	$(VENV)/bin/ruff check .
	$(PY) -m pytest

release: $(INSTALLED)  ## regenerate the student notebooks in notebooks/ from solutions/
	$(PY) -m helpers.classroom release

lab: $(INSTALLED)  ## JupyterLab on the student notebooks
	$(VENV)/bin/jupyter lab notebooks

lint: $(INSTALLED)
	$(VENV)/bin/ruff check .

bench: $(INSTALLED)  ## demo response times and what the vectorized helpers buy (ratios)
	TQDM_DISABLE=1 $(PY) scripts/bench.py  # progress bars would bury the numbers

$(INSTALLED): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
		|| { echo "Python 3.10 or newer is needed (found $$($(PYTHON) --version))."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -e '.[lab,instructor,dev]'
	touch $@

clean:
	rm -rf autograded feedback gradebook.db grades.csv
