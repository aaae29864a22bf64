"""An independent oracle for the key's printed steps. key.json records each step as an
`expr` tree ({"op": name, "args": [...], "axis": k}) over the printed numbers (decimal
strings; scalars plain, everything else 2-D lists of rows) and the printed `result`; the
`expr` is worked out again here from those printed numbers and set against the `result`.

Its own arithmetic on purpose (nothing from exgen.engine): exact Fractions for the
rational operations, float64 for exp, log, sqrt, sigmoid, tanh, softmax and softplus,
NumPy object arrays for broadcasting; printed numbers without carry stand for intervals
(exgen.check.intervals). exgen.check.step_judging sets the result against the printed one."""

from __future__ import annotations

import math
import re
from fractions import Fraction

import numpy as np

from exgen.check import intervals
from exgen.check.intervals import Interval, interval
from exgen.check.tensor_arithmetic import (
    TensorProblem,
    channel_aligned,
    filter_bank,
    per_map,
    stacked,
)

NUMBER = re.compile(r"-?\d+(?:\.(\d+))?")
# a number too large for fixed notation, as the key prints it: 2.69×10⁴³
SCIENTIFIC = re.compile(r"(-?\d+(?:\.(\d+))?)×10([⁻]?[⁰¹²³⁴⁵⁶⁷⁸⁹]+)")
SUPERSCRIPT = str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")
FLOAT_SLACK = 1e-12  # float64 results are compared within half a unit plus this


class StepProblem(Exception):
    """A step that cannot be worked out: an unknown op, a malformed tree, a log of 0."""


# ---- numbers and leaves -------------------------------------------------------------


def half_up(x: Fraction, digits: int) -> Fraction:
    """x to ``digits`` decimals, ties away from zero."""
    scaled = abs(x) * 10**digits
    q = int((2 * scaled + 1) // 2)
    return Fraction(q if x >= 0 else -q, 10**digits)


def fixed_text(x: Fraction, digits: int) -> str:
    """x half-up with exactly ``digits`` decimals, in integers (any size)."""
    scaled = half_up(x, digits) * 10**digits
    text = str(abs(scaled.numerator)).rjust(digits + 1, "0")
    sign = "-" if scaled < 0 else ""
    return sign + (f"{text[:-digits]}.{text[-digits:]}" if digits else text)


def plain_text(x) -> str:
    """A number for a message: exact when it ends within 10 decimals, else 10 significant."""
    if isinstance(x, float):
        return repr(x) if not math.isfinite(x) else f"{x:.10g}"
    x = Fraction(x)
    for places in range(11):
        if (x * 10**places).denominator == 1:
            return fixed_text(x, places)
    return f"{float(x):.10g}…"


def parse_number(text) -> tuple[Fraction, int]:
    """A printed number and how many decimals it was printed with (for 2.69×10⁴³: the
    decimals of the place its last digit stands for, here −41)."""
    sci = SCIENTIFIC.fullmatch(text) if isinstance(text, str) else None
    if sci:
        exponent = int(sci.group(3).translate(SUPERSCRIPT))
        return Fraction(sci.group(1)) * Fraction(10) ** exponent, len(sci.group(2) or "") - exponent
    if not isinstance(text, str) or not NUMBER.fullmatch(text):
        raise StepProblem(f'{text!r} is not a printed number (expected e.g. "-1.96")')
    decimals = NUMBER.fullmatch(text).group(1)
    return Fraction(text), len(decimals or "")


def printed_array(value, number) -> np.ndarray:
    """A printed scalar or 2-D list as an object array (0-d or 2-D), each entry number(text);
    an image or a batch (nested deeper) keeps its dimensions."""
    if isinstance(value, str):
        return _scalar(number(value))
    if isinstance(value, list) and value and all(isinstance(m, list) for m in value):
        if all(isinstance(r, list) and r and isinstance(r[0], list) for r in value):
            parts = [printed_array(m, number) for m in value]
            if len({p.shape for p in parts}) != 1:
                raise StepProblem(f"{_short(value)}: maps of different shapes")
            return stacked(parts, [len(parts)]) if parts[0].ndim == 2 else _stack_images(parts)
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(row, list) and row for row in value)
    ):
        raise StepProblem(f"{_short(value)} is neither a printed number nor a list of rows")
    if len({len(row) for row in value}) != 1:
        raise StepProblem(f"{_short(value)}: rows of different lengths")
    out = np.empty((len(value), len(value[0])), dtype=object)
    for i, row in enumerate(value):
        for j, text in enumerate(row):
            out[i, j] = number(text)
    return out


def _stack_images(parts: list[np.ndarray]) -> np.ndarray:
    out = np.empty((len(parts), *parts[0].shape), dtype=object)
    for i, p in enumerate(parts):
        out[i] = p
    return out


def _scalar(x) -> np.ndarray:
    out = np.empty((), dtype=object)
    out[()] = x
    return out


def _array(x) -> np.ndarray:
    """NumPy hands back a bare object for 0-d results; keep everything an array."""
    return x if isinstance(x, np.ndarray) else _scalar(x)


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


# ---- element-wise functions -----------------------------------------------------------


def _exact_or_interval(point):
    """An exact, non-decreasing function: applied to both ends of an interval."""
    return lambda x: intervals.increasing(point, x) if isinstance(x, Interval) else point(x)


def _float(f, domain=None):
    """A float64 function, non-decreasing on its domain (x > lowest, or x >= lowest)."""

    def point(x):
        if domain is not None:
            lowest, closed, what = domain
            if x < lowest or (x == lowest and not closed):
                raise StepProblem(f"{what} of {plain_text(x)}")
        return float(f(float(x)))

    def apply(x):
        if not isinstance(x, Interval):
            return point(x)
        if domain is not None:
            lowest, closed, what = domain
            if x.hi < lowest or (x.hi == lowest and not closed):
                raise StepProblem(
                    f"{what} of a number between {plain_text(x.lo)} and {plain_text(x.hi)}"
                )
            if x.lo < lowest or (x.lo == lowest and not closed):
                return Interval(f(float(lowest)) if closed else -math.inf, point(x.hi))
        return Interval(point(x.lo), point(x.hi))

    return apply


def _relu(x):
    return x if x > 0 else 0.0 if isinstance(x, float) else Fraction(0)  # not 0·x: 0·(−∞)


def _leaky_relu(x):
    return x if x > 0 else x * Fraction(1, 100)


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


ELEMENTWISE = {
    "neg": lambda x: -x,
    "identity": lambda x: x,
    "relu": _exact_or_interval(_relu),
    "step": _exact_or_interval(lambda x: Fraction(1) if x > 0 else Fraction(0)),
    "leaky_relu": _exact_or_interval(_leaky_relu),
    "exp": _float(_exp),
    "log": _float(math.log, (0, False, "log")),
    "sqrt": _float(math.sqrt, (0, True, "square root")),
    "sigmoid": _float(lambda x: _sigmoid(x) if math.isfinite(x) else float(x > 0)),
    "tanh": _float(math.tanh),
    "softplus": _float(lambda x: float(np.logaddexp(0.0, x))),
}


def _map(f, a: np.ndarray) -> np.ndarray:
    return _array(np.frompyfunc(f, 1, 1)(a))


# ---- operations -------------------------------------------------------------------------


def shape_text(a: np.ndarray) -> str:
    return "a scalar" if a.ndim == 0 else "×".join(map(str, a.shape))


def _larger(x, y):
    """max of two printed numbers, or of the intervals they stand for."""
    if isinstance(x, Interval) or isinstance(y, Interval):
        x, y = interval(x), interval(y)
        return Interval(max(x.lo, y.lo), max(x.hi, y.hi))
    return max(x, y)


def _smaller(x, y):
    if isinstance(x, Interval) or isinstance(y, Interval):
        x, y = interval(x), interval(y)
        return Interval(min(x.lo, y.lo), min(x.hi, y.hi))
    return min(x, y)


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
            return _array(a + b)
        if name == "sub":
            return _array(a - b)
        if name == "mul":
            return _array(a * b)
        if name in ("max", "min"):
            return _array(np.frompyfunc(_larger if name == "max" else _smaller, 2, 1)(a, b))
        return _array(a / b)
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

        return _map(integer_power, a)
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

    return _map(real_power, a)


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
    total = _array(np.sum(a, axis=axis, keepdims=axis is not None))
    if node["op"] == "sum":
        return total
    count = a.size if axis is None else a.shape[axis]
    return _array(total / Fraction(count))


def _softmax(node: dict, a: np.ndarray) -> np.ndarray:
    axis = _axis(node, a, default=0) if a.ndim == 2 else None
    if a.ndim == 0:
        return _scalar(1.0)
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


def _pool(node: dict, a: np.ndarray) -> np.ndarray:
    """Max- or average pooling of a 2-D map: size×size windows every stride entries."""
    size = node.get("size", 2)
    stride = node.get("stride", size)
    if a.ndim > 2:
        return per_map(a, lambda m: _pool(node, m))
    if a.ndim != 2 or min(a.shape) < size:
        raise StepProblem(f"{node['op']} of {shape_text(a)}: the {size}×{size} window does not fit")
    rows, cols = ((n - size) // stride + 1 for n in a.shape)
    out = np.empty((rows, cols), dtype=object)
    for i in range(rows):
        for j in range(cols):
            cells = list(a[i * stride : i * stride + size, j * stride : j * stride + size].ravel())
            total = cells[0]
            for c in cells[1:]:
                total = _larger(total, c) if node["op"] == "maxpool" else total + c
            out[i, j] = total if node["op"] == "maxpool" else total / Fraction(size * size)
    return out


def _kron(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The Kronecker product: a block b·aᵢⱼ for each entry of a."""
    a, b = (x.reshape(1, 1) if x.ndim == 0 else x for x in (a, b))
    out = np.empty((a.shape[0] * b.shape[0], a.shape[1] * b.shape[1]), dtype=object)
    p, q = b.shape
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            out[i * p : (i + 1) * p, j * q : (j + 1) * q] = _array(a[i, j] * b)
    return out


def _conv2d(node: dict, x: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Cross-correlation of a printed image with a printed kernel (F.conv2d, one channel),
    or of an image or a batch with a bank of filters F×C×kh×kw."""
    stride, padding = node.get("stride", 1), node.get("padding", 0)
    for key, value, lowest in (("stride", stride, 1), ("padding", padding, 0)):
        if not isinstance(value, int) or isinstance(value, bool) or value < lowest:
            raise StepProblem(f"conv2d's {key} {value!r} (expected an integer >= {lowest})")
    if k.ndim == 4:
        try:
            return filter_bank(x, k, lambda xm, km: _correlate(xm, km, stride, padding))
        except TensorProblem as problem:
            raise StepProblem(str(problem)) from None
    return _correlate(x, k, stride, padding)


def _correlate(x: np.ndarray, k: np.ndarray, stride: int, padding: int) -> np.ndarray:
    x, k = (a.reshape(1, 1) if a.ndim == 0 else a for a in (x, k))
    if x.ndim != 2 or k.ndim != 2:
        raise StepProblem(f"conv2d of {shape_text(x)} with a {shape_text(k)} kernel")
    if padding:
        grown = np.full((x.shape[0] + 2 * padding, x.shape[1] + 2 * padding), Fraction(0))
        grown = grown.astype(object)
        grown[padding:-padding, padding:-padding] = x
        x = grown
    kh, kw = k.shape
    if kh > x.shape[0] or kw > x.shape[1]:
        raise StepProblem(f"conv2d of {shape_text(x)} with a {shape_text(k)} kernel")
    out = np.empty(((x.shape[0] - kh) // stride + 1, (x.shape[1] - kw) // stride + 1), object)
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            total = x[stride * i, stride * j] * k[0, 0]
            for a in range(kh):
                for b in range(kw):
                    if a or b:
                        total = total + x[stride * i + a, stride * j + b] * k[a, b]
            out[i, j] = total
    return out


STACK = "stack"  # maps laid out as a tensor: {"op": "stack", "grid": [F, C], "args": [...]}
BINARY = ("add", "sub", "mul", "div", "matmul", "pow", "max", "min", "kron", "conv2d")
UNARY = (
    "transpose",
    "flatten",
    "mapsum",
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
                f'stack takes "grid" and a list of maps in "args", found {_short(args)}'
            )
        try:
            return stacked([evaluate(a, leaf) for a in args], node.get("grid"))
        except TensorProblem as problem:
            raise StepProblem(str(problem)) from None
    arity = 2 if op in BINARY else 1
    if op in VARIADIC and isinstance(args, list) and len(args) > 2:
        values = [evaluate(a, leaf) for a in args]
        total = values[0]
        for v in values[1:]:
            total = _elementwise(op, total, v)
        return total
    if not isinstance(args, list) or len(args) != arity:
        raise StepProblem(
            f'{op} takes {arity} argument{"s" if arity > 1 else ""} in "args", found {_short(args)}'
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
        return _kron(*values)
    if op == "conv2d":
        return _conv2d(node, *values)
    a = values[0]
    if op == "transpose":
        return a.T
    if op == "mapsum":  # an image's (a batch's) entries summed channel by channel
        axes = (1, 2) if a.ndim == 3 else (0, 2, 3)
        return _array(np.sum(a, axis=axes)).reshape(-1, 1)
    if op == "flatten":  # a map's (or an image's) entries in row-major order, a column
        return a.reshape(-1, 1) if a.ndim in (2, 3) else a.reshape(len(a), -1).T
    if op in ("sum", "mean"):
        return _reduce(node, a)
    if op == "softmax":
        return _softmax(node, a)
    if op in ("maxpool", "avgpool"):
        return _pool(node, a)
    return _map(ELEMENTWISE[op], a)
