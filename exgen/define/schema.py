"""The shape of a definition file, validated by pydantic (unknown keys refused)."""

from __future__ import annotations

import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from exgen.asks.registry import ASKS as ASK_REGISTRY
from exgen.engine.ops import REGISTRY
from exgen.engine.rounding import MAX_GIVEN
from exgen.notebooks.tasks import TASKS

ASKS = tuple(ASK_REGISTRY)  # each ask's options and checks live in its own module
# a layer's activation: the registry's element-wise activations (softmax comes with softmax_ce)
ACTIVATIONS = ("identity",) + tuple(
    sorted(
        n for n, op in REGISTRY.items() if op.architecture == "activation" and op.elementwise_local
    )
)
LOSSES = ("half_sum", "half_mean", "mse", "softmax_ce")
Name = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$", max_length=40)]
# Numbers in options and rules: finite and within the magnitude every value keeps to.
Number = Annotated[float, Field(allow_inf_nan=False, ge=-MAX_GIVEN, le=MAX_GIVEN)]
Whole = Annotated[int, Field(ge=-MAX_GIVEN, le=MAX_GIVEN)]
MAX_ELEMENTS = 10_000  # numbers in one value, given or drawn
MAX_TEX_DEPTH = 32  # levels of nested braces in a prompt's TeX


def brace_depth(text: str) -> int:
    """How deeply ``{ }`` nest in a text (escaped braces aside)."""
    depth = deepest = 0
    escaped = False
    for c in text:
        if escaped:
            escaped = False
        elif c == "\\":
            escaped = True
        elif c == "{":
            depth += 1
            deepest = max(deepest, depth)
        elif c == "}":
            depth = max(depth - 1, 0)
    return deepest


def _shallow_tex(text: str) -> str:
    if brace_depth(text) > MAX_TEX_DEPTH:
        raise ValueError(f"braces nested too deeply (at most {MAX_TEX_DEPTH} levels)")
    return text


TexText = Annotated[str, Field(max_length=100_000)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RoundingSpec(Strict):
    digits: int | None = Field(
        None, ge=0, le=10, description="decimals the key shows (2 unless figures is given)"
    )
    figures: int | None = Field(
        None,
        ge=1,
        le=10,
        description="significant figures the key shows, instead of digits (0.0123, 123, 1.23×10³)",
    )
    carry: bool = Field(
        False, description="round every intermediate result before it is used further"
    )

    @model_validator(mode="after")
    def _one_precision(self):
        if self.digits is not None and self.figures is not None:
            raise ValueError("give digits or figures, not both")
        return self


class NotationSpec(Strict):
    """Symbols the course uses: pre-activation/activation names, index placement, loss."""

    pre: str = Field("u", max_length=8)
    act: str = Field("z", max_length=8)
    index: Literal["sub", "sup"] = "sub"
    loss: str = Field("L", max_length=8)
    errors: Literal["partial", "delta"] = "partial"  # ∂L/∂u₁, or δ with the node as index


class EquationsNetwork(Strict):
    equations: list[str] = Field(min_length=1, max_length=200)
    loss: Name
    params: list[Name] = Field([], max_length=200)
    layout: Literal["column", "row"] = "column"


class LayerSpec(Strict):
    """A dense layer (the kind a layer without `kind` is)."""

    kind: Literal["dense"] = "dense"
    units: int = Field(ge=1, le=64)
    activation: Literal[ACTIVATIONS] = "identity"  # type: ignore[valid-type]


# a convolution's and a pooling's settings: those its operation takes in equations
CONV_STRIDES = REGISTRY["conv2d"].keywords["stride"]
CONV_PADDINGS = REGISTRY["conv2d"].keywords["padding"]
POOL_SIZES = REGISTRY["maxpool"].keywords["size"]


class ConvLayerSpec(Strict):
    """`filters` kernels of `size`×`size` (one kernel on a one-channel map)."""

    kind: Literal["conv"]
    filters: int = Field(1, ge=1, le=16)
    size: int = Field(ge=1, le=7)
    stride: Literal[CONV_STRIDES] = 1  # type: ignore[valid-type]
    padding: Literal[CONV_PADDINGS] = 0  # type: ignore[valid-type]
    activation: Literal[ACTIVATIONS] = "identity"  # type: ignore[valid-type]


class PoolLayerSpec(Strict):
    kind: Literal["pool"]
    mode: Literal["max", "avg"] = "max"
    size: Literal[POOL_SIZES] = 2  # type: ignore[valid-type]
    stride: Literal[POOL_SIZES] | None = None  # type: ignore[valid-type]


class FlattenLayerSpec(Strict):
    kind: Literal["flatten"]


LAYER_KINDS = ("dense", "conv", "pool", "flatten")


def _layer_kind(value: Any) -> str | None:
    kind = value.get("kind", "dense") if isinstance(value, dict) else "dense"
    return f"{kind}-layer" if kind in LAYER_KINDS else None


AnyLayer = Annotated[
    Annotated[LayerSpec, Tag("dense-layer")]
    | Annotated[ConvLayerSpec, Tag("conv-layer")]
    | Annotated[PoolLayerSpec, Tag("pool-layer")]
    | Annotated[FlattenLayerSpec, Tag("flatten-layer")],
    Discriminator(
        _layer_kind,
        custom_error_type="layer_kind",
        custom_error_message="expected kind dense, conv, pool or flatten",
    ),
]


class LayersNetwork(Strict):
    input: Name = "x"
    target: Name = "t"
    output: Name = "y"
    layers: list[AnyLayer] = Field(min_length=1, max_length=12)
    bias: bool = True
    loss: Literal[LOSSES]  # type: ignore[valid-type]
    layout: Literal["column", "row"] = "column"


def _network_form(value: Any) -> str:
    return "layers-form" if isinstance(value, dict) and "layers" in value else "equations-form"


Network = Annotated[
    Annotated[EquationsNetwork, Tag("equations-form")]
    | Annotated[LayersNetwork, Tag("layers-form")],
    Discriminator(_network_form),
]
FORM_TAGS = ("equations-form", "layers-form") + tuple(f"{k}-layer" for k in LAYER_KINDS)


class Draw(Strict):
    """One line of a NumPy seeding snippet: ``name = np.random.randn(*shape) * scale``."""

    name: Name
    dist: Literal["randn", "rand", "zeros", "ones"]
    shape: list[Annotated[int, Field(ge=1, le=MAX_ELEMENTS)]] = Field(min_length=1, max_length=2)
    scale: Number = 1.0

    @model_validator(mode="after")
    def _bounded(self):
        count = 1
        for n in self.shape:
            count *= n
        if count > MAX_ELEMENTS:
            raise ValueError(
                f"shape {self.shape} has {count} numbers; at most {MAX_ELEMENTS} per value"
            )
        return self


class RandomSpec(Strict):
    """Values drawn as a seeded NumPy snippet does (legacy np.random.seed stream)."""

    seed: int = Field(ge=0, lt=2**32)
    draws: list[Draw] = Field(min_length=1, max_length=50)


class NotebookSpec(Strict):
    """The exercise's coding part as a Jupyter notebook per student (exgen/notebooks)."""

    tasks: list[str] = Field(min_length=1, max_length=20)
    data: Literal["cell", "utils"] = "cell"  # the values in the first cell, or utils.getdata()
    lr: float = Field(0.1, gt=0, le=10)  # the learning rate of the sgd_update and train tasks
    steps: int = Field(10, ge=1, le=1000)  # the train task's steps of gradient descent
    print_first_gradient: bool = False  # after each gradient task, as sheet11 tests its code

    @field_validator("tasks")
    @classmethod
    def _known_tasks(cls, tasks):
        for k, name in enumerate(tasks):
            if name not in TASKS:
                raise ValueError(f"unknown task '{name}' (expected one of: {', '.join(TASKS)})")
            if name in tasks[:k]:
                raise ValueError(f"the task '{name}' is listed twice")
            for need in TASKS[name].needs:
                if need not in tasks[:k]:
                    raise ValueError(f"the task '{name}' needs '{need}' before it")
            if TASKS[name].last and k != len(tasks) - 1:
                raise ValueError(f"the task '{name}' turns the data into tensors: list it last")
        return tasks


Share = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]  # a fraction of the points
TOLERANCES = ("digits", "absolute", "relative", "figures")


class GradingSpec(Strict):
    """How answers are graded (exgen grade): at sheet level, each key overridable per
    exercise. At most one tolerance; none: right when it rounds to the key's shown value."""

    digits: int | None = Field(None, ge=0, le=10)  # right when it rounds to the shown value
    absolute: float | None = Field(None, ge=0, le=MAX_GIVEN, allow_inf_nan=False)
    relative: float | None = Field(None, ge=0, le=1, allow_inf_nan=False)
    figures: int | None = Field(None, ge=1, le=15)  # significant figures
    last_digit: Share | None = None  # credit for an answer off by one in the last digit
    carried: Share = 1.0  # credit for an answer right from the student's own earlier values
    weights: dict[str, Annotated[float, Field(gt=0, le=1000, allow_inf_nan=False)]] | None = Field(
        None, max_length=500
    )  # column or collect entry -> weight; others weigh 1
    ecf: bool = True  # error carried forward

    @model_validator(mode="after")
    def _one_tolerance(self):
        given = [t for t in TOLERANCES if getattr(self, t) is not None]
        if len(given) > 1:
            raise ValueError(f"give one tolerance, not {' and '.join(given)}")
        return self


CollectItem = Annotated[
    str, Field(pattern=r"^(grads|(grad\.)?[A-Za-z][A-Za-z0-9_]*)$", max_length=45)
]


class Exercise(Strict):
    id: Name
    title: str = Field(max_length=500)
    points: float | None = Field(None, ge=0, le=1000, allow_inf_nan=False)
    prompt: TexText = ""
    network: Network | None = None
    values: dict[Name, Any] = {}
    random: RandomSpec | None = None
    ask: list[str | dict[str, Any]] = Field(min_length=1)
    rounding: RoundingSpec | None = None
    space: int = Field(45, ge=0, le=250)  # millimetres of ruled space to work on the sheet
    notebook: NotebookSpec | None = None
    collect: list[CollectItem] | None = Field(None, min_length=1, max_length=200)
    # collect entry -> k: students give that number × 10^k (a platform that keeps few
    # decimals, such as Canvas, can then hold it); the sheet and the key say so
    scale: dict[CollectItem, Annotated[int, Field(ge=1, le=12)]] | None = Field(
        None, min_length=1, max_length=200
    )
    grading: GradingSpec | None = None

    _prompt = field_validator("prompt")(_shallow_tex)

    @field_validator("ask")
    @classmethod
    def _known_asks(cls, asks):
        for item in asks:
            name = item if isinstance(item, str) else (next(iter(item)) if len(item) == 1 else None)
            if name is None:
                raise ValueError(
                    f"each ask is a name or a single 'name: options' pair, found {item}"
                )
            if name not in ASKS:
                raise ValueError(f"unknown ask '{name}' (expected one of: {', '.join(ASKS)})")
        return asks


class DrawRule(Strict):
    """How one value is drawn for each student; its shape is the given value's."""

    integers: tuple[Whole, Whole] | None = None  # whole numbers lo … hi
    grid: tuple[Number, Number, Number] | None = None  # lo, hi, step: multiples of step
    choice: list[Number] | None = Field(None, min_length=1, max_length=1000)  # each entry one of
    one_of: list[Any] | None = Field(None, min_length=1, max_length=1000)  # the whole value one of


class VariantsSpec(Strict):
    seed: str = Field(min_length=1, max_length=200)
    draw: dict[str, DrawRule] = Field(min_length=1, max_length=500)  # name, or exercise_id.name
    require: list[str | dict[str, Number]] = Field([], max_length=20)
    tries: int = Field(1000, ge=1, le=10_000)  # the sheet's work bounds tries × work, too


class Sheet(Strict):
    title: str = Field(max_length=500)
    course: str = Field("", max_length=500)
    due: datetime.date | str | None = None
    intro: TexText = ""
    rounding: RoundingSpec = RoundingSpec()
    decimal: Literal[".", ","] = Field(
        ".", description='the decimal mark numbers print with: "." or "," (0,25)'
    )
    notation: NotationSpec = NotationSpec()
    templates: str | None = None  # a folder whose templates override the defaults
    variants: VariantsSpec | None = None
    grading: GradingSpec = GradingSpec()
    exercises: list[Exercise] = Field(min_length=1, max_length=50)

    _intro = field_validator("intro")(_shallow_tex)
