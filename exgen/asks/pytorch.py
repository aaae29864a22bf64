"""`pytorch`: the PyTorch code a student writes for an exercise, what it prints, and,
when torch is installed, the proof: exgen runs that code and compares its gradients."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from exgen.asks.base import Ask, Work, loss_and_param_gradients
from exgen.engine.code_template import filled
from exgen.engine.equations import Expr
from exgen.engine.graph import op_of
from exgen.engine.rounding import Rounding
from exgen.engine.snippet import snippet_code
from exgen.engine.solve import Trace, solve

MARK = "@@exgen-gradients@@"
PRINT_OPTIONS = "np.set_printoptions(precision=4)"

if TYPE_CHECKING:  # the definition stage sits above the asks
    from exgen.define.load import ExerciseDef


@dataclass
class TorchResult:
    code: str
    output: str  # what the code prints
    ran: bool  # output comes from running it with torch
    max_error: float | None = None  # largest relative difference to the key's gradients
    version: str = ""

    @property
    def agrees(self) -> bool | None:
        return None if self.max_error is None else self.max_error < 1e-9


def torch_ast(e: Expr, softmax_dim: int, ops: dict | None = None) -> ast.expr:
    """The expression in PyTorch, from each operation's spelling in the registry;
    ``ops``: the compiled graph's operations by expression (graph_ops), whose spelling
    follows their inputs' shapes (a convolution of an image or of a batch)."""
    if e.op == "name":
        return ast.Name(e.name)
    if e.op == "const":
        v = e.value
        return ast.Constant(int(v) if v.denominator == 1 else float(v))
    op = (ops or {}).get(e.text) or _op(e, softmax_dim)
    holes = {str(i): torch_ast(a, softmax_dim, ops) for i, a in enumerate(e.args)}
    return filled(op.torch, holes, {"dim": getattr(op, "axis", softmax_dim)})


def graph_ops(graph) -> dict:
    """The compiled operations by the text of their expression."""
    return {n.expr.text: n.op for n in graph.nodes.values() if n.expr is not None and n.op}


def channel_views(graph) -> dict[str, tuple]:
    """Given vectors computed as one value per channel of an image or a batch (a
    convolution's bias), with the shape they are computed in."""
    return {
        i: view
        for n in graph.nodes.values()
        for i, view in zip(n.inputs, n.views)
        if view is not None and len(view) > 2 and graph.nodes[i].kind == "given"
    }


def _op(e: Expr, unit_axis: int):
    """The operation of an expression node, with its keyword arguments (axis=…)."""
    return op_of(e, "column" if unit_axis == 0 else "row")


def _literal(arr: np.ndarray, as_row: bool, view: tuple | None = None) -> str:
    a = np.array(arr, dtype=float)
    if view is not None:
        a = a.reshape(view)
    elif a.ndim == 1 and not as_row:
        a = a.reshape(-1, 1)
    if a.ndim == 0:
        a = a.reshape(1, 1)
    return repr(a.tolist())


def code_for(ex: ExerciseDef) -> str:
    graph = ex.graph
    rows = graph.row_vectors
    lines = ["import numpy as np", "import torch", "", PRINT_OPTIONS, ""]
    drawn = set()
    if ex.spec.random is not None:
        lines += ["# the same numbers as the NumPy snippet"]
        lines += snippet_code(ex.spec.random).splitlines()[1:]
        drawn = {d.name for d in ex.spec.random.draws}
        lines.append("")
    lines.append("# values and parameters (float64, so that the digits agree with the key)")
    views, ops = channel_views(graph), graph_ops(graph)
    for name, node in graph.nodes.items():
        if node.kind != "given":
            continue
        grad = ", requires_grad=True" if name in graph.params else ""
        if name in drawn:
            shape = "" if node.rank != 1 or name in rows else ".reshape(-1, 1)"
            if name in views:
                shape = f".reshape{views[name]}"
            lines.append(f"{name} = torch.tensor({name}{shape}, dtype=torch.float64{grad})")
        else:
            lines.append(
                f"{name} = torch.tensor({_literal(ex.given[name], name in rows, views.get(name))}, "
                f"dtype=torch.float64{grad})"
            )
    lines += ["", "# forward pass"]
    dim = 0 if graph.layout == "column" else 1
    for eq in graph.equations:
        lines.append(f"{eq.target} = {ast.unparse(torch_ast(eq.expr, dim, ops))}")
    scalars = _zero_dim(graph)
    for eq in graph.equations:
        if eq.target in scalars:
            lines.append(f'print("{eq.target} =", f"{{{eq.target}.item():.4f}}")')
        else:
            lines.append(f'print("{eq.target} =", {eq.target}.detach().numpy())')
    lines += ["", "# backward pass", f"{graph.loss}.backward()"]
    for p in graph.params:
        lines.append(f'print("d{graph.loss}/d{p} =", {p}.grad.numpy())')
    return "\n".join(lines) + "\n"


def predicted_output(ex: ExerciseDef, trace: Trace) -> str:
    """What the code prints, from the engine's full-precision numbers."""
    graph = ex.graph
    rows = graph.row_vectors
    out = []
    scalars = _zero_dim(graph)
    with np.printoptions(precision=4):
        for eq in graph.equations:
            value = trace.values[eq.target]
            text = (
                f"{float(value[0, 0]):.4f}"
                if eq.target in scalars
                else _shaped(value, eq.target in rows)
            )
            out.append(f"{eq.target} = {text}")
        for p in graph.params:
            g = trace.grads[p]
            out.append(f"d{graph.loss}/d{p} = {_shaped(g, p in rows)}")
    return "\n".join(out) + "\n"


def _zero_dim(graph) -> set[str]:
    """Named results that torch holds as 0-d tensors (sums, means and what follows)."""
    out: set[str] = set()

    def zero(e: Expr) -> bool:
        if e.op == "name":
            return e.name in out
        if e.op == "const":
            return True
        rule = _op(e, 0).shape_rule
        if rule == "scalar":  # torch reduces to a 0-d tensor
            return True
        if rule == "matmul":  # a 1×1 product stays 2-d
            return False
        return all(zero(a) for a in e.args)

    for eq in graph.equations:
        if zero(eq.expr):
            out.add(eq.target)
    return out


def _shaped(arr: np.ndarray, as_row: bool) -> str:
    a = np.array(arr, dtype=float)
    return str(a.reshape(-1) if as_row else a)


def torch_available() -> bool:
    try:
        import importlib.util

        return importlib.util.find_spec("torch") is not None
    except (ImportError, ValueError):
        return False


def run(ex: ExerciseDef, trace_full: Trace, timeout: float = 300) -> TorchResult:
    """Run the code with PyTorch when it is installed; else predict its output."""
    code = code_for(ex)
    if not torch_available():
        return TorchResult(code, predicted_output(ex, trace_full), ran=False)
    probe = code + (
        f"\nimport json\nprint({MARK!r}, json.dumps({{"
        + ", ".join(f"{p!r}: {p}.grad.tolist()" for p in ex.graph.params)
        + "}), torch.__version__)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0 or MARK not in done.stdout:
        raise RuntimeError(f"the generated PyTorch code failed:\n{done.stderr[-2000:]}")
    shown, _, tail = done.stdout.partition(MARK)
    payload, _, version = tail.strip().rpartition(" ")
    grads = json.loads(payload)
    worst = 0.0
    for p, g in grads.items():
        mine = np.array(trace_full.grads[p], dtype=float)
        theirs = np.array(g, dtype=float).reshape(mine.shape)
        scale = np.maximum(np.abs(mine), np.abs(theirs))
        diff = np.abs(mine - theirs) / np.where(scale > 0, scale, 1)
        worst = max(worst, float(diff.max()))
    return TorchResult(code, shown, ran=True, max_error=worst, version=version)


def compute(ex: ExerciseDef, trace: Trace, notation, options) -> TorchResult:
    """torch computes in full float64 precision: so does the key's reference here."""
    full = solve(ex.graph, ex.given, Rounding(ex.rounding.digits, carry=False), exact=False)
    return run(ex, full)


def view(options, work: Work) -> TorchResult:
    return work.results["pytorch"]


def to_json(result: TorchResult, ex: ExerciseDef) -> dict:
    return {"ran": result.ran, "max_relative_error": result.max_error, "output": result.output}


ASK = Ask(
    name="pytorch",
    options=None,
    check=None,
    compute=compute,
    view=view,
    json=to_json,
    columns=loss_and_param_gradients,
    needs=(),
    needs_params=True,
    numeric=True,
    given_values=True,
    architecture=True,
    design=None,
    computational_graph=None,
    steps=None,
    state=None,
)
