"""The TeX subset prompts may use in `$…$` and `$$…$$`, as formula trees (never run).

What is understood is listed in the tables below and in ``_Parser.command``; anything
else is refused with a DefinitionError saying what was not understood, so a prompt never
prints garbled math. Nesting is bounded (``MAX_DEPTH``), so no input reaches Python's
recursion limit.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace

from exgen.errors import DefinitionError
from exgen.typeset.formula import Frac, Grid, Num, Op, Paren, Radical, Row, Script, Sym, Text

MAX_DEPTH = 40  # braces, arguments, \left…\right and matrices, nested
MAX_LENGTH = 5000
TOKEN = re.compile(r"\\[A-Za-z]+\*?|\\.?|\d+(?:\.\d+)?|[A-Za-z]|\s+|.", re.S)

# The tables stay one line per family, not one line per entry:
# fmt: off
_LOWER = ("alpha", "beta", "gamma", "delta", "zeta", "eta", "theta", "iota", "kappa", "lambda",
          "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega")
_UPPER = ("Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi",
          "Omega")
GREEK = {name: unicodedata.lookup(f"GREEK SMALL LETTER {name.upper()}".replace("LAMBDA", "LAMDA"))
         for name in _LOWER}
GREEK.update({name: unicodedata.lookup(f"GREEK CAPITAL LETTER {name.upper()}".replace("LAMBDA", "LAMDA"))
              for name in _UPPER})
GREEK.update(epsilon="ε", varepsilon="ε", vartheta="ϑ", varphi="φ", varpi="ϖ", varrho="ϱ",
             varsigma="ς")
RELATIONS = {
    "cdot": "·", "times": "×", "odot": "⊙", "otimes": "⊗", "oplus": "⊕", "circ": "∘",
    "div": "÷", "pm": "±", "mp": "∓", "ast": "∗", "star": "⋆", "setminus": "∖", "cup": "∪",
    "cap": "∩", "land": "∧", "lor": "∨", "wedge": "∧", "vee": "∨", "mid": "|",
    "in": "∈", "notin": "∉", "ni": "∋", "subset": "⊂", "subseteq": "⊆", "supset": "⊃",
    "supseteq": "⊇", "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥", "ne": "≠", "neq": "≠",
    "approx": "≈", "sim": "∼", "simeq": "≃", "equiv": "≡", "propto": "∝", "ll": "≪", "gg": "≫",
    "perp": "⊥", "parallel": "∥", "to": "→", "rightarrow": "→", "leftarrow": "←", "gets": "←",
    "mapsto": "↦", "Rightarrow": "⇒", "implies": "⇒", "Leftarrow": "⇐", "Leftrightarrow": "⇔",
    "iff": "⇔", "uparrow": "↑", "downarrow": "↓", "coloneqq": ":=",
}
SIGNS = {
    "partial": "∂", "nabla": "∇", "sum": "∑", "prod": "∏", "int": "∫", "iint": "∬",
    "oint": "∮", "infty": "∞", "ldots": "…", "dots": "…", "cdots": "⋯", "vdots": "⋮",
    "ddots": "⋱", "top": "T", "intercal": "T", "forall": "∀", "exists": "∃", "neg": "¬",
    "lnot": "¬", "emptyset": "∅", "varnothing": "∅", "ell": "ℓ", "prime": "′", "dagger": "†",
    "hbar": "ℏ", "angle": "∠", "colon": ":", "vert": "|", "Vert": "‖", "|": "‖",
    "lvert": "|", "rvert": "|", "lVert": "‖", "rVert": "‖", "langle": "⟨", "rangle": "⟩",
    "lfloor": "⌊", "rfloor": "⌋", "lceil": "⌈", "rceil": "⌉", "backslash": "\\",
    "{": "{", "}": "}", "%": "%", "$": "$", "&": "&", "#": "#", "_": "_",
}
SPACES = {",": "\u2009", ":": "\u2005", ">": "\u2005", ";": "\u2005", "!": "", " ": " ",
          "\n": " ", "\t": " ",
          "quad": "\u2003", "qquad": "\u2003\u2003", "enspace": "\u2002"}
FUNCTIONS = ("log", "ln", "exp", "sin", "cos", "tan", "sinh", "cosh", "tanh", "max", "min",
             "arg", "det", "dim", "ker", "lim", "sup", "inf", "Pr", "softmax")
UNSPACED = ("(", "[", "^", "_", "\\left", "}", ")", "]", ",", ".", "&", "\\\\", "\\right", "\\end")
ACCENTS = {"hat": "\u0302", "widehat": "\u0302", "bar": "\u0304", "overline": "\u0304",
           "tilde": "\u0303", "widetilde": "\u0303", "dot": "\u0307", "ddot": "\u0308"}
BOLD = ("mathbf", "boldsymbol", "bm", "vec")  # \vec: bold, as the keys write vectors
UPRIGHT = ("mathrm", "mathsf", "mathtt")
TEXT = ("text", "textrm", "textnormal", "mbox", "textit", "textbf")
IGNORED = ("displaystyle", "textstyle", "limits", "nolimits")
SIZES = ("big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr", "biggl", "biggr",
         "Biggl", "Biggr")
DELIMITERS = {"(": "(", ")": ")", "[": "[", "]": "]", "|": "|", "/": "/", ".": "",
              "\\{": "{", "\\}": "}", "\\|": "‖", "\\langle": "⟨", "\\rangle": "⟩",
              "\\lvert": "|", "\\rvert": "|", "\\lVert": "‖", "\\rVert": "‖", "\\vert": "|",
              "\\Vert": "‖", "\\lfloor": "⌊", "\\rfloor": "⌋", "\\lceil": "⌈", "\\rceil": "⌉"}
MATRICES = {"matrix": "none", "pmatrix": "paren", "bmatrix": "bracket", "vmatrix": "bar",
            "Vmatrix": "double"}
OPENING = {"\\right": "\\left", "\\end": "\\begin"}
OPERATORS = {"+": "+", "-": "−", "=": "=", "<": "<", ">": ">", "*": "∗"}
PLAIN = {"'": "′", "~": "\u00a0"}
_EXCEPTIONS_BB = {"C": "ℂ", "H": "ℍ", "N": "ℕ", "P": "ℙ", "Q": "ℚ", "R": "ℝ", "Z": "ℤ"}
_EXCEPTIONS_CAL = {"B": "ℬ", "E": "ℰ", "F": "ℱ", "H": "ℋ", "I": "ℐ", "L": "ℒ", "M": "ℳ",
                   "R": "ℛ"}
# fmt: on
ALPHABETS = {  # \mathbb and \mathcal: capitals, small letters and digits as Unicode has them
    "mathbb": lambda c: _EXCEPTIONS_BB.get(c) or _shift(c, 0x1D538, 0x1D552, 0x1D7D8),
    "mathcal": lambda c: _EXCEPTIONS_CAL.get(c) or _shift(c, 0x1D49C, None, None),
}


def _shift(c: str, capital: int, small: int | None, digit: int | None) -> str:
    if "A" <= c <= "Z":
        return chr(capital + ord(c) - ord("A"))
    if small is not None and "a" <= c <= "z":
        return chr(small + ord(c) - ord("a"))
    if digit is not None and c.isdigit():
        return chr(digit + int(c))
    return c


class _Parser:
    def __init__(self, source: str, shown: str):
        self.shown = shown
        self.tokens = TOKEN.findall(source)
        self.i = 0
        self.depth = 0

    def fail(self, what: str) -> DefinitionError:
        return DefinitionError(f"{what} in '{self.shown}'")

    def peek(self) -> str | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> str | None:
        tok = self.peek()
        self.i += 1
        return tok

    def skip_space(self) -> None:
        while (tok := self.peek()) is not None and tok.isspace():
            self.i += 1

    def deeper(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(f"formula nested more than {MAX_DEPTH} deep")

    def formula(self) -> Row:
        items = self.items(stops=())
        if self.peek() == "}":
            raise self.fail("unbalanced braces")
        return items

    def items(self, stops: tuple) -> Row:
        """Items up to (not taking) one of ``stops``, or a closing brace, or the end."""
        items: list = []
        while (tok := self.peek()) is not None and tok not in stops and tok != "}":
            self.i += 1
            if tok in ("^", "_"):
                items.append(self.script(items.pop() if items else Text(""), tok))
            elif tok in ("&", "\\\\"):
                raise self.fail(f"'{tok}' outside a matrix")
            elif tok in ("+", "-") and _opens(items):  # a sign, not an operation: e^{-x}
                items.append(Text(OPERATORS[tok]))
            elif tok in OPENING:
                raise self.fail(f"{tok} without a matching {OPENING[tok]}")
            else:
                item = self.atom(tok)
                if item is not None:
                    items.append(item)
        return Row(tuple(items))

    def script(self, base, tok: str) -> Script:
        slot = "sup" if tok == "^" else "sub"
        arg = self.argument(f"'{tok}'")
        if not isinstance(base, Script):
            return Script(base, **{slot: arg})
        if getattr(base, slot) is not None:
            raise self.fail("double superscript" if slot == "sup" else "double subscript")
        return replace(base, **{slot: arg})

    def group(self):
        """After an opening brace: the items up to its closing brace."""
        self.deeper()
        row = self.items(stops=())
        if self.take() != "}":
            raise self.fail("unbalanced braces")
        self.depth -= 1
        return row.items[0] if len(row.items) == 1 else row

    def argument(self, of: str):
        self.skip_space()
        tok = self.take()
        if tok is None or tok == "}":
            raise self.fail(f"missing argument for {of}")
        if tok == "{":
            return self.group()
        if tok in ("^", "_", "&", "\\\\"):
            raise self.fail(f"missing argument for {of}")
        if tok[0].isdigit() and len(tok) > 1:  # as in TeX: \frac12 and x^12 take one digit
            self.i -= 1
            self.tokens[self.i] = tok[1:]
            tok = tok[0]
        self.deeper()
        item = self.atom(tok)
        self.depth -= 1
        return item if item is not None else Text("")

    def atom(self, tok: str):
        if tok.isspace():
            return None
        if tok == "{":
            return self.group()
        if tok[0].isdigit():
            return Num(tok)
        if tok.isalpha():
            return Sym(tok)
        if tok in OPERATORS:
            return Op(OPERATORS[tok])
        if tok in PLAIN:
            return Text(PLAIN[tok])
        if tok.startswith("\\"):
            return self.command(tok)
        if tok == "%":
            raise self.fail("unexpected '%' (a TeX comment; write \\% for a percent sign)")
        if tok in "#$":
            raise self.fail(f"unexpected '{tok}'")
        return Text(tok)

    def command(self, tok: str):
        name = tok[1:]
        if name in GREEK:
            return Sym(GREEK[name], upright=name[0].isupper())
        if name in RELATIONS:
            return Op(RELATIONS[name])
        if name in SIGNS:
            return Text(SIGNS[name])
        if name in SPACES:
            return Text(SPACES[name])
        if name in FUNCTIONS:
            return self.function(name)
        if name in ("operatorname", "operatorname*"):
            return self.function(_plain(self.argument(tok)))
        if name in ("frac", "dfrac", "tfrac", "cfrac"):
            return Frac(self.argument(tok), self.argument(tok))
        if name == "sqrt":
            return self.sqrt()
        if name in ACCENTS:
            return _accented(self.argument(tok), ACCENTS[name])
        if name in BOLD:
            return _map_syms(self.argument(tok), bold=True)
        if name in UPRIGHT:
            return _upright(self.argument(tok))
        if name in ALPHABETS:
            return Text("".join(map(ALPHABETS[name], _plain(self.argument(tok)))))
        if name in TEXT:
            return Text(self.text(tok))
        if name == "left":
            return self.left()
        if name in SIZES:
            return Text(self.delimiter(tok))
        if name == "begin":
            return self.matrix()
        if name in IGNORED:
            return None
        if name == "":
            raise self.fail("a lone \\ at the end")
        raise self.fail(f"unknown TeX command {tok}")

    def function(self, name: str) -> Text:
        # a thin space parts "log x", but not "log(x)", "max_i" or "(log)"
        self.skip_space()
        follows = self.peek()
        spaced = follows is not None and follows not in UNSPACED
        return Text(name + ("\u2009" if spaced else ""))

    def sqrt(self):
        self.skip_space()
        index = None
        if self.peek() == "[":
            self.i += 1
            self.deeper()
            index = self.items(stops=("]",))
            if self.take() != "]":
                raise self.fail("\\sqrt[ without its closing ]")
            self.depth -= 1
        radical = Radical(self.argument("\\sqrt"))  # as the key sets √u (typeset/formula.py)
        return radical if index is None else Row((Script(Text(""), sup=index), radical))

    def text(self, command: str) -> str:
        """The argument of \\text{…}: plain text, spaces kept, braces balanced."""
        if (self.skip_space(), self.take())[1] != "{":
            raise self.fail(f"{command} expects {{text}}")
        out, level = [], 1
        while True:
            tok = self.take()
            if tok is None:
                raise self.fail("unbalanced braces")
            if tok == "{":
                level += 1
            elif tok == "}":
                level -= 1
                if level == 0:
                    return "".join(out)
            elif tok.isspace():
                out.append(" ")
            elif tok.startswith("\\"):
                if tok[1:] not in SPACES and tok[1:] not in ("{", "}", "%", "$", "&", "#", "_"):
                    raise self.fail(f"unknown TeX command {tok} inside {command}")
                out.append(SPACES.get(tok[1:], tok[1:]))
            elif tok == "$":
                raise self.fail(f"math inside {command}")
            else:
                out.append(tok)

    def delimiter(self, command: str) -> str:
        self.skip_space()
        tok = self.take()
        if tok not in DELIMITERS:
            found = "nothing" if tok is None else f"'{tok}'"
            raise self.fail(f"{command} expects a delimiter such as ( [ | . , found {found}")
        return DELIMITERS[tok]

    def left(self) -> Paren:
        opening = self.delimiter("\\left")
        self.deeper()
        inner = self.items(stops=("\\right",))
        if self.take() != "\\right":
            raise self.fail(f"\\left{opening or '.'} without a matching \\right")
        self.depth -= 1
        return Paren(inner, opening, self.delimiter("\\right"))

    def environment_name(self, command: str) -> str:
        self.skip_space()
        if self.take() != "{":
            raise self.fail(f"{command} expects {{name}}")
        name = []
        while (tok := self.take()) != "}":
            if tok is None:
                raise self.fail("unbalanced braces")
            name.append(tok)
        return "".join(name).strip()

    def matrix(self) -> Grid:
        env = self.environment_name("\\begin")
        if env not in MATRICES:
            raise self.fail(f"unknown environment '{env}' (known: {', '.join(MATRICES)})")
        self.deeper()
        rows, cells = [], []
        while True:
            cells.append(self.items(stops=("&", "\\\\", "\\end")))
            tok = self.take()
            if tok == "&":
                continue
            if tok == "}":
                raise self.fail("unbalanced braces")
            if tok is None:
                raise self.fail(f"\\begin{{{env}}} without \\end{{{env}}}")
            rows.append(tuple(cells))
            cells = []
            if tok == "\\end":
                break
        end = self.environment_name("\\end")
        if end != env:
            raise self.fail(f"\\begin{{{env}}} ended by \\end{{{end}}}")
        self.depth -= 1
        if len(rows) > 1 and rows[-1] == (Row(),):  # a trailing \\ before \end
            rows.pop()
        width = max(len(r) for r in rows)
        rows = [r + (Row(),) * (width - len(r)) for r in rows]
        return Grid(tuple(rows), MATRICES[env])


def _opens(items: list) -> bool:
    """Whether what comes next starts an operand: at the start, after an operator or an
    opening bracket."""
    if not items:
        return True
    last = items[-1]
    return isinstance(last, Op) or (isinstance(last, Text) and last.text in ("(", "[", "{", ","))


def _map_syms(item, **changes):
    if isinstance(item, Sym):
        return replace(item, **changes)
    if isinstance(item, Row):
        return Row(tuple(_map_syms(i, **changes) for i in item.items))
    if isinstance(item, Script):
        return replace(item, base=_map_syms(item.base, **changes))
    return item


def _upright(item):
    """\\mathrm{mean} as the word; a formula inside with its letters upright."""
    parts = item.items if isinstance(item, Row) else (item,)
    if all(isinstance(p, (Sym, Num)) for p in parts):
        return Text(_plain(item))
    return _map_syms(item, upright=True)


def _accented(item, mark: str):
    if isinstance(item, Sym):
        if mark == "\u0302":
            return replace(item, hat=True)
        return replace(item, base=unicodedata.normalize("NFC", item.base + mark))
    if isinstance(item, (Num, Text)):
        return replace(item, text=unicodedata.normalize("NFC", item.text + mark))
    if isinstance(item, Row):
        return Row(tuple(_accented(i, mark) for i in item.items))
    if isinstance(item, Script):
        return replace(item, base=_accented(item.base, mark))
    return item


def _plain(item) -> str:
    if isinstance(item, Sym):
        return item.base
    if isinstance(item, (Num, Text, Op)):
        return item.text
    if isinstance(item, Row):
        return "".join(_plain(i) for i in item.items)
    return ""


def _shown(source: str, delimiter: str) -> str:
    inner = source if len(source) <= 40 else source[:40] + "…"
    return f"{delimiter}{inner}{delimiter}"


def parse_tex(source: str, delimiter: str = "$") -> Row:
    """A TeX-subset formula as a formula tree; DefinitionError for anything else.

    ``delimiter`` is how the formula was written (``$`` or ``$$``), for the message."""
    shown = _shown(source, delimiter)
    if len(source) > MAX_LENGTH:
        raise DefinitionError(f"formula longer than {MAX_LENGTH} characters in '{shown}'")
    return _Parser(source, shown).formula()
