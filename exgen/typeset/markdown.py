"""Prompt text: Markdown (raw HTML escaped) with `$…$` math set as HTML text."""
from __future__ import annotations

from typing import Callable

from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin

from exgen.typeset.texmath import parse_tex


def make_markdown(render_math: Callable[[object], str]) -> Callable[[str], str]:
    """A Markdown-to-HTML function whose math goes through ``render_math``."""
    md = MarkdownIt("commonmark", {"html": False, "typographer": True})
    md.enable(["replacements", "smartquotes", "table"])
    md.use(dollarmath_plugin, allow_space=True, double_inline=True)

    def inline(self, tokens, idx, options, env):
        return f'<span class="math">{render_math(parse_tex(tokens[idx].content))}</span>'

    def block(self, tokens, idx, options, env):
        return f'<div class="math display">{render_math(parse_tex(tokens[idx].content))}</div>\n'

    md.add_render_rule("math_inline", inline)
    md.add_render_rule("math_inline_double", inline)
    md.add_render_rule("math_block", block)
    md.add_render_rule("math_block_label", block)
    return md.render
