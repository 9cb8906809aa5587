"""What a reader of a long explainer gets (issue 15): a table of contents and heading
anchors, reading time, dates that say when a story changed, sharing tags and structured
data, drafts made visible in preview. Browser checks are in test_reader_browser.py."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import body_of, write_article, write_glossary
from site_builder.build import Builder

ENTRIES = [{"slug": "russia", "title": "Russia", "type": "GPE"}]
SECTIONS = "Intro text.\n\n## First part\n\nOne.\n\n### A detail\n\nTwo.\n\n## Second `part`\n\nThree.\n\n## Third\n\nFour.\n"


def build(site: Path, **kw):
    result = Builder(str(site), **kw).run()
    assert result.ok, [d.format() for d in result.diagnostics]
    return result


def page(result, path: str) -> str:
    return result.files[path].decode("utf-8")


def test_three_sections_make_a_table_of_contents_with_anchors(site: Path) -> None:
    write_glossary(site, ENTRIES)
    write_article(site, "long", SECTIONS)
    html = page(build(site), "articles/long/index.html")
    toc = html.split('<nav class="toc"', 1)[1].split("</nav>", 1)[0]
    assert re.findall(r'<a href="#([^"]+)">([^<]+)</a>', toc) == [
        ("first-part", "First part"), ("a-detail", "A detail"), ("second-part", "Second part"), ("third", "Third")]
    body = body_of(html)
    for id_ in ("first-part", "a-detail", "second-part", "third"):
        assert f'id="{id_}"' in body
        assert f'<a class="header-anchor" href="#{id_}" aria-label="Link to the section' in body


def test_two_sections_make_no_table_of_contents(site: Path) -> None:
    write_glossary(site, ENTRIES)
    write_article(site, "short", "Text.\n\n## One\n\nA.\n\n## Two\n\nB.\n")
    html = page(build(site), "articles/short/index.html")
    assert 'class="toc"' not in html
    assert 'href="#one"' in body_of(html)  # the anchors are there all the same


def test_reading_time_follows_the_words(site: Path) -> None:
    write_glossary(site, ENTRIES)
    write_article(site, "brief", "Russia said little.\n")
    write_article(site, "long", " ".join(["word"] * 1150) + "\n\n```\n" + "code " * 5000 + "\n```\n")
    result = build(site)
    assert '<span class="reading-time">1 min read</span>' in page(result, "articles/brief/index.html")
    assert '<span class="reading-time">5 min read</span>' in page(result, "articles/long/index.html")  # code not read


def test_an_edit_to_the_sections_rerenders_the_contents(site: Path) -> None:
    write_glossary(site, ENTRIES)
    path = write_article(site, "long", SECTIONS)
    builder = Builder(str(site))
    assert builder.run().ok
    path.write_text(path.read_text().replace("## Third", "## Third and last"))
    again = builder.run()
    assert 'href="#third-and-last">Third and last</a>' in page(again, "articles/long/index.html")
    assert again.files == Builder(str(site)).run().files
