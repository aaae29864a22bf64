"""Reading a definition file: safe YAML, no aliases, exact decimals, line numbers.

The reader is the input boundary for the file itself: it reads only a regular file of
bounded size, refuses characters YAML does not allow, tags beyond plain data, aliases,
duplicate keys and deep nesting, and turns every failure into a DefinitionError with
the line (and key path where known)."""

from __future__ import annotations

import os
import re
import stat
from fractions import Fraction
from pathlib import Path

import yaml

from exgen.errors import DefinitionError

MAX_BYTES = 1_000_000
MAX_DEPTH = 32  # levels of nested lists and mappings; definitions need about 8
MAX_INT_DIGITS = 40  # longer whole numbers are refused here, before int() is asked
TAG = "tag:yaml.org,2002:"
ALLOWED_TAGS = {TAG + t for t in ("str", "int", "float", "bool", "null", "seq", "map", "timestamp")}
# What YAML forbids in a stream (PyYAML's own rule), found here to name line and character.
NOT_PRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)
# YAML 1.2 floats with an exponent (1e-3, 2E5, 1.5e3) that YAML 1.1 reads as text.
EXPONENT_FLOAT = re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$")


class Decimal(float):
    """A YAML float that remembers its text, so that 0.1 stays exactly 1/10."""

    text: str

    def __new__(cls, text: str):
        obj = super().__new__(cls, float(text))
        obj.text = text
        return obj

    def exact(self) -> Fraction:
        return Fraction(self.text)


def _tag_name(tag: str) -> str:
    return "!!" + tag[len(TAG) :] if tag.startswith(TAG) else tag


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses aliases (no billion-laughs), tags beyond plain data and
    deep nesting, and keeps float text."""

    def __init__(self, stream):
        super().__init__(stream)
        self.trail: list = []  # the key path of the collection being composed
        self.paths: dict = {}  # id(node) -> key path, for errors found while constructing

    def compose_node(self, parent, index):
        event = self.peek_event()
        line = event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent):
            raise DefinitionError(
                f"YAML aliases (*{event.anchor}) are not allowed in definitions; write the value out",
                line=line,
            )
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            # index is the key node in a mapping, the position in a list
            self.trail.append(index.value if isinstance(index, yaml.ScalarNode) else index)
            if len(self.trail) > MAX_DEPTH:
                parts = tuple(p for p in self.trail[1:] if p is not None)
                path = format_path(parts[:6]) + ("…" if len(parts) > 6 else "")
                raise DefinitionError(
                    f"lists and mappings nested too deeply (at most {MAX_DEPTH} levels)",
                    path=path,
                    line=line,
                )
            try:
                return super().compose_node(parent, index)
            finally:
                self.trail.pop()
        return super().compose_node(parent, index)

    def construct_object(self, node, deep=False):
        try:
            return super().construct_object(node, deep)
        except yaml.YAMLError:
            raise
        except DefinitionError as exc:
            raise DefinitionError(
                exc.message,
                path=exc.path or format_path(self.paths.get(id(node), ())),
                line=exc.line,
            ) from None
        except (ValueError, TypeError, AttributeError, OverflowError, ArithmeticError):
            # e.g. a date that does not exist (2024-02-30), or !!float abc
            text = node.value if isinstance(node, yaml.ScalarNode) else ""
            what = {
                TAG + "timestamp": "a date (YYYY-MM-DD)",
                TAG + "float": "a number",
                TAG + "int": "a whole number",
                TAG + "bool": "true or false",
            }.get(node.tag, _tag_name(node.tag))
            raise DefinitionError(
                f"expected {what}, found {str(text)[:40]!r}",
                path=format_path(self.paths.get(id(node), ())),
                line=node.start_mark.line + 1,
            ) from None


def _construct_float(loader, node):
    text = loader.construct_scalar(node).replace("_", "")
    try:
        Fraction(text)
    except ValueError:  # .inf, .nan, sexagesimal: a plain float, refused later if not finite
        return loader.construct_yaml_float(node)
    return Decimal(text)


def _construct_int(loader, node):
    text = loader.construct_scalar(node)
    if sum(c.isdigit() for c in text) > MAX_INT_DIGITS:
        raise DefinitionError(
            f"expected a number of at most {MAX_INT_DIGITS} digits, found one of "
            f"{sum(c.isdigit() for c in text)}",
            line=node.start_mark.line + 1,
        )
    return loader.construct_yaml_int(node)


def _construct_str(loader, node):
    text = loader.construct_yaml_str(node)
    bad = NOT_PRINTABLE.search(text)
    if bad:  # written as an escape ("\0", "\e"): the raw text passed the check
        raise DefinitionError(
            f"the character U+{ord(bad.group()):04X} is not allowed in a "
            f"definition (control and non-characters; write text only)",
            line=node.start_mark.line + 1,
        )
    return text


_Loader.add_constructor(TAG + "str", _construct_str)
_Loader.add_constructor(TAG + "float", _construct_float)
_Loader.add_constructor(TAG + "int", _construct_int)
_Loader.add_implicit_resolver(TAG + "float", EXPONENT_FLOAT, list("-+.0123456789"))


def format_path(path: tuple) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _key_text(key) -> str:
    return key.value if isinstance(key, yaml.ScalarNode) else str(key.value)


def _line_map(node, path=(), lines=None, paths=None) -> dict:
    """Key paths to lines. Refuses tags beyond plain data, and a key given twice in one
    mapping (naming both lines). ``paths`` collects each node's key path."""
    lines = {} if lines is None else lines
    if paths is not None:
        paths[id(node)] = path
    lines[path] = node.start_mark.line + 1
    if node.tag not in ALLOWED_TAGS:
        raise DefinitionError(
            f"the tag {_tag_name(node.tag)} is not allowed; definitions hold "
            f"plain values (numbers, texts, true/false, lists and mappings)",
            path=format_path(path),
            line=lines[path],
        )
    if isinstance(node, yaml.MappingNode):
        seen: dict = {}
        for key, value in node.value:
            k = _key_text(key)
            line = key.start_mark.line + 1
            if key.tag not in ALLOWED_TAGS:
                raise DefinitionError(
                    f"the tag {_tag_name(key.tag)} is not allowed; definitions "
                    f"hold plain values (numbers, texts, true/false, lists and "
                    f"mappings)",
                    path=format_path(path),
                    line=line,
                )
            if k in seen:
                raise DefinitionError(
                    f"the key '{k}' is given twice (lines {seen[k]} and {line}); give it once",
                    path=format_path(path + (k,)),
                    line=line,
                )
            seen[k] = line
            _line_map(value, path + (k,), lines, paths)
            lines[path + (k,)] = line
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _line_map(item, path + (i,), lines, paths)
    return lines


def read_bounded(path: Path, shown_as: str, what: str = "definition") -> bytes:
    """The bytes of a regular file of at most MAX_BYTES; never blocks on a FIFO or device."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise DefinitionError(f"no such {what} file", shown_as) from None
    except OSError as exc:
        raise DefinitionError(f"cannot read the file ({exc.strerror})", shown_as) from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = (
                "a folder"
                if stat.S_ISDIR(mode)
                else "a FIFO"
                if stat.S_ISFIFO(mode)
                else "a device"
                if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
                else "not a plain file"
            )
            raise DefinitionError(f"expected a {what} file, found {kind}", shown_as)
        with os.fdopen(fd, "rb", closefd=False) as stream:
            raw = stream.read(MAX_BYTES + 1)
    except OSError as exc:
        raise DefinitionError(f"cannot read the file ({exc.strerror})", shown_as) from None
    finally:
        os.close(fd)
    if len(raw) > MAX_BYTES:
        raise DefinitionError(
            f"the file is larger than {MAX_BYTES} bytes; definitions are at most {MAX_BYTES}",
            shown_as,
        )
    return raw


def _decode(raw: bytes, shown_as: str) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DefinitionError(
            f"the file is not UTF-8 (byte {exc.start})", shown_as, line=line
        ) from None
    bad = NOT_PRINTABLE.search(text)
    if bad:
        line = text.count("\n", 0, bad.start()) + 1
        raise DefinitionError(
            f"the character U+{ord(bad.group()):04X} is not allowed in a "
            f"definition (control and non-characters; write text only)",
            shown_as,
            _path_at(NOT_PRINTABLE.sub(" ", text), line),
            line,
        )
    return text


def _path_at(text: str, line: int) -> str:
    """The key path of the last key that starts at or before ``line``, if the text reads."""
    try:
        loader = _Loader(text)
        try:
            lines = _line_map(loader.get_single_node())
        finally:
            loader.dispose()
    except Exception:  # only a hint, for a message that stands without it
        return ""
    before = [path for path, at in lines.items() if at <= line and path]
    return format_path(max(before, key=lambda p: (lines[p], len(p)))) if before else ""


def read_yaml(path: Path, shown_as: str) -> tuple[object, dict]:
    """The document and a map from key paths to line numbers."""
    text = _decode(read_bounded(path, shown_as), shown_as)
    try:
        loader = _Loader(text)
    except yaml.YAMLError as exc:  # the reader's own checks, should any remain
        raise DefinitionError(f"invalid YAML: {exc}", shown_as) from None
    try:
        node = loader.get_single_node()
        if node is None:
            raise DefinitionError(
                "the file is empty; expected a sheet definition (title, exercises, …)", shown_as
            )
        lines = _line_map(node, paths=loader.paths)
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
    return data, lines
