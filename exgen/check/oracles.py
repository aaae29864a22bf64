"""`exgen check`: every key against independent oracles — central finite differences,
the exact-versus-float agreement, the chain rule summed over paths, every printed step
worked out again from its printed numbers, and PyTorch autograd where it is installed."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from exgen.asks.numeric_check import numeric_check
from exgen.asks.pytorch import run as run_torch
from exgen.asks.pytorch import torch_available
from exgen.asks.symbolic import symbolic
from exgen.build.single import solve_sheet
from exgen.check.findings import FAILED, NOT_COMPARABLE, OK, SKIPPED, Finding, Verdict
from exgen.check.printed_steps import check_printed_steps, key_for_check
from exgen.define.load import ExerciseDef, SheetDef
from exgen.engine.rounding import Rounding, parse_shown
from exgen.engine.solve import Trace, solve
from exgen.errors import DefinitionError
from exgen.typeset.notation import Notation

TORCH = "torch autograd"
FINITE_DIFFERENCES = "finite differences"


def check_sheet(sheet: SheetDef, no_torch: bool = False) -> list[Verdict]:
    """Every exercise against every oracle; an oracle that cannot run says why."""
    torch_skipped = (
        "--no-torch" if no_torch else None if torch_available() else "PyTorch not installed"
    )
    traces = solve_sheet(sheet)
    key = key_for_check(sheet, traces)
    return [
        check_exercise(sheet, ex, t, torch_skipped, key) for ex, t in zip(sheet.exercises, traces)
    ]


def check_exercise(
    sheet: SheetDef, ex: ExerciseDef, trace: Trace, torch_skipped: str | None, key: dict
) -> Verdict:
    verdict = Verdict(ex.spec.id)
    steps = check_printed_steps(ex.spec.id, key["exercises"][ex.spec.id], key["rounding"])
    if ex.design is not None:  # a network an ask designed: the design run on its test points
        oracle, ok, detail = ex.design.verify(trace)
        verdict.findings += [Finding(oracle, OK if ok else FAILED, detail), steps]
        return verdict
    plain = Rounding(ex.rounding.digits, carry=False)
    full = solve(ex.graph, ex.given, plain, exact=False)
    exact = solve(ex.graph, ex.given, plain, exact=True) if ex.exact else None
    verdict.findings.append(_finite_differences(ex, exact or full))
    if exact is not None:
        gap = _largest_gap(exact, full)
        verdict.findings.append(
            Finding(
                "exact vs float64", OK if gap < 1e-9 else FAILED, f"max. relative gap {gap:.1e}"
            )
        )
    else:
        verdict.findings.append(Finding("exact vs float64", SKIPPED, _why_not_exact(ex)))
    for name, options in ex.asks:
        if name == "symbolic":
            res = symbolic(ex, trace, Notation(ex.graph), options.of, options.wrt)
            gap = abs(res.engine_value - res.expansion.value)
            verdict.findings.append(
                Finding(
                    "chain rule",
                    OK if gap <= 1e-9 * max(1, abs(res.engine_value)) else FAILED,
                    f"sum over paths {res.expansion.value:.6g}, backprop {res.engine_value:.6g}",
                )
            )
    verdict.findings.append(steps)
    if not ex.graph.params:
        verdict.findings.append(Finding(TORCH, SKIPPED, "no parameters"))
    elif torch_skipped:
        verdict.findings.append(Finding(TORCH, SKIPPED, torch_skipped))
    else:
        torch = run_torch(ex, full)
        verdict.findings.append(
            Finding(
                TORCH, OK if torch.agrees else FAILED, f"max. relative error {torch.max_error:.1e}"
            )
        )
    return verdict


def _finite_differences(ex: ExerciseDef, trace: Trace) -> Finding:
    """Central differences beside backprop; at a kink they may rightly differ."""
    if not ex.graph.params:
        return Finding(FINITE_DIFFERENCES, SKIPPED, "no parameters")
    try:
        rows = numeric_check(ex, 1e-5).rows
    except DefinitionError as exc:  # a shift of 1e-5 leaves a function's domain
        return Finding(FINITE_DIFFERENCES, NOT_COMPARABLE, exc.message)
    kinks = _kinks(ex, trace)
    worst = max(rows, key=lambda r: r.worst)
    measured = f"max. relative error {worst.worst:.1e}"
    if worst.worst >= 1e-4:  # accepted (if at all) because the differences are tiny
        index = np.unravel_index(int(np.argmax(worst.relative_error)), worst.relative_error.shape)
        where = _entry(worst.param, index, ex.graph.nodes[worst.param].shape)
        measured += (
            f" at {where} (backprop {worst.backprop[index]:.1e}, finite difference "
            f"{worst.numeric[index]:.1e}"
            + (": an absolute difference below 1e-9, counted as agreeing)" if worst.agrees else ")")
        )
    measured += f", max. absolute error {max(r.worst_absolute for r in rows):.1e}"
    if not all(r.agrees for r in rows):
        if all(r.agrees or r.unresolved for r in rows):
            return Finding(
                FINITE_DIFFERENCES,
                NOT_COMPARABLE,
                f"float64 cannot resolve a step of 1e-05 at a loss this large ({measured})",
            )
        if kinks:
            return Finding(
                FINITE_DIFFERENCES, NOT_COMPARABLE, f"at a kink: {'; '.join(kinks)} ({measured})"
            )
        return Finding(FINITE_DIFFERENCES, FAILED, measured)
    if kinks:
        measured += f"; at a kink: {'; '.join(kinks)}"
    return Finding(FINITE_DIFFERENCES, OK, measured)


def _kinks(ex: ExerciseDef, trace: Trace) -> list[str]:
    """Inputs of nodes that sit exactly on a kink of their op, e.g.
    "relu input u1[2] is 0; one-sided derivatives 0 and 1"."""
    out = []
    for node in ex.graph.nodes.values():
        if node.kind != "op":
            continue
        source = node.inputs[0]
        if node.op.tied(*(trace.values[i] for i in node.inputs)):
            out.append(
                f"{node.op.name} input {source} has a tie where its gradient picks one "
                "entry; central differences see the entries move together"
            )
        points = node.op.kinks
        x = trace.values[source]
        on_kink = [
            (i, k)
            for i in np.ndindex(x.shape)
            for k in points
            if abs(float(x[i]) - float(k)) < 1e-12
        ]
        if on_kink:
            shape = ex.graph.nodes[source].shape
            entries = ", ".join(_entry(source, i, shape) for i, _ in on_kink[:3])
            more = f" and {len(on_kink) - 3} more" if len(on_kink) > 3 else ""
            verb = "is" if len(on_kink) == 1 else "are"
            value = ", ".join(sorted({f"{float(k):g}" for _, k in on_kink}))
            sides = _sides(node.op, on_kink[0][1])
            out.append(f"{node.op.name} input {entries}{more} {verb} {value}; {sides}")
    return out


def _sides(op, kink) -> str:
    """What happens on either side of a kink, asked of the op itself (no table of names):
    a jump in its value, or two one-sided derivatives."""
    eps = 1e-9
    x = np.array([[float(kink) - eps], [float(kink) + eps]])
    out = op.forward(x)
    if abs(float(out[1, 0]) - float(out[0, 0])) > 1e-6:
        return f"a jump from {float(out[0, 0]):g} to {float(out[1, 0]):g}"
    local = op.local(x, out)
    left, right = (round(float(v), 6) for v in local[:, 0])
    return f"one-sided derivatives {left:g} and {right:g}"


def _entry(name: str, index: tuple, shape: tuple) -> str:
    """An entry counted from 1: u1[2] in a vector, W1[1,2] in a matrix."""
    if shape == (1, 1):
        return name
    if len(shape) > 2:  # an image, a batch, a filter bank: every index
        return f"{name}[{','.join(str(k + 1) for k in index)}]"
    i, j = index
    if shape[1] == 1:
        return f"{name}[{i + 1}]"
    if shape[0] == 1:
        return f"{name}[{j + 1}]"
    return f"{name}[{i + 1},{j + 1}]"


def _why_not_exact(ex: ExerciseDef) -> str:
    floats = sorted(
        {n.op.name for n in ex.graph.nodes.values() if n.kind == "op" and not n.op.rational}
    )
    if floats:
        return f"float64 only: the network uses {', '.join(floats)}"
    return "float64 only: the values are drawn as floats"


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
    redraws: dict  # constraint -> failed candidates
    spread: dict  # answer column -> (min, max, distinct values)
    trouble: list[str]  # numeric trouble found (non-finite values, oracle mismatches)
    distinct: int  # how many distinct variants


def stress(sheet: SheetDef, count: int) -> StressReport:
    """Draw and solve ``count`` variants (no PDFs): redraws per constraint, the spread
    of the answers, and any numeric trouble — an exact key disagreeing with float64,
    a non-finite number, a printed step its numbers do not give, two students with the
    same numbers."""
    from collections import Counter

    from exgen.build.classset import answer_row, numbered
    from exgen.build.variants import make_variant
    from exgen.render.keyjson import key_document

    redraws: Counter = Counter()
    columns: dict[str, list[float]] = {}
    trouble, seen = [], set()
    for student in numbered(count):
        v = make_variant(sheet, student)
        redraws.update(v.redraws)
        seen.add(repr({k: {n: a.tolist() for n, a in d.items()} for k, d in v.drawn.items()}))
        for ex, trace in zip(v.sheet.exercises, v.traces):
            if ex.design is not None:
                continue
            if ex.exact:
                plain = Rounding(ex.rounding.digits, carry=False)
                gap = _largest_gap(
                    solve(ex.graph, ex.given, plain, exact=True),
                    solve(ex.graph, ex.given, plain, exact=False),
                )
                if gap > 1e-9:
                    trouble.append(
                        f"student {student.id}, {ex.spec.id}: exact and float64 differ by {gap:.1e}"
                    )
            for table in (trace.values, trace.grads):
                for name, value in table.items():
                    if not np.all(np.isfinite(np.array(value, dtype=float))):
                        trouble.append(f"student {student.id}, {ex.spec.id}: {name} is not finite")
        key = key_document(v.sheet, v.traces)
        for column, text in answer_row(key).items():
            columns.setdefault(column, []).append(float(parse_shown(text)[0]))
        for exercise, entry in key["exercises"].items():  # each variant's printed steps too
            steps = check_printed_steps(exercise, entry, key["rounding"])
            if steps.status == FAILED:
                trouble += [f"student {student.id}, {p}" for p in steps.problems or [steps.detail]]
    spread = {c: (min(v), max(v), len(set(v))) for c, v in columns.items()}
    if len(seen) < count:
        trouble.append(f"only {len(seen)} distinct variants among {count} students")
    return StressReport(count, dict(redraws), spread, trouble, len(seen))
