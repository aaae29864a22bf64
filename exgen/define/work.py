"""The work a sheet asks for, bounded before anything is solved or typeset.

One unit is one number the key computes and writes out: an element of a result, or one
product of a matrix product (the key writes each entry's sum of products). The key's
steps and their layout grow with the units, so the units bound both the time of a build
(with PDFs about 1.5 ms a unit) and its memory. Exact arithmetic (Fractions) costs about
twice as much as float. A numeric check solves the network twice per parameter entry;
per-student variants solve an exercise once per try."""

from __future__ import annotations

import numpy as np

from exgen.engine.graph import Graph
from exgen.engine.ops.base import dims
from exgen.errors import DefinitionError

MAX_SHEET_WORK = 20_000  # units per sheet (every exercise's key together)
MAX_CHECK_WORK = 2_000_000  # units of the float re-solves of numeric_check, per exercise
MAX_TRIES_WORK = 1_500_000  # tries × units of one try (about 4 s), per exercise with draw rules
MAX_PATHS = 256  # paths the symbolic ask writes out, one by one
MAX_PATH_LENGTH = 64  # nodes on one such path
NODE_OVERHEAD = 10  # units a node costs however small (Python per-node work)
EXACT_FACTOR = 2


def graph_work(graph: Graph, exact: bool) -> int:
    """Units to solve and write one exercise's forward and backward pass."""
    return _work(graph, exact)[0]


def _work(graph: Graph, exact: bool) -> tuple[int, str]:
    """The units, and the step that costs the most, described."""
    units, largest = 0, (0, "")
    for node in graph.nodes.values():
        size = int(np.prod(node.shape))
        what = f"{node.name} ({dims(node.shape)})"
        if node.op is not None and node.op.name == "conv2d":  # a window's products each
            kernel = graph.nodes[node.inputs[1]].shape
            size *= int(np.prod(kernel[1:] if len(kernel) == 4 else kernel))
            what = f"{node.name} ({dims(node.shape)} windows of {dims(kernel)}: {size} products)"
        if node.op is not None and node.op.name == "matmul":
            a, b = (graph.nodes[i] for i in node.inputs)
            size *= a.shape[1]
            what = (
                f"{node.name} ({a.shape[0]}×{a.shape[1]} times {b.shape[0]}×{b.shape[1]}: "
                f"{size} products)"
            )
        units += size + NODE_OVERHEAD
        largest = max(largest, (size, what), key=lambda t: t[0])
    factor = EXACT_FACTOR if exact else 1
    return units * factor, largest[1]


def _paths(graph: Graph, of: str, wrt: str) -> tuple[int, int]:
    """How many paths lead from ``wrt`` to ``of``, and the longest one's node count."""
    count = {wrt: 1}
    longest = {wrt: 1}
    for name, node in graph.nodes.items():  # in evaluation order: inputs come first
        sources = [i for i in dict.fromkeys(node.inputs) if i in count]
        if sources and name != wrt:
            count[name] = sum(count[i] for i in sources)
            longest[name] = 1 + max(longest[i] for i in sources)
    return count.get(of, 0), longest.get(of, 0)


def check_work(exercises, variant_rules: dict, tries: int | None) -> None:
    """Refuse a sheet whose key would take minutes or gigabytes, naming what to shrink."""
    total, largest = 0, (0, None, "")
    for ex in exercises:
        if ex.design is not None:  # bounded by its ask's options; its steps are not written
            continue
        units, step = _work(ex.graph, ex.exact)
        total += units
        largest = max(largest, (units, ex.index, step), key=lambda t: t[0])
        names = [name for name, _ in ex.asks]
        if "numeric_check" in names:
            entries = sum(int(np.prod(ex.graph.nodes[p].shape)) for p in ex.graph.params)
            check = 2 * entries * graph_work(ex.graph, False)
            if check > MAX_CHECK_WORK:
                raise DefinitionError(
                    f"the numeric check solves the network twice for each of the {entries} "
                    f"parameter entries: about {check} units of work; at most {MAX_CHECK_WORK}: "
                    f"use fewer or smaller parameters, or drop numeric_check",
                    path=f"exercises[{ex.index}].ask[{names.index('numeric_check')}]",
                )
        if "symbolic" in names:
            options = dict(ex.asks)["symbolic"]
            paths, length = _paths(ex.graph, options.of, options.wrt)
            if paths > MAX_PATHS or length > MAX_PATH_LENGTH:
                raise DefinitionError(
                    f"∂{options.of}/∂{options.wrt} runs along {paths} paths of up to {length} "
                    f"nodes; the key writes each out, so at most {MAX_PATHS} paths of "
                    f"{MAX_PATH_LENGTH} nodes",
                    path=f"exercises[{ex.index}].ask[{names.index('symbolic')}]",
                )
        if tries and _drawn(ex, variant_rules) and tries * units > MAX_TRIES_WORK:
            raise DefinitionError(
                f"{tries} tries of exercises[{ex.index}] ({units} units of work each) would take "
                f"{tries * units} units before the rules are given up; at most {MAX_TRIES_WORK}: "
                f"lower tries to {max(1, MAX_TRIES_WORK // units)} or make the values smaller",
                path="variants.tries",
            )
    if total > MAX_SHEET_WORK:
        units, index, step = largest
        raise DefinitionError(
            _too_much(total, units, index, step), path=f"exercises[{index}].values"
        )


def check_exercise_work(graph: Graph, exact: bool, index: int) -> None:
    """One exercise alone over the sheet's bound: refused before anything else walks it."""
    units, step = _work(graph, exact)
    if units > MAX_SHEET_WORK:
        raise DefinitionError(_too_much(units, units, index, step), path="values")


def _too_much(total: int, units: int, index: int, step: str) -> str:
    return (
        f"the key needs about {total} units of work (one unit a computed number, or one "
        f"product in a matrix product); at most {MAX_SHEET_WORK}: make the values smaller "
        f"(exercises[{index}] needs {units}, most for {step})"
    )


def _drawn(ex, variant_rules: dict) -> bool:
    """Whether a draw rule applies to one of the exercise's values (as the build decides)."""
    return f"{ex.spec.id}.random.seed" in variant_rules or any(
        scope in ("", ex.spec.id) and name in ex.spec.values
        for scope, _, name in (key.rpartition(".") for key in variant_rules)
    )
