"""The course's own language: every fixed string of the sheet and the key goes through
the gettext catalogs of exgen/locale/<lang>/LC_MESSAGES/exgen.po (Babel reads them into
memory; nothing is compiled at install). English is the source language: its strings are
the msgids, and an English build never opens a catalog.

The language is passed down explicitly (a sheet's ``language``); ``gettext_for(lang)``
gives the ``_`` of that language. Strings defined far from any language (an op's note,
a step's "e.g.") are marked with ``N_`` so that extraction finds them, and translated
where the document is rendered (render/documents.py, typeset/localize.py)."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from gettext import GNUTranslations, NullTranslations
from importlib import resources
from io import BytesIO

SOURCE = "en"
LANGUAGES = ("de", "en", "th")  # each but English has exgen/locale/<lang>/LC_MESSAGES/exgen.po
DOMAIN = "exgen"


def N_(message: str) -> str:  # gettext's own name: mark now, translate later
    """Marks a string for extraction; it is translated where it is shown."""
    return message


def catalog_path(lang: str):
    return resources.files("exgen") / "locale" / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=8)
def translations(lang: str) -> NullTranslations:
    """The language's catalog, compiled from its .po in memory (English: none)."""
    if lang == SOURCE:
        return NullTranslations()
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r} (exgen ships: {', '.join(LANGUAGES)})")
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with catalog_path(lang).open("rb") as f:
        catalog = read_po(f, locale=lang, domain=DOMAIN)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return GNUTranslations(buffer)


def gettext_for(lang: str) -> Callable[[str], str]:
    """The ``_`` of a language."""
    return translations(lang).gettext


def ngettext_for(lang: str) -> Callable[[str, str, int], str]:
    return translations(lang).ngettext


def english(message: str) -> str:
    """The ``_`` of the source language: the message as it is."""
    return message
