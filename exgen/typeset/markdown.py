"""Prompt text: Markdown (raw HTML escaped) with `$…$` math set as HTML text, and
`$$…$$` math set as a centred display block (also inside a paragraph)."""

from __future__ import annotations

from functools import lru_cache
from collections.abc import Callable

from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin

from exgen.typeset.texmath import parse_tex


def make_markdown(render_math: Callable[[object], str]) -> Callable[[str], str]:
    """A Markdown-to-HTML function whose math goes through ``render_math``.

    TeX it does not understand raises DefinitionError (see texmath)."""
    md = MarkdownIt("commonmark", {"html": False, "typographer": True})
    md.enable(["replacements", "smartquotes", "table"])
    md.use(dollarmath_plugin, allow_space=True, double_inline=True)

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
    return md.render


@lru_cache(maxsize=1)
def _checker() -> Callable[[str], str]:
    return make_markdown(lambda formula: "")


def check_markdown(text: str) -> None:
    """Parse every formula of a prompt: DefinitionError (without a location) for TeX
    exgen cannot typeset, so a definition is refused when it is loaded."""
    _checker()(text)
