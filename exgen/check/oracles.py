"""`exgen check`: every key against independent oracles — central finite differences,
the exact-versus-float agreement, and PyTorch autograd where it is installed."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from exgen.asks.results import numeric_check, symbolic
from exgen.build.single import solve_sheet
from exgen.define.load import ExerciseDef, SheetDef
from exgen.engine.solve import Trace, solve
from exgen.engine.rounding import Rounding
from exgen.typeset.notation import Notation
from exgen.asks.pytorch import run as run_torch
from exgen.asks.pytorch import torch_available


@dataclass
class Finding:
    oracle: str
    ok: bool
    detail: str


@dataclass
class Verdict:
    exercise: str
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.findings)


def check_sheet(sheet: SheetDef, use_torch: bool | None = None) -> list[Verdict]:
    use_torch = torch_available() if use_torch is None else use_torch
    traces = solve_sheet(sheet)
    return [check_exercise(sheet, ex, t, use_torch) for ex, t in zip(sheet.exercises, traces)]


def check_exercise(sheet: SheetDef, ex: ExerciseDef, trace: Trace, use_torch: bool) -> Verdict:
    verdict = Verdict(ex.spec.id)
    if ex.logic is not None:
        outputs = [int(v) for v in trace.values["y"].reshape(-1)]
        wrong = sum(o != e for o, e in zip(outputs, ex.logic.expected))
        verdict.findings.append(Finding("truth table", wrong == 0,
                                        f"{len(outputs) - wrong} of {len(outputs)} points right"))
        return verdict
    plain = Rounding(ex.rounding.digits, carry=False)
    full = solve(ex.graph, ex.given, plain, exact=False)
    if ex.graph.params:
        result = numeric_check(ex, 1e-5)
        worst = max(r.worst for r in result.rows)
        worst_abs = max(r.worst_absolute for r in result.rows)
        agree = all(r.agrees for r in result.rows)
        kinks = _kinks(ex, full)
        if not agree and kinks:
            verdict.findings.append(Finding(
                "finite differences", True, f"not comparable: {', '.join(kinks)} has an input at 0, "
                f"a kink where backprop takes the derivative as 0"))
        else:
            verdict.findings.append(Finding("finite differences", agree,
                                            f"max. relative error {worst:.1e}, "
                                            f"absolute {worst_abs:.1e}"))
    if ex.exact:
        exact = solve(ex.graph, ex.given, plain, exact=True)
        gap = _largest_gap(exact, full)
        verdict.findings.append(Finding("exact vs float64", gap < 1e-9, f"max. relative gap {gap:.1e}"))
    for name, options in ex.asks:
        if name == "symbolic":
            res = symbolic(ex, trace, Notation(ex.graph), options.of, options.wrt)
            gap = abs(res.engine_value - res.expansion.value)
            verdict.findings.append(Finding("chain rule", gap <= 1e-9 * max(1, abs(res.engine_value)),
                                            f"sum over paths {res.expansion.value:.6g}, "
                                            f"backprop {res.engine_value:.6g}"))
    if use_torch and ex.graph.params:
        torch = run_torch(ex, full)
        verdict.findings.append(Finding("torch autograd", bool(torch.agrees),
                                        f"max. relative error {torch.max_error:.1e}"))
    return verdict


def _kinks(ex: ExerciseDef, trace: Trace) -> list[str]:
    """Nodes whose operation has a kink (ReLU, step, …) with an input (numerically) on it."""
    out = []
    for name, node in ex.graph.nodes.items():
        if node.kind == "op" and node.op.kinks:
            x = np.array(trace.values[node.inputs[0]], dtype=float)
            if any(np.any(np.abs(x - k) < 1e-7) for k in node.op.kinks):
                out.append(name)
    return out


def _largest_gap(a: Trace, b: Trace) -> float:
    """The largest gap between two traces, relative to the larger magnitude; gaps below
    1e-12 count as none (so that exact 0 and float 1e-17 agree)."""
    worst = 0.0
    for table_a, table_b in ((a.values, b.values), (a.grads, b.grads)):
        for name, value in table_a.items():
            x, y = np.array(value, dtype=float), np.array(table_b[name], dtype=float)
            diff = np.abs(x - y)
            scale = np.maximum(np.abs(x), np.abs(y))
            gap = np.where(diff <= 1e-12, 0.0, diff / np.where(scale > 0, scale, 1))
            worst = max(worst, float(gap.max()) if gap.size else 0.0)
    return worst


@dataclass
class StressReport:
    count: int
    redraws: dict            # constraint -> failed candidates
    spread: dict             # answer column -> (min, max, distinct values)
    trouble: list[str]       # numeric trouble found (non-finite values, oracle mismatches)
    distinct: int            # how many distinct variants


def stress(sheet: SheetDef, count: int) -> StressReport:
    """Draw and solve ``count`` variants (no PDFs): redraws per constraint, the spread
    of the answers, and any numeric trouble — an exact key disagreeing with float64,
    a non-finite number, two students with the same numbers."""
    from collections import Counter

    from exgen.build.classset import answer_row, numbered
    from exgen.render.keyjson import key_document
    from exgen.build.variants import make_variant
    redraws: Counter = Counter()
    columns: dict[str, list[float]] = {}
    trouble, seen = [], set()
    for student in numbered(count):
        v = make_variant(sheet, student)
        redraws.update(v.redraws)
        seen.add(repr({k: {n: a.tolist() for n, a in d.items()} for k, d in v.drawn.items()}))
        for ex, trace in zip(v.sheet.exercises, v.traces):
            if ex.logic is not None:
                continue
            if ex.exact:
                plain = Rounding(ex.rounding.digits, carry=False)
                gap = _largest_gap(solve(ex.graph, ex.given, plain, exact=True),
                                   solve(ex.graph, ex.given, plain, exact=False))
                if gap > 1e-9:
                    trouble.append(f"student {student.id}, {ex.spec.id}: exact and float64 differ "
                                   f"by {gap:.1e}")
            for table in (trace.values, trace.grads):
                for name, value in table.items():
                    if not np.all(np.isfinite(np.array(value, dtype=float))):
                        trouble.append(f"student {student.id}, {ex.spec.id}: {name} is not finite")
        for column, text in answer_row(key_document(v.sheet, v.traces)).items():
            columns.setdefault(column, []).append(float(text))
    spread = {c: (min(v), max(v), len(set(v))) for c, v in columns.items()}
    if len(seen) < count:
        trouble.append(f"only {len(seen)} distinct variants among {count} students")
    return StressReport(count, dict(redraws), spread, trouble, len(seen))
