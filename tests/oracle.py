"""An independent oracle for the engine: forward-mode dual numbers on plain lists.

It shares nothing with exgen's engine but the parsed equations: values are lists of
lists of Dual numbers (value, derivative) over Fractions or floats, and each gradient
entry is one forward pass seeded on one input element. Exact for rational networks.
"""

from __future__ import annotations

import math
from fractions import Fraction


class Dual:
    __slots__ = ("d", "v")

    def __init__(self, v, d=0):
        self.v, self.d = v, d

    def __add__(self, o):
        return Dual(self.v + o.v, self.d + o.d)

    def __sub__(self, o):
        return Dual(self.v - o.v, self.d - o.d)

    def __mul__(self, o):
        return Dual(self.v * o.v, self.d * o.v + self.v * o.d)

    def __truediv__(self, o):
        return Dual(self.v / o.v, (self.d * o.v - self.v * o.d) / (o.v * o.v))

    def __neg__(self):
        return Dual(-self.v, -self.d)


def _ipow(x: Dual, k) -> Dual:
    if isinstance(k, Fraction) and k.denominator == 1:
        n = int(k)
        return Dual(x.v**n, n * x.v ** (n - 1) * x.d if n else 0)
    k = float(k)
    return Dual(float(x.v) ** k, k * float(x.v) ** (k - 1) * x.d)


def _sig(x: Dual) -> Dual:
    s = 1 / (1 + math.exp(-float(x.v)))
    return Dual(s, s * (1 - s) * x.d)


UNARY = {
    "relu": lambda x: Dual(x.v, x.d) if x.v > 0 else Dual(0 * x.v, 0 * x.d),
    "step": lambda x: Dual(1 if x.v > 0 else 0, 0),
    "identity": lambda x: Dual(x.v, x.d),
    "sigmoid": _sig,
    "tanh": lambda x: Dual(math.tanh(x.v), (1 - math.tanh(x.v) ** 2) * x.d),
    "exp": lambda x: Dual(math.exp(x.v), math.exp(x.v) * x.d),
    "log": lambda x: Dual(math.log(x.v), x.d / x.v),
    "sqrt": lambda x: Dual(math.sqrt(x.v), x.d / (2 * math.sqrt(x.v))),
    "neg": lambda x: -x,
}


def as_matrix(value):
    """A given value (number, 1-D or 2-D list) as rows of Duals; 1-D is a column.
    Elements that are Duals already (a seeded element) are kept as they are."""

    def wrap(v):
        return v if isinstance(v, Dual) else Dual(v)

    if not isinstance(value, list):
        return [[wrap(value)]], 0
    if not isinstance(value[0], list):
        return [[wrap(v)] for v in value], 1
    return [[wrap(v) for v in row] for row in value], 2


def _shape(m):
    return len(m), len(m[0])


def _bcast(a, b, ranks):
    (ra, ca), (rb, cb) = _shape(a), _shape(b)
    if not ((ra == rb or 1 in (ra, rb)) and (ca == cb or 1 in (ca, cb))):
        # a column vector against a row-layout batch: use it as a row
        if ranks[0] == 1 and cb == ra:
            a = [[a[i][0] for i in range(ra)]]
        elif ranks[1] == 1 and ca == rb:
            b = [[b[i][0] for i in range(rb)]]
        (ra, ca), (rb, cb) = _shape(a), _shape(b)
    rows, cols = max(ra, rb), max(ca, cb)
    return [
        [
            (a[i if ra > 1 else 0][j if ca > 1 else 0], b[i if rb > 1 else 0][j if cb > 1 else 0])
            for j in range(cols)
        ]
        for i in range(rows)
    ]


def evaluate(equations, given: dict, layout: str = "column") -> dict:
    """Every named node's Dual matrix, from the Expr trees of parsed equations."""
    env = {name: as_matrix(v) for name, v in given.items()}

    def ev(e):
        if e.op == "name":
            return env[e.name]
        if e.op == "const":
            return [[Dual(e.value)]], 0
        if e.op == "pow":
            m, r = ev(e.args[0])
            return [[_ipow(x, e.args[1].value) for x in row] for row in m], r
        if e.op in ("add", "sub", "mul", "div"):
            (a, ra), (b, rb) = ev(e.args[0]), ev(e.args[1])
            f = {
                "add": Dual.__add__,
                "sub": Dual.__sub__,
                "mul": Dual.__mul__,
                "div": Dual.__truediv__,
            }[e.op]
            out = [[f(x, y) for x, y in row] for row in _bcast(a, b, (ra, rb))]
            return out, max(ra, rb) if len(out[0]) == 1 else 2
        if e.op in ("max", "min"):
            (a, ra), (b, rb) = ev(e.args[0]), ev(e.args[1])
            out = [[_extremum(e.op, x, y) for x, y in row] for row in _bcast(a, b, (ra, rb))]
            return out, max(ra, rb) if len(out[0]) == 1 else 2
        if e.op == "conv2d":
            (m, _), (k, _) = ev(e.args[0]), ev(e.args[1])
            kw = dict(e.keywords)
            return _conv2d(m, k, int(kw.get("stride", 1)), int(kw.get("padding", 0))), 2
        if e.op in ("maxpool", "avgpool"):
            m, _ = ev(e.args[0])
            kw = dict(e.keywords)
            size = int(kw.get("size", 2))
            return _pool(e.op, m, size, int(kw.get("stride", size))), 2
        if e.op == "matmul":
            (a, _), (b, rb) = ev(e.args[0]), ev(e.args[1])
            out = []
            for i in range(len(a)):
                row = []
                for j in range(len(b[0])):
                    acc = a[i][0] * b[0][j]
                    for k in range(1, len(b)):
                        acc = acc + a[i][k] * b[k][j]
                    row.append(acc)
                out.append(row)
            return out, rb
        if e.op == "transpose":
            m, r = ev(e.args[0])
            return [list(col) for col in zip(*m)], (0 if r == 0 else 2)
        m, r = ev(e.args[0])
        axis = dict(e.keywords).get("axis")
        if e.op in ("sum", "mean") and axis is not None:  # keeping the axis, as keepdims
            lines = [list(c) for c in zip(*m)] if axis == 0 else m
            out = [_total(line, e.op == "mean") for line in lines]
            return ([out] if axis == 0 else [[x] for x in out]), 2 if axis == 0 else 1
        if e.op in ("sum", "mean"):
            flat = [x for row in m for x in row]
            acc = flat[0]
            for x in flat[1:]:
                acc = acc + x
            if e.op == "mean":
                acc = acc / Dual(
                    Fraction(len(flat)) if isinstance(acc.v, Fraction) else float(len(flat))
                )
            return [[acc]], 0
        if e.op == "softmax":
            by_rows = axis == 1 if axis is not None else layout == "row"
            cols = m if by_rows else [list(c) for c in zip(*m)]
            outs = []
            for col in cols:
                top = max(float(x.v) for x in col)
                exps = [UNARY["exp"](x - Dual(top)) for x in col]
                total = exps[0]
                for x in exps[1:]:
                    total = total + x
                outs.append([x / total for x in exps])
            return (outs if by_rows else [list(c) for c in zip(*outs)]), r
        return [[UNARY[e.op](x) for x in row] for row in m], r

    for eq in equations:
        env[eq.target] = ev(eq.expr)
    return env


def _total(xs: list, mean: bool) -> Dual:
    acc = xs[0]
    for x in xs[1:]:
        acc = acc + x
    if mean:
        acc = acc / Dual(Fraction(len(xs)) if isinstance(acc.v, Fraction) else float(len(xs)))
    return acc


def _extremum(op: str, a: Dual, b: Dual) -> Dual:
    """max/min of two Duals; at a tie the derivative is split in half (torch.maximum)."""
    if a.v == b.v:
        return Dual(a.v, (a.d + b.d) * Fraction(1, 2))  # an int 0 stays exact
    first = a.v > b.v if op == "max" else a.v < b.v
    return a if first else b


def _conv2d(m, k, stride: int, padding: int):
    """Cross-correlation of a zero-padded map with a kernel (F.conv2d, one channel)."""
    zero = Dual(0 * m[0][0].v)
    cols = len(m[0]) + 2 * padding
    padded = (
        [[zero] * cols for _ in range(padding)]
        + [[zero] * padding + row + [zero] * padding for row in m]
        + [[zero] * cols for _ in range(padding)]
    )
    kh, kw = len(k), len(k[0])
    out = []
    for i in range(0, len(padded) - kh + 1, stride):
        row = []
        for j in range(0, cols - kw + 1, stride):
            terms = [padded[i + a][j + b] * k[a][b] for a in range(kh) for b in range(kw)]
            row.append(_total(terms, False))
        out.append(row)
    return out


def _pool(op: str, m, size: int, stride: int):
    """max_pool2d (the first maximum in row-major order wins a tie, as PyTorch) or
    avg_pool2d over size×size windows, no padding."""
    out = []
    for i in range(0, len(m) - size + 1, stride):
        row = []
        for j in range(0, len(m[0]) - size + 1, stride):
            window = [m[i + a][j + b] for a in range(size) for b in range(size)]
            if op == "avgpool":
                row.append(_total(window, True))
            else:
                best = window[0]
                for x in window[1:]:
                    best = x if x.v > best.v else best
                row.append(best)
        out.append(row)
    return out


def values_and_gradients(equations, given: dict, loss: str, layout: str = "column"):
    """Forward values of every named node and ∂loss/∂(each given value)."""
    base = evaluate(equations, given, layout)
    values = {k: [[x.v for x in row] for row in m] for k, (m, _) in base.items()}
    grads = {}
    for name, value in given.items():
        matrix, rank = as_matrix(value)
        g = [[None] * len(matrix[0]) for _ in matrix]
        for i in range(len(matrix)):
            for j in range(len(matrix[0])):
                env = evaluate(equations, {**given, name: _seed(value, rank, i, j)}, layout)
                g[i][j] = env[loss][0][0][0].d
        grads[name] = g
    return values, grads


def _seed(value, rank, i, j):
    """The given value with element (i, j) carrying derivative 1."""
    one = Fraction(1) if _is_exact(value) else 1.0
    if rank == 0:
        return Dual(value, one)
    if rank == 1:
        return [Dual(v, one if k == i else 0) for k, v in enumerate(value)]
    return [
        [Dual(v, one if (r, c) == (i, j) else 0) for c, v in enumerate(row)]
        for r, row in enumerate(value)
    ]


def _is_exact(value):
    flat = (
        value
        if not isinstance(value, list)
        else ([x for row in value for x in (row if isinstance(row, list) else [row])])
    )
    flat = flat if isinstance(flat, list) else [flat]
    return all(isinstance(x, (Fraction, int)) for x in flat)
