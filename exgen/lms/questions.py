"""What a learning platform's quiz holds of a class, gathered once for every format: for
each student's variant and each exercise that collects numbers, one question — its text
(the prompt, the figure, the given values and the equations, math as TeX for the
platform's MathJax), its answer boxes (one slot per collected number, with the interval
the grading policy accepts), and the worked key as feedback."""

from __future__ import annotations

import base64
import functools
import html
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from urllib.parse import unquote

import numpy as np

from exgen.asks.collect import Collected, collected
from exgen.build.chunks import map_in_chunks
from exgen.build.single import work_asks
from exgen.build.variants import Student, make_variant
from exgen.define.load import ExerciseDef, SheetDef
from exgen.engine.rounding import decimal_mark
from exgen.engine.solve import Trace
from exgen.grading.grade import shares
from exgen.grading.policy import Policy, close_interval, policy_of, right_interval
from exgen.language import gettext_for
from exgen.render.documents import (
    exercise_parts,
    given_rows,
    rounding_hint,
    scale_sentence,
    scale_terms,
)
from exgen.render.keyjson import exercise_key, key_steps, marked_tree
from exgen.typeset.latex import latex
from exgen.typeset.markdown import make_tex_markdown
from exgen.typeset.notation import Notation

# Where a question's HTML refers to one of its files; each format puts its own prefix
# there (Moodle's @@PLUGINFILE@@/, a path inside the QTI package).
FILES = "@@EXGEN_FILES@@/"
# The line that names the variant in every question's text: a platform's responses report
# carries the text (Moodle's) or a column heading made of it (Canvas's), not the name.
VARIANT_LINE = "Variant {code} of question {exercise}"
_VARIANT_FOUND = re.compile(r"Variant ([0-9A-F]{6}) of question (\S+)")


def question_name(exercise: str, code: str) -> str:
    """A question's name on the platform: the exercise id and the variant's code."""
    return f"{exercise} {code}"


def variant_named(text: str) -> tuple[str, str] | None:
    """(exercise id, variant code) of the variant line in ``text`` (a question's text,
    as HTML or as the plain text a report makes of it), or None."""
    found = _VARIANT_FOUND.search(html.unescape(text))
    return (found[2].rstrip(".,;:"), found[1]) if found else None


@dataclass(frozen=True)
class Slot:
    """One collected number: its answer-form column and the key's shown value."""

    column: str
    shown: str
    label: str  # TeX: the entry, e.g. \frac{\partial L}{\partial \mathbf{W}_{1}}_{1,2}
    right: tuple[Fraction, Fraction]  # the closed interval the policy calls right
    close: tuple[Fraction, Fraction, Fraction] | None  # lo, hi and the credit, or None
    points: Fraction  # its share of the exercise's points


@dataclass(frozen=True)
class Box:
    """One collected node (or an ask's answer): a label and its slots as a grid."""

    label: str  # TeX
    grid: tuple[tuple[int, ...], ...]  # slot numbers (from 0) by row and column


@dataclass(frozen=True)
class Question:
    exercise: str
    title: str
    code: str
    student: Student  # whose variant it is
    points: Fraction
    text: str  # HTML, files referred to as FILES + name
    boxes: tuple[Box, ...]  # in slot order: box k's grid holds the next slots row by row
    slots: tuple[Slot, ...]
    feedback: str  # HTML: the worked key of this variant
    files: dict[str, bytes]  # name -> content

    @property
    def name(self) -> str:
        return question_name(self.exercise, self.code)


@dataclass(frozen=True)
class Exercise:
    id: str
    title: str


@dataclass(frozen=True)
class ClassQuestions:
    sheet: str  # the sheet's name
    title: str
    exercises: tuple[Exercise, ...]  # those that collect numbers
    variants: tuple[tuple[Question, ...], ...]  # per student, per exercise above


def class_questions(
    sheet: SheetDef,
    students: list[Student],
    secret: str | None = None,
    progress: Callable[[str], None] = lambda step: None,
    built: Callable[[Student], dict | None] | None = None,
) -> ClassQuestions:
    """``built``: a student's key.json as the class build wrote it, when it was built from
    this very definition (its worked steps are then read, not typeset again), else None."""
    policies = [policy_of(sheet.spec.grading, ex.spec.grading) for ex in sheet.exercises]
    variants = map_in_chunks(
        functools.partial(_chunk, sheet, secret, policies, built or _none),
        students,
        CHUNK,
        lambda done: progress(f"gathered {done} of {len(students)} variants"),
    )
    exercises = tuple(Exercise(q.exercise, q.title) for q in variants[0]) if variants else ()
    return ClassQuestions(sheet.name, sheet.spec.title, exercises, tuple(variants))


CHUNK = 25  # variants a worker gathers at a time


def _none(student: Student) -> None:
    return None


def _chunk(
    sheet: SheetDef,
    secret: str | None,
    policies: list[Policy],
    built: Callable[[Student], dict | None],
    students: list[Student],
) -> list[tuple[Question, ...]]:
    markdown = make_tex_markdown(sheet.folder)
    fixed: dict[str, _Fixed] = {}  # exercise id -> its text's fixed parts
    return [
        tuple(_variant_questions(sheet, s, secret, policies, markdown, fixed, built(s)))
        for s in students
    ]


def _variant_questions(
    sheet: SheetDef,
    student: Student,
    secret: str | None,
    policies: list[Policy],
    markdown: Callable[[str], str],
    fixed: dict[str, _Fixed],
    key: dict | None,
) -> Iterator[Question]:
    variant = make_variant(sheet, student, secret)
    vsheet = variant.sheet
    if key is not None and key.get("seed") != variant.seed:  # another class's, or secret's
        key = None
    for ex, trace, policy in zip(vsheet.exercises, variant.traces, policies):
        with decimal_mark(vsheet.spec.decimal):  # not across the yield: the caller's context
            question = _question(
                vsheet, ex, trace, policy, variant.code, student, key, markdown, fixed
            )
        if question is not None:
            yield question


def _question(
    vsheet: SheetDef,
    ex: ExerciseDef,
    trace: Trace,
    policy: Policy,
    code: str,
    student: Student,
    key: dict | None,
    markdown: Callable[[str], str],
    fixed: dict[str, _Fixed],
) -> Question | None:
    """One exercise of one variant as a question, numbers with the sheet's decimal mark."""
    if key is not None:
        ex_key = key["exercises"][ex.spec.id]
    else:
        results = work_asks(vsheet, ex, trace)
        ex_key = exercise_key(ex, trace, vsheet, results, steps=False)
    columns = collected(ex.spec.id, ex_key, ex.spec)
    if not columns:
        return None
    if key is None:  # the worked steps (the feedback) only for a question that goes out
        ex_key["steps"] = key_steps(ex, trace, vsheet, results) if ex.design is None else []
        if vsheet.spec.decimal != ".":
            ex_key = marked_tree(ex_key)  # as the build's key.json prints them
    notation = Notation.of(trace.graph, vsheet.spec.notation)
    slots = tuple(
        Slot(
            c.column,
            c.shown,
            _label(c, ex_key, notation),
            right_interval(c.shown, policy),
            close_interval(c.shown, policy),
            share,
        )
        for c, share in zip(columns, shares(ex, columns, policy))
    )
    if ex.spec.id not in fixed:
        fixed[ex.spec.id] = _fixed(vsheet, ex, trace, markdown)
    text, files = _text(vsheet, ex, trace, code, fixed[ex.spec.id])
    return Question(
        exercise=ex.spec.id,
        title=ex.spec.title,
        code=code,
        student=student,
        points=sum((s.points for s in slots), Fraction(0)),
        text=text,
        boxes=tuple(_boxes(columns, ex_key, notation)),
        slots=slots,
        feedback=_feedback(ex_key, code),
        files=files,
    )


@dataclass(frozen=True)
class _Fixed:
    """What a question's text has that is the same in every variant: written once."""

    before: str  # the prompt, what to scale, the figure
    after: str  # the equations, the rounding hint
    files: dict[str, bytes]


def _text(
    sheet: SheetDef, ex: ExerciseDef, trace: Trace, code: str, fixed: _Fixed
) -> tuple[str, dict[str, bytes]]:
    given = given_rows(sheet, ex, trace)
    out = [
        f"<p><strong>{html.escape(ex.spec.title)}</strong> — "
        + html.escape(VARIANT_LINE.format(code=code, exercise=ex.spec.id))
        + "</p>",
        fixed.before,
    ]
    if given:  # side by side, wrapping on a narrow screen
        out.append(
            "<p>Given: "
            + " ".join(
                f'<span style="display: inline-block; margin: 0.25em 1.5em 0.25em 0">'
                f"\\(\\displaystyle {_tex(r)}\\)</span>"
                for r in given
            )
            + "</p>"
        )
    out.append(fixed.after)
    return "\n".join(o for o in out if o), fixed.files


def _fixed(
    sheet: SheetDef, ex: ExerciseDef, trace: Trace, markdown: Callable[[str], str]
) -> _Fixed:
    parts = exercise_parts(sheet, ex, trace)
    before = [markdown(ex.spec.prompt)]
    scaled = scale_terms(ex, trace.graph, Notation.of(trace.graph, sheet.spec.notation))
    if scaled:
        terms = [f"\\({_tex(t)}\\)" for t in scaled]
        before.append("<p>" + scale_sentence(terms, gettext_for(sheet.spec.language)) + "</p>")
    files: dict[str, bytes] = {}
    if parts.figure is not None and parts.equations:  # as on the sheet
        name = f"{ex.spec.id}-network.svg"
        files[name] = _data(parts.figure.wide)
        before.append(
            f'<p><img src="{FILES}{name}" alt="{html.escape(parts.figure.alt)}" '
            'style="max-width: 100%; height: auto"></p>'
        )
    after = []
    if parts.equations:
        lines = r" \\ ".join(_tex(r).replace(" = ", " &= ", 1) for r in parts.equations)
        after.append(f"<p>\\[\\begin{{aligned}}{lines}\\end{{aligned}}\\]</p>")
    hint = rounding_hint(ex.rounding, gettext_for(sheet.spec.language))
    after.append(f"<p>{html.escape(hint)}</p>")
    text, embedded = _files_of("\n".join(before), ex.spec.id)
    return _Fixed(text, "\n".join(after), {**files, **embedded})


_DATA_URI = re.compile(r'src="data:image/(png|jpeg|svg\+xml);base64,([A-Za-z0-9+/=]+)"')
_SUFFIX = {"png": "png", "jpeg": "jpg", "svg+xml": "svg"}


def _files_of(text: str, exercise: str) -> tuple[str, dict[str, bytes]]:
    """The prompt's images, embedded as data: URIs, as files of the question."""
    files: dict[str, bytes] = {}

    def as_file(found: re.Match) -> str:
        name = f"{exercise}-image{len(files) + 1}.{_SUFFIX[found[1]]}"
        files[name] = base64.b64decode(found[2])
        return f'src="{FILES}{name}"'

    return _DATA_URI.sub(as_file, text), files


def _data(uri: str) -> bytes:
    head, _, body = uri.partition(",")
    if head.endswith(";base64"):
        return base64.b64decode(body)
    return unquote(body).encode("utf-8")


def _tex(formula) -> str:
    return html.escape(latex(formula), quote=False)


def _label(c: Collected, ex_key: dict, notation: Notation) -> str:
    """The TeX of one collected number's name: ∂L/∂W₁ or z₁, with its index."""
    index = c.column[len(c.column.rsplit("[", 1)[0]) :] if c.column.endswith("]") else ""
    name = _node_label(c, ex_key, notation)
    if index:
        name = (rf"\left({name}\right)" if c.grad else name) + "_{" + index[1:-1] + "}"
    return _scaled(name, c)


def _scaled(label: str, c: Collected) -> str:
    """A label with the power of ten its number is given in (`scale:`)."""
    return label + (rf" \times 10^{{{c.scale}}}" if c.scale else "")


def _node_label(c: Collected, ex_key: dict, notation: Notation) -> str:
    if c.node is None:  # an ask's own answer: its column, as text
        return r"\text{" + _escaped_text(c.column.split(" ", 1)[-1]) + "}"
    symbol = latex(notation.symbol(c.node))
    if not c.grad:
        return symbol
    loss = latex(notation.symbol(ex_key["loss"]))
    return rf"\frac{{\partial {loss}}}{{\partial {symbol}}}"


def _escaped_text(text: str) -> str:
    return re.sub(r"([\\{}_^#$%&~])", r"\\\1", text)


def _boxes(columns: list[Collected], ex_key: dict, notation: Notation) -> Iterator[Box]:
    """Consecutive slots of one node make one box, shaped as the node (a column vector in
    column layout, a matrix's rows, an image's maps a row of rows each)."""
    k = 0
    while k < len(columns):
        c = columns[k]
        if c.node is None:
            yield Box(_label(c, ex_key, notation), ((k,),))
            k += 1
            continue
        run = [c]
        while (
            k + len(run) < len(columns)
            and columns[k + len(run)].node == c.node
            and columns[k + len(run)].grad == c.grad
        ):
            run.append(columns[k + len(run)])
        table = ex_key["grads" if c.grad else "values"][c.node]["shown"]
        shape = np.shape(table)
        numbers = np.arange(k, k + len(run))
        if len(run) != int(np.prod(shape)) or not shape:
            grid = tuple((int(n),) for n in numbers)
        elif len(shape) == 1:
            column = ex_key.get("layout", "column") == "column"
            grid = tuple((int(n),) for n in numbers) if column else (tuple(map(int, numbers)),)
        else:
            grid = tuple(tuple(map(int, r)) for r in numbers.reshape(-1, shape[-1]))
        whole = _scaled(_node_label(c, ex_key, notation), c)  # scaled as its entries are
        yield Box(whole if len(run) > 1 else _label(c, ex_key, notation), grid)
        k += len(run)


def _feedback(ex_key: dict, code: str) -> str:
    """The worked key as the platform's general feedback: each checked step as a display
    line of TeX, as key.json holds them."""
    lines = [f"<p><strong>Worked solution</strong> (variant {html.escape(code)})</p>"]
    for step in ex_key.get("steps", []):
        # a wide line scrolls on its own on a phone, not the whole page
        lines.append(
            f'<div style="overflow-x: auto">\\[{html.escape(step["latex"], quote=False)}\\]</div>'
        )
    return "\n".join(lines)


def boxes_html(question: Question, field: Callable[[int], str]) -> str:
    """The answer boxes as HTML: each box's label, then its slots in a grid between a
    matrix's brackets; ``field`` gives the markup of slot k (a cloze sub-question, a QTI
    response)."""
    out = []
    for box in question.boxes:
        label = f"\\({html.escape(box.label, quote=False)} =\\)"
        if len(box.grid) == 1 and len(box.grid[0]) == 1:
            out.append(f"<p>{label} {field(box.grid[0][0])}</p>")
            continue
        rows = "".join(
            "<tr>" + "".join(f'<td style="padding: 2px 4px">{field(k)}</td>' for k in r) + "</tr>"
            for r in box.grid
        )
        out.append(
            '<table style="border-collapse: collapse; margin: 0.5em 0"><tr>'
            f'<td style="padding-right: 0.5em; vertical-align: middle">{label}</td>'
            '<td><table style="border-collapse: collapse; border-left: 1.5px solid; '
            f'border-right: 1.5px solid; padding: 0 2px">{rows}</table></td>'
            "</tr></table>"
        )
    return "\n".join(out)
