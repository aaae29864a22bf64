"""The graders' booklet: every student's key.pdf, one after another, in one PDF written
as it is read — one key open at a time. qpdf (pikepdf) joins PDFs by holding every page's
objects in memory, about 5 MiB per sheet9 key (4,000 small objects), which a class of a
thousand does not fit; here pikepdf only reads each key, and its objects are renumbered
and written out straight away, so memory does not grow with the class."""

from __future__ import annotations

import hashlib
from array import array
from collections import deque
from decimal import Decimal
from pathlib import Path

from exgen import __version__

TITLE = "Solution keys"
_CATALOG, _PAGES, _INFO = 1, 2, 3  # the booklet's own objects; the keys' come after
_INHERITED = ("/Resources", "/MediaBox", "/CropBox", "/Rotate")  # from a page's parents


def write_booklet(keys: list[Path], target: Path) -> None:
    """All ``keys`` in one PDF at ``target``, in the order given; each key starts on a
    new page. The same keys give the same bytes."""
    import pikepdf  # reads each key; the writing is plain PDF syntax

    with open(target, "wb") as out:
        writer = _Writer(out)
        kids = []
        for path in keys:
            with pikepdf.Pdf.open(path, access_mode=pikepdf.AccessMode.stream) as key:
                kids += _copy_key(key, writer, pikepdf)
        writer.object(
            _PAGES,
            b"<</Type/Pages/Count %d/Kids[%s]>>"
            % (len(kids), b" ".join(b"%d 0 R" % k for k in kids)),
        )
        writer.object(_CATALOG, b"<</Type/Catalog/Pages %d 0 R>>" % _PAGES)
        writer.object(
            _INFO,
            b"<</Title(%s)/Producer(%s)>>" % (TITLE.encode(), f"exgen {__version__}".encode()),
        )
        writer.finish()


class _Writer:
    """Objects to a PDF file as they come; the cross-reference table at the end."""

    def __init__(self, out):
        # every object's offset, 8 bytes each: a class has millions of small objects
        self.out, self.offsets, self.next = out, array("q", [-1] * (_INFO + 1)), _INFO + 1
        self.digest = hashlib.md5(usedforsecurity=False)
        self._write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")

    def _write(self, data: bytes) -> None:
        self.out.write(data)
        self.digest.update(data)

    def number(self) -> int:
        self.next += 1
        self.offsets.append(-1)
        return self.next - 1

    def object(self, number: int, body: bytes, stream: bytes | None = None) -> None:
        self.offsets[number] = self.out.tell()
        self._write(b"%d 0 obj\n" % number + body)
        if stream is not None:
            self._write(b"\nstream\n" + stream + b"\nendstream")
        self._write(b"\nendobj\n")

    def finish(self) -> None:
        start, size = self.out.tell(), len(self.offsets)
        self._write(b"xref\n0 %d\n" % size)
        for first in range(0, size, 4096):  # in blocks: the table is as long as the class
            self._write(
                b"".join(
                    b"%010d 00000 n \n" % at if at >= 0 else b"0000000000 65535 f \n"
                    for at in self.offsets[first : first + 4096]
                )
            )
        file_id = self.digest.hexdigest().encode()  # deterministic: from the contents
        self._write(
            b"trailer\n<</Size %d/Root %d 0 R/Info %d 0 R/ID[<%s><%s>]>>\nstartxref\n%d\n%%%%EOF\n"
            % (size, _CATALOG, _INFO, file_id, file_id, start)
        )


def _copy_key(key, writer: _Writer, pikepdf) -> list[int]:
    """Write the objects ``key``'s pages need; the new numbers of its pages."""
    numbers: dict[tuple[int, int], int] = {}
    waiting: deque = deque()

    def ref(obj) -> bytes:
        if (
            isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == "/Pages"
        ):  # a key's own page tree: the booklet's instead
            return b"%d 0 R" % _PAGES
        if obj.objgen not in numbers:
            numbers[obj.objgen] = writer.number()
            waiting.append(obj)
        return b"%d 0 R" % numbers[obj.objgen]

    def value(obj, top: bool = False) -> bytes:
        if isinstance(obj, bool):
            return b"true" if obj else b"false"
        if isinstance(obj, int):
            return b"%d" % obj
        if isinstance(obj, Decimal):
            return format(obj, "f").encode()
        if obj is None:
            return b"null"
        if not top and obj.is_indirect:
            return ref(obj)
        stream = isinstance(obj, pikepdf.Stream)
        if stream or isinstance(obj, pikepdf.Dictionary):
            items = obj.stream_dict.items() if stream else obj.items()
            return b"<<%s>>" % b"".join(
                pikepdf.Name(k).unparse() + b" " + value(v)
                for k, v in items
                if not (stream and k == "/Length")
            )
        if isinstance(obj, pikepdf.Array):
            return b"[%s]" % b" ".join(value(v) for v in obj)
        return obj.unparse()  # a name, a string, a real number

    objects = [page.obj for page in key.pages]
    pages = [writer.number() for _ in objects]  # first: other objects point at pages
    numbers.update((page.objgen, n) for page, n in zip(objects, pages))
    for page, number in zip(objects, pages):
        body = {k: v for k, v in page.items() if k != "/Parent"}
        parent = page.get("/Parent")
        for name in _INHERITED:
            while name not in body and parent is not None:
                if name in parent:
                    body[name] = parent[name]
                parent = parent.get("/Parent")
            parent = page.get("/Parent")
        writer.object(
            number,
            b"<<%s/Parent %d 0 R>>"
            % (
                b"".join(pikepdf.Name(k).unparse() + b" " + value(v) for k, v in body.items()),
                _PAGES,
            ),
        )
    while waiting:
        obj = waiting.popleft()
        if isinstance(obj, pikepdf.Stream):
            raw = obj.read_raw_bytes()
            body = value(obj, top=True)[:-2] + b"/Length %d>>" % len(raw)
            writer.object(numbers[obj.objgen], body, raw)
        else:
            writer.object(numbers[obj.objgen], value(obj, top=True))
    return pages
