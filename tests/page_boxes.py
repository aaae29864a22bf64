"""The shipped sheets laid out by WeasyPrint in-process, and the measures the layout
checks (test_page_layout.py) take on its layout tree: where each box sits on which page.

WeasyPrint's ``HTML(...).render()`` keeps, per page, ``_page_box``: the box tree with
positions and sizes in CSS px (1/96 in), the same layout the PDF is drawn from."""

from __future__ import annotations

from dataclasses import dataclass

from weasyprint.formatting_structure import boxes as wb

from exgen.build.single import solve_sheet, work_asks
from exgen.define.load import load_sheet
from exgen.render.documents import render
from exgen.render.pdf import LocalOnly
from exgen.render.pdf import lay_out as lay_out_pdf

SHIPPED = (
    "hw2-numpy-backprop",
    "hw3-pytorch",
    "sheet9",
    "hw4-residual-softmax",
    "sheet11-logic-chain-rule",
)
SLACK = 0.75  # px: rounding of WeasyPrint's positions, not a layout fault


def documents(name: str) -> dict[str, str]:
    """The sheet's and the key's HTML, as `exgen build` renders them."""
    sheet = load_sheet(name)
    traces = solve_sheet(sheet)
    results = [work_asks(sheet, ex, t) for ex, t in zip(sheet.exercises, traces)]
    docs = render(sheet, traces, results)
    return {"sheet": docs.sheet_html, "key": docs.key_html}


def lay_out(html: str) -> list:
    """The laid-out pages, as html_to_pdf lays them out (without the MathML twins)."""
    return lay_out_pdf(html, (), LocalOnly()).pages


@dataclass(frozen=True)
class Placed:
    box: object
    page: int  # 1-based

    @property
    def left(self):
        return self.box.border_box_x()

    @property
    def right(self):
        return self.box.border_box_x() + self.box.border_width()

    @property
    def top(self):
        return self.box.border_box_y()

    @property
    def bottom(self):
        return self.box.border_box_y() + self.box.border_height()

    def classes(self) -> set[str]:
        element = getattr(self.box, "element", None)
        if element is None:
            return set()
        return set((element.get("class") or "").split())

    def describe(self) -> str:
        tag = getattr(self.box, "element_tag", "?")
        cls = ".".join(sorted(self.classes()))
        text = text_of(self.box)[:60]
        return f"p.{self.page} <{tag}{'.' + cls if cls else ''}> {text!r}"


def text_of(box) -> str:
    if isinstance(box, wb.TextBox):
        return box.text
    return "".join(text_of(c) for c in getattr(box, "children", ()))


def walk(box, page: int, block=None):
    """(placed box, its placed containing block) for every box under ``box``, depth
    first; the containing block is the nearest block (not line or inline) ancestor."""
    here = Placed(box, page)
    yield here, block
    if isinstance(box, wb.BlockContainerBox) and not isinstance(box, wb.LineBox):
        block = here
    for child in getattr(box, "children", ()):
        yield from walk(child, page, block)


def content_area(page) -> tuple[float, float, float, float]:
    """left, top, right, bottom of a page's content area (inside its margins)."""
    pb = page._page_box
    left, top = pb.content_box_x(), pb.content_box_y()
    return left, top, left + pb.width, top + pb.height


def page_html_box(page):
    return page._page_box.children[0]


def elements(pages, tag: str | None = None, cls: str | None = None):
    """Every placed box of an element (its fragments on each page) matching tag/class."""
    for number, page in enumerate(pages, start=1):
        for placed, _ in walk(page_html_box(page), number):
            box = placed.box
            if getattr(box, "element", None) is None or isinstance(box, wb.TextBox):
                continue
            if tag is not None and box.element_tag != tag:
                continue
            if cls is not None and cls not in placed.classes():
                continue
            if isinstance(box, (wb.LineBox,)):
                continue
            yield placed


def text_boxes(placed: Placed):
    """The placed non-blank text fragments inside ``placed``."""
    for inner, _ in walk(placed.box, placed.page):
        if isinstance(inner.box, wb.TextBox) and inner.box.text.strip():
            yield inner


def overlaps(a: Placed, b: Placed) -> bool:
    return (
        a.left < b.right - SLACK
        and b.left < a.right - SLACK
        and a.top < b.bottom - SLACK
        and b.top < a.bottom - SLACK
    )


def used_bottom(page) -> float:
    """How far down the page's in-flow content reaches (the lowest box that is not the
    html or body box itself, which fill the page)."""
    html = page_html_box(page)
    lowest = content_area(page)[1]
    for placed, parent in walk(html, 0):
        box = placed.box
        if box is html or parent is None or parent.box is html:
            continue  # the html and body boxes span the page
        if isinstance(box, (wb.TextBox, wb.LineBox)) or getattr(box, "element_tag", "") in (
            "img",
            "pre",
            "table",
            "div",
        ):
            lowest = max(lowest, placed.bottom)
    return lowest


def first_unit(page):
    """The first thing on ``page`` that is laid out as one piece: descending through
    first children past boxes that may break inside, down to a box that avoids breaking
    inside, a replaced element, or a line of text (with the headings kept with it)."""
    box = page_html_box(page)
    while True:
        kids = [c for c in getattr(box, "children", ()) if not _out_of_flow(c)]
        if not kids:
            return box
        first = kids[0]
        if first.style["break_after"] in ("avoid", "avoid-page") and len(kids) > 1:
            return _span(first, first_unit_of(kids[1]))  # a heading goes with what follows
        if isinstance(first, (wb.LineBox, wb.ReplacedBox)) or first.style["break_inside"] in (
            "avoid",
            "avoid-page",
        ):
            return first
        box = first


def first_unit_of(box):
    """As first_unit, from ``box`` down."""

    class _Page:
        class _page_box:
            children = (box,)

    return first_unit(_Page)


class _span:
    """Two consecutive boxes measured as one (a heading and what it heads)."""

    def __init__(self, a, b):
        self.a, self.b = a, b

    def border_box_y(self):
        return self.a.border_box_y()

    def border_height(self):
        return (self.b.border_box_y() + self.b.border_height()) - self.a.border_box_y()

    def margin_height(self):
        return self.border_height()


def _out_of_flow(box) -> bool:
    return box.style["position"] in ("absolute", "fixed") or box.style["float"] != "none"
