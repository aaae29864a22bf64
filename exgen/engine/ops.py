"""The operations: each one's forward and backward side by side.

Arrays are 2-D (scalars 1×1, vectors n×1). Exact networks use object arrays of
Fractions, the others float64; every op here works on both where it is rational.
``local`` gives the element-wise local derivative that the key shows (ReLU mask,
σ(1−σ), 1−tanh²); for those ops backward is ``g * local``.
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np


def unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum a gradient over the axes along which an operand was broadcast."""
    for axis, size in enumerate(shape):
        if size == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad


def _like(x: np.ndarray, values) -> np.ndarray:
    """``values`` in x's arithmetic: Fractions for object arrays."""
    arr = np.asarray(values)
    if x.dtype == object:
        return np.vectorize(Fraction, otypes=[object])(arr) if arr.size else arr.astype(object)
    return arr.astype(float)


class Op:
    name = ""
    rational = True        # may run in exact arithmetic
    elementwise_local = False

    def shape(self, *shapes):  # the output shape; engine checks operand fit beforehand
        return shapes[0]

    def forward(self, *xs):
        raise NotImplementedError

    def backward(self, g, xs, out):
        raise NotImplementedError

    def local(self, x, out):
        raise NotImplementedError


class Add(Op):
    name = "add"
    def shape(self, a, b): return np.broadcast_shapes(a, b)
    def forward(self, a, b): return a + b
    def backward(self, g, xs, out): return unbroadcast(g, xs[0].shape), unbroadcast(g, xs[1].shape)


class Sub(Op):
    name = "sub"
    def shape(self, a, b): return np.broadcast_shapes(a, b)
    def forward(self, a, b): return a - b
    def backward(self, g, xs, out): return unbroadcast(g, xs[0].shape), unbroadcast(-g, xs[1].shape)


class Mul(Op):
    name = "mul"
    def shape(self, a, b): return np.broadcast_shapes(a, b)
    def forward(self, a, b): return a * b
    def backward(self, g, xs, out):
        a, b = xs
        return unbroadcast(g * b, a.shape), unbroadcast(g * a, b.shape)


class Div(Op):
    name = "div"
    def shape(self, a, b): return np.broadcast_shapes(a, b)
    def forward(self, a, b): return a / b
    def backward(self, g, xs, out):
        a, b = xs
        return unbroadcast(g / b, a.shape), unbroadcast(-g * a / (b * b), b.shape)


class MatMul(Op):
    name = "matmul"
    def shape(self, a, b): return (a[0], b[1])
    def forward(self, a, b): return a @ b
    def backward(self, g, xs, out):
        a, b = xs
        return g @ b.T, a.T @ g


class Pow(Op):
    """x ** k for a constant k (the engine passes k as ``exponent``)."""
    name = "pow"
    elementwise_local = True

    def __init__(self, exponent: Fraction):
        self.exponent = exponent
        self.rational = exponent.denominator == 1

    def _k(self, x):
        return int(self.exponent) if self.rational else float(self.exponent)

    def forward(self, x): return x ** self._k(x)
    def local(self, x, out): return self._k(x) * x ** (self._k(x) - 1)


class Neg(Op):
    name = "neg"
    def forward(self, x): return -x
    def backward(self, g, xs, out): return (-g,)


class Transpose(Op):
    name = "transpose"
    def shape(self, a): return (a[1], a[0])
    def forward(self, x): return x.T.copy()
    def backward(self, g, xs, out): return (g.T.copy(),)


class Identity(Op):
    name = "identity"
    elementwise_local = True
    def forward(self, x): return x.copy()
    def local(self, x, out): return _like(x, np.ones(x.shape, dtype=int))


class Relu(Op):
    name = "relu"
    elementwise_local = True
    def forward(self, x): return np.where(x > 0, x, _like(x, np.zeros(x.shape, dtype=int)))
    def local(self, x, out): return _like(x, (x > 0).astype(int))  # relu'(0) = 0


class Step(Op):
    name = "step"
    elementwise_local = True
    def forward(self, x): return _like(x, (x > 0).astype(int))
    def local(self, x, out): return _like(x, np.zeros(x.shape, dtype=int))  # step' = 0


class Sigmoid(Op):
    name = "sigmoid"
    rational = False
    elementwise_local = True
    def forward(self, x):
        x = x.astype(float)
        e = np.exp(-np.abs(x))
        return np.where(x >= 0, 1 / (1 + e), e / (1 + e))
    def local(self, x, out): return out * (1 - out)


class Tanh(Op):
    name = "tanh"
    rational = False
    elementwise_local = True
    def forward(self, x): return np.tanh(x.astype(float))
    def local(self, x, out): return 1 - out * out


class Exp(Op):
    name = "exp"
    rational = False
    elementwise_local = True
    def forward(self, x): return np.exp(x.astype(float))
    def local(self, x, out): return out.copy()


class Log(Op):
    name = "log"
    rational = False
    elementwise_local = True
    def forward(self, x): return np.log(x.astype(float))
    def local(self, x, out): return 1 / x.astype(float)


class Softmax(Op):
    """Softmax over the units: down each column (column layout) or along each row."""
    name = "softmax"
    rational = False

    def __init__(self, axis: int = 0):
        self.axis = axis

    def forward(self, x):
        x = x.astype(float)
        e = np.exp(x - x.max(axis=self.axis, keepdims=True))
        return e / e.sum(axis=self.axis, keepdims=True)

    def backward(self, g, xs, out):
        return (out * (g - (g * out).sum(axis=self.axis, keepdims=True)),)


class Sum(Op):
    name = "sum"
    def shape(self, a): return (1, 1)
    def forward(self, x): return np.array([[x.sum()]], dtype=x.dtype)
    def backward(self, g, xs, out): return (np.broadcast_to(g, xs[0].shape).copy(),)


class Mean(Op):
    name = "mean"
    def shape(self, a): return (1, 1)
    def forward(self, x): return np.array([[x.sum() / _count(x)]], dtype=x.dtype)
    def backward(self, g, xs, out):
        return (np.broadcast_to(g / _count(xs[0]), xs[0].shape).copy(),)


def _count(x):
    return Fraction(x.size) if x.dtype == object else float(x.size)


SIMPLE_OPS = {cls.name: cls for cls in (Add, Sub, Mul, Div, MatMul, Neg, Transpose, Identity,
                                        Relu, Step, Sigmoid, Tanh, Exp, Log, Sum, Mean)}


def make_op(name: str, exponent: Fraction | None = None, axis: int = 0) -> Op:
    if name == "pow":
        assert exponent is not None, "pow needs its exponent"
        return Pow(exponent)
    if name == "softmax":
        return Softmax(axis)
    return SIMPLE_OPS[name]()
