"""Variant draw rules and constraint names, checked against the definition when it
is read (the drawing itself is the build's: exgen/build/variants.py)."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from exgen.errors import DefinitionError

CONSTRAINTS = (
    "no_relu_at_zero",
    "some_relu_inactive",
    "no_dead_layer",
    "grads_visible",
    "no_saturation",
    "no_pool_ties",
    "no_max_ties",
    "no_variance_near_zero",
    "max_abs",
)


@dataclass
class CompiledRule:
    integers: tuple | None = None
    grid: tuple | None = None
    exact_grid: tuple | None = None
    exact_choice: list | None = None
    one_of: list | None = None
    one_of_arrays: list | None = None


def compile_rules(spec, values_by_name: dict, path: str = "variants") -> dict:
    """Check the draw rules against the definition; raise with the key path."""
    out = {}
    for key, rule in spec.draw.items():
        where = f"{path}.draw.{key}"
        given = [r for r in rule.model_dump().values() if r is not None]
        if len(given) != 1:
            raise DefinitionError("give exactly one of integers, grid, choice, one_of", path=where)
        if key not in values_by_name:
            raise DefinitionError(f"no exercise has a value '{key}' to draw", path=where)
        c = CompiledRule()
        if rule.integers is not None:
            lo, hi = rule.integers
            if lo > hi:
                raise DefinitionError(f"integers: {lo} is above {hi}", path=f"{where}.integers")
            c.integers = (lo, hi)
        elif rule.grid is not None:
            lo, hi, step = (Fraction(repr(x)) for x in rule.grid)
            if step <= 0 or lo > hi:
                raise DefinitionError(
                    "grid is [low, high, step] with low ≤ high and step > 0", path=f"{where}.grid"
                )
            c.grid, c.exact_grid = rule.grid, (lo, hi, step)
        elif rule.choice is not None:
            c.exact_choice = [Fraction(repr(x)) for x in rule.choice]
        else:
            shape = np.shape(values_by_name[key])
            arrays = []
            for k, item in enumerate(rule.one_of):
                from exgen.define.load import to_array  # the values reader

                arr = to_array(item, f"{where}.one_of[{k}]")
                if arr.shape != shape:
                    raise DefinitionError(
                        f"shape {arr.shape} differs from the given value's {shape}",
                        path=f"{where}.one_of[{k}]",
                    )
                arrays.append(arr)
            c.one_of, c.one_of_arrays = rule.one_of, arrays
        out[key] = c
    for k, req in enumerate(spec.require):
        name = req if isinstance(req, str) else (next(iter(req)) if len(req) == 1 else "")
        if name not in CONSTRAINTS or (name == "max_abs") == isinstance(req, str):
            raise DefinitionError(
                f"unknown constraint {req!r} (expected one of: "
                f"{', '.join(CONSTRAINTS[:-1])}, or max_abs: v)",
                path=f"{path}.require[{k}]",
            )
    return out
