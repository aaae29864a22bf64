"""Equations: one assignment a line, parsed with `ast` under a whitelist, never run."""

from __future__ import annotations

import ast
import keyword
import re
from dataclasses import dataclass
from fractions import Fraction

from exgen.engine.ops import REGISTRY, function_names
from exgen.engine.ops.base import POSITIVE
from exgen.engine.rounding import GIVEN_RANGE, within

FUNCTIONS = function_names()  # from the operations' registry (engine/ops)
BINARY = {
    ast.Add: "add",
    ast.Sub: "sub",
    ast.Mult: "mul",
    ast.Div: "div",
    ast.MatMult: "matmul",
    ast.Pow: "pow",
}
MAX_LENGTH = 2000
MAX_DEPTH = 64  # levels of nesting in one expression (a sum of n terms is n levels)
MAX_EXPONENT = 64  # |k| in x ** k: exact powers beyond it grow past any shown precision
DECIMAL = re.compile(r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
TOO_DEEP = f"expression nested too deeply (at most {MAX_DEPTH} levels)"


class EquationError(ValueError):
    """An equation outside the whitelist; the message says what was found."""


@dataclass(frozen=True)
class Expr:
    """A node of an equation's expression tree.

    ``op`` is ``name``, ``const``, one of the binary ops (add sub mul div matmul pow),
    ``neg``, ``transpose`` or a function name; ``text`` is its canonical source;
    ``keywords`` a call's numeric keyword arguments as sorted (name, value) pairs."""

    op: str
    args: tuple[Expr, ...] = ()
    name: str = ""
    value: Fraction | None = None
    text: str = ""
    keywords: tuple[tuple[str, int | Fraction], ...] = ()

    def names(self) -> list[str]:
        """Names used, in order of first appearance."""
        if self.op == "name":
            return [self.name]
        seen: list[str] = []
        for arg in self.args:
            seen += [n for n in arg.names() if n not in seen]
        return seen


@dataclass(frozen=True)
class Equation:
    target: str
    expr: Expr
    source: str


def parse_equation(line: str) -> Equation:
    """Parse ``name = expression``; raise EquationError on anything else."""
    if not isinstance(line, str):
        raise EquationError(f"expected an equation like 'u1 = W1 @ x', found {type(line).__name__}")
    if len(line) > MAX_LENGTH:
        raise EquationError(f"equation is {len(line)} characters long; at most {MAX_LENGTH}")
    try:
        tree = ast.parse(line.strip(), mode="exec")
    except SyntaxError as exc:
        raise EquationError(f"not a valid equation ({exc.msg}): {line.strip()!r}") from None
    except (RecursionError, MemoryError):  # the parser's own stack: 5,000 unary minuses
        raise EquationError(TOO_DEEP) from None
    check_depth(tree, MAX_DEPTH + 2)  # Module and Assign above the expression
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Assign):
        raise EquationError(f"expected one assignment 'name = expression', found {line.strip()!r}")
    assign = tree.body[0]
    if len(assign.targets) != 1 or not isinstance(assign.targets[0], ast.Name):
        raise EquationError("the left side must be a single name, e.g. 'u1 = W1 @ x'")
    target = assign.targets[0].id
    _check_name(target)
    if target in FUNCTIONS:
        raise EquationError(f"'{target}' is a function name and cannot be assigned")
    return Equation(target, _convert(assign.value, line.strip()), line.strip())


def check_depth(tree: ast.AST, limit: int, message: str = TOO_DEEP) -> None:
    """Refuse a tree deeper than ``limit`` before anything walks it recursively."""
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            raise EquationError(message)
        stack.extend(
            (child, depth + 1)
            for child in ast.iter_child_nodes(node)
            if not isinstance(child, (ast.expr_context, ast.operator, ast.unaryop, ast.cmpop))
        )


def number_literal(node: ast.Constant, source: str) -> Fraction:
    """The exact value of a number as written: plain decimal, finite, within range."""
    if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
        raise EquationError(f"only numbers may appear as constants, found {node.value!r}")
    literal = ast.get_source_segment(source, node) or repr(node.value)
    if not DECIMAL.fullmatch(literal):
        raise EquationError(f"write numbers in decimal, like 1000, 0.5 or 2e-3; found '{literal}'")
    value = Fraction(literal)
    if not within(value):
        raise EquationError(f"the number {literal} is out of range (numbers are {GIVEN_RANGE})")
    return value


def _check_name(name: str) -> None:
    if not name.isidentifier() or keyword.iskeyword(name):
        raise EquationError(f"'{name}' is not a valid name")
    if name.startswith("_"):
        raise EquationError(f"names may not start with '_' (found '{name}')")


def _text(node: ast.AST) -> str:
    return ast.unparse(node)


def _convert(node: ast.AST, source: str) -> Expr:
    if isinstance(node, ast.Name):
        _check_name(node.id)
        if node.id in FUNCTIONS:
            raise EquationError(f"'{node.id}' is a function; call it as {node.id}(...)")
        return Expr("name", name=node.id, text=node.id)
    if isinstance(node, ast.Constant):
        return Expr("const", value=number_literal(node, source), text=_text(node))
    if isinstance(node, ast.BinOp) and type(node.op) in BINARY:
        op = BINARY[type(node.op)]
        left, right = _convert(node.left, source), _convert(node.right, source)
        exponent = _constant_value(right)
        if op == "pow" and exponent is None:
            raise EquationError(f"the exponent in '{_text(node)}' must be a number")
        if op == "pow" and exponent is not None and abs(exponent) > MAX_EXPONENT:
            raise EquationError(
                f"the exponent in '{_text(node)}' is {right.text}; exponents are "
                f"at most {MAX_EXPONENT} in magnitude"
            )
        return Expr(op, (left, right), text=_text(node))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        inner = _convert(node.operand, source)
        if isinstance(node.op, ast.UAdd):
            return inner
        if inner.op == "const" and inner.value is not None:
            return Expr("const", value=-inner.value, text=_text(node))
        return Expr("neg", (inner,), text=_text(node))
    if isinstance(node, ast.Attribute):
        if node.attr != "T":
            raise EquationError(
                f"only '.T' (transpose) is allowed after a value, found '.{node.attr}'"
            )
        return Expr("transpose", (_convert(node.value, source),), text=_text(node))
    if isinstance(node, ast.Call):
        return _convert_call(node, source)
    raise EquationError(
        f"'{_text(node)}' is not allowed in an equation "
        f"(allowed: names, numbers, + - * / @ **, unary minus, .T, "
        f"and the functions {', '.join(FUNCTIONS)})"
    )


def _convert_call(node: ast.Call, source: str) -> Expr:
    if not isinstance(node.func, ast.Name):
        raise EquationError(
            f"'{_text(node.func)}(...)' is not allowed; only the functions "
            f"{', '.join(FUNCTIONS)} may be called"
        )
    name = node.func.id
    if name not in FUNCTIONS:
        raise EquationError(f"unknown function '{name}' (allowed: {', '.join(FUNCTIONS)})")
    cls = REGISTRY[name]
    if len(node.args) != cls.arity or any(isinstance(a, ast.Starred) for a in node.args):
        count = {1: "one argument", 2: "two arguments"}.get(cls.arity, f"{cls.arity} arguments")
        raise EquationError(f"{name}() takes exactly {count}, found '{_text(node)}'")
    keywords = tuple(sorted(_keyword(name, cls.keywords, k, node, source) for k in node.keywords))
    if len({k for k, _ in keywords}) != len(keywords):
        raise EquationError(f"a keyword is given twice in '{_text(node)}'")
    args = tuple(_convert(a, source) for a in node.args)
    return Expr(name, args, text=_text(node), keywords=keywords)


def _keyword(name: str, allowed: dict, kw: ast.keyword, call: ast.Call, source: str):
    """One keyword argument of a call: a name the operation takes, a number literal among
    its allowed values (integers stay int, as in axis=1)."""
    if kw.arg is None:
        raise EquationError(f"'**' is not allowed in a call, found '{_text(call)}'")
    if kw.arg not in allowed:
        takes = (
            f"takes only {', '.join(f'{k}=' for k in allowed)}" if allowed else "takes no keywords"
        )
        raise EquationError(f"{name}() {takes}; found '{kw.arg}=' in '{_text(call)}'")
    node = kw.value
    negative = isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub)
    literal = node.operand if negative and isinstance(node, ast.UnaryOp) else node
    options = allowed[kw.arg]
    whole = all(isinstance(o, int) for o in options)
    if not isinstance(literal, ast.Constant) or isinstance(literal.value, (bool, str, bytes)):
        shown = _text(node) if isinstance(literal, ast.Constant) else f"'{_text(node)}'"
        raise EquationError(
            f"{kw.arg}= takes a number in {name}(), found {shown} in '{_text(call)}'"
        )
    value = number_literal(literal, source) * (-1 if negative else 1)
    plain: int | Fraction = int(value) if value.denominator == 1 else value
    if options == POSITIVE:
        if value <= 0:
            raise EquationError(
                f"{kw.arg}= is a positive number in {name}(), found {_text(node)} in "
                f"'{_text(call)}'"
            )
        return kw.arg, plain
    if options and (plain not in options or (whole and not isinstance(literal.value, int))):
        listed = " or ".join(str(o) for o in options)
        raise EquationError(
            f"{kw.arg}= is {listed} in {name}(), found {_text(node)} in '{_text(call)}'"
        )
    return kw.arg, plain


def _constant_value(expr: Expr) -> Fraction | None:
    return expr.value if expr.op == "const" else None
