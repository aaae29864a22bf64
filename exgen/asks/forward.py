"""`forward`: the forward pass — every intermediate value and the loss, worked step by step."""

from __future__ import annotations

from exgen.asks.base import Ask, Work


def view(options, work: Work) -> dict:
    return {"steps": work.solution.forward}


ASK = Ask(
    name="forward",
    options=None,
    check=None,
    compute=None,
    view=view,
    json=None,
    columns=None,
    needs=(),
    needs_params=False,
    numeric=True,
    given_values=True,
    architecture=True,
    design=None,
    computational_graph=None,
    steps=None,
    state=None,
)
