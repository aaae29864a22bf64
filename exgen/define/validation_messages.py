"""Validation errors from pydantic, said in a definition author's words."""

from __future__ import annotations

import difflib
import re

from pydantic import ValidationError

from exgen.define import schema
from exgen.define.values import kind as _kind
from exgen.define.yaml_reader import format_path
from exgen.errors import DefinitionError

VOCABULARY = sorted(
    {
        f
        for m in (
            schema.Sheet,
            schema.Exercise,
            schema.RoundingSpec,
            schema.NotationSpec,
            schema.EquationsNetwork,
            schema.LayersNetwork,
            schema.LayerSpec,
            schema.ConvLayerSpec,
            schema.PoolLayerSpec,
        )
        for f in m.model_fields
    }
)


PLAIN_MESSAGES = {
    "int_parsing": "expected a whole number",
    "int_type": "expected a whole number",
    "int_from_float": "expected a whole number",
    "float_parsing": "expected a number",
    "float_type": "expected a number",
    "bool_parsing": "expected true or false",
    "bool_type": "expected true or false",
    "string_type": "expected a text",
    "list_type": "expected a list",
    "dict_type": "expected a mapping of keys",
    "model_type": "expected a mapping of keys",
    "model_attributes_type": "expected a mapping of keys",
}


BOUND_MESSAGES = {
    "greater_than_equal": "expected a number ≥ {ge}",
    "less_than_equal": "expected a number ≤ {le}",
    "greater_than": "expected a number > {gt}",
    "less_than": "expected a number < {lt}",
}


def _bound(v) -> str:
    """A bound as a definition would write it: 0.5, 10000, 1e15."""
    if isinstance(v, (int, float)) and abs(v) >= 10**6:
        return f"{v:.0e}".replace("e+", "e")
    return format(v, "g") if isinstance(v, float) else str(v)


def _plain(message: str) -> str:
    message = re.sub(r"^(Value error|Assertion failed), ", "", message)
    message = re.sub(r"^Input should (be|have) ", "expected ", message)
    message = re.sub(r"^String should have ", "expected a text of ", message)
    message = re.sub(r"^String should ", "expected a text that should ", message)
    message = message.replace(" after validation", "")
    return re.sub(r"^(List|Dictionary) should have ", "expected ", message)


def from_pydantic(exc: ValidationError) -> DefinitionError:
    error = exc.errors(include_url=False)[0]
    loc = tuple(p for p in error["loc"] if p not in schema.FORM_TAGS)
    kind, found = error["type"], error.get("input")
    if kind == "extra_forbidden":
        key = str(loc[-1])
        # (a key of another kind of layer is no typo of itself)
        close = [c for c in difflib.get_close_matches(key, VOCABULARY, n=2) if c != key]
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return DefinitionError(f"unknown key '{key}'{hint}", path=format_path(loc))
    if kind == "missing":
        return DefinitionError(f"missing required key '{loc[-1]}'", path=format_path(loc[:-1]))
    bounds = {k: _bound(v) for k, v in error.get("ctx", {}).items()}
    message = (
        PLAIN_MESSAGES.get(kind)
        or BOUND_MESSAGES.get(kind, "").format(**bounds)
        or _plain(error["msg"])
    )
    if kind == "string_too_long":
        message += f", found {len(found)} characters"
    elif (
        (kind in BOUND_MESSAGES or kind == "literal_error")
        and isinstance(found, int)
        and not isinstance(found, bool)
    ):
        message += f", found {found}"  # the number itself, against the bound
    elif kind != "value_error" and (not isinstance(found, (dict, list)) or "type" in kind):
        message += f", found {_kind(found)}"
    return DefinitionError(message, path=format_path(loc))
