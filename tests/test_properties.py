"""Invariants of linking and building, on random Markdown-ish bodies (hypothesis).

For bodies drawn from a vocabulary of glossary terms, near-misses, punctuation, emphasis
markers, backticks, brackets, newlines, both apostrophes and non-breaking spaces:

(a) strip the entity links' tags and you get exactly the body rendered with no glossary,
    and exactly the body of the same article with ``nolink: true``;
(b) no link is ever inside another link;
(c) no entity link is inside code, pre, a heading or another link;
(d) a second build, and a kept-alive (incremental) builder, give byte-identical output.
"""

from __future__ import annotations

import html.parser
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import write_article, write_glossary
from site_builder.build import Builder

GLOSSARY = [
    {"slug": "russia", "title": "Russia", "type": "GPE"},
    {"slug": "north-korea", "title": "North Korea", "aliases": ["DPRK"], "type": "GPE"},
    {"slug": "korea", "title": "Korea", "type": "GPE"},
    {"slug": "wagner-group", "title": "Wagner Group", "aliases": ["Wagner"], "type": "ORG"},
    {"slug": "united-states", "title": "United States", "aliases": ["US"], "type": "GPE"},
    {"slug": "kim-jong-un", "title": "Kim Jong Un", "type": "PERSON"},
]

VOCABULARY = [
    # terms, and words next to which they are or are not mentions
    "Russia", "North Korea", "Korea", "South Korea", "DPRK", "Wagner", "Wagner Group", "US", "us",
    "United States", "Kim Jong Un", "Robert", "President", "Russian", "Iranian", "the", "and", "said",
    "North\u00a0Korea", "North\nKorea", "North  Korea", "Russia’s", "Russia's", "RUSSIA", "Russia-backed",
    "&nbsp;", "&#x2019;s", "\u00ad", "\u200b", "[^1]", "\n\n[^1]: ",
    # punctuation, apostrophes, spaces
    ".", ",", ";", ":", "!", "?", "’s", "'s", "’", "'", '"', "\u00a0", " ", "  ", "&", "&amp;", "\\",
    # emphasis, code, brackets, links, images, raw HTML
    "*", "**", "_", "__", "~~", "`", "``", "```", "[", "]", "(", ")", "<", ">", "<b>", "</b>",
    "[a link](http://example.org)", "[Russia](http://example.org/r)", "`Russia`", "![Russia](/x.png)",
    "<https://example.org/Russia>",
    # block structure
    "\n", "\n\n", "\n# ", "\n## ", "\n> ", "\n- ", "\n1. ", "\n    ", "\n---\n", "\n| a | b |\n|---|---|\n| ",
]

SEPARATORS = ["", " ", " ", " ", "\n"]

bodies = st.lists(st.tuples(st.sampled_from(VOCABULARY), st.sampled_from(SEPARATORS)), min_size=1, max_size=40) \
    .map(lambda parts: "".join(w + s for w, s in parts))

ENTITY_OPEN = re.compile(r'<a href="[^"]*" class="entity" data-entity="[^"]*">')
ANY_A = re.compile(r"<a\b[^>]*>|</a>")


def strip_entity_links(html_text: str) -> str:
    """Remove every entity link's opening tag and its matching closing tag."""
    out = []
    stack: list[bool] = []  # for each open <a>: is it an entity link?
    pos = 0
    for m in ANY_A.finditer(html_text):
        out.append(html_text[pos:m.start()])
        pos = m.end()
        tag = m.group(0)
        if tag == "</a>":
            if stack and stack.pop():
                continue
        else:
            entity = bool(ENTITY_OPEN.fullmatch(tag))
            stack.append(entity)
            if entity:
                continue
        out.append(tag)
    out.append(html_text[pos:])
    return "".join(out)


class _Nesting(html.parser.HTMLParser):
    """Records each problem: a link inside a link, an entity link inside an excluded zone."""

    EXCLUDED = {"code", "pre", "h1", "h2", "h3", "h4", "h5", "h6"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = {t: 0 for t in self.EXCLUDED | {"a"}}
        self.problems: list[str] = []
        self.entities = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.depth:
            return
        if tag == "a":
            if self.depth["a"]:
                self.problems.append(f"<a> inside <a> at {self.getpos()}")
            if dict(attrs).get("class") == "entity":
                self.entities += 1
                inside = [t for t in self.EXCLUDED if self.depth[t]]
                if inside:
                    self.problems.append(f"entity link inside <{inside[0]}> at {self.getpos()}")
        self.depth[tag] += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self.depth and self.depth[tag]:
            self.depth[tag] -= 1


def nesting_problems(html_text: str) -> list[str]:
    p = _Nesting()
    p.feed(html_text)
    p.close()
    return p.problems


class Sites:
    """Two tiny sites kept for the whole module, rewritten for each example: one with the
    glossary (the body twice: linked, and with nolink: true), one with no glossary."""

    def __init__(self, root: Path):
        self.glossary_site = root / "with-glossary"
        self.plain_site = root / "no-glossary"
        write_glossary(self.glossary_site, GLOSSARY)
        (self.plain_site / "content" / "glossary").mkdir(parents=True)
        self.glossary_builder = Builder(str(self.glossary_site))
        self.plain_builder = Builder(str(self.plain_site))

    def write(self, body: str) -> None:
        write_article(self.glossary_site, "linked", body + "\n")
        write_article(self.glossary_site, "unlinked", body + "\n", extra="nolink: true\n")
        write_article(self.plain_site, "plain", body + "\n")

    def bodies(self, body: str) -> tuple[str, str, str]:
        self.write(body)
        g = self.glossary_builder.run()
        p = self.plain_builder.run()
        return (g.linked[("article", "linked")].body_html, g.linked[("article", "unlinked")].body_html,
                p.linked[("article", "plain")].body_html)


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Sites:
    return Sites(tmp_path_factory.mktemp("properties"))


PROPERTY = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                           HealthCheck.too_slow])


@PROPERTY
@given(body=bodies)
def test_linking_never_changes_the_visible_text(sites: Sites, body: str) -> None:
    linked, unlinked, plain = sites.bodies(body)
    assert ENTITY_OPEN.search(unlinked) is None and ENTITY_OPEN.search(plain) is None
    assert unlinked == plain
    assert strip_entity_links(linked) == plain


@PROPERTY
@given(body=bodies)
def test_links_never_nest_and_never_enter_excluded_zones(sites: Sites, body: str) -> None:
    linked, _, _ = sites.bodies(body)
    assert nesting_problems(linked) == []


@PROPERTY
@given(body=bodies)
def test_a_second_build_and_a_kept_alive_builder_are_byte_identical(sites: Sites, body: str) -> None:
    sites.write(body)
    kept_alive = sites.glossary_builder.run()
    fresh = Builder(str(sites.glossary_site)).run()
    again = Builder(str(sites.glossary_site)).run()
    assert fresh.files == again.files
    assert kept_alive.files == fresh.files
    assert [d.format() for d in kept_alive.diagnostics] == [d.format() for d in fresh.diagnostics]
    assert {k: v.body_html for k, v in kept_alive.linked.items()} == {k: v.body_html for k, v in fresh.linked.items()}


def test_strip_entity_links_helper() -> None:
    linked = ('<p><a href="/glossary/russia/" class="entity" data-entity="russia">Russia</a> and '
              '<a href="http://x.org">a <em>link</em></a></p>')
    assert strip_entity_links(linked) == '<p>Russia and <a href="http://x.org">a <em>link</em></a></p>'
    assert nesting_problems('<h2><a href="/g/" class="entity">X</a></h2>') != []
    assert nesting_problems('<a href="/x"><a href="/y">y</a></a>') != []
    assert nesting_problems(linked) == []
