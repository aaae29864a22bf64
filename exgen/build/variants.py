"""Randomized per-student variants: stable seeds, draw rules, constraints, redraws.

A student's seed is a SHA-256 of the sheet's secret and the student id; each exercise
draws from its own local generator (random.Random, stable across Python versions),
never from global state. A candidate that breaks a constraint is drawn again, a
bounded number of times."""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from dataclasses import dataclass, field, replace
from fractions import Fraction

import numpy as np

from exgen.define.load import SNIPPET_SEED, ExerciseDef, SheetDef
from exgen.engine.rounding import round_half_up
from exgen.engine.snippet import draw_values
from exgen.engine.solve import NumericError, Trace, backpropagate, solve
from exgen.errors import DefinitionError


class VariantError(DefinitionError):
    """The rules cannot be met (a constraint fails on every draw)."""


@dataclass(frozen=True)
class Student:
    id: str
    name: str = ""


@dataclass
class Variant:
    student: Student
    seed: str  # hex digest: the student's seed
    sheet: SheetDef  # the sheet with the student's values
    traces: list[Trace]
    drawn: dict[str, dict[str, np.ndarray]]  # exercise id -> name -> drawn value
    redraws: Counter = field(default_factory=Counter)  # constraint -> failed candidates

    @property
    def code(self) -> str:
        return variant_code(self.seed)


def variant_code(seed: str) -> str:
    """The code a student's sheet and key print (and a platform's question names): the
    first six hex digits of their seed."""
    return seed[:6].upper()


def student_seed(secret: str, student_id: str) -> str:
    return hashlib.sha256(f"exgen-variant\0{secret}\0{student_id}".encode()).hexdigest()


def _rng(seed: str, exercise_id: str) -> random.Random:
    digest = hashlib.sha256(f"{seed}\0{exercise_id}".encode()).digest()
    return random.Random(int.from_bytes(digest, "big"))


def draw_value(rule, shape: tuple, rng: random.Random) -> np.ndarray:
    """One value, shaped like the given one, exact (Fractions)."""
    out = np.empty(shape, dtype=object)
    flat = out.reshape(-1)
    if rule.one_of is not None:
        return rule.one_of_arrays[rng.randrange(len(rule.one_of_arrays))].copy()
    for i in range(flat.size):
        if rule.integers is not None:
            lo, hi = rule.integers
            flat[i] = Fraction(rng.randint(lo, hi))
        elif rule.grid is not None:
            lo, hi, step = rule.exact_grid
            count = int((hi - lo) / step)
            flat[i] = lo + step * rng.randint(0, count)
        else:
            flat[i] = rule.exact_choice[rng.randrange(len(rule.exact_choice))]
    return out


def violations(trace: Trace, requires: list) -> list[str]:
    """The constraints a solved candidate breaks, by name."""
    graph, out = trace.graph, []
    values = trace.values
    # the relu_ constraints apply to every operation with a kink (relu, step, leaky_relu)
    relu_inputs = [
        values[n.inputs[0]] for n in graph.nodes.values() if n.kind == "op" and n.op.kinks
    ]
    for req in requires:
        name, limit = (req, None) if isinstance(req, str) else next(iter(req.items()))
        if name == "no_relu_at_zero":
            bad = any(
                np.any(np.abs(np.array(values[n.inputs[0]], dtype=float) - k) < 1e-12)
                for n in graph.nodes.values()
                if n.kind == "op" and n.op.kinks
                for k in n.op.kinks
            )
        elif name == "some_relu_inactive":
            bad = bool(relu_inputs) and not any(
                np.any(np.array(v, dtype=float) < 0) for v in relu_inputs
            )
        elif name == "no_dead_layer":  # every ReLU layer passes something on, for every sample
            bad = any(
                np.any(
                    np.all(np.array(v, dtype=float) <= 0, axis=0 if graph.layout == "column" else 1)
                )
                for v in relu_inputs
            )
        elif name == "grads_visible":
            digits = trace.rounding.digits
            bad = False
            for p in graph.params:
                g = trace.grads.get(p)
                if g is None:
                    continue
                for x in g.reshape(-1):
                    if x != 0 and round_half_up(x, digits) == 0:
                        bad = True
        elif name == "no_saturation":
            bad = False
            for n in graph.nodes.values():
                if n.kind == "op" and n.op.saturates is not None:
                    v = np.array(values[n.name], dtype=float)
                    lo, hi = n.op.saturates
                    bad = bad or bool(np.any(v - lo < 0.01) or np.any(hi - v < 0.01))
        elif name in ("no_pool_ties", "no_max_ties"):  # each op's tied hook, by its `ties`
            # no max-pool window with two maxima; no max(a, b)/min(a, b) with a = b
            bad = any(
                n.op.tied(*(values[i] for i in n.inputs))
                for n in graph.nodes.values()
                if n.kind == "op" and n.op.ties == name
            )
        elif name == "no_variance_near_zero":  # no batch-norm feature (almost) constant
            bad = any(
                n.op.near_zero(*(values[i] for i in n.inputs))
                for n in graph.nodes.values()
                if n.kind == "op"
            )
        else:  # max_abs
            bad = any(
                np.any(np.abs(np.array(v, dtype=float)) > limit)
                for table in (trace.values, trace.grads)
                for v in table.values()
            )
        if bad:
            out.append(name)
    return out


_UNCHANGED: dict[int, tuple[ExerciseDef, Trace]] = {}


def _unchanged(ex: ExerciseDef) -> Trace:
    """The trace of an exercise no rule draws for (keyed by identity; holding the
    exercise keeps its id from being reused)."""
    if id(ex) not in _UNCHANGED:
        trace = solve(ex.graph, ex.given, ex.rounding, exact=ex.exact, backward=ex.backward)
        _UNCHANGED[id(ex)] = (ex, trace)
    return _UNCHANGED[id(ex)][1]


def _forward_only(requirement) -> bool:
    return isinstance(requirement, str) and requirement != "grads_visible"


def rules_for(sheet: SheetDef, ex: ExerciseDef) -> dict:
    """The draw rules that apply to one exercise's given values (qualified names win)."""
    rules = {}
    for key, rule in sheet.variant_rules.items():
        scope, _, name = key.rpartition(".")
        if scope in ("", ex.spec.id) and name in ex.spec.values:
            if scope or name not in rules:
                rules[name] = rule
    return rules


def _reseeded(ex: ExerciseDef, seed: int) -> tuple[ExerciseDef, dict]:
    """The exercise with its snippet run from another seed: the student's own numbers,
    and the snippet the sheet prints says that seed."""
    random = ex.spec.random.model_copy(update={"seed": seed})
    given = dict(ex.given, **draw_values(random))
    return replace(ex, spec=ex.spec.model_copy(update={"random": random})), given


def variant_rules_block(sheet: SheetDef):
    """The sheet's `variants:` block; a sheet without one has no variants to draw, and
    says so (a class build, or exgen check --variants, of it)."""
    if sheet.spec.variants is None:
        raise DefinitionError(
            "no variants block: add one (seed, draw, require) to build per-student variants",
            sheet.source,
            "variants",
        )
    return sheet.spec.variants


def class_secret(sheet: SheetDef, secret: str | None) -> str:
    """The secret the class is drawn with: --seed, else the sheet's variants seed."""
    return secret if secret is not None else variant_rules_block(sheet).seed


def make_variant(sheet: SheetDef, student: Student, secret: str | None = None) -> Variant:
    spec = variant_rules_block(sheet)
    seed = student_seed(class_secret(sheet, secret), student.id)
    exercises, traces, drawn, redraws = [], [], {}, Counter()
    for ex in sheet.exercises:
        rules = rules_for(sheet, ex)
        seed_rule = sheet.variant_rules.get(f"{ex.spec.id}.{SNIPPET_SEED}")
        if not rules and seed_rule is None:  # the same for every student: solved once per process
            exercises.append(ex)
            traces.append(_unchanged(ex))
            continue
        rng = _rng(seed, ex.spec.id)
        failed = Counter()
        ahead_rules = [r for r in spec.require if _forward_only(r)]
        behind_rules = [r for r in spec.require if not _forward_only(r)]
        for _ in range(spec.tries):
            given = dict(ex.given)
            candidate = ex
            if seed_rule is not None:
                candidate, given = _reseeded(ex, rng.randint(*seed_rule.integers))
            for name, rule in rules.items():
                given[name] = draw_value(rule, np.shape(ex.given[name]), rng)
            candidate = replace(candidate, given=given)
            # the forward pass alone decides most constraints: a candidate that fails
            # them never costs a backward pass
            try:
                trace = solve(
                    candidate.graph,
                    given,
                    candidate.rounding,
                    exact=candidate.exact,
                    backward=False,
                )
                broken = violations(trace, ahead_rules)
                if not broken:
                    broken = violations(backpropagate(trace), behind_rules)
            except NumericError:  # 1/0, log 0, overflow: the draw is redrawn like any other
                broken = ["computable"]
            if not broken:
                break
            failed.update(broken)
        else:
            worst, _count = failed.most_common(1)[0]
            others = ", ".join(f"{n} {c} times" for n, c in failed.most_common()[1:])
            raise sheet.error(
                VariantError,
                f"cannot meet '{worst}' for exercise {ex.spec.id} "
                f"(student {student.id}): it failed all {spec.tries} draws"
                + (f"; also failed: {others}" if others else "")
                + "; widen the draw rules or drop the constraint",
                "variants.require",
            )
        redraws.update(failed)
        exercises.append(candidate)
        traces.append(trace)
        drawn[ex.spec.id] = {n: given[n] for n in rules}
        if seed_rule is not None:
            drawn[ex.spec.id][SNIPPET_SEED] = np.array(candidate.spec.random.seed)
    return Variant(student, seed, replace(sheet, exercises=exercises), traces, drawn, redraws)
