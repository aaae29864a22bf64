"""A term with the printed numbers put in, as key.json's `expr` (STEPS.md)."""

from __future__ import annotations

from exgen.typeset.terms import Apply, Leaf, Stack


def to_json(term):
    """{"op": name, "args": [...], **kwargs}; leaves as printed decimal strings (ASCII
    minus), scalars plain and everything else as 2-D nested lists."""
    if isinstance(term, Leaf):
        if term.rank == 0:
            return term.scalar
        return _lists(term.rows)
    if isinstance(term, Stack):
        return {"op": "stack", "grid": list(term.grid), "args": [to_json(p) for p in term.parts]}
    if isinstance(term, Apply):
        out = {"op": term.op, "args": [to_json(a) for a in term.args]}
        out.update(dict(term.kwargs))
        return out
    raise TypeError(f"{type(term).__name__} has no numeric form in key.json: {term!r}")


def _lists(rows):
    return [_lists(r) if isinstance(r, tuple) else r for r in rows]
