"""The printed-steps oracle against the engine on every shipped sheet: one forward step per
operation node, made here from the engine's trace as the key prints it, must pass — so the
oracle's conventions (broadcasting, axes, rows, rounding) are the key's — and a printed
result one unit off must fail under carried rounding."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from exgen.build.single import solve_sheet
from exgen.check.step_judging import judge
from exgen.define.load import load_sheet
from exgen.engine.rounding import shown, shown_given

ROOT = Path(__file__).parents[1]
SHIPPED = sorted(p.stem for p in (ROOT / "exercises").glob("*.yaml"))


def as_printed(trace, node, digits: int, transpose: bool = False) -> list[list[str]]:
    value = trace.values[node.name]
    value = value.T if transpose else value
    given = node.kind in ("given", "const")
    text = np.vectorize(
        lambda x: shown_given(x, digits) if given else shown(x, digits), otypes=[object]
    )
    return text(value).tolist()  # rows; an image's maps or a batch's images nested deeper


def forward_steps(ex, trace) -> list[dict]:
    """A stand-in for the key writer's forward steps: node = op(printed inputs)."""
    graph, digits, steps = ex.graph, ex.rounding.digits, []
    for name, node in graph.nodes.items():
        if node.kind != "op":
            continue
        if node.op.stage_names:  # batch/layer norm: its stages and γ ⊙ x̂ + β, as printed
            steps += normalization_steps(trace, node, digits)
            continue
        expr = {
            "op": node.op.name,
            "args": [
                as_printed(trace, graph.nodes[i], digits, row)
                for i, row in zip(node.inputs, node.as_row)
            ],
        }
        if node.op.name == "pow":
            expr["args"].append(str(node.op.exponent))
        if node.op.name == "softmax":
            expr["axis"] = node.op.axis
        if node.op.name in ("conv2d", "maxpool", "avgpool"):  # stride, padding, size
            expr.update(node.op.kwargs(None))
        steps.append({"target": name, "expr": expr, "result": as_printed(trace, node, digits)})
    return steps


def normalization_steps(trace, node, digits: int) -> list[dict]:
    graph, stages = trace.graph, trace.stages[node.name]
    x, gamma, beta = (
        as_printed(trace, graph.nodes[i], digits, row) for i, row in zip(node.inputs, node.as_row)
    )
    mean, var, xhat = (
        np.vectorize(lambda v: shown(v, digits), otypes=[object])(stages[k]).tolist()
        for k in node.op.stage_names
    )
    axis = node.op.axis
    centred = {"op": "sub", "args": [x, mean]}
    root = {"op": "sqrt", "args": [{"op": "add", "args": [var, str(float(node.op.eps))]}]}
    squared = {"op": "pow", "args": [centred, "2"]}
    shape = graph.nodes[node.inputs[0]].shape
    if len(shape) == 4:  # a batch of images: per channel, ∑ₙ,ᵢ,ⱼ … / (N·H·W)
        m = str(shape[0] * shape[2] * shape[3])
        stats = [
            ({"op": "div", "args": [{"op": "batchsum", "args": [x]}, m]}, mean),
            ({"op": "div", "args": [{"op": "batchsum", "args": [squared]}, m]}, var),
        ]
    else:
        stats = [
            ({"op": "mean", "args": [x], "axis": axis}, mean),
            ({"op": "mean", "args": [squared], "axis": axis}, var),
        ]
    exprs = [
        *stats,
        ({"op": "div", "args": [centred, root]}, xhat),
        (
            {"op": "add", "args": [{"op": "mul", "args": [gamma, xhat]}, beta]},
            as_printed(trace, node, digits),
        ),
    ]
    return [{"target": node.name, "expr": e, "result": r} for e, r in exprs]


@pytest.mark.parametrize("name", SHIPPED)
def test_the_engines_forward_steps_pass(name):
    sheet = load_sheet(str(ROOT / "exercises" / f"{name}.yaml"))
    checked = 0
    for ex, trace in zip(sheet.exercises, solve_sheet(sheet)):
        for number, step in enumerate(forward_steps(ex, trace), 1):
            assert judge(step, ex.rounding.digits, ex.rounding.carry) is None, (
                ex.spec.id,
                number,
                step,
            )
            checked += 1
    assert checked >= 10


def test_one_unit_off_fails_under_carried_rounding():
    sheet = load_sheet(str(ROOT / "exercises" / "sheet9.yaml"))
    assert sheet.rounding.carry
    for ex, trace in zip(sheet.exercises, solve_sheet(sheet)):
        for step in forward_steps(ex, trace):
            for unit in ("0.01", "-0.01"):
                wrong = [row[:] for row in step["result"]]
                wrong[-1][-1] = f"{float(wrong[-1][-1]) + float(unit):.2f}"
                assert judge(dict(step, result=wrong), 2, carry=True) is not None, step
