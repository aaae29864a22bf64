"""Render the sheet and the key as self-contained HTML (Jinja, StrictUndefined)."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from jinja2 import (ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, TemplateError,
                    select_autoescape)
from markupsafe import Markup

from exgen.define.load import ExerciseDef, SheetDef
from exgen.engine.solve import Trace
from exgen.errors import TemplateProblem
from exgen.render.graph_figure import computational_graph
from exgen.render.architecture_figure import architecture
from exgen.render.typeface import font_css
from exgen.typeset.formula import row
from exgen.typeset.markdown import make_markdown
from exgen.typeset.mathhtml import matrix_html, step_html, to_html
from exgen.define.schema import NUMERIC_ASKS
from exgen.engine.snippet import snippet_code
from exgen.asks import views
from exgen.engine.rounding import shown_given
from exgen.typeset.forward_steps import Writer
from exgen.typeset.steps import solution
from exgen.typeset.notation import Notation

FONT_SLOT = "/* @font-face rules go here */"
GRAPH_ASKS = ("graph", "graph_backward")
DRAWING_ASKS = GRAPH_ASKS + ("param_count",)
DEFAULT_TEMPLATES = Path(str(resources.files("exgen.render.templates")))


@lru_cache(maxsize=8)
def environment(custom: str | None = None) -> Environment:
    loaders = [FileSystemLoader(str(DEFAULT_TEMPLATES))]
    if custom:
        loaders.insert(0, FileSystemLoader(custom))
    env = Environment(loader=ChoiceLoader(loaders), undefined=StrictUndefined,
                      autoescape=select_autoescape(["html"], default=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.globals.update(math_html=to_html, matrix_html=matrix_html, step_html=step_html,
                       column=lambda cells: [[c] for c in cells])
    return env


@dataclass
class Documents:
    sheet_html: str
    key_html: str


def render(sheet: SheetDef, traces: list[Trace], results: list[dict] | None = None,
           student: str | None = None) -> Documents:
    results = results if results is not None else [{} for _ in traces]
    try:
        return _render(sheet, traces, results, student)
    except TemplateError as exc:
        where = getattr(exc, "filename", None) or getattr(exc, "name", None) or "a template"
        line = getattr(exc, "lineno", None)
        where = f"{where}:{line}" if line else where
        raise TemplateProblem(f"{where}: {exc.message or exc}") from None


def _render(sheet: SheetDef, traces: list[Trace], results: list[dict], student: str | None) -> Documents:
    env = environment(sheet.template_dir)
    markdown = make_markdown(lambda f: str(to_html(f)))
    exercises = [_exercise_view(sheet, ex, t, r, markdown, i)
                 for i, (ex, t, r) in enumerate(zip(sheet.exercises, traces, results), start=1)]
    css_text = _style(sheet.template_dir)
    out = {}
    for kind in ("sheet", "key"):
        doc = {
            "kind": kind, "lang": "en", "title": sheet.spec.title, "course": sheet.spec.course,
            "due": str(sheet.spec.due) if sheet.spec.due is not None else "",
            "student": student or "",
            "intro_html": Markup(markdown(sheet.spec.intro)) if sheet.spec.intro else "",
            "rounding_text": rounding_text(sheet.rounding, all(t.exact for t in traces)),
            "exercises": exercises, "css": css_text, "font_css": FONT_SLOT,
        }
        html = env.get_template(f"{kind}.html").render(doc=doc)
        out[kind] = html.replace(FONT_SLOT, font_css(html), 1)
    return Documents(out["sheet"], out["key"])


@lru_cache(maxsize=8)
def _style(custom: str | None) -> str:
    """The print CSS: the sheet's own style.css if its template folder has one
    (read once per process: a class build renders it for every student)."""
    own = Path(custom) / "style.css" if custom else None
    return (own if own and own.exists() else DEFAULT_TEMPLATES / "style.css").read_text()


def rounding_text(rounding, exact: bool) -> str:
    digits = rounding.digits
    unit = "decimal" if digits == 1 else "decimals"
    arithmetic = ("All arithmetic is exact (fractions)" if exact
                  else "Computed in double precision")
    if rounding.carry:
        return (f"Rounding: every intermediate result is rounded to {digits} {unit} (half-up: "
                f"8.825 → 8.83) before it is used further, as when computing by hand. "
                f"{arithmetic} between those roundings.")
    return (f"Rounding: results are shown rounded to {digits} {unit} (half-up: 8.825 → 8.83); "
            f"every computation uses the unrounded values. {arithmetic}.")


def _exercise_view(sheet: SheetDef, ex: ExerciseDef, trace: Trace, results: dict, markdown,
                   number: int) -> dict:
    notation = Notation.of(trace.graph, sheet.spec.notation)
    graph = trace.graph
    names = [a for a, _ in ex.asks]
    shows_values = ex.logic is None and any(a not in DRAWING_ASKS for a in names)
    sol = solution(trace, notation, ex.asks) if ex.logic is None else None
    writer = Writer(trace, notation)
    given = [row(notation.symbol(n), "=", writer.value(n))
             for n, node in graph.nodes.items() if node.kind == "given"] if shows_values else []
    equations = [row(notation.symbol(eq.target), "=", notation.expr(eq.expr))
                 for eq in graph.equations] if ex.logic is None else []
    asks = [{"name": a, "options": o, "view": _ask_view(a, o, ex, trace, results, notation)}
            for a, o in ex.asks]
    if any(a in ("backward", "gradients", "update") for a in names) and "forward" not in names:
        asks.insert(0, {"name": "forward", "options": None, "view": None})
    figure, alt = _figure(architecture, graph, notation) if _has_architecture(ex) else ("", "")
    snippet = snippet_code(ex.spec.random) if ex.spec.random is not None else ""
    return {
        "id": ex.spec.id, "title": ex.spec.title, "space": ex.spec.space,
        "points": _points(ex.spec.points),
        "prompt_html": Markup(markdown(ex.spec.prompt)),
        "given": given, "snippet": snippet, "equations": equations,
        "figure": figure, "figure_alt": alt, "figure_number": number, "number": number,
        "asks": asks, "solution": sol,
        "loss_symbol": notation.symbol(graph.loss) if ex.logic is None else None,
        "param_grads": [notation.grad(p, graph.loss) for p in graph.params],
        "rounding_hint": _hint(ex.rounding) if any(a in NUMERIC_ASKS for a in names) else "",
        "rounding_text": rounding_text(ex.rounding, trace.exact)
        if ex.rounding != sheet.rounding else "",
    }


_FIGURES: dict = {}


def warm(sheet: SheetDef) -> None:
    """Fill the caches the class build's workers inherit: templates, figures, fonts."""
    env = environment(sheet.template_dir)
    for name in env.list_templates(extensions=["html"]):
        env.get_template(name)
    for ex in sheet.exercises:
        notation = Notation.of(ex.graph, sheet.spec.notation)
        if _has_architecture(ex):
            _figure(architecture, ex.graph, notation)
        for a, _ in ex.asks:
            if a in GRAPH_ASKS:
                _figure(computational_graph, ex.graph, notation, a == "graph_backward")
    font_css("")


def _has_architecture(ex: ExerciseDef) -> bool:
    """The network's figure goes with every exercise but a logic design (the network is
    the answer) and one that asks only for the student's own computational graph."""
    return ex.logic is None and any(a not in GRAPH_ASKS for a, _ in ex.asks)


def _figure(draw, graph, notation, *args):
    """Each distinct figure drawn once: variants share their graph, and figures depend
    only on its structure and the notation, never on the numbers."""
    key = (draw.__name__, id(graph), notation.index, args)
    if key not in _FIGURES:
        if len(_FIGURES) > 256:
            _FIGURES.clear()
        _FIGURES[key] = (graph, draw(graph, notation, *args))  # holding graph keeps its id
    return _FIGURES[key][1]


def _ask_view(name: str, options, ex: ExerciseDef, trace: Trace, results: dict, notation):
    graph = trace.graph
    if name in GRAPH_ASKS:
        uri, alt = _figure(computational_graph, graph, notation, name == "graph_backward")
        return {"uri": uri, "alt": alt}
    if name == "gradients":
        return {"grads": [notation.grad(n, graph.loss) for n in options]}
    if name == "numeric_check":
        return views.numeric_check_view(results[name], trace, notation)
    if name == "param_count":
        return views.param_count_view(results[name], notation)
    if name == "update":
        return {"lr": shown_given(results[name][0], trace.rounding.digits),
                "steps": views.update_view(results[name], trace, notation)}
    if name == "symbolic":
        view = views.symbolic_view(results[name], trace, notation)
        view["of"], view["wrt"] = notation.symbol(options.of), notation.symbol(options.wrt)
        return view
    if name == "softmax_ce":
        return views.softmax_view(trace, notation)
    if name == "logic":
        return views.logic_view(ex.logic, trace, notation)
    if name == "pytorch":
        return results[name]
    return None


def _points(points) -> str | None:
    if points is None:
        return None
    return f"{points:g}"


def _hint(rounding) -> str:
    if rounding.carry:
        return (f"You may round intermediate results to {rounding.digits} decimals "
                f"(half-up) and go on with the rounded values.")
    return f"Give results to {rounding.digits} decimals."

