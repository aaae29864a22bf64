"""Brackets come from precedence: any term tree printed as LaTeX and parsed back is the
same tree (a missing bracket changes the parse). The parser below reads exactly the LaTeX
subset exgen writes; operations' LaTeX spellings come from the registry."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exgen.engine.ops import REGISTRY
from exgen.typeset.formula import Sym
from exgen.typeset.latex import latex
from exgen.typeset.spell import AXIS_LETTERS, spell
from exgen.typeset.terms import Apply, Leaf, Symbol, apply, leaf

SYMBOLS = [
    Symbol(Sym("a"), "a", 0),
    Symbol(Sym("x", bold=True), "x", 1),
    Symbol(Sym("W", sub="1", bold=True), "W1", 2),
]
NUMBERS = ["0.5", "-1.96", "3", "-4", "0.25", "-0.10", "2.00", "0"]
MATRICES = [(("1", "-2"), ("0.5", "3")), (("1",), ("-2",)), (("-0.25", "4"),)]
FUNCTIONS = sorted(n for n, op in REGISTRY.items() if op.spelling.kind == "func")
RADICALS = sorted(n for n, op in REGISTRY.items() if op.spelling.kind == "radical")
LAYOUT = "column"


def normal(t):
    """−(a number) is the negative number: both print alike."""
    if isinstance(t, Apply):
        args = tuple(normal(a) for a in t.args)
        if (
            t.op == "neg"
            and isinstance(args[0], Leaf)
            and args[0].rank == 0
            and not args[0].negative
        ):
            return leaf("-" + args[0].scalar)
        return Apply(t.op, args, t.kwargs, t.style)
    return t


atoms = st.one_of(
    st.sampled_from(SYMBOLS),
    st.sampled_from(NUMBERS).map(leaf),
    st.sampled_from(MATRICES).map(lambda m: Leaf(m, 1 if len(m[0]) == 1 else 2)),
)


def _compound(children):
    binary = st.tuples(st.sampled_from(["add", "sub", "div", "matmul"]), children, children).map(
        lambda t: apply(t[0], t[1], t[2])
    )
    product = st.tuples(children, children, st.booleans()).map(
        lambda t: apply("mul", t[0], t[1], style="scalar" if t[2] else "")
    )
    unary = st.tuples(
        st.sampled_from(FUNCTIONS + RADICALS + ["neg", "transpose", "mean"]), children
    ).map(lambda t: apply(t[0], t[1]))
    power = st.tuples(children, st.sampled_from(["2", "3"])).map(
        lambda t: apply("pow", t[0], leaf(t[1]))
    )
    total = st.tuples(children, st.sampled_from([None, 0, 1])).map(
        lambda t: apply("sum", t[0]) if t[1] is None else apply("sum", t[0], axis=t[1])
    )
    return st.one_of(binary, product, unary, power, total)


terms = st.recursive(atoms, _compound, max_leaves=8)


# --- a parser for exgen's LaTeX ------------------------------------------------------
TOKEN = re.compile(
    r"""\s*(
    \\begin\{bmatrix\}.*?\\end\{bmatrix\} | \\left\( | \\right\) | \\frac | \\cdot | \\odot
  | \\, | \\sum(?:_\{[kn]\})? | \\operatorname\{[^}]*\} | \\mathbf\{[^}]*\}(?:_\{[^}]*\})?
  | \\top | \\[a-z]+ | \d+(?:\.\d+)? | [-+{}^a-z]
)""",
    re.VERBOSE,
)
LATEX_NAMES = {REGISTRY[n].spelling.latex: n for n in FUNCTIONS + ["mean"]}
RADICAL_NAMES = {REGISTRY[n].spelling.latex: n for n in RADICALS}  # \sqrt{…}
SYMBOL_LATEX = {latex(s.formula): s for s in SYMBOLS}


def tokenize(text: str) -> list[str]:
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = TOKEN.match(text, pos)
        assert m and m.end() > pos, f"cannot read {text[pos:]!r}"
        out.append(m.group(1))
        pos = m.end()
    return out


class Parser:
    def __init__(self, text: str):
        self.tokens = tokenize(text)
        self.i = 0

    def peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, expected=None):
        tok = self.peek()
        assert expected is None or tok == expected, f"expected {expected}, found {tok}"
        self.i += 1
        return tok

    def parse(self):
        t = self.sum()
        assert self.peek() is None, f"left over: {self.tokens[self.i :]}"
        return t

    def sum(self):
        t = self.product(first=True)
        while self.peek() in ("+", "-"):
            op = "add" if self.take() == "+" else "sub"
            t = apply(op, t, self.product(first=False))
        return t

    def product(self, first: bool):
        """A minus sign may open an expression, never follow another sign: 1.90 − −0.10
        and 0.50 · −1.96 are refused, as a reader would stumble on them."""
        t = self.unary(first)
        while self.peek() in (r"\cdot", r"\odot", r"\,"):
            tok = self.take()
            right = self.unary(False)
            t = (
                apply("matmul", t, right)
                if tok == r"\,"
                else apply("mul", t, right, style="scalar" if tok == r"\cdot" else "")
            )
        return t

    def unary(self, minus_allowed: bool):
        if self.peek() == "-":
            assert minus_allowed, f"a minus sign after a sign at {self.tokens[self.i - 1 :]}"
            self.take()
            start = self.i
            inner = self.unary(False)
            if isinstance(inner, Leaf) and inner.rank == 0 and self.i == start + 1:
                return leaf("-" + inner.scalar)  # a negative number
            return apply("neg", inner)
        return self.postfix()

    def postfix(self):
        t = self.primary()
        while self.peek() == "^":
            self.take()
            self.take("{")
            tok = self.take()
            t = apply("transpose", t) if tok == r"\top" else apply("pow", t, leaf(tok))
            self.take("}")
        return t

    def group(self):
        tok = self.peek()
        if tok == r"\left(":
            self.take()
            t = self.sum()
            self.take(r"\right)")
            return t
        if tok.startswith(r"\begin"):
            return self.primary()
        raise AssertionError(f"expected an argument, found {tok}")

    def primary(self):
        tok = self.take()
        if tok == "{":  # a script's base: TeX's braces are invisible, so one unit only
            t = self.postfix()
            self.take("}")
            return t
        if tok == r"\left(":
            self.i -= 1
            return self.group()
        if tok.startswith(r"\begin"):
            body = tok[len(r"\begin{bmatrix}") : -len(r"\end{bmatrix}")]
            rows = tuple(tuple(c.strip() for c in r.split("&")) for r in body.split(r"\\"))
            return Leaf(rows, 1 if len(rows[0]) == 1 else 2)
        if tok == r"\frac":
            self.take("{")
            num = self.sum()
            self.take("}")
            self.take("{")
            den = self.sum()
            self.take("}")
            return apply("div", num, den)
        if tok.startswith(r"\sum"):
            axis = None if tok == r"\sum" else AXIS_LETTERS[LAYOUT].index(tok[-2])
            arg = (
                self.group()
                if self.peek() == r"\left(" or self.peek().startswith(r"\begin")
                else self.postfix()
            )
            return apply("sum", arg) if axis is None else apply("sum", arg, axis=axis)
        if tok in RADICAL_NAMES:
            self.take("{")
            t = self.sum()
            self.take("}")
            return apply(RADICAL_NAMES[tok], t)
        if tok in LATEX_NAMES:
            return apply(LATEX_NAMES[tok], self.group())
        if tok in SYMBOL_LATEX:
            return SYMBOL_LATEX[tok]
        if re.fullmatch(r"\d+(\.\d+)?", tok):
            return leaf(tok)
        raise AssertionError(f"unexpected {tok!r}")


def printed(term) -> str:
    return latex(spell(term, LAYOUT))


@settings(max_examples=400, deadline=None)
@given(terms)
def test_printing_and_parsing_back_gives_the_same_tree(term):
    assert Parser(printed(term)).parse() == normal(term), printed(term)


@pytest.mark.parametrize("text", [r"1.90 - -0.10", r"0.50 \cdot -1.96", r"--4", r"a + -a"])
def test_the_parser_refuses_a_minus_after_a_sign(text):
    with pytest.raises(AssertionError, match="a minus sign after a sign"):
        Parser(text).parse()


def test_a_missing_bracket_changes_the_parse():
    """The property has teeth: −7.00² (as printed before) is not (−7.00)²."""
    assert Parser(r"-{7.00}^{2}").parse() == apply("neg", apply("pow", leaf("7.00"), leaf("2")))
    assert Parser(r"2 - 3 - 4").parse() == apply(
        "sub", apply("sub", leaf("2"), leaf("3")), leaf("4")
    )
    assert Parser(r"2 - \left(3 - 4\right)").parse() == apply(
        "sub", leaf("2"), apply("sub", leaf("3"), leaf("4"))
    )


def test_the_brackets_issue_9_names():
    assert printed(apply("pow", leaf("-7.00"), leaf("2"))) == r"{\left(-7.00\right)}^{2}"
    assert (
        printed(apply("mul", leaf("0.50"), leaf("-1.96"), style="scalar"))
        == r"0.50 \cdot \left(-1.96\right)"
    )
    assert printed(apply("sub", leaf("1.90"), leaf("-0.10"))) == r"1.90 - \left(-0.10\right)"
    assert printed(apply("neg", leaf("-4"))) == r"-\left(-4\right)"
    assert printed(apply("pow", apply("sqrt", leaf("2")), leaf("2"))) == (
        r"{\left(\sqrt{2}\right)}^{2}"
    )
    a = SYMBOLS[0]
    assert printed(apply("add", a, apply("neg", a))) == r"a + \left(-a\right)"
