"""The course as a website (`make book`, instructor/book.py).

The unit tests build chapters from small notebooks made here. The end-to-end tests (marked
kernel, browser, network) build the whole site once, from a release stamped with a course
repository, and read every page in headless Chromium (tests/book_site.py): pages load without a
console error or a request leaving the site, images load, links and anchors resolve, math is
typeset and no markdown is left raw, exercises and model answers are folded, every demo shows
its figure with its note, Colab links name the stamped repository, search finds the chapters,
the table of contents lists them in order, and pages fit a phone's width. The built site stays
in ``build/book-test/`` for a look after the run.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import nbformat
import pytest
from book_site import Page, page_width, serve, visit
from browser import CHROMIUM

from instructor import book
from instructor.book import (
    BookError,
    chapter_links,
    colab_url,
    compose_chapter,
    demo_note,
    executed_solution,
    execution_key,
    fold_model_answers,
    folded_solution,
    static_widget_outputs,
    write_if_changed,
)
from instructor.model import Course
from instructor.notebook import nbgrader_metadata, topics
from instructor.release import release
from instructor.settings import REPO_ROOT

TOPICS = topics()
STAMPED = "https://github.com/course-owner/course-repo"
SITE = REPO_ROOT / "build" / "book-test"  # the end-to-end tests' site, kept for a look
PHONE = {"width": 390, "height": 844}

# --------------------------------------------------------------------------------------
# Links out
# --------------------------------------------------------------------------------------


def test_colab_link_opens_the_release_notebook_of_the_github_repository():
    path = "notebooks/03_optimization/optimization.ipynb"
    expected = (
        "https://colab.research.google.com/github/owner/repo/blob/main/"
        "notebooks/03_optimization/optimization.ipynb"
    )
    assert colab_url("https://github.com/owner/repo", path) == expected
    assert colab_url("https://github.com/owner/repo.git", path) == expected
    assert colab_url("https://github.com/owner/repo/", path) == expected


def test_no_colab_link_without_a_repository_or_off_github():
    path = "notebooks/01_pytorch_basics/pytorch_basics.ipynb"
    assert colab_url(None, path) is None
    assert colab_url("", path) is None
    assert colab_url("https://gitlab.com/owner/repo", path) is None
    assert colab_url("file:///srv/course", path) is None


def test_chapter_links_say_what_to_do_when_colab_cannot_open_the_notebook():
    download = "student/01_pytorch_basics/pytorch_basics.ipynb"
    path = "notebooks/01_pytorch_basics/pytorch_basics.ipynb"
    on_github = chapter_links("https://github.com/o/r", path, download)
    assert "[Open in Colab](https://colab.research.google.com/github/o/r/blob/main/" in on_github
    assert f"<{download}>" in on_github
    elsewhere = chapter_links("https://gitlab.com/o/r", path, download)
    assert "Open in Colab" not in elsewhere and "File > Upload notebook" in elsewhere
    assert "https://gitlab.com/o/r" in elsewhere
    unset = chapter_links(None, path, download)
    assert "No Colab link" in unset and "make release COURSE_REPO=" in unset
    assert f"<{download}>" in unset


def test_landing_page_names_the_repository_or_says_none_was_stamped():
    assert f"<{STAMPED}>" in book.landing_page(STAMPED)
    assert "does not name the course's repository" in book.landing_page(None)
    assert "{toctree}" in book.landing_page(None)


# --------------------------------------------------------------------------------------
# Folding
# --------------------------------------------------------------------------------------


def test_folded_solution_is_a_closed_dropdown_without_nbgrader_markers():
    source = "def f(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION\n"
    folded = folded_solution(source)
    assert folded.startswith(":::{dropdown} Show solution\n:class-container: book-solution\n")
    assert "```python\ndef f(x):\n    return 2 * x\n```" in folded
    assert "BEGIN SOLUTION" not in folded and ":open:" not in folded


def test_folded_solution_fences_code_that_holds_backticks_and_colons():
    source = 'def f():\n    ### BEGIN SOLUTION\n    return "````" + ":::::"\n    ### END SOLUTION\n'
    folded = folded_solution(source)
    assert "`````python\n" in folded and folded.startswith("::::::{dropdown}")
    assert folded.endswith("`````\n::::::")


def test_model_answers_become_closed_dropdowns_with_their_titles():
    markdown = (
        "### Think! 1\n\nWhy?\n\n<details>\n<summary>A model answer</summary>\n\n"
        "Because $x^2 \\ge 0$.\n\n</details>\n\nMore text."
    )
    folded = fold_model_answers(markdown)
    assert ":::{dropdown} A model answer\n:class-container: book-answer\n\n" in folded
    assert "Because $x^2 \\ge 0$.\n:::" in folded
    assert "<details>" not in folded and folded.endswith("More text.")


def test_a_details_block_written_another_way_is_refused():
    with pytest.raises(BookError, match="<details>"):
        fold_model_answers("<details><summary>inline</summary>text</details>")


# --------------------------------------------------------------------------------------
# Demos
# --------------------------------------------------------------------------------------

PNG = {"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"}


def _model(name: str, **state) -> dict:
    return {"model_name": name, "model_module": "@jupyter-widgets/controls", "state": state}


def _demo_state() -> dict:
    figure = {"output_type": "display_data", "data": PNG, "metadata": {}}
    printed = {"output_type": "stream", "name": "stdout", "text": "converged after 12 steps\n"}
    return {
        "box": _model("VBoxModel", children=["IPY_MODEL_row", "IPY_MODEL_run", "IPY_MODEL_out"]),
        "row": _model("HBoxModel", children=["IPY_MODEL_lr", "IPY_MODEL_kind"]),
        "lr": _model("FloatLogSliderModel", description="lr", value=0.01),
        "kind": _model("DropdownModel", description="rule", index=1,
                       _options_labels=["SGD", "Adam"]),
        "run": _model("ButtonModel", description="Run"),
        "out": _model("OutputModel", outputs=[figure, printed]),
        "bar": _model("HBoxModel", children=["IPY_MODEL_text", "IPY_MODEL_progress"]),
        "text": _model("HTMLModel", value="training: 100%"),
        "progress": _model("FloatProgressModel", value=220.0),
    }


def _view(model_id: str, output_type: str = "display_data") -> dict:
    output = {"output_type": output_type, "metadata": {},
              "data": {book.WIDGET_VIEW: {"model_id": model_id}, "text/plain": "VBox()"}}
    if output_type == "execute_result":
        output["execution_count"] = 1
    return output


def test_a_demo_becomes_its_figure_and_printed_lines_at_the_default_settings():
    outputs, settings = static_widget_outputs([_view("box")], _demo_state(), "cell 3")
    assert [output["output_type"] for output in outputs] == ["display_data", "stream"]
    assert outputs[0]["data"]["image/png"] == PNG["image/png"]
    assert settings == [("lr", "0.01"), ("rule", "Adam")]


def test_a_demo_displayed_twice_by_its_cell_appears_once():
    views = [_view("box"), _view("box", "execute_result")]
    outputs, _ = static_widget_outputs(views, _demo_state(), "cell 3")
    assert len(outputs) == 2


def test_a_finished_progress_bar_is_left_out_and_other_outputs_kept():
    printed = {"output_type": "stream", "name": "stdout", "text": "done\n"}
    outputs, settings = static_widget_outputs([_view("bar"), printed], _demo_state(), "cell 3")
    assert outputs == [printed] and settings is None


def test_a_widget_the_page_cannot_show_or_a_demo_without_a_figure_is_refused():
    state = _demo_state()
    state["lone"] = _model("IntSliderModel", description="n", value=3)
    with pytest.raises(BookError, match="cell 3: a widget the book cannot show"):
        static_widget_outputs([_view("lone")], state, "cell 3")
    state["out"]["state"]["outputs"] = []
    with pytest.raises(BookError, match="cell 3: the demo drew no figure"):
        static_widget_outputs([_view("box")], state, "cell 3")


def test_demo_note_says_it_is_interactive_and_gives_the_defaults():
    note = demo_note([("lr", "0.01"), ("rule", "Adam")])
    assert "in JupyterLab or Colab" in note and "(lr = 0.01, rule = Adam)" in note


# --------------------------------------------------------------------------------------
# A chapter
# --------------------------------------------------------------------------------------

SOLUTION_META = {"nbgrader": {"solution": True, "grade": False, "grade_id": "double"}}
TEST_META = {"nbgrader": {"grade": True, "solution": False, "grade_id": "test_double",
                          "points": 1}}


def _notebook(*cells: nbformat.NotebookNode) -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook(cells=list(cells))
    for index, cell in enumerate(notebook.cells):
        cell.id = f"cell-{index}"
    return notebook


def _pair() -> tuple[nbformat.NotebookNode, nbformat.NotebookNode]:
    """A tiny release and its executed solution: title, setup, exercise, test, demo."""
    solved = _notebook(
        nbformat.v4.new_markdown_cell("# Doubling\n\nA chapter."),
        nbformat.v4.new_code_cell('COURSE_REPO = ""'),
        nbformat.v4.new_code_cell(
            "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION",
            metadata=SOLUTION_META),
        nbformat.v4.new_code_cell(
            "check(double)\n### BEGIN HIDDEN TESTS\nhidden(double)\n### END HIDDEN TESTS",
            metadata=TEST_META,
            outputs=[nbformat.v4.new_output("stream", text="`double` looks right.\n")]),
        nbformat.v4.new_code_cell("demos.doubling_widget()",
                                  outputs=[nbformat.from_dict(_view("box"))]),
    )
    solved.metadata["widgets"] = {book.WIDGET_STATE: {"state": _demo_state()}}
    student = _notebook(
        nbformat.v4.new_markdown_cell("# Doubling\n\nA chapter."),
        nbformat.v4.new_code_cell('COURSE_REPO = "https://github.com/o/r"'),
        nbformat.v4.new_code_cell(
            "def double(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()",
            metadata=SOLUTION_META),
        nbformat.v4.new_code_cell("check(double)", metadata=TEST_META),
        nbformat.v4.new_code_cell("demos.doubling_widget()"),
    )
    return student, solved


def test_a_chapter_shows_the_release_cells_with_the_solution_outputs_and_folds():
    student, solved = _pair()
    chapter = compose_chapter(student, solved, "LINKS", "00_doubling")
    sources = [cell.source for cell in chapter.cells]
    assert sources[0] == "# Doubling\n\nLINKS\n\nA chapter."
    assert sources[1] == 'COURSE_REPO = "https://github.com/o/r"'
    assert "raise NotImplementedError()" in sources[2]
    assert chapter.cells[2].metadata["tags"] == ["exercise"]
    assert sources[3].startswith(":::{dropdown} Show solution") and "return 2 * x" in sources[3]
    assert sources[4] == "check(double)"  # the release's test cell: no hidden tests
    assert chapter.cells[4].outputs[0]["text"] == "`double` looks right.\n"
    assert chapter.cells[5].metadata["tags"] == ["demo"]
    assert "image/png" in chapter.cells[5].outputs[0]["data"]
    assert "Interactive demo" in sources[6]
    assert "widgets" not in chapter.metadata  # nothing for a widget manager from a CDN
    nbformat.validate(chapter)


def test_a_release_older_than_the_solutions_is_refused_with_what_to_run():
    student, solved = _pair()
    student.cells[0].source = "# Doubling\n\nAn older text."
    with pytest.raises(BookError, match="cell 0 differs .* run `make release`"):
        compose_chapter(student, solved, "LINKS", "00_doubling")
    student, solved = _pair()
    del student.cells[3]
    with pytest.raises(BookError, match="notebooks/ is older than solutions/"):
        compose_chapter(student, solved, "LINKS", "00_doubling")


def test_a_heading_line_without_text_is_left_out_and_named(capsys):
    student, solved = _pair()
    for notebook in (student, solved):
        notebook.cells[0].source = "# Doubling\n\nA chapter.\n#\n### Next part"
    chapter = compose_chapter(student, solved, "LINKS", "00_doubling")
    assert chapter.cells[0].source == "# Doubling\n\nLINKS\n\nA chapter.\n\n### Next part"
    assert "00_doubling, cell 0 has a heading line with no text" in capsys.readouterr().err


@pytest.mark.parametrize("topic", TOPICS, ids=lambda topic: topic.assignment)
def test_each_release_notebook_makes_a_chapter(topic):
    """The committed release and solutions pair up, and every model answer folds (outputs
    aside: the end-to-end tests run the notebooks)."""
    release_notebook = nbformat.read(topic.release_path(), as_version=4)
    solution = nbformat.read(topic.solution_path(), as_version=4)
    for cell in solution.cells:
        if cell.cell_type == "code":
            cell.outputs = []
    chapter = compose_chapter(release_notebook, solution, "LINKS", topic.assignment)
    folded = [cell for cell in chapter.cells if "{dropdown} Show solution" in cell.source]
    assert len(folded) == len(topic.exercises)
    answers = sum(cell.source.count("<details>") for cell in release_notebook.cells)
    assert sum(cell.source.count("class-container: book-answer") for cell in chapter.cells) == (
        answers
    )


# --------------------------------------------------------------------------------------
# Caching
# --------------------------------------------------------------------------------------


def _course_tree(root: Path) -> Path:
    (root / "helpers").mkdir(parents=True)
    (root / "helpers" / "demos.py").write_text("STEPS = 10\n")
    (root / "data").mkdir()
    (root / "data" / "points.npz").write_bytes(b"\x00\x01")
    notebook = root / "solutions" / "01_x" / "x.ipynb"
    notebook.parent.mkdir(parents=True)
    nbformat.write(_pair()[1], notebook)
    return notebook


def test_execution_key_changes_with_the_notebook_the_helpers_or_the_data(tmp_path):
    notebook = _course_tree(tmp_path)
    key = execution_key(notebook, tmp_path)
    assert execution_key(notebook, tmp_path) == key
    (tmp_path / "helpers" / "demos.py").write_text("STEPS = 11\n")
    assert execution_key(notebook, tmp_path) != key
    key = execution_key(notebook, tmp_path)
    (tmp_path / "data" / "points.npz").write_bytes(b"\x00\x02")
    assert execution_key(notebook, tmp_path) != key
    key = execution_key(notebook, tmp_path)
    notebook.write_text(notebook.read_text().replace("A chapter.", "A chapter!"))
    assert execution_key(notebook, tmp_path) != key


def test_a_notebook_is_executed_once_then_read_from_the_cache(tmp_path, monkeypatch):
    import instructor.execution

    notebook = _course_tree(tmp_path)
    runs = []

    def execute(notebook_node, folder, **options):
        runs.append(folder)
        return notebook_node

    monkeypatch.setattr(instructor.execution, "execute_notebook", execute)
    monkeypatch.setattr(book, "execution_key", lambda path: execution_key(path, tmp_path))
    first, seconds = executed_solution(notebook, tmp_path / "cache")
    assert runs == [notebook.parent] and seconds is not None
    again, seconds = executed_solution(notebook, tmp_path / "cache")
    assert runs == [notebook.parent] and seconds is None
    assert again.cells == first.cells
    (tmp_path / "helpers" / "demos.py").write_text("STEPS = 11\n")
    executed_solution(notebook, tmp_path / "cache")
    assert len(runs) == 2


def test_a_failing_cell_stops_the_build_naming_the_error(tmp_path, monkeypatch):
    import instructor.execution

    notebook = _course_tree(tmp_path)

    def execute(notebook_node, folder, **options):
        notebook_node.cells[1].outputs = [nbformat.v4.new_output(
            "error", ename="ValueError", evalue="no data", traceback=[])]
        return notebook_node

    monkeypatch.setattr(instructor.execution, "execute_notebook", execute)
    monkeypatch.setattr(book, "execution_key", lambda path: execution_key(path, tmp_path))
    with pytest.raises(BookError, match="raised ValueError: no data"):
        executed_solution(notebook, tmp_path / "cache")
    assert not (tmp_path / "cache" / "01_x.ipynb").exists()


def test_unchanged_pages_are_not_rewritten(tmp_path):
    page = tmp_path / "page.md"
    assert write_if_changed(page, "# A page\n")
    before = page.stat().st_mtime_ns
    assert not write_if_changed(page, "# A page\n")
    assert page.stat().st_mtime_ns == before
    assert write_if_changed(page, "# Another page\n")


# --------------------------------------------------------------------------------------
# make, README
# --------------------------------------------------------------------------------------


def test_make_book_is_listed_in_make_help_and_runs_the_builder():
    listed = subprocess.run(["make", "help"], cwd=REPO_ROOT, capture_output=True, text=True,
                            check=True).stdout
    assert re.search(r"^book\s+the course as a website in build/book/", listed, re.MULTILINE)
    planned = subprocess.run(["make", "-n", "-o", ".venv/.installed", "book"], cwd=REPO_ROOT,
                             capture_output=True, text=True, check=True).stdout
    assert "-m instructor.book" in planned


def test_readme_tells_readers_about_the_website_and_how_to_publish_it():
    readme = (REPO_ROOT / "README.md").read_text()
    readers = " ".join(readme.split("## For self-paced readers")[1].split("\n## ")[0].split())
    assert "make book" in readers and "build/book/" in readers
    assert "GitHub Pages" in readers and "COURSE_REPO" in readers
    assert "MyST-NB" in readers  # the choice of tools, and why


# --------------------------------------------------------------------------------------
# End to end: the whole site in a real browser
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> book.BuildReport:
    """The site of a release stamped with ``STAMPED``, built once (the notebooks' runs come
    from the cache that `make book` shares, when current)."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    root = tmp_path_factory.mktemp("course")
    (root / "solutions").symlink_to(REPO_ROOT / "solutions")
    course = Course(root=root)
    release(course, course_repo=STAMPED)
    shutil.rmtree(SITE, ignore_errors=True)
    return book.build(course, output=SITE, work=root / "work", cache=book.WORK / "executed")


@pytest.fixture(scope="module")
def site_url(built):
    with serve(built.output) as url:
        yield url


@pytest.fixture(scope="module")
def chromium(built):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def pages(chromium, site_url) -> dict[str, Page]:
    """Every page reachable from the landing page, by path, each visited once."""
    found: dict[str, Page] = {}
    # The search page is reached through the search box's form, not a link.
    waiting = [site_url + "index.html", site_url + "search.html"]
    while waiting:
        url = waiting.pop(0)
        if urlsplit(url).path in found:
            continue
        page = visit(chromium, url)
        found[page.path] = page
        for link in page.links:
            target = urlsplit(link["href"])
            if link["href"].startswith(site_url) and target.path.endswith(".html"):
                waiting.append(site_url.rstrip("/") + target.path)
    return found


def _chapter(pages: dict[str, Page], topic) -> Page:
    return pages[f"/{topic.assignment}.html"]


@pytest.mark.kernel
@pytest.mark.browser
@pytest.mark.network
def test_every_chapter_and_the_landing_page_are_reachable(pages):
    expected = {"/index.html", "/search.html", *(f"/{t.assignment}.html" for t in TOPICS)}
    assert expected <= set(pages)


@pytest.mark.kernel
@pytest.mark.browser
@pytest.mark.network
def test_every_page_loads_with_no_console_error_and_nothing_from_outside(pages):
    problems = {
        path: page.console_errors + page.failed_requests + page.outside_requests
        for path, page in pages.items()
        if page.console_errors or page.failed_requests or page.outside_requests
    }
    assert not problems


@pytest.mark.kernel
@pytest.mark.browser
@pytest.mark.network
def test_every_image_loads(pages):
    broken = [(path, image["src"]) for path, page in pages.items()
              for image in page.images if image["width"] == 0]
    assert not broken
    for topic in TOPICS:
        assert len(_chapter(pages, topic).images) >= 3, topic.assignment


@pytest.mark.kernel
@pytest.mark.browser
@pytest.mark.network
def test_every_internal_link_and_anchor_resolves(pages, site_url):
    missing = []
    for path, page in pages.items():
        for link in page.links:
            href = link["href"]
            if not href.startswith(site_url):
                continue  # Colab, GitHub: checked below, not fetched (the tests are offline)
            target = urlsplit(href)
            if target.path in pages:
                if target.fragment and target.fragment not in pages[target.path].ids:
                    missing.append(f"{path}: #{target.fragment} of {target.path}")
                continue
            try:
                with urllib.request.urlopen(href.split("#")[0], timeout=30) as response:
                    response.read()
            except OSError as error:
                missing.append(f"{path}: {href} ({error})")
    assert not missing


@pytest.mark.kernel
@pytest.mark.browser
@pytest.mark.network
def test_math_is_typeset_and_no_markdown_is_left_raw(pages):
    raw = re.compile(r"\$|\\\(|\\\[|\*\*|```|:::|\{dropdown\}|</?details|</?summary|\]\(|"
                     r"^#{1,6} |VBox\(|HBox\(", re.MULTILINE)
    leftovers = {path: sorted(set(raw.findall(page.prose))) for path, page in pages.items()
                 if raw.search(page.prose)}
    assert not leftovers
    for topic in TOPICS:
        chapter = _chapter(pages, topic)
        assert chapter.typeset > 10, f"{topic.assignment}: math was not typeset"
        assert chapter.math_errors == 0, f"{topic.assignment}: MathJax could not read some math"


@pytest.mark.kernel
@pytest.mark.browser
@pytest.mark.network
def test_each_exercise_shows_the_release_cell_with_its_solution_folded_below(
    chromium, site_url
):
    page = chromium.new_page()
    try:
        for topic in TOPICS:
            page.goto(f"{site_url}{topic.assignment}.html")
            exercises = page.locator(".cell.tag_exercise")
            assert exercises.count() == len(topic.exercises), topic.assignment
            for index, name in enumerate(topic.exercises):
                cell = exercises.nth(index)
                code = cell.locator(".cell_input").inner_text()
                assert re.search(rf"(def|class) {name}\b", code), (topic.assignment, name)
                assert "raise NotImplementedError()" in code
                solution = cell.locator("xpath=following-sibling::*[1]")
                assert "book-solution" in solution.get_attribute("class")
                assert solution.get_attribute("open") is None  # folded
                assert not solution.locator("pre").is_visible()
                solution.locator("summary").click()
                shown = solution.locator("pre").inner_text()
                assert re.search(rf"(def|class) {name}\b", shown) and "NotImplemented" not in shown
                assert "BEGIN SOLUTION" not in shown
    finally:
        page.close()


@pytest.mark.kernel
@pytest.mark.browser
@pytest.mark.network
def test_model_answers_are_folded_as_in_the_notebook(chromium, site_url):
    page = chromium.new_page()
    try:
        for topic in TOPICS:
            release_notebook = nbformat.read(topic.release_path(), as_version=4)
            titles = re.findall(r"<summary>(.*?)</summary>",
                                "\n".join(cell.source for cell in release_notebook.cells))
            page.goto(f"{site_url}{topic.assignment}.html")
            answers = page.locator("details.book-answer")
            shown = [answers.nth(i).locator("summary").inner_text().strip()
                     for i in range(answers.count())]
            assert shown == titles, topic.assignment
            assert all(answers.nth(i).get_attribute("open") is None for i in range(len(shown)))
    finally:
        page.close()


def _interactive_demos(topic) -> set[str]:
    """The names of a topic's interactive demos: its ``@demo`` functions that return a widget
    (the others draw plain figures)."""
    import importlib

    module = importlib.import_module(f"{topic.package.__name__}.demos")
    return {name for name, value in vars(module).items()
            if getattr(value, "__code__", None) is not None
            and value.__code__.co_name == "build_unless_grading"
            and str(value.__wrapped__.__annotations__.get("return", "")).startswith("widgets.")}


@pytest.mark.kernel
@pytest.mark.browser
@pytest.mark.network
def test_each_demo_shows_its_figure_and_says_it_is_interactive(chromium, site_url):
    page = chromium.new_page()
    try:
        for topic in TOPICS:
            solution = nbformat.read(topic.solution_path(), as_version=4)
            calls = re.compile(rf"\b(?:demos\.)?({'|'.join(_interactive_demos(topic))})\(")
            expected = [cell for cell in solution.cells
                        if cell.cell_type == "code" and calls.search(cell.source)
                        and not nbgrader_metadata(cell)]
            page.goto(f"{site_url}{topic.assignment}.html")
            demos = page.locator(".cell.tag_demo")
            assert demos.count() == len(expected), topic.assignment
            for index in range(demos.count()):
                demo = demos.nth(index)
                assert demo.locator(".cell_output img").count() >= 1
                note = demo.locator("xpath=following-sibling::*[1]")
                assert "book-demo-note" in note.get_attribute("class")
                assert "in JupyterLab or Colab" in note.inner_text()
    finally:
        page.close()


@pytest.mark.kernel
@pytest.mark.browser
@pytest.mark.network
def test_each_chapter_links_to_colab_in_the_stamped_repository_and_to_its_notebook(
    pages, built
):
    owner_repo = urlsplit(STAMPED).path.strip("/")
    for topic in TOPICS:
        links = _chapter(pages, topic).links
        relative = topic.release_path(Path("")).as_posix()
        colab = [link["href"] for link in links if link["text"] == "Open in Colab"]
        assert colab == [
            f"https://colab.research.google.com/github/{owner_repo}/blob/main/{relative}"
        ], topic.assignment
        [download] = [link["href"] for link in links if link["text"].startswith("Download")]
        with urllib.request.urlopen(download, timeout=30) as response:
            notebook = nbformat.reads(response.read().decode(), as_version=4)
        setup = next(cell for cell in notebook.cells if cell.cell_type == "code")
        assert f'COURSE_REPO = "{STAMPED}"' in setup.source
        assert any("raise NotImplementedError()" in cell.source for cell in notebook.cells)


@pytest.mark.kernel
@pytest.mark.browser
@pytest.mark.network
def test_search_finds_a_topic_across_the_chapters(chromium, site_url):
    page = chromium.new_page()
    try:
        page.goto(f"{site_url}index.html")
        page.locator(".search-button__button:visible").first.click()  # the theme's pop-up
        field = page.locator("#pst-search-dialog input[name=q]")
        field.fill("momentum")
        field.press("Enter")
        page.wait_for_selector("#search-results li", timeout=30_000)
        found = page.locator("#search-results li a").evaluate_all(
            "(links) => links.map((a) => new URL(a.href).pathname)")
        assert "/03_optimization.html" in found and "/04_optimizer_rules.html" in found
    finally:
        page.close()


@pytest.mark.kernel
@pytest.mark.browser
@pytest.mark.network
def test_table_of_contents_lists_the_chapters_in_series_order(chromium, site_url):
    page = chromium.new_page()
    try:
        page.goto(f"{site_url}index.html")
        listed = page.locator("nav.bd-docs-nav a.reference").evaluate_all(
            "(links) => links.map((a) => new URL(a.href).pathname)")
        assert [path for path in listed if path != "/index.html"] == [
            f"/{topic.assignment}.html" for topic in TOPICS
        ]
        for topic in TOPICS:  # and each chapter's page lists its own sections
            page.goto(f"{site_url}{topic.assignment}.html")
            sections = page.locator("nav.page-toc a").all_inner_texts()
            assert len(sections) >= 5, topic.assignment
    finally:
        page.close()


@pytest.mark.kernel
@pytest.mark.browser
@pytest.mark.network
def test_pages_fit_a_phone_screen(chromium, pages, site_url):
    too_wide = {}
    for path in pages:
        width, culprits = page_width(chromium, site_url.rstrip("/") + path, **PHONE)
        if width > PHONE["width"]:
            too_wide[path] = (width, culprits)
    assert not too_wide
