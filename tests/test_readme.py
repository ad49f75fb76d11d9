"""The README's report of the mutation suites must match the suites themselves."""

import re
from pathlib import Path

import variants_deep_linear
import variants_optimization

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()
SUITES = {"02": variants_deep_linear, "03": variants_optimization}
ROW = re.compile(r"^\| (\d\d) \| `(\w+)` \| (\d+) / (\d+) \| (\d+) / (\d+) \|$", re.MULTILINE)


def test_readme_reports_every_exercise_with_its_variant_counts():
    reported = {(nb, name): counts for nb, name, *counts in ROW.findall(README)}
    expected = {
        (nb, exercise): [
            str(len(suite.WRONG[exercise])),
            str(len(suite.WRONG[exercise])),
            str(len(suite.CORRECT[exercise])),
            str(len(suite.CORRECT[exercise])),
        ]
        for nb, suite in SUITES.items()
        for exercise in suite.EXERCISES
    }
    assert reported == expected
