"""XML for the platforms, written and read back with lxml (C speed: a class of 500
variants is tens of megabytes of XML). Reading never resolves an entity, loads a DTD or
reaches the network; a file that declares one is refused unread (the platforms' formats
have none, and entities are how XML bombs work)."""

from __future__ import annotations

from lxml import etree

Element = etree._Element
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)
DECLARES_DTD = "the file has a DOCTYPE or ENTITY declaration, which {what} never has"


class Unreadable(ValueError):
    """Why an XML file cannot be read: its message is for a problems list."""


def read_xml(data: bytes, what: str) -> Element:
    """The root element of ``data``; Unreadable with the reason (``what``: the format,
    for the message)."""
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise Unreadable(DECLARES_DTD.format(what=what))
    try:
        return etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        last = exc.error_log.last_error
        where = f"line {last.line}, column {last.column}: " if last else ""
        raise Unreadable(where + (last.message if last else str(exc))) from None


def xml_bytes(root: Element) -> bytes:
    """``root`` as a UTF-8 file, indented by two spaces, with its declaration."""
    etree.indent(root, space="  ")
    return etree.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def element(tag: str, attrib: dict | None = None, namespace: str | None = None) -> Element:
    """A root element, its namespace (if any) the default one of the file."""
    return etree.Element(tag, attrib or {}, nsmap={None: namespace} if namespace else None)


SubElement = etree.SubElement
