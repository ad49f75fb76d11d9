"""The README's tables must match the registries, the mutation suites and the last bench record."""

import re
import sys
from pathlib import Path

from instructor.notebook import topics
from instructor.settings import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "scripts"))
from bench import markdown_table, recorded_rows  # noqa: E402
from trust_table import TABLE, trust_table  # noqa: E402

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def test_readme_trust_table_is_the_one_the_registries_give():
    assert TABLE.search(README).group(0) == trust_table(), "run python scripts/trust_table.py"


def test_readme_series_table_lists_every_notebook_and_its_exercises():
    for topic in topics():
        row = next(line for line in README.splitlines() if f"`{topic.assignment}`" in line)
        for exercise in topic.exercises:
            assert f"`{exercise}`" in row, (topic.assignment, exercise)


def test_readme_performance_table_is_the_last_bench_record():
    table = re.search(r"^\| section \| row \|.*?(?=\n\n)", README, re.S | re.M).group(0)
    assert table == markdown_table(recorded_rows()), (
        "paste the output of `python scripts/bench.py --markdown` into the README"
    )
