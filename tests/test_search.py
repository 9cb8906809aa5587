"""Search without a browser: what is indexed, the setting that turns it off, a failing
indexer, determinism. (tests/test_search_browser.py drives the page in Chromium.)"""

from __future__ import annotations

import gzip
import json
import os
import stat
from pathlib import Path

import pytest

from conftest import run_cli, write_article, write_glossary
from regen_golden import tree
from site_builder import search
from site_builder.build import publish
from site_builder.cli import main


def small_site(site: Path) -> Path:
    write_glossary(site, [
        {"slug": "russia", "title": "Russia", "type": "GPE", "body": "A country."},
        {"slug": "north-korea", "title": "North Korea", "aliases": ["DPRK"], "type": "GPE"},
    ])
    write_article(site, "deal", "Russia wants shells from North Korea.\n\n[[food]]\n", date="2023-03-30",
                  extra="tags: [russia, arms]\n")
    write_article(site, "food", "North Korea needs food.\n", date="2022-03-01", extra="tags: [food-only]\n")
    return site


def fragments(out: Path) -> dict[str, dict]:
    """Pagefind's fragments (what a result shows), by URL."""
    found = {}
    for path in (out / "pagefind" / "fragment").iterdir():
        raw = gzip.decompress(path.read_bytes())
        data = json.loads(raw[raw.index(b"{"):])
        found[data["url"]] = data
    return found


def test_a_build_indexes_articles_and_entries_with_their_metadata_and_filters(site: Path) -> None:
    small_site(site)
    result, _ = publish(str(site))
    assert result.ok, [d.format() for d in result.diagnostics]
    out = site / "public"
    assert (out / "search" / "index.html").is_file()
    entry = json.loads((out / "pagefind" / "pagefind-entry.json").read_text())
    assert entry["languages"]["en"]["page_count"] == 4
    found = fragments(out)
    assert set(found) == {"/articles/deal/", "/articles/food/", "/glossary/russia/", "/glossary/north-korea/"}
    deal = found["/articles/deal/"]
    assert deal["meta"]["kind"] == "article" and deal["meta"]["date"] == "2023-03-30"
    assert deal["meta"]["entities"] == "north-korea russia"
    assert {k: sorted(v) for k, v in deal["filters"].items()} == {"tag": ["arms", "russia"], "year": ["2023"]}
    assert "Russia wants shells" in deal["content"]
    assert "North Korea needs food" not in deal["content"]  # a related block's cards are not indexed text
    nk = found["/glossary/north-korea/"]
    assert nk["meta"]["kind"] == "entry" and nk["meta"]["aliases"] == "DPRK" and nk["filters"] == {"type": ["Place"]}
    assert "DPRK" in nk["content"]
    assert not [k for k in tree(out) if k.startswith("pagefind/pagefind-ui")]  # Pagefind's own UIs are not shipped
    page = (out / "articles" / "deal" / "index.html").read_text()
    assert 'action="/search/"' in page and 'name="q"' in page and "assets/search." in page


def test_search_false_turns_it_off(site: Path) -> None:
    small_site(site)
    (site / "site.yaml").write_text("search: false\n")
    result, _ = publish(str(site))
    assert result.ok
    files = tree(site / "public")
    assert not [k for k in files if k.startswith(("pagefind/", "search/"))]
    page = files["articles/deal/index.html"].decode()
    assert 'role="search"' not in page and "assets/search." not in page
    assert b"/search/" not in files["sitemap.xml"]


def test_search_must_be_true_or_false(site: Path) -> None:
    small_site(site)
    (site / "site.yaml").write_text("search: sometimes\n")
    proc = run_cli("check", "--site", str(site))
    assert proc.returncode == 1
    assert "site.yaml:1:" in proc.stderr and "'search' must be true or false" in proc.stderr


@pytest.fixture
def broken_indexer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Pagefind replaced by a program that fails."""
    fake = tmp_path / "pagefind"
    fake.write_text("#!/bin/sh\necho 'Error: out of luck' >&2\nexit 1\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setattr(search, "executable", lambda: str(fake))
    return fake


def test_check_never_runs_the_indexer(site: Path, broken_indexer: Path, capsys: pytest.CaptureFixture) -> None:
    small_site(site)
    assert main(["check", "--site", str(site)]) == 0


def test_a_failed_index_fails_the_build_and_keeps_the_old_site_and_index(site: Path,
                                                                         monkeypatch: pytest.MonkeyPatch,
                                                                         tmp_path: Path) -> None:
    small_site(site)
    result, _ = publish(str(site))
    assert result.ok
    before = tree(site / "public")
    write_article(site, "food", "North Korea needs food and fuel.\n", date="2022-03-01")
    fake = tmp_path / "pagefind"
    fake.write_text("#!/bin/sh\necho 'Error: out of luck' >&2\nexit 1\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setattr(search, "executable", lambda: str(fake))
    result, _ = publish(str(site))
    assert not result.ok
    problem = [d for d in result.diagnostics if d.code == "search.index"]
    assert problem and "out of luck" in problem[0].message and "search: false" in problem[0].hint
    assert tree(site / "public") == before
    assert not [p for p in os.listdir(site) if ".search-" in p]  # the indexer's folder beside the output is gone


def test_two_builds_give_the_same_index(tmp_path: Path) -> None:
    """Pagefind lists filters in hash-map order; search.canonical_bundle sorts them."""
    trees = []
    for n in range(3):
        site = small_site(tmp_path / f"s{n}")
        assert run_cli("build", "--site", str(site), "--no-cache").returncode == 0
        trees.append(tree(site / "public"))
    assert trees[0] == trees[1] == trees[2]
