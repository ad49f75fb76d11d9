"""The course as a website: ``make book`` builds ``build/book/`` with Sphinx and MyST-NB.

    python -m instructor.book                # build/book/index.html
    python -m instructor.book --output DIR   # elsewhere

Each chapter is one notebook of the series. Its cells are the *release's* (what a student
gets), its outputs those of the *solution* notebook run top to bottom outside grading mode
(``instructor.execution``), so every figure is there. On the way to Sphinx a chapter changes in
four ways, each made here and nowhere else:

- each exercise cell is followed by its reference solution, folded ("Show solution");
- each ``<details>`` model answer (Think!, Discuss) becomes a folded dropdown;
- each interactive demo's widget becomes what its output area shows at the default settings
  (figure and printed lines), followed by one line saying that it is interactive in JupyterLab
  or Colab; finished progress bars are left out;
- the top of the chapter links to Colab (from the course repository that
  ``make release COURSE_REPO=...`` recorded in ``notebooks/.release-manifest.json``) and to
  the student notebook.

Executing the four notebooks is most of a build, so each executed notebook is cached under a
key made of everything its run depends on (the notebook, ``helpers``, ``data`` and the
versions of the packages that compute); pages whose text did not change are not rewritten, so
Sphinx rebuilds nothing. Configuration, landing page and style: ``book/``.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import os
import platform
import re
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from instructor.model import Course
from instructor.notebook import nbgrader_metadata, topics
from instructor.release import COURSE_REPO_LINE, read_manifest
from instructor.settings import REPO_ROOT

BOOK_CONFIG = REPO_ROOT / "book"  # conf.py, the landing page, the style sheet
OUTPUT = REPO_ROOT / "build" / "book"
WORK = REPO_ROOT / "build" / "book-work"  # the pages Sphinx reads, its doctrees, the cache

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
# Colab opens a notebook of a GitHub repository by its path; the README gives the same links.
COLAB = "https://colab.research.google.com/github/{owner}/{repo}/blob/{branch}/{path}"
COLAB_BRANCH = "main"
GITHUB_REPO = re.compile(r"^https://github\.com/([\w.-]+)/([\w.-]+?)(?:\.git)?/?$")
# What a cached execution depends on besides the notebook, helpers/ and data/.
EXECUTION_PACKAGES = ("torch", "numpy", "matplotlib", "ipywidgets", "ipykernel", "nbclient")

# nbgrader's markers inside a solution cell (the release replaces what lies between them).
SOLUTION_MARKER = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?", re.MULTILINE)
# A model answer as the notebooks write it: <details>, <summary>title</summary>, the answer in
# markdown, </details>, each tag on a line of its own.
DETAILS = re.compile(
    r"^<details>[ \t]*\n<summary>(?P<title>.*?)</summary>[ \t]*\n(?P<body>.*?)\n</details>[ \t]*$",
    re.MULTILINE | re.DOTALL,
)
# A heading line with no text (`#` alone), which markdown renders as an empty top-level heading.
EMPTY_HEADING = re.compile(r"^#{1,6}[ \t]*$", re.MULTILINE)
# The widgets of a finished tqdm progress bar (a box of texts and a bar), which the book leaves
# out; a widget's tree is its children, not its layout and style models.
PROGRESS_MODELS = {"HBoxModel", "HTMLModel", "FloatProgressModel", "IntProgressModel"}
CONTROL_MODELS = {
    "IntSliderModel", "FloatSliderModel", "FloatLogSliderModel", "DropdownModel", "TextModel",
}


class BookError(RuntimeError):
    """The book cannot be built as asked; the message says why and what to do."""


# --------------------------------------------------------------------------------------
# Links out of a chapter
# --------------------------------------------------------------------------------------


def colab_url(course_repo: str | None, release_path: str) -> str | None:
    """Colab's link to a release notebook (``release_path``: relative to the repository), or
    None when there is no repository or it is not on GitHub (Colab opens GitHub's only)."""
    match = GITHUB_REPO.match(course_repo or "")
    if match is None:
        return None
    owner, repo = match.groups()
    return COLAB.format(owner=owner, repo=repo, branch=COLAB_BRANCH, path=release_path)


def chapter_links(course_repo: str | None, release_path: str, download: str) -> str:
    """The MyST block at the top of a chapter: Colab and the student notebook's download."""
    name = Path(download).name
    download_link = f"{{download}}`Download the notebook ({name}) <{download}>`"
    url = colab_url(course_repo, release_path)
    if url is not None:
        first = f"[Open in Colab]({url}) · {download_link}"
        how = (
            "Colab runs the notebook as you get it, with the exercises to do and every demo "
            "interactive; its first cell installs the course."
        )
    elif course_repo:
        first = download_link
        how = (
            f"Colab opens notebooks from GitHub only, and this course lives at "
            f"<{course_repo}>: download the notebook and open it in Colab with *File > Upload "
            "notebook* (its first cell installs the course from there), or run it in "
            "JupyterLab."
        )
    else:
        first = download_link
        how = (
            "No Colab link: this site was built from a release that does not name the course's "
            "repository (its maintainers set it with `make release COURSE_REPO=...`). Download "
            "the notebook and run it in JupyterLab (`make lab` in a clone of the course)."
        )
    return (
        ":::{container} book-chapter-links\n"
        f"{first}\n\n{how} Below, the notebook as run with the reference solutions.\n:::"
    )


# --------------------------------------------------------------------------------------
# Folding: solutions and model answers
# --------------------------------------------------------------------------------------


def _fence(code: str, char: str = "`") -> str:
    """A fence longer than any run of ``char`` inside ``code``."""
    longest = max((len(run) for run in re.findall(f"{re.escape(char)}+", code)), default=0)
    return char * max(3, longest + 1)


def solution_source(source: str) -> str:
    """A solution cell's code without nbgrader's ``### BEGIN/END SOLUTION`` lines."""
    return SOLUTION_MARKER.sub("", source).strip("\n")


def folded_solution(source: str) -> str:
    """A MyST dropdown, closed, holding a solution cell's code."""
    code = solution_source(source)
    fence = _fence(code)
    colons = _fence(code, ":")
    return (
        f"{colons}{{dropdown}} Show solution\n:class-container: book-solution\n\n"
        f"{fence}python\n{code}\n{fence}\n{colons}"
    )


def fold_model_answers(markdown: str) -> str:
    """Each ``<details>`` model answer as a closed MyST dropdown with the same title.

    Raises ``BookError`` for a ``<details>`` written some other way, which would otherwise
    reach the page as raw HTML around unrendered markdown.
    """

    def dropdown(match: re.Match) -> str:
        body = match.group("body").strip("\n")
        colons = _fence(body, ":")
        return (
            f"{colons}{{dropdown}} {match.group('title').strip()}\n"
            f":class-container: book-answer\n\n{body}\n{colons}"
        )

    folded = DETAILS.sub(dropdown, markdown)
    if "<details" in folded or "</details>" in folded:
        raise BookError(
            "A <details> block is not written as the notebooks write model answers "
            "(<details>, <summary>...</summary>, the answer, </details>, each on a line of "
            f"its own):\n{markdown[:600]}"
        )
    return folded


# --------------------------------------------------------------------------------------
# Demos: a widget becomes its output at the default settings
# --------------------------------------------------------------------------------------


@dataclass
class WidgetTree:
    """One displayed widget and everything below it, read from the notebook's widget state."""

    models: list[dict] = field(default_factory=list)  # each {"model_name", "state"}, in order

    @property
    def names(self) -> set[str]:
        return {model["model_name"] for model in self.models}

    def outputs(self) -> list[dict]:
        """What its Output areas show, in order."""
        return [
            output
            for model in self.models
            if model["model_name"] == "OutputModel"
            for output in model["state"].get("outputs", [])
        ]

    def settings(self) -> list[tuple[str, str]]:
        """(description, value) of each control, in order."""
        found = []
        for model in self.models:
            state = model["state"]
            if model["model_name"] not in CONTROL_MODELS:
                continue
            if model["model_name"] == "DropdownModel":
                value = state["_options_labels"][state["index"]]
            elif isinstance(state.get("value"), float):
                value = f"{state['value']:g}"
            else:
                value = str(state.get("value"))
            found.append((state.get("description", "").strip(), value))
        return found


def widget_tree(state: dict, model_id: str) -> WidgetTree:
    """The widget ``model_id`` and its children, depth first, from a widget state's models."""
    tree = WidgetTree()

    def visit(identifier: str) -> None:
        if identifier not in state:
            raise BookError(f"the notebook's widget state has no model {identifier}")
        model = state[identifier]
        tree.models.append(model)
        for child in model["state"].get("children", []):
            visit(child.removeprefix("IPY_MODEL_"))

    visit(model_id)
    return tree


def demo_note(settings: Sequence[tuple[str, str]]) -> str:
    """The line under a demo's figure."""
    values = ", ".join(f"{name} = {value}" for name, value in settings if name)
    shown = f"shown here at its default settings ({values})" if values else "shown here as it opens"
    return (
        ":::{container} book-demo-note\n"
        f"**Interactive demo:** in JupyterLab or Colab its controls redraw this figure; {shown}.\n"
        ":::"
    )


def static_widget_outputs(
    outputs: Sequence[dict], state: dict, where: str
) -> tuple[list[dict], list[tuple[str, str]] | None]:
    """A cell's outputs with each widget replaced by what it shows, and the demo's settings.

    A widget with an Output area (a demo) becomes the outputs of that area, once however often
    the cell displayed it; a finished progress bar disappears. The settings are None when the
    cell holds no demo. Any other widget raises ``BookError``: the page could not show it.
    """
    static: list[dict] = []
    settings: list[tuple[str, str]] | None = None
    seen: set[str] = set()
    for output in outputs:
        view = output.get("data", {}).get(WIDGET_VIEW)
        if view is None:
            static.append(output)
            continue
        model_id = view["model_id"]
        if model_id in seen:
            continue
        seen.add(model_id)
        tree = widget_tree(state, model_id)
        if "OutputModel" in tree.names:
            shown = tree.outputs()
            if not any("image/png" in item.get("data", {}) for item in shown):
                raise BookError(f"{where}: the demo drew no figure at its default settings")
            static += shown
            settings = (settings or []) + tree.settings()
        elif not tree.names <= PROGRESS_MODELS:
            raise BookError(
                f"{where}: a widget the book cannot show ({', '.join(sorted(tree.names))})"
            )
    return static, settings


# --------------------------------------------------------------------------------------
# Executing the solutions, cached
# --------------------------------------------------------------------------------------


def _files(folder: Path, pattern: str) -> Iterator[Path]:
    return (
        path
        for path in sorted(folder.rglob(pattern))
        if path.is_file() and "__pycache__" not in path.parts
    )


def execution_key(solution: Path, root: Path = REPO_ROOT) -> str:
    """A digest of everything a run of ``solution`` depends on: the notebook, the course's
    ``helpers`` and ``data``, Python and the packages that compute and display."""
    digest = hashlib.sha256()
    digest.update(solution.read_bytes())
    for path in [*_files(root / "helpers", "*.py"), *_files(root / "data", "*")]:
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    versions = [platform.python_version()]
    for package in EXECUTION_PACKAGES:
        try:
            versions.append(f"{package}=={importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{package} missing")
    digest.update("\n".join(versions).encode())
    return digest.hexdigest()


def executed_solution(
    solution: Path, cache: Path, timeout: int = 600
) -> tuple[nbformat.NotebookNode, float | None]:
    """The solution notebook run top to bottom outside grading mode, and the seconds its run
    took (None: it came from ``cache``, whose copy has the same ``execution_key``).

    Raises ``BookError`` naming the cell when a cell fails: a page must never show a traceback
    the course did not mean to show.
    """
    from instructor.execution import error_outputs, execute_notebook

    key = execution_key(solution)
    cached = cache / f"{solution.parent.name}.ipynb"
    if cached.exists():
        notebook = nbformat.read(cached, as_version=4)
        if notebook.metadata.get("book", {}).get("execution_key") == key:
            return notebook, None
    notebook = nbformat.read(solution, as_version=4)
    environment = {k: v for k, v in os.environ.items() if k != "NBGRADER_EXECUTION"}
    environment["TQDM_DISABLE"] = "1"  # the bars the course's helpers draw show up regardless
    started = time.perf_counter()
    execute_notebook(notebook, solution.parent, environment=environment, timeout=timeout)
    seconds = time.perf_counter() - started
    errors = error_outputs(notebook)
    if errors:
        error = errors[0]
        raise BookError(
            f"{solution} raised {error.ename}: {error.evalue} when run top to bottom; "
            "fix the notebook (or the helpers) and build again."
        )
    notebook.metadata["book"] = {"execution_key": key}
    cache.mkdir(parents=True, exist_ok=True)
    partial = cached.with_suffix(".partial")
    nbformat.write(notebook, partial)
    partial.replace(cached)  # whole or not at all: an interrupted build leaves no half copy
    return notebook, seconds


# --------------------------------------------------------------------------------------
# A chapter: the release's cells with the executed solution's outputs
# --------------------------------------------------------------------------------------


def _unstamped(source: str) -> str:
    """A cell's source with the course repository that the release stamps left out."""
    return COURSE_REPO_LINE.sub("COURSE_REPO = ...", source)


def _without_empty_headings(markdown: str, where: str) -> str:
    """``markdown`` without heading lines that have no text, saying so: an empty heading
    would start a section with no title and break the chapter's table of contents."""
    if EMPTY_HEADING.search(markdown):
        print(
            f"warning: {where} has a heading line with no text (`#` alone), left out of the "
            "page; remove it from the notebook's source.",
            file=sys.stderr,
        )
    return EMPTY_HEADING.sub("", markdown)


def _markdown_cell(source: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_markdown_cell(source)


def _with_links(first_markdown: str, links: str) -> str:
    """The links placed under the chapter's title (its first line, a ``# `` heading)."""
    title, _, rest = first_markdown.partition("\n")
    if not title.startswith("# "):
        raise BookError(f"a chapter must start with its title (`# ...`), not {title[:80]!r}")
    return f"{title}\n\n{links}\n{rest}"


def compose_chapter(
    release: nbformat.NotebookNode,
    executed: nbformat.NotebookNode,
    links: str,
    name: str,
) -> nbformat.NotebookNode:
    """The chapter's notebook: ``release``'s cells with ``executed``'s outputs (see the module).

    The two must be the same notebook (one generated from the other by the current
    ``make release``): ``BookError`` otherwise, naming the first cell that differs.
    """
    if [cell.get("id") for cell in release.cells] != [cell.get("id") for cell in executed.cells]:
        raise BookError(
            f"{name}: the release notebook's cells are not the solution's: notebooks/ is older "
            "than solutions/. Run `make release` and build the book again."
        )
    state = executed.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    cells = []
    for index, (student, solved) in enumerate(zip(release.cells, executed.cells)):
        where = f"{name}, cell {index}"
        nbgrader = nbgrader_metadata(solved)
        if student.cell_type != solved.cell_type or (
            not nbgrader and _unstamped(student.source) != _unstamped(solved.source)
        ):
            raise BookError(
                f"{where} differs between notebooks/ and solutions/: run `make release` "
                "and build the book again."
            )
        if student.cell_type == "markdown":
            source = fold_model_answers(_without_empty_headings(student.source, where))
            if not cells:
                source = _with_links(source, links)
            cells.append(_markdown_cell(source))
            continue
        if student.cell_type != "code":
            continue  # raw cells are not part of the page
        outputs, settings = static_widget_outputs(solved.get("outputs", []), state, where)
        tags = ["exercise"] if nbgrader.get("solution") else []
        if settings is not None:
            tags.append("demo")
        cell = nbformat.v4.new_code_cell(
            student.source,
            outputs=[nbformat.from_dict(output) for output in outputs],
            execution_count=solved.get("execution_count"),
            metadata={"tags": tags} if tags else {},
        )
        cell.id = student.get("id", cell.id)
        cells.append(cell)
        if nbgrader.get("solution"):
            cells.append(_markdown_cell(folded_solution(solved.source)))
        if settings is not None:
            cells.append(_markdown_cell(demo_note(settings)))
    chapter = nbformat.v4.new_notebook(cells=cells)
    chapter.metadata = {
        key: executed.metadata[key]
        for key in ("kernelspec", "language_info")
        if key in executed.metadata
    }
    return chapter


# --------------------------------------------------------------------------------------
# The build
# --------------------------------------------------------------------------------------


def write_if_changed(path: Path, content: str | bytes) -> bool:
    """Write ``path`` only when its content changes (Sphinx rebuilds what is newer)."""
    data = content.encode() if isinstance(content, str) else content
    if path.exists() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return True


def landing_page(course_repo: str | None) -> str:
    """``book/index.md``, and where the course lives."""
    page = (BOOK_CONFIG / "index.md").read_text()
    if course_repo:
        where = f"The notebooks, the helper package and the grader live at <{course_repo}>."
    else:
        where = (
            "This site was built from a release that does not name the course's repository, "
            "so its chapters have no Colab links; the notebooks can be downloaded from each "
            "chapter."
        )
    toctree = page.index("```{toctree}")
    return f"{page[:toctree]}## Where the course lives\n\n{where}\n\n{page[toctree:]}"


@dataclass
class BuildReport:
    output: Path
    seconds: float
    executed: dict[str, float | None]  # assignment -> seconds of its run (None: cached)
    sphinx_seconds: float
    course_repo: str | None

    def summary(self) -> str:
        runs = ", ".join(
            f"{name} {'cached' if seconds is None else f'run in {seconds:.0f} s'}"
            for name, seconds in self.executed.items()
        )
        lines = [
            f"Built {self.output / 'index.html'} in {self.seconds:.0f} s "
            f"(notebooks: {runs}; Sphinx {self.sphinx_seconds:.0f} s).",
            f"Read it: `python -m http.server -d {self.output}` and open http://localhost:8000 "
            f"(or open {self.output / 'index.html'} from the disk: search shows no excerpts then).",
        ]
        if not self.course_repo:
            lines.append(
                "The chapters have no Colab links: notebooks/.release-manifest.json names no "
                "course repository. Run `make release COURSE_REPO=https://github.com/<owner>/"
                "<repo>`, commit notebooks/, and build the book again."
            )
        return "\n".join(lines)


def run_sphinx(source: Path, output: Path, doctrees: Path) -> None:
    """Sphinx's HTML build; any warning fails it (a broken link or figure is a broken page)."""
    command = [
        sys.executable, "-m", "sphinx", "-b", "html", "-q", "-W", "--keep-going",
        "-c", str(BOOK_CONFIG), "-d", str(doctrees), str(source), str(output),
    ]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise BookError(f"Sphinx failed:\n{done.stderr[-6000:]}")


def build(
    course: Course | None = None,
    output: Path = OUTPUT,
    work: Path = WORK,
    cache: Path | None = None,
) -> BuildReport:
    """Build the website of ``course`` (default: this repository) into ``output``.

    ``work`` holds the pages Sphinx reads and its state; ``cache`` (default ``work/executed``)
    the executed notebooks.
    """
    course = course or Course()
    cache = cache or work / "executed"
    started = time.perf_counter()
    course_repo = read_manifest(course)["course_repo"]
    source = work / "source"
    executed_seconds: dict[str, float | None] = {}
    for topic in topics():
        release_file = topic.release_path(course.root)
        solution_file = topic.solution_path(course.root)
        for path in (release_file, solution_file):
            if not path.exists():
                raise BookError(f"{path} is missing: the book needs the release and solutions.")
        executed, seconds = executed_solution(solution_file, cache)
        executed_seconds[topic.assignment] = seconds
        release = nbformat.read(release_file, as_version=4)
        relative = release_file.relative_to(course.root).as_posix()
        download = f"student/{topic.assignment}/{release_file.name}"
        links = chapter_links(course_repo, relative, download)
        chapter = compose_chapter(release, executed, links, topic.assignment)
        write_if_changed(source / f"{topic.assignment}.ipynb", nbformat.writes(chapter) + "\n")
        write_if_changed(source / download, release_file.read_bytes())
    write_if_changed(source / "index.md", landing_page(course_repo))
    sphinx_started = time.perf_counter()
    run_sphinx(source, output, work / "doctrees")
    now = time.perf_counter()
    return BuildReport(output, now - started, executed_seconds, now - sphinx_started, course_repo)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=OUTPUT, help="where the site goes")
    parser.add_argument(
        "--work", type=Path, default=WORK, help="the pages Sphinx reads, its state, the cache"
    )
    arguments = parser.parse_args(argv)
    try:
        report = build(output=arguments.output, work=arguments.work)
    except BookError as error:
        print(f"make book: {error}", file=sys.stderr)
        return 1
    print(report.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
