"""The printed-steps oracle: every step key.json records (its `steps`, see STEPS.md) is
worked out again from its own printed numbers by exgen.check.step_arithmetic (reading
them with exgen.check.printed_numbers) and judged by exgen.check.step_judging."""

from __future__ import annotations

from exgen.build.single import work_asks
from exgen.check.findings import FAILED, OK, SKIPPED, Finding
from exgen.check.line_reading import reads_as
from exgen.check.step_judging import judge
from exgen.define.load import SheetDef
from exgen.engine.solve import Trace
from exgen.render.keyjson import key_document

ORACLE = "printed steps"
# The switch for the lead: once the key writer records `steps`, an exercise whose key
# prints forward or backward steps and records none FAILS instead of being skipped.
STEPS_REQUIRED = True
ASKS_WITH_STEPS = ("forward", "backward")


def key_for_check(sheet: SheetDef, traces: list[Trace]) -> dict:
    """The key document exactly as `exgen build` writes it to key.json, made in memory.
    PyTorch is left out of it: whether torch runs is the torch oracle's business."""
    results = [
        work_asks(sheet, ex, trace, skip=("pytorch",)) for ex, trace in zip(sheet.exercises, traces)
    ]
    return key_document(sheet, traces, results)


def check_printed_steps(exercise: str, entry: dict, sheet_rounding: dict) -> Finding:
    """One finding for all of an exercise's steps; each wrong step is one problem line."""
    steps = entry.get("steps")
    if not steps:
        prints = [a for a in ASKS_WITH_STEPS if a in entry.get("asked", [])]
        if prints and STEPS_REQUIRED:
            return Finding(
                ORACLE, FAILED, f"none recorded, though the key prints {' and '.join(prints)} steps"
            )
        return Finding(
            ORACLE,
            SKIPPED,
            "none recorded"
            if prints
            else "none recorded; nothing asked prints forward or backward steps",
        )
    rule = entry.get("rounding", sheet_rounding)
    figures = rule.get("figures")
    digits, carry = (figures if "digits" not in rule else rule.get("digits")), rule.get("carry")
    if (
        not isinstance(digits, int)
        or isinstance(digits, bool)
        or digits < 0
        or not isinstance(carry, bool)
        or rule.get("mode", "half-up") != "half-up"
        or (figures is not None and ("digits" in rule or figures < 1))
    ):
        return Finding(ORACLE, FAILED, f"cannot read the rounding rule {rule!r}")
    if not isinstance(steps, list):
        return Finding(ORACLE, FAILED, 'key.json\'s "steps" is not a list')
    problems = []
    for number, step in enumerate(steps, 1):
        target = step.get("target", "none given") if isinstance(step, dict) else "none given"
        problem = judge(step, digits, carry, figures is not None) or _misread(
            step, entry.get("layout", "column")
        )
        if problem:
            problems.append(f"{exercise} step {number} (target {target}): {problem}")
    unit = "significant figures" if figures is not None else "decimals"
    rounding = f"{'carried' if carry else 'uncarried'} rounding to {digits} {unit}"
    if problems:
        return Finding(
            ORACLE, FAILED, f"{len(problems)} of {len(steps)} steps wrong, {rounding}", problems
        )
    return Finding(
        ORACLE,
        OK,
        f"{len(steps)} step{'s' if len(steps) != 1 else ''} "
        f"recomputed and read back from their printed lines, {rounding}",
    )


def _misread(step: dict, layout: str) -> str:
    """The printed line must read (by precedence, as a person reads it) as the step's
    `expr` followed by its `result`: a dropped bracket reads as another computation."""
    line = step.get("latex")
    if not isinstance(line, str):
        return "no printed line (latex) recorded"
    if reads_as(line, step["expr"], step["result"], layout):
        return ""
    return (
        f"the printed line does not read as the computation it records: "
        f"{line[:160]}{'…' if len(line) > 160 else ''}"
    )
