"""A small TeX subset for `$…$` in prompts, turned into formula trees (never run).

Letters, numbers, ^ and _, {groups}, \\frac, \\hat, \\boldsymbol/\\mathbf, \\text and the
usual Greek letters and operators. An unknown command is shown by its name.
"""
from __future__ import annotations

import re
from dataclasses import replace

from exgen.typeset.formula import Frac, Num, Op, Paren, Row, Script, Sym, Text
from exgen.typeset.notation import GREEK

TOKEN = re.compile(r"\\[A-Za-z]+|\\.|\d+(?:\.\d+)?|[A-Za-z]|\s+|.", re.S)
SYMBOLS = {
    "cdot": Op("·"), "times": Op("×"), "odot": Op("⊙"), "in": Op("∈"), "le": Op("≤"),
    "leq": Op("≤"), "ge": Op("≥"), "geq": Op("≥"), "neq": Op("≠"), "approx": Op("≈"),
    "to": Op("→"), "rightarrow": Op("→"), "mapsto": Op("↦"), "pm": Op("±"),
    "partial": Text("∂"), "nabla": Text("∇"), "sum": Text("∑"), "prod": Text("∏"),
    "infty": Text("∞"), "ldots": Text("…"), "dots": Text("…"), "cdots": Text("⋯"),
    "top": Text("T"), "|": Text("‖"), "{": Text("{"), "}": Text("}"), ",": Text("\u2009"),
    ";": Text("\u2005"), "quad": Text("\u2003"), " ": Text(" "), "lVert": Text("‖"),
    "rVert": Text("‖"), "Vert": Text("‖"), "langle": Text("⟨"), "rangle": Text("⟩"),
    "forall": Text("∀"), "exists": Text("∃"), "mid": Op("|"), "land": Op("∧"), "lor": Op("∨"),
    "neg": Text("¬"), "circ": Op("∘"),
}
FUNCTIONS = ("log", "exp", "tanh", "max", "min", "sin", "cos", "ln", "arg", "softmax")
CALLIGRAPHIC = {"L": "ℒ", "E": "ℰ", "J": "𝒥", "N": "𝒩", "D": "𝒟"}
OPERATORS = {"+": "+", "-": "−", "=": "=", "<": "<", ">": ">"}


class _Parser:
    def __init__(self, source: str):
        self.tokens = [t for t in TOKEN.findall(source)]
        self.i = 0

    def peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self):
        tok = self.peek()
        self.i += 1
        return tok

    def group(self, until: str | None = None) -> Row:
        items: list = []
        while self.peek() is not None and self.peek() != until:
            tok = self.take()
            if tok in ("^", "_"):
                arg = self.argument()
                base = items.pop() if items else Text("")
                if isinstance(base, Script):
                    base = replace(base, **{"sup" if tok == "^" else "sub": arg})
                else:
                    base = Script(base, **{"sup" if tok == "^" else "sub": arg})
                items.append(base)
                continue
            item = self.atom(tok)
            if item is not None:
                items.append(item)
        if until is not None:
            self.take()
        return Row(tuple(items))

    def argument(self):
        tok = self.take()
        if tok is None:
            return Text("")
        if tok == "{":
            return self.group("}")
        return self.atom(tok) or Text("")

    def atom(self, tok: str):
        if tok.isspace():
            return None
        if tok == "{":
            return self.group("}")
        if tok[0].isdigit():
            return Num(tok)
        if tok.isalpha():
            return Sym(tok)
        if tok in OPERATORS:
            return Op(OPERATORS[tok])
        if tok.startswith("\\"):
            return self.command(tok[1:])
        return Text(tok)

    def command(self, name: str):
        if name in GREEK:
            return Sym(GREEK[name], upright=name[0].isupper())
        if name in ("varepsilon", "epsilon"):
            return Sym("ε")
        if name in SYMBOLS:
            return SYMBOLS[name]
        if name in FUNCTIONS:
            return Text(name)
        if name == "frac":
            return Frac(self.argument(), self.argument())
        if name == "sqrt":
            return Row((Text("√"), Paren(self.argument())))
        if name in ("hat", "widehat"):
            return _map_syms(self.argument(), hat=True)
        if name in ("boldsymbol", "mathbf", "bm", "vec"):
            return _map_syms(self.argument(), bold=True)
        if name in ("text", "mathrm", "operatorname", "textrm"):
            return Text(_plain(self.argument()))
        if name == "mathcal":
            text = _plain(self.argument())
            return Text("".join(CALLIGRAPHIC.get(c, c) for c in text))
        if name in ("left", "right", "big", "Big", "bigl", "bigr", "Bigl", "Bigr", "displaystyle"):
            return None
        return Text(name)


def _map_syms(item, **changes):
    if isinstance(item, Sym):
        return replace(item, **changes)
    if isinstance(item, Row):
        return Row(tuple(_map_syms(i, **changes) for i in item.items))
    if isinstance(item, Script):
        return replace(item, base=_map_syms(item.base, **changes))
    return item


def _plain(item) -> str:
    if isinstance(item, (Sym, Text)):
        return item.base if isinstance(item, Sym) else item.text
    if isinstance(item, Num):
        return item.text
    if isinstance(item, Op):
        return item.text
    if isinstance(item, Row):
        return "".join(_plain(i) for i in item.items)
    return ""


def parse_tex(source: str) -> Row:
    """A TeX-subset formula as a formula tree."""
    return _Parser(source[:2000]).group()
