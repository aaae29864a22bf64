"""Error carried forward: the engine re-run from a student's own earlier values. Each
wrong forward value the student handed in replaces the engine's (with the sheet's
rounding rule everything after it is computed as the student would), and each wrong
gradient they handed in (an error signal ∂L/∂z₂) is handed on by the backward pass
instead of the engine's; a later answer that agrees with that recomputation follows
from the student's own work."""

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
    """A student's wrong values of one exercise, forward and gradients: node -> {entry:
    value}, and the columns they came from."""

    values: dict[str, dict[int, Fraction]] = field(default_factory=dict)
    grads: dict[str, dict[int, Fraction]] = field(default_factory=dict)
    columns: dict[tuple[str, bool], list[str]] = field(default_factory=dict)

    def add(self, node: str, flat: int, value: Fraction, column: str, grad: bool = False) -> None:
        (self.grads if grad else self.values).setdefault(node, {})[flat] = value
        self.columns.setdefault((node, grad), []).append(column)

    def __bool__(self) -> bool:
        return bool(self.values or self.grads)


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
        self._solved: dict[frozenset[tuple[str, bool]], Trace | None] = {}

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
        values = frozenset(n for n, is_grad in sources if not is_grad)
        return Carried(
            shown(value[flat], self.ex.rounding.digits),
            columns,
            self._zeroed(recomputed, values, node, grad),
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

    def _sources(self, node: str, grad: bool) -> frozenset[tuple[str, bool]]:
        """The nearest wrong values upstream, as (node, is a gradient): for a value, those
        with a path to it that passes no other wrong value; for a gradient, every wrong
        forward value but the loss, and the wrong gradients it is computed from — of the
        nodes after it, with a path from it that passes no other wrong gradient."""
        graph = self.ex.graph
        wrong = set(self.upstream.values) - ({node} if not grad else set())
        if grad:  # the loss's own value enters no gradient (its gradient is 1)
            later = set(self.upstream.grads) - {node}
            signals = {m for m in later if _reaches(graph, node, m, later - {m})}
            return frozenset(
                [(s, False) for s in wrong - {graph.loss}] + [(m, True) for m in signals]
            )
        ancestors = graph.ancestors(node)
        return frozenset(
            (s, False) for s in wrong & ancestors if _reaches(graph, s, node, wrong - {s})
        )

    def _solve(self, sources: frozenset[tuple[str, bool]]) -> Trace | None:
        if sources not in self._solved:
            ex, up = self.ex, self.upstream
            try:
                self._solved[sources] = solve(
                    ex.graph,
                    ex.given,
                    ex.rounding,
                    exact=ex.exact,
                    backward=ex.backward,
                    replaced={s: up.values[s] for s, is_grad in sources if not is_grad},
                    replaced_grads={s: up.grads[s] for s, is_grad in sources if is_grad},
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
