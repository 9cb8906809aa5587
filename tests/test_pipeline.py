"""The pipeline's own promises: a page type is one function and one template, and
incremental builds follow what it declares it reads; every card comes from the theme's
(or the site's) partials/cards.html; a warm one-shot build links its few edits in a
helper that imported spaCy meanwhile, and does without it if the helper fails."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from conftest import body_of, run_cli, write_article, write_glossary
from site_builder.assemble import PAGE_TYPES, Page, PageType, Site
from site_builder.build import Builder

GLOSSARY = [
    {"slug": "kim-jong-un", "title": "Kim Jong Un", "type": "PERSON"},
    {"slug": "sergei-shoigu", "title": "Sergei Shoigu", "type": "PERSON"},
    {"slug": "russia", "title": "Russia", "type": "GPE"},
]


def site_with_people(site: Path) -> Path:
    write_glossary(site, GLOSSARY)
    write_article(site, "visit", "Sergei Shoigu visited Kim Jong Un, Russia said.\n", date="2023-07-27")
    write_article(site, "other", "See [[visit]].\n\n::: related\nvisit\nrussia\n:::\n", date="2023-07-28")
    return site


# -- adding a page type: one function (here, in the test) and one template -----------------


def people_page(site: Site, key: str) -> Page:
    """Every person in the glossary, on one page."""
    people = [e for e in site.entries if e.type == "PERSON"]

    def context(site: Site, tools: Any) -> dict[str, Any]:
        return {"page": {"title": "People", "url": site.root + "people/", "description": "", "kind": "people"},
                "people": [site.entry_card(e) for e in people]}
    return Page("people/index.html", "people.html", ("entries",) + tuple("header:" + e.slug for e in people), context)


PEOPLE = PageType("people", lambda site: [""], people_page)
PEOPLE_TEMPLATE = ('{% extends "base.html" %}{% block content %}<ul id="people">'
                   '{% for p in people %}<li>{{ p.title }}</li>{% endfor %}</ul>{% endblock %}\n')


def test_a_new_page_type_is_one_function_and_one_template(tmp_path: Path) -> None:
    site = site_with_people(tmp_path / "site")
    (site / "templates").mkdir()
    (site / "templates" / "people.html").write_text(PEOPLE_TEMPLATE)
    builder = Builder(str(site), page_types=PAGE_TYPES + (PEOPLE,))
    first = builder.run()
    assert first.ok, first.diagnostics
    assert "<li>Kim Jong Un</li><li>Sergei Shoigu</li>" in first.files["people/index.html"].decode()
    # An edit the page does not show leaves it alone...
    write_article(site, "visit", "Sergei Shoigu visited Kim Jong Un again, Russia said.\n", date="2023-07-27")
    assert builder.run().files["people/index.html"] is first.files["people/index.html"]
    # ...a retitled person re-renders it (it declared that entry's header as an input)
    entry = site / "content" / "glossary" / "kim-jong-un.md"
    entry.write_text(entry.read_text().replace('title: "Kim Jong Un"', 'title: "Kim Jong-un"'))
    again = builder.run()
    assert "<li>Kim Jong-un</li>" in again.files["people/index.html"].decode()
    fresh = Builder(str(site), page_types=PAGE_TYPES + (PEOPLE,)).run()
    assert again.files == fresh.files


def test_overriding_the_card_partial_changes_every_card(tmp_path: Path) -> None:
    from site_builder.render import THEME_TEMPLATES

    site = site_with_people(tmp_path / "site")
    # a third article, so that "Related reading" has a piece the body does not already show
    write_article(site, "talks", "Russia held talks.\n", date="2023-07-29")
    (site / "templates" / "partials").mkdir(parents=True)
    theme = (Path(THEME_TEMPLATES) / "partials" / "cards.html").read_text()
    mine = theme.replace('<ul class="cards{% if css %} {{ css }}{% endif %}">', '<ul class="my-cards {{ css }}">')
    assert mine != theme
    (site / "templates" / "partials" / "cards.html").write_text(mine)
    result = Builder(str(site)).run()
    assert result.ok, result.diagnostics
    page = result.files["articles/other/index.html"].decode()
    assert '<ul class="my-cards related-block">' in body_of(page)  # the cards inside the body
    assert '<ul class="my-cards related-reading">' in page  # and the "Related reading" section
    assert 'class="cards ' not in page


_WARM_BUILD = """
import sys
import site_builder.parallel as p
if sys.argv[1] == "crash":
    p._serve_helper = lambda conn, modules: None  # the helper process ends at once
from site_builder.cli import main
code = main(["build", "--site", sys.argv[2], "--jobs", "2"])
print("spacy imported here:", "spacy" in sys.modules)
sys.exit(code)
"""


def test_a_warm_edit_is_linked_by_the_helper_or_without_it(tmp_path: Path) -> None:
    for helper in ("works", "crash"):
        site = site_with_people(tmp_path / helper)
        for i in range(30):
            write_article(site, f"filler-{i}", f"Russia, day {i}.\n", date="2023-01-01")
        assert run_cli("build", "--site", str(site), "--jobs", "2").returncode == 0
        write_article(site, "visit", "Sergei Shoigu met Kim Jong Un in Pyongyang.\n", date="2023-07-27")
        done = subprocess.run([sys.executable, "-c", _WARM_BUILD, helper, str(site)], capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        assert "1 read, 1 linked" in done.stdout, done.stdout
        # with a working helper this process never needed spaCy; without one, it linked by itself
        assert f"spacy imported here: {helper == 'crash'}" in done.stdout, done.stdout
        cold = tmp_path / f"cold-{helper}"
        assert run_cli("build", "--site", str(site), "--out", str(cold), "--jobs", "1", "--no-cache").returncode == 0
        built = {p.relative_to(site / "public"): p.read_bytes() for p in (site / "public").rglob("*") if p.is_file()}
        assert built == {p.relative_to(cold): p.read_bytes() for p in cold.rglob("*") if p.is_file()}


_COUNT_HELPERS = """
import sys
import site_builder.parallel as p
started = []
real = p.Helper.__init__
def counting(self, modules):
    started.append(modules)
    real(self, modules)
p.Helper.__init__ = counting
from site_builder.cli import main
code = main(["build", "--site", sys.argv[1], "--jobs", "2"])
print("helpers started:", len(started))
sys.exit(code)
"""


def test_a_build_with_nothing_to_do_starts_no_helper(tmp_path: Path) -> None:
    """The helper (spaCy imported on the other core) starts only once the build knows it
    has something to link: a build with nothing changed stays a small, quick process."""
    site = site_with_people(tmp_path / "site")
    assert run_cli("build", "--site", str(site), "--jobs", "2").returncode == 0
    for change, helpers in ((None, 0), ("Sergei Shoigu went to Pyongyang.\n", 1)):
        if change:
            write_article(site, "visit", change, date="2023-07-27")
        done = subprocess.run([sys.executable, "-c", _COUNT_HELPERS, str(site)], capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stderr
        assert f"helpers started: {helpers}" in done.stdout, done.stdout
