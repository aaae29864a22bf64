"""Random networks that mix issue 12's operations (conv2d, max- and average pooling,
softmax over an axis, sqrt, max/min of two arrays, sum/mean over an axis, a sigmoid with
a binary cross-entropy written with log) with the MLP's (matmul, +, ⊙, relu, tanh, …),
for the oracle tests (tests/test_mixed_networks.py).

Every value is an array of a known shape, and each operation is one `Layer` in LAYERS:
whether it fits a value of a given shape (a kernel must fit the padded image, a pooling
window the map), whether it is rational (exact networks use only those), and how it
writes its equation and the output's shape. The generator only ever picks a layer that
fits, so every network it makes compiles. A new operation or a new family of shapes
(channels, batches: C×H×W, N×C×H×W) is one more `Layer` here whose `fits` looks at
``len(shape)``, and its spelling in the two oracles (tests/oracle.py, tests/torch_oracle.py).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

Shape = tuple[int, ...]


@dataclass
class Net:
    """A network being drawn: its equations, given values and parameters so far."""

    rng: random.Random
    rational: bool
    equations: list[str] = field(default_factory=list)
    given: dict = field(default_factory=dict)
    params: list[str] = field(default_factory=list)
    pool: list[tuple[str, Shape]] = field(default_factory=list)  # (name, shape) so far

    def number(self, lo: int = -8, hi: int = 8) -> Fraction:
        """A multiple of 1/4 in [lo/4, hi/4]: exact in binary, so float and exact agree."""
        return Fraction(self.rng.randint(lo, hi), 4)

    def array(self, shape: Shape, lo: int = -8, hi: int = 8):
        if not shape:
            return self.number(lo, hi)
        return [self.array(shape[1:], lo, hi) for _ in range(shape[0])]

    def value(self, prefix: str, shape: Shape, learned: bool = True, lo=-8, hi=8) -> str:
        """A new given value (a parameter unless ``learned`` is False), named after its
        prefix and the equation count; a 1-D shape is given as a 1-D list (a column)."""
        name = f"{prefix}{len(self.equations) + 1}"
        self.given[name] = self.array(shape, lo, hi)
        if learned:
            self.params.append(name)
        return name

    def same_shape(self, shape: Shape, exclude: str) -> str:
        """Another value of this shape: an earlier node (a skip) or a new given one."""
        others = [n for n, s in self.pool if s == shape and n != exclude]
        if others and self.rng.random() < 0.5:
            return self.rng.choice(others)
        return self.value("v", shape)


@dataclass(frozen=True)
class Layer:
    name: str
    rational: bool  # exact: may appear in an all-rational network
    fits: Callable[[Shape], bool]
    make: Callable[[Net, str, Shape], tuple[str, Shape]]  # (right-hand side, out shape)


def _matrix(shape: Shape) -> bool:
    return len(shape) == 2


def _map(least: int) -> Callable[[Shape], bool]:
    return lambda s: len(s) == 2 and min(s) >= least


def _matmul(net: Net, src: str, shape: Shape):
    out = net.rng.randint(1, 4)
    w = net.value("W", (out, shape[0]), lo=-4, hi=4)
    text = f"{w} @ {src}"
    bias = net.rng.choice(["vector", "scalar", None])
    if bias == "vector":
        text += f" + {net.value('b', (out,))}"
    elif bias == "scalar":
        text = f"{net.value('c', ())} + {text}"
    return text, (out, shape[1])


def _conv(net: Net, src: str, shape: Shape):
    rows, cols = shape
    stride, padding = net.rng.randint(1, 2), net.rng.randint(0, 1)
    kh = net.rng.randint(1, min(3, rows + 2 * padding))  # the kernel fits the padded image
    kw = net.rng.randint(1, min(3, cols + 2 * padding))
    k = net.value("K", (kh, kw), lo=-4, hi=4)
    text = f"conv2d({src}, {k}, stride={stride}, padding={padding})"
    if net.rng.random() < 0.5:
        text += f" + {net.value('c', ())}"
    out = ((rows + 2 * padding - kh) // stride + 1, (cols + 2 * padding - kw) // stride + 1)
    return text, out


def _pool(kind: str):
    def make(net: Net, src: str, shape: Shape):
        size = net.rng.randint(2, min(3, *shape))  # the window fits the map
        stride = net.rng.choice([1, 2, size])
        keywords = "" if size == 2 and stride == 2 else f", size={size}, stride={stride}"
        out = tuple((n - size) // stride + 1 for n in shape)
        return f"{kind}({src}{keywords})", out

    return make


def _unary(fn: str):
    return lambda net, src, shape: (f"{fn}({src})", shape)


def _extremum(fn: str):
    def make(net: Net, src: str, shape: Shape):
        other = net.same_shape(shape, src)
        return f"{fn}({src}, {other})", shape

    return make


def _hadamard(net: Net, src: str, shape: Shape):
    other = net.same_shape(shape, src)
    return f"{src} {net.rng.choice(['+', '-', '*'])} {other}", shape


def _reduce(fn: str):
    def make(net: Net, src: str, shape: Shape):
        axis = net.rng.randint(0, 1)
        return f"{fn}({src}, axis={axis})", (1, shape[1]) if axis == 0 else (shape[0], 1)

    return make


def _scale(net: Net, src: str, shape: Shape):
    return net.rng.choice([f"0.5 * {src}", f"{src} / 4", f"-{src}", f"{src} ** 2"]), shape


def _softmax(net: Net, src: str, shape: Shape):
    return f"softmax({src}, axis={net.rng.randint(0, 1)})", shape


def _sqrt(net: Net, src: str, shape: Shape):
    return f"sqrt({src} ** 2 + 0.25)", shape  # inputs > 0 only


LAYERS = [
    Layer("matmul", True, _matrix, _matmul),
    Layer("conv2d", True, _map(1), _conv),
    Layer("maxpool", True, _map(2), _pool("maxpool")),
    Layer("avgpool", True, _map(2), _pool("avgpool")),
    Layer("relu", True, _matrix, _unary("relu")),
    Layer("max", True, _matrix, _extremum("max")),
    Layer("min", True, _matrix, _extremum("min")),
    Layer("skip", True, _matrix, _hadamard),
    Layer(
        "sum/mean", True, _matrix, lambda n, s, sh: _reduce(n.rng.choice(["sum", "mean"]))(n, s, sh)
    ),
    Layer("scale", True, _matrix, _scale),
    Layer("tanh", False, _matrix, _unary("tanh")),
    Layer("sigmoid", False, _matrix, _unary("sigmoid")),
    Layer("softmax", False, _matrix, _softmax),
    Layer("sqrt", False, _matrix, _sqrt),
]


def _loss(net: Net, last: str, shape: Shape) -> None:
    extra = net.rng.choice([n for n, _ in net.pool[:-1]])
    kind = "squared" if net.rational else net.rng.choice(["squared", "bce", "softmax_ce"])
    if kind == "squared":
        t = net.value("t", shape, learned=False)
        net.equations.append(f"L = 0.5 * sum(({last} - {t}) ** 2) + mean({extra})")
    elif kind == "bce":  # a sigmoid and a binary cross-entropy written with log
        t = net.value("t", shape, learned=False, lo=0, hi=4)  # targets in [0, 1]
        net.equations.append(f"p = sigmoid(tanh({last}))")  # tanh keeps log(1 - p) finite
        net.equations.append(f"L = -mean({t} * log(p) + (1 - {t}) * log(1 - p))")
    else:
        axis = net.rng.randint(0, 1)
        t = net.value("t", shape, learned=False, lo=0, hi=4)
        net.equations.append(f"p = softmax(tanh({last}), axis={axis})")
        net.equations.append(f"L = -sum({t} * log(p)) + mean({extra})")


def mixed_network(seed: int, rational: bool):
    """(equations, given values, loss, params, layers used): a random network of 3 to 7
    layers from LAYERS (only the rational ones when ``rational``), on a map of up to 6×6."""
    rng = random.Random(seed)
    net = Net(rng, rational)
    shape = (rng.randint(2, 6), rng.randint(2, 6))
    net.given["x"] = net.array(shape)
    net.pool.append(("x", shape))
    used = []
    for k in range(1, rng.randint(3, 7) + 1):
        src, shape = rng.choice(net.pool[-2:])  # mostly a chain, with some branching
        layers = [la for la in LAYERS if la.fits(shape) and (la.rational or not rational)]
        layer = rng.choice(layers)
        text, shape = layer.make(net, src, shape)
        net.equations.append(f"h{k} = {text}")
        net.pool.append((f"h{k}", shape))
        used.append(layer.name)
    _loss(net, *net.pool[-1])
    return net.equations, net.given, "L", net.params or ["x"], used
