"""The declared template context: every name the sheet and key templates may use, and
nothing else. Jinja runs with StrictUndefined, so a template that asks for a name not
declared here fails; a test checks that the default templates use every field."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ExerciseContext:
    """One exercise as the templates see it (templates/sheet.html, key.html, partials)."""

    id: str
    title: str
    space: int  # millimetres to work in on the sheet
    points: str | None
    prompt_html: object  # Markup
    given: list  # formula rows of the given values
    snippet: str  # the seeded NumPy snippet, or ""
    equations: list
    figure: str  # the architecture figure as a data URI (layers left to right), or ""
    figure_narrow: str  # the same, layers top to bottom, for narrow screens
    figure_alt: str  # the network in words: layers, sizes, activations, skip connections
    figure_number: int  # counted over the figures shown, from 1
    number: int
    asks: list  # each shown ask: {"name", "options", "view"} (asks/registry.py)
    loss_symbol: object
    rounding_hint: str
    rounding_text: str
    notebook: dict  # the notebook files' names (sheet, key, utils), or {} without a notebook


@dataclass(frozen=True)
class DocumentContext:
    """The sheet or the key as a whole (templates/base.html)."""

    kind: str  # "sheet" or "key"
    lang: str
    title: str
    course: str
    due: str
    student: str
    intro_html: object
    rounding_text: str
    exercises: list[ExerciseContext]
    css: str
    font_css: str
