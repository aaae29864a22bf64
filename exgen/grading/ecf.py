"""Error carried forward: the engine re-run from a student's own earlier values. Each
wrong forward value the student handed in replaces the engine's (with the sheet's
rounding rule everything after it is computed as the student would); a later answer
that agrees with that recomputation follows from the student's own work."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from exgen.define.load import ExerciseDef
from exgen.engine.graph import Graph
from exgen.engine.rounding import round_half_up, shown
from exgen.engine.solve import NumericError, Trace, solve


@dataclass
class Upstream:
    """A student's wrong forward values of one exercise: node -> {entry: value}, and the
    columns they came from."""

    values: dict[str, dict[int, Fraction]] = field(default_factory=dict)
    columns: dict[str, list[str]] = field(default_factory=dict)

    def add(self, node: str, flat: int, value: Fraction, column: str) -> None:
        self.values.setdefault(node, {})[flat] = value
        self.columns.setdefault(node, []).append(column)


@dataclass(frozen=True)
class Carried:
    """What a student's own earlier values lead to, for one collected number."""

    shown: str  # the recomputed value, as the key would show it
    follows_from: tuple[str, ...]  # the student's columns it was recomputed from
    # what makes it trivial: the values on the way (and its own gradient) that the
    # student's earlier values make all zeros where the key's are not; () when none
    trivial: tuple[str, ...]


class Recomputer:
    """One exercise of one student: recomputations shared between the answers that
    follow from the same earlier values."""

    def __init__(self, ex: ExerciseDef, trace: Trace, upstream: Upstream):
        self.ex, self.trace, self.upstream = ex, trace, upstream
        self._solved: dict[frozenset[str], Trace | None] = {}

    def carried(self, node: str, grad: bool, flat: int) -> Carried | None:
        """None when no wrong earlier value reaches this number, or the student's values
        cannot be computed on (a log of 0, …)."""
        sources = self._sources(node, grad)
        if not sources:
            return None
        recomputed = self._solve(sources)
        if recomputed is None:
            return None
        table = recomputed.grads if grad else recomputed.values
        value = np.asarray(table[node]).reshape(-1)
        columns = tuple(c for s in sorted(sources) for c in self.upstream.columns[s])
        return Carried(
            shown(value[flat], self.ex.rounding.digits),
            columns,
            self._zeroed(recomputed, sources, node, grad),
        )

    def _zeroed(self, recomputed: Trace, sources: frozenset[str], node: str, grad: bool):
        """The values on the way from the student's earlier values to this number (and
        the number's own gradient) that are all zeros where the key's are not."""
        digits, graph = self.ex.rounding.digits, self.ex.graph
        tables = [
            ("", n, recomputed.values, self.trace.values)
            for n in graph.between(set(sources), graph.loss if grad else node)
        ]
        if grad:
            tables.append((f"d{graph.loss}/d", node, recomputed.grads, self.trace.grads))
        return tuple(
            prefix + n
            for prefix, n, mine, key in reversed(tables)
            if _all_zero(mine[n], digits) and not _all_zero(key[n], digits)
        )

    def _sources(self, node: str, grad: bool) -> frozenset[str]:
        """The nearest wrong values upstream: for a value, those with a path to it that
        passes no other wrong value; for a gradient, every wrong forward value but the
        loss."""
        graph = self.ex.graph
        wrong = set(self.upstream.values) - ({node} if not grad else set())
        if grad:  # the loss's own value enters no gradient (its gradient is 1)
            return frozenset(wrong - {graph.loss})
        ancestors = graph.ancestors(node)
        return frozenset(s for s in wrong & ancestors if _reaches(graph, s, node, wrong - {s}))

    def _solve(self, sources: frozenset[str]) -> Trace | None:
        if sources not in self._solved:
            ex = self.ex
            try:
                self._solved[sources] = solve(
                    ex.graph,
                    ex.given,
                    ex.rounding,
                    exact=ex.exact,
                    backward=ex.backward,
                    replaced={s: self.upstream.values[s] for s in sources},
                )
            except NumericError:
                self._solved[sources] = None
        return self._solved[sources]


def _reaches(graph: Graph, source: str, target: str, blocked: set[str]) -> bool:
    """A path from ``source`` to ``target`` through no node of ``blocked``."""
    seen, stack = {source}, [source]
    while stack:
        for c in graph.consumers(stack.pop()):
            if c == target:
                return True
            if c not in seen and c not in blocked:
                seen.add(c)
                stack.append(c)
    return False


def _all_zero(values: np.ndarray, digits: int) -> bool:
    """Every entry shown as zero."""
    return all(round_half_up(v, digits) == 0 for v in np.asarray(values).reshape(-1))
