"""The README's definition reference is generated from the models (exgen/define/reference.py).

Regenerate it after a change to exgen/define/schema.py with:
    EXGEN_REGENERATE=1 python3 -m pytest tests/test_reference.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from exgen.define.json_schema import definition_schema
from exgen.define.reference import END, START, reference, type_of, with_reference

README = Path(__file__).parents[1] / "README.md"
REGENERATE = os.environ.get("EXGEN_REGENERATE") == "1"


def test_the_readme_reference_is_current():
    text = README.read_text(encoding="utf-8")
    if REGENERATE:
        README.write_text(with_reference(text), encoding="utf-8")
        text = README.read_text(encoding="utf-8")
    assert text == with_reference(text), (
        "the README's definition reference is stale: EXGEN_REGENERATE=1 python3 -m pytest "
        "tests/test_reference.py"
    )


def test_every_key_of_every_model_is_listed():
    text = reference()
    schema = definition_schema()
    for model in [schema, *schema["$defs"].values()]:
        for key, prop in model["properties"].items():
            assert f"| `{key}` | " in text
            assert prop["description"].replace("|", "\\|") in text


@pytest.mark.parametrize(
    "node, words",
    [
        ({"type": "integer", "minimum": 0, "maximum": 10}, "whole number 0–10"),
        ({"type": "number", "minimum": -1e15, "maximum": 1e15}, "number"),
        ({"enum": ["sub", "sup"]}, "`sub` or `sup`"),
        ({"anyOf": [{"$ref": "#/$defs/Draw"}, {"type": "null"}]}, "Draw"),
        ({"type": "array", "items": {"type": "string"}}, "list of text"),
        ({"type": "string", "format": "date"}, "date (YYYY-MM-DD)"),
    ],
)
def test_types_in_words(node, words):
    assert type_of(node) == words


def test_a_readme_without_markers_is_refused():
    with pytest.raises(ValueError, match="reference:start"):
        with_reference("# no section\\n")
    assert START in README.read_text() and END in README.read_text()
