"""A question's prompt as HTML: plain text with paragraphs and `code`, and math between $...$
(inline) or $$...$$ (display) as MathML, which browsers draw natively, converted here on the
server: no script, nothing fetched from another site. Everything that is not math is escaped."""

from __future__ import annotations

import functools
import re

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from latex2mathml.converter import convert

MATH = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$", re.DOTALL)
CODE = re.compile(r"`([^`\n]+)`")


@functools.lru_cache(maxsize=2048)
def render_prompt(text: str) -> SafeString:
    parts, last = [], 0
    for match in MATH.finditer(text):
        parts.append(_text(text[last : match.start()]))
        display, inline = match.group(1), match.group(2)
        parts.append(_math(display or inline, display=display is not None))
        last = match.end()
    parts.append(_text(text[last:]))
    paragraphs = "".join(parts).split("\n\n")
    return mark_safe("".join(f"<p>{p.strip()}</p>" for p in paragraphs if p.strip()))


def _text(text: str) -> str:
    return CODE.sub(r"<code>\1</code>", escape(text))


def _math(latex: str, *, display: bool) -> str:
    try:
        mathml = convert(latex.strip(), display="block" if display else "inline")
    except Exception:  # a formula the converter cannot read: show it as written
        return f"<code>{escape(latex)}</code>"
    if "<script" in mathml.lower() or "javascript:" in mathml.lower():
        return f"<code>{escape(latex)}</code>"
    return mathml
