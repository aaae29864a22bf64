"""The tasks a notebook can set, registered once: each says what the student is asked,
the skeleton they complete, the key's code for it, and which of their values are checked.

A task's cells are data (``Cells``); notebook.py turns them into nbformat cells, and
the same expected values fill utils.py's table of digests."""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from exgen.asks.pytorch import torch_ast
from exgen.engine.ops.base import dims
from exgen.notebooks import checking, from_scratch
from exgen.notebooks.numpy_code import grad_name, simplified

if TYPE_CHECKING:
    from exgen.engine.graph import Graph
    from exgen.notebooks.context import Setting


@dataclass
class Check:
    """One checked value: its name in the table, the expression the cell checks, and
    the expected value (exact or float, already in the notebook's shape)."""

    name: str
    expression: str
    expected: object
    close_to: str = ""  # compare with another of the student's values instead


@dataclass
class Cells:
    intro: str  # Markdown
    skeleton: str  # what the student starts from (None placeholders)
    solution: str  # the key's code, same cell
    checks: list[Check] = field(default_factory=list)
    given: str = ""  # code given before the task (runs in both notebooks)
    after: tuple[str, str, str] | None = None  # (Markdown, code, what it prints) after the checks


@dataclass(frozen=True)
class Task:
    name: str
    title: str
    cells: Callable[[Setting], Cells]
    needs: tuple[str, ...] = ()  # tasks that must come earlier
    last: bool = False  # rebinds the data (to tensors): nothing may follow it
    requires: Callable[[Graph], str | None] | None = None  # what the network must be, or None


def _placeholders(names: list[str], comment: str) -> str:
    return "\n".join([f"# TODO: {comment}"] + [f"{n} = None" for n in names])


def _forward(s: Setting) -> Cells:
    code = s.code
    targets = [eq.target for eq in s.graph.equations]
    return Cells(
        intro=(
            "Compute the forward pass, one equation at a time, in NumPy "
            f"(`@` multiplies matrices): {', '.join(f'`{t}`' for t in targets)}."
        ),
        skeleton=_placeholders(targets, "the forward pass"),
        solution="\n".join(["# the forward pass", *code.forward_lines()]),
        checks=[Check(t, t, s.value(t)) for t in targets],
    )


def _backward(s: Setting) -> Cells:
    code = s.code
    grads = [grad_name(p) for p in s.graph.params]
    given = ""
    if "forward" not in s.tasks:
        given = "# the forward pass, given\n" + "\n".join(code.forward_lines())
    loss = s.graph.loss
    return Cells(
        intro=(
            f"Backpropagate: compute the gradient of `{loss}` with respect to every "
            f"parameter, each with the parameter's shape: {', '.join(f'`{g}`' for g in grads)} "
            f"(`{grads[0]}` holds ∂{loss}/∂{s.graph.params[0]})."
        ),
        skeleton=_placeholders(grads, "backpropagation, from the loss down"),
        solution="\n".join(["# backpropagation, from the loss down", *code.backward_lines()]),
        checks=[Check(grad_name(p), grad_name(p), s.grad(p)) for p in s.graph.params],
        given=given,
        after=_first_gradient(s, grad_name(s.graph.params[0])),
    )


NUMERIC_GIVEN = '''def loss():
    """The loss at the parameters' current values (the forward pass again)."""
{body}
    return {loss}'''

NUMERIC_SKELETON = '''def numeric_gradient(P, h=1e-5):
    """Central differences (loss(P + h·eᵢ) − loss(P − h·eᵢ)) / 2h for every entry i of
    the parameter array P (change P in place, and restore it)."""
    # TODO: return an array shaped like P
    return None'''

NUMERIC_SOLUTION = '''def numeric_gradient(P, h=1e-5):
    """Central differences (loss(P + h·eᵢ) − loss(P − h·eᵢ)) / 2h for every entry i of
    the parameter array P (change P in place, and restore it)."""
    G = np.zeros(P.shape)
    for i in np.ndindex(P.shape):
        kept = P[i]
        P[i] = kept + h
        up = loss()
        P[i] = kept - h
        down = loss()
        P[i] = kept
        G[i] = (up - down) / (2 * h)
    return G'''


def _numeric_check(s: Setting) -> Cells:
    body = "\n".join("    " + line for line in s.code.forward_lines())
    return Cells(
        intro=(
            "Check backpropagation numerically: for every entry of every parameter, the "
            "central difference of the loss with a small step h, beside your gradient."
        ),
        skeleton=NUMERIC_SKELETON,
        solution=NUMERIC_SOLUTION,
        checks=[
            Check(f"numeric {grad_name(p)}", f"numeric_gradient({p})", None, grad_name(p))
            for p in s.graph.params
        ],
        given=NUMERIC_GIVEN.format(body=body, loss=s.graph.loss),
    )


def _autograd(s: Setting) -> Cells:
    graph = s.graph
    dim = 0 if graph.layout == "column" else 1
    lines = [
        f"{eq.target} = {ast.unparse(simplified(torch_ast(eq.expr, dim)))}"
        for eq in graph.equations
    ]
    convert = ["import torch", "", "# the same data and parameters as PyTorch tensors (float64)"]
    for name in s.given_names:
        grad = ", requires_grad=True" if name in graph.params else ""
        convert.append(f"{name} = torch.tensor({name}, dtype=torch.float64{grad})")
    return Cells(
        intro=(
            f"Now let PyTorch differentiate: write the forward pass and `{graph.loss}` with "
            f"tensors, then call `{graph.loss}.backward()`; each parameter's `.grad` then "
            "holds its gradient."
        ),
        skeleton=_placeholders([graph.loss], "the forward pass in PyTorch, then .backward()"),
        solution="\n".join(
            ["# the forward pass in PyTorch, then .backward()", *lines, f"{graph.loss}.backward()"]
        ),
        checks=[Check(grad_name(p), f"{p}.grad", s.grad(p)) for p in graph.params],
        given="\n".join(convert),
        after=_first_gradient(s, f"{graph.params[0]}.grad"),
    )


def _first_gradient(s: Setting, gradient: str) -> tuple[str, str, str] | None:
    """As sheet11 tests an implementation: the size of the first parameter's first
    gradient entry, printed (what it prints is the engine's value)."""
    if not s.print_first_gradient:
        return None
    first = s.graph.params[0]
    entry = (0,) * len(s.shapes[first])
    value = abs(np.asarray(s.grad(first))[entry])
    where = f"[{', '.join('0' for _ in entry)}]" if entry else ""
    return (
        "To test the implementation, print the size of the gradient with respect to the "
        f"first entry of `{first}`, to the key's {s.digits} decimals.",
        f'print(f"{{np.linalg.norm({gradient}{where}):.{s.digits}f}}")',
        checking.rounded(value, s.digits) + "\n",
    )


TASKS: dict[str, Task] = {
    t.name: t
    for t in (
        Task("forward", "The forward pass", _forward),
        Task("backward", "Backpropagation", _backward),
        Task("numeric_check", "A numerical check", _numeric_check, needs=("backward",)),
        Task("autograd", "Automatic differentiation", _autograd, last=True),
    )
}


def _scratch_requires(graph: Graph) -> str | None:
    return None if from_scratch.network_of(graph) is not None else from_scratch.NEEDS


def _scratch_task(name: str, previous: str | None) -> Task:
    return Task(
        name,
        from_scratch.TITLES[name],
        lambda s: from_scratch.cells_for(name, s),
        needs=(previous,) if previous else (),
        requires=_scratch_requires,
    )


_order = list(from_scratch.FUNCTIONS)
TASKS.update(
    (name, _scratch_task(name, _order[k - 1] if k else None)) for k, name in enumerate(_order)
)


def problems(graph: Graph, tasks: list[str]) -> list[tuple[int | None, str]]:
    """(index, message) for each listed task the network cannot carry (index None: the
    notebook as a whole)."""
    out = []
    tensor = next((n for n in graph.nodes.values() if n.rank > 2), None)
    if tensor is not None and tasks:  # images and batches have no NumPy spelling here yet
        shape = dims(tensor.shape)
        return [
            (
                None,
                f"notebooks take networks of scalars, vectors and matrices; {tensor.name} "
                f"has shape {shape} (an image, a batch or a bank of filters)",
            )
        ]
    for k, name in enumerate(tasks):
        requires = TASKS[name].requires
        problem = requires(graph) if requires is not None else None
        if problem is None and not graph.params:
            problem = "needs a network with parameters (network.params)"
        if problem:
            out.append((k, f"the task '{name}' {problem}"))
    return out
