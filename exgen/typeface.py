"""The fonts every document embeds: STIX, cut down to the characters it uses."""
from __future__ import annotations

import base64
import html as html_lib
import io
import re
from functools import lru_cache
from importlib import resources

from fontTools import subset
from fontTools.ttLib import TTFont

FACES = (("Regular", "normal", "normal"), ("Italic", "italic", "normal"),
         ("Bold", "normal", "bold"), ("BoldItalic", "italic", "bold"))
_TAGS = re.compile(r"<style.*?</style>|<[^>]+>", re.S)


def _font_bytes(style: str) -> bytes:
    return resources.files("exgen.fonts").joinpath(f"STIX-{style}.woff2").read_bytes()


@lru_cache(maxsize=64)
def _subset(style: str, chars: frozenset) -> str:
    options = subset.Options()
    options.flavor = "woff2"
    options.layout_features = ["kern", "liga", "mark", "mkmk", "ccmp", "locl"]
    options.notdef_outline = True
    font = TTFont(io.BytesIO(_font_bytes(style)))
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[ord(c) for c in chars])
    subsetter.subset(font)
    out = io.BytesIO()
    font.flavor = "woff2"
    font.save(out)
    return base64.b64encode(out.getvalue()).decode("ascii")


def used_characters(html: str) -> frozenset:
    text = html_lib.unescape(_TAGS.sub("", html))
    chars = set(text) | set("0123456789.,−-+=()[] ")
    # the page header and footer are CSS-generated
    chars |= set("page of")
    return frozenset(c for c in chars if c.isprintable())


def font_css(html: str) -> str:
    """@font-face rules with each face cut down to the characters of ``html``."""
    chars = used_characters(html)
    rules = []
    for style, font_style, weight in FACES:
        data = _subset(style, chars)
        rules.append(f'@font-face {{ font-family: "STIX"; font-style: {font_style}; '
                     f'font-weight: {weight}; src: url(data:font/woff2;base64,{data}) '
                     f'format("woff2"); }}')
    return "\n".join(rules)
