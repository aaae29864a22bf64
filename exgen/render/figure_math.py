"""Formula trees (typeset/formula.py) in the figures: as SVG text (italic symbols, bold
arrays, sub- and superscripts, the key's operator glyphs, one font), and as plain text
for the figures' alt texts."""

from __future__ import annotations

import unicodedata
from html import escape

from exgen.engine.rounding import list_separator, marked
from exgen.render.svg_canvas import Label, advance
from exgen.typeset.formula import Paren, Row, Text

SCRIPT = 0.72  # a script's size relative to its base
DROP, RISE = 0.3, 0.45  # a subscript's drop and a superscript's rise, in ems of the base


def svg_label(f) -> Label:
    """The formula as SVG tspans (sizes relative to the <text>'s font size, in em)."""
    out: list[str] = []
    ems = _emit(f, out, 1.0)
    return Label("".join(out), ems)


def _span(text: str, italic=False, bold=False, scale=1.0, dy=0.0) -> str:
    attrs = ""
    if italic:
        attrs += ' font-style="italic"'
    if bold:
        attrs += ' font-weight="bold"'
    if scale != 1.0:
        attrs += f' font-size="{scale * 100:.0f}%"'
    if dy:
        attrs += f' dy="{dy:.2f}em"'
    return f"<tspan{attrs}>{escape(text)}</tspan>"


def _script(out, sub, sup, scale) -> float:
    """Sub- and superscript text after a base; the baseline is restored after."""
    ems = 0.0
    small = scale * SCRIPT
    # dy is in ems of the tspan's own (smaller) font: convert from the base's
    if sub:
        out.append(_span(sub, scale=small, dy=DROP * scale / small))
        out.append(_span("\u200b", scale=small, dy=-DROP * scale / small))
        ems += advance(sub) * small
    if sup:
        out.append(_span(sup, scale=small, dy=-RISE * scale / small))
        out.append(_span("\u200b", scale=small, dy=RISE * scale / small))
        ems = ems + advance(sup) * small
    return ems


def _emit(f, out: list[str], scale: float) -> float:
    """Appends the formula's tspans; returns its estimated width in ems."""
    if f is None:
        return 0.0
    if isinstance(f, str):
        f = marked(f)
        out.append(_span(f, scale=scale))
        return advance(f) * scale
    kind = f.kind
    if kind == "sym":
        base = unicodedata.normalize("NFC", f.base + ("\u0302" if f.hat else ""))
        italic = not (f.bold or f.upright)
        out.append(_span(base, italic=italic, bold=f.bold, scale=scale))
        return advance(f.base, f.bold) * scale + _script(out, f.sub, f.sup, scale)
    if kind in ("num", "text"):
        text = marked(f.text)
        out.append(_span(text, scale=scale))
        return advance(text) * scale
    if kind == "op":
        text = f"{list_separator()} " if f.text == "," else f"\u2009{f.text}\u2009"
        out.append(_span(text, scale=scale))
        return (advance(f.text) + 0.4) * scale
    if kind == "row":
        return sum(_emit(item, out, scale) for item in f.items)
    if kind == "paren":
        out.append(_span(f.open, scale=scale))
        ems = _emit(f.inner, out, scale)
        out.append(_span(f.close, scale=scale))
        return ems + advance(f.open + f.close) * scale
    if kind == "frac":  # a label is one line: a fraction is written a/b
        ems = _emit(f.num, out, scale)
        out.append(_span("/", scale=scale))
        return ems + 0.4 * scale + _emit(f.den, out, scale)
    if kind == "script":
        ems = _emit(f.base, out, scale)
        small = scale * SCRIPT
        for part, shift in ((f.sub, DROP), (f.sup, -RISE)):
            if part is not None:
                if getattr(part, "text", None) == "T":  # the transpose, as ⊤
                    part = "⊤"
                out.append(f'<tspan dy="{shift * scale / small:.2f}em"></tspan>')
                ems += _emit(part, out, small)
                out.append(f'<tspan dy="{-shift * scale / small:.2f}em"></tspan>')
        return ems
    if kind == "func":
        out.append(_span(f.name, scale=scale))
        return advance(f.name) * scale + _emit(f.arg, out, scale)
    if kind == "radical":  # a label has no bar to draw: √ of a compound is bracketed
        return _emit(_radical_row(f), out, scale)
    # matrices and grids do not appear in a figure's labels: their plain text
    text = plain(f)
    out.append(_span(text, scale=scale))
    return advance(text) * scale


def plain(f) -> str:
    """The formula as one line of plain text for an alt text: W1·x + b1, tanh(z1), ŷ."""
    if f is None:
        return ""
    if isinstance(f, str):
        return marked(f)
    kind = f.kind
    if kind == "sym":
        text = unicodedata.normalize("NFC", f.base + ("\u0302" if f.hat else "")) + f.sub
        return text + ("^" + f.sup if f.sup else "")
    if kind == "num":
        return marked(f.text)
    if kind == "text":  # a matrix product is written juxtaposed: W1·x in plain text
        return "·" if f.text == "\u2009" else f.text
    if kind == "op":
        return f"{list_separator()} " if f.text == "," else f" {f.text} "
    if kind == "row":
        return "".join(plain(i) for i in f.items)
    if kind == "paren":
        return f.open + plain(f.inner) + f.close
    if kind == "frac":
        return f"{plain(f.num)}/{plain(f.den)}"
    if kind == "script":
        sub = f"_{plain(f.sub)}" if f.sub is not None else ""
        sup = plain(f.sup) if f.sup is not None else ""
        sup = f"^{sup}" if sup else ""
        return plain(f.base) + sub + sup
    if kind == "func":
        return f.name + plain(f.arg)
    if kind == "radical":
        return plain(_radical_row(f))
    if kind in ("matrix", "grid"):
        return "[" + "; ".join(", ".join(plain(c) for c in r) for r in f.rows) + "]"
    return str(f)


def _radical_row(f) -> Row:
    """√x, or √(x + 1) where the radicand is more than one symbol: a radical on one line."""
    inner = f.inner
    if getattr(inner, "kind", "") in ("row", "frac"):
        inner = Paren(inner)
    return Row((Text("√"), inner))
