"""The scenario library against schema/scenario.schema.json, read as an editor's YAML language
server reads it: every file names the schema on its first line and validates."""
import json
import pathlib

import jsonschema
import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "schema" / "scenario.schema.json").read_text())
LIBRARY = sorted((ROOT / "scenarios").glob("*.yaml"))
MODELINE = "# yaml-language-server: $schema=../schema/scenario.schema.json"


def test_schema_is_valid():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: p.name)
def test_library_file_validates(path):
    text = path.read_text()
    assert text.splitlines()[0] == MODELINE, f"{path.name}: the first line should be {MODELINE!r}"
    errors = sorted(jsonschema.Draft202012Validator(SCHEMA).iter_errors(yaml.safe_load(text)), key=str)
    assert not errors, f"{path.name}: " + "; ".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


@pytest.mark.parametrize("document, problem", [
    ({"name": "x", "stepz": []}, "'stepz' was unexpected"),
    ({"name": "x", "steps": [{"produce": {"topic": "t", "compression": "brotli"}}]}, "'brotli' is not one of"),
    ({"name": "x", "steps": [{"produce": {"topic": "t"}, "wait": {"invocations": 1}}]}, "has too many properties"),
    ({"steps": []}, "'name' is a required property"),
])
def test_schema_refuses_what_the_parser_refuses(document, problem):
    errors = [e.message for e in jsonschema.Draft202012Validator(SCHEMA).iter_errors(document)]
    assert any(problem in e for e in errors), errors
