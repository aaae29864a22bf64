"""A CNN as its feature-map figure draws it: the chain of values from the image to the
output, each a block (C maps of H×W, one map, or a vector), and the operation between
two blocks (a convolution with its kernel, stride and padding, a pooling, flatten, a
dense layer), with a bias and an element-wise activation folded into the operation
before them; and the network in words from the same chain, for the alt text.

Everything comes from the compiled graph: the nodes' shapes, their operations and the
operations' own settings (a convolution's stride and padding, a pool's size)."""

from __future__ import annotations

from dataclasses import dataclass, field

from exgen.engine.graph import Graph
from exgen.engine.ops import REGISTRY
from exgen.engine.ops.conv import Conv2d
from exgen.engine.ops.pooling import AvgPool, MaxPool
from exgen.language import english
from exgen.render.figure_math import plain
from exgen.render.network_layers import ACTIVATIONS, SPATIAL, written
from exgen.typeset.notation import Notation

# an element-wise activation's word in an arrow's label: ReLU, tanh, σ
ACTIVATION_WORDS = {REGISTRY[n].spelling.text for n in ACTIVATIONS}


@dataclass
class Block:
    name: str  # the value the block shows (the last of a folded chain: ReLU's output)
    shape: tuple[int, ...]
    kind: str  # "maps" (C maps of H×W, C ≥ 1, per sample) or "vector"
    channels: int = 1
    samples: int = 0  # a batch's N; 0 for one sample
    via: list[str] = field(default_factory=list)  # the operation into it, word by word
    folded: list[str] = field(default_factory=list)  # biases added on the way

    @property
    def size(self) -> str:
        """Its shape as the figure labels it: 2@4×4, 4×4, or a vector's length."""
        if self.kind == "vector":
            n = self.shape[0]
            return f"{n}×{self.samples}" if self.samples else str(n)
        h, w = self.shape[-2:]
        maps = (
            f"{self.channels}@{h}×{w}" if self.channels > 1 or len(self.shape) > 2 else f"{h}×{w}"
        )
        return f"{self.samples}×{maps}" if self.samples else maps


def stages_of(graph: Graph) -> list[Block] | None:
    """The blocks from the image to the network's output, or None for a network
    without spatial operations (drawn as layers of units) or one that is no chain
    (a branch or a skip around a convolution is not drawn as blocks)."""
    nodes = graph.nodes
    spatial = [n for n, node in nodes.items() if node.op is not None and node.op.name in SPATIAL]
    if not spatial:
        return None
    first = nodes[spatial[0]]
    source = first.inputs[0]
    if nodes[source].kind != "given" or source in graph.params:
        return None
    blocks = [_block(graph, source, [])]
    cur, chain = source, [source]
    while True:
        step = _next(graph, cur)
        if step is None:
            break
        name, words, bias = step
        if words and words[0] in ACTIVATION_WORDS and len(blocks) > 1:
            blocks[-1].via.append(words[0])  # folded into the operation before it
            blocks[-1].name = name
        elif bias is not None:
            blocks[-1].folded.append(bias)
            blocks[-1].name = name
        else:
            blocks.append(_block(graph, name, words, blocks[-1]))
        cur = name
        chain.append(name)
    inner = set(chain[:-1])
    if not set(spatial) <= set(chain) or any(
        n not in chain and inner & set(node.inputs) for n, node in nodes.items()
    ):
        return None  # a value inside the chain used elsewhere: a branch, a skip
    return blocks


def _block(graph: Graph, name: str, via: list[str], before: Block | None = None) -> Block:
    node = graph.nodes[name]
    flat = before is not None and (before.kind == "vector" or via == ["flatten"])
    if flat or node.rank <= 1:
        samples = node.shape[1] if node.rank == 2 else 0
        return Block(name, node.shape, "vector", samples=samples, via=via)
    if node.rank == 4:
        return Block(name, node.shape, "maps", node.shape[1], node.shape[0], via)
    channels = node.shape[0] if node.rank == 3 else 1
    return Block(name, node.shape, "maps", channels, via=via)


def _next(graph: Graph, cur: str):
    """The operation that carries the chain on from ``cur``: (its node, its words, the
    bias it adds or None); None where the network ends (a loss, a comparison)."""
    nodes = graph.nodes
    for user in graph.consumers(cur):
        node = nodes[user]
        op = node.op
        if op is None:
            continue
        others = [i for i in node.inputs if i != cur]
        if isinstance(op, Conv2d) and node.inputs[0] == cur:
            kh, kw = nodes[node.inputs[1]].shape[-2:]
            words = [f"conv {kh}×{kw}", f"s={op.stride}, p={op.padding}"]
            return user, words, None
        if isinstance(op, (MaxPool, AvgPool)):
            words = [f"{op.name[:3]}-pool {op.size}×{op.size}"]
            if op.stride != op.size:
                words.append(f"s={op.stride}")
            return user, words, None
        if op.name == "flatten":
            return user, ["flatten"], None
        if op.name in ACTIVATIONS:
            return user, [op.spelling.text], None
        if op.name == "matmul" and node.inputs[1] == cur and _fixed(graph, others[0]):
            return user, ["dense"], None
        if op.name == "add" and len(others) == 1 and _fixed(graph, others[0]):
            return user, [], others[0]
    return None


def _fixed(graph: Graph, name: str) -> bool:
    """A parameter or another given value the data does not pass through: a weight."""
    return graph.nodes[name].kind == "given" and (
        name in graph.params or not graph.consumers(name)[1:]
    )


def describe(graph: Graph, notation: Notation, blocks: list[Block], _=english) -> str:
    """The network in words: the image, then each operation and the block it gives."""

    def shape(block: Block) -> str:
        if block.kind == "vector":
            text = _("a vector of {n}").format(n=block.shape[0])
            return text + (per_sample.format(n=block.samples) if block.samples else "")
        h, w = block.shape[-2:]
        maps = (
            _("{n} maps of {h}×{w}").format(n=block.channels, h=h, w=w)
            if block.channels > 1
            else _("a {h}×{w} map").format(h=h, w=w)
        )
        return maps + (per_sample.format(n=block.samples) if block.samples else "")

    per_sample = _(" per sample, {n} samples")

    first, rest = blocks[0], blocks[1:]
    parts = [
        _("input {name} ({units})").format(
            name=plain(written(graph, notation, first.name)), units=shape(first)
        )
    ]
    for block in rest:
        how = ", ".join(_(w) for w in block.via)  # an op's name; "dense" is a word
        if block.folded:
            biases = ", ".join(plain(notation.symbol(b)) for b in block.folded)
            how += _(" (plus bias {biases})").format(biases=biases)
        name = plain(written(graph, notation, block.name))
        parts.append(
            _("{how} gives {name} ({shape})").format(how=how, name=name, shape=shape(block))
        )
    return _("Network of feature maps: {parts}.").format(parts=_("; then ").join(parts))
