"""The shape of a definition file, validated by pydantic (unknown keys refused)."""
from __future__ import annotations

import datetime
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator

ASKS = ("forward", "backward", "gradients", "graph", "graph_backward")
NUMERIC_ASKS = ("forward", "backward", "gradients")
ACTIVATIONS = ("identity", "relu", "sigmoid", "tanh", "step")
LOSSES = ("half_sum", "half_mean", "mse", "softmax_ce")
Name = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$", max_length=40)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RoundingSpec(Strict):
    digits: int = Field(2, ge=0, le=10)
    carry: bool = False


class NotationSpec(Strict):
    """Symbols the course uses: pre-activation/activation names, index placement, loss."""

    pre: str = Field("u", max_length=8)
    act: str = Field("z", max_length=8)
    index: Literal["sub", "sup"] = "sub"
    loss: str = Field("L", max_length=8)
    delta: str = Field("δ", max_length=4)


class EquationsNetwork(Strict):
    equations: list[str] = Field(min_length=1, max_length=200)
    loss: Name
    params: list[Name] = []
    layout: Literal["column", "row"] = "column"


class LayerSpec(Strict):
    units: int = Field(ge=1, le=64)
    activation: Literal[ACTIVATIONS] = "identity"  # type: ignore[valid-type]


class LayersNetwork(Strict):
    input: Name = "x"
    target: Name = "t"
    output: Name = "y"
    layers: list[LayerSpec] = Field(min_length=1, max_length=12)
    bias: bool = True
    loss: Literal[LOSSES]  # type: ignore[valid-type]
    layout: Literal["column", "row"] = "column"


def _network_form(value: Any) -> str:
    return "layers-form" if isinstance(value, dict) and "layers" in value else "equations-form"


Network = Annotated[Union[Annotated[EquationsNetwork, Tag("equations-form")],
                          Annotated[LayersNetwork, Tag("layers-form")]],
                    Discriminator(_network_form)]
FORM_TAGS = ("equations-form", "layers-form")


class Exercise(Strict):
    id: Name
    title: str
    points: float | None = None
    prompt: str = ""
    network: Network
    values: dict[Name, Any] = Field(min_length=1)
    ask: list[Union[str, dict[str, Any]]] = Field(min_length=1)
    rounding: RoundingSpec | None = None
    space: int = Field(45, ge=0, le=250)   # millimetres of ruled space to work on the sheet

    @field_validator("ask")
    @classmethod
    def _known_asks(cls, asks):
        for item in asks:
            name = item if isinstance(item, str) else (next(iter(item)) if len(item) == 1 else None)
            if name is None:
                raise ValueError(f"each ask is a name or a single 'name: options' pair, found {item}")
            if name not in ASKS:
                raise ValueError(f"unknown ask '{name}' (expected one of: {', '.join(ASKS)})")
        return asks


class Sheet(Strict):
    title: str
    course: str = ""
    due: Union[datetime.date, str, None] = None
    intro: str = ""
    rounding: RoundingSpec = RoundingSpec()
    notation: NotationSpec = NotationSpec()
    templates: str | None = None       # a folder whose templates override the defaults
    exercises: list[Exercise] = Field(min_length=1, max_length=50)
