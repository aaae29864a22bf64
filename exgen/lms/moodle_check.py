"""A check of a Moodle XML file against what Moodle's importer reads, before a teacher
finds out on the import page. It mirrors question/format/xml/format.php:
``qformat_xml::readquestions`` (root <quiz>, its <question> children) and
``import_question`` (the types it dispatches on), ``import_category``,
``import_multianswer`` (``qtype_multianswer_extract_question`` and
``qtype_multianswer_validate_question``, via exgen.lms.cloze), ``import_headers`` (name,
penalty, defaultgrade, hidden, idnumber), ``trans_format`` (the text formats) and
``import_text_with_files`` / ``import_files_as_draft`` (<file name path encoding>)."""

from __future__ import annotations

import base64
import binascii
import re
from collections import Counter
from urllib.parse import unquote

from exgen.lms import cloze
from exgen.lms.xml_files import DECLARES_DTD, Element, Unreadable, read_xml

# import_question's own types; any other goes to a question-type plugin
TYPES = {
    "multichoice", "truefalse", "shortanswer", "numerical", "description", "matching",
    "match", "cloze", "multianswer", "essay", "calculated", "calculatedsimple",
    "calculatedmulti", "category",
}  # fmt: skip
FORMATS = {"moodle_auto_format", "html", "plain_text", "wiki_like", "markdown"}  # trans_format
_REFERENCE = re.compile(r"@@PLUGINFILE@@/([^\"'<>\s?#)]+)")
# what exgen writes: '.' decimal mark, no exponent (Moodle reads ',' by the site's locale)
_PLAIN = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def check_moodle_xml(data: bytes) -> list[str]:
    """What Moodle's import would refuse or misread in ``data``; empty when fine."""
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:  # refused unread (xml_files)
        return [DECLARES_DTD.format(what="Moodle XML")]
    try:
        root = read_xml(data, "Moodle XML")
    except Unreadable as error:
        return [f"not well-formed XML: {error}"]
    if root.tag != "quiz":
        return [f"the root element is <{root.tag}>, not <quiz>"]
    problems: list[str] = []
    category = ""
    idnumbers: Counter[tuple[str, str]] = Counter()
    for i, question in enumerate(root, start=1):
        if question.tag != "question":
            problems.append(f"element {i} is <{question.tag}>, not <question>")
            continue
        kind = question.get("type")
        if kind not in TYPES:
            problems.append(f"question {i}: type {kind!r} is not one Moodle's importer reads")
        elif kind == "category":
            category = _text(question, "category") or ""
            if not category:
                problems.append(f"question {i}: a category without <category><text>")
        elif kind in ("cloze", "multianswer"):
            name = _text(question, "name")
            label = f"question {i} ({name})" if name else f"question {i}"
            problems += [f"{label}: {p}" for p in _cloze(question)]
            idnumber = (question.findtext("idnumber") or "").strip()
            # the question table's columns: name varchar(255), idnumber varchar(100)
            if len(name or "") > 255:
                problems.append(f"{label}: the name is longer than Moodle's 255 characters")
            if len(idnumber) > 100:
                problems.append(f"{label}: the idnumber is longer than Moodle's 100 characters")
            if idnumber:
                idnumbers[(category, idnumber)] += 1
    for (cat, idnumber), count in idnumbers.items():
        if count > 1:
            problems.append(f"idnumber {idnumber!r} is used {count} times in category {cat!r}")
    return problems


def _text(element: Element, child: str) -> str | None:
    """import_text: the <child><text> content, trimmed; None when there is none."""
    found = element.find(f"{child}/text")
    return None if found is None else (found.text or "").strip()


def _cloze(question: Element) -> list[str]:
    problems = []
    if not _text(question, "name"):
        problems.append("no <name><text>")
    text = _text(question, "questiontext")
    if text is None:
        return [*problems, "no <questiontext><text>"]
    for child in ("questiontext", "generalfeedback"):
        element = question.find(child)
        if element is not None and element.get("format", "html") not in FORMATS:
            problems.append(f"<{child}> format {element.get('format')!r} is not one of Moodle's")
    for child, kind in (("penalty", "number"), ("defaultgrade", "number"), ("hidden", "0/1")):
        value = question.findtext(child)
        if value is not None and not _valid(value.strip(), kind):
            problems.append(f"<{child}> {value!r} is not {kind}")
    problems += _subquestions(text)
    for child in ("questiontext", "generalfeedback"):
        element = question.find(child)
        if element is not None:
            problems += _files(element, child)
    return problems


def _valid(value: str, kind: str) -> bool:
    if kind == "0/1":
        return value in ("0", "1")
    return _PLAIN.fullmatch(value) is not None


def _subquestions(text: str) -> list[str]:
    """qtype_multianswer_extract_question, then qtype_multianswer_validate_question's
    rules for numerical answers, then what would be left over or misread."""
    problems = [
        f"the text has {m[0]!r}, which Moodle's renderer takes for sub-question {m[1]}"
        for m in cloze.PLACEHOLDER.finditer(text)
    ]
    subs, rest = cloze.extract(text)
    if not subs:
        problems.append("no cloze sub-question (Moodle: questionsmissing)")
    for k, sub in enumerate(subs, start=1):
        where = f"sub-question {k} {sub.source!r}"
        if sub.qtype != "numerical":
            problems.append(f"{where} is {sub.qtype}, not NUMERICAL")
            continue
        if not any(a.fraction == 1 for a in sub.alternatives):
            problems.append(f"{where}: no answer has full credit (Moodle: fractionsnomax)")
        for alt in sub.alternatives:
            answer = alt.answer.strip()
            if alt.centre is None and answer != "*":
                problems.append(
                    f"{where}: {answer!r} is not a number (Moodle: answermustbenumberorstar)"
                )
            elif alt.centre is not None and not all(_PLAIN.fullmatch(n) for n in answer.split(":")):
                problems.append(f"{where}: {answer!r} is not written with '.' and no exponent")
            if not 0 < alt.fraction <= 1:
                problems.append(f"{where}: credit {alt.fraction * 100}% is not in (0, 100]")
    for m in cloze.ANSWER_START.finditer(rest):
        snippet = rest[m.start() : m.start() + 40]
        problems.append(f"the text has {snippet!r}, a sub-question Moodle cannot parse")
    return problems


def _files(element: Element, child: str) -> list[str]:
    """Every @@PLUGINFILE@@ reference of the text has its <file> beside it and every
    <file> is referred to; each as import_files_as_draft reads it (path + name, base64)."""
    problems = []
    text = element.findtext("text") or ""
    referred = {"/" + unquote(r) for r in _REFERENCE.findall(text)}
    present = set()
    for file in element.findall("file"):
        name, path = file.get("name", ""), file.get("path", "/")
        if not name:
            problems.append(f"<{child}> has a <file> without a name")
            continue
        present.add(path + name)
        if file.get("encoding") != "base64":
            problems.append(f"<{child}> <file> {name!r}: encoding is not base64")
        try:
            base64.b64decode("".join((file.text or "").split()), validate=True)
        except (binascii.Error, ValueError):
            problems.append(f"<{child}> <file> {name!r} is not valid base64")
    for missing in sorted(referred - present):
        problems.append(f"<{child}> refers to @@PLUGINFILE@@{missing} but has no such <file>")
    for unused in sorted(present - referred):
        problems.append(f"<{child}> has <file> {unused[1:]!r}, which its text never refers to")
    return problems
