# Course tasks. Every target creates and fills the virtual environment on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
# pytest-xdist: one test file per worker at a time (module fixtures such as a graded class are
# built once); much of the suite waits on kernels and subprocesses, so 2 workers pay off on 2
# cores. TEST_WORKERS=0 runs everything in one process.
TEST_WORKERS ?= 2
PYTEST_PARALLEL = $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile)
# `make release FORCE=1` overwrites release notebooks edited by hand; COURSE_REPO=<git URL> is
# stamped into every release notebook's first cell (which installs the course in Colab).
RELEASE_OPTIONS = $(if $(filter 1 yes true,$(FORCE)),--force) \
	$(if $(COURSE_REPO),--course-repo '$(COURSE_REPO)')
# `make grade SCHEDULER=local` (or tcp://host:8786) grades on a Dask cluster;
# DB_URL=postgresql+psycopg://user@host/db also records the grades in that nbgrader gradebook.
GRADE_OPTIONS = $(if $(SCHEDULER),--scheduler '$(SCHEDULER)') $(if $(DB_URL),--db-url '$(DB_URL)')

.PHONY: help grade test test-fast release sync lab book lint bench clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 12

grade: $(INSTALLED)  ## release, autograde submitted/ (sandboxed), print the table, write grades.csv
	$(PY) -m instructor.cli grade $(RELEASE_OPTIONS) $(GRADE_OPTIONS)

test: $(INSTALLED)  ## the whole test suite (what CI runs)
	$(VENV)/bin/ruff check .
	$(PY) -m pytest $(PYTEST_PARALLEL)

test-fast: $(INSTALLED)  ## unit tests and in-process exercise checks, about a minute
	$(VENV)/bin/ruff check .
	$(PY) -m pytest $(PYTEST_PARALLEL) -m "not e2e"

release: $(INSTALLED)  ## regenerate notebooks/ from solutions/ and the example submissions
	$(PY) -m instructor.cli release $(RELEASE_OPTIONS)

sync: $(INSTALLED)  ## pair each solution notebook with its jupytext source (edit the .py)
	$(VENV)/bin/jupytext --sync solutions/*/*.ipynb

lab: $(INSTALLED)  ## JupyterLab on your own copy of the notebooks in work/ (LAB_ARGS="--port 8899")
	$(PY) -m instructor.workspace $(LAB_ARGS)

book: $(INSTALLED)  ## the course as a website in build/book/ (runs the solutions once; cached)
	$(PY) -m instructor.book

lint: $(INSTALLED)  ## ruff, notebooks included
	$(VENV)/bin/ruff check .

bench: $(INSTALLED)  ## the performance record: demos, notebooks, grading (benchmarks/results.json)
	TQDM_DISABLE=1 $(PY) scripts/bench.py  # progress bars would bury the numbers

$(INSTALLED): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
		|| { echo "Python 3.10 or newer is needed (found $$($(PYTHON) --version))."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -e '.[lab,instructor,book,dev]'
	@# jsonschema checks IRIs with rfc3987-syntax only where it is installed; building its
	@# grammar adds 2-4 s to every import of nbformat (each nbgrader process), and no
	@# schema here has an IRI to check.
	$(PY) -m pip uninstall --quiet --yes rfc3987-syntax
	touch $@

clean:  ## remove grading output
	rm -rf autograded feedback gradebook.db grades.csv grades_by_exercise.png
