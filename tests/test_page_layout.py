"""Layout checks over every shipped sheet's sheet.pdf and key.pdf, on WeasyPrint's layout
tree (page_boxes.py): nothing runs off its page or box, the title header's lines and the
headings' points stay apart, no page is left near empty by a break, question 1 starts on
the first page, and a caption stays on the page of what it captions."""

from __future__ import annotations

import itertools
import re

import pytest
from page_boxes import (
    SHIPPED,
    SLACK,
    content_area,
    documents,
    elements,
    first_unit,
    lay_out,
    overlaps,
    page_html_box,
    text_boxes,
    text_of,
    used_bottom,
    walk,
)

pytestmark = pytest.mark.pdf

DOCS = [(name, kind) for name in SHIPPED for kind in ("sheet", "key")]
NEAR_EMPTY = 0.6
FIT_SLACK = 24  # px, about a line: margins collapse and truncate at a page's top  # a page (not the last) filled less than this far down is near empty


@pytest.fixture(scope="module")
def laid_out():
    """Each shipped document laid out once for the whole module, on first use."""
    cache: dict[tuple[str, str], list] = {}
    htmls: dict[str, dict[str, str]] = {}

    def get(name: str, kind: str):
        if (name, kind) not in cache:
            if name not in htmls:
                htmls[name] = documents(name)
            cache[name, kind] = lay_out(htmls[name][kind])
        return cache[name, kind]

    get.html = lambda name, kind: (htmls.get(name) or htmls.setdefault(name, documents(name)))[kind]
    return get


@pytest.mark.parametrize("name,kind", DOCS)
def test_no_box_runs_off_its_page(laid_out, name, kind):
    pages = laid_out(name, kind)
    off = []
    for number, page in enumerate(pages, start=1):
        left, _, right, _ = content_area(page)
        for placed, _ in walk(page_html_box(page), number):
            if placed.right > right + SLACK or placed.left < left - SLACK:
                off.append(
                    f"{placed.describe()} spans x {placed.left:.0f}–{placed.right:.0f}, "
                    f"the page's content {left:.0f}–{right:.0f}"
                )
    assert not off, "\n".join(off[:10])


@pytest.mark.parametrize("name,kind", DOCS)
def test_no_box_wider_than_its_container(laid_out, name, kind):
    pages = laid_out(name, kind)
    off = []
    for number, page in enumerate(pages, start=1):
        for placed, parent in walk(page_html_box(page), number):
            if parent is None or placed.box.style["position"] == "absolute":
                continue
            if placed.right > parent.right + SLACK:
                off.append(
                    f"{placed.describe()} ends at x {placed.right:.0f}, past its "
                    f"container {parent.describe()} ending at {parent.right:.0f}"
                )
    assert not off, "\n".join(off[:10])


@pytest.mark.parametrize("name,kind", DOCS)
def test_title_header_lines_stay_apart(laid_out, name, kind):
    """Course, title, "Solution key", due date and student each on their own space, all
    above the title rule (the header's bottom border)."""
    pages = laid_out(name, kind)
    header = next(elements(pages, tag="header", cls="title"))
    rule_top = header.bottom - header.box.border_bottom_width
    parts = [p for p in elements(pages[:1], cls=None) if p.box.element_tag in ("h1",)]
    parts += [p for c in ("course", "kind", "student") for p in elements(pages[:1], cls=c)]
    parts += [
        p
        for p in elements(pages[:1], tag="span")
        if "meta" in (parents(pages).get(p.box.element, p.box.element).get("class") or "")
    ]
    pieces = [(p, t) for p in parts for t in text_boxes(p)]
    clashes = []
    for i, (owner, text) in enumerate(pieces):
        if text.bottom > rule_top + SLACK:
            clashes.append(
                f"{text.describe()} reaches y {text.bottom:.1f}, below the title "
                f"rule at {rule_top:.1f}"
            )
        for other_owner, other in pieces[i + 1 :]:
            if other_owner.box is not owner.box and overlaps(text, other):
                clashes.append(f"{text.describe()} overlaps {other.describe()}")
    assert not clashes, "\n".join(dict.fromkeys(clashes))


@pytest.mark.parametrize("name,kind", DOCS)
def test_points_stay_on_the_heading_line(laid_out, name, kind):
    pages = laid_out(name, kind)
    dropped = []
    for h2 in elements(pages, tag="h2"):
        for points in elements_under(h2, "points"):
            first_line = next(
                line.box
                for line, _ in walk(h2.box, h2.page)
                if type(line.box).__name__ == "LineBox"
                and text_of(line.box).strip() != text_of(points.box).strip()
            )
            line_top = first_line.position_y
            line_bottom = line_top + first_line.height
            if not (points.top >= line_top - SLACK and points.bottom <= line_bottom + 2 * SLACK):
                dropped.append(
                    f"{points.describe()} at y {points.top:.0f}–{points.bottom:.0f}, "
                    f"the heading's line at {line_top:.0f}–{line_bottom:.0f}"
                )
    assert not dropped, "\n".join(dict.fromkeys(dropped))


def elements_under(placed, cls):
    for inner, _ in walk(placed.box, placed.page):
        element = getattr(inner.box, "element", None)
        if element is not None and cls in inner.classes() and type(inner.box).__name__ != "TextBox":
            yield inner


@pytest.mark.parametrize("name,kind", DOCS)
def test_no_page_left_near_empty_by_a_break(laid_out, name, kind):
    """A page (but the last) filled less than NEAR_EMPTY of the way down must be so
    because the next page's first piece did not fit in what was left, not because a
    rule broke the page."""
    pages = laid_out(name, kind)
    empty = []
    for number, (page, after) in enumerate(itertools.pairwise(pages), start=1):
        _, top, _, bottom = content_area(page)
        used = used_bottom(page)
        if (used - top) / (bottom - top) >= NEAR_EMPTY:
            continue
        unit = first_unit(after)
        needed = unit.border_height()
        if needed + FIT_SLACK < bottom - used:
            empty.append(
                f"page {number} of {len(pages)} is filled {(used - top) / (bottom - top):.0%} "
                f"down, yet page {number + 1} begins with {needed:.0f} px that fit in "
                f"the {bottom - used:.0f} px left"
            )
    assert not empty, "\n".join(empty)


def first_page_questions(pages) -> list[str]:
    return ["".join(h.box.element.itertext()) for h in elements(pages[:1], tag="h2")]


@pytest.mark.parametrize("name,kind", DOCS)
def test_question_1_starts_on_the_first_page(laid_out, name, kind):
    pages = laid_out(name, kind)
    assert any(t.startswith("Question 1") for t in first_page_questions(pages)), (
        f"page 1 holds only the title; headings there: {first_page_questions(pages)}"
    )


def test_question_1_starts_on_the_first_page_when_it_does_not_fit_there(laid_out):
    """A sheet whose first question (with its space to work) is taller than what is left
    below the title still starts it on page 1, breaking inside it."""
    html = laid_out.html("sheet9", "sheet")
    tall, count = re.subn(
        r'class="work" style="height: \d+mm"', 'class="work" style="height: 200mm"', html, count=1
    )
    assert count == 1
    pages = lay_out(tall)
    assert any(t.startswith("Question 1") for t in first_page_questions(pages)), (
        f"page 1 holds only the title; headings there: {first_page_questions(pages)}"
    )


@pytest.mark.parametrize("name,kind", DOCS)
def test_captions_stay_with_what_they_caption(laid_out, name, kind):
    """A figure's caption on the page of its picture; a caption line (class "caption")
    on the page where what it labels, the next element, starts."""
    pages = laid_out(name, kind)
    parted = []
    by_element: dict[object, list] = {}
    for placed in elements(pages):
        by_element.setdefault(placed.box.element, []).append(placed)
    parent = parents(pages)
    for element, placed in by_element.items():
        if element.tag == "figcaption":
            figure = parent[element]
            shown = [
                p.page
                for inner in figure
                if inner is not element
                for p in by_element.get(inner, [])
            ]
            if shown and placed[0].page not in shown:
                parted.append(
                    f"{placed[0].describe()} is on page {placed[0].page}, its "
                    f"figure on page(s) {sorted(set(shown))}"
                )
        elif introduces(element):
            siblings = list(parent[element])
            at = siblings.index(element) + 1
            following = siblings[at] if at < len(siblings) else None
            starts = by_element.get(following, [])
            if starts and starts[0].page != placed[-1].page:
                parted.append(
                    f"{placed[-1].describe()} ends page {placed[-1].page}; what it "
                    f"labels starts on page {starts[0].page}"
                )
    assert not parted, "\n".join(parted)


def parents(pages) -> dict:
    """Each element's parent element (the tree WeasyPrint parsed has no parent links)."""
    root = page_html_box(pages[0]).element
    return {child: node for node in root.iter() for child in node}


def introduces(element) -> bool:
    """A caption line: a paragraph ending in a colon, before what it introduces (code
    output, a table), or anything marked class="caption"."""
    text = "".join(element.itertext()).strip()
    return "caption" in (element.get("class") or "").split() or (
        element.tag == "p" and text.endswith(":")
    )
