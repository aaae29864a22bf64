"""Rendering details: notation, prompts, templates, figures."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from exgen.build.single import solve_sheet
from exgen.define.load import load_sheet
from exgen.errors import DefinitionError, TemplateProblem
from exgen.render.architecture_figure import architecture
from exgen.render.documents import render
from exgen.render.graph_figure import computational_graph
from exgen.render.network_layers import layers_of
from exgen.typeset.notation import Notation, name_symbol
from exgen.typeset.texmath import parse_tex

FIXTURE = (Path(__file__).parent / "fixtures" / "q3.yaml").read_text()


def load(tmp_path, text=FIXTURE, name="s.yaml"):
    path = tmp_path / name
    path.write_text(text)
    sheet = load_sheet(str(path))
    return sheet, solve_sheet(sheet)


@pytest.mark.parametrize(
    "name, rank, index, expected",
    [
        ("u1", 1, "sub", dict(base="u", sub="1", bold=True)),
        ("u1", 1, "sup", dict(base="u", sup="(1)", bold=True)),
        ("yhat", 1, "sub", dict(base="y", hat=True, bold=True)),
        ("y_hat", 0, "sub", dict(base="y", hat=True, bold=False)),
        ("net_h1", 0, "sub", dict(base="net", sub="h1", upright=True)),
        ("delta2", 0, "sub", dict(base="δ", sub="2")),
        ("W", 2, "sub", dict(base="W", bold=True)),
    ],
)
def test_names_as_symbols(name, rank, index, expected):
    sym = name_symbol(name, rank, index)
    for key, value in expected.items():
        assert getattr(sym, key) == value, key


def test_superscript_notation_in_the_key(tmp_path):
    sheet, traces = load(
        tmp_path,
        FIXTURE.replace(
            "course: Kognitive Systeme", "course: Kognitive Systeme\nnotation: {index: sup}"
        ),
    )
    key = render(sheet, traces).key_html
    assert (
        "<sup>(1)</sup>" in key and "<sub>1</sub>" not in key.split("<body")[1].split("Rounding")[0]
    )


def test_prompt_markdown_escapes_html_and_sets_math(tmp_path):
    text = FIXTURE.replace(
        "Perform both the forward",
        "<script>alert(1)</script> **Perform** $\\hat{y}_i = \\frac{1}{2}$ both the forward",
    )
    sheet, traces = load(tmp_path, text)
    html = render(sheet, traces).sheet_html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<strong>Perform</strong>" in html
    assert 'class="frac"' in html and "ŷ" in html


def test_tex_subset():
    f = parse_tex(r"\mathcal{L} = \frac{1}{2}\|\boldsymbol{y}\|^2")
    texts = repr(f)
    assert "ℒ" in texts and "Frac" in texts and "‖" in texts
    with pytest.raises(DefinitionError, match="unknown TeX command"):  # never shown as its name
        parse_tex(r"x \cdot \unknowncmd")


def test_custom_templates_override_defaults(tmp_path):
    folder = tmp_path / "mytemplates" / "partials"
    folder.mkdir(parents=True)
    (folder / "heading.html").write_text("<h2>Aufgabe {{ ex.number }}: {{ ex.title }}</h2>")
    sheet, traces = load(tmp_path, "templates: mytemplates\n" + FIXTURE)
    docs = render(sheet, traces)
    assert "<h2>Aufgabe 1: Backpropagation by hand</h2>" in docs.sheet_html
    assert "<h2>Aufgabe 1" in docs.key_html


def test_a_broken_template_is_reported_not_raised(tmp_path):
    folder = tmp_path / "t" / "partials"
    folder.mkdir(parents=True)
    (folder / "heading.html").write_text("<h2>{{ ex.no_such_field }}</h2>")
    sheet, traces = load(tmp_path, "templates: t\n" + FIXTURE)
    with pytest.raises(TemplateProblem, match="no_such_field"):
        render(sheet, traces)


def test_missing_template_folder(tmp_path):
    with pytest.raises(Exception, match="template folder 'nope' does not exist"):
        load(tmp_path, "templates: nope\n" + FIXTURE)


def svg(uri: str) -> str:
    return base64.b64decode(uri.split(",", 1)[1]).decode()


def test_architecture_of_the_skip_network(tmp_path):
    _sheet, traces = load(tmp_path)
    graph = traces[0].graph
    layers = {layer.name: layer for layer in layers_of(graph)}
    assert set(layers) == {"x", "z1", "z2", "y"}
    assert layers["z1"].inputs == [("x", "full", ["W1"])] and layers["z1"].activation == "relu"
    assert sorted(layers["y"].inputs) == [("z1", "full", ["W3"]), ("z2", "one", [])]
    assert [layers[n].depth for n in ("x", "z1", "z2", "y")] == [0, 1, 1, 2]
    picture = svg(architecture(graph, Notation(graph)).wide)
    assert picture.count("<circle") == 4 + 3 + 2 + 2


def test_computational_graph_nodes(tmp_path):
    _sheet, traces = load(tmp_path)
    graph = traces[0].graph
    forward = svg(computational_graph(graph, Notation(graph))[0])
    # 5 given values and 7 named results as boxes; 10 operations as ellipses
    assert forward.count("<rect") == 12 and forward.count("<ellipse") == 10
    backward = svg(computational_graph(graph, Notation(graph), backward=True)[0])
    grads = re.findall(r'stroke-dasharray="4 2"', backward)
    # ∂L/∂ for L, y, u3, z2, u2, z1, u1 and the three weights
    assert len(grads) == 10


def test_error_signals_as_deltas(tmp_path):
    sheet, traces = load(
        tmp_path,
        FIXTURE.replace(
            "course: Kognitive Systeme", "course: Kognitive Systeme\nnotation: {errors: delta}"
        ),
    )
    key = render(sheet, traces).key_html
    assert 'δ<sub><span class="mi b">u</span><sub>1</sub></sub>' in key  # δ of u₁
    assert '∂<span class="mi b">W</span><sub>1</sub>' in key  # ∂L/∂W₁ stays
