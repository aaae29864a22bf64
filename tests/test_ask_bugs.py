"""Bugs of the asks (issue 9, item 5), each pinned by a test that failed before its fix."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from exgen.cli import main

Q3 = (Path(__file__).parent / "fixtures" / "q3.yaml").read_text()  # seed 002, question 3
F = "exercises/bad.yaml"


def edit(old, new, text=Q3):
    assert old in text, old
    return text.replace(old, new, 1)


def run(tmp_path, monkeypatch, text, name="bad"):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "exercises").mkdir(exist_ok=True)
    (tmp_path / "exercises" / f"{name}.yaml").write_text(text)
    return CliRunner().invoke(main, ["build", name, "--no-pdf"])


def line_of(text, needle):
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


# symbolic with a vector or matrix `wrt` ---------------------------------------------


def test_symbolic_refuses_a_matrix_wrt(tmp_path, monkeypatch):
    text = edit("ask: [forward, backward]", "ask: [forward, symbolic: {of: L, wrt: W2}]")
    result = run(tmp_path, monkeypatch, text)
    assert result.exit_code == 2, result.output
    assert result.output.strip() == (
        f"error: {F}:{line_of(text, 'ask:')}: exercises[0].ask[1].symbolic.wrt: 'W2' is a 2×4 matrix; "
        "symbolic works for one scalar weight: name one, e.g. define w13 as a value"
    )


def test_symbolic_refuses_a_vector_wrt(tmp_path, monkeypatch):
    text = edit("ask: [forward, backward]", "ask: [symbolic: {of: L, wrt: x}]")
    result = run(tmp_path, monkeypatch, text)
    assert result.exit_code == 2, result.output
    assert (
        "exercises[0].ask[0].symbolic.wrt: 'x' is a vector of length 4; symbolic works "
        "for one scalar weight" in result.output
    )


# no empty headings -------------------------------------------------------------------


def headings_with_nothing_under(html: str) -> list[str]:
    """<h3> headings directly followed by another heading or the end of their block."""
    body = re.sub(r"\s+", " ", html)
    return re.findall(r"<h3>([^<]*)</h3> ?(?=<h[23]|</section>|</div>)", body)


def test_update_alone_shows_the_work_it_needs(tmp_path, monkeypatch):
    result = run(
        tmp_path, monkeypatch, edit("ask: [forward, backward]", "ask: [update: {lr: 0.1}]")
    )
    assert result.exit_code == 0, result.output
    key = (tmp_path / "out" / "bad" / "key.html").read_text()
    assert headings_with_nothing_under(key) == []
    assert "<h3>Forward pass</h3>" in key and "<h3>Backward pass</h3>" in key
    assert "One gradient-descent step" in key


@pytest.mark.parametrize(
    "ask",
    [
        "forward",
        "backward",
        "gradients: [W1]",
        "update: {lr: 0.1}",
        "numeric_check",
        "param_count",
        "pytorch",
        "graph",
        "graph_backward",
        "symbolic: {of: L, wrt: w}",
    ],
)
def test_no_ask_alone_leaves_an_empty_heading(tmp_path, monkeypatch, ask):
    text = edit("ask: [forward, backward]", f"ask: [{ask}]")
    if "symbolic" in ask:  # the chain rule for one scalar weight w
        text = edit("y = u3 + z2", "y = w * u3 + z2", text)
        text = edit("x: [1, 2, 3, 4]", "x: [1, 2, 3, 4]\n      w: 0.5", text)
    result = run(tmp_path, monkeypatch, text)
    assert result.exit_code == 0, result.output
    for doc in ("key.html", "sheet.html"):
        html = (tmp_path / "out" / "bad" / doc).read_text()
        assert headings_with_nothing_under(html) == [], doc


# softmax with cross-entropy over a batch ---------------------------------------------

BATCH = """\
title: t
exercises:
  - id: ce
    title: Softmax over a batch
    network:
      equations:
        - p = softmax(h)
        - L = -sum(y * log(p)) / 2
      loss: L
      params: [h]
    values:
      h: [[2, 0.5], [1, 1], [0.1, -1]]
      y: [[0, 1], [1, 0], [0, 0]]
    ask: [softmax_ce]
    rounding: {digits: 4}
"""


def test_softmax_ce_over_a_mean_says_one_over_n(tmp_path, monkeypatch):
    result = run(tmp_path, monkeypatch, BATCH, "ce")
    assert result.exit_code == 0, result.output
    out = tmp_path / "out" / "ce"
    key = (out / "key.html").read_text()
    text = re.sub(r"<[^>]+>", "", key).replace("\u00a0", " ")
    assert "Softmax with cross-entropy, mean over N = 2 samples: ∂L/∂hi = (P(y = i) − yi)/N" in text
    assert "the mean over the N = 2 samples n" in text  # the derivation says where 1/N comes from
    data = json.loads((out / "key.json").read_text())["exercises"]["ce"]
    entry = data["asks"]["softmax_ce"]
    assert entry["N"] == 2
    # the block's result is backpropagation's gradient w.r.t. h, as printed
    assert entry["delta"]["shown"] == data["grads"]["h"]["shown"]
    sheet = re.sub(r"<[^>]+>", "", (out / "sheet.html").read_text())
    assert "over the N = 2 samples" in sheet


def test_softmax_ce_of_one_sample_keeps_p_minus_y(tmp_path, monkeypatch):
    text = (
        BATCH.replace(" / 2", "")
        .replace("[[2, 0.5], [1, 1], [0.1, -1]]", "[2, 1, 0.1]")
        .replace("[[0, 1], [1, 0], [0, 0]]", "[0, 1, 0]")
    )
    result = run(tmp_path, monkeypatch, text, "ce")
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "out" / "ce" / "key.json").read_text())["exercises"]["ce"]
    assert data["asks"]["softmax_ce"]["N"] == 1
    assert data["asks"]["softmax_ce"]["delta"]["shown"] == data["grads"]["h"]["shown"]


# parameters that are not declared; gradients of any given value ----------------------

NO_PARAMS = edit("      params: [W1, W2, W3]\n", "")


@pytest.mark.parametrize(
    "ask, index",
    [
        ("backward", 1),
        ("update: {lr: 0.1}", 1),
        ("numeric_check", 1),
        ("param_count", 1),
        ("pytorch", 1),
    ],
)
def test_an_ask_that_needs_parameters_names_the_fix(tmp_path, monkeypatch, ask, index):
    text = edit("ask: [forward, backward]", f"ask: [forward, {ask}]", NO_PARAMS)
    result = run(tmp_path, monkeypatch, text)
    assert result.exit_code == 2, result.output
    name = ask.split(":")[0]
    assert result.output.strip() == (
        f"error: {F}:{line_of(text, 'ask:')}: exercises[0].ask[{index}]: {name} needs the parameters: "
        "add network.params: [W1, W2, W3]"
    )


@pytest.mark.parametrize("wanted", ["[W1]", "[x]", "[x, W3]"])
def test_gradients_of_any_given_value(tmp_path, monkeypatch, wanted):
    text = edit("ask: [forward, backward]", f"ask: [gradients: {wanted}]", NO_PARAMS)
    result = run(tmp_path, monkeypatch, text)
    assert result.exit_code == 0, result.output
    key = (tmp_path / "out" / "bad" / "key.html").read_text()
    data = json.loads((tmp_path / "out" / "bad" / "key.json").read_text())["exercises"]["q3"]
    for name in wanted.strip("[]").split(", "):
        # dL/dx = W1ᵀ(...) + W2ᵀ(...): the key shows the value key.json has
        for text_ in _flat(data["grads"][name]["shown"]):
            assert text_.replace("-", "−") in key
    assert headings_with_nothing_under(key) == []


def _flat(x):
    if isinstance(x, list):
        for item in x:
            yield from _flat(item)
    else:
        yield x


@pytest.mark.parametrize(
    "ask, message",
    [
        ("gradients", "ask[0].gradients: expected a list of names, e.g. [W1, b1], found nothing"),
        ("gradients: []", "ask[0].gradients: expected a list of names, e.g. [W1, b1], found []"),
        ("gradients: [W1, 3]", "ask[0].gradients[1]: expected a text, found int"),
        ("gradients: [zz]", "ask[0].gradients[0]: 'zz' is not a value of the network"),
        ("forward: {a: 1}", "ask[0].forward: 'forward' takes no options"),
    ],
)
def test_ask_options_are_read_by_the_asks_own_model(tmp_path, monkeypatch, ask, message):
    text = edit("ask: [forward, backward]", f"ask: [{ask}]")
    result = run(tmp_path, monkeypatch, text)
    assert result.exit_code == 2, result.output
    assert result.output.strip() == f"error: {F}:{line_of(text, 'ask:')}: exercises[0].{message}"


LAYERS = """\
title: t
exercises:
  - id: a
    title: The softmax layer of a batch
    network:
      layers: [{units: 3}]
      loss: softmax_ce
      layout: row
    values:
      x: [[1, 2], [0.5, -1]]
      t: [[0, 1, 0], [1, 0, 0]]
      W1: [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]
      B1: [0.1, 0.1, 0.1]
    ask: [softmax_ce]
  - id: b
    title: A mean over every entry
    network:
      equations: [p = softmax(h), L = -mean(y * log(p))]
      loss: L
    values:
      h: [[2, 0.5], [1, 1], [0.1, -1]]
      y: [[0, 1], [1, 0], [0, 0]]
    ask: [softmax_ce]
"""


def test_softmax_ce_finds_n_in_the_layers_form_and_in_a_mean(tmp_path, monkeypatch):
    result = run(tmp_path, monkeypatch, LAYERS, "ce")
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "out" / "ce" / "key.json").read_text())["exercises"]
    assert data["a"]["asks"]["softmax_ce"]["N"] == 2  # -sum(t * log(p)) / 2, by rows
    assert data["a"]["asks"]["softmax_ce"]["delta"]["shown"] == data["a"]["grads"]["u1"]["shown"]
    assert data["b"]["asks"]["softmax_ce"]["N"] == 6  # mean over 3 classes × 2 samples
    assert data["b"]["asks"]["softmax_ce"]["delta"]["shown"] == data["b"]["grads"]["h"]["shown"]
    sheet = re.sub(r"<[^>]+>", "", (tmp_path / "out" / "ce" / "sheet.html").read_text())
    assert "its mean over the N = 2 samples, is (P(y = i) − yi)/N" in sheet
    assert "the sum divided by N = 6, is (P(y = i) − yi)/N" in sheet
