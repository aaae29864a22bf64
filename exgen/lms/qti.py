"""A class's questions as a QTI 1.2 package for Canvas Classic Quizzes.

Canvas cannot give each student only their own variant inside one quiz, so the package
holds one assessment (one Canvas quiz) per student variant, one section per exercise and
one ``numerical_question`` item per collected number (a Classic numerical question takes
one number). The layout mirrors what gpoore/text2qti writes and Canvas imports
(text2qti/xml_imsmanifest.py, xml_assessment.py, markdown.py's Image paths): an IMS CP
``imsmanifest.xml`` with each assessment as an ``imsqti_xmlv1p2`` resource at
``<ident>/<ident>.xml`` and each image as ``webcontent``, and images referred to from the
HTML through ``$IMS-CC-FILEBASE$`` (URL-escaped), which Canvas's importer turns into the
course's files; and each quiz's Canvas settings in ``<ident>/assessment_meta.xml``
(text2qti/xml_assessment_meta.py), a dependency of its assessment."""

from __future__ import annotations

import functools
import hashlib
import html
import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import replace
from fractions import Fraction

from exgen.build.chunks import map_in_chunks
from exgen.engine.rounding import parse_shown
from exgen.errors import ExportError
from exgen.lms.questions import FILES, VARIANT_LINE, ClassQuestions, Question, Slot
from exgen.lms.xml_files import Element, SubElement, element, xml_bytes

QTI_NS = "http://www.imsglobal.org/xsd/ims_qtiasiv1p2"
CP_NS = "http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1"
CANVAS_NS = "http://canvas.instructure.com/xsd/cccv1p0"
META_TYPE = "associatedcontent/imscc_xmlv1p1/learning-application-resource"
# Canvas's importer resolves this prefix to the package's root in the course's files
FILEBASE = "%24IMS-CC-FILEBASE%24/"
SLOT_LINE = "Answer {k} of {n}"
_STAMP = (1980, 1, 1, 0, 0, 0)  # every zip member's time: the same package every build


def canvas_mangles(slot: Slot) -> str | None:
    """Why Canvas Classic would not keep this slot's answer as it is, or None. Canvas
    stores a numeric answer with at most 4 decimals (below 10⁻⁴ it becomes 0), so every
    bound of the range, and the key's value, must be a multiple of 10⁻⁴. Trailing zeros
    are harmless: a range answer compares numbers, not strings."""
    value, _ = parse_shown(slot.shown)
    bounds = [("the lowest right answer", slot.right[0])]
    bounds += [("the highest right answer", slot.right[1]), ("the key's value", value)]
    for what, x in bounds:  # in integers: a class has tens of thousands of these
        n, d = abs(x.numerator), x.denominator
        if n and n * 10**4 < d:
            return f"{what}, {_plain(x)}, is below 0.0001 (Canvas would keep 0)"
        if n * 10**4 % d:
            return f"{what}, {_plain(x)}, needs more than 4 decimal places"
    return None


def refuse_mangled(cq: ClassQuestions) -> None:
    """ExportError for the first slot Canvas would mangle: exercise, variant, column."""
    for questions in cq.variants:
        for q in questions:
            for slot in q.slots:
                reason = canvas_mangles(slot)
                if reason:
                    raise ExportError(
                        f"{cq.sheet}: exercise {q.exercise}, variant {q.code}, column "
                        f"{slot.column!r}: Canvas keeps at most 4 decimals of a numeric "
                        f"answer and {reason}; scale the answer in the definition (e.g. "
                        f"`scale: {{grad.W1: 3}}` in the exercise asks for ∂L/∂W1 × 10³)"
                    )


def qti_package(cq: ClassQuestions) -> bytes:
    if not cq.exercises:
        raise ExportError(f"{cq.sheet}: no exercise collects numbers: nothing for a quiz")
    refuse_mangled(cq)
    members: dict[str, bytes] = {}
    resources = []
    students: dict[str, str] = {}
    for questions in cq.variants:
        code, student = questions[0].code, questions[0].student.id
        if students.setdefault(code, student) != student:  # one quiz, one file per code
            raise ExportError(
                f"{cq.sheet}: students {students[code]} and {student} share the variant "
                f"code {code}: build the class with another secret (--seed)"
            )
    # each variant's quiz written on every core (tens of thousands of items for a class)
    header = replace(cq, variants=())
    for ident, files, images in map_in_chunks(
        functools.partial(_variant_members, header), cq.variants, CHUNK
    ):
        members.update(files)
        resources.append((ident, images))
    members["imsmanifest.xml"] = xml_bytes(_manifest(cq, resources))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name in sorted(members):
            info = zipfile.ZipInfo(name, _STAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, members[name])
    return out.getvalue()


CHUNK = 50  # variants a worker writes at a time


def _variant_members(
    header: ClassQuestions, variants: Sequence[tuple[Question, ...]]
) -> list[tuple[str, dict[str, bytes], list[str]]]:
    """Each variant's quiz: its ident, its files in the package, its images' paths."""
    out = []
    for questions in variants:
        ident = assessment_ident(header.sheet, questions[0].code)
        images = {}
        for q in questions:
            for name, data in q.files.items():
                images[image_path(name, data)] = data  # the variants' one figure: one file
        files = {
            f"{ident}/{ident}.xml": xml_bytes(_assessment(header, ident, questions)),
            f"{ident}/assessment_meta.xml": xml_bytes(_quiz_meta(header, ident, questions)),
            **images,
        }
        out.append((ident, files, sorted(images)))
    return out


def image_path(name: str, data: bytes) -> str:
    """Where a question's file goes in the package: by its content, so that a figure
    every variant shares is one file."""
    return f"images/{hashlib.sha256(data).hexdigest()[:12]}/{name}"


def assessment_ident(sheet: str, code: str) -> str:
    return "exgen-" + re.sub(r"[^A-Za-z0-9_-]", "_", sheet) + "-" + code


def quiz_title(cq: ClassQuestions, q: Question) -> str:
    who = " ".join(p for p in (q.student.id, q.student.name) if p)
    return f"{cq.title} — variant {q.code} — {who}"


def item_line(q: Question, k: int) -> str:
    """The line every item's text starts with: the variant and the slot. Canvas's
    Student Analysis report heads each column with the item's text as plain text, which
    is how responses find (exercise, code, slot) again; first, in case it is cut short."""
    slot = q.slots[k]
    return (
        html.escape(VARIANT_LINE.format(code=q.code, exercise=q.exercise))
        + " — "
        + SLOT_LINE.format(k=k + 1, n=len(q.slots))
        + f": \\({html.escape(slot.label, quote=False)}\\) (column {html.escape(slot.column)})"
    )


def _assessment(cq: ClassQuestions, ident: str, questions: tuple[Question, ...]) -> Element:
    root = element(f"{{{QTI_NS}}}questestinterop", namespace=QTI_NS)
    assessment = _sub(root, "assessment", ident=ident, title=quiz_title(cq, questions[0]))
    _metadata(assessment, [("cc_maxattempts", "1")])
    # one section per exercise inside Canvas's root_section, as Canvas exports a quiz;
    # its importer (qti/assessment_test_converter.rb, process_section) walks nested
    # sections and makes a question group only of one with a selection: none here
    top = _sub(assessment, "section", ident="root_section")
    for q in questions:
        section = _sub(top, "section", ident=f"{ident}-{q.exercise}", title=q.title)
        for k in range(len(q.slots)):
            _item(section, ident, q, k)
    return root


def _item(section: Element, ident: str, q: Question, k: int) -> None:
    slot = q.slots[k]
    item_id = f"{ident}-{q.exercise}-{k + 1}"
    item = _sub(section, "item", ident=item_id, title=f"{q.name} {k + 1}")
    meta = _sub(item, "itemmetadata")
    _metadata(
        meta,
        [
            ("question_type", "numerical_question"),
            ("points_possible", _points(slot.points)),
            ("original_answer_ids", f"{item_id}-right"),
            ("assessment_question_identifierref", f"{item_id}-ref"),
        ],
    )
    text = f"<p>{item_line(q, k)}</p>"
    if k == 0:
        text += "\n" + q.text
        for name, data in q.files.items():
            text = text.replace(FILES + name, FILEBASE + image_path(name, data))
    presentation = _sub(item, "presentation")
    _mattext(_sub(presentation, "material"), text)
    response = _sub(presentation, "response_str", ident="response1", rcardinality="Single")
    _sub(_sub(response, "render_fib", fibtype="Decimal"), "response_label", ident="answer1")
    processing = _sub(item, "resprocessing")
    _sub(
        _sub(processing, "outcomes"),
        "decvar",
        maxvalue="100",
        minvalue="0",
        varname="SCORE",
        vartype="Decimal",
    )
    last = k == len(q.slots) - 1
    if last:  # the worked key, shown whatever was answered
        general = _sub(processing, "respcondition", attrib={"continue": "Yes"})
        _sub(_sub(general, "conditionvar"), "other")
        _sub(general, "displayfeedback", feedbacktype="Response", linkrefid="general_fb")
    # Only the right range: Canvas's importer (qti/numeric_interaction.rb) gives every
    # range answer of a numerical question weight 100, so a partial-credit range for
    # `close` would import as fully right. exgen's own grading of the responses gives it.
    right = _sub(processing, "respcondition", attrib={"continue": "No"})
    condition = _sub(right, "conditionvar")
    _sub(condition, "vargte", respident="response1").text = _plain(slot.right[0])
    _sub(condition, "varlte", respident="response1").text = _plain(slot.right[1])
    _sub(right, "setvar", action="Set", varname="SCORE").text = "100"
    if last:
        feedback = _sub(item, "itemfeedback", ident="general_fb")
        _mattext(_sub(_sub(feedback, "flow_mat"), "material"), q.feedback)


def _manifest(cq: ClassQuestions, resources: list[tuple[str, list[str]]]) -> Element:
    root = element(f"{{{CP_NS}}}manifest", {"identifier": f"exgen-{cq.sheet}-manifest"}, CP_NS)
    metadata = SubElement(root, f"{{{CP_NS}}}metadata")
    SubElement(metadata, f"{{{CP_NS}}}schema").text = "IMS Content"
    SubElement(metadata, f"{{{CP_NS}}}schemaversion").text = "1.1.3"
    SubElement(root, f"{{{CP_NS}}}organizations")
    listed = SubElement(root, f"{{{CP_NS}}}resources")
    listed_images: set[str] = set()
    for ident, images in resources:
        resource = SubElement(
            listed, f"{{{CP_NS}}}resource", identifier=ident, type="imsqti_xmlv1p2"
        )
        SubElement(resource, f"{{{CP_NS}}}file", href=f"{ident}/{ident}.xml")
        SubElement(resource, f"{{{CP_NS}}}dependency", identifierref=f"{ident}-meta")
        meta = f"{ident}/assessment_meta.xml"
        settings = SubElement(
            listed, f"{{{CP_NS}}}resource", identifier=f"{ident}-meta", type=META_TYPE, href=meta
        )
        SubElement(settings, f"{{{CP_NS}}}file", href=meta)
        for path in images:
            if path in listed_images:  # a figure the variants share: listed once
                continue
            listed_images.add(path)
            image = SubElement(
                listed,
                f"{{{CP_NS}}}resource",
                identifier="image-" + re.sub(r"[^A-Za-z0-9_-]", "_", path.removeprefix("images/")),
                type="webcontent",
                href=path,
            )
            SubElement(image, f"{{{CP_NS}}}file", href=path)
    return root


def _quiz_meta(cq: ClassQuestions, ident: str, questions: tuple[Question, ...]) -> Element:
    """Canvas's own settings of the quiz, as text2qti's assessment_meta.xml gives them:
    without them Canvas imports a practice quiz, which the gradebook leaves out. One
    attempt, unpublished: the instructor assigns it to its student and publishes it."""
    title = quiz_title(cq, questions[0])
    points = _points(sum((q.points for q in questions), Fraction(0)))
    root = element(f"{{{CANVAS_NS}}}quiz", {"identifier": ident}, CANVAS_NS)
    fields = [
        ("title", title),
        ("description", ""),
        ("shuffle_answers", "false"),
        ("scoring_policy", "keep_latest"),
        ("quiz_type", "assignment"),
        ("points_possible", points),
        ("show_correct_answers", "true"),
        ("allowed_attempts", "1"),
        ("one_question_at_a_time", "false"),
        ("cant_go_back", "false"),
        ("available", "false"),
    ]
    for tag, text in fields:
        SubElement(root, f"{{{CANVAS_NS}}}{tag}").text = text
    assignment = SubElement(root, f"{{{CANVAS_NS}}}assignment", identifier=f"{ident}-assignment")
    for tag, text in [
        ("title", title),
        ("workflow_state", "unpublished"),
        ("quiz_identifierref", ident),
        ("points_possible", points),
        ("grading_type", "points"),
        ("submission_types", "online_quiz"),
    ]:
        SubElement(assignment, f"{{{CANVAS_NS}}}{tag}").text = text
    return root


def _sub(parent: Element, tag: str, attrib: dict | None = None, **more) -> Element:
    return SubElement(parent, _qti(tag), attrib, **more)


@functools.cache
def _qti(tag: str) -> str:
    return f"{{{QTI_NS}}}{tag}"


def _metadata(parent: Element, fields: list[tuple[str, str]]) -> None:
    metadata = _sub(parent, "qtimetadata")
    for label, entry in fields:
        field = _sub(metadata, "qtimetadatafield")
        _sub(field, "fieldlabel").text = label
        _sub(field, "fieldentry").text = entry


def _mattext(material: Element, text: str) -> None:
    _sub(material, "mattext", texttype="text/html").text = text


def _plain(x: Fraction) -> str:
    """x in decimal notation, exactly (callers have checked it has ≤ 4 decimals)."""
    sign = "-" if x < 0 else ""
    x = abs(x)
    whole, rest = divmod(x.numerator, x.denominator)
    if not rest:
        return f"{sign}{whole}"
    digits = ""
    while rest and len(digits) < 12:
        rest *= 10
        digit, rest = divmod(rest, x.denominator)
        digits += str(digit)
    return f"{sign}{whole}.{digits}"


def _points(points: Fraction) -> str:
    """A slot's share of its exercise's points, as the float Canvas stores."""
    return repr(round(float(points), 6))
