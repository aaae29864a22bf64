"""How the JSON Schema shows the fields pydantic checks with code of exgen's own (values,
asks, variant constraints): these shapes only describe; validation stays with pydantic
and the loader."""

from __future__ import annotations

from typing import Any

from exgen.asks.registry import ASKS
from exgen.define.draw_rules import CONSTRAINTS

MAX_DIMENSIONS = 4  # as exgen.define.values


def _numbers(depth: int) -> dict[str, Any]:
    """A number, or lists of numbers nested up to ``depth`` levels."""
    number: dict[str, Any] = {"type": "number"}
    if depth == 0:
        return number
    return {"anyOf": [number, {"type": "array", "minItems": 1, "items": _numbers(depth - 1)}]}


def _objects(schema: dict) -> list[dict]:
    """The object schemas in a property schema (itself, or its anyOf's)."""
    parts = schema.get("anyOf", [schema])
    return [p for p in parts if p.get("type") == "object"]


def closed(schema: dict) -> None:
    """A mapping whose keys follow a pattern: no key that does not (pydantic refuses it)."""
    for part in _objects(schema):
        if "patternProperties" in part:
            part["additionalProperties"] = False


def values(schema: dict) -> None:
    """Each value a number, or nested lists of numbers (at most four dimensions)."""
    closed(schema)
    for part in _objects(schema):
        for pattern in part.get("patternProperties", {}):
            part["patternProperties"][pattern] = _numbers(MAX_DIMENSIONS)


def asks(schema: dict) -> None:
    """An ask's name, or a one-key mapping from an ask with options to those options (the
    options are checked by the ask's own module)."""
    with_options = [n for n, a in ASKS.items() if a.options is not None]
    schema["items"] = {
        "anyOf": [
            {"enum": list(ASKS)},
            {
                "type": "object",
                "minProperties": 1,
                "maxProperties": 1,
                "propertyNames": {"enum": with_options},
            },
        ]
    }


def require(schema: dict) -> None:
    """A constraint's name, or `max_abs: v`."""
    plain = [c for c in CONSTRAINTS if c != "max_abs"]
    schema["items"] = {
        "anyOf": [
            {"enum": plain},
            {
                "type": "object",
                "properties": {
                    "max_abs": {
                        "type": "number",
                        "description": "Every value and gradient of the network at most this in absolute value.",
                    }
                },
                "required": ["max_abs"],
                "additionalProperties": False,
            },
        ]
    }
