"""Prompt text: Markdown (raw HTML escaped) with `$…$` math set as HTML text, `$$…$$`
math as a centred display block (also inside a paragraph), and images embedded as data:
URIs (a document fetches nothing, and its HTML stands alone)."""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin

from exgen.errors import DefinitionError
from exgen.typeset.local_files import FileRefused, read_inside
from exgen.typeset.texmath import parse_tex

MAX_IMAGE_BYTES = 2_000_000
# What an SVG may not hold: a script or handler, an entity (which could read a file), a
# reference to anything but its own #ids and data: URIs.
SVG_ACTIVE = re.compile(
    rb"(?i)<script|<!entity|<foreignobject|\son\w+\s*=|"
    rb"href\s*=\s*[\"']?\s*(?!#|data:)[^\s\"'>]|"
    rb"url\(\s*[\"']?\s*(?!#|data:)[^\s\"')]|@import"
)
IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".svg": "image/svg+xml",
}


def _markdown_it() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "typographer": True})
    md.enable(["replacements", "smartquotes", "table"])
    return md.use(dollarmath_plugin, allow_space=True, double_inline=True)


def make_markdown(
    render_math: Callable[[object], str], folder: str | None = None
) -> Callable[[str], str]:
    """A Markdown-to-HTML function whose math goes through ``render_math`` and whose images
    are files inside ``folder`` (the definition's), embedded. TeX it does not understand
    raises DefinitionError (see texmath)."""
    md = _markdown_it()

    def inline(self, tokens, idx, options, env):
        return f'<span class="math">{render_math(parse_tex(tokens[idx].content))}</span>'

    def display_inline(self, tokens, idx, options, env):  # inside a <p>: a span set as a block
        formula = parse_tex(tokens[idx].content, "$$")
        return f'<span class="math display">{render_math(formula)}</span>'

    def block(self, tokens, idx, options, env):
        formula = parse_tex(tokens[idx].content.strip(), "$$")
        return f'<div class="math display">{render_math(formula)}</div>\n'

    md.add_render_rule("math_inline", inline)
    md.add_render_rule("math_inline_double", display_inline)
    md.add_render_rule("math_block", block)
    md.add_render_rule("math_block_label", block)

    def image(self, tokens, idx, options, env):
        tokens[idx].attrSet("src", embedded_image(str(tokens[idx].attrGet("src")), folder))
        return self.image(tokens, idx, options, env)

    md.add_render_rule("image", image)
    return md.render


def make_tex_markdown(folder: str | None = None) -> Callable[[str], str]:
    """Markdown-to-HTML for a learning platform, whose MathJax filter sets the math: `$…$`
    kept as TeX in \\(…\\), `$$…$$` in \\[…\\] (checked to be TeX exgen reads, as
    on the sheet); images embedded as for the sheet."""
    md = _markdown_it()

    def tex(open_: str, close: str, delims: str):
        def rule(self, tokens, idx, options, env):
            content = tokens[idx].content.strip()
            parse_tex(content, delims)  # the sheet's own check: TeX exgen cannot read stops here
            return open_ + html.escape(content, quote=False) + close

        return rule

    md.add_render_rule("math_inline", tex("\\(", "\\)", "$"))
    md.add_render_rule("math_inline_double", tex("\\[", "\\]", "$$"))
    md.add_render_rule("math_block", tex("<p>\\[", "\\]</p>\n", "$$"))
    md.add_render_rule("math_block_label", tex("<p>\\[", "\\]</p>\n", "$$"))

    def image(self, tokens, idx, options, env):
        tokens[idx].attrSet("src", embedded_image(str(tokens[idx].attrGet("src")), folder))
        return self.image(tokens, idx, options, env)

    md.add_render_rule("image", image)
    return md.render


def embedded_image(src: str, folder: str | None) -> str:
    """A prompt image as a data: URI: a PNG, JPEG or SVG file inside the definition's folder
    (or a data: URI already). Raises DefinitionError (the caller adds where) otherwise."""
    if src.lower().startswith("data:"):
        return src
    parts = urlsplit(src)
    if parts.scheme or parts.netloc:
        raise DefinitionError(
            f"image {src!r} is not a file beside the definition: exgen fetches "
            f"nothing from the network or from elsewhere (save the image in "
            f"the definition's folder and give its relative path)"
        )
    relative = unquote(parts.path)
    kind = IMAGE_TYPES.get(Path(relative).suffix.lower())
    if kind is None:
        raise DefinitionError(f"image {src!r}: only .png, .jpg/.jpeg and .svg files are embedded")
    if folder is None or Path(relative).is_absolute():
        raise DefinitionError(f"image {src!r}: give a path relative to the definition's folder")
    try:
        data = read_inside(Path(folder), relative, MAX_IMAGE_BYTES)
    except FileNotFoundError:
        raise DefinitionError(
            f"image {src!r} does not exist (relative to the definition's folder)"
        ) from None
    except FileRefused as exc:
        raise DefinitionError(f"image {src!r} {exc}") from None
    if not _looks_like(kind, data):
        raise DefinitionError(f"image {src!r} is not a {kind.split('/')[1].upper()} file")
    active = SVG_ACTIVE.search(data) if kind == "image/svg+xml" else None
    if active:
        found = (
            data[active.start() : active.start() + 40].split(b"\n")[0].decode("utf-8", "replace")
        )
        raise DefinitionError(
            f"image {src!r} may not hold scripts, entities or references to "
            f"other files or URLs (found {found!r}); embed them as data: URIs"
        )
    return _data_uri(kind, data)


def _looks_like(kind: str, data: bytes) -> bool:
    if kind == "image/png":
        return data.startswith(b"\x89PNG\r\n\x1a\n")
    if kind == "image/jpeg":
        return data.startswith(b"\xff\xd8\xff")
    return b"<svg" in data[:4096]


def _data_uri(kind: str, data: bytes) -> str:
    return f"data:{kind};base64,{base64.b64encode(data).decode('ascii')}"


MATH = {
    "math_inline": "$",
    "math_inline_double": "$$",
    "math_block": "$$",
    "math_block_label": "$$",
}


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    return _markdown_it()


def check_math(text: str) -> None:
    """Parse every formula of a prompt (nothing rendered, no image read): DefinitionError,
    without a location, for TeX exgen cannot typeset, so a definition is refused when it
    is loaded."""
    for block in _parser().parse(text):
        for token in (block, *(block.children or ())):
            if token.type in MATH:  # as make_markdown reads them
                block_math = token.type.startswith("math_block")
                parse_tex(token.content.strip() if block_math else token.content, MATH[token.type])
