"""The JSON Schema of the definition format (exgen schema, schema/exgen.schema.json):
generated from the pydantic models, every key described, as strict as exgen, and every
shipped definition and starter valid against it.

Regenerate the committed schema after a change to exgen/define/schema.py with:
    EXGEN_REGENERATE=1 python3 -m pytest tests/test_json_schema.py
"""

from __future__ import annotations

import datetime
import os
from pathlib import Path

import jsonschema
import pytest
from cli_run import invoke

from exgen.define.json_schema import MODELINE, definition_schema, schema_text
from exgen.define.starters import starters
from exgen.define.yaml_reader import read_yaml

ROOT = Path(__file__).parents[1]
COMMITTED = ROOT / "schema" / "exgen.schema.json"
REGENERATE = os.environ.get("EXGEN_REGENERATE") == "1"
SHIPPED = sorted((ROOT / "exercises").glob("*.yaml"))
STARTERS = [ROOT / "exgen" / "define" / "starters" / f"{s}.yaml" for s in starters()]


def _objects(node, where="#"):
    """Every schema of an object with properties, with where it is."""
    if isinstance(node, dict):
        if "properties" in node:
            yield where, node
        for k, v in node.items():
            yield from _objects(v, f"{where}/{k}")
    elif isinstance(node, list):
        for k, v in enumerate(node):
            yield from _objects(v, f"{where}/{k}")


def _json(value):
    """A definition as an editor's YAML server sees it: dates as text."""
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json(v) for v in value]
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def _validator():
    schema = definition_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _read(path: Path):
    return _json(read_yaml(path, path.name)[0])


def test_every_key_is_described():
    undescribed = [
        f"{where}/properties/{key}"
        for where, obj in _objects(definition_schema())
        for key, prop in obj["properties"].items()
        if not prop.get("description", "").strip()
    ]
    assert undescribed == []


def test_every_mapping_refuses_unknown_keys_as_exgen_does():
    open_objects = [
        where
        for where, obj in _objects(definition_schema())
        if obj.get("additionalProperties") is not False
    ]
    assert open_objects == []


def test_the_committed_schema_is_current():
    if REGENERATE:
        COMMITTED.parent.mkdir(exist_ok=True)
        COMMITTED.write_text(schema_text(), encoding="utf-8")
    assert COMMITTED.read_text(encoding="utf-8") == schema_text(), (
        "schema/exgen.schema.json is stale: EXGEN_REGENERATE=1 python3 -m pytest "
        "tests/test_json_schema.py"
    )


def test_exgen_schema_prints_it(tmp_path):
    result = invoke(tmp_path, "schema")
    assert result.exit_code == 0
    assert result.output == COMMITTED.read_text(encoding="utf-8")


@pytest.mark.parametrize("path", SHIPPED + STARTERS, ids=lambda p: p.parent.name + "/" + p.stem)
def test_shipped_definitions_are_valid_and_name_the_schema(path):
    assert path.read_text(encoding="utf-8").split("\n", 1)[0] == MODELINE
    errors = [e.message for e in _validator().iter_errors(_read(path))]
    assert errors == []


def _rejected(data) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in _validator().iter_errors(data)
    ]


def test_typos_are_rejected():
    sheet = _read(ROOT / "exercises" / "sheet9.yaml")
    top = dict(sheet)
    top["exercise"] = top.pop("exercises")
    problems = _rejected(top)
    assert any("'exercise' was unexpected" in p for p in problems), problems
    assert any("'exercises' is a required property" in p for p in problems), problems
    inner = dict(sheet, exercises=[dict(sheet["exercises"][0])])
    inner["exercises"][0]["promt"] = inner["exercises"][0].pop("prompt")
    problems = _rejected(inner)
    assert any(p.startswith("exercises/0:") and "'promt' was unexpected" in p for p in problems)


@pytest.mark.parametrize(
    "change",
    [
        {"rounding": {"digits": 2, "carryy": True}},
        {"notation": {"index": "side"}},
        {"variants": {"seed": "s", "draw": {"x": {"integers": [0, 1]}}, "require": ["nope"]}},
        {"exercises": [{"id": "q", "title": "t", "ask": ["forwards"], "values": {"x": 1}}]},
        {"exercises": [{"id": "q", "title": "t", "ask": ["forward"], "values": {"1x": 1}}]},
        {"exercises": [{"id": "q", "title": "t", "ask": ["forward"], "values": {"x": "a"}}]},
        {"exercises": [{"id": "q", "title": "t", "ask": [{"forward": {}, "backward": {}}]}]},
        {
            "exercises": [
                {
                    "id": "q",
                    "title": "t",
                    "ask": ["forward"],
                    "network": {"layers": [{"kind": "conv"}], "loss": "mse"},
                }
            ]
        },
    ],
)
def test_what_exgen_refuses_the_schema_refuses(change):
    sheet = _read(ROOT / "exercises" / "sheet9.yaml")
    assert _validator().is_valid(sheet)
    assert not _validator().is_valid({**sheet, **change})
