"""The Python a notebook's key cells hold, from the network's graph and each operation's
NumPy spelling and backward (engine/ops): the forward pass as the equations read, and
backpropagation written out node by node, as a student writes it.

Code is built as Python syntax trees, so brackets come from Python's own precedence
(ast.unparse) and no operand is pasted into text. A small simplifier drops what a
person would not write (1 * g, x ** 1)."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from exgen.engine.code_template import filled
from exgen.engine.graph import Graph

LOSS_GRADIENT = ast.Constant(1)  # ∂L/∂L


def rep_shapes(graph: Graph) -> dict[str, tuple]:
    """Each node's shape as the notebook's NumPy holds it: scalars 0-d, vectors that
    broadcast along rows (biases in row layout) 1-D, the rest as the engine's 2-D."""
    rows = graph.row_vectors
    out: dict[str, tuple] = {}
    for name, node in graph.nodes.items():
        if node.kind == "const" or (node.kind == "given" and node.rank == 0):
            out[name] = ()
        elif node.kind == "given":
            out[name] = (max(node.shape),) if node.rank == 1 and name in rows else node.shape
        else:
            shapes = [out[i] for i in node.inputs]
            rule = node.op.shape_rule
            if rule == "scalar":
                out[name] = ()
            elif rule in ("keep0", "keep1"):  # reduced along one axis, kept
                out[name] = np.zeros(shapes[0]).sum(axis=int(rule[-1]), keepdims=True).shape
            elif rule in ("same", "normalize"):
                out[name] = shapes[0]
            elif rule == "transpose":
                out[name] = shapes[0][::-1]
            elif rule == "own":  # images, kernels, windows: the engine's own shape
                out[name] = node.shape
            elif rule == "matmul":
                out[name] = np.matmul(np.zeros(shapes[0]), np.zeros(shapes[1])).shape
            else:
                out[name] = np.broadcast_shapes(*shapes)
    return out


def grad_name(name: str) -> str:
    """The variable that holds ∂L/∂name: dW1, dZ2."""
    return f"d{name}"


class _Simplify(ast.NodeTransformer):
    """1 * x → x, x * 1 → x, x / 1 → x, x ** 1 → x, −1 * x → −x, x * (1 / p) → x / p,
    −(−x) → x."""

    def visit_BinOp(self, node: ast.BinOp):
        self.generic_visit(node)
        if isinstance(node.op, ast.Mult) and _is_one(node.left):
            return node.right
        if isinstance(node.op, ast.Mult) and _is_minus_one(node.left):
            return ast.UnaryOp(ast.USub(), node.right)
        if isinstance(node.op, ast.Mult) and isinstance(node.right, ast.BinOp):
            if isinstance(node.right.op, ast.Div) and _is_one(node.right.left):  # x * (1 / p)
                return ast.BinOp(node.left, ast.Div(), node.right.right)
        if isinstance(node.op, ast.Mult | ast.Div | ast.Pow) and _is_one(node.right):
            return node.left
        return node

    def visit_UnaryOp(self, node: ast.UnaryOp):
        self.generic_visit(node)
        if isinstance(node.op, ast.USub) and isinstance(node.operand, ast.UnaryOp):
            if isinstance(node.operand.op, ast.USub):
                return node.operand.operand
        return node


def _is_one(node) -> bool:
    return isinstance(node, ast.Constant) and node.value == 1 and not isinstance(node.value, bool)


def _is_minus_one(node) -> bool:
    return isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and _is_one(node.operand)


def simplified(tree: ast.expr) -> ast.expr:
    return _Simplify().visit(tree)


def _constant(value: Fraction) -> ast.expr:
    number = int(value) if value.denominator == 1 else float(value)
    return ast.Constant(number) if number >= 0 else ast.UnaryOp(ast.USub(), ast.Constant(-number))


@dataclass
class NumpyCode:
    """The forward and backward passes of one graph, in NumPy."""

    graph: Graph

    def __post_init__(self):
        self.shapes = rep_shapes(self.graph)

    # forward ---------------------------------------------------------------
    def node(self, name: str) -> ast.expr:
        """A node as code: its variable if it has one, else its expression."""
        node = self.graph.nodes[name]
        if node.kind == "const":
            return _constant(node.value)
        if node.kind == "given" or node.named:
            return ast.Name(name)
        return self.expression(name)

    def expression(self, name: str) -> ast.expr:
        node = self.graph.nodes[name]
        holes = {str(k): self.node(i) for k, i in enumerate(node.inputs)}
        return filled(node.op.numpy, holes, node.op.code_constants())

    def forward_lines(self) -> list[str]:
        return [
            f"{eq.target} = {ast.unparse(simplified(self.expression(eq.target)))}"
            for eq in self.graph.equations
        ]

    # backward --------------------------------------------------------------
    def backward_lines(self) -> list[str]:
        """∂L/∂(every named node and parameter), from the loss down, each the sum of what
        its consumers send it; sub-expressions' gradients are written inline."""
        graph = self.graph
        grads: dict[str, tuple[ast.expr, bool]] = {graph.loss: (LOSS_GRADIENT, True)}
        lines = []
        for name in reversed(list(graph.nodes)):
            node = graph.nodes[name]
            if name != graph.loss and name in grads and self._has_variable(name):
                expr, scalar = grads[name]
                if scalar and self.shapes[name]:  # a constant gradient, spread over the array
                    expr = filled(
                        "np.full_like({0}, {g}, dtype=float)", {"0": ast.Name(name), "g": expr}, {}
                    )
                lines.append(f"{grad_name(name)} = {ast.unparse(simplified(expr))}")
                grads[name] = (ast.Name(grad_name(name)), False)
            if node.op is None or name not in grads:
                continue
            g, g_scalar = grads[name]
            for k, source in enumerate(node.inputs):
                if graph.nodes[source].kind == "const" or not self._needed(source):
                    continue
                part, scalar = self._contribution(name, k, g, g_scalar)
                if source in grads:
                    before, was_scalar = grads[source]
                    grads[source] = (ast.BinOp(before, ast.Add(), part), was_scalar and scalar)
                else:
                    grads[source] = (part, scalar)
        return lines

    def _has_variable(self, name: str) -> bool:
        node = self.graph.nodes[name]
        return (node.kind == "op" and node.named) or name in self.graph.params

    def _needed(self, name: str) -> bool:
        """Whether ∂L/∂name leads to a parameter (the data's gradients are not asked)."""
        params = set(self.graph.params)
        return name in params or any(p in self.graph.ancestors(name) for p in params)

    def _contribution(self, name: str, k: int, g: ast.expr, g_scalar: bool):
        node = self.graph.nodes[name]
        op = node.op
        holes = {str(j): self.node(i) for j, i in enumerate(node.inputs)}
        holes["out"] = self.node(name)
        constants = dict(op.code_constants(), n=int(np.prod(self.shapes[node.inputs[0]] or (1,))))
        if op.elementwise_local:
            local = filled(op.numpy_grad[0], holes, constants)
            part, scalar = ast.BinOp(g, ast.Mult(), local), False
        else:
            template = op.numpy_grad[k]
            uses_arrays = any(f"{{{h}}}" in template for h in ("0", "1", "out"))
            part = filled(template, dict(holes, g=g), constants)
            scalar = g_scalar and not uses_arrays
        if op.shape_rule == "broadcast":
            part = self._unbroadcast(part, self.shapes[name], self.shapes[node.inputs[k]])
        return part, scalar

    @staticmethod
    def _unbroadcast(part: ast.expr, source: tuple, target: tuple) -> ast.expr:
        """Sum over the axes along which the operand was broadcast."""
        if source == target or not source:
            return part
        if not target:
            return filled("np.sum({0})", {"0": part}, {})
        if len(target) < len(source):  # a 1-D row vector added to every row
            return filled("np.sum({0}, axis=0)", {"0": part}, {})
        axes = [a for a in range(len(source)) if target[a] == 1 and source[a] != 1]
        axis = axes[0] if len(axes) == 1 else tuple(axes)
        return filled(f"np.sum({{0}}, axis={axis}, keepdims=True)", {"0": part}, {})
