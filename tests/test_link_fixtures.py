"""Linking and cross-reference cases from plain-text fixture files.

Each case in tests/fixtures/linking*.md and xrefs*.md is: a title line, '.', the
Markdown of an article body, '.', the expected body HTML of the built page, '.'. The glossary is
tests/fixtures/glossary.yaml. Add a case by adding a block; no Python needed.
A body that starts with a line '<!-- link: all -->' is built with link: all.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import body_of, fixture_params, glossary_entries, write_article, write_glossary
from site_builder.build import Builder
from site_builder.refs import resolve, resolve_body

OTHER_ARTICLES = {
    "background-piece": ("Background: the arms trade", "2023-03-01"),
    "draft-piece": ("Unpublished", "2023-03-02"),
}


def render_body(tmp_path: Path, source: str) -> tuple[str, list[str]]:
    site = tmp_path / "site"
    write_glossary(site, glossary_entries())
    for slug, (title, date) in OTHER_ARTICLES.items():
        write_article(site, slug, "Text.\n", title=title, date=date,
                      extra="draft: true\n" if slug.startswith("draft") else "")
    if source.startswith("<!-- link: all -->"):
        (site / "site.yaml").write_text("link: all\n")
        source = source.split("\n", 1)[1]
    write_article(site, "case", source + "\n")
    result = Builder(str(site)).run()
    problems = [d.format() for d in result.diagnostics if d.path.endswith("case.md")]
    if result.files is None:  # an error case: the page is not made, the link stage's body is what there is
        doc = result.linked[("article", "case")]  # (its marks filled in: cross-references, images unsized)
        return resolve_body(doc, resolve(doc, result.index), result.index, lambda headers: ""), problems
    return body_of(result.files["articles/case/index.html"].decode("utf-8")), problems


@pytest.mark.parametrize("source, expected", fixture_params("linking*.md") + fixture_params("xrefs*.md"))
def test_fixture(tmp_path: Path, source: str, expected: str) -> None:
    html, problems = render_body(tmp_path, source)
    if expected.startswith("error:"):
        assert any(expected[len("error:"):].strip() in p for p in problems), problems
    else:
        assert html.rstrip("\n") == expected.rstrip("\n"), html
