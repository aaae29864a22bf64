"""The fonts every document embeds, shipped with exgen so that a PDF looks the same on
every machine: STIX for text and math (Latin, Greek, Cyrillic), Noto Sans Thai and Noto Sans CJK for names in
those scripts, DejaVu Sans Mono for code. STIX is cut to a fixed everyday set (so that
all variants share one cut), the others to the characters a document uses."""

from __future__ import annotations

import base64
import io
import re
from functools import cache, lru_cache
from importlib import resources

STIX_FACES = (
    ("Regular", "normal", "normal"),
    ("Italic", "italic", "normal"),
    ("Bold", "normal", "bold"),
    ("BoldItalic", "italic", "bold"),
)
EVERYDAY = frozenset(
    [chr(c) for c in range(0x20, 0x7F)]
    + [chr(c) for c in range(0xA0, 0x180)]
    + [chr(c) for c in range(0x391, 0x3CA)]
    + list("–—‘’“”…′″→←↦∂∇∑∏−∓∕∘√∞∈∉∧∨∩∪≈≠≡≤≥⊙⊗⊤⋅⋯ℒℰ𝟏ᵀ‖⟨⟩ₙ\u2009\u2005\u2003\u0302")
)
THAI = re.compile(r"[\u0E00-\u0E7F]")
CJK = re.compile(r"[\u3000-\u30FF\u3400-\u9FFF\uAC00-\uD7A3\uFF00-\uFFEF]")


def _bytes(name: str) -> bytes:
    return resources.files("exgen.render.fonts").joinpath(name).read_bytes()


@cache
def _cmap(name: str) -> frozenset:
    from fontTools.ttLib import TTFont  # fontTools loads only when a cut is needed

    return frozenset(chr(c) for c in TTFont(io.BytesIO(_bytes(name)), lazy=True).getBestCmap())


@cache
def _ready(name: str) -> str:
    return base64.b64encode(_bytes(name)).decode("ascii")


@lru_cache(maxsize=128)
def _cut(name: str, chars: frozenset) -> str:
    """The font cut to ``chars``, as base64 woff2 (cached: variants share cuts)."""
    if name.startswith("STIX-") and chars == EVERYDAY:
        return _ready(name.replace(".woff2", "-everyday.woff2"))
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.flavor = "woff2"
    options.layout_features = [
        "kern",
        "liga",
        "mark",
        "mkmk",
        "ccmp",
        "locl",
        "ljmo",
        "vjmo",
        "tjmo",
        "abvm",
        "blwm",
    ]
    options.notdef_outline = True
    font = TTFont(io.BytesIO(_bytes(name)), lazy=True)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[ord(c) for c in chars])
    subsetter.subset(font)
    out = io.BytesIO()
    font.flavor = "woff2"
    font.recalcTimestamp = False  # no build time inside: the same cut gives the same bytes
    font["head"].modified = font["head"].created
    font.save(out)
    return base64.b64encode(out.getvalue()).decode("ascii")


def used_characters(html: str) -> frozenset:
    """Every character of the page (markup and CSS are ASCII, which every cut has;
    entities stand for ASCII characters too)."""
    return frozenset(filter(str.isprintable, set(html)))


def _face(family: str, name: str, chars: frozenset, style="normal", weight="normal") -> str:
    return (
        f'@font-face {{ font-family: "{family}"; font-style: {style}; font-weight: {weight}; '
        f'src: url(data:font/woff2;base64,{_cut(name, chars)}) format("woff2"); }}'
    )


def figure_font_css(svg: str) -> str:
    """@font-face rules for a figure drawn as SVG: the STIX faces it uses, cut to its
    characters (a figure's labels are few: a few kB each)."""
    text = "".join(re.findall(r">([^<]+)<", svg))  # the labels, not the markup
    chars = frozenset(text) & _cmap("STIX-Regular.woff2")
    italic, bold = 'font-style="italic"' in svg, 'font-weight="bold"' in svg
    used = {"Regular": True, "Italic": italic, "Bold": bold, "BoldItalic": italic and bold}
    return "".join(
        _face("STIX", f"STIX-{s}.woff2", chars, style, weight)
        for s, style, weight in STIX_FACES
        if used[s]
    )


def font_css(html: str) -> str:
    """@font-face rules for a document (every font inline, no file or network access)."""
    chars = used_characters(html)
    extra = chars - EVERYDAY
    stix = EVERYDAY | (extra & _cmap("STIX-Regular.woff2")) if extra else EVERYDAY
    rules = [
        _face("STIX", f"STIX-{s}.woff2", stix, style, weight) for s, style, weight in STIX_FACES
    ]
    text = "".join(chars)
    # A name's font is cut to every character of the page it has, not only its script's
    # letters: the space and punctuation inside a name are drawn from the same font.
    if THAI.search(text):
        # SARA AM (ำ) is shaped as NIKHAHIT + SARA AA: the subset keeps both glyphs
        thai = chars | ({"\u0e4d", "\u0e32"} if "\u0e33" in chars else set())
        rules += [
            _face("Noto Sans Thai", name, thai & _cmap(name), "normal", weight)
            for name, weight in (
                ("NotoSansThai-Regular.woff2", "normal"),
                ("NotoSansThai-Bold.woff2", "bold"),
            )
        ]
    if CJK.search(text):
        name = "NotoSansCJK-Regular.woff2"
        rules.append(_face("Noto Sans CJK", name, chars & _cmap(name)))
    if "<pre" in html or "<code" in html:
        rules.append(
            _face(
                "DejaVu Sans Mono",
                "DejaVuSansMono.woff2",
                frozenset(chr(c) for c in range(0x20, 0x7F)),
            )
        )
    return "\n".join(rules)
