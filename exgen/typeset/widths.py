"""How wide a formula prints, estimated from its characters and matrix columns (no layout
engine), and the one policy for a step too wide for the page: smaller type down to a
floor, then each piece still too wide wraps after its + − ⊙, and only a piece that
cannot has its matrices split into blocks of columns printed one under the other.

Widths are in em of the step's type. STIX's digits are 0.5 em wide and most letters
less, so the estimate errs wide: a step set smaller than it needs to be, never cut."""

from __future__ import annotations

CHAR = 0.5  # em a character (a digit; most letters are narrower)
NARROW = {".": 0.25, ",": 0.25, " ": 0.25, "\u2009": 0.17, "\u00a0": 0.25, "−": 0.57}
CELL = 0.7  # em around a matrix cell (style.css: .mat td padding 0.35em a side)
BRACKETS = 1.0  # em of a matrix's brackets, padding and margins
OP = 0.5  # em of the no-break spaces around an operator
RADICAL = 0.9  # em of √ (or the drawn sign) and the padding under its bar (style.css: .sqrt)
SMALL = 0.7  # scripts are set at 70%
EQUALS = CHAR + 2 * OP  # the " = " before each part

# The narrowest box a step sits in (the answers box: 174 mm less its border and padding,
# in em of 11 pt type), and the sizes a step may take, the last being the floor (7.9 pt).
MEASURE = 41.0
SIZES = (("", 1.0), ("wide", 0.85), ("wider", 0.72))


def width(f, columns: int | None = None) -> float:
    """Estimated width of formula ``f`` in em; with ``columns``, as if each matrix were
    split into blocks of at most that many columns."""
    if f is None:
        return 0.0
    if isinstance(f, str):
        return chars(f)
    kind = f.kind
    if kind == "sym":
        return chars(f.base) + SMALL * max(chars(f.sub), chars(f.sup))
    if kind in ("num", "text"):
        return chars(f.text)
    if kind == "op":
        return chars(f.text) + 2 * OP
    if kind == "row":
        return sum(width(item, columns) for item in f.items)
    if kind == "paren":
        return CHAR * (len(f.open) + len(f.close)) + width(f.inner, columns)
    if kind == "frac":
        return max(width(f.num, columns), width(f.den, columns)) + 0.6
    if kind == "radical":
        return RADICAL + width(f.inner, columns)
    if kind == "script":
        return width(f.base, columns) + SMALL * max(width(f.sup, columns), width(f.sub, columns))
    if kind == "func":
        return CHAR * (len(f.name) + 2) + width(f.arg, columns)
    if kind == "matrix":
        return matrix_width(f.rows, columns)
    if kind == "grid":
        return (
            BRACKETS
            + sum(
                max(width(row[c], columns) for row in f.rows) + CELL for c in range(len(f.rows[0]))
            )
            if f.rows and f.rows[0]
            else BRACKETS
        )
    return 0.0


def matrix_width(rows, columns: int | None = None) -> float:
    if not rows or not rows[0]:
        return BRACKETS
    widths = [max(chars(str(row[c])) for row in rows) + CELL for c in range(len(rows[0]))]
    return BRACKETS + max(sum(widths[a:b]) for a, b in column_blocks(len(widths), columns))


def chars(text: str) -> float:
    return sum(NARROW.get(c, CHAR) for c in text)


def column_blocks(count: int, columns: int | None) -> list[tuple[int, int]]:
    """The 0-based [start, end) column ranges a matrix of ``count`` columns prints as:
    blocks of at most ``columns``, as even as can be (5 by 3 as 3 and 2, not 4 and 1)."""
    if columns is None or columns >= count:
        return [(0, count)]
    blocks = -(-count // columns)
    size = -(-count // blocks)
    return [(i, min(i + size, count)) for i in range(0, count, size)]


def step_fit(pieces) -> tuple[str, list[int | None]]:
    """The size class for a step made of ``pieces`` (its left side and each "= part",
    each printed unbroken) and, for each piece too wide even at the floor, how many
    matrix columns to print per block (None: whole). Each piece is split only as far as
    it needs: the result of a wide product stays one matrix."""
    pieces = list(pieces)
    widest = max((width(p) for p in pieces), default=0.0) + EQUALS
    for name, scale in SIZES:
        if widest * scale <= MEASURE:
            return name, [None] * len(pieces)
    name, floor = SIZES[-1]
    return name, [_piece_columns(p, floor) for p in pieces]


WRAP = 0  # a piece's "columns" when it wraps after its + − ⊙ instead of splitting matrices
BREAK_AFTER = ("+", "−", "⊙")


def _piece_columns(piece, floor: float) -> int | None:
    if (width(piece) + EQUALS) * floor <= MEASURE:
        return None
    if (_runs(piece)[1] + EQUALS) * floor <= MEASURE:
        return WRAP
    for columns in range(_most_columns(piece) - 1, 0, -1):
        if (width(piece, columns) + EQUALS) * floor <= MEASURE:
            return columns
    return 1


def _runs(f) -> tuple[float, float, float, bool]:
    """(first, widest, last, breaks): the widths of the runs a formula prints as when it
    may wrap after a + − ⊙ of a row (also inside brackets), and whether it has a break."""
    if f is not None and not isinstance(f, str) and f.kind == "paren":
        first, widest, last, breaks = _runs(f.inner)
        pad = CHAR * len(f.open)
        return first + pad, max(widest, first + pad, last + pad), last + pad, breaks
    if f is None or isinstance(f, str) or f.kind != "row":
        w = width(f)
        return w, w, w, False
    first = current = widest = 0.0
    broke = False
    for item in f.items:
        if not isinstance(item, str) and item.kind == "op" and item.text in BREAK_AFTER:
            current += width(item)
            first, broke = (first if broke else current), True
            widest, current = max(widest, current), 0.0
            continue
        i_first, i_widest, i_last, i_breaks = _runs(item)
        if i_breaks:
            current += i_first
            first, broke = (first if broke else current), True
            widest, current = max(widest, current, i_widest), i_last
        else:
            current += i_first
    widest = max(widest, current)
    return (first if broke else current), widest, current, broke


def _most_columns(f) -> int:
    if f is None or isinstance(f, str):
        return 1
    if f.kind == "matrix":
        return max((len(r) for r in f.rows), default=1)
    inner = [getattr(f, a, None) for a in ("inner", "num", "den", "base", "sup", "sub", "arg")]
    inner += list(getattr(f, "items", ()))
    return max([1] + [_most_columns(i) for i in inner if i is not None and not isinstance(i, str)])
