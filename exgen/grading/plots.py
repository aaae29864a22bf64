"""The class summary's two figures, drawn with matplotlib as inline SVG: the histogram of
the totals and the share of each verdict per collected number. matplotlib is imported
here only (the grading extra); the SVG is the same bytes for the same data (fixed hash
salt, no date), carries a title and a description for screen readers, and its ids are
prefixed so that two figures on one page do not share any."""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING

from exgen.errors import ExgenError
from exgen.grading.model import Verdict
from exgen.grading.summary import Bin
from exgen.grading.wording import VERDICT_WORDS

if TYPE_CHECKING:
    from matplotlib.figure import Figure

_STYLE = {
    "font.family": "DejaVu Sans",
    "font.size": 10,
    "svg.fonttype": "path",  # glyphs as paths: no font file, the same drawing everywhere
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def _matplotlib():
    """matplotlib, drawing off screen (Agg); a clear message where the extra is missing."""
    try:
        import matplotlib
    except ModuleNotFoundError:
        raise ExgenError(
            "the class summary's plots need matplotlib: pip install 'exgen[grading]'"
        ) from None
    matplotlib.use("Agg")
    import matplotlib.figure
    import matplotlib.ticker

    return matplotlib


@dataclass(frozen=True)
class Plot:
    svg: str  # inline <svg> element, with <title> and <desc>
    title: str
    description: str


def totals_histogram(bins: Sequence[Bin]) -> Plot:
    """How many students reached each total, in the summary's bins (its table gives the
    same counts)."""
    students = sum(b.count for b in bins)
    top = float(bins[-1].high)
    title = "Distribution of the totals"
    description = (
        f"Histogram of the {students} students' totals, from 0 to {format_number(top)} "
        "points; the table below gives the same counts."
    )
    mpl = _matplotlib()
    with mpl.rc_context(_STYLE):
        figure = mpl.figure.Figure(figsize=(7.0, 3.0), layout="constrained")
        axes = figure.add_subplot()
        axes.bar(
            [float(b.low) for b in bins],
            [b.count for b in bins],
            width=[float(b.high - b.low) for b in bins],
            align="edge",
            color=VERDICT_WORDS["carried"].colour,
            edgecolor="white",
            linewidth=0.8,
        )
        axes.set_xlim(0, top)
        axes.set_xlabel("total points")
        axes.set_ylabel("students")
        axes.yaxis.set_major_locator(mpl.ticker.MaxNLocator(integer=True))
        return Plot(_svg(figure, "hist", title, description), title, description)


def verdict_bars(labels: Sequence[str], counts: Sequence[Mapping[Verdict, int]]) -> Plot:
    """One horizontal bar per collected number, split by verdict (in the order of the
    verdicts, right first, each in its colour and words), so that the success rate of each
    step is the length of its first parts."""
    if len(labels) != len(counts):
        raise ValueError("one row of counts per label")
    title = "Verdicts per collected number"
    description = (
        f"Stacked bars for {len(labels)} collected numbers, each split into the share of "
        "students per verdict; the table below gives the same figures."
    )
    mpl = _matplotlib()
    with mpl.rc_context(_STYLE):
        figure = mpl.figure.Figure(figsize=(7.0, 1.4 + 0.3 * len(labels)), layout="constrained")
        axes = figure.add_subplot()
        rows = list(range(len(labels)))
        left = [0.0] * len(labels)
        for verdict, words in VERDICT_WORDS.items():
            widths = [100 * c.get(verdict, 0) / max(sum(c.values()), 1) for c in counts]
            if not any(widths):
                continue
            axes.barh(
                rows,
                widths,
                left=left,
                color=VERDICT_WORDS[verdict].colour,
                label=words.label,
                height=0.7,
            )
            left = [a + b for a, b in zip(left, widths)]
        axes.set_yticks(rows, labels)
        axes.invert_yaxis()
        axes.set_xlim(0, 100)
        axes.set_xlabel("share of students (%)")
        figure.legend(loc="outside upper center", ncols=2, frameon=False, fontsize=9)
        return Plot(_svg(figure, "bars", title, description), title, description)


def format_number(x: float) -> str:
    return str(int(x)) if x == int(x) else f"{x:.2f}".rstrip("0")


_ID = re.compile(r'\bid="([^"]+)"')


def _svg(figure: Figure, prefix: str, title: str, description: str) -> str:
    buffer = io.StringIO()
    with _matplotlib().rc_context({"svg.hashsalt": f"exgen-{prefix}"}):
        figure.savefig(
            buffer, format="svg", metadata={"Date": None}, bbox_inches="tight", pad_inches=0.05
        )
    text = buffer.getvalue()
    text = text[text.index("<svg") :]  # no XML declaration or DOCTYPE inside HTML
    for name in sorted(set(_ID.findall(text)), key=len, reverse=True):
        new = f"{prefix}-{name}"
        text = (
            text.replace(f'id="{name}"', f'id="{new}"')
            .replace(f'"#{name}"', f'"#{new}"')
            .replace(f"url(#{name})", f"url(#{new})")
        )
    opening = text[: text.index(">") + 1]
    attributes = f' role="img" aria-labelledby="{prefix}-title {prefix}-desc" class="plot"'
    head = opening[:-1] + attributes + ">"
    head += f'<title id="{prefix}-title">{escape(title)}</title>'
    head += f'<desc id="{prefix}-desc">{escape(description)}</desc>'
    return head + text[len(opening) :]
