"""The templates' context is declared (exgen/render/context.py): every `doc.X` and `ex.X`
the default templates read is a declared field, and every declared field is read."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from exgen.render.context import DocumentContext, ExerciseContext

TEMPLATES = Path(__file__).parents[1] / "exgen" / "render" / "templates"


def used(prefix: str) -> set[str]:
    names: set[str] = set()
    for path in TEMPLATES.rglob("*.html"):
        names |= set(re.findall(rf"\b{prefix}\.([a-z_]+)", path.read_text()))
    return names


def fields(cls) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def test_the_templates_read_only_declared_names():
    assert used("doc") <= fields(DocumentContext)
    assert used("ex") <= fields(ExerciseContext)


def test_every_declared_name_is_read_by_a_template():
    assert fields(DocumentContext) == used("doc")
    assert fields(ExerciseContext) == used("ex")


def test_the_context_cannot_be_changed_by_a_template():
    assert DocumentContext.__dataclass_params__.frozen
    assert ExerciseContext.__dataclass_params__.frozen
