"""Every markdown cell of every notebook (solutions and release) reaches the reader as written.

Two ways prose breaks without any error: an escape such as ``\\b`` in ``\\big(`` turning into a
control character on its way into the file (the formula then renders as garbage), and raw
HTML such as ``<details>`` swallowing the markdown after it (CommonMark ends an HTML block
only at a blank line, so a heading right after ``</details>`` shows as ``### ...``). The
cells are rendered with nbconvert's markdown renderer (mistune), which follows CommonMark's
HTML-block rules as JupyterLab's renderer does.
"""

from __future__ import annotations

import re
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from nbconvert.filters.markdown_mistune import markdown2html_mistune

from instructor.notebook import topics

TOPICS = topics()
NOTEBOOKS = [
    path
    for topic in TOPICS
    for path in (topic.solution_path(), topic.release_path())
]
SOURCES = [topic.solution_path().with_suffix(".py") for topic in TOPICS]


def _label(path: Path) -> str:
    return f"{path.parent.parent.name}/{path.parent.name}"


def _markdown_cells(path: Path) -> list[tuple[int, str]]:
    notebook = nbformat.read(path, as_version=4)
    return [(k, c.source) for k, c in enumerate(notebook.cells) if c.cell_type == "markdown"]


def _control_characters(text: str) -> list[str]:
    """Control characters other than the line break (a tab counts: ``\\t`` eats ``\\theta``)."""
    return [
        f"{ch!r} in ...{text[max(0, k - 20):k + 20]!r}..."
        for k, ch in enumerate(text)
        if unicodedata.category(ch) == "Cc" and ch != "\n"
    ]


class _RenderedText(HTMLParser):
    """The lines of text a reader sees (code and preformatted blocks aside), and the
    ``<details>`` elements: how many open, how many close, and whether each body holds
    rendered markdown (at least one paragraph or list) rather than raw text."""

    VERBATIM = {"code", "pre"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.verbatim = 0
        self.opened = self.closed = 0
        self.details_bodies: list[bool] = []  # one per open <details>: rendered markdown seen

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in self.VERBATIM:
            self.verbatim += 1
        if tag == "details":
            self.opened += 1
            self.details_bodies.append(False)
        elif tag in {"p", "ul", "ol"} and self.details_bodies:
            self.details_bodies[-1] = True

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VERBATIM:
            self.verbatim -= 1
        if tag == "details":
            self.closed += 1

    def handle_data(self, data: str) -> None:
        if not self.verbatim:
            self.lines.extend(data.splitlines())


def _render(markdown: str) -> _RenderedText:
    parser = _RenderedText()
    parser.feed(markdown2html_mistune(markdown))
    parser.close()
    return parser


def _problems(markdown: str) -> list[str]:
    rendered = _render(markdown)
    problems = [
        f"raw markdown left after rendering: {line.strip()!r}"
        for line in rendered.lines
        if line.strip().startswith("#") or re.search(r"\*\*\S", line)
    ]
    if rendered.opened != rendered.closed:
        problems.append(f"{rendered.opened} <details> opened, {rendered.closed} closed")
    if not all(rendered.details_bodies):
        problems.append("a <details> body is raw text (no blank line after <summary>?)")
    return problems


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_label)
def test_no_markdown_cell_contains_a_control_character(path):
    found = {k: _control_characters(source) for k, source in _markdown_cells(path)}
    assert not {k: v for k, v in found.items() if v}


@pytest.mark.parametrize("path", SOURCES, ids=_label)
def test_no_jupytext_source_contains_a_control_character(path):
    """The .py is what gets edited and reviewed: the damage must not start there either."""
    assert not _control_characters(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_label)
def test_every_markdown_cell_renders_without_raw_markdown_left_over(path):
    found = {k: _problems(source) for k, source in _markdown_cells(path)}
    assert not {k: v for k, v in found.items() if v}


@pytest.mark.parametrize(
    ("markdown", "problem"),
    [
        ("<details>\n<summary>Answer</summary>\n\nText.\n</details>\n#\n### Next\n", "raw"),
        ("<details>\n<summary>Answer</summary>\n\nText.\n", "opened"),
        ("<details>\n<summary>Answer</summary>\nText **bold**.\n</details>\n", "raw"),
        ("Before\n\n<details>\n<summary>A</summary>\nText.\n</details>\n", "<details> body"),
    ],
)
def test_the_rendering_check_catches_each_kind_of_broken_cell(markdown, problem):
    assert any(problem in found for found in _problems(markdown))


def test_the_rendering_check_passes_a_well_formed_cell():
    markdown = (
        "### Think!\n\n<details>\n<summary>Model answer</summary>\n\n"
        "A **bold** claim, $\\sum_i x_i$ and `# not a heading`.\n</details>\n\n## Next\n"
    )
    assert _problems(markdown) == []


def test_a_backspace_from_a_non_raw_big_is_a_control_character():
    assert _control_characters("$\\sum_i \big(x\big)$")
