"""One component of a step worked out (the key's "e.g." line), and the one rule that
decides which steps show one.

The rule: a step whose result has two or more entries shows one of them worked out —
the first that takes arithmetic on printed numbers, not one that only restates a
number (a copy, x · 1, 0 · x, x + 0); a step where every entry only restates shows none. It holds for the forward
pass (the operation's own ``example``) and the backward pass (read off the step's
numeric term: a matrix product as row × column, element-wise operations entry by entry).
"""

from __future__ import annotations

from exgen.engine.ops import REGISTRY
from exgen.typeset.terms import Apply, Call, Leaf, Stack, apply, leaf, product

ELEMENTWISE = ("add", "sub", "mul", "div", "pow", "neg")


def worked_entry(result_rows: tuple, examples_at):
    """The rule above: (i, j, the terms printed between "=" signs) of the first entry
    worth working out, or None. ``examples_at(i, j)`` gives an entry's terms (or None)."""
    if sum(len(r) for r in result_rows) < 2:
        return None
    for i, j in positions(result_rows):
        examples = [t for t in examples_at(i, j) or () if t is not None]
        if examples and not all(_restates(t) for t in examples):
            return i, j, examples
    return None


def _restates(term) -> bool:
    """Whether a scalar term only restates one of its numbers: a number, x · 1, 1 · x,
    0 · x, x · 0, x + 0, 0 + x, x − 0."""
    if isinstance(term, Leaf):
        return True
    if not isinstance(term, Apply) or term.op not in ("mul", "add", "sub"):
        return False
    unit = "1" if term.op == "mul" else "0"
    a, b = term.args
    neutral = lambda t: isinstance(t, Leaf) and _is(t.scalar, unit)  # noqa: E731
    if term.op == "mul" and any(isinstance(t, Leaf) and _is(t.scalar, "0") for t in (a, b)):
        return True  # 0 · x only copies the 0
    if neutral(b):
        return _restates(a)
    return term.op != "sub" and neutral(a) and _restates(b)


def _is(text: str, value: str) -> bool:
    try:
        return float(text) == float(value)
    except ValueError:
        return False


def positions(rows: tuple):
    """(i, j) of every entry of printed rows, row by row."""
    return [(i, j) for i, r in enumerate(rows) for j in range(len(r))]


def at(rows: tuple, i: int, j: int) -> str:
    """Entry (i, j) of printed rows, broadcasting a single row or column."""
    r = rows[i if len(rows) > 1 else 0]
    return r[j if len(r) > 1 else 0]


def component(term, i: int, j: int):
    """Entry (i, j) of a term on printed numbers, as arithmetic on scalars; None where
    that is not a simple reading (a sum over an axis, a softmax, …)."""
    if isinstance(term, Leaf) or (isinstance(term, Apply) and term.op == "transpose"):
        rows = _rows(term)
        return None if rows is None else leaf(at(rows, i, j))
    if not isinstance(term, Apply):
        return None
    if term.op == "matmul":
        left, right = _rows(term.args[0]), _rows(term.args[1])
        if left is None or right is None:
            return None
        pairs = zip(left[i if len(left) > 1 else 0], right)
        terms = [product(leaf(a), leaf(at((r,), 0, j)), scalar=True) for a, r in pairs]
        total = terms[0]
        for t in terms[1:]:
            total = apply("add", total, t)
        return total
    worked = getattr(REGISTRY.get(term.op), "worked_entry", None)
    if worked is not None:  # an operation that says how one entry reads (conv2d)
        return worked(term, [_rows(a) for a in term.args], i, j)
    if term.op not in ELEMENTWISE:
        return None
    args = [component(a, i, j) for a in term.args]
    if any(a is None for a in args):
        return None
    if term.op == "mul":
        return product(args[0], args[1], scalar=True)
    return Apply(term.op, tuple(args), term.kwargs, term.style)


def index_text(rank: int, i: int, j: int) -> str:
    """The printed index of entry (i, j): "2" in a vector, "1,2" in a matrix."""
    return str(max(i, j) + 1) if rank == 1 else f"{i + 1},{j + 1}"


def _rows(term):
    """The printed rows of a leaf or of a transposed leaf."""
    if isinstance(term, Leaf):
        return term.rows
    if isinstance(term, Apply) and term.op == "transpose" and isinstance(term.args[0], Leaf):
        return tuple(zip(*term.args[0].rows))
    return None


def checkable(term) -> bool:
    """Arithmetic that key.json's `expr` can record (no max, no ReLU′ by name)."""
    if isinstance(term, Leaf):
        return True
    if isinstance(term, Stack):
        return all(checkable(p) for p in term.parts)
    if isinstance(term, Call):
        return False
    return isinstance(term, Apply) and all(
        checkable(a) for a in term.args if not isinstance(a, (int, float, str))
    )
