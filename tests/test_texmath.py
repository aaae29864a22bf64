"""Prompt TeX: every supported command typeset as HTML text, and everything else
refused with what was not understood (and, through the loader, the file, line and key path)."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from exgen.cli import main
from exgen.errors import DefinitionError
from exgen.typeset import texmath
from exgen.typeset.markdown import make_markdown
from exgen.typeset.mathhtml import escape, to_html
from exgen.typeset.texmath import parse_tex

SUPPORTED = [
    (r"\mathbb{R}^{n}", 'ℝ<sup><span class="mi">n</span></sup>'),
    (r"\mathbb{E}", "𝔼"),
    (r"\mathrm{d}x", 'd<span class="mi">x</span>'),
    (r"\mathrm{mean}", "mean"),
    (r"\text{if } x", 'if <span class="mi">x</span>'),
    (r"\operatorname{softmax}(z)", 'softmax(<span class="mi">z</span>)'),
    (r"\mathbf{W}", '<span class="mi b">W</span>'),
    (r"\boldsymbol{x}_1", '<span class="mi b">x</span><sub>1</sub>'),
    (
        r"\begin{pmatrix}1 & 2\\ 3 & 4\end{pmatrix}",
        '<span class="mat paren"><span class="grid"><span class="gr"><span class="gc">1</span><span class="gc">2</span></span><span class="gr"><span class="gc">3</span><span class="gc">4</span></span></span></span>',
    ),
    (
        r"\begin{bmatrix}a\\b\end{bmatrix}",
        '<span class="mat bracket"><span class="grid"><span class="gr"><span class="gc"><span class="mi">a</span></span></span><span class="gr"><span class="gc"><span class="mi">b</span></span></span></span></span>',
    ),
    (
        r"\begin{matrix}1\end{matrix}",
        '<span class="mat none"><span class="grid"><span class="gr"><span class="gc">1</span></span></span></span>',
    ),
    (
        r"\begin{vmatrix}x\end{vmatrix}",
        '<span class="mat bar"><span class="grid"><span class="gr"><span class="gc"><span class="mi">x</span></span></span></span></span>',
    ),
    (
        r"\begin{Vmatrix}x\end{Vmatrix}",
        '<span class="mat double"><span class="grid"><span class="gr"><span class="gc"><span class="mi">x</span></span></span></span></span>',
    ),
    (
        r"\frac{a}{b}",
        '<span class="frac"><span class="fn"><span class="mi">a</span></span><span class="fd"><span class="mi">b</span></span></span>',
    ),
    (
        r"\dfrac{1}{2}",
        '<span class="frac"><span class="fn">1</span><span class="fd">2</span></span>',
    ),
    (r"\frac12", '<span class="frac"><span class="fn">1</span><span class="fd">2</span></span>'),
    # a radical as the key sets it: the bar groups the radicand, no brackets
    (
        r"\sqrt{x}",
        '<span class="sqrt"><span class="rs">√</span><span class="rad"><span class="mi">x</span></span></span>',
    ),
    (
        r"\sqrt{x+1}",
        '<span class="sqrt"><span class="rs">√</span><span class="rad"><span class="mi">x</span>\xa0+\xa01</span></span>',
    ),
    (
        r"\sqrt[3]{x}",
        '<sup>3</sup><span class="sqrt"><span class="rs">√</span><span class="rad"><span class="mi">x</span></span></span>',
    ),
    (r"\left( x \right)", '(<span class="mi">x</span>)'),
    (r"\left[ x \right]", '[<span class="mi">x</span>]'),
    (r"\left\{ x \right\}", '{<span class="mi">x</span>}'),
    (r"\left| x \right|", '|<span class="mi">x</span>|'),
    (r"\left\| x \right\|", '‖<span class="mi">x</span>‖'),
    (r"\left\langle x \right\rangle", '⟨<span class="mi">x</span>⟩'),
    (r"\left. x \right|", '<span class="mi">x</span>|'),
    (r"\big( x \big)", '(<span class="mi">x</span>)'),
    (r"a \cdot b", '<span class="mi">a</span>\xa0·\xa0<span class="mi">b</span>'),
    (r"a \times b", '<span class="mi">a</span>\xa0×\xa0<span class="mi">b</span>'),
    (r"a \odot b", '<span class="mi">a</span>\xa0⊙\xa0<span class="mi">b</span>'),
    (r"\partial L", '∂<span class="mi">L</span>'),
    (r"\nabla f", '∇<span class="mi">f</span>'),
    (
        r"\sum_{i=1}^{n} x_i",
        '∑<span class="ss"><sup><span class="mi">n</span></sup><sub><span class="mi">i</span>\xa0=\xa01</sub></span><span class="mi">x</span><sub><span class="mi">i</span></sub>',
    ),
    (r"\prod_i", '∏<sub><span class="mi">i</span></sub>'),
    (r"\int_0^1", '∫<span class="ss"><sup>1</sup><sub>0</sub></span>'),
    (r"\infty", "∞"),
    (r"a \leq b", '<span class="mi">a</span>\xa0≤\xa0<span class="mi">b</span>'),
    (r"a \geq b", '<span class="mi">a</span>\xa0≥\xa0<span class="mi">b</span>'),
    (r"a \neq b", '<span class="mi">a</span>\xa0≠\xa0<span class="mi">b</span>'),
    (r"a \approx b", '<span class="mi">a</span>\xa0≈\xa0<span class="mi">b</span>'),
    (r"x \in X", '<span class="mi">x</span>\xa0∈\xa0<span class="mi">X</span>'),
    (r"x \to y", '<span class="mi">x</span>\xa0→\xa0<span class="mi">y</span>'),
    (
        r"\alpha \beta \Gamma \lambda \varepsilon",
        '<span class="mi">α</span><span class="mi">β</span><span class="mi up">Γ</span><span class="mi">λ</span><span class="mi">ε</span>',
    ),
    (
        r"x_{ij}^{2}",
        '<span class="mi">x</span><span class="ss"><sup>2</sup><sub><span class="mi">i</span><span class="mi">j</span></sub></span>',
    ),
    (r"W^\top", '<span class="mi">W</span><sup>T</sup>'),
    (r"\hat{y}", '<span class="mi">ŷ</span>'),
    (r"\bar{x}", '<span class="mi">x̄</span>'),
    (r"\tilde{x}", '<span class="mi">x̃</span>'),
    (r"\vec{v}", '<span class="mi b">v</span>'),
    (
        r"a\;b\,c\quad d",
        '<span class="mi">a</span>\u2005<span class="mi">b</span>\u2009<span class="mi">c</span>\u2003<span class="mi">d</span>',
    ),
    (r"\log x", 'log\u2009<span class="mi">x</span>'),
    (r"\log(x)", 'log(<span class="mi">x</span>)'),
    (r"\mathcal{L}", "ℒ"),
    (r"f'(x)", '<span class="mi">f</span>′(<span class="mi">x</span>)'),
    (r"\|x\|^2", '‖<span class="mi">x</span>‖<sup>2</sup>'),
    (r"a - b", '<span class="mi">a</span>\xa0−\xa0<span class="mi">b</span>'),
    (r"e^{-x}", '<span class="mi">e</span><sup>−<span class="mi">x</span></sup>'),
    (r"-a + (-b)", '−<span class="mi">a</span>\xa0+\xa0(−<span class="mi">b</span>)'),
]


@pytest.mark.parametrize("tex, html", SUPPORTED, ids=[t for t, _ in SUPPORTED])
def test_supported_command(tex, html):
    assert str(to_html(parse_tex(tex))) == html


A, B = '<span class="mi">a</span>', '<span class="mi">b</span>'
EVERY_TABLE_ENTRY = (
    [(f"a \\{n} b", f"{A}\xa0{escape(g)}\xa0{B}") for n, g in texmath.RELATIONS.items()]
    + [(f"\\{n}", escape(g)) for n, g in texmath.SIGNS.items()]
    + [(f"a\\{n} b", f"{A}{g}{B}") for n, g in texmath.SPACES.items()]
    + [
        (f"\\{n}", f'<span class="mi{" up" if n[0].isupper() else ""}">{g}</span>')
        for n, g in texmath.GREEK.items()
    ]
    + [(f"\\{n} a", f"{n}\u2009{A}") for n in texmath.FUNCTIONS]
    + [(f"\\{n}{{b}}", '<span class="mi b">b</span>') for n in texmath.BOLD]
    + [(f"\\{n}{{ab}}", "ab") for n in texmath.UPRIGHT + texmath.TEXT]
    + [(f"\\{n}{{b}}", '<span class="mi">b' + m + "</span>") for n, m in texmath.ACCENTS.items()]
    + [(f"\\{n}{{R}}", {"mathbb": "ℝ", "mathcal": "ℛ"}[n]) for n in texmath.ALPHABETS]
    + [(f"\\{n} a", A) for n in texmath.IGNORED]
    + [(f"\\{n}( a \\{n})", f"({A})") for n in texmath.SIZES]
    + [
        (f"\\left{d} a \\right{d}", f"{g}{A}{g}")
        for d, g in texmath.DELIMITERS.items()
        if d not in ("(", ")", "[", "]")
    ]
)


@pytest.mark.parametrize("tex, html", EVERY_TABLE_ENTRY, ids=[t for t, _ in EVERY_TABLE_ENTRY])
def test_every_table_entry(tex, html):
    assert str(to_html(parse_tex(tex))) == unicodedata.normalize("NFC", html)


REFUSED = [
    (r"\foo", r"unknown TeX command \foo in '$\foo$'"),
    (r"\frac{1}{", r"unbalanced braces in '$\frac{1}{$'"),
    (r"x}", "unbalanced braces in '$x}$'"),
    (r"\frac{1}", r"missing argument for \frac in '$\frac{1}$'"),
    (r"x^", "missing argument for '^' in '$x^$'"),
    (r"a^b^c", "double superscript in '$a^b^c$'"),
    (r"a_b_c", "double subscript in '$a_b_c$'"),
    (r"\left( x", r"\left( without a matching \right in '$\left( x$'"),
    (r"x \right)", r"\right without a matching \left in '$x \right)$'"),
    (
        r"\left< x \right>",
        r"\left expects a delimiter such as ( [ | . , found '<' in '$\left< x \right>$'",
    ),
    (r"x & y", "'&' outside a matrix in '$x & y$'"),
    (r"x \\ y", r"'\\' outside a matrix in '$x \\ y$'"),
    (
        r"\begin{cases}x\end{cases}",
        "unknown environment 'cases' (known: matrix, pmatrix, "
        r"bmatrix, vmatrix, Vmatrix) in '$\begin{cases}x\end{cases}$'",
    ),
    (
        r"\begin{pmatrix}1\end{bmatrix}",
        r"\begin{pmatrix} ended by \end{bmatrix} in '$\begin{pmatrix}1\end{bmatrix}$'",
    ),
    (r"\begin{pmatrix}1", r"\begin{pmatrix} without \end{pmatrix} in '$\begin{pmatrix}1$'"),
    (r"\text{a \foo}", r"unknown TeX command \foo inside \text in '$\text{a \foo}$'"),
    (r"\text x", r"\text expects {text} in '$\text x$'"),
    (r"\sqrt[3", r"\sqrt[ without its closing ] in '$\sqrt[3$'"),
    ("50%", r"unexpected '%' (a TeX comment; write \% for a percent sign) in '$50%$'"),
    ("{" * 1500 + "}" * 1500, "formula nested more than 40 deep in '$" + "{" * 40 + "…$'"),
    (r"\frac" * 900 + "12", "formula nested more than 40 deep in '$" + r"\frac" * 8 + "…$'"),
    ("x" * 5001, "formula longer than 5000 characters in '$" + "x" * 40 + "…$'"),
]


@pytest.mark.parametrize("tex, message", REFUSED, ids=range(len(REFUSED)))
def test_refused(tex, message):
    with pytest.raises(DefinitionError) as caught:
        parse_tex(tex)
    assert caught.value.message == message


def test_a_lone_backslash_is_refused():
    with pytest.raises(DefinitionError, match=r"^a lone \\ at the end in '\$x \\\$'$"):
        parse_tex("x \\")


MARKDOWN = make_markdown(lambda f: str(to_html(f)))


def test_display_math_is_a_centred_block_also_inside_a_paragraph():
    assert MARKDOWN("Let $$x$$ be") == (
        '<p>Let <span class="math display"><span class="mi">x</span></span> be</p>\n'
    )
    assert MARKDOWN("Let\n\n$$\nx\n$$\n") == (
        '<p>Let</p>\n<div class="math display"><span class="mi">x</span></div>\n'
    )
    assert (
        MARKDOWN("and $x$.") == '<p>and <span class="math"><span class="mi">x</span></span>.</p>\n'
    )


def test_display_math_is_named_as_written():
    with pytest.raises(DefinitionError) as caught:
        MARKDOWN("Let $$\\mathbb{R} \\foo$$ be")
    assert caught.value.message == r"unknown TeX command \foo in '$$\mathbb{R} \foo$$'"


DEFINITION = """title: t
intro: |
  Fine: $x \\in \\mathbb{R}$.
exercises:
  - id: e
    title: e
    prompt: >
      Let $x \\in \\mathbb{R}$ and
      $\\frac{1}{$.
    network:
      equations: ["h = relu(w * x)", "L = 0.5 * (h - t) ** 2"]
      loss: L
      params: [w]
    values: {w: 0.5, x: -2, t: 1}
    ask: [backward]
"""


def build(tmp_path: Path, text: str, monkeypatch):
    (tmp_path / "exercises").mkdir()
    (tmp_path / "exercises" / "d.yaml").write_text(text)
    monkeypatch.chdir(tmp_path)
    return CliRunner().invoke(main, ["build", "d", "--no-pdf"])


def test_the_loader_names_file_line_and_key_path(tmp_path, monkeypatch):
    result = build(tmp_path, DEFINITION, monkeypatch)
    assert result.exit_code == 2
    assert result.stderr == (
        "error: exercises/d.yaml:7: exercises[0].prompt: unbalanced braces in '$\\frac{1}{$'\n"
    )
    assert not (tmp_path / "out").exists()


def test_the_intro_is_checked_too(tmp_path, monkeypatch):
    text = DEFINITION.replace("Fine: $x", "Fine: $\\operatorname{softmax}(x) \\oops x").replace(
        "$\\frac{1}{$", "$\\frac{1}{2}$"
    )
    result = build(tmp_path, text, monkeypatch)
    assert result.exit_code == 2
    assert result.stderr == (
        "error: exercises/d.yaml:2: intro: unknown TeX command \\oops in "
        "'$\\operatorname{softmax}(x) \\oops x \\in \\m…$'\n"
    )


def test_supported_prompt_math_builds(tmp_path, monkeypatch):
    # (\\mathbb{R} left out: a character beyond the everyday font cut costs a second)
    text = DEFINITION.replace("\\mathbb{R}", "X").replace(
        "$\\frac{1}{$", "$$\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}$$"
    )
    result = build(tmp_path, text, monkeypatch)
    assert result.exit_code == 0, result.output
    html = (tmp_path / "out" / "d" / "sheet.html").read_text()
    visual = '<span aria-hidden="true"><span class="mat paren"><span class="grid">'
    assert '<span class="math display"><math class="sr-only">' in html and visual in html


PIECES = [
    "x",
    "1",
    "2.5",
    " ",
    "{",
    "}",
    "^",
    "_",
    "&",
    "\\\\",
    "\\frac",
    "\\sqrt",
    "[",
    "]",
    "\\left(",
    "\\right)",
    "\\left",
    "\\right",
    "\\begin{pmatrix}",
    "\\end{pmatrix}",
    "\\begin{foo}",
    "\\end{bmatrix}",
    "\\text{",
    "\\mathbb",
    "\\hat",
    "\\alpha",
    "\\foo",
    "\\",
    "+",
    "-",
    "=",
    "(",
    ")",
    "'",
    "%",
    "$",
    "\\,",
    "\\operatorname",
    "\\big",
]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=40))
def test_any_input_is_typeset_or_refused_with_a_message(pieces):
    source = "".join(pieces)
    try:
        formula = parse_tex(source)
    except DefinitionError as exc:
        assert exc.message.endswith(f"in '${source[:40]}{'…' if len(source) > 40 else ''}$'")
        return
    assert isinstance(str(to_html(formula)), str)
