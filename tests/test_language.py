"""The course's own language: a German or Thai sheet and key have no English fixed string
left, every message of the template (.pot) is translated, and the .pot is what Babel
extracts from the code and the templates today."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po
from click.testing import CliRunner
from lxml import html

from exgen.asks import pytorch
from exgen.cli import main
from exgen.language import LANGUAGES, SOURCE, catalog_path

ROOT = Path(__file__).parents[1]
POT = ROOT / "exgen" / "locale" / "exgen.pot"
TRANSLATED = [lang for lang in LANGUAGES if lang != SOURCE]
# a placeholder of Jinja's %-format or Python's str.format, or an HTML tag
HOLES = re.compile(r"%\((\w+)\)s|\{(\w*)\}|<[^>]+>")


def build(tmp: Path, language: str | None, *flags, name: str = "sheet9") -> Path:
    """A shipped sheet as a temporary copy, with ``language:`` set (None: as shipped)."""
    shutil.copytree(ROOT / "exercises", tmp / "exercises", dirs_exist_ok=True)
    text = (ROOT / "exercises" / f"{name}.yaml").read_text()
    if language is not None:
        text = re.sub(r"^title:", f"language: {language}\ntitle:", text, count=1, flags=re.M)
    (tmp / "exercises" / f"{name}.yaml").write_text(text)
    cwd = os.getcwd()
    os.chdir(tmp)
    try:
        result = CliRunner().invoke(main, ["build", name, *flags])
    finally:
        os.chdir(cwd)
    assert result.exit_code == 0, result.output
    return tmp / "out" / name


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    out = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pytorch, "torch_available", lambda: False)
        for lang in LANGUAGES:
            out[lang] = build(tmp_path_factory.mktemp(lang), lang, "--no-pdf")
    return out


def fixed_text(path: Path, name: str = "sheet9") -> str:
    """What a reader sees or hears of a document (text, alt texts, MathML), without the
    sheet's own words (title, course, prompts, question titles): those are the author's."""
    root = html.fromstring(path.read_text())
    own = "//style|//script|//title|//h1|//*[@class='course']|//*[@class='prompt']|//*[@class='intro']"
    own += "|//pre"  # code (its comments are Python's, in English, as code usually is)
    # not yet translated: how an output's size follows (the ops' size_arithmetic lines)
    own += "|//table[contains(@class, 'shapes')]//td[2]"
    for el in root.xpath(own + "|//*[@class='meta']/span[2]"):  # the due date, as written
        el.drop_tree()
    alts = " ".join(root.xpath("//@alt"))
    text = root.text_content() + " " + alts
    for title in re.findall(
        r"\n    title: (.+)", (ROOT / "exercises" / f"{name}.yaml").read_text()
    ):
        text = text.replace(title.strip().strip("'\""), " ")
    return " ".join(text.split())


def pieces(message: str) -> list[str]:
    """The literal words of a message between its placeholders and tags."""
    return [p.strip() for p in HOLES.split(message) if p and re.search(r"[A-Za-z]{2}", p)]


def found(piece: str, text: str) -> bool:
    return re.search(r"(?<!\w)" + re.escape(piece) + r"(?!\w)", text) is not None


def catalog(path: Path):
    with path.open("rb") as f:
        return read_po(f)


def english_left(english_build: Path, other_build: Path, lang: str, name: str = "sheet9"):
    """Each English message's words that the English build shows and the other still
    does, per document, and how many were looked for."""
    messages = catalog(Path(str(catalog_path(lang))))
    out = {}
    for kind in ("sheet.html", "key.html"):
        english = fixed_text(english_build / kind, name)
        other = fixed_text(other_build / kind, name)
        assert f'lang="{lang}"' in (other_build / kind).read_text()
        checked, left = 0, []
        for m in messages:
            if not m.id or m.string == m.id:  # "PyTorch" is PyTorch in every language
                continue
            for piece in pieces(m.id):
                translated = any(found(piece, p) for p in pieces(m.string))
                if found(piece, english) and not translated:
                    checked += 1
                    if found(piece, other):
                        left.append(piece)
        out[kind] = checked, left
    return out


@pytest.mark.parametrize("lang", TRANSLATED)
def test_no_english_fixed_string_is_left(builds, lang):
    for kind, (checked, left) in english_left(builds[SOURCE], builds[lang], lang).items():
        assert checked > 20, checked  # the English build does hold the fixed strings
        assert not left, f"{kind} ({lang}) still says: {left}"


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(p.stem for p in (ROOT / "exercises").glob("*.yaml")))
def test_every_shipped_sheet_in_german(tmp_path, name):
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pytorch, "torch_available", lambda: False)
        english = build(tmp_path / "en", None, "--no-pdf", name=name)
        german = build(tmp_path / "de", "de", "--no-pdf", name=name)
    for kind, (_, left) in english_left(english, german, "de", name).items():
        assert not left, f"{name} {kind} still says: {left}"


def test_the_thai_sheet_says_its_language(builds):
    sheet = (builds["th"] / "sheet.html").read_text()
    key = (builds["th"] / "key.html").read_text()
    assert '<html lang="th">' in sheet
    assert "ข้อ 1:" in sheet and "เฉลย" in key and "เช่น" in key
    assert "Noto Sans Thai" in sheet  # the Thai glyphs' face, embedded and subset


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_message_is_translated(lang):
    template = catalog(POT)
    messages = {m.id: m for m in catalog(Path(str(catalog_path(lang)))) if m.id}
    for m in template:
        if not m.id:
            continue
        assert m.id in messages, f"{lang}: {m.id!r} is not in the catalog"
        t = messages[m.id]
        assert t.string and "fuzzy" not in t.flags, f"{lang}: {m.id!r} is not translated"
        holes = lambda s: sorted(x for g in HOLES.findall(s) for x in g if x)  # noqa: E731
        assert holes(t.string) == holes(m.id), f"{lang}: {m.id!r} changes its placeholders"
    stale = set(messages) - {m.id for m in template}
    assert not stale, f"{lang}: messages no longer in the .pot: {sorted(stale)}"


def test_the_pot_is_up_to_date(tmp_path):
    """What `pybabel extract` gives from the code and the templates (babel.cfg)."""
    out = tmp_path / "exgen.pot"
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        CommandLineInterface().run(
            ["pybabel", "-q", "extract", "-F", "babel.cfg", "-k", "N_", "--no-location",
             "--sort-output", "-o", str(out), "."]
        )  # fmt: skip
    finally:
        os.chdir(cwd)
    fresh = {m.id for m in catalog(out) if m.id}
    shipped = {m.id for m in catalog(POT) if m.id}
    assert fresh == shipped, (
        f"new: {sorted(fresh - shipped)}; gone: {sorted(shipped - fresh)}; "
        "run the command at the top of babel.cfg"
    )


def test_an_unknown_language_is_refused(tmp_path, monkeypatch):
    (tmp_path / "exercises").mkdir()
    text = (ROOT / "exercises" / "sheet9.yaml").read_text()
    lines = text.split("\n")
    at = next(i for i, line in enumerate(lines) if line.startswith("course:"))
    lines.insert(at + 1, "language: fr")
    (tmp_path / "exercises" / "sheet9.yaml").write_text("\n".join(lines))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["build", "sheet9", "--no-pdf"])
    assert result.exit_code == 2
    assert (
        f"exercises/sheet9.yaml:{at + 2}: language: unknown language 'fr' "
        f"(expected one of: {', '.join(LANGUAGES)})"
    ) in result.output


@pytest.mark.pdf
def test_a_thai_pdf(tmp_path, caplog):
    from pypdf import PdfReader

    out = build(tmp_path, "th")
    assert ".notdef" not in caplog.text  # every Thai glyph is in the embedded subset
    reader = PdfReader(out / "key.pdf")
    text = "".join(page.extract_text() for page in reader.pages)
    # ำ is drawn as ํ + า, and the PDF maps the glyph า back to one character only: text
    # copied from the PDF may read ำ for า (the page shows it right)
    text = text.replace("\u0e33", "\u0e32")
    assert "ข้อ 1:" in text and "เฉลย" in text
    assert f"หน้า 1 จาก {len(reader.pages)}" in text  # the running footer
    fonts = {
        str(f["/BaseFont"])
        for page in reader.pages
        for f in (page["/Resources"].get("/Font") or {}).values()
        if "/BaseFont" in f.get_object()
    }
    assert any("Noto-Sans-Thai" in f for f in fonts), fonts
    shutil.rmtree(out)
