"""An independent oracle for the key's printed steps. key.json records each step as an
`expr` tree ({"op": name, "args": [...], "axis": k}) over the printed numbers (decimal
strings; scalars plain, everything else 2-D lists of rows) and the printed `result`; the
`expr` is worked out again here from those printed numbers and set against the `result`.

Its own arithmetic on purpose (nothing from exgen.engine): exact Fractions for the
rational operations, float64 for exp, log, sqrt, sigmoid, tanh, softmax and softplus,
NumPy object arrays for broadcasting; printed numbers without carry stand for intervals
(exgen.check.intervals). The printed numbers are read by exgen.check.printed_numbers, the
element-wise functions are exgen.check.step_functions; exgen.check.step_judging sets the
result against the printed one."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from exgen.check import intervals
from exgen.check.intervals import Interval
from exgen.check.printed_numbers import (
    StepProblem,
    as_array,
    parse_number,
    plain_text,
    printed_array,
    scalar,
    shape_text,
    short,
)
from exgen.check.step_functions import ELEMENTWISE, larger, map_entries, smaller
from exgen.check.tensor_arithmetic import channel_aligned, conv2d, kron, pool, stacked


def _elementwise(name: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = channel_aligned(a, b)
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise StepProblem(
            f"{name} of {shape_text(a)} and {shape_text(b)}: the shapes do not broadcast"
        ) from None
    try:
        if name == "add":
            return as_array(a + b)
        if name == "sub":
            return as_array(a - b)
        if name == "mul":
            return as_array(a * b)
        if name in ("max", "min"):
            return as_array(np.frompyfunc(larger if name == "max" else smaller, 2, 1)(a, b))
        return as_array(a / b)
    except ZeroDivisionError:
        raise StepProblem("division by 0") from None


def _matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    # a printed scalar in a matrix product is the 1×1 matrix it is (one output unit)
    a, b = (x.reshape(1, 1) if x.ndim == 0 else x for x in (a, b))
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
        raise StepProblem(f"matmul of {shape_text(a)} and {shape_text(b)}: the inner sizes differ")
    out = np.empty((a.shape[0], b.shape[1]), dtype=object)
    for i in range(a.shape[0]):
        for j in range(b.shape[1]):
            total = a[i, 0] * b[0, j]
            for k in range(1, a.shape[1]):
                total = total + a[i, k] * b[k, j]
            out[i, j] = total
    return out


def _power(a: np.ndarray, exponent: np.ndarray) -> np.ndarray:
    if exponent.ndim != 0 or isinstance(exponent[()], Interval):
        raise StepProblem("pow's exponent must be one printed number")
    n = exponent[()]
    if isinstance(n, Fraction) and n.denominator == 1:
        k = int(n)

        def integer_power(x):
            if isinstance(x, Interval):
                return x.power(k)
            if x == 0 and k < 0:
                raise StepProblem("division by 0")
            return x**k

        return map_entries(integer_power, a)
    p = float(n)

    def one(x) -> float:
        return math.inf if x == 0 and p < 0 else float(x) ** p

    def real_power(x):
        hi = x.hi if isinstance(x, Interval) else x
        if hi < 0 or (hi == 0 and p < 0):
            raise StepProblem(f"{plain_text(hi)} to the power {plain_text(n)}")
        if isinstance(x, Interval):  # only the part of the interval where x**p is defined
            ends = (one(max(x.lo, 0)), one(x.hi))
            return Interval(min(ends), max(ends))
        if x < 0:
            raise StepProblem(f"{plain_text(x)} to the power {plain_text(n)}")
        return one(x)

    return map_entries(real_power, a)


def _axis(node: dict, a: np.ndarray, default=None):
    axis = node.get("axis", default)
    if axis is None:
        return None
    if axis not in (0, 1) or isinstance(axis, bool):
        raise StepProblem(f"axis {axis!r} (expected 0 or 1)")
    if a.ndim != 2:
        raise StepProblem(f"{node['op']} along axis {axis} of a scalar")
    return axis


def _reduce(node: dict, a: np.ndarray) -> np.ndarray:
    axis = _axis(node, a)
    total = as_array(np.sum(a, axis=axis, keepdims=axis is not None))
    if node["op"] == "sum":
        return total
    count = a.size if axis is None else a.shape[axis]
    return as_array(total / Fraction(count))


def _softmax(node: dict, a: np.ndarray) -> np.ndarray:
    axis = _axis(node, a, default=0) if a.ndim == 2 else None
    if a.ndim == 0:
        return scalar(1.0)
    out = np.empty(a.shape, dtype=object)
    lines = a.T if axis == 0 else a
    target = out.T if axis == 0 else out
    for k, line in enumerate(lines):
        if any(isinstance(x, Interval) for x in line):
            target[k] = intervals.softmax(list(line))
        else:
            h = [float(x) for x in line]
            top = max(h)
            e = [math.exp(x - top) for x in h]
            target[k] = [x / sum(e) for x in e]
    return out


STACK = "stack"  # maps laid out as a tensor: {"op": "stack", "grid": [F, C], "args": [...]}
BINARY = ("add", "sub", "mul", "div", "matmul", "pow", "max", "min", "kron", "conv2d")
UNARY = (
    "transpose",
    "flatten",
    "mapsum",
    "batchsum",
    "sum",
    "mean",
    "softmax",
    "maxpool",
    "avgpool",
    *ELEMENTWISE,
)
OPS = (*BINARY, *UNARY, STACK)
KEYWORDS = {
    "sum": {"axis"},
    "mean": {"axis"},
    "softmax": {"axis"},
    "maxpool": {"size", "stride"},
    "avgpool": {"size", "stride"},
    "conv2d": {"stride", "padding"},
}
VARIADIC = ("max", "min")  # max(0.1, 0.5, −0.2, 0.3): a window's maximum


def evaluate(node, leaf) -> np.ndarray:
    """The value of an `expr` tree; ``leaf`` turns a printed number into a Fraction or
    an Interval. Raises StepProblem for anything that is not a well-formed tree."""
    if not isinstance(node, dict):
        return printed_array(node, leaf)
    op = node.get("op")
    if op not in OPS:
        raise StepProblem(f"unknown op {op!r} (expected one of: {', '.join(OPS)})")
    args = node.get("args")
    if op == STACK:
        if set(node) - {"op", "args", "grid"} or not isinstance(args, list) or not args:
            raise StepProblem(
                f'stack takes "grid" and a list of maps in "args", found {short(args)}'
            )
        return stacked([evaluate(a, leaf) for a in args], node.get("grid"))
    arity = 2 if op in BINARY else 1
    if op in VARIADIC and isinstance(args, list) and len(args) > 2:
        values = [evaluate(a, leaf) for a in args]
        total = values[0]
        for v in values[1:]:
            total = _elementwise(op, total, v)
        return total
    if not isinstance(args, list) or len(args) != arity:
        raise StepProblem(
            f'{op} takes {arity} argument{"s" if arity > 1 else ""} in "args", found {short(args)}'
        )
    unknown = set(node) - {"op", "args"} - KEYWORDS.get(op, set())
    if unknown:
        raise StepProblem(f"{op} does not take {', '.join(sorted(unknown))}")
    if op == "pow":
        return _power(evaluate(args[0], leaf), evaluate(args[1], lambda t: parse_number(t)[0]))
    values = [evaluate(a, leaf) for a in args]
    if op in ("add", "sub", "mul", "div", "max", "min"):
        return _elementwise(op, *values)
    if op == "matmul":
        return _matmul(*values)
    if op == "kron":
        return kron(*values)
    if op == "conv2d":
        return conv2d(node, *values)
    a = values[0]
    if op == "transpose":
        return a.T
    if op == "flatten":  # a map's (or an image's) entries in row-major order, a column
        if a.ndim == 0:
            raise StepProblem("flatten of a scalar (expected a map, an image or a batch)")
        return a.reshape(-1, 1) if a.ndim in (2, 3) else a.reshape(len(a), -1).T
    if op in ("mapsum", "batchsum"):  # an image's (a batch's) entries channel by channel
        if op == "batchsum" and a.ndim != 4:
            raise StepProblem(f"batchsum of {shape_text(a)} (expected a batch N×C×H×W)")
        axes = (1, 2) if a.ndim == 3 else (0, 2, 3)
        return as_array(np.sum(a, axis=axes)).reshape(-1, 1)
    if op in ("sum", "mean"):
        return _reduce(node, a)
    if op == "softmax":
        return _softmax(node, a)
    if op in ("maxpool", "avgpool"):
        return pool(node, a)
    return map_entries(ELEMENTWISE[op], a)
