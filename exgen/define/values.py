"""Values as a definition gives them: exact numbers, finite and within range, in a
scalar, a vector or a matrix of at most MAX_ELEMENTS numbers."""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from exgen.define.schema import MAX_ELEMENTS
from exgen.define.yaml_reader import Decimal
from exgen.engine.rounding import GIVEN_RANGE, within
from exgen.errors import DefinitionError


def to_array(value, path: str) -> np.ndarray:
    """A scalar, 1-D or 2-D list of numbers as an exact object array."""
    if isinstance(value, list):
        if not value:
            raise DefinitionError("expected numbers, found an empty list", path=path)
        if all(isinstance(row, list) for row in value):
            lengths = [len(row) for row in value]
            if len(set(lengths)) > 1:
                short = lengths.index(min(lengths))
                raise DefinitionError(
                    f"rows have different lengths: row 0 has {lengths[0]} "
                    f"numbers, row {short} has {lengths[short]}"
                    if short
                    else f"rows have different lengths: row 0 has "
                    f"{lengths[0]} numbers, row {lengths.index(max(lengths))} "
                    f"has {max(lengths)}",
                    path=path,
                )
            if lengths[0] == 0:
                raise DefinitionError("expected numbers, found empty rows", path=path)
            if len(value) * lengths[0] > MAX_ELEMENTS:
                raise DefinitionError(f"at most {MAX_ELEMENTS} numbers per value", path=path)
            return np.array(
                [
                    [_number(x, f"{path}[{i}][{j}]") for j, x in enumerate(row)]
                    for i, row in enumerate(value)
                ],
                dtype=object,
            )
        if any(isinstance(row, list) for row in value):
            raise DefinitionError(
                "mixes numbers and lists; expected a vector [1, 2] or a matrix [[1, 2], [3, 4]]",
                path=path,
            )
        if len(value) > MAX_ELEMENTS:
            raise DefinitionError(f"at most {MAX_ELEMENTS} numbers per value", path=path)
        arr = np.empty(len(value), dtype=object)
        for i, x in enumerate(value):
            arr[i] = _number(x, f"{path}[{i}]")
        return arr
    arr = np.empty((), dtype=object)
    arr[()] = _number(value, path)
    return arr


def _number(x, path: str) -> Fraction:
    """An exact number from the file: finite, and at most MAX_GIVEN in magnitude."""
    if isinstance(x, Decimal):
        if not within(x):  # also .inf, which YAML reads as a plain float
            raise DefinitionError(f"expected a number {GIVEN_RANGE}, found {x.text}", path=path)
        return x.exact()
    if isinstance(x, (Fraction, int)) and not isinstance(x, bool):
        if not within(x):
            found = str(x) if abs(x) < 10**40 else "a longer number"
            raise DefinitionError(f"expected a number {GIVEN_RANGE}, found {found}", path=path)
        return Fraction(x)
    if isinstance(x, float):
        raise DefinitionError(f"expected a finite number, found {x}", path=path)
    if isinstance(x, list):
        raise DefinitionError(
            "expected a number, found a list (values have at most two dimensions)", path=path
        )
    raise DefinitionError(f"expected a number, found {kind(x)}", path=path)


def kind(x) -> str:
    if isinstance(x, Decimal):
        return x.text if len(x.text) < 40 else "a long number"
    if isinstance(x, float):
        return format(x, "g")
    if isinstance(x, str):
        return f"'{x}'" if len(x) < 40 else "a text"
    if isinstance(x, bool):
        return str(x).lower()
    if x is None:
        return "nothing (null)"
    if isinstance(x, dict):
        return "a mapping"
    if isinstance(x, list):
        return "a list"
    return type(x).__name__
