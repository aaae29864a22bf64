"""`graph` and `graph_backward`: the student draws the computational graph (with the
gradient nodes, for graph_backward); the key shows exgen's drawing."""

from __future__ import annotations

from exgen.asks.base import Ask, Work


def _view(backward: bool):
    def view(options, work: Work) -> dict:
        uri, alt = work.graph_figure(backward)
        return {"uri": uri, "alt": alt}

    return view


def _ask(name: str, backward: bool) -> Ask:
    return Ask(
        name=name,
        options=None,
        check=None,
        compute=None,
        view=_view(backward),
        json=None,
        columns=None,
        needs=(),
        needs_params=False,
        numeric=False,
        given_values=False,
        architecture=False,
        design=None,
        computational_graph=backward,
        steps=None,
        state=None,
    )


GRAPH = _ask("graph", False)
GRAPH_BACKWARD = _ask("graph_backward", True)
