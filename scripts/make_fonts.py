"""Regenerate exgen/render/fonts/: the fonts exgen embeds, cut down from Debian's packages.

- STIX (math and text; SIL OFL): Latin, Greek, Cyrillic and the mathematical blocks.
- Noto Sans Thai and Noto Sans CJK SC (names in other scripts; SIL OFL): all of Noto
  Sans Thai (Thai with its space, hyphen and zero-width marks: a name's space is drawn
  from the same font as its letters); the GB2312 and frequent Big5 ideographs, kana and
  Hangul, with the ASCII space and punctuation.
- DejaVu Sans Mono (code; Bitstream Vera licence): Latin.

Sources: `apt-get download fonts-stix fonts-noto-core fonts-noto-cjk fonts-dejavu-core`,
each unpacked with `dpkg -x PACKAGE.deb DIR` into one DIR.
Usage: python scripts/make_fonts.py DIR   (the CJK cut takes about a minute)
"""

import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection, TTFont

LATIN = [(0x20, 0x7E), (0xA0, 0x24F)]
STIX_RANGES = LATIN + [
    (0x370, 0x3FF),
    (0x400, 0x52F),  # Cyrillic names in the serif face
    (0x2000, 0x206F),
    (0x2070, 0x209F),
    (0x20AC, 0x20AC),
    (0x2100, 0x214F),
    (0x2190, 0x21FF),
    (0x2200, 0x22FF),
    (0x2300, 0x23FF),
    (0x25A0, 0x25FF),
    (0x27E8, 0x27E9),
    (0x1D400, 0x1D7FF),
    (0x300, 0x36F),
]
STIX = {
    "Regular": "STIX-Regular.otf",
    "Italic": "STIX-Italic.otf",
    "Bold": "STIX-Bold.otf",
    "BoldItalic": "STIX-BoldItalic.otf",
}


def cjk_characters() -> list[int]:
    chars = set(range(0x3000, 0x3100)) | set(range(0xFF00, 0xFFF0)) | set(range(0xAC00, 0xD7A4))
    # the space and punctuation of a name written in these scripts come from this font too
    chars |= set(range(0x20, 0x7F)) | {0xA0} | set(range(0x2010, 0x2028))
    for cp in range(0x4E00, 0xA000):
        ch = chr(cp)
        try:
            ch.encode("gb2312")
            chars.add(cp)
            continue
        except UnicodeEncodeError:
            pass
        try:
            if 0xA440 <= int.from_bytes(ch.encode("big5"), "big") <= 0xC67E:
                chars.add(cp)
        except UnicodeEncodeError:
            pass
    return sorted(chars)


def cut(font: TTFont, unicodes, target: Path, features=("*",)) -> None:
    options = subset.Options()
    options.flavor = "woff2"
    options.layout_features = list(features)
    options.name_IDs = ["*"]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=unicodes)
    subsetter.subset(font)
    font.flavor = "woff2"
    font.save(str(target))
    print(target.name, target.stat().st_size)


def main(source: str) -> None:
    root = Path(source) / "usr/share/fonts"
    out = Path(__file__).parents[1] / "exgen" / "render" / "fonts"
    out.mkdir(exist_ok=True)
    stix = [c for lo, hi in STIX_RANGES for c in range(lo, hi + 1)]
    sys.path.insert(0, str(Path(__file__).parents[1]))
    from exgen.render.typeface import EVERYDAY

    for style, name in STIX.items():
        cut(TTFont(str(root / "opentype/stix-word" / name)), stix, out / f"STIX-{style}.woff2")
        # the cut nearly every document needs, ready made (no subsetting at build time)
        cut(
            TTFont(str(root / "opentype/stix-word" / name)),
            sorted(ord(c) for c in EVERYDAY),
            out / f"STIX-{style}-everyday.woff2",
        )
    for style in ("Regular", "Bold"):
        cut(
            TTFont(str(root / f"truetype/noto/NotoSansThai-{style}.ttf")),
            list(TTFont(str(root / f"truetype/noto/NotoSansThai-{style}.ttf")).getBestCmap()),
            out / f"NotoSansThai-{style}.woff2",
        )
    cjk = TTCollection(str(root / "opentype/noto/NotoSansCJK-Regular.ttc")).fonts[2]  # SC
    cut(cjk, cjk_characters(), out / "NotoSansCJK-Regular.woff2", features=())
    latin = [c for lo, hi in LATIN for c in range(lo, hi + 1)]
    cut(
        TTFont(str(root / "truetype/dejavu/DejaVuSansMono.ttf")),
        latin,
        out / "DejaVuSansMono.woff2",
    )


if __name__ == "__main__":
    main(sys.argv[1])
