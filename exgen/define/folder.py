"""The sheets of a course's folder (exercises/*.yaml), named when a sheet is not there."""

from __future__ import annotations

from pathlib import Path

SHOWN_SHEETS = 20


def sheets_here(cwd: Path) -> str:
    """What exercises/ in ``cwd`` holds, in words: `sheets here: a, b, …`."""
    if not (cwd / "exercises").is_dir():
        return "there is no exercises/ folder here"
    try:
        names = sorted(p.stem for p in (cwd / "exercises").glob("*.yaml"))
    except OSError:
        names = []
    if not names:
        return "exercises/ holds no .yaml file"
    more = f", … ({len(names)} in all)" if len(names) > SHOWN_SHEETS else ""
    return f"sheets here: {', '.join(names[:SHOWN_SHEETS])}{more}"
