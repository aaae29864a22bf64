"""A term's value in float64, by the operations' own forward functions (used where a
formula's value is printed beside it, e.g. the chain rule's local factors)."""

from __future__ import annotations

import inspect
from fractions import Fraction

import numpy as np

from exgen.engine.ops import REGISTRY
from exgen.typeset.terms import Apply, Leaf, Stack, Symbol


def evaluate(term, env: dict) -> np.ndarray:
    """``env`` maps node names (of Symbols) to 2-D arrays."""
    if isinstance(term, Leaf):
        return np.vectorize(float, otypes=[float])(np.array(term.rows, dtype=object))
    if isinstance(term, Symbol):
        return np.asarray(env[term.name], dtype=float)
    if isinstance(term, Stack):
        maps = [evaluate(p, env) for p in term.parts]
        return np.stack(maps).reshape(*term.grid, *maps[0].shape)
    if not isinstance(term, Apply):
        raise TypeError(f"{type(term).__name__} cannot be evaluated: {term!r}")
    cls = REGISTRY[term.op]
    params = inspect.signature(cls.__init__).parameters
    args = term.args
    kwargs = {}
    if "exponent" in params:
        kwargs["exponent"] = Fraction(args[1].scalar)
        args = args[:1]
    if "axis" in params and term.kw("axis") is not None:
        kwargs["axis"] = term.kw("axis")
    return np.asarray(cls(**kwargs).forward(*(evaluate(a, env) for a in args)), dtype=float)


def simplified(term):
    """Products with 1 and divisions by 1 dropped (a local derivative written with g = 1)."""
    if not isinstance(term, Apply):
        return term
    args = tuple(simplified(a) for a in term.args)
    one = [isinstance(a, Leaf) and a.rank == 0 and a.scalar == "1" for a in args]
    if term.op in ("mul", "matmul") and any(one):
        return args[1] if one[0] else args[0]
    if term.op == "div" and one[1]:
        return args[0]
    if term.op == "transpose" and isinstance(args[0], (Leaf, Symbol)) and args[0].rank == 0:
        return args[0]
    return Apply(term.op, args, term.kwargs, term.style)
