"""The worked solution as steps: formula in symbols, the numbers put in, the result.

A Step holds the printed line (formula trees for HTML) and its checkable claims: each
a term with the printed numbers put in and the printed result it gives; key.json's
`steps` and the line's LaTeX come from the same terms (STEPS.md). Knows nothing of HTML.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from exgen.engine.solve import Trace
from exgen.language import N_
from exgen.typeset.exprjson import to_json
from exgen.typeset.formula import Text
from exgen.typeset.latex import latex, line_latex
from exgen.typeset.notation import Notation
from exgen.typeset.spell import minus, spell
from exgen.typeset.terms import Apply, Leaf, printed_rows

EG = Text(N_("e.g."))  # set in italics by the renderer (class "eg")


@dataclass
class Step:
    lhs: object
    parts: list  # each part follows an "=" sign
    note: object = None  # one component worked out, a mask, …
    final: bool = False  # a parameter gradient: the answer
    sub: bool = False  # a piece of a longer equation
    target: str = ""  # the node (or ask result) computed
    claims: list = field(default_factory=list)  # (term with numbers, printed result Leaf)
    note_claims: list = field(default_factory=list)  # the same, for the note's line
    note_target: str = ""  # what the note's claims compute (default: local.<node>)

    @property
    def latex(self) -> str:
        return line_latex(self.lhs, self.parts)


@dataclass
class Solution:
    forward: list[Step] = field(default_factory=list)
    backward: list[Step] = field(default_factory=list)
    answers: list[Step] = field(default_factory=list)  # the parameters' gradients (backward)
    requested: list[Step] = field(default_factory=list)  # the gradients ask's, not among them

    def steps(self) -> list[Step]:
        """The steps in the order the key prints them."""
        return self.forward + self.backward


def step_entries(step: Step) -> list[dict]:
    """A step as key.json `steps` entries: one per checkable claim (none for a line that
    only restates a value)."""
    out = [
        {
            "target": step.target,
            "latex": step.latex,
            "expr": to_json(expr),
            "result": to_json(result),
        }
        for expr, result in step.claims
    ]
    if step.note_claims:
        note = latex(step.note)
        out += [
            {
                "target": step.note_target or f"local.{step.target.removeprefix('grad.')}",
                "latex": note,
                "expr": to_json(expr),
                "result": to_json(result),
            }
            for expr, result in step.note_claims
        ]
    return out


def leaf_of(strings, rank: int) -> Leaf:
    """Printed strings (a 2-D array as displayed; an image or a batch with its own
    dimensions) as a leaf."""
    strings = np.atleast_2d(np.asarray(strings, dtype=object))
    if rank == 0:
        return Leaf(((str(strings.reshape(-1)[0]),),), 0)
    return Leaf(printed_rows(strings), rank)


def value_formula(strings: np.ndarray, rank: int):
    """Shown strings as a number (rank 0) or a matrix, with real minus signs."""
    return spell(leaf_of(strings, rank))


def added(terms: list):
    """t₁ + t₂ + … (left to right)."""
    total = terms[0]
    for t in terms[1:]:
        total = Apply("add", (total, t))
    return total


def dedupe(parts: list) -> list:
    """Drop a part equal to the one before it (a value restated)."""
    out = []
    for p in parts:
        if not out or out[-1] != p:
            out.append(p)
    return out


def claim(expr, result) -> list:
    """A claim, unless ``expr`` is itself printed numbers (a restatement)."""
    return [] if isinstance(expr, Leaf) else [(expr, result)]


def worked_step(
    lhs, symbolic, numeric, result: Leaf, target: str, layout: str = "column", **flags
) -> Step:
    """A line `lhs = symbolic = numeric = result` from terms (symbolic may be None), with
    its claim: how an ask (e.g. update: θ − η·∂L/∂θ) adds a step to the key and key.json."""
    terms = dedupe([t for t in (symbolic, numeric, result) if t is not None])
    return Step(
        lhs,
        [spell(t, layout) for t in terms],
        target=target,
        claims=claim(numeric, result),
        **flags,
    )


def solution(trace: Trace, notation: Notation, asks: list) -> Solution:
    from exgen.typeset.backward_steps import BackwardWriter

    writer = BackwardWriter(trace, notation)
    names = {a for a, _ in asks}
    sol = Solution()
    if "forward" in names or "backward" in names or "gradients" in names:
        sol.forward = writer.forward()
    wanted = [n for a, o in asks if a == "gradients" for n in o]
    if "backward" in names:
        sol.backward = writer.backward(wanted)
    steps = writer.backward(wanted) if "gradients" in names and not sol.backward else sol.backward
    by_name = {s.target.removeprefix("grad."): s for s in steps if s.target.startswith("grad.")}
    params = list(trace.graph.params) if "backward" in names else []
    sol.answers = [Step(by_name[n].lhs, [by_name[n].parts[-1]], final=True) for n in params]
    sol.requested = [
        Step(by_name[n].lhs, [by_name[n].parts[-1]], final=True) for n in wanted if n not in params
    ]
    sol.backward = pass_through_merged(sol.backward)
    return sol


def _passes_through(step: Step) -> bool:
    """A line that only hands a gradient on: ∂L/∂y = ∂L/∂(y − ŷ) = [value], no arithmetic."""
    return not step.claims and not step.note and not step.final and len(step.parts) == 2


def _times_ones(step: Step) -> bool:
    """g ⊙ [1 … 1] = g: a mask of ones (every ReLU active) hands the gradient on unchanged."""
    if step.final or len(step.claims) != 1 or step.note_claims:
        return False
    expr, result = step.claims[0]
    return (
        isinstance(expr, Apply)
        and expr.op == "mul"
        and all(isinstance(a, Leaf) for a in expr.args)
        and all(c == "1" for r in expr.args[1].rows for c in r)
        and expr.args[0] == result
    )


def pass_through_merged(steps: list[Step]) -> list[Step]:
    """Consecutive lines that hand the same gradient on as one line, e.g.
    ∂L/∂u₃ = ∂L/∂y = ∂L/∂(y − ŷ) = [7.83; 5.93] for ∂L/∂y = … and ∂L/∂u₃ = ∂L/∂y = …,
    and ∂L/∂u₂ = ∂L/∂z₂ ⊙ ReLU′(u₂) = ∂L/∂z₂ = … when the mask is all ones (the note says
    so) rather than [7.83; 5.93] ⊙ [1; 1] = [7.83; 5.93]; an answer (a parameter's
    gradient) keeps its own line."""
    out: list[Step] = []
    for step in steps:
        before = out[-1] if out else None
        same = before is not None and before.parts[-1] == step.parts[-1]
        if same and _passes_through(step) and _passes_through(before):
            if step.parts == [before.lhs, before.parts[-1]]:
                out[-1] = Step(
                    step.lhs,
                    [before.lhs, *before.parts],
                    sub=step.sub and before.sub,
                    target=step.target,
                )
                continue
        if same and _times_ones(step) and before.lhs in getattr(step.parts[0], "items", ()):
            chain = before.parts if _passes_through(before) else [before.parts[-1]]
            merged = Step(
                step.lhs,
                [step.parts[0], before.lhs, *chain],
                note=step.note,
                sub=step.sub and before.sub,
                target=step.target,
            )
            if _passes_through(before):
                out[-1] = merged
            else:
                out.append(merged)
            continue
        out.append(step)
    return out


__all__ = [
    "EG",
    "Solution",
    "Step",
    "added",
    "claim",
    "dedupe",
    "leaf_of",
    "minus",
    "solution",
    "step_entries",
    "value_formula",
    "worked_step",
]
