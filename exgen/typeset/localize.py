"""A formula's words in the sheet's language: the Text pieces of a typeset formula or a
step's note ("e.g.", a ReLU's "(1 where the input is > 0, else 0)") are English where they
are built, deep in typeset and in the ops; they are translated here, where the document
is rendered, by the sheet's gettext (exgen/language.py). Math (symbols, numbers,
operators) is never touched; a Text that is no message of the catalog stays as it is."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields, is_dataclass, replace

from exgen.typeset.formula import Text


def localized(f, gettext: Callable[[str], str] | None):
    """``f`` (a formula, a step, a list or tuple of them) with its words translated; ``f``
    itself when nothing changes (and always for English, ``gettext`` None)."""
    if gettext is None or f is None:
        return f
    if isinstance(f, Text):
        return _text(f, gettext)
    if isinstance(f, (list, tuple)):
        items = [localized(x, gettext) for x in f]
        if all(a is b for a, b in zip(items, f)):
            return f
        return type(f)(items)
    if is_dataclass(f) and not isinstance(f, type):
        changes = {}
        for field in fields(f):
            value = getattr(f, field.name)
            if isinstance(value, (str, int, float, bool)) or value is None:
                continue
            new = localized(value, gettext)
            if new is not value:
                changes[field.name] = new
        return replace(f, **changes) if changes else f
    return f


def _text(t: Text, gettext: Callable[[str], str]) -> Text:
    words = t.text.strip()
    if not any(c.isalpha() for c in words):
        return t
    exact = gettext(t.text)  # a message marked with its spaces (an op's local_note)
    if exact != t.text:
        return replace(t, text=exact)
    translated = gettext(words)
    if translated == words:
        return t
    start = t.text.index(words)
    return replace(t, text=t.text[:start] + translated + t.text[start + len(words) :])
