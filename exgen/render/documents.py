"""Render the sheet and the key as self-contained HTML (Jinja, StrictUndefined)."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, replace
from fractions import Fraction
from functools import lru_cache
from importlib import resources
from pathlib import Path

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    pass_context,
    select_autoescape,
)
from markupsafe import Markup

from exgen.asks import registry
from exgen.asks.collect import GRAD_PREFIX, GRADS
from exgen.define.load import ExerciseDef, SheetDef
from exgen.engine.rounding import DECIMAL_MARK, Figures, decimal_mark, marked, shown_given
from exgen.engine.rounding import shown as decimals_shown
from exgen.engine.snippet import snippet_code
from exgen.engine.solve import Trace
from exgen.errors import DefinitionError, ExgenError
from exgen.language import N_, english, gettext_for
from exgen.notebooks.notebook import FILES as NOTEBOOK_FILES
from exgen.render.architecture_figure import architecture
from exgen.render.context import DocumentContext, ExerciseContext
from exgen.render.graph_figure import computational_graph
from exgen.render.sandbox import (
    SheetSandbox,
    SheetTemplates,
    check_document,
    problem,
    shown,
    style_sheet,
)
from exgen.render.typeface import font_css
from exgen.render.words import footer_css, gettext, ngettext, translated, words
from exgen.typeset.formula import Num, Op, Script, row
from exgen.typeset.forward_steps import Writer
from exgen.typeset.markdown import make_markdown
from exgen.typeset.mathhtml import math_html, matrix_html, step_html
from exgen.typeset.notation import Notation

FONT_SLOT = "/* @font-face rules go here */"
DEFAULT_TEMPLATES = Path(str(resources.files("exgen.render.templates")))
# The templates exgen asks for by name (the rest are included by them).
USED_TEMPLATES = ("sheet.html", "key.html")


def _printed(value):
    """What a template prints: a number (the learning rate, points) with the sheet's
    decimal mark."""
    return marked(value) if isinstance(value, str) else value


@lru_cache(maxsize=8)
def environment(custom: str | None = None) -> Environment:
    """The templates, in Jinja's sandbox: a sheet's own templates folder (which overrides
    the defaults) must not be able to run code, whatever it holds."""
    loaders = [FileSystemLoader(str(DEFAULT_TEMPLATES))]
    if custom:
        loaders.insert(0, SheetTemplates(custom))
    env = SheetSandbox(
        loader=ChoiceLoader(loaders),
        undefined=StrictUndefined,
        autoescape=select_autoescape(["html"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
        finalize=_printed,
    )
    # {% trans %} and _() in the sheet's language (doc.lang): one environment serves
    # every language
    env.install_gettext_callables(gettext, ngettext, newstyle=True)
    env.globals.update(
        math_html=pass_context(lambda c, f: math_html(f, words(c))),
        matrix_html=matrix_html,
        step_html=pass_context(lambda c, s: step_html(s, words(c))),
        column=lambda cells: [[c] for c in cells],
        translated=translated,
    )
    return env


@dataclass
class Documents:
    sheet_html: str
    key_html: str


def render(
    sheet: SheetDef,
    traces: list[Trace],
    results: list[dict] | None = None,
    student: str | None = None,
) -> Documents:
    results = results if results is not None else [{} for _ in traces]
    with _template_problems(sheet.template_dir), decimal_mark(sheet.spec.decimal):
        return _render(sheet, traces, results, student)


@contextmanager
def _template_problems(custom: str | None):
    """Whatever goes wrong in a template, as a TemplateProblem naming the file and line."""
    try:
        yield
    except ExgenError:
        raise
    except Exception as exc:
        mapped = problem(exc, custom, DEFAULT_TEMPLATES)
        if mapped is None:
            raise
        raise mapped from None


def _render(
    sheet: SheetDef, traces: list[Trace], results: list[dict], student: str | None
) -> Documents:
    env = environment(sheet.template_dir)
    _ = gettext_for(sheet.spec.language)
    markdown = make_markdown(lambda f: str(math_html(f)), sheet.folder)
    exercises = [
        _exercise_view(sheet, ex, t, r, _located(markdown, sheet, f"{ex.path}.prompt"), i)
        for i, (ex, t, r) in enumerate(zip(sheet.exercises, traces, results), start=1)
    ]
    exercises = _figures_numbered(exercises)
    markdown = _located(markdown, sheet, "intro")
    css_text = _style(sheet.template_dir) + footer_css(sheet.spec.language)
    out = {}
    for kind in ("sheet", "key"):
        doc = DocumentContext(
            kind=kind,
            lang=sheet.spec.language,
            title=sheet.spec.title,
            course=sheet.spec.course,
            due=str(sheet.spec.due) if sheet.spec.due is not None else "",
            student=student or "",
            intro_html=Markup(markdown(sheet.spec.intro)) if sheet.spec.intro else "",
            rounding_text=rounding_text(sheet.rounding, all(t.exact for t in traces), _),
            exercises=exercises,
            css=css_text,
            font_css=FONT_SLOT,
        )
        html = env.get_template(f"{kind}.html").render(doc=doc)
        if sheet.template_dir:  # the defaults are checked once, by the tests
            check_document(html, f"{shown(sheet.template_dir)}: {kind}.html")
        out[kind] = html.replace(FONT_SLOT, font_css(html), 1)
    return Documents(out["sheet"], out["key"])


def _located(markdown, sheet: SheetDef, path: str):
    """``markdown`` whose refusals (a remote image) name the file, line and key path."""

    def render_text(text: str) -> str:
        try:
            return markdown(text)
        except DefinitionError as exc:
            raise sheet.error(DefinitionError, exc.message, path) from None

    return render_text


def forget_templates() -> None:
    """Read templates and style sheets afresh from the next render on (they are cached per
    process for a class build; a live preview must see an edited one)."""
    environment.cache_clear()
    _style.cache_clear()


@lru_cache(maxsize=8)
def _style(custom: str | None) -> str:
    """The print CSS: the sheet's own style.css (checked) if its template folder has one
    (read once per process: a class build renders it for every student)."""
    own = style_sheet(custom) if custom else None
    return own if own is not None else (DEFAULT_TEMPLATES / "style.css").read_text()


def tie_example(digits: int) -> str:
    """A tie at the rule's own number of decimals and where half-up takes it, e.g.
    "8.825 → 8.83" for 2 decimals and "8.88825 → 8.8883" for 4; for significant figures
    the tie of one figure fewer decimals ("8.825 → 8.83" for 3 significant figures)."""
    if isinstance(digits, Figures):
        return tie_example(int(digits) - 1)
    tie = (
        Fraction("8." + "8" * max(digits - 1, 0) + ("2" if digits else "") + "5")
        if digits
        else Fraction(17, 2)
    )
    return f"{marked(shown_given(tie, digits + 1))} → {marked(decimals_shown(tie, digits))}"


def precision_unit(rounding, _=english) -> str:
    """What the key's precision counts: decimals, or significant figures."""
    if rounding.figures:
        return _("significant figure") if rounding.figures == 1 else _("significant figures")
    return _("decimal") if rounding.digits == 1 else _("decimals")


def rounding_text(rounding, exact: bool, _=english) -> str:
    digits = rounding.figures or rounding.digits
    example = tie_example(rounding.digits)
    unit = precision_unit(rounding, _)
    arithmetic = (
        _("All arithmetic is exact (fractions)") if exact else _("Computed in double precision")
    )
    if rounding.carry:
        return _(
            "Rounding: every intermediate result is rounded to {digits} {unit} (half-up, "
            "ties away from zero: {example}) before it is used further, as when computing by hand. "
            "{arithmetic} between those roundings."
        ).format(digits=digits, unit=unit, example=example, arithmetic=arithmetic)
    return _(
        "Rounding: results are shown rounded to {digits} {unit} (half-up, ties away from "
        "zero: {example}); "
        "every computation uses the unrounded values. {arithmetic}."
    ).format(digits=digits, unit=unit, example=example, arithmetic=arithmetic)


@dataclass(frozen=True)
class ExerciseParts:
    """What the sheet shows of an exercise besides its prompt and asks (a learning
    platform's question shows the same): the given values and the equations as formula
    rows, and the network's figure."""

    given: list
    equations: list
    figure: object  # architecture_figure.Figure, or None; shown only beside equations


def exercise_parts(sheet: SheetDef, ex: ExerciseDef, trace: Trace) -> ExerciseParts:
    notation = Notation.of(trace.graph, sheet.spec.notation)
    graph = trace.graph
    # a network an ask designed is that ask's answer: the sheet shows no equations of it
    equations = (
        [row(notation.symbol(eq.target), "=", notation.expr(eq.expr)) for eq in graph.equations]
        if ex.design is None
        else []
    )
    lang = sheet.spec.language
    figure = _figure(architecture, graph, notation, lang) if _has_architecture(ex) else None
    return ExerciseParts(given_rows(sheet, ex, trace), equations, figure)


def given_rows(sheet: SheetDef, ex: ExerciseDef, trace: Trace) -> list:
    """The given values as formula rows (W₁ = […]), when an ask shows them; the one part of
    an exercise's parts that differs between variants."""
    if not any(registry.ASKS[a].given_values for a, _options in ex.asks):
        return []
    notation = Notation.of(trace.graph, sheet.spec.notation)
    writer = Writer(trace, notation)
    return [
        row(notation.symbol(n), "=", writer.value(n))
        for n, node in trace.graph.nodes.items()
        if node.kind == "given"
    ]


def scale_terms(ex: ExerciseDef, graph, notation: Notation) -> list:
    """Each scaled collected number (`scale:`) as a formula, ∂L/∂W₁ × 10³."""
    out = []
    for item, power in (ex.spec.scale or {}).items():
        if item == GRADS:
            names = [notation.grad(p, graph.loss) for p in graph.params]
        elif item.startswith(GRAD_PREFIX):
            names = [notation.grad(item[len(GRAD_PREFIX) :], graph.loss)]
        else:
            names = [notation.symbol(item)]
        out += [row(n, Op("×"), Script(Num("10"), sup=Num(str(power)))) for n in names]
    return out


def scale_sentence(terms: list[str], _=english) -> str:
    """The sentence that asks for scaled answers, around the terms set as math."""
    return _("Hand in {terms}: each value multiplied by the power of ten shown.").format(
        terms=", ".join(terms)
    )


def _exercise_view(
    sheet: SheetDef, ex: ExerciseDef, trace: Trace, results: dict, markdown, number: int
) -> dict:
    notation = Notation.of(trace.graph, sheet.spec.notation)
    graph = trace.graph
    lang = sheet.spec.language
    _ = gettext_for(lang)
    asked = [registry.ASKS[a] for a, __ in ex.asks]
    parts = exercise_parts(sheet, ex, trace)
    given, equations = parts.given, parts.equations
    asks = registry.views(
        ex,
        trace,
        notation,
        results,
        lambda backward: _figure(computational_graph, graph, notation, backward, lang),
    )
    figure = parts.figure
    snippet = snippet_code(ex.spec.random) if ex.spec.random is not None else ""
    return ExerciseContext(
        id=ex.spec.id,
        title=ex.spec.title,
        space=ex.spec.space,
        points=_points(ex.spec.points),
        prompt_html=Markup(markdown(ex.spec.prompt)) + _scale_html(ex, graph, notation, _),
        given=given,
        snippet=snippet,
        equations=equations,
        figure=figure.wide if figure and equations else "",
        figure_narrow=figure.narrow if figure and equations else "",
        figure_alt=figure.alt if figure else "",
        figure_number=0,
        number=number,
        asks=asks,
        loss_symbol=notation.symbol(graph.loss) if ex.design is None else None,
        rounding_hint=rounding_hint(ex.rounding, _) if any(a.numeric for a in asked) else "",
        rounding_text=rounding_text(ex.rounding, trace.exact, _)
        if ex.rounding != sheet.rounding
        else "",
        notebook=dict(NOTEBOOK_FILES) if ex.spec.notebook is not None else {},
    )


def _scale_html(ex: ExerciseDef, graph, notation: Notation, _) -> Markup:
    terms = [f'<span class="math">{math_html(t)}</span>' for t in scale_terms(ex, graph, notation)]
    return Markup(f"<p>{scale_sentence(terms, _)}</p>") if terms else Markup("")


_FIGURES: dict = {}


def _figures_numbered(exercises: list[ExerciseContext]) -> list[ExerciseContext]:
    """Figures numbered in the order they appear (the sheet and the key show the same
    network figures), not by question: a question without a figure leaves no gap."""
    out, number = [], 0
    for ex in exercises:
        if ex.figure:
            number += 1
            ex = replace(ex, figure_number=number)
        out.append(ex)
    return out


def warm(sheet: SheetDef) -> None:
    """Fill the caches the class build's workers inherit (templates, figures, fonts), and
    check once what every student's documents share (templates, style sheet, images)."""
    env = environment(sheet.template_dir)
    with _template_problems(sheet.template_dir):
        # the names exgen uses, never every file of the sheet's folder: the sheet's own
        # partials load when a document includes them (an unused broken one is no error)
        own = Path(sheet.template_dir) if sheet.template_dir else None
        defaults = FileSystemLoader(str(DEFAULT_TEMPLATES)).list_templates()
        for name in USED_TEMPLATES + tuple(n for n in defaults if n.endswith(".html")):
            if name in USED_TEMPLATES or own is None or not (own / name).exists():
                env.get_template(name)
        _style(sheet.template_dir)
    markdown = make_markdown(lambda f: str(math_html(f)), sheet.folder)
    texts = [(sheet.spec.intro, "intro")] + [
        (ex.spec.prompt, f"{ex.path}.prompt") for ex in sheet.exercises
    ]
    for text, path in texts:  # a refused image stops the build here, before any student
        if text:
            _located(markdown, sheet, path)(text)
    for ex in sheet.exercises:
        notation = Notation.of(ex.graph, sheet.spec.notation)
        if _has_architecture(ex):
            _figure(architecture, ex.graph, notation)
        for a, _ in ex.asks:
            if registry.ASKS[a].computational_graph is not None:
                _figure(
                    computational_graph, ex.graph, notation, registry.ASKS[a].computational_graph
                )
    font_css("")


def _has_architecture(ex: ExerciseDef) -> bool:
    """The network's figure goes with an exercise when one of its asks shows it (not a
    designed network, which is the answer, nor the student's own computational graph)."""
    return any(registry.ASKS[a].architecture for a, _ in ex.asks)


def _figure(draw, graph, notation, *args):
    """Each distinct figure drawn once: variants share their graph, and figures depend
    only on its structure, the notation and the decimal mark (a constant's), never on the
    numbers."""
    key = (draw.__name__, id(graph), notation.index, DECIMAL_MARK.get(), args)
    if key not in _FIGURES:
        if len(_FIGURES) > 256:
            _FIGURES.clear()
        _FIGURES[key] = (graph, draw(graph, notation, *args))  # holding graph keeps its id
    return _FIGURES[key][1]


def _points(points) -> str | None:
    if points is None:
        return None
    return f"{points:g}"


def rounding_hint(rounding, _=english) -> str:
    # whole sentences per kind: "{digits} {unit}" does not translate (Thai puts the
    # number between the words of "decimal places")
    if rounding.figures:
        n = rounding.figures
        return _(_HINTS["figure" if n == 1 else "figures", rounding.carry]).format(digits=n)
    return _(_HINTS["decimals", rounding.carry]).format(digits=rounding.digits)


_HINTS = {
    ("decimals", True): N_(
        "You may round intermediate results to {digits} decimals "
        "(half-up) and go on with the rounded values."
    ),
    ("figure", True): N_(
        "You may round intermediate results to {digits} significant figure (half-up) and "
        "go on with the rounded values."
    ),
    ("figures", True): N_(
        "You may round intermediate results to {digits} significant figures "
        "(half-up) and go on with the rounded values."
    ),
    ("decimals", False): N_("Give results to {digits} decimals."),
    ("figure", False): N_("Give results to {digits} significant figure."),
    ("figures", False): N_("Give results to {digits} significant figures."),
}
