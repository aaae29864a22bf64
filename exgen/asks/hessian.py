"""`hessian: {wrt, normalize}`: the Hessian ∂²J/∂w∂wᵀ of the loss w.r.t. one given vector,
its eigenvalues and condition number κ = λmax/λmin — and the same again after centering and
scaling the input features of the data matrix named by `normalize` (seed 004, Ex 3).

The Hessian is not a formula typed in here: it comes from the engine's own gradients.
For a loss quadratic in w (linear least squares) the gradient is affine in w, so column j
of H is ∇J(w + eⱼ) − ∇J(w), exact in rational arithmetic where the network is rational.
That the loss is quadratic is verified (a second step along each eⱼ, one along a mixed
direction, and symmetry); a loss that is not is refused."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np

from exgen.asks.base import Ask, Name, Strict, Work, number
from exgen.asks.hessian_steps import printed, steps_json
from exgen.engine.rounding import (
    Rounding,
    exact_array,
    float_array,
    round_half_up,
    shown,
    shown_given,
    to_fraction,
)
from exgen.engine.solve import NumericError, solve
from exgen.errors import DefinitionError

if TYPE_CHECKING:  # the definition stage sits above the asks
    from exgen.define.load import ExerciseDef
    from exgen.engine.graph import Graph

MAX_ENTRIES = 12  # entries of w: 2 + 2d solves, and a d×d matrix to print


class HessianOptions(Strict):
    wrt: Name
    normalize: Name | None = None


@dataclass
class Analysis:
    """One Hessian: the matrix (Fractions when exact), its eigenvalues (float64, largest
    first), κ (None when λmin ≤ 0), and c with H = c·XᵀX when the data show it so."""

    matrix: np.ndarray
    eigenvalues: np.ndarray
    condition: float | None
    exact: bool
    factor: Fraction | float | None
    chain: dict  # a 2×2's trace, det and D = tr² − 4 det, as the key prints them


@dataclass
class Normalized:
    mean: np.ndarray  # 1×d (row layout) or d×1: one per input feature
    variance: np.ndarray
    std: np.ndarray
    inputs: np.ndarray  # the normalized data, shaped as given
    analysis: Analysis


@dataclass
class Hessian:
    wrt: str
    data: str | None
    inputs: np.ndarray | None  # the data matrix as given
    samples: int
    analysis: Analysis
    normalized: Normalized | None
    digits: int
    layout: str


def check(graph: Graph, options: HessianOptions, path: str) -> None:
    """`wrt` a given vector the loss depends on; `normalize` a given data matrix whose
    feature count is w's length."""
    wrt, uses = options.wrt, graph.ancestors(graph.loss)
    givens = [n for n in graph.nodes if graph.nodes[n].kind == "given" and n in uses]
    node = graph.nodes.get(wrt)
    if node is None or node.kind != "given" or wrt not in uses:
        raise DefinitionError(
            f"hessian: '{wrt}' is not a given value the loss depends on "
            f"(expected one of: {', '.join(givens)})",
            path=f"{path}.wrt",
        )
    if node.rank == 2 or node.shape[0] > MAX_ENTRIES:
        raise DefinitionError(
            f"hessian: wrt must be a scalar or a vector of at most {MAX_ENTRIES} entries; "
            f"'{wrt}' has shape {node.shape[0]}×{node.shape[1]}",
            path=f"{path}.wrt",
        )
    if options.normalize is None:
        return
    data = graph.nodes.get(options.normalize)
    if data is None or data.kind != "given" or options.normalize not in uses or data.rank != 2:
        raise DefinitionError(
            f"hessian: normalize names the input data matrix (one of: "
            f"{', '.join(n for n in givens if graph.nodes[n].rank == 2) or 'none given'}); "
            f"found '{options.normalize}'",
            path=f"{path}.normalize",
        )
    features = data.shape[1] if graph.layout == "row" else data.shape[0]
    if features != node.shape[0]:
        side = "columns" if graph.layout == "row" else "rows"
        raise DefinitionError(
            f"hessian: {options.normalize} has {features} feature {side} in {graph.layout} "
            f"layout, but {wrt} has {node.shape[0]} entries",
            path=f"{path}.normalize",
        )


# ---- the matrix, from the engine's gradients ------------------------------------------


def _text(v) -> str:
    return "(" + ", ".join(shown_given(x, 4) for x in np.asarray(v).reshape(-1)) + ")"


def hessian_matrix(ex: ExerciseDef, given: dict, wrt: str, exact: bool, path: str) -> np.ndarray:
    """H column by column: ∇J(w + eⱼ) − ∇J(w), the loss verified quadratic in w."""
    plain = Rounding(ex.rounding.digits, carry=False)
    shape = np.shape(ex.given[wrt])
    convert = exact_array if exact else float_array
    given = {k: convert(v) for k, v in given.items()}
    w = given[wrt].reshape(-1)
    d = w.size

    def grad(v: np.ndarray) -> np.ndarray:
        try:
            trace = solve(ex.graph, dict(given, **{wrt: v.reshape(shape)}), plain, exact=exact)
        except NumericError as exc:
            raise DefinitionError(
                f"hessian: moving {wrt} to {_text(v)} makes the network uncomputable ({exc})",
                path=path,
            ) from None
        g = trace.grads.get(wrt)
        return convert(np.zeros(d)) if g is None else g.reshape(-1)

    def unit(j: int, k: int = 1) -> np.ndarray:
        e = convert(np.zeros(d))
        e[j] = e[j] + k
        return e

    base = grad(w)
    columns = []
    scale = 1.0
    for j in range(d):
        once, twice = grad(w + unit(j)), grad(w + unit(j, 2))
        column = once - base
        scale = max(scale, float(np.max(np.abs(float_array(column)))))
        if not _same(twice - once, column, exact, scale):
            entry = f"[{j + 1}]" if d > 1 else ""
            raise DefinitionError(
                f"hessian: the loss is not quadratic in {wrt}; its gradient changes by "
                f"{_text(column)} as {wrt}{entry} goes up by 1, then by {_text(twice - once)} "
                f"as it goes up by 1 again (a quadratic loss, such as "
                f"J = mean((X @ w - t)**2) / 2, has a constant Hessian)",
                path=path,
            )
        columns.append(column)
    matrix = np.stack(columns, axis=1)
    mixed = convert(np.array([(-2) ** j if j < 2 else j + 1 for j in range(d)]))
    moved = grad(w + mixed) - base
    if not _same(matrix, matrix.T, exact, scale) or not _same(
        moved, matrix.dot(mixed), exact, scale
    ):
        raise DefinitionError(
            f"hessian: the loss is not quadratic in {wrt}; its gradient is not affine in "
            f"{wrt} (moving {wrt} by {_text(mixed)} changes it by {_text(moved)}, not by "
            f"H·{_text(mixed)} = {_text(matrix.dot(mixed))}, or H is not symmetric)",
            path=path,
        )
    return matrix


def _same(a: np.ndarray, b: np.ndarray, exact: bool, scale: float) -> bool:
    if exact:
        return bool(np.all(a == b))
    return bool(np.allclose(float_array(a), float_array(b), rtol=1e-9, atol=1e-9 * scale))


def carrier(rounding: Rounding):
    """What the key works on with: under a carried rule each printed value rounded half-up
    (an exact decimal, as a student writes it down), otherwise the value itself."""
    if not rounding.carry:
        return lambda a: a

    def carried(a):
        arr = np.asarray(a, dtype=object)
        out = np.empty(arr.shape, dtype=object)
        out.reshape(-1)[:] = [
            round_half_up(to_fraction(x), rounding.digits) for x in arr.reshape(-1)
        ]
        return out if out.shape else out[()]

    return carried


def spectrum(matrix: np.ndarray, r, carry: bool) -> tuple[np.ndarray, float | None, dict]:
    """Eigenvalues, largest first, κ = λmax/λmin (None unless positive definite), and for
    a 2×2 tr, det and D = tr² − 4 det: what the key prints, each from the printed values
    before it under a carried rule."""
    values = np.linalg.eigvalsh(float_array(matrix))[::-1]
    chain: dict = {}
    if matrix.shape == (2, 2):
        m = matrix
        tr = r(m[0, 0] + m[1, 1])
        det = r(m[0, 0] * m[1, 1] - m[0, 1] * m[1, 0])
        disc = r(max(tr * tr - 4 * det, 0))
        chain = {"trace": tr, "det": det, "disc": disc}
        root = math.sqrt(float(disc))
        if carry:  # the roots of the printed polynomial, rounded
            values = np.array([r((float(tr) + root) / 2), r((float(tr) - root) / 2)], dtype=object)
    elif carry:
        values = np.asarray(r(values), dtype=object)
    top, low = float(values[0]), float(values[-1])
    if low <= 1e-12 * max(abs(top), 1.0):
        return values, None, chain
    return values, r(values[0] / values[-1]), chain


def _factor(matrix, samples: np.ndarray, exact: bool):
    """c with H = c·AᵀA for the data A (samples as rows), or None when H is not so."""
    gram = samples.T.dot(samples)
    flat = np.abs(float_array(gram)).reshape(-1)
    if not flat.size or flat.max() == 0:
        return None
    k = int(flat.argmax())
    c = matrix.reshape(-1)[k] / gram.reshape(-1)[k]
    scale = max(1.0, float(np.max(np.abs(float_array(matrix)))))
    return c if _same(matrix, gram * c, exact, scale) else None


def analysed(
    matrix: np.ndarray, samples: np.ndarray | None, exact: bool, r, carry: bool
) -> Analysis:
    """The engine's matrix as the key works it: c·(XᵀX) from the printed XᵀX when it is of
    that form, then its eigenvalues and κ."""
    factor = _factor(matrix, samples, exact) if samples is not None else None
    if factor is not None and samples is not None:
        matrix = r(r(samples.T.dot(samples)) * factor)
    else:
        matrix = r(matrix)
    values, condition, chain = spectrum(matrix, r, carry)
    return Analysis(matrix, values, condition, exact, factor, chain)


# ---- normalizing the data ----------------------------------------------------------------


def _root(x, exact: bool):
    """√x, exact when x is the square of a fraction."""
    if exact:
        n, d = math.isqrt(x.numerator), math.isqrt(x.denominator)
        if n * n == x.numerator and d * d == x.denominator:
            return Fraction(n, d), True
    return math.sqrt(float(x)), False


def normalized(name: str, samples: np.ndarray, exact: bool, r, carry: bool, path: str):
    """(μ, σ², σ, Â, exact): each feature over the samples, population σ; under a carried
    rule each from the printed values before it."""
    n, d = samples.shape
    mean = r(samples.sum(axis=0) / n)
    variance = r(((samples - mean) ** 2).sum(axis=0) / n)
    std, still = [], exact
    for k in range(d):
        if variance[k] == 0:
            raise DefinitionError(
                f"hessian: feature {k + 1} of {name} is constant ({shown_given(mean[k], 4)} "
                f"in every sample), so it cannot be scaled to standard deviation 1: "
                f"leave it out of {name} (a bias is a parameter of its own)",
                path=path,
            )
        root, rational = _root(variance[k], exact)
        std.append(r(root))
        still = still and (rational or carry)
    std_arr = (exact_array if still else float_array)(std)
    if not still:
        mean, variance, samples = (float_array(a) for a in (mean, variance, samples))
    return mean, variance, std_arr, r((samples - mean) / std_arr), still


def compute(ex: ExerciseDef, trace, notation, options: HessianOptions) -> Hessian:
    k = next(i for i, (n, _) in enumerate(ex.asks) if n == "hessian")
    path = f"{ex.path}.ask[{k}].hessian"
    exact, r, carry = ex.exact, carrier(ex.rounding), ex.rounding.carry
    layout = ex.graph.layout
    row = layout == "row"
    data = options.normalize
    inputs = samples = None
    if data is not None:
        inputs = (exact_array if exact else float_array)(np.asarray(ex.given[data]))
        samples = inputs if row else inputs.T
    matrix = hessian_matrix(ex, ex.given, options.wrt, exact, path)
    result = Hessian(
        options.wrt,
        data,
        inputs,
        samples.shape[0] if samples is not None else 0,
        analysed(matrix, samples, exact, r, carry),
        None,
        ex.rounding.digits,
        layout,
    )
    if data is not None and samples is not None:
        mean, variance, std, hat, still = normalized(data, samples, exact, r, carry, path)
        moved = hat if row else hat.T
        given = dict(ex.given, **{data: moved})
        hmat = hessian_matrix(ex, given, options.wrt, still, path)
        shape = (1, -1) if row else (-1, 1)
        result.normalized = Normalized(
            mean.reshape(shape),
            variance.reshape(shape),
            std.reshape(shape),
            moved,
            analysed(hmat, hat, still, r, carry),
        )
    return result


# ---- the key, key.json and answers.csv --------------------------------------------------


def view(options, work: Work) -> dict:
    return printed(work.results["hessian"], work.notation)


def _numbers(arr: np.ndarray):
    return np.vectorize(number, otypes=[object])(arr).tolist()


def _analysis_json(a: Analysis, digits: int) -> dict:
    return {
        "matrix": _numbers(a.matrix),
        "eigenvalues": [float(x) for x in a.eigenvalues],
        "condition_number": float(a.condition) if a.condition is not None else None,
        "exact": a.exact,
        "shown": {
            "matrix": [[shown(x, digits) for x in r] for r in a.matrix],
            "eigenvalues": [shown(x, digits) for x in a.eigenvalues],
            "condition_number": shown(a.condition, digits) if a.condition is not None else "∞",
        },
    }


def to_json(result: Hessian, ex: ExerciseDef) -> dict:
    out = {"wrt": result.wrt, **_analysis_json(result.analysis, result.digits)}
    n = result.normalized
    if n is not None:
        out["normalized"] = {
            "data": result.data,
            "mean": [number(x) for x in n.mean.reshape(-1)],
            "std": [number(x) for x in n.std.reshape(-1)],
            "inputs": _numbers(n.inputs),
            **_analysis_json(n.analysis, result.digits),
        }
    return out


def columns(ex_id: str, ex: dict) -> dict[str, str]:
    """Each Hessian's entries, eigenvalues and κ, as the key prints them."""
    row: dict[str, str] = {}
    found = ex.get("asks", {}).get("hessian")
    for label, part in (("H", found), ("H normalized", (found or {}).get("normalized"))):
        if not part:
            continue
        s = part["shown"]
        for i, r in enumerate(s["matrix"], 1):
            for j, text in enumerate(r, 1):
                row[f"{ex_id} {label}[{i},{j}]"] = text
        for i, text in enumerate(s["eigenvalues"], 1):
            row[f"{ex_id} {label} lambda{i}"] = text
        row[f"{ex_id} {label} kappa"] = s["condition_number"]
    return row


ASK = Ask(
    name="hessian",
    options=HessianOptions,
    check=check,
    compute=compute,
    view=view,
    json=to_json,
    columns=columns,
    needs=(),
    needs_params=False,
    numeric=True,
    given_values=True,
    architecture=False,
    design=None,
    computational_graph=None,
    steps=steps_json,
    state=None,
)
