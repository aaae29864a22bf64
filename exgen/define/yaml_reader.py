"""Reading a definition file: safe YAML, no aliases, exact decimals, line numbers."""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import yaml

from exgen.errors import DefinitionError

MAX_BYTES = 1_000_000


class Decimal(float):
    """A YAML float that remembers its text, so that 0.1 stays exactly 1/10."""

    text: str

    def __new__(cls, text: str):
        obj = super().__new__(cls, float(text))
        obj.text = text
        return obj

    def exact(self) -> Fraction:
        return Fraction(self.text)


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses aliases (no billion-laughs) and keeps float text."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise DefinitionError(
                f"YAML aliases (*{event.anchor}) are not allowed in definitions; write the value out",
                line=event.start_mark.line + 1)
        return super().compose_node(parent, index)


def _construct_float(loader, node):
    text = loader.construct_scalar(node).replace("_", "")
    try:
        Fraction(text)
    except ValueError:  # .inf, .nan, sexagesimal: a plain float, refused later if not finite
        return loader.construct_yaml_float(node)
    return Decimal(text)


_Loader.add_constructor("tag:yaml.org,2002:float", _construct_float)


def format_path(path: tuple) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _line_map(node, path=(), lines=None) -> dict:
    lines = {} if lines is None else lines
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            k = key.value if isinstance(key, yaml.ScalarNode) else str(key.value)
            lines[path + (k,)] = key.start_mark.line + 1
            _line_map(value, path + (k,), lines)
            lines[path + (k,)] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _line_map(item, path + (i,), lines)
    return lines


def read_yaml(path: Path, shown_as: str) -> tuple[object, dict]:
    """The document and a map from key paths to line numbers."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DefinitionError("no such definition file", shown_as) from None
    except OSError as exc:
        raise DefinitionError(f"cannot read the file ({exc.strerror})", shown_as) from None
    if len(raw) > MAX_BYTES:
        raise DefinitionError(f"the file is {len(raw)} bytes; definitions are at most {MAX_BYTES}",
                              shown_as)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DefinitionError(f"the file is not UTF-8 (byte {exc.start})", shown_as) from None
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise DefinitionError("the file is empty; expected a sheet definition "
                                  "(title, exercises, …)", shown_as)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = " ".join(p for p in (exc.context, exc.problem) if p)
        raise DefinitionError(f"invalid YAML: {problem}", shown_as, line=line) from None
    except yaml.YAMLError as exc:
        raise DefinitionError(f"invalid YAML: {exc}", shown_as) from None
    except DefinitionError as exc:
        raise exc.located(shown_as) from None
    finally:
        loader.dispose()
    return data, _line_map(node)
