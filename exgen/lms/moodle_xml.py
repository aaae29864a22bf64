"""A class's questions as Moodle XML: one category per exercise, then one cloze question
per student's variant, each answer slot a NUMERICAL sub-question with the policy's
intervals. The layout follows what Moodle's own exporter writes
(question/format/xml/format.php, ``qformat_xml::writequestion``) and its importer reads
(``import_category``, ``import_multianswer``, ``import_text_with_files``)."""

from __future__ import annotations

import base64
import html

from exgen.lms import cloze
from exgen.lms.questions import FILES, ClassQuestions, Question, boxes_html
from exgen.lms.xml_files import Element, SubElement, element, xml_bytes

PLUGINFILE = "@@PLUGINFILE@@/"
# Moodle's default penalty for each wrong try in interactive mode (qformat_default)
PENALTY = "0.3333333"


def moodle_xml(cq: ClassQuestions) -> bytes:
    quiz = element("quiz")
    for k, exercise in enumerate(cq.exercises):
        _category(quiz, cq, exercise.id, exercise.title)
        for questions in cq.variants:
            _cloze(quiz, cq.sheet, questions[k])
    return xml_bytes(quiz)


def category_path(sheet: str, exercise: str, title: str) -> str:
    # a '/' inside a name is written '//' (qformat_default::split_category_path)
    names = ["$course$", "top", "exgen", sheet, f"{exercise} {title}"]
    return "/".join(n.replace("/", "//") for n in names)


def _category(quiz: Element, cq: ClassQuestions, exercise: str, title: str) -> None:
    question = SubElement(quiz, "question", type="category")
    _text(SubElement(question, "category"), category_path(cq.sheet, exercise, title))
    info = SubElement(question, "info", format="html")
    _text(
        info,
        f"<p>{html.escape(cq.title)}: the variants of exercise {html.escape(exercise)}, "
        "one cloze question per student, made by exgen.</p>",
    )


def question_text(question: Question) -> str:
    """The question's text and answer boxes, each slot a cloze sub-question; the text
    itself escaped so that Moodle finds no sub-question in it but ours."""
    marks = cloze.weights(question.slots)
    # a placeholder Moodle and TeX never write, replaced after the text is escaped
    boxes = boxes_html(question, lambda k: f"\x00{k}\x00")
    text = cloze.escape_text(question.text + "\n" + boxes)
    parts = text.split("\x00")
    for i in range(1, len(parts), 2):
        k = int(parts[i])
        parts[i] = cloze.numerical(question.slots[k], marks[k])
    return "".join(parts).replace(FILES, PLUGINFILE)


def _cloze(quiz: Element, sheet: str, question: Question) -> None:
    element = SubElement(quiz, "question", type="cloze")
    _text(SubElement(element, "name"), question.name)
    text = SubElement(element, "questiontext", format="html")
    _text(text, question_text(question))
    for name in sorted(question.files):
        file = SubElement(text, "file", name=name, path="/", encoding="base64")
        file.text = base64.b64encode(question.files[name]).decode("ascii")
    _text(SubElement(element, "generalfeedback", format="html"), question.feedback)
    # import_multianswer takes the mark from the sub-questions' weights and ignores this:
    # written as that sum, so that the file says what Moodle will make of it
    SubElement(element, "defaultgrade").text = str(sum(cloze.weights(question.slots)))
    SubElement(element, "penalty").text = PENALTY
    SubElement(element, "hidden").text = "0"
    SubElement(element, "idnumber").text = f"{sheet}-{question.exercise}-{question.code}"


def _text(parent: Element, content: str) -> None:
    SubElement(parent, "text").text = content
