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


def test_a_draft_shows_a_badge_with_drafts_and_is_left_out_without(site: Path) -> None:
    write_glossary(site, ENTRIES)
    write_article(site, "done", "Russia.\n")
    write_article(site, "wip", "Russia, soon.\n", extra="draft: true\n")
    with_drafts = build(site, drafts=True)
    html = page(with_drafts, "articles/wip/index.html")
    assert '<p class="draft-badge"><strong>Draft</strong>' in html
    assert 'class="draft-badge' not in page(with_drafts, "articles/done/index.html")
    assert '<span class="draft-badge draft-badge-small">Draft</span>' in page(with_drafts, "index.html")
    without = build(site)
    assert "articles/wip/index.html" not in without.files and "Draft" not in page(without, "index.html")
    assert set(without.index.drafts) == {"wip"}


def test_new_prints_the_path_then_the_next_step(site: Path) -> None:
    from conftest import run_cli

    proc = run_cli("new", "article", "--site", str(site), "--", "Grain for shells")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "content/articles/grain-for-shells.md"  # only the path, for scripts
    assert "serve --drafts" in proc.stderr and "http://127.0.0.1:8000/articles/grain-for-shells/" in proc.stderr
    entry = run_cli("new", "term", "--site", str(site), "--", "Sergei Shoigu")
    assert "http://127.0.0.1:8000/glossary/sergei-shoigu/" in entry.stderr and "--drafts" not in entry.stderr


PEOPLE = [
    {"slug": "joe-biden", "title": "Joe Biden", "type": "PERSON"},
    {"slug": "antony-blinken", "title": "Antony Blinken", "type": "PERSON"},
    {"slug": "kim-jong-un", "title": "Kim Jong Un", "type": "PERSON"},
    {"slug": "russia", "title": "Russia", "type": "GPE"},
    {"slug": "ukraine", "title": "Ukraine", "type": "GPE"},
    {"slug": "zelensky", "title": "Zelensky", "type": "PERSON"},
    {"slug": "eu", "title": "Élysée Palace", "type": "ORG"},
]


def test_glossary_index_is_a_z_with_people_by_surname_and_sort_as(site: Path) -> None:
    write_glossary(site, PEOPLE)
    kim = site / "content" / "glossary" / "kim-jong-un.md"
    kim.write_text(kim.read_text().replace("type: PERSON\n", "type: PERSON\nsort_as: Kim Jong Un\n"))
    write_article(site, "deal", "Russia. Ukraine. Joe Biden. Antony Blinken. Kim Jong Un. Zelensky. Élysée Palace.\n")
    html = page(build(site), "glossary/index.html")
    sections = re.findall(r'<section class="glossary-letter" id="letter-(\w+)".*?</section>', html, re.S)
    assert sections == ["b", "e", "k", "r", "u", "z"]
    order = re.findall(r'<dt><a href="/glossary/([^/]+)/">', html)
    assert order == ["joe-biden", "antony-blinken", "eu", "kim-jong-un", "russia", "ukraine", "zelensky"]
    assert '<li><a href="#letter-b">B</a></li>' in html and '<li><span class="az-absent">A</span></li>' in html
    assert '<div class="glossary-filter" id="glossary-filter" hidden>' in html  # shown by the script only
    assert 'data-filter="elysee palace organisation"' in html


def test_an_entry_lists_the_entries_most_often_mentioned_with_it(site: Path) -> None:
    write_glossary(site, PEOPLE)
    write_article(site, "one", "Russia and Ukraine. Joe Biden spoke.\n", date="2023-03-01")
    write_article(site, "two", "Russia and Ukraine again.\n", date="2023-03-02")
    write_article(site, "three", "Russia and Antony Blinken.\n", date="2023-03-03")
    builder = Builder(str(site))
    html = page(builder.run(), "glossary/russia/index.html")
    together = html.split('<section class="page-section together"', 1)[1].split("</section>", 1)[0]
    assert re.findall(r'<a href="/glossary/([^/]+)/"', together) == ["ukraine", "antony-blinken", "joe-biden"]
    assert "in 2 articles with Russia" in together
    # another article's new mention changes this page (its input "together:russia")
    write_article(site, "three", "Russia and Antony Blinken, and Zelensky.\n", date="2023-03-03")
    again = builder.run()
    assert "/glossary/zelensky/" in page(again, "glossary/russia/index.html").split("Often mentioned with", 1)[1]
    assert again.files == Builder(str(site)).run().files


def test_typographic_quotes_and_dashes_in_text_never_in_code(site: Path) -> None:
    write_glossary(site, ENTRIES)
    body = ('He said "no deal" -- twice --- and Russia\'s envoy waited... `"raw" -- code`\n\n'
            '```\nprint("x") -- "y"\n```\n\n<https://example.org/a--b>\n')
    write_article(site, "quotes", body)
    html = body_of(page(build(site), "articles/quotes/index.html"))
    assert "He said “no deal” – twice — and " in html
    assert 'data-entity="russia">Russia</a>’s envoy waited…' in html  # the entity still links
    assert "<code>&quot;raw&quot; -- code</code>" in html
    assert "print(&quot;x&quot;) -- &quot;y&quot;" in html
    assert 'href="https://example.org/a--b">https://example.org/a--b</a>' in html


def test_a_paragraph_with_very_many_quotes_keeps_them_straight(site: Path) -> None:
    from site_builder.markdown import TYPO_MAX_QUOTES, parse, render

    few = render(parse("\"a\" " * (TYPO_MAX_QUOTES // 2), 1))
    many = render(parse("\"a\" " * (TYPO_MAX_QUOTES // 2 + 1), 1))
    assert "“a”" in few and "&quot;" not in few
    assert "“" not in many and many.count("&quot;") == TYPO_MAX_QUOTES + 2


def _png(width: int, height: int) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def test_image_sizes_come_from_the_files() -> None:
    from site_builder.images import raster_size, svg_size

    assert svg_size(b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 640 360">') \
        == (640, 360)
    assert svg_size(b'<svg width="120px" height="80" viewBox="0 0 12 8"></svg>') == (120, 80)
    assert svg_size(b'<svg width="100%" viewBox="0,0,30.4,10">') == (30, 10)
    assert svg_size(b"<svg>") is None and svg_size(b"not an svg") is None
    assert raster_size(_png(33, 21)) == (33, 21)
    assert raster_size(b"\x89PNG\r\n\x1a\nbroken") is None


def test_the_lead_image_has_its_size_and_body_images_load_lazily(site: Path) -> None:
    write_glossary(site, ENTRIES)
    images = site / "content" / "images"
    images.mkdir(parents=True)
    (images / "lead.png").write_bytes(_png(40, 30))
    write_article(site, "pic", "Russia.\n\n![A map](/images/lead.png)\n",
                  extra="image:\n  src: /images/lead.png\n  alt: A red square\n")
    builder = Builder(str(site))
    html = page(builder.run(), "articles/pic/index.html")
    assert '<img src="/images/lead.png" alt="A red square" width="40" height="30" decoding="async"' in html
    # a body image below a lead image: sized from its file, and loaded when it comes near the screen
    assert '<img src="/images/lead.png" alt="A map" width="40" height="30" loading="lazy" decoding="async" />' \
        in body_of(html)
    (images / "lead.png").write_bytes(_png(80, 45))  # a new picture re-renders the page that shows it
    again = builder.run()
    assert 'width="80" height="45"' in page(again, "articles/pic/index.html")
    assert again.files == Builder(str(site)).run().files


def test_a_large_raster_lead_image_gets_a_srcset_of_smaller_copies(site: Path) -> None:
    from PIL import Image

    write_glossary(site, ENTRIES)
    images = site / "content" / "images"
    images.mkdir(parents=True)
    (images / "wide.png").write_bytes(_png(1200, 600))
    write_article(site, "pic", "Russia.\n", extra="image:\n  src: /images/wide.png\n  alt: A wide picture\n")
    builder = Builder(str(site))
    result = builder.run()
    html = page(result, "articles/pic/index.html")
    assert 'srcset="/images/wide.480w.png 480w, /images/wide.960w.png 960w, /images/wide.png 1200w"' in html
    import io

    for name, width in (("images/wide.480w.png", 480), ("images/wide.960w.png", 960)):
        with Image.open(io.BytesIO(result.files[name])) as im:
            assert im.size == (width, width // 2)
    assert "images/wide.1600w.png" not in result.files  # never larger than the original
    write_article(site, "pic", "Russia again.\n", extra="image:\n  src: /images/wide.png\n  alt: A wide picture\n")
    again = builder.run()
    assert again.files["images/wide.480w.png"] is result.files["images/wide.480w.png"]  # made once, kept
    assert Builder(str(site)).run().files["images/wide.960w.png"] == result.files["images/wide.960w.png"]


def test_body_images_have_their_size_and_copies_and_only_the_first_loads_at_once(site: Path) -> None:
    write_glossary(site, ENTRIES)
    images = site / "content" / "images"
    images.mkdir(parents=True)
    (images / "wide.png").write_bytes(_png(1000, 500))
    (images / "map.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 36"></svg>')
    write_article(site, "pics", "Russia.\n\n![A wide picture](/images/wide.png)\n\n## Later\n\n"
                  "![A map](../../images/map.svg \"The map\") ![Elsewhere](https://example.org/a.png)\n")
    write_glossary(site, ENTRIES + [{"slug": "map", "title": "Map", "type": "OTHER",
                                     "body": "A place.\n\n![A map](/images/map.svg)\n"}])
    result = build(site)
    body = body_of(page(result, "articles/pics/index.html"))
    # the first image, in the introduction of a page without a lead image, is not lazy
    assert ('<img src="/images/wide.png" alt="A wide picture" width="1000" height="500" '
            'srcset="/images/wide.480w.png 480w, /images/wide.960w.png 960w, /images/wide.png 1000w" '
            'sizes="(min-width: 50rem) 46rem, 100vw" decoding="async" />') in body
    assert ('<img src="../../images/map.svg" alt="A map" title="The map" width="64" height="36" loading="lazy" '
            'decoding="async" />') in body  # below the first section heading; SVG: no copies
    assert '<img src="https://example.org/a.png" alt="Elsewhere" loading="lazy" decoding="async" />' in body
    assert result.files["images/wide.480w.png"] and "images/wide.1600w.png" not in result.files
    entry = body_of(page(result, "glossary/map/index.html"))
    assert '<img src="/images/map.svg" alt="A map" width="64" height="36" decoding="async" />' in entry


def test_a_hostile_body_image_stays_text(site: Path) -> None:
    write_glossary(site, ENTRIES)
    images = site / "content" / "images"
    images.mkdir(parents=True)
    (images / 'a"b.png').write_bytes(_png(20, 10))
    write_article(site, "hostile", 'Russia.\n\n![<script>alert(1)</script> "x" onerror=alert(2)](</images/a"b.png>)\n'
                  "\n![x](javascript:alert(3))\n\n<img src=x onerror=alert(4)>\n")
    body = body_of(page(build(site), "articles/hostile/index.html"))
    assert ('<img src="/images/a%22b.png" alt="&lt;script&gt;alert(1)&lt;/script&gt; &quot;x&quot; onerror=alert(2)" width="20" height="10" '
            'decoding="async" />') in body
    assert 'src="javascript' not in body and "<script" not in body and "<img src=x" not in body  # both stay text


def test_often_mentioned_with_brought_up_to_date_equals_made_from_scratch() -> None:
    from hypothesis import given, settings, strategies as st

    from site_builder.backlinks import mentioned_together, update_together

    sites = st.dictionaries(st.sampled_from([f"a{i}" for i in range(8)]),
                            st.lists(st.sampled_from("pqrstuvw"), unique=True, max_size=6).map(tuple), max_size=8)

    @settings(max_examples=200, deadline=None)
    @given(sites, sites, sites)
    def check(first: dict, second: dict, third: dict) -> None:
        made = mentioned_together(first)
        for later in (second, third):
            made = update_together(made, later)
            fresh = mentioned_together(later)
            assert (made.with_, made.signatures) == (fresh.with_, fresh.signatures)
    check()
