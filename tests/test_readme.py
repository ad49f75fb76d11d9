"""The README's report of the mutation suites must match the registries and the suites."""

import importlib
import re
from pathlib import Path

from instructor.notebook import topics

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()
ROW = re.compile(r"^\| (\d\d) \| `(\w+)` \| (\d+) / (\d+) \| (\d+) / (\d+) \|$", re.MULTILINE)


def test_readme_reports_every_exercise_with_its_variant_counts():
    reported = {(nb, name): counts for nb, name, *counts in ROW.findall(README)}
    expected = {}
    for topic in topics():
        suite = importlib.import_module(f"variants_{topic.name}")
        for exercise in topic.exercises:
            wrong, correct = len(suite.WRONG[exercise]), len(suite.CORRECT[exercise])
            expected[(topic.assignment[:2], exercise)] = [str(wrong)] * 2 + [str(correct)] * 2
    assert reported == expected


def test_readme_series_table_lists_every_notebook_and_its_exercises():
    for topic in topics():
        row = next(line for line in README.splitlines() if f"`{topic.assignment}`" in line)
        for exercise in topic.exercises:
            assert f"`{exercise}`" in row, (topic.assignment, exercise)
