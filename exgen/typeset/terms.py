"""Semantic term trees: what a printed formula says, before it is spelled.

Pure data (imports nothing of exgen), so that the operations in exgen/engine/ops can
say in these words how their derivatives and worked examples read. One term tree per
printed formula gives the HTML, the LaTeX and key.json's ``expr`` (typeset/spell.py,
typeset/latex.py, typeset/exprjson.py), so the three cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Spelling:
    """How an operation is written. ``kind``:
    infix (a + b), juxtapose (W x), prefix (−a), frac (a over b), sup (x², Wᵀ),
    func (ReLU(u)), bigop (∑ with an axis subscript), radical (√ with a bar over u)."""

    kind: str
    text: str  # the Unicode/HTML text (infix sign, function name, superscript)
    latex: str  # the LaTeX for the same
    prec: int = 9  # binding strength; 1 sums, 2 products, 3 unary minus, 4 powers
    alt_text: str = ""  # infix: the sign for a product of arrays (⊙) where text is ·
    alt_latex: str = ""


@dataclass(frozen=True)
class Leaf:
    """Printed numbers: ``rows`` is a tuple of row tuples of decimal strings (ASCII '-'),
    ``rank`` 0 for a scalar (one string), else a matrix/vector shown in brackets; an
    image (rank 3) nests one more level (its maps), a batch (rank 4) two."""

    rows: tuple
    rank: int = 0

    @property
    def scalar(self) -> str:
        return self.rows[0][0]

    @property
    def negative(self) -> bool:
        return self.rank == 0 and self.scalar.startswith("-")


@dataclass(frozen=True)
class Symbol:
    """A node's symbol (or any fixed formula, e.g. ∂L/∂u) — ``formula`` is a visual
    formula tree (typeset.formula); ``name`` the node, if any; ``rank`` its rank."""

    formula: object
    name: str = ""
    rank: int = 0


@dataclass(frozen=True)
class Apply:
    """An operation of the registry applied to terms. ``kwargs`` are semantic (they go
    to key.json, e.g. axis); ``style`` is display only (e.g. "scalar" for ·)."""

    op: str
    args: tuple
    kwargs: tuple = ()  # (key, value) pairs
    style: str = ""

    def kw(self, key, default=None):
        return dict(self.kwargs).get(key, default)


@dataclass(frozen=True)
class Stack:
    """An image or a batch built map by map: ``parts`` (terms, each an H×W map, row-major)
    laid out as ``grid`` ((C,) for an image's channels, (N, C) or (F, C) for a batch's
    samples or a filter bank's filters), as a textbook writes ∂L/∂K per filter and channel.
    In key.json: {"op": "stack", "grid": [...], "args": [...]}."""

    parts: tuple
    grid: tuple
    rank: int


@dataclass(frozen=True)
class Call:
    """A function written by name that is not an operation of the registry (max,
    ReLU′): for symbolic lines and worked examples only, never in key.json ``expr``."""

    name: str
    args: tuple
    latex: str = ""


@dataclass(frozen=True)
class Context:
    """What the operations' term builders may ask: shapes and the sheet's layout."""

    ranks: tuple = ()  # the rank of each input
    out_rank: int = 0
    layout: str = "column"
    extra: dict = field(default_factory=dict)  # op-specific data (e.g. count for mean)

    @property
    def unit_axis(self) -> int:
        """The axis that runs over a layer's units (softmax normalises along it)."""
        return 0 if self.layout == "column" else 1

    @property
    def sample_axis(self) -> int:
        return 1 - self.unit_axis


def leaf(text: str) -> Leaf:
    return Leaf(((text,),), 0)


def printed_rows(strings) -> tuple:
    """An array (or nested lists) of printed strings as a leaf's ``rows``: nested tuples,
    one level per dimension (a matrix's rows, an image's maps, a batch's images)."""
    return tuple(
        printed_rows(part) if hasattr(part, "__iter__") and not isinstance(part, str) else str(part)
        for part in strings
    )


def apply(op: str, *args, style: str = "", **kwargs) -> Apply:
    return Apply(op, tuple(args), tuple(sorted(kwargs.items())), style)


def negated(term):
    """−term, folding the sign into a number: −(−1.40) is written 1.40."""
    if isinstance(term, Leaf) and term.rank == 0:
        text = term.scalar
        return leaf(text[1:] if text.startswith("-") else "-" + text)
    return apply("neg", term)


def product(a, b, scalar: bool):
    """a · b (a scalar factor) or a ⊙ b (element-wise), both ``mul``."""
    return apply("mul", a, b, style="scalar" if scalar else "")
