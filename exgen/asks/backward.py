"""`backward`: the backward pass — every error signal, then the gradients w.r.t. the
parameters (the answers)."""

from __future__ import annotations

from exgen.asks.base import Ask, Work, loss_and_param_gradients


def view(options, work: Work) -> dict:
    graph = work.trace.graph
    return {
        "steps": work.solution.backward,
        "answers": work.solution.answers,
        "param_grads": [work.notation.grad(p, graph.loss) for p in graph.params],
    }


ASK = Ask(
    name="backward",
    options=None,
    check=None,
    compute=None,
    view=view,
    json=None,
    columns=loss_and_param_gradients,
    needs=("forward",),
    needs_params=True,
    numeric=True,
    given_values=True,
    architecture=True,
    design=None,
    computational_graph=None,
    steps=None,
    state=None,
)
