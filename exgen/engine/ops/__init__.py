"""The operations, one module each (arithmetic shares one): every module in this package
registers its operations on import, so adding an operation is adding a module.

Everything else that depends on an operation — the equation whitelist, typesetting,
key.json `expr`, the figures, PyTorch code, kinks and variant constraints — reads
the registry; nothing keeps its own table of operation names.
"""

from __future__ import annotations

import importlib
import pkgutil
from fractions import Fraction
from typing import Any

from exgen.engine.ops.base import (
    REGISTRY,
    Misfit,
    Op,
    count,
    like,
    missing_parts,
    register,
    unbroadcast,
)

for _module in pkgutil.iter_modules(__path__):
    if _module.name != "base":
        importlib.import_module(f"{__name__}.{_module.name}")

# re-exported: tests patch its local derivative
from exgen.engine.ops.relu import Relu  # noqa: E402

_like = like

__all__ = [
    "REGISTRY",
    "Misfit",
    "Op",
    "Relu",
    "count",
    "function_names",
    "get",
    "make_op",
    "missing_parts",
    "register",
    "unbroadcast",
]


def get(name: str) -> type[Op]:
    return REGISTRY[name]


def function_names() -> tuple[str, ...]:
    """The operations an equation may call as f(x), in a stable order."""
    return tuple(sorted(n for n, cls in REGISTRY.items() if cls.in_equations))


def make_op(
    name: str, exponent: Fraction | None = None, axis: int = 0, keywords: dict | None = None
) -> Op:
    """The operation ``name`` with its constant (pow's exponent) or an equation's keyword
    arguments; ``axis`` is the sheet's unit axis, the default of those that follow it."""
    cls: Any = REGISTRY[name]
    if name == "pow":
        return cls(exponent)
    return cls.built(dict(keywords or {}), axis)
