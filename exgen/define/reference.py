"""The README's definition reference (every key: its type, default and description),
generated from the same JSON Schema as schema/exgen.schema.json, so the two never part."""

from __future__ import annotations

import json
import re

from exgen.define.json_schema import definition_schema

START = "<!-- reference:start -->"
END = "<!-- reference:end -->"
INTRO = (
    "Generated from the models in `exgen/define/schema.py` (as is `schema/exgen.schema.json`); "
    "regenerate with `EXGEN_REGENERATE=1 python3 -m pytest tests/test_reference.py`."
)
# the models' own names, as the reference calls them
NAMES = {"Sheet": "the sheet"}


def _ref(node: dict) -> str | None:
    ref = node.get("$ref", "")
    return ref.rsplit("/", 1)[-1] if ref else None


def _bounds(node: dict) -> str:
    lo = node.get("minimum", node.get("exclusiveMinimum"))
    hi = node.get("maximum", node.get("exclusiveMaximum"))
    if lo is None or hi is None or max(abs(lo), abs(hi)) >= 10**6:
        return ""
    return f" {lo:g}–{hi:g}" if isinstance(lo, float) or isinstance(hi, float) else f" {lo}–{hi}"


def _numbers(node: dict) -> bool:
    """A number, or lists of such (a value: scalar, vector, matrix, tensor)."""
    parts = node.get("anyOf", [])
    return (
        len(parts) == 2
        and parts[0] == {"type": "number"}
        and parts[1].get("type") == "array"
        and (_numbers(parts[1]["items"]) or parts[1]["items"] == {"type": "number"})
    )


def type_of(node: dict) -> str:
    """A property's type in words: `relu` or `tanh`, whole number 0–10, list of Layer, …"""
    if _ref(node):
        return _ref(node)
    if "const" in node:
        return f"`{node['const']}`"
    if "enum" in node:
        return " or ".join(f"`{v}`" for v in node["enum"])
    if _numbers(node):
        return "number or nested lists of numbers"
    for union in ("anyOf", "oneOf"):
        if union in node:
            parts = [type_of(p) for p in node[union] if p.get("type") != "null"]
            return " or ".join(dict.fromkeys(parts))
    kind = node.get("type")
    if kind == "array":
        items = node.get("prefixItems")
        if items:
            return "[" + ", ".join(type_of(p) for p in items) + "]"
        return f"list of {type_of(node.get('items', {}))}" if node.get("items") else "list"
    if kind == "object":
        values = node.get("additionalProperties")
        if isinstance(values, dict):
            return f"mapping of text to {type_of(values)}"
        pattern = next(iter(node.get("patternProperties", {}).values()), None)
        if pattern is not None:
            return f"mapping of names to {type_of(pattern) if pattern else 'anything'}"
        return "mapping `name: options`" if node.get("maxProperties") == 1 else "mapping"
    if kind == "string":
        return "date (YYYY-MM-DD)" if node.get("format") == "date" else "text"
    if kind == "integer":
        return "whole number" + _bounds(node)
    if kind == "number":
        return "number" + _bounds(node)
    if kind == "boolean":
        return "true or false"
    return "anything"


def _default(node: dict, required: bool) -> str:
    if required:
        return "required"
    if "default" not in node:
        return ""
    value = node["default"]
    if value is None:
        return "none"
    if isinstance(value, dict) and value:
        return "see below" if _ref(node) else json.dumps(value)
    return f"`{json.dumps(value, ensure_ascii=False)}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _refs(node) -> list[str]:
    """The models a schema node refers to, in order."""
    if isinstance(node, dict):
        found = [_ref(node)] if _ref(node) else []
        return found + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def _order(schema: dict) -> list[tuple[str, dict, str]]:
    """(name, model schema, where it is used) for the sheet and each model it reaches,
    breadth first."""
    defs = schema["$defs"]
    queue, seen, out = [("Sheet", schema, "")], {"Sheet"}, []
    while queue:
        name, model, where = queue.pop(0)
        out.append((name, model, where))
        for key, prop in model.get("properties", {}).items():
            path = f"{where}.{key}" if where else key
            for ref in _refs(prop):
                if ref not in seen:
                    seen.add(ref)
                    suffix = (
                        "[]" if "items" in json.dumps(prop) and "array" in json.dumps(prop) else ""
                    )
                    queue.append((ref, defs[ref], path + suffix))
    return out


def reference() -> str:
    """The Markdown between the README's reference markers."""
    lines = [INTRO, ""]
    for name, model, where in _order(definition_schema()):
        title = NAMES.get(name, name)
        lines.append(
            f"**{title}**"
            + (f" (`{where}`)" if where else "")
            + ": "
            + model.get("description", "")
        )
        lines += ["", "| key | type | default | description |", "|---|---|---|---|"]
        required = set(model.get("required", []))
        for key, prop in model["properties"].items():
            cells = (
                f"`{key}`",
                type_of(prop),
                _default(prop, key in required),
                prop.get("description", ""),
            )
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
        lines.append("")
    return "\n".join(lines)


def with_reference(readme: str) -> str:
    """The README with its reference section replaced by the current one."""
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.S)
    if not pattern.search(readme):
        raise ValueError(f"the README has no {START} … {END} section")
    return pattern.sub(lambda _: f"{START}\n{reference()}{END}", readme, count=1)
