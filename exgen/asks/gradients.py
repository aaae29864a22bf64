"""`gradients: [names]`: the gradient of the loss w.r.t. each named value — a parameter,
an input, any value the loss depends on."""

from __future__ import annotations

from pydantic import Field, RootModel, model_validator

from exgen.asks.base import Ask, Name, Work, loss_and_param_gradients
from exgen.errors import DefinitionError


class GradientOptions(RootModel[list[Name]]):
    """The names, e.g. [W1, b1] (read as a plain list)."""

    root: list[Name] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _a_list(cls, value):
        if not isinstance(value, list) or not value:
            found = "nothing" if value is None else repr(value)
            raise ValueError(f"expected a list of names, e.g. [W1, b1], found {found}")
        return value


def check(graph, options: list[str], path: str) -> None:
    reach = graph.ancestors(graph.loss)
    for k, name in enumerate(options):
        if name not in graph.nodes:
            raise DefinitionError(f"'{name}' is not a value of the network", path=f"{path}[{k}]")
        if name not in reach:
            raise DefinitionError(f"the loss does not depend on '{name}'", path=f"{path}[{k}]")


def view(options: list[str], work: Work) -> dict:
    return {
        "grads": [work.notation.grad(n, work.trace.graph.loss) for n in options],
        "answers": work.solution.requested,  # those the backward's box does not show
    }


ASK = Ask(
    name="gradients",
    options=GradientOptions,
    check=check,
    compute=None,
    view=view,
    json=None,
    columns=loss_and_param_gradients,
    needs=("forward",),
    needs_params=False,
    numeric=True,
    given_values=True,
    architecture=True,
    design=None,
    computational_graph=None,
    steps=None,
    state=None,
)
