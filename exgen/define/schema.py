"""The shape of a definition file, validated by pydantic (unknown keys refused)."""
from __future__ import annotations

import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator

from exgen.asks.registry import ASKS as ASK_REGISTRY
from exgen.engine.ops import REGISTRY

ASKS = tuple(ASK_REGISTRY)   # each ask's options and checks live in its own module
# a layer's activation: the registry's element-wise activations (softmax comes with softmax_ce)
ACTIVATIONS = ("identity",) + tuple(sorted(
    n for n, op in REGISTRY.items() if op.architecture == "activation" and op.elementwise_local))
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
    errors: Literal["partial", "delta"] = "partial"   # ∂L/∂u₁, or δ with the node as index


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


Network = Annotated[Annotated[EquationsNetwork, Tag("equations-form")]
                    | Annotated[LayersNetwork, Tag("layers-form")],
                    Discriminator(_network_form)]
FORM_TAGS = ("equations-form", "layers-form")


class Draw(Strict):
    """One line of a NumPy seeding snippet: ``name = np.random.randn(*shape) * scale``."""

    name: Name
    dist: Literal["randn", "rand", "zeros", "ones"]
    shape: list[int] = Field(min_length=1, max_length=2)
    scale: float = 1.0


class RandomSpec(Strict):
    """Values drawn as a seeded NumPy snippet does (legacy np.random.seed stream)."""

    seed: int = Field(ge=0, lt=2**32)
    draws: list[Draw] = Field(min_length=1)


class Exercise(Strict):
    id: Name
    title: str
    points: float | None = None
    prompt: str = ""
    network: Network | None = None
    values: dict[Name, Any] = {}
    random: RandomSpec | None = None
    ask: list[str | dict[str, Any]] = Field(min_length=1)
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


class DrawRule(Strict):
    """How one value is drawn for each student; its shape is the given value's."""

    integers: tuple[int, int] | None = None                 # whole numbers lo … hi
    grid: tuple[float, float, float] | None = None          # lo, hi, step: multiples of step
    choice: list[float] | None = Field(None, min_length=1)  # each entry one of these
    one_of: list[Any] | None = Field(None, min_length=1)    # the whole value one of these


class VariantsSpec(Strict):
    seed: str = Field(min_length=1, max_length=200)
    draw: dict[str, DrawRule] = Field(min_length=1)          # name, or exercise_id.name
    require: list[str | dict[str, float]] = []
    tries: int = Field(1000, ge=1, le=100_000)


class Sheet(Strict):
    title: str
    course: str = ""
    due: datetime.date | str | None = None
    intro: str = ""
    rounding: RoundingSpec = RoundingSpec()
    notation: NotationSpec = NotationSpec()
    templates: str | None = None       # a folder whose templates override the defaults
    variants: VariantsSpec | None = None
    exercises: list[Exercise] = Field(min_length=1, max_length=50)
