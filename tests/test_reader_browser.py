"""A reader of the sample site in real Chromium (Playwright, Debian's /usr/bin/chromium):
the table of contents and heading anchors, on a wide and a narrow screen."""

from __future__ import annotations

import functools
import http.server
import shutil
import threading

import pytest

from conftest import ROOT, run_cli

ARTICLE = "/articles/russia-north-korea-arms-for-food/"


@pytest.fixture(scope="module")
def sample_site(tmp_path_factory: pytest.TempPathFactory):
    """The sample site, built and served over HTTP on 127.0.0.1."""
    site = tmp_path_factory.mktemp("sample")
    for name in ("content", "templates"):
        shutil.copytree(ROOT / name, site / name)
    shutil.copy(ROOT / "site.yaml", site / "site.yaml")
    result = run_cli("build", "--site", str(site), "--no-cache")
    assert result.returncode == 0, result.stderr
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site / "public"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def test_contents_sit_beside_the_text_and_lead_to_their_sections(browser, sample_site: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(sample_site + ARTICLE)
    link = page.locator(".toc-list a", has_text="Why food")
    assert link.is_visible()  # open on a wide screen, without a click
    toc, body = page.locator(".toc").bounding_box(), page.locator(".article-body").bounding_box()
    assert toc and body and toc["x"] + toc["width"] <= body["x"]  # beside the text
    link.click()
    page.wait_for_function("location.hash === '#why-food'")
    heading = page.locator("h2#why-food")
    box = heading.bounding_box()
    assert box is not None and 0 <= box["y"] < 800
    assert page.locator(".toc").bounding_box()["y"] >= 0  # sticky: still in view far down the page
    assert page.locator(".toc-list a", has_text="Why food").is_visible()
    page.close()


def test_contents_fold_on_a_phone(browser, sample_site: str) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 800}, is_mobile=True, has_touch=True)
    page.goto(sample_site + ARTICLE)
    link = page.locator(".toc-list a", has_text="Why food")
    assert not link.is_visible()
    page.locator(".toc summary").tap()
    assert link.is_visible()
    link.tap()
    page.wait_for_function("location.hash === '#why-food'")
    page.close()


def test_a_heading_anchor_links_to_its_section(browser, sample_site: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(sample_site + ARTICLE)
    anchor = page.locator("h2#what-was-announced a.header-anchor")
    assert anchor.get_attribute("href") == "#what-was-announced"
    anchor.focus()
    assert page.evaluate("getComputedStyle(document.activeElement).opacity") == "1"  # visible to keyboard users
    name = page.evaluate("document.activeElement.getAttribute('aria-label')")
    assert "What was announced" in name
    page.keyboard.press("Enter")
    page.wait_for_function("location.hash === '#what-was-announced'")
    page.goto(sample_site + ARTICLE + "#sanctions-on-the-same-day")  # a shared section link
    box = page.locator("h2#sanctions-on-the-same-day").bounding_box()
    assert box is not None and 0 <= box["y"] < 800
    page.close()
