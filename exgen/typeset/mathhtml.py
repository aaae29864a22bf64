"""Formula trees (exgen/formula.py) as HTML text: the one hot path of rendering, so it
is plain Python rather than a recursive template macro. Everything is escaped."""

from __future__ import annotations

import re
import unicodedata
from contextvars import ContextVar

from markupsafe import Markup
from markupsafe import escape as _markup_escape

from exgen.engine.rounding import list_separator, marked
from exgen.typeset.localize import localized
from exgen.typeset.mathml import step_mathml, to_mathml
from exgen.typeset.spell import split_axis
from exgen.typeset.widths import WRAP, column_blocks, step_fit

# While a step too wide for the page is emitted: its matrices' columns per block.
_block_columns: ContextVar[int | None] = ContextVar("block_columns", default=None)


def escape(text: str) -> str:
    """HTML-escape; most math text (digits, letters, signs) needs nothing done."""
    if "&" in text or "<" in text or ">" in text or '"' in text or "'" in text:
        return str(_markup_escape(text))
    return text


def _hat(text: str, on: bool) -> str:
    return unicodedata.normalize("NFC", text + "\u0302") if on else text


def to_html(f) -> Markup:
    out: list[str] = []
    _emit(f, out)
    return Markup("".join(out))


def math_html(f, gettext=None) -> Markup:
    """A formula for the documents: its MathML for screen readers (mathml.py), then the
    visual HTML, which they skip (its words in the sheet's language: ``gettext``)."""
    f = localized(f, gettext)
    return Markup(f'{to_mathml(f)}<span aria-hidden="true">{to_html(f)}</span>')


def _emit(f, out: list[str]) -> None:
    if f is None:
        return
    if isinstance(f, str):
        out.append(escape(marked(f)))
        return
    kind = f.kind
    if kind == "sym":
        cls = "mi" + (" b" if f.bold else "") + (" up" if f.upright else "")
        out.append(f'<span class="{cls}">{escape(_hat(f.base, f.hat))}</span>')
        if f.sub and f.sup:
            out.append(
                f'<span class="ss"><sup>{escape(f.sup)}</sup><sub>{escape(f.sub)}</sub></span>'
            )
        elif f.sub:
            out.append(f"<sub>{escape(f.sub)}</sub>")
        elif f.sup:
            out.append(f"<sup>{escape(f.sup)}</sup>")
    elif kind == "num":
        out.append(escape(marked(f.text)))
    elif kind == "op":  # no-break spaces around: a formula breaks between parts, not inside
        out.append(
            list_separator() + "\u00a0" if f.text == "," else f"\u00a0{escape(f.text)}\u00a0"
        )
    elif kind == "text":
        out.append(escape(f.text))
    elif kind == "row":
        for item in f.items:
            _emit(item, out)
    elif kind == "paren":
        if f.open == "(" and f.close == ")" and _tall(f.inner):  # drawn to the inner height
            out.append('<span class="mat paren tall">')
            _emit(f.inner, out)
            out.append("</span>")
            return
        out.append(escape(f.open))
        _emit(f.inner, out)
        out.append(escape(f.close))
    elif kind == "frac":
        out.append('<span class="frac"><span class="fn">')
        _emit(f.num, out)
        out.append('</span><span class="fd">')
        _emit(f.den, out)
        out.append("</span></span>")
    elif kind == "radical":  # style.css: the bar is the radicand's top border; over a
        # matrix or a fraction the sign is drawn to the radicand's height, as TeX's is
        tall = _tall(f.inner)
        out.append(
            '<span class="sqrt tall"><span class="rs"></span><span class="rad">'
            if tall
            else '<span class="sqrt"><span class="rs">√</span><span class="rad">'
        )
        _emit(f.inner, out)
        out.append("</span></span>")
    elif kind == "script":
        _emit(f.base, out)
        if f.sup is not None and f.sub is not None:
            out.append('<span class="ss"><sup>')
            _emit(f.sup, out)
            out.append("</sup><sub>")
            _emit(f.sub, out)
            out.append("</sub></span>")
        elif f.sup is not None:
            out.append("<sup>")
            _emit(f.sup, out)
            out.append("</sup>")
        elif f.sub is not None:
            out.append("<sub>")
            _emit(f.sub, out)
            out.append("</sub>")
    elif kind == "func":
        big = f.name.startswith("∑")
        name, axis = split_axis(f.name)
        out.append(f'<span class="mf{" big" if big else ""}">{escape(name)}</span>')
        if axis:  # ∑ₙ: the axis letter as a real subscript, not a small Unicode letter
            out.append(f'<sub class="ax">{escape(axis)}</sub>')
        bare = f.arg.kind in ("matrix", "grid", "frac", "paren") or (
            big and f.arg.kind in ("script", "sym")
        )
        if not bare:
            out.append("(")
        _emit(f.arg, out)
        if not bare:
            out.append(")")
    elif kind == "matrix":
        out.append(matrix_html(f.rows, _block_columns.get()))
    elif kind == "grid":  # spans set as a table: a <table> would end a prompt's <p>
        out.append(f'<span class="mat {f.delims}"><span class="grid">')
        for cells in f.rows:
            out.append('<span class="gr">')
            for cell in cells:
                out.append('<span class="gc">')
                _emit(cell, out)
                out.append("</span>")
            out.append("</span>")
        out.append("</span></span>")


def _tall(f) -> bool:
    """Whether a formula stands taller than a line of text: a matrix, a fraction."""
    if f is None or isinstance(f, str):
        return False
    if f.kind in ("matrix", "grid", "frac"):
        return True
    parts = [getattr(f, a, None) for a in ("inner", "base", "arg")] + list(getattr(f, "items", ()))
    return any(_tall(p) for p in parts)


def matrix_html(rows, columns: int | None = None) -> str:
    """A matrix in brackets; with ``columns``, a wider one is printed as blocks of that
    many columns one under the other, each headed by the columns it holds."""
    cls = "mat row1" if len(rows) == 1 else "mat"
    blocks = column_blocks(len(rows[0]) if rows else 0, columns)
    if len(blocks) == 1:
        return f'<span class="{cls}"><table>{_rows_html(rows, 0, None)}</table></span>'
    out = ['<span class="matsplit">']
    for start, end in blocks:
        label = f"column {start + 1}" if end == start + 1 else f"columns {start + 1}\u2013{end}"
        out.append(
            f'<span class="block"><span class="cols">{label}</span>'
            f'<span class="{cls}"><table>{_rows_html(rows, start, end)}</table></span></span>'
        )
    out.append("</span>")
    return "".join(out)


def _rows_html(rows, start: int, end: int | None) -> str:
    return "".join(
        "<tr>" + "".join(f"<td>{escape(marked(c))}</td>" for c in r[start:end]) + "</tr>"
        for r in rows
    )


def _emit_fitted(f, out: list[str], columns: int | None) -> None:
    """_emit, printing matrices in blocks of ``columns`` columns, or (WRAP) whole, with
    the piece free to wrap after its + − ⊙."""
    if columns == WRAP:
        piece: list[str] = []
        _emit(f, piece)
        out.append(_WRAPPABLE.sub("\u00a0\\1 ", "".join(piece)))
        return
    token = _block_columns.set(columns)
    try:
        _emit(f, out)
    finally:
        _block_columns.reset(token)


_WRAPPABLE = re.compile("\u00a0([+−⊙])\u00a0")


_OPERATOR = re.compile("\u00a0([+−=])\u00a0")  # not after ·: a product stays whole


def _breakable_after_operators(html: str) -> str:
    """A worked note (a long sum of products) may wrap after its operators; the
    equation itself breaks only between its parts."""
    return _OPERATOR.sub("\u00a0\\1 ", html)


def step_html(step, gettext=None) -> Markup:
    """One worked step: the symbol, then "= part" for each part, then its note (its words
    in the sheet's language: ``gettext``, None for English)."""
    first = (getattr(step.note, "items", None) or (None,))[0]
    example = getattr(first, "text", None) == "e.g."  # typeset/steps.py EG, in italics
    step = localized(step, gettext)
    size, columns = step_fit([step.lhs, *step.parts])  # widths.py: smaller, then split
    classes = "step" + (" final" if step.final else "") + (" sub" if step.sub else "")
    classes += f" {size}" if size else ""
    equation, note = step_mathml(step)  # what screen readers read; they skip the visual
    out = [f'<div class="{classes}">\n{equation}<div class="eq" aria-hidden="true">']
    out.append('<span class="lhs">')
    _emit_fitted(step.lhs, out, columns[0])
    out.append("</span>")
    for part, part_columns in zip(step.parts, columns[1:]):
        out.append('<span class="part">\u00a0=\u00a0')
        _emit_fitted(part, out, part_columns)
        out.append("</span>")
    out.append("</div>")
    if step.note is not None:
        out.append(f'{note}<div class="note" aria-hidden="true">')
        items = getattr(step.note, "items", ())
        if example:
            out.append(f'<span class="eg">{escape(items[0].text)}</span>')
            items = items[1:]
        worked: list[str] = []
        for item in items or (step.note,):
            _emit(item, worked)
        out.append(_breakable_after_operators("".join(worked)))
        out.append("</div>")
    out.append("\n</div>")
    return Markup("".join(out))
