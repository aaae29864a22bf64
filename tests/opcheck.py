"""Shared checks for one operation's test file: its numbers against central finite
differences of its own forward, and against PyTorch autograd when torch is installed."""

from __future__ import annotations

import numpy as np

from exgen.engine.equations import parse_equation
from exgen.engine.graph import compile_graph
from exgen.engine.ops import make_op
from exgen.engine.rounding import Rounding
from exgen.engine.solve import solve

POINTS = np.array([[-2.5], [-0.7], [-0.01], [0.02], [0.3], [1.9], [4.0]])


def local_against_central_differences(name: str, points=POINTS, h: float = 1e-6):
    op = make_op(name)
    x = points.astype(float)
    out = op.forward(x)
    numeric = (op.forward(x + h) - op.forward(x - h)) / (2 * h)
    np.testing.assert_allclose(op.local(x, out), numeric, rtol=1e-6, atol=1e-8)


GIVEN = {
    "W": np.array([[0.5, -1.0], [1.5, 0.25], [-0.75, 2.0]]),
    "x": np.array([[1.2], [-0.4]]),
    "b": np.array([[0.1], [-0.3], [0.2]]),
    "t": np.array([[0.5], [-1.0], [1.0]]),
}


def network(name: str, given: dict | None = None):
    """A small network through the operation, solved in float64 (``given``: other values,
    e.g. for an operation defined on positive inputs only)."""
    lines = [f"h = {name}(W @ x + b)", "L = 0.5 * sum((h - t) ** 2)"]
    given = dict(GIVEN if given is None else given)
    graph = compile_graph([parse_equation(t) for t in lines], given, "L", ["W", "b"])
    return lines, given, graph


def gradients_against_central_differences(name: str, h: float = 1e-6, given=None):
    _, given, graph = network(name, given)
    trace = solve(graph, given, Rounding(6), exact=False)
    for p in ("W", "b"):
        numeric = np.zeros(given[p].shape)
        for idx in np.ndindex(given[p].shape):
            values = []
            for sign in (1, -1):
                moved = {k: v.copy() for k, v in given.items()}
                moved[p][idx] += sign * h
                values.append(
                    float(
                        solve(graph, moved, Rounding(6), exact=False, backward=False).values["L"][
                            0, 0
                        ]
                    )
                )
            numeric[idx] = (values[0] - values[1]) / (2 * h)
        np.testing.assert_allclose(
            np.array(trace.grads[p], dtype=float), numeric, rtol=1e-6, atol=1e-8
        )


def gradients_against_torch(name: str, torch_call, given=None):
    import torch

    _, given, graph = network(name, given)
    trace = solve(graph, given, Rounding(6), exact=False)
    t = {
        k: torch.tensor(v, dtype=torch.float64, requires_grad=k in ("W", "b"))
        for k, v in given.items()
    }
    h = torch_call(t["W"] @ t["x"] + t["b"])
    loss = 0.5 * ((h - t["t"]) ** 2).sum()
    loss.backward()
    np.testing.assert_allclose(
        np.array(trace.values["h"], dtype=float), h.detach().numpy(), rtol=1e-12
    )
    for p in ("W", "b"):
        np.testing.assert_allclose(
            np.array(trace.grads[p], dtype=float), t[p].grad.numpy(), rtol=1e-12, atol=1e-15
        )


def written(name: str, given=None):
    """The operation in a key: the torch line, the LaTeX of `h = name(W @ x + b)` with and
    without numbers, and the variant constraints a solved network breaks."""
    import ast

    from exgen.asks.pytorch import torch_ast
    from exgen.build.variants import violations
    from exgen.typeset.forward_steps import Writer
    from exgen.typeset.notation import Notation

    lines, given, graph = network(name, given)
    torch_line = ast.unparse(torch_ast(parse_equation(lines[0]).expr, 0))
    trace = solve(graph, given, Rounding(2), exact=False)
    step = Writer(trace, Notation(graph)).forward_step("h")
    return torch_line, step.latex, violations(trace, ["no_relu_at_zero", "no_saturation"])
