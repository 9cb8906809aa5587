"""The link stage: token-stream surgery on one parsed document.

Entity links: in every inline token outside headings, the linkable text (text,
soft line breaks, emphasis boundaries) is joined into one string; code spans,
existing links, images, raw HTML and cross-references become barriers. The
matcher finds mentions in that string; each is spliced back in as
``link_open``/``link_close`` tokens around the original text tokens, so the
visible text never changes.

Cross-references (``[[slug]]``) and ``::: related`` blocks are facts, not markup: the
stage returns them as data (``Ref``) and leaves a mark in the body where each goes;
``refs.py`` looks them up once the whole site is known, and the page puts in the link
or the cards. So what linking reads is only the text, the glossary entries whose terms
(or slugs) occur in it, and the link settings: ``link_key`` below, declared beside the
stage, is exactly that.
"""

from __future__ import annotations

import copy
import re
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from site_builder import markdown
from site_builder.config import SiteConfig
from site_builder.errors import Diagnostic, warning
from site_builder.images import is_image
from site_builder.markdown import Token
from site_builder.model import (
    BARRIER,
    BLOCK_MARK,
    XREF_MARK,
    ArticleHeader,
    BodyImage,
    CrossRef,
    Document,
    EntryHeader,
    LinkedDocument,
    Match,
    Mention,
    Ref,
    digest,
)
from site_builder.urls import output_path

if TYPE_CHECKING:  # the matcher (and spaCy) is imported only where linking happens
    from site_builder.glossary import Matcher

_ZERO_WIDTH = {"em_open", "em_close", "strong_open", "strong_close", "s_open", "s_close"}
_SENTENCE_END = re.compile(r"[.!?](?=\s|$)")
_HTML_A_OPEN = re.compile(r"<a(?=[\s>/])", re.I)
_HTML_A_CLOSE = re.compile(r"</a\s*>", re.I)


class _Policy:
    def __init__(self, doc: Document, link_all: bool):
        header = doc.header
        self.link_all = link_all
        self.self_slug = header.slug if isinstance(header, EntryHeader) else None
        nolink = header.nolink if isinstance(header, ArticleHeader) else False
        self.none = nolink is True
        self.excluded = set(nolink) if isinstance(nolink, tuple) else set()
        self.linked: set[str] = set()

    def allows(self, slug: str) -> bool:
        if self.none or slug == self.self_slug or slug in self.excluded:
            return False
        return self.link_all or slug not in self.linked


def link_key(doc: Document, glossary_slice: str, config: SiteConfig) -> tuple[str, ...]:
    """What linking a document reads: its file (path and bytes), the glossary entries whose
    terms or slugs could occur in it (``GlossarySlices.slice``), and the settings the link
    stage uses. A glossary edit re-links only the texts that could mention the entry."""
    return (doc.source.path, doc.source.digest, glossary_slice, config.slice_digest("parse"),
            config.slice_digest("link"))


def link(doc: Document, matcher: Matcher | None, root: str, link_all: bool = False, allow_html: bool = False,
         tokens: Sequence[Token] | None = None) -> LinkedDocument:
    """Link one document. Two passes: the first collects cross-references and asks the
    matcher about every text; the second weighs what the whole document says (a term
    used elsewhere as a name, a surname of someone else) and splices the links in."""
    header = doc.header
    assert header is not None
    policy = _Policy(doc, link_all)
    state = _State(doc, matcher, policy, root)
    if tokens is None:
        tokens = markdown.parse(doc.body, doc.body_line, allow_html)
    out, texts = _first_pass(tokens, state, matcher, policy)
    if texts:
        verdicts = _document_verdicts([c for _, layout in texts for c in layout.candidates], matcher)
        for k, layout in texts:
            out[k] = state.link_entities(out[k], layout, verdicts)
    out, images = _number_images(doc, out, root)
    html = markdown.render(out, allow_html)
    mentions = tuple(state.mentions)
    entities = tuple(sorted(state.entities))
    refs = tuple(state.refs)
    diagnostics = tuple(state.diagnostics)
    toc, words = markdown.outline(out), markdown.count_words(out)
    return LinkedDocument(
        slug=header.slug,
        kind=header.kind,
        body_html=html,
        mentions=mentions,
        entities=entities,
        refs=refs,
        diagnostics=diagnostics,
        links=tuple(_internal_links(doc, out)),
        key=digest("body", html, mentions, entities, refs, diagnostics, toc, words, images),
        path=doc.source.path,
        toc=toc,
        words=words,
        images=images,
    )


def _number_images(doc: Document, tokens: list[Token], root: str) -> tuple[list[Token], tuple[BodyImage, ...]]:
    """Each image of the site's own (an image file under the root) numbered, with its place
    and output path: the page puts in its size where its mark is. Images of other sites
    stay as written."""
    header = doc.header
    page = f"{root}{'glossary' if isinstance(header, EntryHeader) else 'articles'}/{header.slug if header else ''}/"
    lines = doc.body.split("\n")
    images: list[BodyImage] = []
    seen_any, intro = False, True
    for k, block in enumerate(tokens):
        if block.type == "heading_open" and block.tag == "h2":
            intro = False
        if block.type != "inline" or not any(c.type == "image" for c in block.children or ()):
            continue
        children = list(block.children or ())
        for j, child in enumerate(children):
            if child.type != "image":
                continue
            src = str(child.attrGet("src") or "")
            first, seen_any = intro and not seen_any, True
            target = output_path(src, page, root) if src and not src.startswith("//") else None
            if target is None or not is_image(target):
                continue
            line, col = _place_of(lines, block, src)
            images.append(BodyImage(src, target, markdown.image_alt(child), str(child.attrGet("title") or ""),
                                    doc.body_line + line, col, first))
            children[j] = copy.copy(child)
            children[j].meta = {**child.meta, "image": len(images) - 1}
        tokens[k] = copy.copy(block)
        tokens[k].children = children
    return tokens, tuple(images)


def _place_of(lines: list[str], block: Token, needle: str) -> tuple[int, int]:
    """The body line (0-based) and column of ``needle`` in an inline block's lines."""
    start, end = block.map if block.map else (0, 0)
    for k in range(start, min(end, len(lines))):
        found = lines[k].find(needle)
        if found >= 0:
            return k, found + 1
    return start, 1


def _first_pass(tokens: Sequence[Token], state: "_State", matcher: Matcher | None, policy: _Policy
                ) -> tuple[list[Token], list[tuple[int, "_Layout"]]]:
    """The token stream with cross-references numbered and related blocks turned into their
    marks, and the layout (the text the matcher sees) of every inline that may be linked."""
    out: list[Token] = []
    texts: list[tuple[int, _Layout]] = []  # (position in out, layout) of each linkable inline
    i = 0
    in_heading = False
    while i < len(tokens):
        tok = tokens[i]
        if tok.type == "heading_open":
            in_heading = True
        elif tok.type == "heading_close":
            in_heading = False
        if tok.type == f"container_{markdown.RELATED}_open":
            j = i
            depth = 0
            while j < len(tokens):
                if tokens[j].type == f"container_{markdown.RELATED}_open":
                    depth += 1
                elif tokens[j].type == f"container_{markdown.RELATED}_close":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            out.append(state.related_block(tokens[i:j + 1]))
            i = j + 1
            continue
        if tok.type == "inline" and tok.children:
            new = state.inline(tok)
            out.append(new)
            if not in_heading and matcher is not None and not policy.none:
                layout = _Layout(new, matcher, policy.self_slug)
                if layout.candidates or layout.xref_entries:
                    texts.append((len(out) - 1, layout))
        else:
            out.append(tok)
        i += 1
    return out, texts


def link_many(docs: list[Document], entries: tuple[EntryHeader, ...], root: str, link_all: bool,
              allow_html: bool) -> list[LinkedDocument]:
    """``link`` for a few documents, with a matcher made here from ``entries`` (and kept for
    the next call with the same glossary): the link stage as picklable work, for a helper
    process that imported spaCy while the build was loading its cache."""
    from site_builder.glossary import Matcher

    key = GlossarySlices(entries).key
    if _MATCHERS.get("key") != key:
        _MATCHERS.update(key=key, matcher=Matcher(entries))
    return [link(d, _MATCHERS["matcher"], root, link_all, allow_html) for d in docs]


_MATCHERS: dict[str, Any] = {}


class GlossarySlices:
    """Which glossary entries a text could mention: those all of whose words, for one of
    their terms or for their slug, occur in it (case-folded). A cheap, generous test:
    the slice may hold entries the matcher then rejects, never miss one it would find.
    ``slice(doc)`` is a digest of those entries' slugs, types and terms."""

    def __init__(self, entries: Iterable[EntryHeader]):
        self.signatures: dict[str, str] = {}
        self.probes: dict[str, list[tuple[frozenset[str], str]]] = {}  # rarest-looking word -> (all words, entry)
        for e in entries:
            self.signatures[e.slug] = f"{e.slug}|{e.type}|{[t.value for t in e.terms]}"
            for words in [_WORD.findall(t.value.casefold()) for t in e.terms] + [e.slug.split("-")]:
                if words:
                    key = max(words, key=lambda w: (len(w), w))
                    self.probes.setdefault(key, []).append((frozenset(words), e.slug))
        self.key = digest(*(self.signatures[s] for s in sorted(self.signatures)))  # the whole glossary

    def slice(self, doc: Document) -> str:
        words = frozenset(_WORD.findall(doc.body.casefold()))  # made when needed: a set per document is a lot
        found = sorted({slug for w in words for need, slug in self.probes.get(w, ()) if need <= words})
        return digest(*(self.signatures[s] for s in found))


_WORD = re.compile(r"\w+")


def _internal_links(doc: Document, tokens: Sequence[Token]) -> list[CrossRef]:
    """Every link and image URL the editor wrote that points inside the site, with its
    place, for the internal link check (the link stage's own links are always right)."""
    lines = doc.body.split("\n")
    found = []
    for block in tokens:
        if block.type != "inline" or not block.children or not block.map:
            continue
        for child in block.children:
            if child.type == "link_open" and not child.attrGet("data-entity") and not child.attrGet("data-preview"):
                url = str(child.attrGet("href") or "")
            elif child.type == "image":
                url = str(child.attrGet("src") or "")
            else:
                continue
            if not url or url.startswith(("#", "//")) or ":" in url.split("/", 1)[0]:
                continue  # fragments, other sites, schemes (mailto:, https:)
            line_index = block.map[0]
            col = 1
            for k in range(block.map[0], min(block.map[1], len(lines))):
                found_at = lines[k].find(url)
                if found_at >= 0:
                    line_index, col = k, found_at + 1
                    break
            found.append(CrossRef(url, doc.body_line + line_index, col))
    return found


def _document_verdicts(candidates: list[Any], matcher: Matcher) -> dict[tuple[str, str, str], bool]:
    """One sense per document: (term as written, entry, verdict) -> is it a mention here?

    * a common word that opened a sentence ("Turkey is…") counts when the document also
      uses it as a name mid-sentence;
    * a term that follows a given name somewhere ("Tyrese Jordan") is that person's
      surname in the whole document, unless the entry's own title also appears."""
    from site_builder.glossary import OK, UNCONFIRMED

    confirmed = {c.text for c in candidates if c.verdict == OK and c.common}
    titled = {(c.entry, c.text) for c in candidates if c.verdict == OK and c.text == matcher.entries[c.entry].title}
    surnames = {c.text for c in candidates
                if c.surname_of and not any(e == c.entry and t != c.text for e, t in titled)}
    verdicts = {}
    for c in candidates:
        ok = c.verdict == OK or (c.verdict == UNCONFIRMED and c.text in confirmed)
        verdicts[(c.text, c.entry, c.verdict)] = ok and c.text not in surnames
    return verdicts


class _Layout:
    """The text the matcher sees for one inline token, and where each child sits in it."""

    def __init__(self, tok: Token, matcher: Matcher, self_slug: str | None):
        children = tok.children or []
        parts: list[str] = []
        visible: list[str] = []  # what a reader sees of each child (for the mention's sentence)
        starts: list[int] = []  # the string offset where each child begins
        xref_entries: list[tuple[int, str]] = []  # (offset, entry slug) of cross-references to entries
        pos = 0
        depth_link = 0
        for c in children:
            starts.append(pos)
            t = c.type
            seen = ""
            opens = t == "link_open" or (t == "html_inline" and _HTML_A_OPEN.match(c.content) is not None)
            closes = t == "link_close" or (t == "html_inline" and _HTML_A_CLOSE.match(c.content) is not None)
            if depth_link:  # inside a link (Markdown or, with allow_html, an author's <a>): never linked
                piece = ""
                seen = c.content if t in ("text", "code_inline") else ""
                depth_link += 1 if opens else -1 if closes else 0
            elif opens and t == "html_inline":
                depth_link = 1
                piece = BARRIER
            elif t == "text":
                piece = seen = c.content
            elif t == "softbreak":
                piece = seen = "\n"
            elif t in _ZERO_WIDTH:
                piece = ""
            elif t == "link_open":
                depth_link = 1
                piece = BARRIER
            elif t == markdown.XREF:  # stands for its link; the sentence shows its text once known
                piece = BARRIER
                seen = XREF_MARK.format(c.meta["ref"])
                slug = c.meta["slug"]
                if slug in matcher.entries and slug != self_slug:  # a mention where it stands
                    xref_entries.append((pos, slug))
            else:
                piece = BARRIER
                seen = c.content if t == "code_inline" else ""
            parts.append(piece)
            visible.append(seen)
            pos += len(piece)
        starts.append(pos)
        self.text = "".join(parts)
        self.visible = visible
        self.starts = starts
        self.xref_entries = xref_entries
        self.candidates = matcher.candidates(self.text) if self.text.strip(BARRIER + " \n") else []


class _State:
    def __init__(self, doc: Document, matcher: Matcher | None, policy: _Policy, root: str):
        self.doc = doc
        self.path = doc.source.path
        self.matcher = matcher
        self.policy = policy
        self.root = root
        self.mentions: list[Mention] = []
        self.entities: set[str] = set()
        self.refs: list[Ref] = []
        self.blocks = 0
        self.diagnostics: list[Diagnostic] = []
        self.first_line = doc.body_line

    # -- cross-references and related blocks: facts, looked up later ----------

    def xref(self, tok: Token) -> Token:
        meta = tok.meta
        slug = meta["slug"]
        if self.matcher is not None and slug in self.matcher.entries and slug != self.policy.self_slug:
            self.entities.add(slug)  # it mentions the entry (counted in place by the entity pass)
        new = copy.copy(tok)
        new.meta = {**meta, "ref": len(self.refs)}
        self.refs.append(Ref(slug, meta["text"], meta.get("line", 0), meta.get("col", 0)))
        return new

    def related_block(self, tokens: Sequence[Token]) -> Token:
        block = self.blocks
        self.blocks += 1
        seen: set[str] = set()
        for tok in tokens:
            if tok.type != "inline" or not tok.map:
                continue
            for k, raw in enumerate(tok.content.split("\n")):
                slug = raw.strip()
                if not slug:
                    continue
                line = self.first_line + tok.map[0] + k
                col = 1 + _source_col(self.doc, line, slug)
                if slug in seen:
                    self.diagnostics.append(warning(self.path, line, col, "related.duplicate",
                                                    f"'{slug}' is listed twice in this related block; the repeat is dropped",
                                                    "remove the repeated line"))
                    continue
                seen.add(slug)
                self.refs.append(Ref(slug, "", line, col, block))
        mark = Token("html_block", "", 0)
        mark.content = BLOCK_MARK.format(block)
        return mark

    def inline(self, tok: Token) -> Token:
        """Number the cross-references of one inline token (each keeps its token)."""
        children = tok.children or []
        if not any(c.type == markdown.XREF for c in children):
            return tok
        new = copy.copy(tok)
        new.children = [self.xref(c) if c.type == markdown.XREF else c for c in children]
        return new

    # -- entity links ----------------------------------------------------

    def link_entities(self, tok: Token, layout: _Layout, verdicts: dict[tuple[str, str, str], bool]) -> Token:
        children = tok.children or []
        text = layout.text
        starts = layout.starts
        pending = list(layout.xref_entries)  # cross-references to entries count as mentions where they stand
        inserts: list[tuple[int, int, int, Token]] = []  # (child, offset, order, token)
        line0 = self.first_line + (tok.map[0] if tok.map else 0)
        for c in layout.candidates:
            while pending and pending[0][0] < c.start:
                self.policy.linked.add(pending.pop(0)[1])
            if not verdicts[(c.text, c.entry, c.verdict)]:
                continue
            m = c.match()
            if m.entry == self.policy.self_slug or BARRIER in text[m.start:m.end]:
                continue
            self.entities.add(m.entry)
            if not self.policy.allows(m.entry):
                continue
            where = _place(children, starts, m)
            if where is None:
                continue
            (c0, o0), (c1, o1) = where
            self.policy.linked.add(m.entry)
            attrs = {"href": f"{self.root}glossary/{m.entry}/", "class": "entity", "data-entity": m.entry}
            inserts.append((c0, o0, 1, Token("link_open", "a", 1, attrs=attrs)))
            inserts.append((c1, o1, 0, Token("link_close", "a", -1)))
            if not any(x.entry == m.entry for x in self.mentions):
                self.mentions.append(Mention(m.entry, line0 + text.count("\n", 0, m.start),
                                             _sentence(layout.visible, starts, children, m)))
        for _, slug in pending:
            self.policy.linked.add(slug)
        if not inserts:
            return tok
        new = copy.copy(tok)
        new.children = _splice(children, inserts)
        return new


def _place(children: list[Token], starts: list[int], m: Match) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """Where link_open and link_close go: (child index, offset in its text), nested
    properly with any emphasis the match crosses; None when that is impossible."""
    c0 = _child_at(starts, m.start, children, end=False)
    c1 = _child_at(starts, m.end, children, end=True)
    if c0 is None or c1 is None:
        return None
    o0 = m.start - starts[c0]
    o1 = m.end - starts[c1]
    # Balance the emphasis between the two ends, hoisting the ends outward over
    # adjacent markup when the match starts or ends exactly at a tag.
    stack: list[str] = []
    unmatched_close = 0
    for k in range(c0 + 1, c1):
        t = children[k].type
        if t.endswith("_open"):
            stack.append(t[:-5])
        elif t.endswith("_close"):
            if stack and stack[-1] == t[:-6]:
                stack.pop()
            else:
                unmatched_close += 1
    if unmatched_close:
        if o0 != 0:
            return None
        k = c0
        for _ in range(unmatched_close):
            if k - 1 >= 0 and children[k - 1].type.endswith("_open") and children[k - 1].type in _ZERO_WIDTH:
                k -= 1
            else:
                return None
        c0, o0 = k, 0
    if stack:
        if o1 != len(children[c1].content):
            return None
        k = c1
        for _ in range(len(stack)):
            if k + 1 < len(children) and children[k + 1].type.endswith("_close") and children[k + 1].type in _ZERO_WIDTH:
                k += 1
            else:
                return None
        c1, o1 = k, 1  # after the closing tag (offset 1 past a zero-width token)
    return (c0, o0), (c1, o1)


def _child_at(starts: list[int], offset: int, children: list[Token], end: bool) -> int | None:
    """The text child holding ``offset`` (for an end: the child it is the end of)."""
    for k, c in enumerate(children):
        if c.type != "text":
            continue
        a, b = starts[k], starts[k + 1]
        if (a <= offset < b) if not end else (a < offset <= b):
            return k
    return None


def _splice(children: list[Token], inserts: list[tuple[int, int, int, Token]]) -> list[Token]:
    by_child: dict[int, list[tuple[int, int, Token]]] = {}
    for c, o, order, t in inserts:
        by_child.setdefault(c, []).append((o, order, t))
    out: list[Token] = []
    for k, child in enumerate(children):
        if k not in by_child:
            out.append(child)
            continue
        points = sorted(by_child[k], key=lambda x: (x[0], x[1]))
        if child.type != "text":
            # zero-width markup: offset 0 means before it, 1 means after it
            out.extend(t for o, _, t in points if o == 0)
            out.append(child)
            out.extend(t for o, _, t in points if o > 0)
            continue
        content = child.content
        last = 0
        for o, _, t in points:
            if o > last:
                out.append(_text(content[last:o]))
                last = o
            out.append(t)
        if last < len(content):
            out.append(_text(content[last:]))
    return out


def _text(content: str) -> Token:
    t = Token("text", "", 0)
    t.content = content
    return t


def _sentence(visible: list[str], starts: list[int], children: list[Token], m: Match) -> str:
    """The sentence around a mention, as the reader sees it (link and code text included)."""
    k0 = _child_at(starts, m.start, children, end=False)
    k1 = _child_at(starts, m.end, children, end=True)
    before = "".join(visible[:k0]) + visible[k0][: m.start - starts[k0]]
    after = visible[k1][m.end - starts[k1]:] + "".join(visible[k1 + 1:])
    name = "".join(visible[k0:k1 + 1])[m.start - starts[k0]:]
    name = name[: len(name) - (len(visible[k1]) - (m.end - starts[k1]))]
    a = 0
    for found in _SENTENCE_END.finditer(before):
        a = found.end()
    b_match = _SENTENCE_END.search(after)
    b = b_match.end() if b_match else len(after)
    return " ".join((before[a:] + name + after[:b]).split())


def _source_col(doc: Document, line: int, needle: str) -> int:
    lines = doc.body.split("\n")
    k = line - doc.body_line
    if 0 <= k < len(lines):
        return max(lines[k].find(needle), 0)
    return 0
