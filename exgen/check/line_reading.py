"""Reading a printed line as a reader does: the LaTeX of a step, split at its "=" signs,
each part with only numbers in it parsed back into an expression tree by the usual
precedence of written mathematics. A step is read right when one part reads exactly as
its `expr` and the next part as its `result` — so a dropped bracket (−7.00² for
(−7.00)²) or a part that says something else than the step computes is a finding.

The grammar is the LaTeX subset the key writes (typeset/latex.py); operation names are
looked up in the operations' own spellings, and nothing of the engine's arithmetic is used.
"""

from __future__ import annotations

import itertools
import re

from exgen.engine.ops import REGISTRY
from exgen.typeset.spell import AXIS_LETTERS

TOKEN = re.compile(
    r"""\s*(
    \\begin\{bmatrix\}.*?\\end\{bmatrix\} | \\begin\{pmatrix\} | \\end\{pmatrix\} | & | \\\\
  | \\left\( | \\right\) | \\frac | \\cdot | \\odot
  | \\, | \\sum(?:_\{[a-z](?:,[a-z])*\})? | \\operatorname\{[^}]*\}(?:_\{[a-z](?:=\d+(?:,[a-z]=\d+)*)?\}|_\{\d+\\times\ \d+(?:,\\,s=\d+)?\})? | \\mathbf\{[^}]*\}(?:_\{[^}]*\})?
  | \\top | \d+(?:(?:\.|\{,\})\d+)?\s*\\times\s*10\^\{-?\d+\} | \\[A-Za-z]+ | \d+(?:(?:\.|\{,\})\d+)?
  | [-+{}^,;] | [A-Za-z]
)""",
    re.VERBOSE | re.DOTALL,
)
NUMBER = re.compile(r"\d+(?:(?:\.|\{,\})\d+)?")  # 2.55, or 2{,}55 with a decimal comma
WINDOW = re.compile(r"_\{(\d+)\\times (\d+)(?:,\\,s=(\d+))?\}$")
SCIENTIFIC = re.compile(r"(\d+(?:(?:\.|\{,\})\d+)?)\s*\\times\s*10\^\{(-?\d+)\}")
SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
MAX_DEPTH = 200


class NotNumbers(ValueError):
    """A part with symbols in it (or not in the grammar): not read as numbers."""


def _names() -> dict[str, str]:
    """LaTeX function name → operation, from the operations' spellings."""
    return {
        op.spelling.latex: name
        for name, op in REGISTRY.items()
        if op.spelling.kind in ("func", "bigop")
    }


def _radicals() -> dict[str, str]:
    """LaTeX radical (\\sqrt) → operation, from the operations' spellings."""
    return {
        op.spelling.latex: name for name, op in REGISTRY.items() if op.spelling.kind == "radical"
    }


def parts(line: str) -> list[str]:
    """The line's parts between top-level "=" signs."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(line):
        depth += ch == "{"
        depth -= ch == "}"
        if ch == "=" and depth == 0:
            out.append(line[start:i].strip())
            start = i + 1
    out.append(line[start:].strip())
    return out


def read(text: str, layout: str = "column"):
    """The expression tree a part reads as, in key.json's `expr` form."""
    return _Reader(text, layout).parse()


def reads_as(line: str, expr, result, layout: str = "column") -> bool:
    """Does some part of ``line`` read as ``expr``, and the part after it as ``result``?"""
    readings = []
    for text in parts(line):
        try:
            readings.append(read(text, layout))
        except NotNumbers:
            readings.append(None)
    want, got = _normal(expr), _normal(result)
    for a, b in itertools.pairwise(readings):
        if a == want and b == got:
            return True
        # a sum read term by term: "A + B = a + b" says A = a and B = b (an adjoint's
        # contributions, each worked out before they are added)
        terms, values = _summands(a), _summands(b)
        if len(terms) == len(values) > 1 and (want, got) in zip(terms, values):
            return True
    return False


def _summands(t) -> list:
    """The terms of a sum as read (left to right), or [t]."""
    if isinstance(t, tuple) and t[0] == "add" and not t[2]:
        return _summands(t[1][0]) + _summands(t[1][1])
    return [t]


def _squeezed(rows: tuple):
    """Printed images a line each: a batch, or one image (a single line reads the same)."""
    return rows[0] if len(rows) == 1 else rows


def _normal(t):
    """−(a printed number) reads as the negative number; lists as tuples; a batch of
    one image, or a stack of one line, as what its one line prints."""
    if isinstance(t, dict) and t.get("op") == "stack":
        grid = list(t.get("grid", []))
        if len(grid) == 2 and grid[0] == 1:
            t = dict(t, grid=grid[1:])
        t = dict(t, grid=tuple(t["grid"]))
    if isinstance(t, list) and _depth(t) == 4:  # a batch: images of maps of rows
        return _squeezed(tuple(_normal(x) for x in t))
    if isinstance(t, dict):
        args = [_normal(a) for a in t.get("args", [])]
        if (
            t["op"] == "neg"
            and len(args) == 1
            and isinstance(args[0], str)
            and not args[0].startswith("-")
        ):
            return "-" + args[0]
        return (
            t["op"],
            tuple(args),
            tuple(sorted((k, v) for k, v in t.items() if k not in ("op", "args"))),
        )
    if isinstance(t, list):
        return tuple(_normal(x) for x in t)
    return t


def _depth(t) -> int:
    return 1 + _depth(t[0]) if isinstance(t, list) and t else 0


def _apply(op: str, *args, **kwargs):
    return _normal({"op": op, "args": list(args), **kwargs})


class _Reader:
    def __init__(self, text: str, layout: str):
        self.tokens = self._tokenize(text)
        self.i = 0
        self.depth = 0
        self.letters = AXIS_LETTERS.get(layout, AXIS_LETTERS["column"])
        self.names = _names()
        self.radicals = _radicals()
        # softmax runs over a layer's units: along each row when samples are rows
        self.unit_axis = {"axis": 1} if layout == "row" else {}

    @staticmethod
    def _tokenize(text: str) -> list[str]:
        out, pos, text = [], 0, text.strip()
        while pos < len(text):
            m = TOKEN.match(text, pos)
            if not m or m.end() == pos:
                raise NotNumbers(text[pos : pos + 20])
            tok = m.group(1)
            if tok.startswith(
                (r"\mathbf", r"\partial", r"\hat", r"\mathrm", r"\eta")
            ) or re.fullmatch(r"[A-Za-z]", tok):
                raise NotNumbers(tok)  # a symbol: this part is written in symbols
            out.append(tok)
            pos = m.end()
        return out

    def peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, expected=None):
        tok = self.peek()
        if tok is None or (expected is not None and tok != expected):
            raise NotNumbers(f"expected {expected}, found {tok}")
        self.i += 1
        return tok

    def parse(self):
        if not self.tokens:
            raise NotNumbers("empty")
        t = self.sum()
        if self.peek() is not None:
            raise NotNumbers(f"left over {self.peek()}")
        return t

    def sum(self):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise NotNumbers("nested too deeply")
        t = self.product(first=True)
        while self.peek() in ("+", "-"):
            op = "add" if self.take() == "+" else "sub"
            t = _apply(op, t, self.product(first=False))
        self.depth -= 1
        return t

    def product(self, first: bool):
        t = self.unary(first)
        while self.peek() in (r"\cdot", r"\odot", r"\otimes", r"\,"):
            tok = self.take()
            right = self.unary(False)
            op = {r"\,": "matmul", r"\otimes": "kron"}.get(tok, "mul")
            t = _apply(op, t, right)
        return t

    def unary(self, minus_allowed: bool):
        if self.peek() == "-":
            if not minus_allowed:  # "0.50 · −1.96", "1.90 − −0.10": a reader stumbles
                raise NotNumbers("a minus sign straight after a sign")
            self.take()
            start = self.i
            inner = self.unary(False)
            if isinstance(inner, str) and self.i == start + 1:
                return "-" + inner  # a negative number
            return _apply("neg", inner)
        return self.postfix()

    def postfix(self):
        t = self.primary()
        while self.peek() == "^":
            self.take()
            self.take("{")
            tok = self.take()
            t = _apply("transpose", t) if tok == r"\top" else _apply("pow", t, tok)
            self.take("}")
        return t

    def group(self):
        if self.peek() == r"\left(":
            self.take()
            t = self.sum()
            self.take(r"\right)")
            return t
        if (self.peek() or "").startswith(r"\begin"):
            return self.primary()
        raise NotNumbers(f"expected an argument, found {self.peek()}")

    def tensor(self):
        """An image's maps side by side (a batch's images, a filter bank's filters, a
        line each) in parentheses: printed maps, or a stack of map-valued terms."""
        rows: list[list] = [[]]
        while True:
            tok = self.peek()
            if tok is None:
                raise NotNumbers("an unclosed tensor")
            if tok == r"\end{pmatrix}":
                self.take()
                break
            if tok in ("&", "\\\\"):
                self.take()
                if tok != "&":
                    rows.append([])
                continue
            rows[-1].append(self.sum())
        if len({len(r) for r in rows}) != 1 or not rows[0]:
            raise NotNumbers("a ragged tensor")
        cells = [c for r in rows for c in r]
        if all(isinstance(c, tuple) and c and isinstance(c[0], tuple) for c in cells):
            return _squeezed(tuple(tuple(r) for r in rows))
        grid = [len(rows), len(rows[0])] if len(rows) > 1 else [len(rows[0])]
        return _apply("stack", *cells, grid=grid)

    def primary(self):
        tok = self.take()
        if tok == "{":  # a script's base: TeX's braces are invisible, one unit only
            t = self.postfix()
            self.take("}")
            return t
        if tok == r"\left(":
            self.i -= 1
            return self.group()
        if tok == r"\begin{pmatrix}":
            return self.tensor()
        if tok.startswith(r"\begin"):
            body = tok[len(r"\begin{bmatrix}") : -len(r"\end{bmatrix}")]
            rows = [[c.strip() for c in r.split("&")] for r in body.split(r"\\")]
            cells = []
            for r in rows:
                cells.append([])
                for c in r:
                    sign, body = ("-", c[1:]) if c.startswith("-") else ("", c)
                    sci = SCIENTIFIC.fullmatch(body)
                    if sci:
                        body = f"{sci.group(1)}×10{sci.group(2).translate(SUPERSCRIPT)}"
                    elif not NUMBER.fullmatch(body):
                        raise NotNumbers("a matrix of symbols")
                    cells[-1].append(sign + body.replace("{,}", ","))
            return _normal(cells)
        if tok == r"\frac":
            self.take("{")
            num = self.sum()
            self.take("}")
            self.take("{")
            den = self.sum()
            self.take("}")
            return _apply("div", num, den)
        if tok.startswith(r"\sum") and tok in self.names:  # ∑ᵢ,ⱼ: an operation's own
            nxt = self.peek() or ""
            arg = self.group() if nxt == r"\left(" or nxt.startswith(r"\begin") else self.postfix()
            return _apply(self.names[tok], arg)
        if tok.startswith(r"\sum"):
            kwargs = {}
            if tok != r"\sum":
                letter = tok[-2]
                if letter not in self.letters:
                    raise NotNumbers(f"unknown axis {letter}")
                kwargs["axis"] = self.letters.index(letter)
            nxt = self.peek() or ""
            arg = self.group() if nxt == r"\left(" or nxt.startswith(r"\begin") else self.postfix()
            return _apply("sum", arg, **kwargs)
        if tok in self.radicals:  # \sqrt{…}: the bar groups its radicand
            self.take("{")
            inner = self.sum()
            self.take("}")
            return _apply(self.radicals[tok], inner)
        window = WINDOW.search(tok)  # maxpool_{3\times 3,\,s=1}: size and stride
        settings = {}
        if window:
            tok = tok[: window.start()]
        elif "=" in tok:  # conv2d_{s=2,p=1}: keyword arguments by their initials
            tok, _, sub = tok.partition("_{")
            op = self.names.get(tok, "")
            initials = {k[0]: k for k in getattr(REGISTRY.get(op), "keywords", {})}
            for item in sub.rstrip("}").split(","):
                key, _, value = item.partition("=")
                if key not in initials:
                    raise NotNumbers(f"unknown keyword {key}")
                settings[initials[key]] = int(value)
        base, letter = (
            (tok[:-4], tok[-2]) if tok.endswith("}") and tok[-4:-2] == "_{" else (tok, "")
        )
        if base in self.names:
            op = self.names[base]
            if letter and letter not in self.letters:
                raise NotNumbers(f"unknown axis {letter}")
            axis = {"axis": self.letters.index(letter)} if letter else {}
            if op == "softmax" and not letter:
                axis = self.unit_axis
            if REGISTRY[op].arity == 2:  # max(a, b), max(a, b, c, d) (a pooling window)
                self.take(r"\left(")
                operands = [self.sum()]
                while self.peek() in (",", ";"):  # ";" between numbers with a decimal comma
                    self.take()
                    operands.append(self.sum())
                self.take(r"\right)")
                if len(operands) < 2:
                    raise NotNumbers(f"{op} of one operand")
                return _apply(op, *operands, **settings)
            if window:
                size, stride = int(window.group(1)), int(window.group(3) or window.group(1))
                kw = {"size": size} if size != 2 else {}
                axis = kw if stride == size else dict(kw, stride=stride)
            return _apply(op, self.group(), **axis)
        if NUMBER.fullmatch(tok):
            return tok.replace("{,}", ",")
        sci = SCIENTIFIC.fullmatch(tok)
        if sci:  # 2.69 \times 10^{43}: the number key.json writes as 2.69×10⁴³
            mantissa = sci.group(1).replace("{,}", ",")
            return f"{mantissa}×10{sci.group(2).translate(SUPERSCRIPT)}"
        raise NotNumbers(tok)
