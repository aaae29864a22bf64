"""The definition format as a JSON Schema, generated from the pydantic models (exgen
schema; schema/exgen.schema.json, which editors read through each definition's modeline)."""

from __future__ import annotations

import json
import re

from exgen.define.schema import Sheet

DIALECT = "https://json-schema.org/draft/2020-12/schema"
MODELINE = "# yaml-language-server: $schema=../schema/exgen.schema.json"


def _tidy(node):
    """Descriptions as one line each (attribute docstrings may wrap)."""
    if isinstance(node, dict):
        return {
            k: re.sub(r"\s+", " ", v).strip()
            if k == "description" and isinstance(v, str)
            else _tidy(v)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_tidy(v) for v in node]
    return node


def definition_schema() -> dict:
    """The JSON Schema of a sheet definition."""
    schema = _tidy(Sheet.model_json_schema())
    return {"$schema": DIALECT, **schema, "title": "exgen sheet definition"}


def schema_text() -> str:
    """The schema as written to schema/exgen.schema.json (and printed by exgen schema)."""
    return json.dumps(definition_schema(), indent=2, ensure_ascii=False) + "\n"
