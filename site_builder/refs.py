"""Cross-references and related blocks looked up in the index (a map over linked
documents, cheap): which ones resolve, the errors for those that do not, and the text
that stands in a body or a mention sentence where each one's mark was left."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from site_builder import markdown
from site_builder.errors import Diagnostic, warning
from site_builder.index import SiteIndex, unresolved
from site_builder.model import MARK, ArticleHeader, BodyImage, EntryHeader, LinkedDocument, Ref


@dataclass(frozen=True)
class Resolved:
    """A document's cross-references and related items (``LinkedDocument.refs``) looked up:
    the target slug of each (None when it resolves to nothing this build shows, or to the
    document itself), and what went wrong."""

    targets: tuple[str | None, ...]
    diagnostics: tuple[Diagnostic, ...]

    def found(self) -> list[str]:
        """The slugs that resolved, in document order (repeats kept)."""
        return [t for t in self.targets if t is not None]


def resolve(doc: LinkedDocument, index: SiteIndex) -> Resolved:
    path = doc.path
    targets: list[str | None] = []
    diags: list[Diagnostic] = []
    for ref in doc.refs:
        what = "cross-reference" if ref.block < 0 else "related item"
        problem = unresolved(index, ref.slug, path, ref.line, ref.col, what, "xref")
        if problem is not None:
            diags.append(problem)
            targets.append(None)
        elif ref.slug == doc.slug:
            diags.append(warning(path, ref.line, ref.col, "xref.self",
                                 f"{what} '{ref.slug}' points at this page itself; it is dropped",
                                 "remove the reference"))
            targets.append(None)
        else:
            targets.append(ref.slug)
    return Resolved(tuple(targets), tuple(diags))


def _link_text(ref: Ref, target: str | None, index: SiteIndex) -> str:
    header = index.header(target) if target is not None else None
    return markdown.typeset(ref.text or (header.title if header is not None else ref.slug))


def resolve_text(text: str, doc: LinkedDocument, resolved: Resolved, index: SiteIndex) -> str:
    """A mention sentence with each cross-reference's mark replaced by what a reader sees."""
    if MARK not in text:
        return text
    parts = text.split(MARK)
    for i in range(1, len(parts), 2):
        n = int(parts[i][1:])
        parts[i] = _link_text(doc.refs[n], resolved.targets[n], index)
    return " ".join("".join(parts).split())


def resolve_body(doc: LinkedDocument, resolved: Resolved, index: SiteIndex,
                 cards: Callable[[list[ArticleHeader | EntryHeader]], str],
                 image: Callable[[BodyImage], str] = lambda im: plain_image(im, *LAZY)) -> str:
    """The body's HTML with its marks filled in: a link for each cross-reference (its
    text where it resolves to nothing), ``cards(headers)`` for each related block,
    ``image(body_image)`` for each image of the site's own. A block leaves out the pages
    the text cross-references and those an earlier block shows: a page is shown once."""
    html = doc.body_html
    if MARK not in html:
        return html
    shown = {t for r, t in zip(doc.refs, resolved.targets) if r.block < 0 and t is not None}
    parts = html.split(MARK)
    for i in range(1, len(parts), 2):
        kind, n = parts[i][0], int(parts[i][1:])
        if kind == "x":
            ref, target = doc.refs[n], resolved.targets[n]
            text = _link_text(ref, target, index)
            header = index.header(target) if target is not None else None
            parts[i] = markdown.render_text(text) if header is None else \
                markdown.render_xref(index.url(header.slug), header.kind, header.slug, text)
        elif kind == "i":
            parts[i] = image(doc.images[n])
        else:
            slugs = [t for r, t in zip(doc.refs, resolved.targets) if r.block == n and t is not None and t not in shown]
            shown.update(slugs)
            headers = [h for h in map(index.header, dict.fromkeys(slugs)) if h is not None]
            parts[i] = cards(headers) if headers else ""
    return "".join(parts)


LAZY = (("loading", "lazy"), ("decoding", "async"))  # an image whose size this page does not know


def plain_image(im: BodyImage, *attrs: tuple[str, str | int]) -> str:
    """A body image as written (``src``, ``alt``, ``title``), then ``attrs``."""
    return markdown.image_html([("src", im.src), ("alt", im.alt), *([("title", im.title)] if im.title else []),
                                *attrs])
