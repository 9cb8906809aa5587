"""A reader meets the entity previews in real Chromium (Playwright, Debian's /usr/bin/chromium)."""

from __future__ import annotations

import pytest

from conftest import copy_sample, run_cli, served

ARTICLE = "/articles/russia-north-korea-arms-for-food/"


@pytest.fixture(scope="module")
def sample_site(tmp_path_factory: pytest.TempPathFactory):
    """The sample site, built and served over HTTP on 127.0.0.1."""
    site = copy_sample(tmp_path_factory.mktemp("sample"))
    result = run_cli("build", "--site", str(site), "--no-cache")
    assert result.returncode == 0, result.stderr
    with served(site / "public") as url:
        yield url


def _card(page):
    return page.locator("#entity-preview")


def test_hover_shows_title_type_and_summary(browser, sample_site: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(sample_site + ARTICLE)
    link = page.locator('a.entity[data-entity="north-korea"]').first
    assert link.get_attribute("href") == "/glossary/north-korea/"
    link.hover()
    card = _card(page)
    card.wait_for(state="visible", timeout=5000)
    text = card.inner_text()
    assert "North Korea" in text
    assert "Place" in text  # the entry's type, GPE
    summary = page.evaluate("JSON.parse(document.getElementById('entity-previews').textContent)['north-korea'].summary")
    assert summary and summary in text
    assert link.get_attribute("aria-describedby") == "entity-preview"
    page.mouse.move(0, 0)
    card.wait_for(state="hidden", timeout=5000)
    assert link.get_attribute("aria-describedby") in (None, "")
    assert errors == []
    page.close()


def test_keyboard_focus_shows_card_and_escape_dismisses(browser, sample_site: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(sample_site + ARTICLE)
    # Tab through the page until an entity link has focus, like a keyboard user.
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('entity')"):
            break
    else:
        pytest.fail("no entity link was reachable with Tab")
    slug = page.evaluate("document.activeElement.dataset.entity")
    card = _card(page)
    card.wait_for(state="visible", timeout=5000)
    title = page.evaluate(f"JSON.parse(document.getElementById('entity-previews').textContent)['{slug}'].title")
    assert title in card.inner_text()
    page.keyboard.press("Escape")
    card.wait_for(state="hidden", timeout=5000)
    assert page.evaluate("document.activeElement.dataset.entity") == slug  # focus stays on the link
    page.close()


def test_card_stays_inside_a_phone_viewport(browser, sample_site: str) -> None:
    page = browser.new_page(viewport={"width": 320, "height": 640}, is_mobile=True, has_touch=True)
    page.goto(sample_site + ARTICLE)
    links = page.locator("a.entity")
    for i in range(min(links.count(), 6)):
        link = links.nth(i)
        link.scroll_into_view_if_needed()
        link.focus()
        card = _card(page)
        card.wait_for(state="visible", timeout=5000)
        box = card.bounding_box()
        assert box is not None
        assert box["x"] >= 0 and box["x"] + box["width"] <= 320, box
        page.keyboard.press("Escape")
    page.close()


def test_links_work_without_javascript(browser, sample_site: str) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(sample_site + ARTICLE)
    page.locator('a.entity[data-entity="wagner-group"]').first.click()
    page.wait_for_url("**/glossary/wagner-group/", timeout=5000)
    assert page.locator("h1").inner_text().strip() == "Wagner Group"
    # the glossary page lists the articles that mention the entry, with their sentence
    assert "Mentioned in" in page.content()
    assert page.locator("#entity-preview").count() == 0
    context.close()
