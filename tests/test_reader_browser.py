"""A reader of the sample site in real Chromium (Playwright, Debian's /usr/bin/chromium):
the table of contents and heading anchors, on a wide and a narrow screen."""

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


def wait_in_view(page, selector: str) -> None:
    """Until the element's top is inside the viewport (the theme scrolls smoothly)."""
    page.wait_for_function("""(sel) => { const r = document.querySelector(sel).getBoundingClientRect();
                                          return r.top >= 0 && r.top < innerHeight; }""", arg=selector)


def test_contents_sit_beside_the_text_and_lead_to_their_sections(browser, sample_site: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(sample_site + ARTICLE)
    link = page.locator(".toc-list a", has_text="Why food")
    assert link.is_visible()  # open on a wide screen, without a click
    toc, body = page.locator(".toc").bounding_box(), page.locator(".article-body").bounding_box()
    assert toc and body and toc["x"] + toc["width"] <= body["x"]  # beside the text
    link.click()
    page.wait_for_function("location.hash === '#why-food'")
    wait_in_view(page, "h2#why-food")
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


def test_contents_fold_and_unfold_by_clicking_at_390_px(browser, sample_site: str) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 800})
    page.goto(sample_site + ARTICLE)
    summary, link = page.locator(".toc summary"), page.locator(".toc-list a", has_text="Why food")
    is_open = "document.querySelector('.toc-details').open"
    assert not page.evaluate(is_open) and not link.is_visible()  # folded on a narrow screen
    summary.click()
    assert page.evaluate(is_open) and link.is_visible()
    summary.click()
    assert not page.evaluate(is_open) and not link.is_visible()  # folded again
    summary.click()
    link.click()
    page.wait_for_function("location.hash === '#why-food'")
    wait_in_view(page, "h2#why-food")  # the link leads to its section
    page.close()


BODY_IMAGE = "img[src='/images/disclosures-timeline.png']"


def test_a_body_image_has_its_box_before_it_loads(browser, sample_site: str) -> None:
    """The body image's width and height reserve its box: it is the same size before the file
    arrives (held back here) and after, and the text below it does not move."""
    page = browser.new_page(viewport={"width": 390, "height": 800})
    held = []
    page.route("**/images/disclosures-timeline*", lambda route: held.append(route))  # no answer until checked
    page.goto(sample_site + ARTICLE, wait_until="domcontentloaded")
    image = page.locator(BODY_IMAGE)
    assert (image.get_attribute("width"), image.get_attribute("height")) == ("1600", "800")
    assert image.get_attribute("loading") == "lazy" and "480w" in image.get_attribute("srcset")
    where = """(sel) => { const r = document.querySelector(sel).getBoundingClientRect();
                          return [r.width, r.height, r.top + scrollY]; }"""
    with page.expect_request("**/images/disclosures-timeline*"):
        image.scroll_into_view_if_needed()  # near the screen: the lazy image is asked for
    assert page.evaluate(f"document.querySelector(\"{BODY_IMAGE}\").naturalWidth") == 0  # not here yet
    width, height, _ = before = page.evaluate(where, BODY_IMAGE)
    assert width > 300 and abs(height - width / 2) < 1  # its final box, from width and height
    below = page.evaluate(where, "h2#why-food")
    for route in held:
        route.continue_()
    page.wait_for_function("(sel) => { const i = document.querySelector(sel); return i.complete && i.naturalWidth > 0; }",
                           arg=BODY_IMAGE)
    assert page.evaluate(where, BODY_IMAGE) == before and page.evaluate(where, "h2#why-food") == below
    assert page.evaluate(f"document.querySelector(\"{BODY_IMAGE}\").currentSrc").endswith(".480w.png")  # a phone's copy
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
    page.close()
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(sample_site + ARTICLE + "#sanctions-on-the-same-day", wait_until="load")  # a shared section link
    wait_in_view(page, "h2#sanctions-on-the-same-day")
    page.close()


def _phone(browser):
    return browser.new_page(viewport={"width": 390, "height": 800}, is_mobile=True, has_touch=True)


def test_a_tap_previews_a_second_tap_follows(browser, sample_site: str) -> None:
    page = _phone(browser)
    page.goto(sample_site + ARTICLE)
    link = page.locator('a.entity[data-entity="north-korea"]').first
    link.scroll_into_view_if_needed()
    card = page.locator("#entity-preview")
    link.tap()
    card.wait_for(state="visible", timeout=5000)
    assert page.url == sample_site + ARTICLE  # the first tap stays on the page
    assert "North Korea" in card.inner_text()
    open_link = card.locator("a.entity-preview-open")
    assert open_link.is_visible() and open_link.get_attribute("href") == "/glossary/north-korea/"
    assert page.evaluate("document.getElementById('entity-preview').closest('main') !== null")
    link.tap()  # the second tap follows the link
    page.wait_for_url(sample_site + "/glossary/north-korea/")
    page.go_back()
    page.wait_for_url(sample_site + ARTICLE)
    assert not page.locator("#entity-preview").is_visible()  # no card stuck open after Back
    page.close()


def test_the_cards_open_link_follows_and_a_tap_elsewhere_closes(browser, sample_site: str) -> None:
    page = _phone(browser)
    page.goto(sample_site + ARTICLE)
    link = page.locator('a.entity[data-entity="russia"]').first
    link.scroll_into_view_if_needed()
    card = page.locator("#entity-preview")
    link.tap()
    card.wait_for(state="visible", timeout=5000)
    page.locator("h1").tap()  # elsewhere
    card.wait_for(state="hidden", timeout=5000)
    assert page.url == sample_site + ARTICLE
    link.tap()
    card.wait_for(state="visible", timeout=5000)
    card.locator("a.entity-preview-open").tap()
    page.wait_for_url(sample_site + "/glossary/russia/")
    page.close()


def test_a_mouse_click_still_follows_at_once(browser, sample_site: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(sample_site + ARTICLE)
    page.locator('a.entity[data-entity="russia"]').first.click()
    page.wait_for_url(sample_site + "/glossary/russia/")
    page.close()


def test_glossary_filter_and_a_to_z(browser, sample_site: str) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 800}, is_mobile=True, has_touch=True)
    page.goto(sample_site + "/glossary/")
    box = page.locator("#glossary-filter-input")
    assert box.is_visible()  # the script shows the box
    total = page.locator(".glossary-item").count()
    box.fill("kirby")
    assert page.locator(".glossary-item:visible").count() == 1
    assert page.locator(".glossary-item:visible a").inner_text() == "John Kirby"
    assert page.locator("#glossary-filter-count").inner_text() == f"1 of {total} entries"
    assert not page.locator("#letter-r").is_visible()  # a letter left without entries hides
    box.fill("orgánisation")  # accents and case do not matter; the type counts
    assert page.locator(".glossary-item:visible").count() >= 3
    box.fill("no such thing at all")
    assert page.locator(".glossary-item:visible").count() == 0 and page.locator("#glossary-filter-empty").is_visible()
    box.press("Escape")
    assert page.locator(".glossary-item:visible").count() == total
    page.locator('.az-nav a[href="#letter-p"]').tap()
    page.wait_for_function("location.hash === '#letter-p'")
    wait_in_view(page, "#letter-p-heading")
    assert "Vladimir Putin" in page.locator("#letter-p").inner_text()  # a person under the surname
    assert "Kim Jong Un" in page.locator("#letter-k").inner_text()  # sort_as: family name first
    page.close()


def test_glossary_is_a_plain_list_without_javascript(browser, sample_site: str) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(sample_site + "/glossary/")
    assert not page.locator("#glossary-filter").is_visible()
    assert page.locator(".glossary-item:visible").count() == page.locator(".glossary-item").count() > 10
    context.close()


@pytest.fixture(scope="module")
def drafts_site(tmp_path_factory: pytest.TempPathFactory):
    """The sample site with one draft more, built with --drafts and served."""
    site = copy_sample(tmp_path_factory.mktemp("drafts"))
    (site / "content" / "articles" / "work-in-progress.md").write_text(
        "---\ntitle: Grain shipments, a first look\ndate: 2023-04-10\nsummary: Not finished yet.\n"
        "draft: true\n---\n\nRussia and North Korea, to be continued.\n", encoding="utf-8")
    result = run_cli("build", "--site", str(site), "--no-cache", "--drafts")
    assert result.returncode == 0, result.stderr
    with served(site / "public") as url:
        yield url


def test_a_draft_shows_its_badge(browser, drafts_site: str) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 800})
    page.goto(drafts_site + "/articles/work-in-progress/")
    badge = page.locator(".draft-badge")
    assert badge.is_visible() and "draft" in badge.inner_text().lower()
    assert page.locator(".draft-badge").bounding_box()["y"] < page.locator("h1").bounding_box()["y"]
    page.goto(drafts_site + "/")
    assert page.locator(".teaser-title", has_text="Grain shipments").locator(".draft-badge").is_visible()
    page.goto(drafts_site + ARTICLE)
    assert page.locator(".draft-badge").count() == 0
    page.close()


PAGES = {"home": "/", "article": ARTICLE, "draft": "/articles/work-in-progress/", "glossary index": "/glossary/",
         "entry": "/glossary/john-kirby/", "tag": "/tags/sanctions/", "tags": "/tags/", "404": "/404.html"}


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [1280, 390])
def test_axe_finds_nothing_on_any_page_type(browser, drafts_site: str, width: int, scheme: str) -> None:
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    page = browser.new_page(viewport={"width": width, "height": 900}, color_scheme=scheme)
    found = {}
    for name, path in PAGES.items():
        page.goto(drafts_site + path)
        if name == "glossary index":
            page.locator("#glossary-filter-input").fill("a")  # the filter in use
        link = page.locator("a.entity, a[data-preview]").first
        if link.count():  # with a preview card open
            link.focus()
            page.locator("#entity-preview").wait_for(state="visible", timeout=5000)
        violations = axe.run(page, options={"resultTypes": ["violations"]}).response["violations"]
        if violations:
            found[name] = [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in violations]
    page.close()
    assert found == {}
