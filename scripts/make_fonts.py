"""Regenerate exgen/fonts/: subsets of the STIX fonts (SIL Open Font License).

The fonts ship inside the package so that every machine sets the same glyphs.
Source: Debian's fonts-stix (`apt-get download fonts-stix && dpkg -x fonts-stix_*.deb DIR`).
Usage: python scripts/make_fonts.py DIR
"""
import sys
from pathlib import Path

from fontTools import subset

RANGES = [
    (0x20, 0x7E), (0xA0, 0x17F),          # Latin, Latin-1, Latin Extended-A
    (0x370, 0x3FF),                       # Greek
    (0x2000, 0x206F), (0x2070, 0x209F),   # punctuation, super- and subscripts
    (0x20AC, 0x20AC), (0x2100, 0x214F),   # euro, letterlike symbols
    (0x2190, 0x21FF), (0x2200, 0x22FF),   # arrows, mathematical operators
    (0x2300, 0x23FF), (0x25A0, 0x25FF),   # technical, geometric shapes
    (0x27E8, 0x27E9), (0x1D400, 0x1D7FF), # angle brackets, mathematical alphanumerics
    (0x300, 0x36F),                       # combining accents
]
STYLES = {"Regular": "STIX-Regular.otf", "Italic": "STIX-Italic.otf",
          "Bold": "STIX-Bold.otf", "BoldItalic": "STIX-BoldItalic.otf"}


def main(source: str) -> None:
    root = Path(source) / "usr/share/fonts/opentype/stix-word"
    out = Path(__file__).parents[1] / "exgen" / "fonts"
    out.mkdir(exist_ok=True)
    unicodes = [c for lo, hi in RANGES for c in range(lo, hi + 1)]
    for style, name in STYLES.items():
        options = subset.Options()
        options.flavor = "woff2"
        options.layout_features = ["*"]
        options.name_IDs = ["*"]
        options.notdef_outline = True
        font = subset.load_font(str(root / name), options)
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=unicodes)
        subsetter.subset(font)
        subset.save_font(font, str(out / f"STIX-{style}.woff2"), options)
        print(style, (out / f"STIX-{style}.woff2").stat().st_size)


if __name__ == "__main__":
    main(sys.argv[1])
