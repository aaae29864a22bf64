"""Where a sheet's own templates run: Jinja's immutable sandbox (with operators that could
make huge values bounded), a loader that reads only regular UTF-8 files inside the sheet's
templates folder, a checked style sheet, a check that the documents made run and fetch
nothing, and one mapping from anything a template can do wrong to a TemplateProblem naming
the file and line. Nothing in a definition is ever executed; that holds for its templates."""

from __future__ import annotations

import functools
import operator
import os
import re
from html.parser import HTMLParser
from pathlib import Path
from types import TracebackType

import tinycss2
from jinja2 import BaseLoader, TemplateError, TemplateNotFound, TemplateSyntaxError
from jinja2.exceptions import SecurityError
from jinja2.loaders import split_template_path
from jinja2.sandbox import ImmutableSandboxedEnvironment

from exgen.errors import TemplateProblem
from exgen.typeset.local_files import FileRefused, decoded, read_inside

MAX_TEMPLATE_BYTES = 1_000_000
MAX_POWER = 1_000  # largest exponent `**` takes (10 ** 10 ** 9 would run for hours)
MAX_SIZE = 1_000_000  # longest string or list one operation may make
# Functions whose string argument is a URL (a bare url(...) is a URL token of its own).
URL_FUNCTIONS = {"url", "src", "image", "image-set", "-webkit-image-set", "cross-fade"}


class SheetSandbox(ImmutableSandboxedEnvironment):
    """Jinja's sandbox keeps Python out of reach: no attribute starting with `_`, no
    changing lists or dicts. On top, what makes one huge value out of small ones (`**`,
    `*`, `%`, str.format, the padding and replacing methods and filters) is bounded, so
    that a single expression cannot take gigabytes. (Nested loops can still run long.)"""

    intercepted_binops = frozenset(["**", "*", "%"])

    def __init__(self, **options):
        super().__init__(**options)
        for name in SIZED:
            if name in self.filters:
                self.filters[name] = _bounded(name, self.filters[name])

    def call_binop(self, context, op: str, left, right):
        if (
            op == "**"
            and _number(left)
            and _number(right)
            and abs(right) > MAX_POWER
            and abs(left) not in (0, 1)
        ):
            raise SecurityError(f"exponent {right} is larger than {MAX_POWER}")
        if (op == "*" and _number(right) and hasattr(left, "__len__")) or (
            op == "*" and _number(left) and hasattr(right, "__len__")
        ):
            size, times = (len(left), right) if _number(right) else (len(right), left)
            if size * times > MAX_SIZE:
                raise SecurityError(
                    f"repetition would make {size * times:,} items (at most {MAX_SIZE:,})"
                )
        if op == "%" and isinstance(left, str):
            _check_size("%", [left, *(right if isinstance(right, tuple) else (right,))])
        return {"**": operator.pow, "*": operator.mul, "%": operator.mod}[op](left, right)

    def call(self, context, obj, *args, **kwargs):
        owner = getattr(obj, "__self__", None)
        if isinstance(owner, str) and getattr(obj, "__name__", "") in SIZED:
            _check_size(obj.__name__, [owner, *args, *kwargs.values()])
        return super().call(context, obj, *args, **kwargs)

    def wrap_str_format(self, value):
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None

        def bounded_format(*args, **kwargs):
            _check_size("format", [value.__self__, *args, *kwargs.values()])
            return wrapped(*args, **kwargs)

        return bounded_format


# Methods and filters whose result can be far larger than their arguments.
SIZED = {
    "center",
    "ljust",
    "rjust",
    "zfill",
    "expandtabs",
    "indent",
    "replace",
    "format",
    "format_map",
}
WIDTH = re.compile(r"%[-#0 +]*\d{7,}|\{[^{}]*:[^{}]*\d{7,}")


def _bounded(name: str, function):
    @functools.wraps(function)  # keeps Jinja's pass_eval_context marker
    def bounded(*args, **kwargs):
        _check_size(name, [*args, *kwargs.values()])
        return function(*args, **kwargs)

    return bounded


def _check_size(name: str, args: list) -> None:
    big = [a for a in args if _number(a) and abs(a) > MAX_SIZE]
    if big:
        raise SecurityError(
            f"{name} with {big[0]:,} would make a huge value (at most {MAX_SIZE:,})"
        )
    texts = [a for a in args if isinstance(a, str)]
    if name in ("%", "format", "format_map") and texts and WIDTH.search(texts[0]):
        raise SecurityError(
            f"format width {WIDTH.search(texts[0]).group(0)!r} is too large (at most {MAX_SIZE:,})"
        )
    if (
        name == "replace"
        and len(texts) >= 3
        and len(texts[0]) * max(1, len(texts[2])) > 10 * MAX_SIZE
    ):
        raise SecurityError(
            f"replace would make a value of up to {len(texts[0]) * len(texts[2]):,} characters"
        )


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class SheetTemplates(BaseLoader):
    """A sheet's own templates: regular UTF-8 files inside its templates folder."""

    def __init__(self, folder: str):
        self.folder = Path(folder)

    def get_source(self, environment, template: str):
        pieces = split_template_path(template)  # refuses '..'
        path = self.folder.joinpath(*pieces)
        try:
            source = decoded(read_inside(self.folder, Path(*pieces), MAX_TEMPLATE_BYTES))
        except FileNotFoundError:
            raise TemplateNotFound(template) from None
        except FileRefused as exc:
            raise TemplateProblem(exc.about(shown(str(path)))) from None
        mtime = _mtime(path)
        return source, str(path), lambda: _mtime(path) == mtime

    def list_templates(self) -> list[str]:
        return []  # exgen asks for the names it uses, never for all the folder holds


def _mtime(path: Path):
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None


def shown(filename: str) -> str:
    """A template's file as the user knows it: relative to the working folder if inside it."""
    try:
        relative = os.path.relpath(filename)
    except ValueError:
        return filename
    return filename if relative.startswith("..") else relative


def problem(exc: Exception, custom: str | None, default: Path) -> TemplateProblem | None:
    """The TemplateProblem for an error raised while rendering, or None for an error in
    exgen's own code (a bug, which should show as one). Errors in templates: Jinja's own,
    endless recursion, and any error raised inside one of the sheet's own templates."""
    folders = [Path(default)] + ([Path(custom)] if custom else [])
    where = _innermost_template(exc.__traceback__, folders)
    if isinstance(exc, TemplateSyntaxError) and exc.filename:
        where = (exc.filename, exc.lineno)
    ours = where is not None and custom is not None and Path(where[0]).is_relative_to(custom)
    if not (isinstance(exc, TemplateError) or ours or (isinstance(exc, RecursionError) and where)):
        return None
    if isinstance(exc, RecursionError):
        what = "a template includes, imports or extends itself (endless recursion)"
    elif isinstance(exc, TemplateNotFound):
        what = f"no template named {exc.name!r}"
    elif isinstance(exc, SecurityError):
        what = f"not allowed in a sheet template: {exc.message}"
    elif isinstance(exc, TemplateError):
        what = exc.message or str(exc)
    else:
        what = f"{exc} ({type(exc).__name__})"
    if where is None:
        place = "a template"
    else:
        place = shown(where[0]) + (f":{where[1]}" if where[1] else "")
    return TemplateProblem(f"{place}: {what}")


def _innermost_template(tb: TracebackType | None, folders: list[Path]):
    """(file, line) of the innermost template frame, or None: Jinja rewrites the traceback
    so that template code shows its own file and line."""
    found = None
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if any(Path(name).is_relative_to(f) for f in folders):
            found = (name, tb.tb_lineno)
        tb = tb.tb_next
    return found


def style_sheet(folder: str, name: str = "style.css") -> str | None:
    """The sheet's own style sheet, checked, or None when its folder has none."""
    path = str(Path(folder) / name)
    try:
        text = decoded(read_inside(Path(folder), name, MAX_TEMPLATE_BYTES))
    except FileNotFoundError:
        return None
    except FileRefused as exc:
        raise TemplateProblem(exc.about(shown(path))) from None
    check_style(text, shown(path))
    return text


def check_style(text: str, shown_as: str) -> None:
    """A style sheet goes inside a <style> element: it must not end the element (no `<`
    at all) nor fetch anything (no @import, no URL but data: URIs)."""
    found = style_problem(text)
    if found:
        raise TemplateProblem(f"{shown_as}:{found[0]}: {found[1]}")


@functools.lru_cache(maxsize=64)  # a class build checks the same <style> for every student
def style_problem(text: str) -> tuple[int, str] | None:
    """(line, what) of the first thing a style sheet may not hold, or None. tinycss2 reads
    it token by token as a browser would, so CSS escapes (`u\\72l(`), comments and broken
    rules hide nothing."""
    if "<" in text:
        return (
            text.count("\n", 0, text.index("<")) + 1,
            f"a style sheet may not contain '<' (it would end the <style> element: "
            f"found {_around(text, text.index('<'))!r})",
        )
    for node, url in _urls(tinycss2.parse_component_value_list(text, skip_comments=True)):
        if url is None:
            return (
                node.source_line,
                "@import is not allowed (exgen fetches no other style sheet; copy its rules in)",
            )
        if not url.strip().lower().startswith("data:"):
            return (
                node.source_line,
                f"url({url!r}) is not allowed: a style sheet may only "
                f"use data: URIs (exgen fetches nothing)",
            )
    return None


def _urls(nodes):
    """(node, URL) for every URL in the nodes, (node, None) for an @import."""
    for node in nodes:
        kind = getattr(node, "type", "")
        if kind == "at-keyword" and node.lower_value == "import":
            yield node, None
        elif kind == "url":
            yield node, node.value
        elif kind == "function" and node.lower_name in URL_FUNCTIONS:
            yield from ((node, arg.value) for arg in node.arguments if arg.type == "string")
        for part in ("content", "arguments"):  # blocks and functions
            children = getattr(node, part, None)
            if isinstance(children, list):
                yield from _urls(children)


# Elements that run code or fetch by themselves, in a students' browser or in WeasyPrint.
ACTIVE_ELEMENTS = {
    "script",
    "iframe",
    "frame",
    "frameset",
    "object",
    "embed",
    "applet",
    "base",
    "link",
    "form",
    "portal",
    "noscript",
    "template",
    "svg:script",
}
# Attributes whose URL a browser fetches (an <a>/<area> href is only followed when clicked).
FETCHED = {
    "src",
    "href",
    "poster",
    "background",
    "action",
    "formaction",
    "data",
    "xlink:href",
    "lowsrc",
    "dynsrc",
    "manifest",
    "codebase",
}
NEVER = {"srcset", "ping"}  # lists of URLs: src and a data: URI do (a srcset of one data:
# URI, as the network figure's narrow variant, is allowed below)
LINKS = {"a", "area"}


def check_document(html: str, shown_as: str) -> None:
    """A document made with a sheet's own templates may show anything, but neither run
    code nor fetch: no script or other active element, no on… handler, no URL but data:
    URIs and #anchors (links to click excepted), style checked as style.css is."""
    scanner = _Scanner(shown_as)
    scanner.feed(html)
    scanner.close()


class _Scanner(HTMLParser):
    def __init__(self, shown_as: str):
        super().__init__(convert_charrefs=True)
        self.shown_as = shown_as
        self.in_style = False

    def refuse(self, what: str, line_offset: int = 0):
        line = self.getpos()[0] + line_offset
        raise TemplateProblem(f"{self.shown_as} as rendered, line {line}: {what}")

    def handle_starttag(self, tag, attrs):
        if tag in ACTIVE_ELEMENTS or (tag == "meta" and any(n == "http-equiv" for n, _ in attrs)):
            self.refuse(f"<{tag}> is not allowed: a sheet runs no code and fetches nothing")
        for name, value in attrs:
            value = (value or "").strip()
            if name.startswith("on"):
                self.refuse(f"the attribute {name} is not allowed: a sheet runs no code")
            elif name == "style" and style_problem(value):
                self.refuse(style_problem(value)[1])
            elif name == "href" and tag in LINKS:
                if re.match(r"(?i)(javascript|vbscript|data):", value):
                    self.refuse(f"the link {value[:40]!r} is not allowed: a sheet runs no code")
            elif name == "srcset" and re.fullmatch(r"(?i)data:\S+", value):
                pass  # one data: URI, fetching nothing
            elif name in NEVER or (
                name in FETCHED and not value.lower().startswith(("data:", "#"))
            ):
                self.refuse(
                    f"{name}={value[:60]!r} is not allowed: a sheet uses only data: URIs "
                    f"(exgen embeds prompt images itself)"
                )
        self.in_style = tag == "style"

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        self.in_style = False

    def handle_endtag(self, tag):
        self.in_style = False

    def handle_data(self, data):
        found = style_problem(data) if self.in_style else None
        if found:
            self.refuse(found[1], found[0] - 1)


def _around(text: str, at: int) -> str:
    return text[at : at + 12].split("\n")[0]
