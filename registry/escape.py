"""Escaping for every card the project publishes (datasheets, the HF README, the HTML page, model cards).

Values come from people and files (licence ids, generator and provider names, paths, human
answers, column names) and must render as the text they are: no raw HTML, no links except
http(s), no code span a backtick can break, no YAML that closes the front matter. Writers build
Markdown from these helpers; `Markdown` marks text that is already safe, so table helpers escape
every other value themselves. `markdown_inline_to_html` turns that Markdown back into HTML for the
HTML datasheet, honouring the same escapes.
"""

from __future__ import annotations

import html
import json
import re
from urllib.parse import quote, urlsplit

import yaml


class Markdown(str):
    """Text that is already safe Markdown (made by the helpers below, or a fixed template)."""


# Characters that would start Markdown syntax (code, emphasis, links, images, headings, escapes);
# `_` only at a word edge (inside a word, as in rouge_duplicate, it never opens emphasis).
_MD_SPECIAL = re.compile(r"([\\`*\[\]!#~]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9]))")
_LINK = re.compile(r"!?\[([^\]\n]*)\]\(([^()\s]*)\)")


def md_text(value) -> Markdown:
    """Any value as Markdown that renders literally (None as "not recorded")."""
    text = "not recorded" if value is None else str(value)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return Markdown(_MD_SPECIAL.sub(r"\\\1", text))


def md_code(value) -> Markdown:
    """Any value as one inline code span, whatever backticks it holds (newlines become spaces)."""
    text = "not recorded" if value is None else str(value).replace("\r", " ").replace("\n", " ")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith(("`", " ")) or text.endswith(("`", " ")) else ""
    return Markdown(f"{fence}{pad}{text}{pad}{fence}")


def safe_url(url) -> str | None:
    """`url` made safe for a Markdown link when it is http(s), else None (javascript:, data:, file:...)."""
    if not isinstance(url, str):
        return None
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return None
    if scheme not in ("http", "https"):
        return None
    return quote(url.strip(), safe=":/?#@!$&'*+,;=%-._~")


def md_link(label, url) -> Markdown:
    """A link when `url` is http(s); otherwise the label alone, as text."""
    target = safe_url(url)
    return Markdown(f"[{md_text(label)}]({target})") if target else md_text(label)


def md_answer(text) -> Markdown:
    """A person's free-text answer: paragraphs and *emphasis* kept, http(s) links kept, everything else
    (HTML, other links, images, code) rendered as literal text."""
    text = "" if text is None else str(text)
    out, pos = [], 0
    for m in _LINK.finditer(text):
        out.append(_answer_text(text[pos:m.start()]))
        out.append(md_link(m.group(1), m.group(2)))
        pos = m.end()
    out.append(_answer_text(text[pos:]))
    return Markdown("".join(out))


def _answer_text(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"([\\`\[\]!#~])", r"\\\1", text)


def md_table(header: list[str], rows: list) -> str:
    """A Markdown table; every cell that is not already `Markdown` is escaped as literal text
    (dicts and lists as JSON, None as "not recorded"); header cells are fixed template text."""

    def cell(v) -> str:
        if not isinstance(v, Markdown):
            v = md_text(v if isinstance(v, str) or v is None
                        else json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else str(v))
        return v.replace("|", "\\|").replace("\r", " ").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def yaml_block(meta: dict) -> str:
    """Front matter YAML that no value can close early (no line reads `---` or `...`)."""
    text = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True)
    if any(line.strip() in ("---", "...") for line in text.splitlines()):
        text = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, default_style='"')
    return text


def html_text(value) -> str:
    """Any value as HTML text (attribute-safe)."""
    return html.escape("" if value is None else str(value), quote=True)


# Markdown -> HTML for the subset the cards use: escapes, entities, code spans, links, **bold**, *em*.
_ENTITY = re.compile(r"&(#[0-9]+|#x[0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")
_PUNCT = set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_ACTIVE = set("*_[]()")  # characters the emphasis and link rules below act on


def markdown_inline_to_html(md: str) -> str:
    """One block of the cards' inline Markdown as HTML; literal text is always escaped."""
    out, codes, i, n = [], [], 0, len(md)
    while i < n:
        c = md[i]
        if c == "\\" and i + 1 < n and md[i + 1] in _PUNCT:
            out.append(f"&#{ord(md[i + 1])};")  # literal: an entity no rule below matches
            i += 2
            continue
        if c == "`":
            run = len(md[i:]) - len(md[i:].lstrip("`"))
            close = re.compile(r"(?<!`)" + "`" * run + r"(?!`)").search(md, i + run)
            if close:
                code = md[i + run:close.start()]
                if len(code) > 1 and code.startswith(" ") and code.endswith(" ") and code.strip():
                    code = code[1:-1]
                codes.append(f"<code>{html.escape(code)}</code>")
                out.append(f"\x00{len(codes) - 1}\x00")
                i = close.end()
                continue
            out.append("`" * run)
            i += run
            continue
        if c == "&":
            m = _ENTITY.match(md, i)
            out.append(m.group(0) if m else "&amp;")
            i = m.end() if m else i + 1
            continue
        out.append(c if c in _ACTIVE else html.escape(c))
        i += 1
    text = "".join(out)
    text = re.sub(r"\[([^\]]*)\]\(([^()\s]*)\)", _html_link, text)
    text = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", text)
    text = re.sub(r"(?<![\w*])\*([^*]+)\*(?![\w*])", r"<em>\1</em>", text)
    text = re.sub(r"(?<!\w)_([^_]+)_(?!\w)", r"<em>\1</em>", text)
    return re.sub(r"\x00(\d+)\x00", lambda m: codes[int(m.group(1))], text)


def _html_link(m: re.Match) -> str:
    url = safe_url(html.unescape(m.group(2)))
    return f'<a href="{html_text(url)}">{m.group(1)}</a>' if url else m.group(1)
