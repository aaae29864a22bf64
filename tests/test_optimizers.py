"""The update ask's optimizers (issue 12): one SGD, momentum and Adam step against
torch.optim in float64 with the previous state loaded, SGD and momentum against exact
rationals, every printed line checked, and bad options refused with exact messages."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from exgen.asks.update import update
from exgen.build.single import solve_sheet
from exgen.cli import main
from exgen.define.load import load_sheet

ROOT = Path(__file__).parents[1]
F = "exercises/bad.yaml"

LAYER = """\
title: One layer, one optimizer step
course: Test
rounding: {digits: 4, carry: CARRY}
exercises:
  - id: e1
    title: A layer
    points: 1
    prompt: One step.
    network:
      equations:
        - z = W @ x + b
        - L = 0.5 * sum((z - t) ** 2)
      loss: L
      params: [W, b]
    values:
      x: [1, -2]
      t: [0.5, 1]
      W: [[0.5, -0.25], [0.75, 1]]
      b: [0.1, -0.2]
      STATE
    ask: [update: {lr: 0.1, optimizer: OPTIMIZER}]
"""
MOMENTUM_STATE = "v_W: [[0.1, 0.2], [-0.3, 0.4]]\n      v_b: [0.05, -0.05]"
ADAM_STATE = (
    "m_W: [[0.1, 0.2], [-0.3, 0.4]]\n      v_W: [[0.01, 0.02], [0.03, 0.04]]\n"
    "      m_b: [0.05, -0.05]\n      v_b: [0.001, 0.002]"
)
ADAM = "{adam: {beta1: 0.8, beta2: 0.9, eps: 0.001, t: 2}}"


def layer(optimizer: str, state: str, carry: bool = False) -> str:
    return (
        LAYER.replace("OPTIMIZER", optimizer)
        .replace("STATE", state)
        .replace("CARRY", "true" if carry else "false")
    )


def solved(path: Path):
    sheet = load_sheet(str(path))
    traces = solve_sheet(sheet)
    return [(ex, t, dict(ex.asks)["update"]) for ex, t in zip(sheet.exercises, traces)]


def stepped(path: Path):
    return [(ex, t, update(ex, t, o.lr, o.optimizer)) for ex, t, o in solved(path)]


@pytest.fixture
def sheet_dir(tmp_path, monkeypatch):
    (tmp_path / "exercises").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def written(sheet_dir: Path, text: str) -> Path:
    path = sheet_dir / F
    path.write_text(text)
    return path


def floats(a) -> np.ndarray:
    return np.asarray(a, dtype=float)


# against torch.optim -------------------------------------------------------------------


def _torch_step(torch, optimizer, lr, rows):
    """torch.optim's step on tensors holding the key's parameters and gradients, with the
    previous state loaded; (new parameters, new state by role) per row."""
    params = []
    for r in rows:
        p = torch.tensor(floats(r.old), dtype=torch.float64, requires_grad=True)
        p.grad = torch.tensor(floats(r.grad), dtype=torch.float64)
        params.append(p)
    if optimizer.name == "sgd":
        opt = torch.optim.SGD(params, lr=lr)
    elif optimizer.name == "momentum":
        opt = torch.optim.SGD(params, lr=lr, momentum=optimizer.momentum.beta)
        for p, r in zip(params, rows):
            opt.state[p]["momentum_buffer"] = torch.tensor(
                floats(r.before["v"]), dtype=torch.float64
            )
    else:
        a = optimizer.adam
        opt = torch.optim.Adam(params, lr=lr, betas=(a.beta1, a.beta2), eps=a.eps)
        for p, r in zip(params, rows):
            opt.state[p]["step"] = torch.tensor(float(a.t - 1))
            opt.state[p]["exp_avg"] = torch.tensor(floats(r.before["m"]), dtype=torch.float64)
            opt.state[p]["exp_avg_sq"] = torch.tensor(floats(r.before["v"]), dtype=torch.float64)
    opt.step()
    out = []
    for p in params:
        state = opt.state[p]
        roles = {"v": state.get("momentum_buffer")} if optimizer.name == "momentum" else {}
        if optimizer.name == "adam":
            roles = {"m": state["exp_avg"], "v": state["exp_avg_sq"]}
        out.append((p.detach().numpy(), {k: v.numpy() for k, v in roles.items()}))
    return out


CASES = {
    "sgd": ("sgd", ""),
    "momentum": ("{momentum: {beta: 0.9}}", MOMENTUM_STATE),
    "adam": (ADAM, ADAM_STATE),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_step_is_torch_optims(sheet_dir, case):
    torch = pytest.importorskip("torch")
    optimizer, state = CASES[case]
    ((_ex, _trace, result),) = stepped(written(sheet_dir, layer(optimizer, state)))
    expected = _torch_step(torch, result.optimizer, 0.1, result.rows)
    for r, (new, roles) in zip(result.rows, expected):
        np.testing.assert_allclose(floats(r.new), new, rtol=1e-12, atol=1e-15)
        for role, value in roles.items():
            np.testing.assert_allclose(floats(r.after[role]), value, rtol=1e-12, atol=1e-15)


def test_the_shipped_sheet_is_torch_optims():
    torch = pytest.importorskip("torch")
    for _ex, _trace, result in stepped(ROOT / "exercises" / "optimizers.yaml"):
        lr = float(result.hyper["lr"])
        for r, (new, roles) in zip(
            result.rows, _torch_step(torch, result.optimizer, lr, result.rows)
        ):
            np.testing.assert_allclose(floats(r.new), new, rtol=1e-12, atol=1e-15)
            for role, value in roles.items():
                np.testing.assert_allclose(floats(r.after[role]), value, rtol=1e-12)


# exact rationals -----------------------------------------------------------------------


def test_sgd_and_momentum_are_exact_rationals(sheet_dir):
    for optimizer, state in (CASES["sgd"], CASES["momentum"]):
        ((_ex, trace, result),) = stepped(written(sheet_dir, layer(optimizer, state)))
        assert result.exact
        eta, beta = Fraction(1, 10), Fraction(9, 10)
        for r in result.rows:
            assert all(isinstance(x, Fraction) for x in r.new.reshape(-1))
            g = trace.grads[r.param]
            if result.optimizer.name == "momentum":
                v = np.vectorize(Fraction)(np.asarray(r.before["v"], dtype=object)) * beta + g
                assert (r.after["v"] == v).all()
                assert (r.new == trace.values[r.param] - eta * v).all()
            else:
                assert (r.new == trace.values[r.param] - eta * g).all()


def test_momentum_by_hand():
    """The shipped sheet's o2: v = 0.9 · 0.5 + 0.816 = 1.266, w1 = 0.6 − 0.1 · 1.266."""
    results = {
        ex.spec.id: result for ex, _t, result in stepped(ROOT / "exercises" / "optimizers.yaml")
    }
    w1 = results["o2"].rows[0]
    assert w1.after["v"][0, 0] == Fraction("1.266")
    assert w1.new[0, 0] == Fraction("0.4734")
    assert results["o3"].exact is False  # Adam's square root: float64


def test_carried_rounding_rounds_each_state_before_it_is_used(sheet_dir):
    ((_ex, _trace, result),) = stepped(written(sheet_dir, layer(ADAM, ADAM_STATE, carry=True)))
    for r in result.rows:
        for value in (*r.after.values(), r.new):
            assert np.array_equal(np.round(floats(value), 4), floats(value))


# the key: every line checked, the state in key.json -------------------------------------


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("carry", [False, True])
def test_every_printed_line_is_checked(sheet_dir, case, carry):
    optimizer, state = CASES[case]
    written(sheet_dir, layer(optimizer, state, carry))
    runner = CliRunner()
    result = runner.invoke(main, ["build", "bad", "--no-pdf"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["check", "bad", "--no-torch"])
    assert result.exit_code == 0, result.output
    key = json.loads((sheet_dir / "out" / "bad" / "key.json").read_text())
    ex = key["exercises"]["e1"]
    targets = [s["target"] for s in ex["steps"] if s["target"].startswith("update.")]
    per_param = {"sgd": [""], "momentum": ["v_", ""], "adam": ["m_", "v_", "mhat_", "vhat_", ""]}
    assert targets == [f"update.{pre}{p}" for p in ("W", "b") for pre in per_param[case]]
    found = ex["asks"]["update"]
    assert set(found["params"]) == {"W", "b"}
    if case == "sgd":
        assert set(found) == {"lr", "params"}  # as before optimizers
    else:
        assert found["optimizer"] == case
        assert found["arithmetic"] == ("float64" if case == "adam" else "exact")
        assert set(found["previous"]) == {n.split(":")[0].strip() for n in state.split("\n")}


def test_plain_update_is_sgd():
    """`update: {lr: 0.1}` is sgd, with no state (its golden files, hw4's t1, are unchanged:
    test_documents)."""
    sheet = load_sheet(str(ROOT / "exercises" / "hw4-residual-softmax.yaml"))
    ex = sheet.exercises[0]
    options = dict(ex.asks)["update"]
    assert options.optimizer.name == "sgd"
    result = update(ex, solve_sheet(sheet)[0], options.lr, options.optimizer)
    assert all(not r.after and not r.before for r in result.rows)


# bad options, refused with the file, line and key path ----------------------------------

MOM = "{momentum: {beta: 0.9}}"
BAD = {
    "missing state": (
        layer(MOM, ""),
        (
            "ask:",
            "exercises[0].ask[0].update: update needs the optimizer's previous "
            "state under values: add v_W (the velocity of W), v_b (the velocity of b); give "
            "zeros for a first step",
        ),
    ),
    "adam state half given": (
        layer(ADAM, "m_W: [[0, 0], [0, 0]]\n      v_W: [[0, 0], [0, 0]]"),
        (
            "ask:",
            "exercises[0].ask[0].update: update needs the optimizer's previous "
            "state under values: add m_b (the first moment of b), v_b (the second moment of b); "
            "give zeros for a first step",
        ),
    ),
    "unknown optimizer": (
        layer("rmsprop", ""),
        (
            "ask:",
            "exercises[0].ask[0].update.optimizer: unknown optimizer 'rmsprop' "
            "(expected sgd, momentum: {beta} or adam: {beta1, beta2, eps, t})",
        ),
    ),
    "momentum without options": (
        layer("momentum", ""),
        (
            "ask:",
            "exercises[0].ask[0].update.optimizer: momentum takes options: "
            "write {momentum: {…}} (sgd, momentum: {beta} or adam: {beta1, beta2, eps, t})",
        ),
    ),
    "two optimizers": (
        layer("{momentum: {beta: 0.9}, adam: {t: 1}}", ""),
        (
            "ask:",
            "exercises[0].ask[0].update.optimizer: expected one optimizer "
            "(sgd, momentum: {beta} or adam: {beta1, beta2, eps, t}), found momentum and adam",
        ),
    ),
    "beta of 1": (
        layer("{momentum: {beta: 1}}", MOMENTUM_STATE),
        (
            "ask:",
            "exercises[0].ask[0].update.optimizer.momentum.beta: expected a number < 1, found 1",
        ),
    ),
    "adam without t": (
        layer("{adam: {beta1: 0.9}}", ADAM_STATE),
        ("ask:", "exercises[0].ask[0].update.optimizer.adam: missing required key 't'"),
    ),
    "unknown adam key": (
        layer("{adam: {beta: 0.9, t: 1}}", ADAM_STATE),
        (
            "ask:",
            "exercises[0].ask[0].update.optimizer.adam.beta: unknown key 'beta' "
            "(did you mean 'beta1' or 'beta2'?)",
        ),
    ),
    "misshaped state": (
        layer(MOM, "v_W: [0.1, 0.2]\n      v_b: [0.05, -0.05]"),
        (
            "v_W:",
            "exercises[0].values.v_W: 'v_W' (the velocity of W) must be shaped like W: "
            "a 2×2 matrix, found a vector of length 2",
        ),
    ),
    "negative second moment": (
        layer(ADAM, ADAM_STATE.replace("v_b: [0.001, 0.002]", "v_b: [0.001, -0.002]")),
        (
            "v_b:",
            "exercises[0].values.v_b: 'v_b' (the second moment of b) is a mean of "
            "squares and cannot be negative: found -0.002 at [1]",
        ),
    ),
    "state used by an equation": (
        layer(MOM, MOMENTUM_STATE).replace("- z = W @ x + b", "- z = W @ x + b + v_b"),
        (
            "- z =",
            "exercises[0].network.equations[0]: 'v_b' is the velocity of b (the "
            "update's optimizer state) and no equation may use it: rename the value",
        ),
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_options_are_refused(sheet_dir, case):
    text, (needle, message) = BAD[case]
    line = next(i for i, t in enumerate(text.splitlines(), 1) if t.strip().startswith(needle))
    message = f"{F}:{line}: {message}"
    written(sheet_dir, text)
    result = CliRunner().invoke(main, ["build", "bad", "--no-pdf"], catch_exceptions=False)
    assert result.exit_code == 2
    assert result.stderr == f"error: {message}\n"


def test_the_shipped_sheet_draws_variants(tmp_path, monkeypatch):
    """Each student's own previous state; the same gradients in the three exercises."""
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(main, ["check", "optimizers", "--variants", "5", "--no-torch"])
    assert result.exit_code == 0, result.output
    assert "5 variants drawn and solved, 5 distinct" in result.output
    result = CliRunner().invoke(
        main, ["build", "optimizers", "--variants", "2", "--no-pdf", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    header, first, second = (tmp_path / "optimizers" / "answers.csv").read_text().splitlines()
    assert "o2 v_w1 new" in header.split(",") and "o3 vhat_w2 new" in header.split(",")
    assert first != second


ROWS = """\
title: Rows
course: Test
rounding: {digits: 2, carry: true}
exercises:
  - id: r1
    title: Row layout
    points: 1
    prompt: One step.
    network:
      equations:
        - z = x @ W + b
        - L = 0.5 * sum((z - t) ** 2)
      loss: L
      params: [W, b]
      layout: row
    values:
      x: [[1, 2]]
      t: [[1, 0]]
      W: [[0.5, -0.25], [0.75, 1]]
      b: [0.1, -0.2]
      m_W: [[0.1, 0.2], [-0.3, 0.4]]
      v_W: [[0.1, 0.2], [0.3, 0.4]]
      m_b: [0.05, -0.05]
      v_b: [0.05, 0.05]
    ask: [update: {lr: 0.1, optimizer: OPTIMIZER}]
"""


@pytest.mark.parametrize("optimizer", ["{momentum: {beta: 0.5}}", "{adam: {t: 4}}"])
def test_row_vectors_print_as_rows_and_check(sheet_dir, optimizer):
    text = ROWS.replace("OPTIMIZER", optimizer)
    if "momentum" in optimizer:  # its velocities are the v_ values; no moments
        text = text.replace("      m_W: [[0.1, 0.2], [-0.3, 0.4]]\n", "").replace(
            "      m_b: [0.05, -0.05]\n", ""
        )
    written(sheet_dir, text)
    runner = CliRunner()
    assert runner.invoke(main, ["build", "bad", "--no-pdf"]).exit_code == 0
    result = runner.invoke(main, ["check", "bad", "--no-torch"])
    assert result.exit_code == 0, result.output
    key = json.loads((sheet_dir / "out" / "bad" / "key.json").read_text())
    line = next(s for s in key["exercises"]["r1"]["steps"] if s["target"] == "update.b")
    assert r"\begin{bmatrix}0.1 & -0.2\end{bmatrix}" in line["latex"]
