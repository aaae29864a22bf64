"""Values as a definition gives them: exact numbers, finite and within range, in a
scalar, a vector, a matrix or a tensor of up to four dimensions (images, batches,
kernels), of at most MAX_ELEMENTS numbers."""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from exgen.define.schema import MAX_ELEMENTS
from exgen.define.yaml_reader import Decimal
from exgen.engine.ops.base import dims
from exgen.engine.rounding import GIVEN_RANGE, within
from exgen.errors import DefinitionError

MAX_DIMENSIONS = 4  # a batch of multi-channel images N×C×H×W, or kernels F×C×kh×kw


def to_array(value, path: str) -> np.ndarray:
    """A scalar or a nested list of numbers (a vector, a matrix, a C×H×W image, an
    N×C×H×W batch) as an exact object array; every list at one depth has one length."""
    if not isinstance(value, list):
        arr = np.empty((), dtype=object)
        arr[()] = _number(value, path)
        return arr
    shape = _shape(value, path, 1)
    if int(np.prod(shape)) > MAX_ELEMENTS:
        raise DefinitionError(f"at most {MAX_ELEMENTS} numbers per value", path=path)
    arr = np.empty(shape, dtype=object)
    for index in np.ndindex(*shape):
        x = value
        for i in index:
            x = x[i]
        arr[index] = _number(x, path + "".join(f"[{i}]" for i in index))
    return arr


_NAMES = {1: "numbers", 2: "rows", 3: "matrices", 4: "images"}


def _shape(value: list, path: str, depth: int) -> tuple[int, ...]:
    """The shape of a nested list, or a DefinitionError naming where it is ragged."""
    if not value:
        what = "an empty list" if depth == 1 else "empty rows"
        raise DefinitionError(f"expected numbers, found {what}", path=path)
    lists = [isinstance(x, list) for x in value]
    if not any(lists):
        return (len(value),)
    if not all(lists):
        raise DefinitionError(
            "mixes numbers and lists; expected a vector [1, 2] or a matrix [[1, 2], [3, 4]]",
            path=path,
        )
    if depth == MAX_DIMENSIONS:
        raise DefinitionError(
            f"expected a number, found a list (values have at most {MAX_DIMENSIONS} dimensions)",
            path=f"{path}[0]",
        )
    inner = [_shape(x, f"{path}[{i}]", depth + 1) for i, x in enumerate(value)]
    if len(set(inner)) > 1:
        if depth == 1 and all(len(s) == 1 for s in inner):
            lengths = [s[0] for s in inner]
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
        other = next(i for i, s in enumerate(inner) if s != inner[0])
        shown = [dims(inner[k]) for k in (0, other)]
        raise DefinitionError(
            f"the {_NAMES.get(len(inner[0]) + 1, 'parts')} have different shapes: "
            f"item 0 is {shown[0]}, item {other} is {shown[1]}",
            path=path,
        )
    return (len(value), *inner[0])


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
