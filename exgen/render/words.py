"""The templates' gettext: {% trans %} and _() in the sheet's language (``doc.lang`` of
the document being rendered; one Jinja environment serves every language), the words of
the formulas they set, and the PDF's running footer."""

from __future__ import annotations

from jinja2 import pass_context

from exgen.language import SOURCE, gettext_for, ngettext_for


@pass_context
def gettext(context, message: str) -> str:
    return gettext_for(context["doc"].lang)(message)


@pass_context
def ngettext(context, singular: str, plural: str, n: int) -> str:
    return ngettext_for(context["doc"].lang)(singular, plural, n)


@pass_context
def translated(context, message: str) -> str:
    """A message of the code (marked N_ where it is defined, e.g. an optimizer's update
    rule) in the sheet's language, as plain text: the template escapes it."""
    return gettext_for(context["doc"].lang)(message)


def words(context):
    """The gettext that translates a formula's words (None: English, left as it is)."""
    lang = context["doc"].lang
    return None if lang == SOURCE else gettext_for(lang)


def footer_css(lang: str) -> str:
    """The PDF's running footer, "page k of n", in the sheet's language (English: the
    style sheet's own rule)."""
    if lang == SOURCE:
        return ""
    _ = gettext_for(lang)
    text = _("page {page} of {pages}")
    pieces = text.replace("{page}", "\0counter(page)\0").replace("{pages}", "\0counter(pages)\0")
    content = " ".join(
        p if p.startswith("counter(") else '"' + p.replace('"', "") + '"'
        for p in pieces.split("\0")
        if p
    )
    return f"\n@page {{ @bottom-center {{ content: {content}; }} }}\n"
