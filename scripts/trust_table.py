"""Write the README's trust table from the exercise registries and their mutation suites.

    python scripts/trust_table.py        # rewrite the table in README.md

One row per exercise of every notebook, in notebook order: how many wrong variants the hidden
checks catch and how many correct ones they accept (``tests/test_mutants.py`` asserts that all
are, so the counts are the suites' sizes; ``tests/test_readme.py`` keeps the table current).
"""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path

from instructor.notebook import topics
from instructor.settings import REPO_ROOT

HEADER = "| notebook | exercise | wrong answers caught | correct answers accepted |"
TABLE = re.compile(re.escape(HEADER) + r"\n\| --- .*\|\n(?:\|.*\|\n)*")


def trust_table() -> str:
    sys.path.insert(0, str(REPO_ROOT / "tests"))
    rows = [HEADER, "| --- | --- | --- | --- |"]
    for topic in topics():
        suite = importlib.import_module(f"variants_{topic.name}")
        for exercise in topic.exercises:
            wrong, correct = len(suite.WRONG[exercise]), len(suite.CORRECT[exercise])
            rows.append(
                f"| {topic.assignment[:2]} | `{exercise}` | {wrong} / {wrong} | "
                f"{correct} / {correct} |"
            )
    return "\n".join(rows) + "\n"


def main() -> None:
    readme = Path(REPO_ROOT / "README.md")
    text = readme.read_text()
    if not TABLE.search(text):
        raise SystemExit("README.md has no trust table to replace.")
    readme.write_text(TABLE.sub(trust_table(), text, count=1))


if __name__ == "__main__":
    main()
