"""The docs' parameter tables are checked against the code, so they cannot drift from it."""
import dataclasses
import re
from pathlib import Path

import pytest

from baselines.ganmm.method import Params as GANMMParams
from ganem.model.params import Params as GANEMParams

DOCS = Path(__file__).resolve().parent.parent / "docs"
NAME = r"`([a-z][a-z_0-9]*)`"


def section(page: Path, heading: str) -> str:
    text = page.read_text()
    rest = text[text.index(heading):]
    end = rest.find("\n## ", 1)
    return rest if end < 0 else rest[:end]


def table_names(text: str) -> set[str]:
    """Backticked names in the first column of the Markdown table rows of ``text``."""
    return {name for line in text.splitlines() if line.startswith("| ") and not line.startswith("|---")
            for name in re.findall(NAME, line.split("|")[1])}


@pytest.mark.parametrize("page, heading, params", [
    ("ganem.md", "## Choices the paper leaves open", GANEMParams),
    ("ganmm.md", "## Parameters", GANMMParams),
])
def test_parameter_tables_name_every_params_field_and_no_other(page, heading, params):
    fields = {f.name for f in dataclasses.fields(params)}
    text = section(DOCS / page, heading)
    in_table = table_names(text)
    assert in_table - fields == set(), f"docs/{page} names fields that Params does not have"
    other = re.search(r"Other `Params` fields.*?(?:\n\n|\Z)", text, re.S)
    described = in_table | (set(re.findall(NAME, other.group(0))) if other else set())
    assert fields - described == set(), f"docs/{page} does not describe these Params fields"


def test_a_removed_field_would_be_caught(tmp_path):
    page = tmp_path / "p.md"
    page.write_text("## Parameters\n\n| Param | default |\n|---|---|\n| `batch_size` | 50 |\n| `gone` | 1 |\n")
    assert table_names(section(page, "## Parameters")) - {"batch_size"} == {"gone"}
