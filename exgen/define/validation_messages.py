"""Validation errors from pydantic, said in a definition author's words."""

from __future__ import annotations

import difflib
import re
import types
import typing

from pydantic import BaseModel, ValidationError

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


MAPPING_TYPES = ("dict_type", "model_type", "model_attributes_type")
SHOWN_KEYS = 6  # keys named in "expected a mapping of keys (…)" before "…"
# the tags of the discriminated unions (exgen/define/schema.py): the form each one chose
TAGGED = {
    "equations-form": schema.EquationsNetwork,
    "layers-form": schema.LayersNetwork,
    "dense-layer": schema.LayerSpec,
    "conv-layer": schema.ConvLayerSpec,
    "pool-layer": schema.PoolLayerSpec,
    "flatten-layer": schema.FlattenLayerSpec,
}


def _models(annotation) -> list[type[BaseModel]]:
    """The models a field's type may be (unwrapping Optional, Annotated and unions)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _models(typing.get_args(annotation)[0])
    if origin is typing.Union or origin is types.UnionType:
        return [m for a in typing.get_args(annotation) for m in _models(a)]
    return []


def _inner(annotation):
    """The type of a list's items or of a mapping's values."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    for part in (annotation, *typing.get_args(annotation)):
        origin = typing.get_origin(part)
        if origin in (list, tuple):
            return typing.get_args(part)[0]
        if origin is dict:
            return typing.get_args(part)[1]
    return None


def model_at(root: type[BaseModel] | None, loc: tuple) -> type[BaseModel] | None:
    """The model of the mapping at ``loc`` (pydantic's location, with the unions' tags), or
    None where it is not one known model."""
    model, annotation = root, None
    for part in loc:
        if part in TAGGED:
            model, annotation = TAGGED[part], None
        elif isinstance(part, str) and model is not None and part in model.model_fields:
            annotation = model.model_fields[part].annotation
            model = None
        elif annotation is not None:  # a list's index or a mapping's key
            annotation = _inner(annotation)
        else:
            return None
        if annotation is not None:
            found = _models(annotation)
            if len(found) == 1:
                model, annotation = found[0], None
    return model


UNIONS = (
    ("equations-form", "layers-form"),
    ("dense-layer", "conv-layer", "pool-layer", "flatten-layer"),
)


def _keys(models: list[type[BaseModel]]) -> str:
    """The keys the models allow, the required ones first."""
    fields = [(k, f) for m in models for k, f in m.model_fields.items()]
    keys = [k for k, f in fields if f.is_required()] + [k for k, f in fields if not f.is_required()]
    keys = list(dict.fromkeys(keys))
    return ", ".join(keys[:SHOWN_KEYS] + (["…"] if len(keys) > SHOWN_KEYS else []))


def _mapping_models(root, loc: tuple) -> list[type[BaseModel]]:
    """The models a mapping at ``loc`` may be: one, or, for a text where a network or a layer
    goes, every form of it (the form is chosen by the mapping's keys)."""
    tags = next((u for u in UNIONS if loc and loc[-1] in u), None)
    if tags is not None:
        return [TAGGED[t] for t in tags]
    model = model_at(root, loc)
    return [] if model is None else [model]


def _either(key: str, close: list[str]) -> str:
    """The closest key, or the two that are equally close ('beta1' or 'beta2')."""

    def score(c):
        return difflib.SequenceMatcher(None, key, c).ratio()

    tied = [c for c in close if score(c) == score(close[0])][:2]
    return " or ".join(f"'{c}'" for c in sorted(tied))


def _first(errors: list[dict]) -> dict:
    """The error to report: pydantic lists a missing key before an unknown one of the same
    mapping, which is most often its misspelling: the unknown key comes first."""
    first = errors[0]
    if first["type"] == "missing":
        for error in errors:
            if error["type"] == "extra_forbidden" and error["loc"][:-1] == first["loc"][:-1]:
                return error
    return first


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


def from_pydantic(exc: ValidationError, root: type[BaseModel] | None = None) -> DefinitionError:
    """The first of pydantic's errors as exgen says it; ``root`` is the model validated
    (default: a sheet's, when it was one), for the keys a mapping allows."""
    if root is None and exc.title == schema.Sheet.__name__:
        root = schema.Sheet
    error = _first(exc.errors(include_url=False))
    loc = tuple(p for p in error["loc"] if p not in schema.FORM_TAGS)
    kind, found = error["type"], error.get("input")
    if kind == "extra_forbidden":
        key = str(loc[-1])
        model = model_at(root, error["loc"][:-1])
        known = list(model.model_fields) if model is not None else VOCABULARY
        # (a key of another kind of layer is no typo of itself)
        close = [c for c in difflib.get_close_matches(key, known, n=3) if c != key]
        hint = f" (did you mean {_either(key, close)}?)" if close else ""
        return DefinitionError(f"unknown key '{key}'{hint}", path=format_path(loc))
    if kind == "missing":
        return DefinitionError(f"missing required key '{loc[-1]}'", path=format_path(loc[:-1]))
    bounds = {k: _bound(v) for k, v in error.get("ctx", {}).items()}
    models = _mapping_models(root, error["loc"]) if kind in MAPPING_TYPES else []
    message = (
        f"expected a mapping of keys ({_keys(models)})"
        if models
        else PLAIN_MESSAGES.get(kind)
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
