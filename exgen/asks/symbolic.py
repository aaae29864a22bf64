"""`symbolic: {of, wrt}`: ∂of/∂wrt for a network of named scalars, as a sum over paths of
products of local derivatives, factored the way backpropagation groups it, evaluated, and
checked against backpropagation (the expansion itself is in chain_rule.py).

`wrt` must be one scalar: a vector or matrix is refused at load (its gradient is a whole
array; the path sum here is for one weight)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from exgen.asks.base import Ask, Name, Strict, Work, forward_steps_json, printed_forward
from exgen.asks.chain_rule import expand, path_formula
from exgen.asks.chain_rule import formula as tree_formula
from exgen.engine.graph import compile_graph
from exgen.engine.rounding import Rounding, shown
from exgen.engine.solve import Trace, solve
from exgen.errors import DefinitionError
from exgen.typeset.formula import Frac, Num, Text, joined, row
from exgen.typeset.steps import Step

if TYPE_CHECKING:  # the definition stage sits above the asks
    from exgen.define.load import ExerciseDef


class SymbolicOptions(Strict):
    of: Name
    wrt: Name


def _kind(node) -> str:
    rows, cols = node.shape
    if node.rank == 1:
        return f"a vector of length {rows}"
    return f"a {rows}×{cols} matrix"


def check(graph, options: SymbolicOptions, path: str) -> None:
    for key in ("of", "wrt"):
        target = getattr(options, key)
        if target not in graph.nodes:
            raise DefinitionError(f"'{target}' is not a value of the network", path=f"{path}.{key}")
    if graph.nodes[options.of].shape != (1, 1):
        raise DefinitionError(f"'{options.of}' must be a scalar", path=f"{path}.of")
    wrt = graph.nodes[options.wrt]
    if wrt.shape != (1, 1):
        raise DefinitionError(
            f"'{options.wrt}' is {_kind(wrt)}; symbolic works for one scalar "
            f"weight: name one, e.g. define w13 as a value",
            path=f"{path}.wrt",
        )
    if options.wrt not in graph.ancestors(options.of):
        raise DefinitionError(
            f"'{options.of}' does not depend on '{options.wrt}'", path=f"{path}.wrt"
        )


@dataclass
class SymbolicResult:
    of: str
    wrt: str
    expansion: object
    engine_value: float


def symbolic(ex: ExerciseDef, trace: Trace, notation, of: str, wrt: str) -> SymbolicResult:
    """The expansion, and the engine's own ∂of/∂wrt (a second solve with `of` as loss)."""
    network = {n: v for n, v in ex.given.items() if n in ex.graph.nodes}  # no optimizer state
    graph = compile_graph(ex.graph.equations, network, of, [wrt], ex.graph.layout)
    check_ = solve(graph, ex.given, Rounding(ex.rounding.digits), exact=False)
    expansion = expand(ex.graph, trace, notation, of, wrt)
    return SymbolicResult(of, wrt, expansion, float(check_.grads[wrt][0, 0]))


def compute(ex: ExerciseDef, trace: Trace, notation, options: SymbolicOptions) -> SymbolicResult:
    return symbolic(ex, trace, notation, options.of, options.wrt)


def _signed(x: float, digits: int) -> str:
    return shown(x, digits).replace("-", "−")


def view(options: SymbolicOptions, work: Work) -> dict:
    result, trace, notation = work.results["symbolic"], work.trace, work.notation
    digits = trace.rounding.digits
    exp = result.expansion
    of, wrt = notation.symbol(result.of), notation.symbol(result.wrt)
    lhs = Frac(row(Text("∂"), of), row(Text("∂"), wrt))
    path_sum_symbols = joined([path_formula(p, digits, False) for p in exp.paths], "+")
    path_sum_numbers = joined([path_formula(p, digits, True) for p in exp.paths], "+")
    factored = tree_formula(exp.factored, digits, False)
    graph = trace.graph

    def shown_nodes(names):
        return [n for n in names if graph.nodes[n].kind == "given" or graph.nodes[n].named]

    paths = [
        joined([notation.symbol(n) for n in shown_nodes(names)], "→") for names in exp.path_names
    ]
    return {
        "forward": printed_forward(trace, notation, work.asks),
        "paths": paths,
        "sum": Step(lhs, [path_sum_symbols]),
        "factored": Step(
            lhs,
            [factored, tree_formula(exp.factored, digits, True), Num(_signed(exp.value, digits))],
            final=True,
        ),
        "numbers": Step(lhs, [path_sum_numbers, Num(_signed(exp.value, digits))]),
        "engine": _signed(result.engine_value, digits),
        "agrees": abs(result.engine_value - exp.value) <= 1e-9 * max(1, abs(exp.value)),
        "of": of,
        "wrt": wrt,
    }


def to_json(result: SymbolicResult, ex: ExerciseDef) -> dict:
    return {
        "of": result.of,
        "wrt": result.wrt,
        "value": result.expansion.value,
        "engine_value": result.engine_value,
    }


ASK = Ask(
    name="symbolic",
    options=SymbolicOptions,
    check=check,
    compute=compute,
    view=view,
    json=to_json,
    columns=None,
    needs=(),
    needs_params=False,
    numeric=False,
    given_values=True,
    architecture=True,
    design=None,
    computational_graph=None,
    steps=forward_steps_json,
    state=None,
)
