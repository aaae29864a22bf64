"""An operation's code spelling (its `torch` or `numpy` template, engine/ops) filled with
its operands as Python syntax trees: the PyTorch code of the `pytorch` ask and the
notebooks' NumPy code both come from here. No operand is pasted into text, so brackets
follow from Python's own precedence when the tree is unparsed."""

from __future__ import annotations

import ast


def filled(template: str, holes: dict[str, ast.expr], constants: dict) -> ast.expr:
    """``template`` with ``{0}``, ``{1}`` … and named holes (``{g}``, ``{out}``) replaced by
    the trees in ``holes`` (keyed "0", "1", "g", …), and ``constants`` (an axis, an
    exponent) written in as text."""
    names = {key: f"_exgen_{key}" for key in holes}
    operands = [names[str(i)] for i in range(sum(k.isdigit() for k in names))]
    words = {k: v for k, v in names.items() if not k.isdigit()}
    source = template.format(*operands, **words, **{str(k): v for k, v in constants.items()})
    tree = ast.parse(source, mode="eval").body
    return _Fill({names[k]: v for k, v in holes.items()}).visit(tree)


class _Fill(ast.NodeTransformer):
    """Puts the operands' trees into a template's holes."""

    def __init__(self, holes: dict):
        self.holes = holes

    def visit_Name(self, node: ast.Name):
        return self.holes.get(node.id, node)
