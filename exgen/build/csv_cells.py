"""The one way exgen writes CSV: every cell that a spreadsheet would read as a formula is
neutralised, following OWASP's CSV-injection advice (a leading apostrophe, which
spreadsheets take as "this is text", and RFC 4180 quoting by the csv module)."""

from __future__ import annotations

import csv
import io
import re

# a cell starting with one of these (also after spaces) is a formula to Excel, LibreOffice
# or Google Sheets: '=1+1', '+cmd|…', '-2+3', '@SUM(…)', and TAB or CR before any of them
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\0")
# ...except a plain number, which a spreadsheet reads as the number it is: the answers,
# with a decimal point or (decimal: ",") a decimal comma
PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?")


def safe_cell(value) -> str:
    """``value`` as text that no spreadsheet runs."""
    text = "" if value is None else str(value)
    if text.lstrip(" ").startswith(FORMULA_START) and not PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def csv_bytes(rows) -> bytes:
    """UTF-8 CSV as RFC 4180 has it (CRLF line ends, so a CR inside a cell is quoted too),
    every cell safe."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return buffer.getvalue().encode("utf-8")
