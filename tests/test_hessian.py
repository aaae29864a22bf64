"""The `hessian` ask (seed 004 Ex 3): the Hessian of linear least squares from the engine's
gradients, against independent oracles — (1/N)·XᵀX in fractions, second differences of
the loss, PyTorch's autograd — its eigenvalues and κ against NumPy, the normalized data,
and the losses and options it refuses."""

from __future__ import annotations

import textwrap
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from exgen.asks.registry import results_for
from exgen.build.single import solve_sheet, work_asks
from exgen.define.load import load_sheet
from exgen.errors import DefinitionError
from exgen.typeset.notation import Notation

ROOT = Path(__file__).parents[1]
X = [[1, 10], [3, 10], [1, 30], [3, 30]]
T = [1, 2, 3, 4]


def sheet11_ex3():
    s = load_sheet(str(ROOT / "exercises" / "sheet11-logic-chain-rule.yaml"))
    traces = solve_sheet(s)
    k = [ex.spec.id for ex in s.exercises].index("ex3")
    return s, s.exercises[k], traces[k]


def result_of(s, ex, trace):
    return results_for(ex, trace, Notation.of(trace.graph, s.spec.notation))["hessian"]


def loss(w, x=X, t=T):
    """J(w) = (1/(2N)) Σ (xₙᵀw − tₙ)², in float64: the oracle the second differences use."""
    x, t = np.asarray(x, dtype=float), np.asarray(t, dtype=float)
    return float(np.mean((x @ w - t) ** 2) / 2)


def test_the_exact_hessian_is_one_over_n_x_transpose_x():
    s, ex, trace = sheet11_ex3()
    h = result_of(s, ex, trace)
    n = len(X)
    oracle = [
        [sum(Fraction(X[k][i]) * X[k][j] for k in range(n)) / n for j in range(2)] for i in range(2)
    ]
    assert h.analysis.exact
    assert all(isinstance(v, Fraction) for v in h.analysis.matrix.reshape(-1))
    assert h.analysis.matrix.tolist() == oracle
    assert h.analysis.factor == Fraction(1, n)


def test_central_second_differences_of_the_loss_agree():
    s, ex, trace = sheet11_ex3()
    matrix = np.array(result_of(s, ex, trace).analysis.matrix, dtype=float)
    w, step = np.zeros(2), 1e-3
    for i in range(2):
        for j in range(2):
            ei, ej = np.eye(2)[i] * step, np.eye(2)[j] * step
            second = (
                loss(w + ei + ej) - loss(w + ei - ej) - loss(w - ei + ej) + loss(w - ei - ej)
            ) / (4 * step * step)
            assert second == pytest.approx(matrix[i, j], rel=1e-6)


def test_torch_autograd_hessian_agrees():
    torch = pytest.importorskip("torch")
    s, ex, trace = sheet11_ex3()
    h = result_of(s, ex, trace)
    x = torch.tensor(X, dtype=torch.float64)
    t = torch.tensor(T, dtype=torch.float64)
    found = torch.autograd.functional.hessian(
        lambda w: ((x @ w - t) ** 2).mean() / 2, torch.zeros(2, dtype=torch.float64)
    )
    assert np.allclose(found.numpy(), np.array(h.analysis.matrix, dtype=float))
    xhat = torch.tensor(np.array(h.normalized.inputs, dtype=float))
    found = torch.autograd.functional.hessian(
        lambda w: ((xhat @ w - t) ** 2).mean() / 2, torch.zeros(2, dtype=torch.float64)
    )
    assert np.allclose(found.numpy(), np.array(h.normalized.analysis.matrix, dtype=float))


def test_eigenvalues_and_condition_number_against_numpy():
    s, ex, trace = sheet11_ex3()
    h = result_of(s, ex, trace)
    matrix = np.array(X, dtype=float).T @ np.array(X, dtype=float) / len(X)
    lam = np.sort(np.linalg.eigvals(matrix).real)[::-1]
    assert np.allclose(h.analysis.eigenvalues, lam)
    assert h.analysis.condition == pytest.approx(lam[0] / lam[-1])
    # 2×2 by hand: λ = (tr ± √(tr² − 4 det)) / 2 with tr = 505, det = 900
    assert lam[0] == pytest.approx((505 + (505**2 - 3600) ** 0.5) / 2)
    assert h.analysis.condition > 100


def test_normalized_inputs_have_mean_0_and_std_1_and_a_smaller_kappa():
    s, ex, trace = sheet11_ex3()
    h = result_of(s, ex, trace)
    n = h.normalized
    xhat = np.array(n.inputs, dtype=float)
    assert np.allclose(xhat.mean(axis=0), 0)
    assert np.allclose(xhat.std(axis=0), 1)  # population σ, as the key says
    assert n.mean.tolist() == [[2, 20]] and n.std.tolist() == [[1, 10]]
    assert n.analysis.exact and n.analysis.matrix.tolist() == [[1, 0], [0, 1]]
    assert n.analysis.condition == pytest.approx(1.0)
    assert n.analysis.condition < h.analysis.condition


def test_key_json_and_answer_columns():
    from exgen.asks.hessian import columns, to_json

    s, ex, trace = sheet11_ex3()
    entry = to_json(result_of(s, ex, trace), ex)
    assert entry["matrix"] == [[5, 40], [40, 500]]
    assert entry["condition_number"] == pytest.approx(281.3575569)
    assert entry["normalized"]["matrix"] == [[1, 0], [0, 1]]
    assert entry["normalized"]["condition_number"] == 1.0
    assert entry["normalized"]["mean"] == [2, 20]
    row = columns("ex3", {"asks": {"hessian": entry}})
    assert row["ex3 H[2,2]"] == "500.0000"
    assert row["ex3 H kappa"] == "281.3576"
    assert row["ex3 H normalized kappa"] == "1.0000"


DEFINITION = """\
title: T
course: C
rounding: {digits: 4, carry: false}
exercises:
  - id: ls
    title: least squares
    network:
      equations:
        - y = EQUATION
        - J = LOSS
      loss: J
      params: [w]
      layout: row
    values:
      X: VALUES
      t: [1, 2, 3]
      w: [0.5, -0.5]
    ask:
      - hessian: OPTIONS
"""


def load(
    tmp_path,
    equation="X @ w",
    values="[[1, 2], [3, 5], [4, 4]]",
    options="{wrt: w}",
    loss="mean((y - t)**2) / 2",
):
    text = (
        DEFINITION.replace("EQUATION", equation)
        .replace("LOSS", loss)
        .replace("VALUES", values)
        .replace("OPTIONS", options)
    )
    path = tmp_path / "ls.yaml"
    path.write_text(textwrap.dedent(text))
    return load_sheet(str(path))


def worked(s):
    traces = solve_sheet(s)
    return work_asks(s, s.exercises[0], traces[0])["hessian"]


def test_a_loss_that_is_not_quadratic_is_refused(tmp_path):
    s = load(tmp_path, equation="sigmoid(X @ w)", options="{wrt: w, normalize: X}")
    with pytest.raises(DefinitionError) as caught:
        worked(s)
    message = str(caught.value)
    assert message.startswith(
        f"{tmp_path / 'ls.yaml'}:19: exercises[0].ask[0].hessian: "
        "hessian: the loss is not quadratic in w; its gradient changes by ("
    ), message
    assert "as w[1] goes up by 1, then by (" in message
    assert message.endswith(
        "as it goes up by 1 again (a quadratic loss, such as J = mean((X @ w - t)**2) / 2, "
        "has a constant Hessian)"
    )


def test_a_cubic_loss_is_refused(tmp_path):
    s = load(tmp_path, equation="(X @ w) * (X @ w) * (X @ w)")
    with pytest.raises(DefinitionError, match="hessian: the loss is not quadratic in w"):
        worked(s)


def test_a_general_quadratic_loss_prints_its_hessian_by_columns(tmp_path):
    """With a penalty ‖w‖²/2, H = XᵀX/N + I is no multiple of XᵀX: no XᵀX formula, yet
    the matrix is exact and right."""
    s = load(
        tmp_path,
        options="{wrt: w, normalize: X}",
        loss="mean((y - t)**2) / 2 + sum(w**2) / 2",
    )
    h = worked(s)
    x = np.array([[1, 2], [3, 5], [4, 4]], dtype=object)
    want = x.T.dot(x) / Fraction(3) + np.eye(2, dtype=int)
    assert h.analysis.exact and h.analysis.factor is None
    assert h.analysis.matrix.tolist() == want.tolist()
    assert h.normalized is not None and h.normalized.analysis.factor is None


def test_floating_point_values_give_a_floating_point_hessian(tmp_path):
    s = load(tmp_path, values="[[1, 2], [3, 5], [4, 4]]", options="{wrt: w, normalize: X}")
    h = worked(s)
    # σ of (1, 3, 4) is √14/3, irrational: the normalized Hessian is computed in float64
    assert h.analysis.exact and not h.normalized.analysis.exact
    xhat = np.array(h.normalized.inputs, dtype=float)
    assert np.allclose(xhat.std(axis=0), 1)
    assert np.allclose(
        np.array(h.normalized.analysis.matrix, dtype=float), xhat.T @ xhat / 3, rtol=1e-12
    )


def test_a_constant_feature_is_refused(tmp_path):
    s = load(tmp_path, values="[[1, 2], [1, 5], [1, 4]]", options="{wrt: w, normalize: X}")
    with pytest.raises(DefinitionError) as caught:
        worked(s)
    assert str(caught.value).endswith(
        "exercises[0].ask[0].hessian: hessian: feature 1 of X is constant (1 in every "
        "sample), so it cannot be scaled to standard deviation 1: leave it out of X (a bias "
        "is a parameter of its own)"
    )


def test_a_singular_hessian_has_no_condition_number(tmp_path):
    s = load(tmp_path, values="[[1, 2], [2, 4], [3, 6]]")
    h = worked(s)
    assert h.analysis.condition is None
    from exgen.asks.hessian import to_json

    assert to_json(h, s.exercises[0])["condition_number"] is None


@pytest.mark.parametrize(
    "options, message",
    [
        (
            "{wrt: v}",
            "19: exercises[0].ask[0].hessian.wrt: hessian: 'v' is not a given value the loss "
            "depends on (expected one of: X, w, t)",
        ),
        (
            "{wrt: X}",
            "19: exercises[0].ask[0].hessian.wrt: hessian: wrt must be a scalar or a vector "
            "of at most 12 entries; 'X' has shape 3×2",
        ),
        (
            "{wrt: w, normalize: t}",
            "19: exercises[0].ask[0].hessian.normalize: hessian: normalize names the input "
            "data matrix (one of: X); found 't'",
        ),
        ("{wrt: w, scale: X}", "exercises[0].ask[0].hessian.scale"),
    ],
)
def test_bad_options_are_refused_with_file_line_and_key_path(tmp_path, options, message):
    with pytest.raises(DefinitionError) as caught:
        load(tmp_path, options=options)
    text = str(caught.value)
    assert text.startswith(str(tmp_path / "ls.yaml") + ":"), text
    assert message in text, text


COLUMN = """\
title: T
course: C
rounding: {digits: 2, carry: CARRY}
exercises:
  - id: col
    title: column layout, three features
    network:
      equations:
        - y = w.T @ X
        - J = mean((y - t)**2) / 2
      loss: J
      params: [w]
    values:
      X: [[1, 3, 1, 3, 2], [10, 10, 30, 30, 20], [0, 1, 2, 3, 4]]
      t: [[1, 2, 3, 4, 5]]
      w: [0, 0, 0]
    ask:
      - hessian: {wrt: w, normalize: X}
"""


@pytest.mark.parametrize("carry", ["true", "false"])
def test_every_printed_step_is_right_in_column_layout_with_and_without_carry(tmp_path, carry):
    """Three features (eigenvalues by NumPy), samples as columns (X Xᵀ / N), irrational σ:
    under a carried rule every printed value is worked on from the printed ones before it."""
    from exgen.check.printed_steps import check_printed_steps, key_for_check

    path = tmp_path / "col.yaml"
    path.write_text(COLUMN.replace("CARRY", carry))
    s = load_sheet(str(path))
    key = key_for_check(s, solve_sheet(s))
    entry = key["exercises"]["col"]
    finding = check_printed_steps("col", entry, key["rounding"])
    assert finding.status == "ok", finding
    found = entry["asks"]["hessian"]
    assert found["matrix"] == [[4.8, 40, 4.4], [40, 480, 48], [4.4, 48, 6]]
    assert found["normalized"]["condition_number"] < 10 < found["condition_number"]
