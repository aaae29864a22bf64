"""What every operation must say about itself, and the registry that refuses one that
leaves a part out (so no key can fall back on a silent default such as ``· 1``).

Scalars, vectors and matrices are 2-D arrays (scalars 1×1, vectors n×1); images C×H×W
and batches N×C×H×W keep their dimensions. Exact networks use object arrays of
Fractions, the others float64; rational ops work on both.
"""

from __future__ import annotations

from fractions import Fraction
from typing import ClassVar

import numpy as np

from exgen.typeset.terms import Context, Spelling, apply, product


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()

# The parts an operation must define (data) ...
DATA_PARTS = {
    "name": "its name in equations and in key.json `expr`",
    "rational": "whether it may run in exact (Fraction) arithmetic",
    "elementwise_local": "whether backward is g ⊙ local derivative",
    "spelling": "how it is typeset (typeset.terms.Spelling: text, LaTeX, precedence)",
    "in_equations": "whether equations may call it as a function f(x)",
    "arity": "how many arrays it takes (an equation's call must give exactly these)",
    "keywords": "the numeric keyword arguments an equation's call may give, each with its "
    "allowed values (e.g. {'axis': (0, 1)}); {} for none",
    "torch": "its PyTorch spelling: a template with {0}, {1} (operands) and {dim}",
    "numpy": "its NumPy spelling (notebooks): a template with {0}, {1} (operands) and {dim}",
    "numpy_grad": "its backward in NumPy (notebooks): element-wise, one template of its "
    "local derivative in {0} (input) and {out}; else one template per operand in {g} "
    "(the output's gradient), {0}, {1}, {out}, {n} (entries of the input) and {dim}",
    "glyph": "its label in the computational graph figure",
    "architecture": "its role in the architecture figure: 'activation', 'data', None, or "
    "'spatial' (it works on a feature map, which is no layer of units: no unit diagram)",
    "gradient_uses": "what its backward needs, for the graph figure: 'others', 'input', 'none'",
    "kinks": "inputs where the derivative jumps (the finite-difference check, variants)",
    "saturates": "the output bounds it flattens towards, or None (no_saturation)",
    "shape_rule": "its output's shape: 'same', 'broadcast', 'matmul', 'transpose', 'scalar', "
    "'keep0', 'keep1', 'own' (the op's shape(), for images, kernels and windows)",
    "tensors": "whether it takes images and batches (values of 3 or 4 dimensions)",
}
# A keyword whose allowed values are any positive number (eps) rather than a list.
POSITIVE: tuple = ("any positive number",)

# ... and (methods). Element-wise ops define local + local_formula + local_note +
# local_mask; the others backward + adjoint.
COMMON_METHODS = ("forward", "example")
LOCAL_PARTS = ("local", "local_formula", "local_note", "local_mask")
ADJOINT_PARTS = ("backward", "adjoint")


class Misfit(ValueError):
    """Inputs whose shapes the operation cannot take; the message may name the inputs
    as {0}, {1}, describe them as {d0}, {d1} ("shape 2×4", "of length 3") and the call
    as {expr}; ``blame`` the index of the input at fault."""

    def __init__(self, message: str, blame: int | None = None):
        super().__init__(message)
        self.blame = blame


def dims(shape: tuple) -> str:
    """A shape as printed in messages: 2×3×3."""
    return "×".join(map(str, shape))


def unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum a gradient over the axes along which an operand was broadcast (and over the
    leading axes it lacks: a scalar or a matrix against an image)."""
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad


def like(x: np.ndarray, values) -> np.ndarray:
    """``values`` in x's arithmetic: Fractions for object arrays."""
    arr = np.asarray(values)
    if x.dtype == object:
        return np.vectorize(Fraction, otypes=[object])(arr) if arr.size else arr.astype(object)
    return arr.astype(float)


def count(x) -> Fraction | float:
    return Fraction(x.size) if x.dtype == object else float(x.size)


class Op:
    """Base of the operations. Every part listed above is MISSING here on purpose."""

    # annotations only: a part an operation does not define stays absent (missing_parts)
    name: str
    rational: bool
    elementwise_local: bool
    spelling: Spelling
    in_equations: bool
    arity: int
    keywords: ClassVar[dict[str, tuple]]
    torch: str | None
    numpy: str
    numpy_grad: tuple[str, ...]
    glyph: str
    architecture: str | None
    gradient_uses: str
    kinks: tuple
    saturates: tuple | None
    shape_rule: str
    tensors: bool
    local_note: str | None  # element-wise: text after the local values, or None
    local_mask: bool  # element-wise: local values print exactly (0/1)
    gradient_note: str | None = None  # said after a backward line it contributes to
    noted_inputs: tuple[int, ...] | None = None  # … to these inputs' lines only (None: all)

    @classmethod
    def built(cls, keywords: dict, unit_axis: int) -> Op:
        """The operation with an equation's keyword arguments; ``unit_axis`` the sheet's
        (0 column layout, 1 row layout), for operations whose default follows it."""
        return cls(**keywords)

    def shape(self, *shapes: tuple) -> tuple[tuple[int, ...], int]:
        """shape_rule 'own': the output's shape and rank from the inputs' shapes, or a
        Misfit saying why they do not fit."""
        raise NotImplementedError

    def size_arithmetic(self, *shapes: tuple) -> list[str]:
        """shape_rule 'own': how the output's size follows from the inputs' (the
        output_shapes ask), one line per direction or count."""
        raise NotImplementedError

    def kwargs(self, ctx: Context) -> dict:
        """Keyword arguments its `expr` carries (e.g. axis); none by default."""
        return {}

    def code_constants(self) -> dict:
        """Constants its NumPy templates name besides the operands (an exponent, an axis)."""
        return {}

    def domain_message(self, text: str, reason: str) -> str | None:
        """Why ``text`` (an equation's right side) cannot be computed, when its input
        left the operation's domain (``reason``: NumPy's); None: the general message."""
        return None

    # the variant constraint that rejects this operation's ties (see tied): no_pool_ties,
    # no_max_ties; None for an operation whose backward never picks between equal inputs
    ties: str | None = None

    def tied(self, *xs) -> bool:
        """Whether the inputs tie where the backward must pick or split (a max-pool window
        with two maxima, max(a, b) with a = b): the constraint named by ``ties`` rejects
        such a draw. False by default."""
        return False

    def on_images(self) -> None:
        """shape_rule 'normalize' on a batch of images: the op's spelling follows it."""
        raise NotImplementedError

    def near_zero(self, *xs) -> bool:
        """Whether the inputs sit where the operation divides by (almost) nothing (a
        batch norm's variance near zero): the no_variance_near_zero constraint."""
        return False

    # Operations whose key prints intermediates on lines of their own (batch norm's μ,
    # σ², x̂; the backward's ∂L/∂x̂) name them here, compute them in ``staged`` and
    # ``staged_backward`` (rounded through ``carry`` as the sheet's rule says, so that
    # each printed line works out from the printed lines before it), and write them in
    # ``stage_symbol`` and ``stage_term``. The solver keeps them in the trace.
    stage_names: ClassVar[tuple[str, ...]] = ()
    grad_stage_names: ClassVar[tuple[str, ...]] = ()  # "grad.<stage>": ∂L/∂ of a stage

    def staged(self, xs, carry) -> dict:
        """The stages, then the output ("out")."""
        raise NotImplementedError

    def staged_backward(self, g, xs, stages: dict, carry) -> tuple[tuple, dict]:
        """The inputs' gradients from the stages, and the backward's own stages."""
        raise NotImplementedError

    def stage_symbol(self, stage: str, x, known: dict):
        """A stage's symbol (or a term, e.g. a sum, that names it), ``x`` the first input
        as written, ``known`` the symbols of the stages before it."""
        raise NotImplementedError

    def stage_term(self, stage: str, args: tuple, stages: dict, ctx: Context):
        """A stage worked out from the inputs and the stages before it (terms)."""
        raise NotImplementedError

    def substituted(self, args: tuple, ctx: Context):
        """The operation with its operands (symbols or printed numbers) put in."""
        return apply(self.name, *args, **self.kwargs(ctx))

    # element-wise ops: out = f(x), backward g ⊙ local(x, out)
    def local(self, x, out):
        raise NotImplementedError

    def local_formula(self, u, out, ctx: Context):
        """The local derivative written symbolically, u the input, out the output."""
        raise NotImplementedError

    # other ops
    def backward(self, g, xs, out):
        raise NotImplementedError

    def adjoint(self, i: int, g, args: tuple, out, ctx: Context):
        """The contribution to input i's gradient as a term (g the output's gradient)."""
        raise NotImplementedError

    def forward(self, *xs):
        raise NotImplementedError

    def example(self, args: tuple, ctx: Context):
        """One output component worked out: the terms printed between "=" signs after
        the component's label, from the first components ``args`` (None: not shown)."""
        raise NotImplementedError

    def elementwise_adjoint(self, g, local, ctx: Context):
        return product(g, local, scalar=ctx.out_rank == 0)


def missing_parts(cls) -> list[str]:
    """The parts ``cls`` leaves out (empty for a complete operation)."""
    out = [p for p in DATA_PARTS if getattr(cls, p, MISSING) is MISSING]
    methods = list(COMMON_METHODS)
    if getattr(cls, "elementwise_local", False) is True:
        methods += LOCAL_PARTS
    elif getattr(cls, "elementwise_local", MISSING) is False:
        methods += ADJOINT_PARTS
    for m in methods:
        mine = getattr(cls, m, MISSING)
        if mine is MISSING or (callable(mine) and mine is getattr(Op, m, None)):
            out.append(m)
    return out


REGISTRY: dict[str, type[Op]] = {}


def register(cls: type[Op]) -> type[Op]:
    """Add an operation to the registry; refuse it when any part is missing."""
    gaps = missing_parts(cls)
    if gaps:
        raise TypeError(f"operation {cls.__name__} lacks: {', '.join(gaps)}")
    if cls.name in REGISTRY:
        raise TypeError(f"two operations are named {cls.name!r}")
    REGISTRY[cls.name] = cls
    return cls


class Elementwise(Op):
    """A function applied entry by entry: out = f(x), backward g ⊙ f′(x)."""

    elementwise_local = True
    in_equations = True
    arity = 1
    keywords: ClassVar[dict[str, tuple]] = {}
    gradient_uses = "input"
    shape_rule = "same"
    tensors = True

    def function(self, x, ctx: Context):
        return apply(self.name, x)
