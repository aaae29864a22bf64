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
from exgen.define import schema_shapes as shapes
from exgen.engine.ops import REGISTRY
from exgen.engine.rounding import MAX_GIVEN
from exgen.language import LANGUAGES
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
    # a field's docstring (the string under it) is its description in the JSON Schema
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class RoundingSpec(Strict):
    """The rounding of printed numbers (decimals or significant figures), carried or not."""

    digits: int | None = Field(None, ge=0, le=10)
    """Decimal places every printed number is rounded to (2 unless figures is given)."""
    figures: int | None = Field(None, ge=1, le=10)
    """Significant figures every printed number is rounded to, instead of digits."""
    carry: bool = False
    """Carry the rounded numbers into later steps (as students do), instead of exact ones."""

    @model_validator(mode="after")
    def _one_precision(self):
        if self.digits is not None and self.figures is not None:
            raise ValueError("give digits or figures, not both")
        return self


class NotationSpec(Strict):
    """Symbols the course uses: pre-activation/activation names, index placement, loss."""

    pre: str = Field("u", max_length=8)
    """Symbol of a layer's pre-activation (u₁ = W₁x + b₁)."""
    act: str = Field("z", max_length=8)
    """Symbol of a layer's activation (z₁ = σ(u₁))."""
    index: Literal["sub", "sup"] = "sub"
    """Layer index as a subscript (u₁) or a superscript (u⁽¹⁾)."""
    loss: str = Field("L", max_length=8)
    """Symbol of the loss."""
    errors: Literal["partial", "delta"] = "partial"  # ∂L/∂u₁, or δ with the node as index
    """Backward quantities written ∂L/∂u₁ (partial) or δ with the node as index (delta)."""


class EquationsNetwork(Strict):
    """A network as equations, one assignment each, in Python expression syntax."""

    equations: list[str] = Field(min_length=1, max_length=200)
    """Assignments such as `u1 = W1 @ x + b1`, `z1 = relu(u1)`, `L = 0.5 * sum((y - t)**2)`."""
    loss: Name
    """The name an equation assigns the (scalar) loss to."""
    params: list[Name] = Field([], max_length=200)
    """The given values the network learns (their gradients are asked for)."""
    layout: Literal["column", "row"] = "column"
    """Vectors as columns (W @ x) or samples as rows (x @ W)."""


class LayerSpec(Strict):
    """A dense layer (the kind a layer without `kind` is)."""

    kind: Literal["dense"] = "dense"
    """The layer's kind: dense (the default), conv, pool or flatten."""
    units: int = Field(ge=1, le=64)
    """Outputs of the layer (rows of its weight matrix W_k)."""
    activation: Literal[ACTIVATIONS] = "identity"  # type: ignore[valid-type]
    """Element-wise activation after the layer."""


# a convolution's and a pooling's settings: those its operation takes in equations
CONV_STRIDES = REGISTRY["conv2d"].keywords["stride"]
CONV_PADDINGS = REGISTRY["conv2d"].keywords["padding"]
POOL_SIZES = REGISTRY["maxpool"].keywords["size"]


class ConvLayerSpec(Strict):
    """`filters` kernels of `size`×`size` (one kernel on a one-channel map)."""

    kind: Literal["conv"]
    """A convolution layer."""
    filters: int = Field(1, ge=1, le=16)
    """Number of kernels (output channels)."""
    size: int = Field(ge=1, le=7)
    """Side of the square kernel."""
    stride: Literal[CONV_STRIDES] = 1  # type: ignore[valid-type]
    """Step of the kernel over the map."""
    padding: Literal[CONV_PADDINGS] = 0  # type: ignore[valid-type]
    """Zeros added around the map on each side."""
    activation: Literal[ACTIVATIONS] = "identity"  # type: ignore[valid-type]
    """Element-wise activation after the layer."""


class PoolLayerSpec(Strict):
    """A pooling layer over each map."""

    kind: Literal["pool"]
    """A pooling layer."""
    mode: Literal["max", "avg"] = "max"
    """Max-pooling or average pooling."""
    size: Literal[POOL_SIZES] = 2  # type: ignore[valid-type]
    """Side of the square window."""
    stride: Literal[POOL_SIZES] | None = None  # type: ignore[valid-type]
    """Step of the window (none: the window's size)."""


class FlattenLayerSpec(Strict):
    """The maps flattened into one vector (before a dense layer)."""

    kind: Literal["flatten"]
    """A flatten layer."""


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
    """The `layers:` shorthand for an MLP or a small CNN; exgen writes the equations."""

    input: Name = "x"
    """Name of the input value."""
    target: Name = "t"
    """Name of the target value."""
    output: Name = "y"
    """Name of the last layer's output."""
    layers: list[AnyLayer] = Field(min_length=1, max_length=12)
    """The layers in order, numbered from 1; a layer without `kind` is dense."""
    bias: bool = True
    """Each dense and convolution layer has a bias b_k."""
    loss: Literal[LOSSES]  # type: ignore[valid-type]
    """The loss between output and target."""
    layout: Literal["column", "row"] = "column"
    """Vectors as columns (W @ x) or samples as rows (x @ W)."""


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
    """The value drawn."""
    dist: Literal["randn", "rand", "zeros", "ones"]
    """The NumPy function that draws it."""
    shape: list[Annotated[int, Field(ge=1, le=MAX_ELEMENTS)]] = Field(min_length=1, max_length=2)
    """Its shape: [n] or [rows, columns]."""
    scale: Number = 1.0
    """Factor the drawn numbers are multiplied by."""

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
    """np.random.seed's argument."""
    draws: list[Draw] = Field(min_length=1, max_length=50)
    """The snippet's lines, drawn in order from the one stream."""


class NotebookSpec(Strict):
    """The exercise's coding part as a Jupyter notebook per student (exgen/notebooks)."""

    tasks: list[str] = Field(min_length=1, max_length=20)
    """The notebook's tasks in order (exgen/notebooks/tasks.py names them)."""
    data: Literal["cell", "utils"] = "cell"  # the values in the first cell, or utils.getdata()
    """The values in the first cell, or from utils.getdata()."""
    lr: float = Field(0.1, gt=0, le=10)  # the learning rate of the sgd_update and train tasks
    """The learning rate of the sgd_update and train tasks."""
    steps: int = Field(10, ge=1, le=1000)  # the train task's steps of gradient descent
    """The train task's steps of gradient descent."""
    print_first_gradient: bool = False  # after each gradient task, as sheet11 tests its code
    """Print the first gradient after each gradient task."""

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
    """Right when it agrees with the key to this many decimal places."""
    absolute: float | None = Field(None, ge=0, le=MAX_GIVEN, allow_inf_nan=False)
    """Right when within this absolute difference of the key."""
    relative: float | None = Field(None, ge=0, le=1, allow_inf_nan=False)
    """Right when within this fraction of the key's value."""
    figures: int | None = Field(None, ge=1, le=15)  # significant figures
    """Right when it agrees with the key to this many significant figures."""
    last_digit: Share | None = None  # credit for an answer off by one in the last digit
    """Credit (0–1) for an answer off by one in the last digit."""
    carried: Share = 1.0  # credit for an answer right from the student's own earlier values
    """Credit (0–1) for an answer right from the student's own earlier values."""
    weights: dict[str, Annotated[float, Field(gt=0, le=1000, allow_inf_nan=False)]] | None = Field(
        None, max_length=500
    )  # column or collect entry -> weight; others weigh 1
    """Weight of an answer column or collect entry; the others weigh 1."""
    ecf: bool = True  # error carried forward
    """Error carried forward: a step is judged from the student's own earlier answers."""

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
    """One exercise: its network, its values and what it asks."""

    id: Name
    """A short name, unique in the sheet (answer columns and variant rules use it)."""
    title: str = Field(max_length=500)
    """The exercise's heading."""
    points: float | None = Field(None, ge=0, le=1000, allow_inf_nan=False)
    """Points the exercise is worth."""
    prompt: TexText = ""
    """The task in Markdown, with $…$ and $$…$$ math."""
    network: Network | None = None
    """The network: `equations:` (with `loss:`) or the `layers:` shorthand."""
    values: dict[Name, Any] = Field({}, json_schema_extra=shapes.values)
    """The given values by name: a number, a vector [1, 2], a matrix [[1, 2], [3, 4]], or
    a tensor of up to four dimensions."""
    random: RandomSpec | None = None
    """Values drawn by a seeded NumPy snippet (instead of, or besides, values)."""
    ask: list[str | dict[str, Any]] = Field(min_length=1, json_schema_extra=shapes.asks)
    """What the exercise asks: ask names, or `name: options` for an ask with options."""
    rounding: RoundingSpec | None = None
    """This exercise's own rounding (none: the sheet's)."""
    space: int = Field(45, ge=0, le=250)  # millimetres of ruled space to work on the sheet
    """Millimetres of ruled space to work in on the sheet."""
    notebook: NotebookSpec | None = None
    """The exercise's coding part, as a Jupyter notebook per student."""
    collect: list[CollectItem] | None = Field(None, min_length=1, max_length=200)
    """The answers students hand in: value names, grad.NAME, or grads (none: every answer)."""
    # collect entry -> k: students give that number × 10^k (a platform that keeps few
    # decimals, such as Canvas, can then hold it); the sheet and the key say so
    scale: dict[CollectItem, Annotated[int, Field(ge=1, le=12)]] | None = Field(
        None, min_length=1, max_length=200, json_schema_extra=shapes.closed
    )
    """Collect entry → k: students give that number × 10^k."""
    grading: GradingSpec | None = None
    """This exercise's grading, overriding the sheet's key by key."""

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
    """[lo, hi]: each entry a whole number lo … hi."""
    grid: tuple[Number, Number, Number] | None = None  # lo, hi, step: multiples of step
    """[lo, hi, step]: each entry a multiple of step from lo to hi."""
    choice: list[Number] | None = Field(None, min_length=1, max_length=1000)  # each entry one of
    """Each entry one of these numbers."""
    one_of: list[Any] | None = Field(None, min_length=1, max_length=1000)  # the whole value one of
    """The whole value one of these (each of the given value's shape)."""


class VariantsSpec(Strict):
    """Per-student variants: which values are drawn, how, and what each draw must meet."""

    seed: str = Field(min_length=1, max_length=200)
    """The secret the variants are drawn from (--seed overrides it)."""
    draw: dict[str, DrawRule] = Field(min_length=1, max_length=500)  # name, or exercise_id.name
    """A value's name (or exercise_id.name) → how it is drawn."""
    require: list[str | dict[str, Number]] = Field(
        [], max_length=20, json_schema_extra=shapes.require
    )
    """Constraints every variant meets (redrawn until it does), e.g. no_relu_at_zero, or
    `max_abs: 10`."""
    tries: int = Field(1000, ge=1, le=10_000)  # the sheet's work bounds tries × work, too
    """Draws tried before giving up on a variant."""


class Sheet(Strict):
    """An exgen sheet definition: a problem sheet and its worked key."""

    title: str = Field(max_length=500)
    """The sheet's title."""
    course: str = Field("", max_length=500)
    """The course, printed above the title."""
    due: datetime.date | str | None = None
    """The due date (YYYY-MM-DD) or any text."""
    intro: TexText = ""
    """Markdown before the first exercise, with $…$ math."""
    language: str = Field(
        "en",
        max_length=20,
        description="The language of every fixed string of the sheet and the key: one of "
        + ", ".join(LANGUAGES),
    )
    rounding: RoundingSpec = RoundingSpec()
    """How printed numbers are rounded."""
    decimal: Literal[".", ","] = "."
    """The decimal mark of printed numbers (sheet, key, answers.csv): "." or "," (0,25)."""
    notation: NotationSpec = NotationSpec()
    """The course's symbols."""
    templates: str | None = None  # a folder whose templates override the defaults
    """A folder (beside the definition) whose templates override the defaults."""
    variants: VariantsSpec | None = None
    """Per-student variants (exgen build --variants/--roster)."""
    grading: GradingSpec = GradingSpec()
    """How answers are graded (exgen grade)."""
    exercises: list[Exercise] = Field(min_length=1, max_length=50)
    """The exercises, in order."""

    _intro = field_validator("intro")(_shallow_tex)

    @field_validator("language")
    @classmethod
    def _shipped_language(cls, value: str) -> str:
        if value not in LANGUAGES:
            raise ValueError(
                f"unknown language '{value}' (expected one of: {', '.join(LANGUAGES)})"
            )
        return value
