"""A small tree for typeset math; templates/macros.html turns it into HTML text.

Math is set as real text (no images, no script), so that the PDF can be searched and
its numbers extracted, and WeasyPrint lays it out fast; a MathML twin of each formula
(mathml.py) is what screen readers read in the HTML.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Sym:
    """A symbol: ``u`` with optional sub/superscript, bold for vectors and matrices."""

    base: str
    sub: str = ""
    sup: str = ""
    bold: bool = False
    upright: bool = False
    hat: bool = False
    kind: str = "sym"


@dataclass(frozen=True)
class Num:
    text: str
    kind: str = "num"


@dataclass(frozen=True)
class Op:
    """An operator or relation with spacing: = + − · ⊙ ≈."""

    text: str
    kind: str = "op"


@dataclass(frozen=True)
class Text:
    text: str
    upright: bool = True
    kind: str = "text"


@dataclass(frozen=True)
class Row:
    items: tuple = ()
    kind: str = "row"


@dataclass(frozen=True)
class Paren:
    inner: object
    open: str = "("
    close: str = ")"
    kind: str = "paren"


@dataclass(frozen=True)
class Frac:
    num: object
    den: object
    kind: str = "frac"


@dataclass(frozen=True)
class Radical:
    """√ with a bar over its radicand, which it groups (no brackets needed)."""

    inner: object
    kind: str = "radical"


@dataclass(frozen=True)
class Script:
    """A base with a superscript and/or subscript that are formulas themselves."""

    base: object
    sup: object = None
    sub: object = None
    kind: str = "script"


@dataclass(frozen=True)
class Func:
    name: str
    arg: object
    kind: str = "func"
    latex: str = ""  # the name in LaTeX (\operatorname{name} when empty)


@dataclass(frozen=True)
class Matrix:
    """Rows of cell strings, set in brackets; ``marked`` cells are emphasised."""

    rows: tuple
    marked: frozenset = field(default_factory=frozenset)
    kind: str = "matrix"


@dataclass(frozen=True)
class Grid:
    """A matrix of formulas (from a TeX matrix in a prompt); ``delims`` is one of
    none, paren, bracket, bar, double."""

    rows: tuple
    delims: str = "bracket"
    kind: str = "grid"


def row(*items) -> Row:
    out = []
    for item in items:
        if item is None:
            continue
        if isinstance(item, str):
            item = Op(item) if item in RELATIONS else Text(item)
        out.append(item)
    return Row(tuple(out))


RELATIONS = ("=", "+", "−", "·", "⊙", "⊗", "≈", "×", ",", ":=")


def matrix(shown) -> Matrix:
    """A matrix or column vector from an array (2-D, any shape) of shown strings."""
    return Matrix(tuple(tuple(str(c) for c in r) for r in shown))


def joined(items, op: str) -> Row:
    out = []
    for i, item in enumerate(items):
        if i:
            out.append(Op(op))
        out.append(item)
    return Row(tuple(out))
