"""Values from a seeded NumPy snippet (seed 000): the code the sheet prints, and the
numbers it gives, drawn from a local generator with the same stream as np.random.seed."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from exgen.define.schema import RandomSpec


def draw_values(spec: RandomSpec) -> dict[str, np.ndarray]:
    """What ``np.random.seed(seed)`` followed by the snippet's lines gives, in order."""
    rng = np.random.RandomState(spec.seed)  # the legacy stream, without global state
    values = {}
    for d in spec.draws:
        shape = tuple(d.shape)
        if d.dist == "randn":
            a = rng.randn(*shape)
        elif d.dist == "rand":
            a = rng.rand(*shape)
        elif d.dist == "zeros":
            a = np.zeros(shape)
        else:
            a = np.ones(shape)
        values[d.name] = a * d.scale if d.scale != 1 else a
    return values


def snippet_code(spec: RandomSpec) -> str:
    """The Python a student runs to get the same numbers."""
    lines = ["import numpy as np", f"np.random.seed({spec.seed})"]
    for d in spec.draws:
        shape = ", ".join(str(n) for n in d.shape)
        if d.dist in ("randn", "rand"):
            call = f"np.random.{d.dist}({shape})"
        else:
            call = f"np.{d.dist}(({shape}{',' if len(d.shape) == 1 else ''}))"
        scale = "" if d.scale == 1 else f" * {d.scale:g}"
        lines.append(f"{d.name} = {call}{scale}")
    return "\n".join(lines)
