"""A student's name in any shipped script prints whole: Cyrillic and Greek in the serif face
(STIX), Thai and CJK from their Noto fonts, the space inside a name a real space glyph."""

from __future__ import annotations

import base64
import io
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from exgen.cli import main
from exgen.render.typeface import STIX_FACES, _bytes, font_css

ROOT = Path(__file__).parents[1]
NAMES = {
    "th1": "สมชาย ใจดี",
    "ru1": "Иван Петров",
    "gr1": "Νίκος Παπαδόπουλος",
    "cn1": "王 小明",
}
SERIF = ("ru1", "gr1")
OWN_FONTS = re.compile(r"/[A-Z]{6}\+(STIX|Noto-Sans-Thai|Noto-Sans-CJK|DejaVu-Sans-Mono)")


def cmap(font_bytes: bytes) -> set[str]:
    return {chr(c) for c in TTFont(io.BytesIO(font_bytes), lazy=True).getBestCmap()}


@pytest.mark.parametrize("style", [s for s, _, _ in STIX_FACES])
def test_stix_has_cyrillic_and_greek_names(style):
    letters = set("".join(NAMES[s] for s in SERIF)) - {" "}
    assert letters - cmap(_bytes(f"STIX-{style}.woff2")) == set()


@pytest.mark.parametrize(
    "sid, family, font",
    [
        ("th1", "Noto Sans Thai", "NotoSansThai-Regular.woff2"),
        ("cn1", "Noto Sans CJK", "NotoSansCJK-Regular.woff2"),
    ],
)
def test_a_name_font_is_cut_with_the_space_and_punctuation_of_the_name(sid, family, font):
    name = f"{NAMES[sid]}-{NAMES[sid]}"
    assert {" ", "-"} <= cmap(_bytes(font))  # the shipped font has them to keep
    css = font_css(f"<p>{name}</p>")
    cuts = re.findall(rf'font-family: "{family}";[^}}]*base64,([^)]+)\)', css)
    assert cuts
    for cut in cuts:
        assert set(name) <= cmap(base64.b64decode(cut))


def drawn(reader: PdfReader, page: int) -> dict[str, str]:
    """Each font of a page: the text its glyphs stand for; a glyph the embedded font does
    not have (drawn as the .notdef box) stands for '\\0'."""
    out: dict[str, str] = {}
    for font in reader.pages[page]["/Resources"]["/Font"].values():
        font = font.get_object()
        descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
        embedded = next(descriptor[k] for k in descriptor if k.startswith("/FontFile"))
        glyphs = TTFont(io.BytesIO(embedded.get_object().get_data())).getGlyphOrder()
        to_unicode = font["/ToUnicode"].get_object().get_data().decode("ascii")
        text = ""
        for cid, code in re.findall(r"<([0-9a-f]{4})> <([0-9a-f]+)>", to_unicode):
            if code == "ffff":
                continue  # the codespace range
            real = int(cid, 16) < len(glyphs) and glyphs[int(cid, 16)] != ".notdef"
            text += bytes.fromhex(code).decode("utf-16-be") if real else "\0"
        out[str(font["/BaseFont"])] = text
    return out


@pytest.mark.pdf
def test_names_print_whole_in_their_fonts(tmp_path, monkeypatch):
    (tmp_path / "exercises").mkdir()
    shutil.copy(ROOT / "exercises" / "sheet9.yaml", tmp_path / "exercises")
    roster = "id,name\n" + "".join(f"{sid},{name}\n" for sid, name in NAMES.items())
    (tmp_path / "class.csv").write_text(roster, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["build", "sheet9", "--roster", "class.csv"])
    assert result.exit_code == 0, result.output
    for sid, name in NAMES.items():
        for doc in ("sheet.pdf", "key.pdf"):
            reader = PdfReader(tmp_path / "out" / "sheet9" / "variants" / sid / doc)
            where = f"{sid}/{doc}"
            # title and running header both read back as the name, space included
            assert reader.pages[0].extract_text().count(f"{name} · {sid}") == 2, where
            fonts = drawn(reader, 0)
            assert all(OWN_FONTS.match(f) for f in fonts), (where, sorted(fonts))
            assert not any("\0" in text for text in fonts.values()), (where, fonts)
            letters = set(name) - {" "}
            home = "STIX" if sid in SERIF else "Noto-Sans"
            assert letters <= set("".join(t for f, t in fonts.items() if home in f)), where
