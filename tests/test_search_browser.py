"""Search in real Chromium (Playwright, Debian's /usr/bin/chromium): the index Pagefind's
binary made at build time, the /search/ page, the header's box, served with the
Content-Security-Policy of netlify.toml (so Pagefind's WebAssembly must work under it)."""

from __future__ import annotations

import functools
import json
import http.server
import os
import re
import threading
import tomllib
from pathlib import Path

import pytest
from playwright.sync_api import expect

from conftest import ROOT, copy_sample, run_cli, served, write_article, write_glossary

HEADERS = {k: v for h in tomllib.loads((ROOT / "netlify.toml").read_text())["headers"] if h["for"] == "/*"
           for k, v in h["values"].items()}


class Handler(http.server.SimpleHTTPRequestHandler):
    """A static server that sends the deploy's headers (CSP included), like Netlify."""

    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, ".js": "text/javascript",
                      ".wasm": "application/wasm"}

    def end_headers(self) -> None:
        for k, v in HEADERS.items():
            self.send_header(k, v)
        super().end_headers()

    def log_message(self, *args) -> None:
        pass


def serve(folder: Path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory):
    """The sample site, built (with its search index) and served over HTTP."""
    site = copy_sample(tmp_path_factory.mktemp("sample"))
    result = run_cli("build", "--site", str(site), "--no-cache")
    assert result.returncode == 0, result.stderr
    with served(site / "public", Handler) as url:
        yield url


def open_page(browser, url: str, **context):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, **context)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
    page.goto(url)
    return page, errors


def wait_results(page) -> list[str]:
    """The result titles, once the status line has said how many there are (waiting
    through Playwright's own script: the CSP forbids evaluating strings)."""
    expect(page.locator("#search-status")).to_have_text(re.compile(r"results?|No results"), timeout=15000)
    return page.locator(".search-result-title").all_inner_texts()


def test_an_alias_puts_its_entry_first(browser, sample: str) -> None:
    page, errors = open_page(browser, sample + "/search/")
    page.locator("#search-query").fill("DPRK")
    titles = wait_results(page)
    assert titles[0] == "North Korea", titles
    assert "Glossary" in page.locator(".search-result-meta").first.inner_text()
    assert len(titles) > 1  # the articles that mention it follow
    assert page.locator(".search-result-link").first.get_attribute("href") == "/glossary/north-korea/"
    assert errors == []
    page.context.close()


def test_a_deep_link_runs_its_query(browser, sample: str) -> None:
    page, errors = open_page(browser, sample + "/search/?q=Wagner")
    titles = wait_results(page)
    assert page.locator("#search-query").input_value() == "Wagner"
    assert titles[0] == "Wagner Group", titles
    status = page.locator("#search-status")
    assert status.get_attribute("role") == "status" and "Wagner" in status.inner_text()
    assert page.locator("#search-nojs").is_hidden()
    assert errors == []
    page.context.close()


def test_a_filter_narrows_the_results(browser, sample: str) -> None:
    page, errors = open_page(browser, sample + "/search/?q=Russia")
    wait_results(page)
    everything = page.locator("#search-status").inner_text()
    total = int(everything.split()[0])
    kinds = set(page.locator(".search-result-meta").all_inner_texts())
    assert any(k.startswith("Article") for k in kinds) and any(k.startswith("Glossary") for k in kinds)
    page.locator("#search-type").select_option("Place")
    expect(page.locator("#search-status")).not_to_have_text(everything, timeout=15000)
    narrowed = int(page.locator("#search-status").inner_text().split()[0])
    assert 0 < narrowed < total
    assert set(page.locator(".search-result-meta").all_inner_texts()) == {"Glossary · Place"}
    assert "type=Place" in page.url and "q=Russia" in page.url  # the narrowed search can be shared too
    assert errors == []
    page.context.close()


def test_keyboard_only(browser, sample: str) -> None:
    page, errors = open_page(browser, sample + "/articles/russia-north-korea-arms-for-food/")
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "site-search-box"
    page.keyboard.type("DPRK")
    page.keyboard.press("Enter")  # the header's box is a plain form to /search/
    page.wait_for_url("**/search/?q=DPRK")
    titles = wait_results(page)
    assert len(titles) >= 3
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "search-query"
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.textContent") == titles[0]
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    assert page.evaluate("document.activeElement.textContent") == titles[1]
    href = page.evaluate("document.activeElement.getAttribute('href')")
    page.keyboard.press("Enter")
    page.wait_for_url("**" + href)
    assert errors == []
    page.context.close()


def test_axe_finds_no_violations_with_results_shown(browser, sample: str) -> None:
    from axe_playwright_python.sync_playwright import Axe

    page, errors = open_page(browser, sample + "/search/?q=North%20Korea")
    assert wait_results(page)
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()
    assert errors == []
    page.context.close()


def test_without_javascript_the_page_says_so_and_links_the_glossary_and_tags(browser, sample: str) -> None:
    page, _ = open_page(browser, sample + "/articles/russia-north-korea-arms-for-food/", java_script_enabled=False)
    page.locator("#site-search-box").fill("Wagner")
    page.locator("#site-search-box").press("Enter")
    page.wait_for_url("**/search/?q=Wagner")
    note = page.locator("#search-nojs")
    assert note.is_visible() and "JavaScript" in note.inner_text()
    assert note.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))") == ["/glossary/", "/tags/"]
    page.context.close()


def ranking_site(site: Path) -> None:
    """One entry with an alias, and articles that each mention it once (some in their
    title, some newer than others), and a few that never do."""
    write_glossary(site, [{"slug": "wagner-group", "title": "Wagner Group", "aliases": ["Wagner", "PMC Wagner"],
                           "type": "ORG", "body": "A Russian private military company."}])
    for i in range(12):
        write_article(site, f"wagner-{i}", f"Wagner was seen near the town of Example{i}. Little else happened.\n",
                      title=f"Wagner report {i}", date=f"2023-0{1 + i % 9}-1{i % 10}")
    for i in range(3):
        write_article(site, f"other-{i}", "Nothing about any company here, only the weather.\n", title=f"Weather {i}")


def test_an_article_mentioning_an_entity_once_never_outranks_its_entry(browser, site: Path) -> None:
    ranking_site(site)
    result = run_cli("build", "--site", str(site))
    assert result.returncode == 0, result.stderr
    server, url = serve(site / "public")
    try:
        for query in ("Wagner", "wagner", "PMC Wagner", "Wagner Group"):
            page, errors = open_page(browser, url + "/search/?q=" + query.replace(" ", "%20"))
            titles = wait_results(page)
            assert titles[0] == "Wagner Group", (query, titles)
            assert all(t.startswith("Wagner report") for t in titles[1:]), titles
            assert errors == []
            page.context.close()
    finally:
        server.shutdown()


def test_a_site_under_a_sub_path_searches(browser, tmp_path: Path) -> None:
    site = tmp_path / "site"
    ranking_site(site)
    (site / "site.yaml").write_text("base_url: https://example.org/explainers/\n")
    result = run_cli("build", "--site", str(site))
    assert result.returncode == 0, result.stderr
    web = tmp_path / "web"
    web.mkdir()
    os.symlink(site / "public", web / "explainers")
    server, url = serve(web)
    try:
        page, errors = open_page(browser, url + "/explainers/search/?q=Wagner")
        titles = wait_results(page)
        assert titles[0] == "Wagner Group"
        hrefs = page.locator(".search-result-link").evaluate_all("links => links.map(a => a.getAttribute('href'))")
        assert hrefs[0] == "/explainers/glossary/wagner-group/"
        assert all(h.startswith("/explainers/") for h in hrefs)
        page.locator(".search-result-link").first.click()
        page.wait_for_url("**/explainers/glossary/wagner-group/")
        assert errors == []
        page.context.close()
    finally:
        server.shutdown()


def test_a_sharded_index_is_merged_in_the_browser(browser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A site big enough for several shards (the threshold lowered so that a small site
    has four), under a sub-path, after an edit that indexed one shard again: search.js
    merges every shard; results come from all of them, once each, linked under the
    sub-path, and the alias still puts its entry first."""
    from site_builder import search
    from site_builder.build import publish

    monkeypatch.setattr(search, "SHARD_DOCS", 4)
    site = tmp_path / "site"
    ranking_site(site)
    (site / "site.yaml").write_text("base_url: https://example.org/explainers/\n")
    write_article(site, "wagner-3", "Wagner was seen near Quillfeather. Little else happened.\n",
                  title="Wagner report 3", date="2023-04-13")
    assert publish(str(site))[0].ok
    write_article(site, "wagner-3", "Wagner was seen near Zanzibarville. Little else happened.\n",
                  title="Wagner report 3", date="2023-04-13")
    result, _ = publish(str(site))
    assert result.ok and result.search.indexed == 1
    assert len(json.loads((site / "public" / "pagefind" / "shards.json").read_text())["shards"]) == 3
    web = tmp_path / "web"
    web.mkdir()
    os.symlink(site / "public", web / "explainers")
    server, url = serve(web)
    try:
        page, errors = open_page(browser, url + "/explainers/search/?q=Zanzibarville")
        assert wait_results(page) == ["Wagner report 3"]
        page.goto(url + "/explainers/search/?q=Quillfeather")
        assert wait_results(page) == []  # the edited page's old text is gone from its shard
        page.goto(url + "/explainers/search/?q=Wagner")
        titles = wait_results(page)
        assert len(titles) == 10 and titles[0] == "Wagner Group"  # a page of results; the rest behind "More"
        assert page.locator("#search-status").inner_text().startswith("13 results")
        page.locator("#search-more").click()
        expect(page.locator(".search-result-title")).to_have_count(13)
        titles = page.locator(".search-result-title").all_inner_texts()
        assert sorted(titles) == sorted(["Wagner Group"] + [f"Wagner report {i}" for i in range(12)])
        hrefs = page.locator(".search-result-link").evaluate_all("links => links.map(a => a.getAttribute('href'))")
        assert all(h.startswith("/explainers/") for h in hrefs), hrefs
        page.goto(url + "/explainers/search/?q=Wagner&type=Organisation")
        assert wait_results(page) == ["Wagner Group"]  # a filter over merged shards
        assert errors == []
        page.context.close()
    finally:
        server.shutdown()


def test_serve_refreshes_the_index_after_an_edit(browser, tmp_path: Path) -> None:
    """The dev server indexes in the background, in a private folder (never public/): a
    word just saved into an article is found a moment after the reload."""
    from test_serve import ServerProcess, make_site, wait_for

    site = make_site(tmp_path / "site")
    server = ServerProcess(site, tmp_path)
    try:
        server.wait_ready()
        wait_for(lambda: server.request("/pagefind/pagefind-entry.json")[0] == 200, 120, "the first index")
        write_article(site, "drones", "Iran sold drones to Russia from Quetzalburg.\n", title="Drones from Iran",
                      date="2023-02-01", extra="tags: [iran]\n")
        page, errors = open_page(browser, server.url + "/search/")

        def found() -> bool:
            page.goto(server.url + "/search/?q=Quetzalburg")
            return wait_results(page) == ["Drones from Iran"]
        wait_for(found, 120, "the new word in the served index", 0.5)
        assert errors == []
        page.context.close()
    finally:
        server.stop()
    assert not (site / "public").exists()
