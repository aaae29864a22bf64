"""Term trees (typeset/terms.py) spelled as visual formulas (typeset/formula.py), with
brackets from one rule: an operand is bracketed when it binds more loosely than its
operator needs, or when it would put a minus sign right after another sign
(0.50 · (−1.96), 1.90 − (−0.10), (−7.00)², −(−4)).

Each operation's Spelling (in its module under engine/ops) says how it is written."""

from __future__ import annotations

from dataclasses import dataclass

from exgen.engine.ops import REGISTRY
from exgen.typeset.formula import (
    Frac,
    Func,
    Grid,
    Matrix,
    Num,
    Op,
    Paren,
    Radical,
    Row,
    Script,
    Text,
)
from exgen.typeset.terms import Apply, Call, Leaf, Stack, Symbol

ATOM = 10
FUNC = 9  # f(x), ∑ₖ(x)
SCRIPT_BASE = 9  # what may carry a superscript unbracketed
AXIS_LETTERS = {"column": ("k", "n"), "row": ("n", "k")}  # axis 0, axis 1 run over …
SUBSCRIPT = {"k": "ₖ", "n": "ₙ", "i": "ᵢ", "j": "ⱼ"}
BARE = ("script", "sym")  # what follows ∑ without brackets, as in ∑(y − ŷ)²


@dataclass(frozen=True)
class Spelled:
    formula: object
    prec: int
    minus: bool = False  # starts with a minus sign


def minus(text: str) -> str:
    return text.replace("-", "−")


def spell(term, layout: str = "column"):
    """The visual formula of a term."""
    return _spell(term, layout).formula


def split_axis(name: str) -> tuple[str, str]:
    """∑ₙ → ("∑", "n"), ∑ₙ,ᵢ,ⱼ → ("∑", "n,i,j"): a big operator's name and the axis
    letters it runs over (set as a real subscript)."""
    letters = {v: k for k, v in SUBSCRIPT.items()} | {",": ","}
    cut = len(name)
    while cut > 1 and name[cut - 1] in letters:
        cut -= 1
    if cut == len(name) or name[cut] == ",":
        return name, ""
    return name[:cut], "".join(letters[c] for c in name[cut:])


def _window(size, stride) -> tuple[int, int | None]:
    size = size or 2
    return size, stride if stride not in (None, size) else None


def window_subscript(size, stride) -> str:
    """A pooling's non-default window and stride, as a subscript: ₃ₓ₃,ₛ₌₁."""
    size, stride = _window(size, stride)
    text = f"{size}x{size}" + (f",s={stride}" if stride else "")
    return text.translate(str.maketrans("0123456789x,s=", "₀₁₂₃₄₅₆₇₈₉ₓ,ₛ₌"))


def window_latex(size, stride) -> str:
    size, stride = _window(size, stride)
    return rf"{size}\times {size}" + (rf",\,s={stride}" if stride else "")


SMALL = str.maketrans("sp=,0123456789", "ₛₚ₌,₀₁₂₃₄₅₆₇₈₉")


def keyword_subscript(t: Apply) -> str:
    """A call's keyword arguments other than axis as a subscript, each by its initial:
    "s=2,p=1" (line_reading reads them back by the operation's keywords)."""
    return ",".join(f"{k[0]}={v}" for k, v in t.kwargs if k != "axis")


def axis_letter(axis: int, layout: str) -> str:
    return AXIS_LETTERS[layout][axis]


def _bracket(s: Spelled, needed: bool) -> Spelled:
    return Spelled(Paren(s.formula), ATOM) if needed else s


def _argument(s: Spelled, term):
    """A function's argument: a printed matrix brings its own brackets."""
    if isinstance(term, Leaf) and term.rank > 0:
        return s.formula
    return Paren(s.formula)


def _maps_grid(cells: list, width: int) -> Grid:
    """Maps laid out ``width`` a line in parentheses: an image's side by side, a batch's
    (a filter bank's) one image (filter) a line."""
    return Grid(tuple(tuple(cells[r : r + width]) for r in range(0, len(cells), width)), "paren")


def _spell(t, layout: str) -> Spelled:
    if isinstance(t, Leaf):
        if t.rank == 0:
            return Spelled(Num(minus(t.scalar)), 3 if t.negative else ATOM, t.negative)
        if t.rank > 2:  # an image or a batch: each map a matrix
            images = t.rows if t.rank == 4 else (t.rows,)
            maps = [_spell(Leaf(m, 2), layout).formula for image in images for m in image]
            return Spelled(_maps_grid(maps, len(images[0])), ATOM)
        return Spelled(Matrix(tuple(tuple(minus(c) for c in r) for r in t.rows)), ATOM)
    if isinstance(t, Symbol):
        return Spelled(t.formula, ATOM)
    if isinstance(t, Stack):
        cells = [_spell(p, layout).formula for p in t.parts]
        return Spelled(_maps_grid(cells, t.grid[-1]), ATOM)
    if isinstance(t, Call):
        args = [_spell(a, layout).formula for a in t.args]
        inner = (
            args[0]
            if len(args) == 1
            else Row(
                tuple(x for i, a in enumerate(args) for x in ((Text(", "),) if i else ()) + (a,))
            )
        )
        return Spelled(Func(t.name, Paren(inner), latex=t.latex), FUNC)
    if not isinstance(t, Apply):
        raise TypeError(f"not a term: {t!r}")
    s = REGISTRY[t.op].spelling
    args = [_spell(a, layout) for a in t.args]
    if s.kind in ("infix", "juxtapose"):
        left = _bracket(args[0], args[0].prec < s.prec)
        right = _bracket(args[1], args[1].prec <= s.prec or args[1].minus)
        if s.kind == "juxtapose":
            sign = Text(s.text)
        else:
            sign = Op(s.alt_text if s.alt_text and t.style != "scalar" else s.text)
        return Spelled(Row((left.formula, sign, right.formula)), s.prec, left.minus)
    if s.kind == "prefix":
        inner = _bracket(args[0], args[0].prec < s.prec or args[0].minus)
        return Spelled(Row((Text(s.text), inner.formula)), s.prec, True)
    if s.kind == "frac":
        return Spelled(Frac(args[0].formula, args[1].formula), 8)
    if s.kind == "radical":  # the bar groups the radicand: √(x + 1) is written without ( )
        return Spelled(Radical(args[0].formula), s.prec)
    if s.kind == "sup":
        base = _bracket(args[0], args[0].prec < SCRIPT_BASE)
        sup = args[1].formula if len(args) > 1 else Text(s.text)
        return Spelled(Script(base.formula, sup=sup), s.prec)
    if s.kind in ("func", "bigop"):
        name, latex = s.text, s.latex
        axis = t.kw("axis")
        letter = axis_letter(axis, layout) if axis is not None else ""
        if letter and (s.kind == "bigop" or letter != "k"):  # a function runs over k unsaid
            name, latex = name + SUBSCRIPT[letter], f"{latex}_{{{letter}}}"
        window = t.kw("size"), t.kw("stride")
        if "size" in REGISTRY[t.op].keywords:  # maxpool₃ₓ₃,ₛ₌₁: a pooling's window, stride
            if window != (None, None):
                sub, latex = window_subscript(*window), latex + "_{" + window_latex(*window) + "}"
                name += sub
        elif keyword_subscript(t):  # conv2d with stride 2, padding 1: conv2dₛ₌₂,ₚ₌₁
            settings = keyword_subscript(t)
            name, latex = name + settings.translate(SMALL), f"{latex}_{{{settings}}}"
        if len(args) > 1:  # max(a, b): the operands in one pair of brackets
            pair = Row(
                tuple(x for i, a in enumerate(args) for x in (Text(", "),) * bool(i) + (a.formula,))
            )
            return Spelled(Func(name, Paren(pair), latex=latex), FUNC)
        arg = args[0]
        if s.kind == "bigop" and arg.prec >= 4 and getattr(arg.formula, "kind", "") in BARE:
            return Spelled(Func(name, arg.formula, latex=latex), FUNC)  # ∑(y − ŷ)², ∑x
        return Spelled(Func(name, _argument(arg, t.args[0]), latex=latex), FUNC)
    raise ValueError(f"unknown spelling kind {s.kind!r} of {t.op}")
