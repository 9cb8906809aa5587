"""No page shows the same article twice: what the body shows (cross-references and
``::: related`` blocks) is left out of the automatic picks and of "Referenced by", and
related reading still reaches its count where there are candidates. Checked on small
sites, on the sample site and on every golden site's output."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from conftest import write_article, write_glossary
from regen_golden import EXPECTED, SITES, site_folders
from site_builder.build import Builder
from test_build import copy_sample

ENTRIES = [{"slug": "russia", "title": "Russia", "type": "GPE"}, {"slug": "iran", "title": "Iran", "type": "GPE"}]


def shown_articles(html: str) -> list[str]:
    """The article URLs a page shows in <main>: the body's links once each (the body is
    one place), then every card and every "Mentioned in" item."""
    main = html.split('<main id="main"', 1)[-1].split("</main>", 1)[0]
    cards = re.findall(r'<li class="card card-article">\s*<a href="([^"]+)"', main)
    mentions = re.findall(r'<p class="mention-head"><a href="([^"]+)"', main)
    body = re.search(r'<div class="prose (?:article|entry)-body"[^>]*>\n(.*?)\n  </div>\n', main, re.S)
    inline = set()
    if body:
        text = re.sub(r'<ul class="cards.*?</ul>', "", body.group(1), flags=re.S)
        inline = {u for u in re.findall(r'<a href="([^"]+)"', text) if "/articles/" in u}
    return sorted(inline) + cards + mentions


def repeats(files: dict[str, bytes]) -> dict[str, list[str]]:
    found = {}
    for path, data in files.items():
        if path.endswith(".html") and isinstance(data, bytes):
            twice = [u for u, n in Counter(shown_articles(data.decode("utf-8"))).items() if n > 1]
            if twice:
                found[path] = twice
    return found


def site_with_links(root: Path) -> Path:
    write_glossary(root, ENTRIES)
    for i, day in enumerate(("03", "05", "07", "09", "11", "13")):
        write_article(root, f"other-{i}", "Russia and Iran again.\n", date=f"2023-03-{day}")
    write_article(root, "main", "Russia and Iran. See [[other-0]].\n\n::: related\nother-1\n:::\n",
                  date="2023-03-08", extra="related: [other-0, other-2]\n")
    write_article(root, "back", "Russia. Iran. About [[main]].\n", date="2023-03-08")
    return root


def test_picks_leave_out_what_the_body_shows_and_still_reach_three(tmp_path: Path) -> None:
    site = site_with_links(tmp_path / "site")
    result = Builder(str(site)).run()
    assert result.ok, [d.format() for d in result.diagnostics]
    picks = [(p.header.slug, p.explicit) for p in result.picks["main"]]
    assert picks[0] == ("other-2", True)  # other-0, also listed, is already in the body
    assert len(picks) == 3
    assert not {"other-0", "other-1", "main"} & {s for s, _ in picks}


def test_referenced_by_leaves_out_what_the_page_already_shows(tmp_path: Path) -> None:
    site = site_with_links(tmp_path / "site")
    write_article(site, "other-0", "Russia and Iran again. Back to [[main]].\n", date="2023-03-03")
    result = Builder(str(site)).run()
    assert result.ok
    page = result.files["articles/main/index.html"].decode()
    assert page.count('href="/articles/other-0/"') == 1  # inline only, not again under "Referenced by"
    assert Counter(shown_articles(page))["/articles/back/"] == 1  # in the picks or under "Referenced by"
    assert repeats(result.files) == {}


def test_an_edit_that_adds_a_cross_reference_takes_it_out_of_the_picks(tmp_path: Path) -> None:
    site = site_with_links(tmp_path / "site")
    builder = Builder(str(site))
    first = builder.run()
    auto = next(p.header.slug for p in first.picks["main"] if not p.explicit)
    write_article(site, "main", f"Russia and Iran. See [[other-0]] and [[{auto}]].\n\n::: related\nother-1\n:::\n",
                  date="2023-03-08", extra="related: [other-0, other-2]\n")
    again = builder.run()
    assert auto not in {p.header.slug for p in again.picks["main"]}
    assert len(again.picks["main"]) == 3
    assert again.files == Builder(str(site)).run().files  # the same bytes as a clean build


def test_the_sample_site_shows_no_article_twice(tmp_path: Path) -> None:
    result = Builder(str(copy_sample(tmp_path / "site"))).run()
    assert result.ok
    assert repeats(result.files) == {}
    page = result.files["articles/russia-north-korea-arms-for-food/index.html"].decode()
    assert Counter(shown_articles(page))["/articles/north-korea-food-shortage/"] == 1


@pytest.mark.parametrize("golden", site_folders(SITES), ids=lambda p: p.name)
def test_no_golden_page_shows_an_article_twice(golden: Path) -> None:
    folder = golden / EXPECTED
    files = {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*.html")}
    assert files
    assert repeats(files) == {}
