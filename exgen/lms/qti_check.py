"""A written QTI package checked as Canvas's importer will read it: what it needs to find
is there, and every number and file it refers to."""

from __future__ import annotations

import functools
import io
import re
import zipfile
from decimal import Decimal, InvalidOperation
from urllib.parse import unquote

from exgen.build.chunks import map_in_chunks
from exgen.lms.qti import CP_NS, FILEBASE, QTI_NS
from exgen.lms.xml_files import Unreadable, read_xml

# the question types of Canvas Classic Quizzes (its QTI exporter's question_type values)
CANVAS_TYPES = frozenset(
    (
        "multiple_choice_question",
        "true_false_question",
        "short_answer_question",
        "fill_in_multiple_blanks_question",
        "multiple_answers_question",
        "multiple_dropdowns_question",
        "matching_question",
        "numerical_question",
        "calculated_question",
        "essay_question",
        "file_upload_question",
        "text_only_question",
    )
)
_SRC = re.compile(r'src="([^"]*)"')


def check_qti_package(data: bytes) -> list[str]:
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        return [f"not a zip file: {exc}"]
    names = set(z.namelist())
    if "imsmanifest.xml" not in names:
        return ["imsmanifest.xml is missing"]
    try:
        manifest = read_xml(z.read("imsmanifest.xml"), "a QTI package")
    except Unreadable as exc:
        return [f"imsmanifest.xml does not parse: {exc}"]
    problems = []
    assessments, listed = [], set()
    for resource in manifest.iter(f"{{{CP_NS}}}resource"):
        files = [f.get("href", "") for f in resource.iter(f"{{{CP_NS}}}file")]
        listed.update(files)
        for href in files:
            if href not in names:
                problems.append(f"imsmanifest.xml lists {href}, which is not in the package")
        if resource.get("type") == "imsqti_xmlv1p2":
            assessments.extend(h for h in files if h in names)
    idents = {r.get("identifier") for r in manifest.iter(f"{{{CP_NS}}}resource")}
    for dependency in manifest.iter(f"{{{CP_NS}}}dependency"):
        if dependency.get("identifierref") not in idents:
            ref = dependency.get("identifierref")
            problems.append(f"imsmanifest.xml: a dependency on {ref}, which it does not list")
    # (the assessments are parsed below, once)
    quizzes = set(assessments)
    for name in sorted(n for n in listed & names if n.endswith(".xml") and n not in quizzes):
        try:
            read_xml(z.read(name), "a QTI package")
        except Unreadable as exc:
            problems.append(f"{name} does not parse: {exc}")
    for name in sorted(names - listed - {"imsmanifest.xml"}):
        problems.append(f"{name} is in the package but not in imsmanifest.xml")
    if not assessments:
        problems.append("imsmanifest.xml lists no imsqti_xmlv1p2 assessment")
    checked = map_in_chunks(  # a class's quizzes, on every core
        functools.partial(_assessments_problems, data, frozenset(names)), assessments, CHUNK
    )
    problems.extend(checked)
    return list(dict.fromkeys(problems))  # an assessment that does not parse: said once


CHUNK = 50  # quizzes a worker checks at a time


def _assessments_problems(data: bytes, names: frozenset[str], chunk: list[str]) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return [p for name in chunk for p in _assessment_problems(name, z.read(name), names)]


def _assessment_problems(name: str, data: bytes, names: set[str]) -> list[str]:
    try:
        root = read_xml(data, "a QTI package")
    except Unreadable as exc:
        return [f"{name} does not parse: {exc}"]
    if root.tag != _q("questestinterop"):
        return [f"{name}: the root is {root.tag}, not QTI 1.2 questestinterop"]
    assessment = root.find(_q("assessment"))
    if assessment is None:
        return [f"{name}: no assessment in questestinterop"]
    items = list(assessment.iter(_q("item")))
    if not assessment.findall(_q("section")) or not items:
        return [f"{name}: no section of items in the assessment"]
    problems = []
    for item in items:
        problems.extend(f"{name}: item {item.get('ident')}: {p}" for p in _item_problems(item))
        for text in item.iter(_q("mattext")):
            for src in _SRC.findall(text.text or ""):
                path = unquote(src.removeprefix(FILEBASE))
                if src.startswith(FILEBASE) and path not in names:
                    problems.append(f"{name}: item {item.get('ident')}: {path} is missing")
    return problems


def _item_problems(item) -> list[str]:
    fields = {
        f.findtext(_q("fieldlabel")): f.findtext(_q("fieldentry")) or ""
        for f in item.iter(_q("qtimetadatafield"))
    }
    kind = fields.get("question_type")
    if kind not in CANVAS_TYPES:
        return [f"question_type {kind!r} is not one Canvas knows"]
    problems = []
    try:
        Decimal(fields.get("points_possible", ""))
    except InvalidOperation:
        problems.append(f"points_possible {fields.get('points_possible')!r} is not a number")
    if kind != "numerical_question":
        return problems
    fib = item.find(f"{_q('presentation')}/{_q('response_str')}/{_q('render_fib')}")
    if fib is None:
        problems.append("no presentation/response_str/render_fib")
    processing = item.find(_q("resprocessing"))
    bounds = [] if processing is None else list(processing.iter(_q("vargte")))
    bounds += [] if processing is None else list(processing.iter(_q("varlte")))
    if len(bounds) < 2:
        problems.append("no vargte/varlte range in resprocessing")
    values = []
    for bound in bounds:
        try:
            values.append(Decimal(bound.text or ""))
        except InvalidOperation:
            problems.append(f"{bound.tag.split('}')[1]} {bound.text!r} is not a number")
    if len(values) == len(bounds) == 2 and values[0] > values[1]:
        problems.append(f"the range {values[0]} to {values[1]} is empty")
    return problems


def _q(tag: str) -> str:
    return f"{{{QTI_NS}}}{tag}"
