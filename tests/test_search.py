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
    assert nk["meta"]["kind"] == "entry" and nk["meta"]["aliases"] == "DPRK"
    assert nk["filters"] == {"kind": ["entry"], "type": ["Place"]}  # kind: search.js looks for a named entry
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


def test_shard_counts_step_by_doubling_and_a_shard_only_ever_splits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search, "SHARD_DOCS", 10)
    assert [search.shard_count(n) for n in (0, 1, 10, 11, 20, 21, 40, 41)] == [1, 1, 1, 2, 2, 4, 4, 8]
    paths = [f"articles/a-{i}/index.html" for i in range(200)]
    for count in (1, 2, 4, 8):
        for p in paths:  # a document in shard n of 2c shards was in shard n mod c of c shards
            assert search.shard_of(p, 2 * count) % count == search.shard_of(p, count)


def sharded_site(site: Path) -> Path:
    """Sixteen documents: with SHARD_DOCS lowered to 4, they make four shards."""
    write_glossary(site, [{"slug": "wagner-group", "title": "Wagner Group", "aliases": ["Wagner"], "type": "ORG",
                           "body": "A Russian private military company."}])
    for i in range(15):
        write_article(site, f"report-{i}", f"Wagner was seen near Example{i}.\n", title=f"Report {i}",
                      date=f"2023-0{1 + i % 9}-1{i % 10}", extra=f"tags: [t{i % 3}]\n")
    return site


def test_a_warm_build_gives_a_cold_builds_bytes_and_indexes_one_shard_and_a_fresh_output_none(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search, "SHARD_DOCS", 4)
    site = sharded_site(tmp_path / "site")
    result, _ = publish(str(site))
    assert result.ok and result.search is not None
    shards = json.loads((site / "public" / "pagefind" / "shards.json").read_text())["shards"]
    assert len(shards) == 3 and result.search.indexed == 4  # the first shard is pagefind/ itself
    for folder in shards:  # each shard is an index of its own, merged in the browser; the code is the first's
        assert (site / "public" / "pagefind" / folder / "pagefind-entry.json").is_file()
        assert not (site / "public" / "pagefind" / folder / "pagefind.js").exists()
    write_article(site, "report-3", "Wagner was seen near Zanzibarville.\n", title="Report 3", date="2023-04-13",
                  extra="tags: [t0]\n")
    result, _ = publish(str(site))  # warm: one document changed, one shard indexed again
    assert result.ok and result.search.indexed == 1
    warm = tree(site / "public")
    result, _ = publish(str(site), out=str(tmp_path / "ci"))  # a deploy: a fresh output, the cache restored
    assert result.ok and result.search.indexed == 0
    assert tree(tmp_path / "ci") == warm
    result, _ = publish(str(site), out=str(tmp_path / "cold"), cache=False)
    assert result.ok and result.search.indexed == 4
    assert tree(tmp_path / "cold") == warm  # same input, same bytes, however the index was come by
