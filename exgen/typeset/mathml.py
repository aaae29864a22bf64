"""Formula trees (typeset/formula.py) as MathML, for screen readers.

The visual HTML (mathhtml.py) reads aloud as a flat stream of numbers; this twin of it
says what is a row, a fraction, a script or a transpose. The documents carry it visually
hidden on screen and not at all in print (style.css, "screen readers"): WeasyPrint does
not lay out MathML. Plain Python, like mathhtml.py, since every formula passes through it.
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import lru_cache

from exgen.engine.rounding import list_separator, marked
from exgen.typeset.formula import Row
from exgen.typeset.spell import split_axis

HIDDEN = "sr-only"  # style.css: visually hidden on screen; stripped before WeasyPrint
TRANSPOSE = "⊤"  # a superscript "T" (\top) is a transpose: MathML says so with U+22A4
FUNCTION_APPLICATION = "\u2061"  # between a function's name and its argument
SPACING = " \u00a0\u2009\u2005\u2003\u2002"
DELIMITERS = {  # the bracket pair of each Grid.delims
    "none": ("", ""),
    "paren": ("(", ")"),
    "bracket": ("[", "]"),
    "bar": ("|", "|"),
    "double": ("‖", "‖"),
}
_NUMBER = re.compile(r"[−+-]?(?:\d+(?:[.,]\d*)?|\.\d+)(?:[eE][−+-]?\d+)?")
_WORDS = re.compile(r"[^\W\d_][^\d]*")
_PIECES = re.compile(r"\d+(?:\.\d+)?|[^\W\d_]+|\S")


_TWIN = re.compile(f'<math (?:display="block" )?class="{HIDDEN}">.*?</math>', re.S)


def without_twins(html: str) -> str:
    """``html`` without its MathML twins, for print: WeasyPrint does not set MathML, and
    even hidden (display: none) the twins would cost it a fifth more time to read."""
    return _TWIN.sub("", html)


def _escape(text: str) -> str:
    if "&" in text or "<" in text or ">" in text:
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text


def to_mathml(f) -> str:
    """One formula as a visually hidden ``<math>`` element."""
    out = [f'<math class="{HIDDEN}">']
    _emit(f, out)
    out.append("</math>")
    return "".join(out)


def step_mathml(step) -> tuple[str, str]:
    """A worked step's twins: its equation (lhs = part = …) and its note ("" when none)."""
    out = [f'<math display="block" class="{HIDDEN}">']
    _emit(step.lhs, out)
    for part in step.parts:
        out.append("<mo>=</mo>")
        _emit(part, out)
    out.append("</math>")
    if step.note is None:
        return "".join(out), ""
    note = [f'<math display="block" class="{HIDDEN}">']
    items = getattr(step.note, "items", None) or (step.note,)
    for item in items:
        _emit(item, note)
    note.append("</math>")
    return "".join(out), "".join(note)


def _text(text: str, out: list[str]) -> None:
    out.append(_tokens(marked(text)))


@lru_cache(maxsize=8192)  # the same cells, signs and names recur in every variant
def _tokens(text: str) -> str:
    """Loose text (a cell, a sign, a function name) as MathML tokens."""
    text = text.strip(SPACING)
    if not text:
        return ""
    if _NUMBER.fullmatch(text):
        return f"<mn>{_escape(text)}</mn>"
    if len(text) == 1:
        tag = "mi" if text.isalpha() else "mo"
        return f"<{tag}>{_escape(text)}</{tag}>"
    if text.isalpha():
        return f"<mi>{_escape(text)}</mi>"
    if _WORDS.fullmatch(text):  # "e.g.", "if x > 0"
        return f"<mtext>{_escape(text)}</mtext>"
    # "(1)", "x1": a row of its pieces
    return "<mrow>" + "".join(map(_tokens, _PIECES.findall(text))) + "</mrow>"


def _script(text: str, out: list[str]) -> None:
    if text == "T":
        out.append(f'<mo form="postfix">{TRANSPOSE}</mo>')
    else:
        _grouped(text, out)


def _grouped(f, out: list[str]) -> None:
    """One element (a script's base or slot, a fraction's part): rows wrapped in <mrow>."""
    out.append("<mrow>")
    if isinstance(f, str):
        _text(f, out)
    else:
        _emit(f, out)
    out.append("</mrow>")


def _emit(f, out: list[str]) -> None:
    if f is None:
        return
    if isinstance(f, str):
        _text(f, out)
        return
    kind = f.kind
    if kind == "sym":
        variant = ' mathvariant="bold"' if f.bold else ""
        if f.upright and not f.bold:
            variant = ' mathvariant="normal"'
        base = f"<mi{variant}>{_escape(f.base)}</mi>"
        if f.hat:
            base = f'<mover accent="true">{base}<mo>^</mo></mover>'
        if f.sub and f.sup:
            out.append(f"<msubsup>{base}")
            _grouped(f.sub, out)
            _script(f.sup, out)
            out.append("</msubsup>")
        elif f.sub:
            out.append(f"<msub>{base}")
            _grouped(f.sub, out)
            out.append("</msub>")
        elif f.sup:
            out.append(f"<msup>{base}")
            _script(f.sup, out)
            out.append("</msup>")
        else:
            out.append(base)
    elif kind == "num":
        out.append(f"<mn>{_escape(marked(f.text))}</mn>")
    elif kind == "op":
        out.append(f"<mo>{_escape(list_separator() if f.text == ',' else f.text)}</mo>")
    elif kind == "text":
        _text(f.text, out)
    elif kind == "row":
        out.append("<mrow>")
        for item in _bracketed(f.items):
            _emit(item, out)
        out.append("</mrow>")
    elif kind == "paren":
        out.append("<mrow>")
        _fence(f.open, out)
        _emit(f.inner, out)
        _fence(f.close, out)
        out.append("</mrow>")
    elif kind == "frac":
        out.append("<mfrac>")
        _grouped(f.num, out)
        _grouped(f.den, out)
        out.append("</mfrac>")
    elif kind == "radical":
        out.append("<msqrt>")
        _emit(f.inner, out)
        out.append("</msqrt>")
    elif kind == "script":
        tag = "msup" if f.sub is None else "msub" if f.sup is None else "msubsup"
        out.append(f"<{tag}>")
        _grouped(f.base, out)
        if f.sub is not None:
            _grouped(f.sub, out)
        if f.sup is not None:
            if getattr(f.sup, "kind", "") == "text" and f.sup.text == "T":
                _script("T", out)
            else:
                _grouped(f.sup, out)
        out.append(f"</{tag}>")
    elif kind == "func":
        bare = f.arg.kind in ("matrix", "grid", "frac", "paren") or (
            f.name.startswith("∑") and f.arg.kind in ("script", "sym")
        )
        out.append("<mrow>")
        name, axis = split_axis(f.name)
        if axis:  # ∑ₙ: the sum over n, the letter a subscript
            out.append(f"<msub><mo>{_escape(name)}</mo><mi>{_escape(axis)}</mi></msub>")
        else:
            _text(f.name, out)
        if f.name.isalpha():  # σ(x), tanh(x); not after ∑
            out.append(f"<mo>{FUNCTION_APPLICATION}</mo>")
        if not bare:
            out.append("<mrow><mo>(</mo>")
        _emit(f.arg, out)
        if not bare:
            out.append("<mo>)</mo></mrow>")
        out.append("</mrow>")
    elif kind == "matrix":
        out.append("<mrow><mo>[</mo><mtable>")
        for cells in f.rows:
            out.append(
                "<mtr>" + "".join(f"<mtd>{_tokens(marked(c))}</mtd>" for c in cells) + "</mtr>"
            )
        out.append("</mtable><mo>]</mo></mrow>")
    elif kind == "grid":
        opening, closing = DELIMITERS.get(f.delims, ("", ""))
        out.append("<mrow>")
        _fence(opening, out)
        out.append("<mtable>")
        for cells in f.rows:
            out.append("<mtr>")
            for cell in cells:
                out.append("<mtd>")
                _emit(cell, out)
                out.append("</mtd>")
            out.append("</mtr>")
        out.append("</mtable>")
        _fence(closing, out)
        out.append("</mrow>")


OPENING = {")": "(", "]": "[", "}": "{"}


def _bracketed(items: tuple) -> tuple:
    """Prompt TeX sets ``[0, 1]^\\top`` as "[0, 1" then "]" with the superscript; the
    script belongs to the whole bracket, so that it reads "[0, 1] transposed"."""
    if not any(_closes_with_script(i) for i in items):
        return items
    out: list = []
    opened: list[int] = []
    for item in items:
        text = getattr(item, "text", None)
        if getattr(item, "kind", "") == "text" and text in OPENING.values():
            opened.append(len(out))
        elif _closes_with_script(item) and opened:
            start = opened.pop()
            item = replace(item, base=Row((*out[start:], item.base)))
            del out[start:]
        elif text in OPENING and opened:
            opened.pop()
        out.append(item)
    return tuple(out)


def _closes_with_script(item) -> bool:
    base = getattr(item, "base", None)
    return getattr(item, "kind", "") == "script" and getattr(base, "text", None) in OPENING


def _fence(text: str, out: list[str]) -> None:
    if text:
        out.append(f'<mo fence="true">{_escape(text)}</mo>')
