"""Visual formula trees (typeset/formula.py) as LaTeX: the `latex` of key.json's steps,
written from the same tree as the HTML."""

from __future__ import annotations

from exgen.engine.rounding import latex_number, list_separator
from exgen.typeset.formula import Matrix

GREEK = {
    "α": r"\alpha",
    "β": r"\beta",
    "γ": r"\gamma",
    "δ": r"\delta",
    "ε": r"\varepsilon",
    "η": r"\eta",
    "θ": r"\theta",
    "λ": r"\lambda",
    "μ": r"\mu",
    "σ": r"\sigma",
    "τ": r"\tau",
    "φ": r"\varphi",
    "ω": r"\omega",
    "Δ": r"\Delta",
    "Σ": r"\Sigma",
    "Ω": r"\Omega",
}
SIGNS = {
    "=": "=",
    "+": "+",
    "−": "-",
    "·": r"\cdot",
    "⊙": r"\odot",
    "⊗": r"\otimes",
    "≈": r"\approx",
    "×": r"\times",
    ",": ",",
    ":=": ":=",
    "/": "/",
}
TEXTS = {
    "\u2009": r"\,",
    "∂": r"\partial ",
    "𝟏": r"\mathbf{1}",
    "−": "-",
    "T": r"\top",
    "/": "/",
    "e": "e",
    "∑": r"\sum",
    "ReLU′": r"\operatorname{ReLU}'",
}
# names of functions set without a LaTeX spelling of their own (operations carry theirs)
NAMES = {"max": r"\max", "∑": r"\sum", "∑ₙ": r"\sum_{n}", "∑ₖ": r"\sum_{k}"}


def _chars(text: str) -> str:
    return "".join(GREEK.get(c, c) for c in text)


def _text(text: str) -> str:
    if text in TEXTS:
        return TEXTS[text]
    if text in GREEK:
        return GREEK[text]
    stripped = text.strip()
    if stripped and all(c.isalnum() for c in stripped) and len(stripped) > 1:
        return rf"\mathrm{{{stripped}}}"
    if len(stripped) <= 1:
        return _chars(text)
    return rf"\text{{{text}}}"


def latex(f) -> str:
    if f is None:
        return ""
    if isinstance(f, str):
        return _text(f)
    kind = f.kind
    if kind == "sym":
        base = _chars(f.base)
        if len(f.base) > 1 and f.upright:
            base = rf"\mathrm{{{base}}}"
        if f.hat:
            base = rf"\hat{{{base}}}"
        if f.bold:
            base = rf"\boldsymbol{{{base}}}" if f.base in GREEK else rf"\mathbf{{{base}}}"
        return base + (f"_{{{f.sub}}}" if f.sub else "") + (f"^{{{f.sup}}}" if f.sup else "")
    if kind == "num":
        return latex_number(f.text)
    if kind == "op":
        return f" {list_separator() if f.text == ',' else SIGNS.get(f.text, f.text)} "
    if kind == "text":
        return _text(f.text)
    if kind == "row":
        return "".join(latex(i) for i in f.items)
    if kind == "paren":
        return rf"\left{f.open}{latex(f.inner)}\right{f.close}"
    if kind == "frac":
        return rf"\frac{{{latex(f.num)}}}{{{latex(f.den)}}}"
    if kind == "radical":
        return rf"\sqrt{{{latex(f.inner)}}}"
    if kind == "script":
        out = "{" + latex(f.base) + "}"
        if f.sup is not None:
            out += "^{" + latex(f.sup) + "}"
        if f.sub is not None:
            out += "_{" + latex(f.sub) + "}"
        return out
    if kind == "func":
        name = f.latex or NAMES.get(f.name) or rf"\operatorname{{{f.name}}}"
        arg = latex(f.arg)
        if f.arg.kind not in ("paren", "matrix", "grid"):
            arg = f" {arg}" if f.name.startswith("∑") else rf"\left({arg}\right)"
        return name + arg
    if kind == "matrix":
        return matrix_latex(f)
    if kind == "grid":  # an image's maps (a batch's images a row each), in parentheses
        body = r" \\ ".join(" & ".join(latex(c) for c in r) for r in f.rows)
        env = {"paren": "pmatrix", "bracket": "bmatrix", "bar": "vmatrix"}.get(f.delims, "matrix")
        return rf"\begin{{{env}}}{body}\end{{{env}}}"
    raise ValueError(f"no LaTeX for {kind}")


def matrix_latex(m: Matrix) -> str:
    body = r" \\ ".join(" & ".join(latex_number(c) for c in r) for r in m.rows)
    return rf"\begin{{bmatrix}}{body}\end{{bmatrix}}"


def line_latex(lhs, parts) -> str:
    """A whole printed line: lhs = part = part …"""
    return " = ".join([latex(lhs)] + [latex(p) for p in parts])
