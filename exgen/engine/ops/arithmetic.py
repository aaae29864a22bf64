"""Arithmetic: + − ⊙/· ÷ @ unary minus, transpose and constant powers."""

from __future__ import annotations

from fractions import Fraction
from typing import ClassVar

from exgen.engine.ops.base import Op, register, unbroadcast
from exgen.typeset.terms import Apply, Context, Leaf, Spelling, apply, leaf, negated, product


def _scalar(ctx: Context, *positions: int) -> bool:
    return any(ctx.ranks[p] == 0 for p in positions)


class _Binary(Op):
    rational = True
    elementwise_local = False
    in_equations = False
    arity = 2
    keywords: ClassVar[dict[str, tuple]] = {}
    architecture: str | None = None
    kinks = ()
    saturates = None
    shape_rule = "broadcast"
    tensors = True

    def example(self, args, ctx):
        return [self.substituted(args, Context((0, 0), 0, ctx.layout))]


@register
class Add(_Binary):
    name = "add"
    spelling = Spelling("infix", "+", "+", 1)
    torch = "{0} + {1}"
    numpy = "{0} + {1}"
    numpy_grad = ("{g}", "{g}")
    glyph = "+"
    architecture = "data"
    gradient_uses = "none"

    def forward(self, a, b):
        return a + b

    def backward(self, g, xs, out):
        return unbroadcast(g, xs[0].shape), unbroadcast(g, xs[1].shape)

    def adjoint(self, i, g, args, out, ctx):
        return g


@register
class Sub(_Binary):
    name = "sub"
    spelling = Spelling("infix", "−", "-", 1)
    torch = "{0} - {1}"
    numpy = "{0} - {1}"
    numpy_grad = ("{g}", "-{g}")
    glyph = "−"
    architecture = "data"
    gradient_uses = "none"

    def forward(self, a, b):
        return a - b

    def backward(self, g, xs, out):
        return unbroadcast(g, xs[0].shape), unbroadcast(-g, xs[1].shape)

    def adjoint(self, i, g, args, out, ctx):
        return g if i == 0 else negated(g)


@register
class Mul(_Binary):
    """Element-wise (⊙) or by a scalar (·): one operation, two signs."""

    name = "mul"
    spelling = Spelling("infix", "·", r"\cdot", 2, alt_text="⊙", alt_latex=r"\odot")
    torch = "{0} * {1}"
    numpy = "{0} * {1}"
    numpy_grad = ("{g} * {1}", "{g} * {0}")
    glyph = "×"
    architecture = "data"
    gradient_uses = "others"

    def forward(self, a, b):
        return a * b

    def backward(self, g, xs, out):
        a, b = xs
        return unbroadcast(g * b, a.shape), unbroadcast(g * a, b.shape)

    def substituted(self, args, ctx):
        return product(args[0], args[1], scalar=_scalar(ctx, 0, 1))

    def adjoint(self, i, g, args, out, ctx):
        other = args[1 - i]
        if ctx.ranks[1 - i] == 0:
            return product(other, g, scalar=True)
        return product(g, other, scalar=ctx.out_rank == 0)


@register
class Div(_Binary):
    name = "div"
    spelling = Spelling("frac", "/", r"\frac", 8)
    torch = "{0} / {1}"
    numpy = "{0} / {1}"
    numpy_grad = ("{g} / {1}", "-{g} * {0} / {1} ** 2")
    glyph = "÷"
    gradient_uses = "others"

    def forward(self, a, b):
        return a / b

    def backward(self, g, xs, out):
        a, b = xs
        return unbroadcast(g / b, a.shape), unbroadcast(-g * a / (b * b), b.shape)

    def adjoint(self, i, g, args, out, ctx):
        a, b = args
        if i == 0:
            return apply("div", g, b)
        return negated(
            product(
                g,
                apply("div", a, apply("pow", b, leaf("2"))),
                scalar=ctx.out_rank == 0 or ctx.ranks[0] == 0,
            )
        )


def _transposed(term, ctx: Context, k: int):
    """Operand k transposed, (Kᵀ)ᵀ written K: a transposed operand (ctx.extra["transposed"])
    is put back, its symbol unwrapped, its printed numbers turned back."""
    if not ctx.extra.get("transposed", (False, False))[k]:
        return apply("transpose", term)
    if isinstance(term, Apply) and term.op == "transpose":
        return term.args[0]
    if isinstance(term, Leaf) and term.rank == 2:
        return Leaf(tuple(zip(*term.rows)), 2)
    return apply("transpose", term)


@register
class MatMul(Op):
    name = "matmul"
    rational = True
    elementwise_local = False
    in_equations = False
    arity = 2
    keywords: ClassVar[dict[str, tuple]] = {}
    spelling = Spelling("juxtapose", "\u2009", r"\,", 2)
    torch = "{0} @ {1}"
    numpy = "{0} @ {1}"
    numpy_grad = ("{g} @ {1}.T", "{0}.T @ {g}")
    glyph = "@"
    architecture = "data"
    gradient_uses = "others"
    kinks = ()
    saturates = None
    shape_rule = "matmul"
    tensors = False

    def forward(self, a, b):
        return a @ b

    def backward(self, g, xs, out):
        a, b = xs
        return g @ b.T, a.T @ g

    def adjoint(self, i, g, args, out, ctx):
        if i == 0:
            return apply("matmul", g, _transposed(args[1], ctx, 1))
        return apply("matmul", _transposed(args[0], ctx, 0), g)

    def example(self, args, ctx):
        """Row 1 of the left operand times column 1 of the right: ctx.extra["rows"] holds
        the printed row and column."""
        left, right = ctx.extra["rows"]
        if len(left) < 2:
            return None
        terms = [product(leaf(a), leaf(b), scalar=True) for a, b in zip(left, right)]
        total = terms[0]
        for t in terms[1:]:
            total = apply("add", total, t)
        return [total]


@register
class Neg(Op):
    name = "neg"
    rational = True
    elementwise_local = False
    in_equations = False
    arity = 1
    keywords: ClassVar[dict[str, tuple]] = {}
    spelling = Spelling("prefix", "−", "-", 3)
    torch = "-{0}"
    numpy = "-{0}"
    numpy_grad = ("-{g}",)
    glyph = "−"
    architecture = "data"
    gradient_uses = "none"
    kinks = ()
    saturates = None
    shape_rule = "same"
    tensors = True

    def forward(self, x):
        return -x

    def backward(self, g, xs, out):
        return (-g,)

    def adjoint(self, i, g, args, out, ctx):
        return negated(g)

    def example(self, args, ctx):
        return None


@register
class Transpose(Op):
    name = "transpose"
    rational = True
    elementwise_local = False
    in_equations = False
    arity = 1
    keywords: ClassVar[dict[str, tuple]] = {}
    spelling = Spelling("sup", "T", r"\top", 4)
    torch = "{0}.T"
    numpy = "{0}.T"
    numpy_grad = ("{g}.T",)
    glyph = "ᵀ"
    architecture = "data"
    gradient_uses = "none"
    kinks = ()
    saturates = None
    shape_rule = "transpose"
    tensors = False

    def forward(self, x):
        return x.T.copy()

    def backward(self, g, xs, out):
        return (g.T.copy(),)

    def adjoint(self, i, g, args, out, ctx):
        return apply("transpose", g)

    def example(self, args, ctx):
        return None


def exponent_text(k: Fraction) -> str:
    if k.denominator == 1:
        return str(k.numerator)
    return format(float(k), "g")


@register
class Pow(Op):
    """x ** k for a constant k (the engine passes k as ``exponent``)."""

    name = "pow"
    rational = True
    elementwise_local = True
    in_equations = False
    arity = 1
    keywords: ClassVar[dict[str, tuple]] = {}
    spelling = Spelling("sup", "^", "^", 4)
    torch = "{0} ** {1}"
    numpy = "{0} ** {k}"
    numpy_grad = ("{k} * {0} ** {k1}",)
    glyph = "^"
    architecture = None
    gradient_uses = "input"
    kinks = ()
    saturates = None
    shape_rule = "same"
    tensors = True
    local_note = None
    local_mask = False

    def __init__(self, exponent: Fraction = Fraction(2)):
        self.exponent = Fraction(exponent)
        self.rational = self.exponent.denominator == 1

    def code_constants(self) -> dict:
        return {"k": exponent_text(self.exponent), "k1": exponent_text(self.exponent - 1)}

    def _k(self, x):
        return int(self.exponent) if self.rational else float(self.exponent)

    def forward(self, x):
        return x ** self._k(x)

    def local(self, x, out):
        return self._k(x) * x ** (self._k(x) - 1)

    def substituted(self, args, ctx):
        return apply("pow", args[0], leaf(exponent_text(self.exponent)))

    def local_formula(self, u, out, ctx):
        k = self.exponent
        if k == 1:
            return leaf("1")
        power = u if k == 2 else apply("pow", u, leaf(exponent_text(k - 1)))
        return product(leaf(exponent_text(k)), power, scalar=True)

    def example(self, args, ctx):
        return [self.substituted(args, ctx)]
