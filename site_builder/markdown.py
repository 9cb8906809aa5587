"""Markdown: the only module that imports markdown_it.

CommonMark plus tables, footnotes, heading anchors (an id and a "#" link with a name), ``::: related`` containers and
``[[slug]]`` / ``[[slug|text]]`` cross-references (an inline rule, so it never fires
inside code or links; each becomes a token carrying the slug as data). Raw HTML is escaped
unless the site allows it; links whose scheme is not http, https, mailto or relative are
dropped. Typography (``_typography``): curly quotes by markdown-it's smartquotes, en and em
dashes and the ellipsis, in text only (never in code, URLs or raw HTML). Smartquotes is
quadratic in the quotes of one paragraph (it rebuilds the text at each quote), so a paragraph
with more than TYPO_MAX_QUOTES quotes keeps them straight: the cost stays linear.
``typeset`` applies the same rules to plain text (titles, summaries, captions).
An image the link stage numbered (``meta["image"]``: a file of the site's own) renders as its
mark, and the page writes its ``<img>`` (``image_html``) once the file's size is known.
Linkify stays off (it has quadratic inputs).
"""

from __future__ import annotations

import functools
import re
from typing import Any, Sequence

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.rules_core.smartquotes import smartquotes
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from mdit_py_plugins.anchors import anchors_plugin
from mdit_py_plugins.container import container_plugin
from mdit_py_plugins.footnote import footnote_plugin

from site_builder.model import IMAGE_MARK, XREF_MARK
from site_builder.urls import safe_url, slugify

XREF_RE = re.compile(r"\[\[([^\[\]\n|]*)(?:\|([^\[\]\n]*))?\]\]")

__all__ = ["Token", "parse", "render", "render_xref", "outline", "count_words", "XREF", "RELATED"]

XREF = "xref"
RELATED = "related"


def _heading_slug(text: str) -> str:
    return slugify(text) or "section"


def _xref_rule(state: StateInline, silent: bool) -> bool:
    """``[[slug]]`` and ``[[slug|text]]``: a token carrying the slug as data."""
    src = state.src
    pos = state.pos
    if silent or not src.startswith("[[", pos) or getattr(state, "linkLevel", 0) > 0:
        # Silent mode only serves link-label scanning: there "[[" counts as brackets, and
        # inside a link's text a cross-reference stays plain text (links never nest).
        return False
    m = XREF_RE.match(src, pos)
    if not m:
        return False
    if not silent:
        token = state.push(XREF, "", 0)
        token.meta = {
            "slug": m.group(1).strip(),
            "text": (m.group(2) or "").strip(),
            "raw": m.group(0),
            "offset": pos,  # into the inline content; made into line:col by _locate_xrefs
        }
        token.content = m.group(0)
    state.pos = m.end()
    return True


def _locate_xrefs(state: Any) -> None:
    """Give cross-references a file line and column (inline tokens carry none)."""
    lines: Sequence[str] = state.env.get("lines", ())
    first = state.env.get("first_line", 1)
    for block in state.tokens:
        if block.type != "inline" or not block.children or not block.map:
            continue
        for child in block.children:
            if child.type != XREF:
                continue
            offset = child.meta["offset"]
            line_index = block.map[0] + block.content.count("\n", 0, offset)
            col = 1
            if 0 <= line_index < len(lines):
                found = lines[line_index].find(child.meta["raw"])
                col = found + 1 if found >= 0 else 1
            child.meta["line"] = first + line_index
            child.meta["col"] = col


def _validate_link(url: str) -> bool:
    return safe_url(url)


@functools.lru_cache(maxsize=None)
def parser(allow_html: bool = False) -> MarkdownIt:
    """Built once per process and setting."""
    md = MarkdownIt("commonmark", {"html": allow_html, "typographer": True, "linkify": False})
    md.enable("table")
    md.use(footnote_plugin)
    md.use(anchors_plugin, min_level=2, max_level=4, slug_func=_heading_slug, permalink=True, permalinkSymbol="#")
    md.core.ruler.after("anchor", "anchor_names", _name_anchors)
    md.use(container_plugin, name=RELATED)
    md.validateLink = _validate_link
    md.inline.ruler.before("link", XREF, _xref_rule)
    md.core.ruler.after("inline", "locate_xrefs", _locate_xrefs)
    md.core.ruler.after("locate_xrefs", "typography", _typography)
    md.add_render_rule(XREF, _render_xref_mark)
    md.add_render_rule("footnote_anchor", _render_footnote_backref)
    image = md.renderer.rules["image"]

    def _render_image(tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        """An image of the site's own renders as its mark (the page puts in its size, see
        ``image_html``); another site's loads when it comes near the screen."""
        if tokens[idx].meta and "image" in tokens[idx].meta:
            return IMAGE_MARK.format(tokens[idx].meta["image"])
        tokens[idx].attrSet("loading", "lazy")
        tokens[idx].attrSet("decoding", "async")
        return image(tokens, idx, options, env)
    md.renderer.rules["image"] = _render_image
    return md


def image_alt(token: Token) -> str:
    """An image token's alt text, as the renderer writes it (its text, without markup)."""
    md = parser(False)
    return md.renderer.renderInlineAsText(token.children or [], md.options, {})


def image_html(attrs: Sequence[tuple[str, str | int]]) -> str:
    """An ``<img>`` with these attributes, in this order, escaped as the renderer escapes."""
    md = parser(False)
    return md.renderer.renderToken([Token("image", "img", 0, attrs={k: v for k, v in attrs})], 0, md.options, {})


TYPO_MAX_QUOTES = 200  # per paragraph (inline block); more stay straight (see the docstring)
_QUOTES = re.compile(r"['\"]")
_DASHES = re.compile(r"--|\.\.\.")
_EM_DASH = re.compile(r"(?<!-)---(?!-)")
_EN_DASH = re.compile(r"(?<!-)--(?!-)")
_ELLIPSIS = re.compile(r"(?<!\.)\.\.\.(?!\.)")


def _typography(state: Any) -> None:
    """Curly quotes, dashes (``---`` em, ``--`` en) and ``...`` (ellipsis) in text tokens."""
    quoted = []
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        if _DASHES.search(block.content):
            _dashes(block.children)
        quotes = len(_QUOTES.findall(block.content))
        if 0 < quotes <= TYPO_MAX_QUOTES:
            quoted.append(block)
    if quoted:
        tokens = state.tokens
        state.tokens = quoted  # smartquotes walks state.tokens: only the blocks it can afford
        try:
            smartquotes(state)
        finally:
            state.tokens = tokens


@functools.lru_cache(maxsize=1 << 14)
def typeset(text: str) -> str:
    """Plain text (a title, a summary, a caption: front matter a reader sees) typeset as
    body text is (``_typography``: curly quotes, dashes, ellipsis), and nothing else: no
    Markdown is read in it, and the same TYPO_MAX_QUOTES guard keeps it linear."""
    if not text or not (_QUOTES.search(text) or _DASHES.search(text)):
        return text
    md = parser(False)
    inline = Token("inline", "", 0)
    inline.content = text
    inline.children = [_text_token(text)]
    _typography(StateCore(text, md, {}, [inline]))
    return "".join(c.content for c in inline.children)


def _dashes(children: Sequence[Token]) -> None:
    in_link = 0  # an autolink's text is its URL: left alone
    for child in children:
        if child.type == "link_open" and child.info == "auto":
            in_link += 1
        elif child.type == "link_close" and child.info == "auto":
            in_link -= 1
        elif child.type == "text" and not in_link and _DASHES.search(child.content):
            text = _EM_DASH.sub("\u2014", child.content)
            text = _EN_DASH.sub("\u2013", text)
            child.content = _ELLIPSIS.sub("\u2026", text)


def _heading_text(inline: Token) -> str:
    """A heading's text as a reader sees it (without its anchor link)."""
    return "".join(c.content for c in inline.children or () if c.type in ("text", "code_inline")).strip()


def _name_anchors(state: Any) -> None:
    """Give each heading's anchor link (the plugin writes "#") an accessible name."""
    tokens = state.tokens
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open" and tok.attrGet("id") and i + 1 < len(tokens):
            for child in tokens[i + 1].children or ():
                if child.type == "link_open" and child.attrGet("class") == "header-anchor":
                    child.attrSet("aria-label", f"Link to the section “{_heading_text(tokens[i + 1])}”")


def outline(tokens: Sequence[Token], levels: tuple[int, ...] = (2, 3)) -> tuple[tuple[int, str, str], ...]:
    """The headings of a body, for a table of contents: (level, id, text)."""
    found = []
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open" and int(tok.tag[1]) in levels and tok.attrGet("id") and i + 1 < len(tokens):
            found.append((int(tok.tag[1]), str(tok.attrGet("id")), _heading_text(tokens[i + 1])))
    return tuple(found)


_WORDS = re.compile(r"\w+(?:['’]\w+)*")


def count_words(tokens: Sequence[Token]) -> int:
    """The words a reader reads in a body (its text, not its markup or code blocks)."""
    n = 0
    for tok in tokens:
        for child in tok.children or () if tok.type == "inline" else ():
            if child.type in ("text", "code_inline"):
                n += len(_WORDS.findall(child.content))
    return n


def _render_footnote_backref(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    """The footnote plugin's "↩︎" back-link, with a name a screen reader can say."""
    ident = self.rules["footnote_anchor_name"](tokens, idx, options, env)
    if tokens[idx].meta.get("subId", 0) > 0:
        ident += f":{tokens[idx].meta['subId']}"
    n = tokens[idx].meta["id"] + 1
    return (f' <a href="#fnref{ident}" class="footnote-backref" aria-label="Back to footnote {n} in the text">'
            "\u21a9\ufe0e</a>")


def _render_xref_mark(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    """A cross-reference renders as its mark (model.XREF_MARK) until the page is made:
    the link stage numbers them (``meta["ref"]``); refs.resolve_body puts the link in."""
    return XREF_MARK.format(tokens[idx].meta["ref"])


def parse(body: str, first_line: int, allow_html: bool = False) -> list[Token]:
    """Markdown tokens for a body whose first line is ``first_line`` in its file."""
    lines = body.split("\n")
    env: dict[str, Any] = {"lines": lines, "first_line": first_line}
    return parser(allow_html).parse(body, env)


def render(tokens: Sequence[Token], allow_html: bool = False) -> str:
    md = parser(allow_html)
    return md.renderer.render(list(tokens), md.options, {})


def render_xref(href: str, kind: str, slug: str, text: str) -> str:
    """A resolved cross-reference's link, as the Markdown renderer writes links."""
    md = parser(False)
    tokens = [Token("link_open", "a", 1, attrs={"href": href, "class": f"xref xref-{kind}", "data-preview": slug}),
              _text_token(text), Token("link_close", "a", -1)]
    return md.renderer.renderInline(tokens, md.options, {})


def render_text(text: str) -> str:
    """Plain text as the Markdown renderer escapes it."""
    md = parser(False)
    return md.renderer.renderInline([_text_token(text)], md.options, {})


def _text_token(content: str) -> Token:
    t = Token("text", "", 0)
    t.content = content
    return t
