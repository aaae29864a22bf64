"""`logic`: a network of threshold units that realizes a region or a truth table,
designed here and verified by running it through the engine on every test point."""

from __future__ import annotations

import ast
import itertools
from dataclasses import dataclass
from fractions import Fraction
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from exgen.engine.equations import MAX_DEPTH, TOO_DEEP, EquationError, check_depth, number_literal
from exgen.errors import DefinitionError

MAX_INEQUALITY = 500  # characters in one inequality of a region
Name = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$", max_length=40)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TruthTable(_Strict):
    inputs: list[Name] = Field(min_length=1, max_length=4)
    outputs: list[Literal[0, 1]] = Field(min_length=2, max_length=16)


class LogicOptions(_Strict):
    inputs: list[Name] = Field(["x1", "x2"], min_length=1, max_length=3)
    region: list[Annotated[str, Field(max_length=MAX_INEQUALITY)]] | None = Field(
        None, min_length=1, max_length=8
    )
    truth_table: TruthTable | None = None


GRID = [Fraction(n, 2) for n in range(-4, 5)]  # -2 … 2 in steps of 0.5


@dataclass
class Inequality:
    text: str
    coeffs: list[Fraction]  # the unit fires where coeffs · x + const > 0
    const: Fraction


@dataclass
class LogicDesign:
    equations: list[str]
    values: dict[str, np.ndarray]  # weights and the test points (as the batch x)
    inputs: list[str]
    points: list[tuple]  # test points, one per column of x
    expected: list[int]  # what the output must be at each point
    inequalities: list[Inequality]
    truth_table: bool
    loss: str = "y"  # the output; the designed network has no loss to learn

    def outputs(self, trace) -> list[int]:
        return [int(v) for v in trace.values[self.loss].reshape(-1)]

    def verify(self, trace) -> tuple[str, bool, str]:
        """The design run on every test point (the `exgen check` oracle)."""
        outputs = self.outputs(trace)
        wrong = sum(o != e for o, e in zip(outputs, self.expected))
        return "truth table", wrong == 0, f"{len(outputs) - wrong} of {len(outputs)} points right"


def parse_inequality(text: str, inputs: list[str], path: str) -> Inequality:
    try:
        tree = ast.parse(text, mode="eval")
        check_depth(tree, MAX_DEPTH + 2)  # Expression and Compare above each side
    except SyntaxError:
        raise DefinitionError(f"not an inequality: {text!r}", path=path) from None
    except (RecursionError, MemoryError):  # the parser's own stack: 5,000 unary minuses
        raise DefinitionError(TOO_DEEP, path=path) from None
    except EquationError as exc:
        raise DefinitionError(str(exc), path=path) from None
    tree = tree.body
    if (
        not isinstance(tree, ast.Compare)
        or len(tree.ops) != 1
        or not isinstance(tree.ops[0], (ast.Gt, ast.Lt))
    ):
        raise DefinitionError(
            f"expected a strict inequality like 'x1 + 1 > 0' (threshold units "
            f"fire where their input is > 0), found {text!r}",
            path=path,
        )
    left = _linear(tree.left, inputs, path, text)
    right = _linear(tree.comparators[0], inputs, path, text)
    sign = 1 if isinstance(tree.ops[0], ast.Gt) else -1
    terms = {k: sign * (left.get(k, 0) - right.get(k, 0)) for k in set(left) | set(right)}
    return Inequality(text, [Fraction(terms.get(n, 0)) for n in inputs], Fraction(terms.get("", 0)))


def _linear(node, inputs: list[str], path: str, text: str) -> dict:
    """A linear form as {input name: coefficient, "": constant}."""
    if (
        isinstance(node, ast.Constant)
        and isinstance(node.value, (int, float))
        and not isinstance(node.value, bool)
    ):
        try:
            return {"": number_literal(node, text)}
        except EquationError as exc:
            raise DefinitionError(str(exc), path=path) from None
    if isinstance(node, ast.Name):
        if node.id not in inputs:
            raise DefinitionError(
                f"'{node.id}' is not one of the inputs ({', '.join(inputs)})", path=path
            )
        return {node.id: Fraction(1)}
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        inner = _linear(node.operand, inputs, path, text)
        return {k: -v for k, v in inner.items()} if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
        a, b = _linear(node.left, inputs, path, text), _linear(node.right, inputs, path, text)
        s = 1 if isinstance(node.op, ast.Add) else -1
        return {k: a.get(k, 0) + s * b.get(k, 0) for k in set(a) | set(b)}
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Div)):
        a, b = _linear(node.left, inputs, path, text), _linear(node.right, inputs, path, text)
        if (set(b) == {""} and b[""] != 0) or (isinstance(node.op, ast.Mult) and set(a) == {""}):
            if isinstance(node.op, ast.Div):
                return {k: v / b[""] for k, v in a.items()}
            factor, form = (b[""], a) if set(b) == {""} else (a[""], b)
            return {k: v * factor for k, v in form.items()}
    raise DefinitionError(f"'{ast.unparse(node)}' is not linear in the inputs", path=path)


def design(options: LogicOptions, path: str) -> LogicDesign:
    if (options.region is None) == (options.truth_table is None):
        raise DefinitionError("give either region (inequalities) or truth_table", path=path)
    if options.region is not None:
        return _region(options, path)
    return _truth_table(options, path)


def _region(options: LogicOptions, path: str) -> LogicDesign:
    inputs = options.inputs
    ineqs = [
        parse_inequality(t, inputs, f"{path}.region[{k}]") for k, t in enumerate(options.region)
    ]
    n = len(ineqs)
    points = list(itertools.product(GRID, repeat=len(inputs)))
    expected = [
        int(all(sum(c * v for c, v in zip(q.coeffs, p)) + q.const > 0 for q in ineqs))
        for p in points
    ]
    values = {
        "W1": [[c for c in q.coeffs] for q in ineqs],
        "b1": [q.const for q in ineqs],
        "W2": [[Fraction(1)] * n],
        "b2": [Fraction(-n) + Fraction(1, 2)],
    }
    return _finish(values, inputs, points, expected, ineqs, False)


def _truth_table(options: LogicOptions, path: str) -> LogicDesign:
    inputs = options.truth_table.inputs
    outputs = options.truth_table.outputs
    if len(outputs) != 2 ** len(inputs):
        raise DefinitionError(
            f"{len(inputs)} inputs need {2 ** len(inputs)} outputs (one per row, "
            f"rows in binary order), found {len(outputs)}",
            path=f"{path}.truth_table.outputs",
        )
    points = [
        tuple(Fraction(b) for b in bits) for bits in itertools.product((0, 1), repeat=len(inputs))
    ]
    rows = [p for p, out in zip(points, outputs) if out] or [None]
    ineqs, weights, biases = [], [], []
    for p in rows:
        if p is None:  # never fires: an output that is always 0
            w, b = [Fraction(0)] * len(inputs), Fraction(-1, 2)
        else:
            w = [Fraction(1) if bit else Fraction(-1) for bit in p]
            b = Fraction(1, 2) - sum(p)
        weights.append(w)
        biases.append(b)
        ineqs.append(Inequality("", w, b))
    values = {
        "W1": weights,
        "b1": biases,
        "W2": [[Fraction(1)] * len(rows)],
        "b2": [Fraction(-1, 2)],
    }
    return _finish(values, inputs, points, list(outputs), ineqs, True)


def _finish(values, inputs, points, expected, ineqs, table: bool) -> LogicDesign:
    arrays = {k: np.array(v, dtype=object) for k, v in values.items()}
    arrays["x"] = np.array([[p[i] for p in points] for i in range(len(inputs))], dtype=object)
    equations = ["h = step(W1 @ x + b1)", "y = step(W2 @ h + b2)"]
    return LogicDesign(equations, arrays, inputs, points, expected, ineqs, table)
