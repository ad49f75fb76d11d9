# Course tasks. Every target creates and fills the virtual environment on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
# pytest-xdist: one test file per worker at a time (module fixtures such as a graded class are
# built once); much of the suite waits on kernels, browsers and subprocesses, so 3 workers keep
# 2 cores busy (make test: 18 min against 21 with 2). TEST_WORKERS=0 runs one process.
TEST_WORKERS ?= 3
PYTEST_PARALLEL = $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile)
# `make release FORCE=1` overwrites release notebooks edited by hand; COURSE_REPO=<git URL> is
# stamped into every release notebook's first cell (which installs the course in Colab).
RELEASE_OPTIONS = $(if $(filter 1 yes true,$(FORCE)),--force) \
	$(if $(COURSE_REPO),--course-repo '$(COURSE_REPO)')
# `make grade SCHEDULER=local` (or tcp://host:8786) grades on a Dask cluster;
# DB_URL=postgresql+psycopg://user@host/db also records the grades in that nbgrader gradebook.
GRADE_OPTIONS = $(if $(SCHEDULER),--scheduler '$(SCHEDULER)') $(if $(DB_URL),--db-url '$(DB_URL)')

# make hub: HUB_INSTRUCTOR (the instructor's account), HUB_PORT, HUB_IP, HUB_EXCHANGE, COURSE_ID;
# make hub-release ASSIGNMENT=03_optimization DUE="2026-12-04 17:00 Europe/Paris";
# make collect ARCHIVE=path.zip [ASSIGNMENT=...] [LMS=canvas|moodle] [UPDATE=1].
HUB_OPTIONS = $(if $(HUB_INSTRUCTOR),--instructor '$(HUB_INSTRUCTOR)') \
	$(if $(HUB_PORT),--port '$(HUB_PORT)') $(if $(HUB_IP),--ip '$(HUB_IP)') \
	$(if $(HUB_EXCHANGE),--exchange '$(HUB_EXCHANGE)') $(if $(COURSE_ID),--course-id '$(COURSE_ID)')
EXCHANGE_OPTIONS = $(if $(ASSIGNMENT),--assignment '$(ASSIGNMENT)')
COLLECT_OPTIONS = $(EXCHANGE_OPTIONS) $(if $(LMS),--lms '$(LMS)') \
	$(if $(filter 1 yes true,$(UPDATE)),--update)
PROXY := node_modules/.bin/configurable-http-proxy

.PHONY: help grade test test-fast release sync lab book lint bench clean hub hub-stop hub-release \
	hub-collect hub-feedback collect lms-grades

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 14

grade: $(INSTALLED)  ## release, autograde submitted/ (sandboxed), print the table, write grades.csv
	$(PY) -m instructor.cli grade $(RELEASE_OPTIONS) $(GRADE_OPTIONS)

test: $(INSTALLED) $(PROXY)  ## the whole test suite (what CI runs)
	$(VENV)/bin/ruff check .
	$(PY) -m pytest $(PYTEST_PARALLEL)

test-fast: $(INSTALLED)  ## unit tests and in-process exercise checks, about a minute
	$(VENV)/bin/ruff check .
	$(PY) -m pytest $(PYTEST_PARALLEL) -m fast

release: $(INSTALLED)  ## regenerate notebooks/ from solutions/ and the example submissions
	$(PY) -m instructor.cli release $(RELEASE_OPTIONS)

sync: $(INSTALLED)  ## pair each solution notebook with its jupytext source (edit the .py)
	$(VENV)/bin/jupytext --sync solutions/*/*.ipynb

lab: $(INSTALLED)  ## JupyterLab on your own copy of the notebooks in work/ (LAB_ARGS="--port 8899")
	$(PY) -m instructor.workspace $(LAB_ARGS)

book: $(INSTALLED)  ## the course as a website in build/book/ (runs the solutions once; cached)
	$(PY) -m instructor.book

hub: $(INSTALLED) $(PROXY)  ## (as root) the course's JupyterHub: an account per roster.txt line, Ctrl-C stops
	$(PY) -m instructor.hub start $(HUB_OPTIONS)

hub-stop: $(INSTALLED)  ## stop the hub that `make hub` started, and every server of it
	$(PY) -m instructor.hub stop

hub-release: $(INSTALLED)  ## release, then put assignments in the exchange (ASSIGNMENT=, DUE=)
	$(PY) -m instructor.cli release $(RELEASE_OPTIONS)
	$(PY) -m instructor.exchange release $(EXCHANGE_OPTIONS) $(if $(DUE),--due '$(DUE)')

hub-collect: $(INSTALLED)  ## the latest submission of each student from the exchange into submitted/
	$(PY) -m instructor.exchange collect $(EXCHANGE_OPTIONS)

hub-feedback: $(INSTALLED)  ## after `make grade`: feedback/ to each student through the exchange
	$(PY) -m instructor.exchange feedback $(EXCHANGE_OPTIONS)

collect: $(INSTALLED)  ## an LMS's archive (ARCHIVE=path.zip; Canvas, Moodle) into submitted/
	$(PY) -m instructor.lms collect '$(ARCHIVE)' $(COLLECT_OPTIONS)

lms-grades: $(INSTALLED)  ## grades.csv as a gradebook CSV the LMS imports (lms_grades.csv)
	$(PY) -m instructor.lms grades $(if $(LMS),--lms '$(LMS)')

lint: $(INSTALLED)  ## ruff, notebooks included
	$(VENV)/bin/ruff check .

bench: $(INSTALLED) $(PROXY)  ## the performance record: demos, notebooks, grading, a class on the hub (benchmarks/results.json)
	TQDM_DISABLE=1 $(PY) scripts/bench.py  # progress bars would bury the numbers

$(INSTALLED): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
		|| { echo "Python 3.10 or newer is needed (found $$($(PYTHON) --version))."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -e '.[lab,instructor,book,hub,dev]'
	@# jsonschema checks IRIs with rfc3987-syntax only where it is installed; building its
	@# grammar adds 2-4 s to every import of nbformat (each nbgrader process), and no
	@# schema here has an IRI to check.
	$(PY) -m pip uninstall --quiet --yes rfc3987-syntax
	touch $@

$(PROXY): package.json
	npm install --no-audit --no-fund --loglevel=error
	touch $@

clean:  ## remove grading output
	rm -rf autograded feedback gradebook.db grades.csv grades_by_exercise.png
