"""The README's layout table and docs/architecture.md say what the tree holds."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _packages() -> set[str]:
    found = {
        f"recall/{p.name}/" for p in (ROOT / "recall").iterdir() if (p / "__init__.py").exists()
    }
    return found | {"flows/"}


def _named(text: str) -> set[str]:
    return set(re.findall(r"`((?:recall/)?[a-z_]+/)`", text))


@pytest.mark.parametrize("doc", ["README.md", "docs/architecture.md"])
def test_every_package_is_named_and_every_name_is_a_package(doc):
    text = (ROOT / doc).read_text(encoding="utf-8")
    table = "\n".join(line for line in text.splitlines() if line.startswith("| `"))
    named = {n for n in _named(table) if n.startswith("recall/") or n == "flows/"}
    assert _packages() - named == set(), "packages the table does not name"
    assert named - _packages() == set(), "names the tree does not hold"


def test_the_modules_the_architecture_names_exist():
    text = (ROOT / "docs/architecture.md").read_text(encoding="utf-8")
    for row in (line for line in text.splitlines() if line.startswith("| `recall/")):
        package = re.match(r"\| `(recall/[a-z_]+/)`", row).group(1)
        for module in re.findall(r"`([a-z_]+\.py)`", row):
            assert (ROOT / package / module).exists(), f"{package}{module}"
