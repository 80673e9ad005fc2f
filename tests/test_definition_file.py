"""A recall definition file is a page of YAML: aliases, deep nesting, a key given twice or a
file too large are refused as field errors, on the command line and in the console alike."""

import time

import pytest
import yaml
from fastapi.testclient import TestClient

from recall.campaign.definitions import load_definition
from recall.domain.definition import InvalidDefinition
from tests.console_support import build_console, log_in
from tests.support import sample_recall

# Nine levels of nine aliases: 1 KiB of YAML that a plain loader expands to 9^9 strings.
BOMB = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{b}: &{b} [{','.join(['*' + a] * 9)}]\n" for a, b in zip("abcdefgh", "bcdefghi", strict=True)
)
DEEP = "id: R-1\nx: " + "[" * 5000 + "]" * 5000 + "\n"
TWICE = yaml.safe_dump(sample_recall()) + "id: R-2026-015\n"


def problems(path) -> list[str]:
    with pytest.raises(InvalidDefinition) as raised:
        load_definition(path)
    return [f"{e.field}: {e.message}" for e in raised.value.errors]


def test_aliases_are_refused_before_they_expand(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(BOMB, encoding="utf-8")
    started = time.perf_counter()
    found = problems(path)
    assert time.perf_counter() - started < 5  # nothing was expanded (it takes minutes)
    assert found == ["(yaml): line 2: aliases (*name) are not allowed here"]


def test_deep_nesting_is_refused_without_a_recursion_error(tmp_path):
    path = tmp_path / "deep.yaml"
    path.write_text(DEEP, encoding="utf-8")
    assert problems(path) == ["(yaml): line 2: nested deeper than 20 levels"]


def test_a_key_given_twice_is_an_error_naming_both_lines(tmp_path):
    path = tmp_path / "twice.yaml"
    path.write_text(TWICE, encoding="utf-8")
    lines = TWICE.splitlines()
    first = next(n for n, text in enumerate(lines, 1) if text.startswith("id:"))
    last = len(lines)
    twice = f"'id' is given twice (lines {first} and {last})"
    assert problems(path) == [f"(yaml): line {last}: {twice}"]


def test_a_file_too_large_for_a_definition_is_refused_unread(tmp_path):
    path = tmp_path / "large.yaml"
    path.write_text(yaml.safe_dump(sample_recall()) + "#" * (256 * 1024) + "\n", encoding="utf-8")
    assert problems(path) == ["(file): larger than 256 KiB"]


def test_a_definition_with_anchors_but_no_aliases_still_loads(tmp_path):
    path = tmp_path / "anchored.yaml"
    path.write_text(yaml.safe_dump(sample_recall()).replace("hazard:", "hazard: &h", 1))
    definition, _ = load_definition(path)
    assert definition.hazard == "high"


@pytest.fixture
def console(database_url, tmp_path):
    app, web = build_console(database_url, tmp_path)
    yield web
    app.engine.dispose()


@pytest.mark.parametrize("content", [BOMB, DEEP, TWICE], ids=["aliases", "deep", "twice"])
def test_the_console_refuses_the_same_files_as_field_errors(console, content):
    with TestClient(console) as client:
        token = log_in(client, "lea")
        answer = client.post(
            "/recalls", data={"csrf": token},
            files={"definition": ("recall.yaml", content.encode(), "text/yaml")},
        )  # fmt: skip
    assert answer.status_code == 400
    assert "(yaml)" in answer.text and "Traceback" not in answer.text
