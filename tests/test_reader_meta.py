"""Dates a reader can trust and what sharing and search engines see (issue 15, items 3
and 4): `updated:` and `corrections:`, Open Graph and Twitter tags with absolute URLs,
JSON-LD (NewsArticle, BreadcrumbList, DefinedTerm in a DefinedTermSet) and the favicon set."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from conftest import write_article, write_glossary
from site_builder.build import Builder
from test_build import copy_sample

ATOM = "{http://www.w3.org/2005/Atom}"
ENTRIES = [{"slug": "russia", "title": "Russia", "aliases": ["Moscow"], "type": "GPE"}]
CORRECTED = ("updated: 2023-04-05\ncorrections:\n  - date: 2023-04-02\n    text: A name was misspelt.\n"
             "  - date: 2023-03-31\n    text: The date of the briefing was wrong.\n")


def build(site: Path):
    result = Builder(str(site)).run()
    assert result.ok, [d.format() for d in result.diagnostics]
    return result


def json_ld(html: str) -> list[dict]:
    found = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert len(found) == 1
    data = json.loads(found[0])
    return data if isinstance(data, list) else [data]


def meta(html: str, attr: str, name: str) -> list[str]:
    return re.findall(rf'<meta {attr}="{re.escape(name)}" content="([^"]*)">', html)


def test_updated_line_corrections_and_modified_dates(site: Path) -> None:
    write_glossary(site, ENTRIES)
    write_article(site, "deal", "Russia wants arms.\n", extra=CORRECTED + "byline: Jane Doe and John Roe\n")
    write_article(site, "plain", "Russia again.\n", date="2023-03-01")
    result = build(site)
    html = result.files["articles/deal/index.html"].decode()
    assert '<span class="updated">Updated <time datetime="2023-04-05">5 April 2023</time></span>' in html
    corrections = html.split('<section class="corrections"', 1)[1].split("</section>", 1)[0]
    assert re.findall(r'<time datetime="([^"]+)">', corrections) == ["2023-03-31", "2023-04-02"]  # oldest first
    assert "The date of the briefing was wrong." in corrections
    assert meta(html, "property", "article:published_time") == ["2023-03-30"]
    assert meta(html, "property", "article:modified_time") == ["2023-04-05"]
    article = json_ld(html)[0]
    assert (article["datePublished"], article["dateModified"]) == ("2023-03-30", "2023-04-05")
    assert article["author"] == [{"@type": "Person", "name": "Jane Doe"}, {"@type": "Person", "name": "John Roe"}]
    plain = result.files["articles/plain/index.html"].decode()
    assert 'class="updated"' not in plain and 'class="corrections"' not in plain
    assert meta(plain, "property", "article:modified_time") == ["2023-03-01"]
    feed = ET.fromstring(result.files["feed.xml"])
    entry = next(e for e in feed.iter(ATOM + "entry") if e.findtext(ATOM + "id").endswith("/articles/deal/"))
    assert entry.findtext(ATOM + "published") == "2023-03-30T00:00:00Z"
    assert entry.findtext(ATOM + "updated") == "2023-04-05T00:00:00Z"
    assert feed.findtext(ATOM + "updated") == "2023-04-05T00:00:00Z"
    assert "<lastmod>2023-04-05</lastmod>" in result.files["sitemap.xml"].decode()


def test_a_correction_alone_moves_the_modified_date(site: Path) -> None:
    write_glossary(site, ENTRIES)
    write_article(site, "deal", "Russia.\n", extra="corrections:\n  - date: 2023-04-09\n    text: Fixed.\n")
    html = build(site).files["articles/deal/index.html"].decode()
    assert meta(html, "property", "article:modified_time") == ["2023-04-09"]
    assert "Updated <time" in html
    assert '<h2 id="corrections-heading" class="corrections-heading">Correction</h2>' in html


def test_json_ld_has_what_googles_news_article_documentation_asks_for(tmp_path: Path) -> None:
    result = build(copy_sample(tmp_path / "site"))
    html = result.files["articles/russia-north-korea-arms-for-food/index.html"].decode()
    article, crumbs = json_ld(html)
    base = "https://arms-for-food.netlify.app/"
    assert article["@context"] == "https://schema.org" and article["@type"] == "NewsArticle"
    assert article["headline"].startswith("Russia seeks North Korean weapons") and len(article["headline"]) <= 110
    assert article["image"] == [base + "images/arms-for-food-diagram.svg"]
    assert article["datePublished"] == "2023-03-30" and article["dateModified"] == "2023-04-03"
    assert all(a["name"] and a["@type"] in ("Person", "Organization") for a in article["author"])
    assert article["publisher"]["name"] and article["publisher"]["logo"]["url"].startswith(base)
    assert article["mainEntityOfPage"]["@id"] == base + "articles/russia-north-korea-arms-for-food/"
    assert crumbs["@type"] == "BreadcrumbList"
    assert [i["position"] for i in crumbs["itemListElement"]] == [1, 2]
    assert crumbs["itemListElement"][0]["item"] == base
    entry = json_ld(result.files["glossary/john-kirby/index.html"].decode())
    assert entry[0]["@type"] == "DefinedTerm" and entry[0]["name"] == "John Kirby" and entry[0]["description"]
    assert entry[0]["inDefinedTermSet"]["@type"] == "DefinedTermSet"
    assert entry[0]["inDefinedTermSet"]["url"] == base + "glossary/"
    assert [i["name"] for i in entry[1]["itemListElement"]][1:] == ["Glossary", "John Kirby"]
    terms = json_ld(result.files["glossary/index.html"].decode())[0]
    assert terms["@type"] == "DefinedTermSet" and len(terms["hasDefinedTerm"]) == len(result.index.entries)
    for path, data in result.files.items():  # every page's JSON-LD parses; every URL in it is absolute
        if path.endswith(".html") and b"application/ld+json" in data:
            script = data.decode().split('<script type="application/ld+json">', 1)[1].split("</script>", 1)[0]
            json_ld(data.decode())
            for url in re.findall(r'"(?:url|item|@id)":"([^"]*)"', script):
                assert url.startswith(base), (path, url)


def test_open_graph_and_twitter_tags_use_absolute_urls(tmp_path: Path) -> None:
    result = build(copy_sample(tmp_path / "site"))
    html = result.files["articles/russia-north-korea-arms-for-food/index.html"].decode()
    image = "https://arms-for-food.netlify.app/images/arms-for-food-diagram.svg"
    assert meta(html, "property", "og:image") == [image]
    assert meta(html, "name", "twitter:image") == [image]
    assert meta(html, "name", "twitter:card") == ["summary_large_image"]
    assert meta(html, "property", "og:image:alt")[0].startswith("Diagram")
    for name in ("og:url", "og:image"):
        for value in meta(html, "property", name):
            assert value.startswith("https://"), (name, value)
    entry = result.files["glossary/john-kirby/index.html"].decode()
    assert meta(entry, "name", "twitter:card") == ["summary"] and not meta(entry, "property", "og:image")


def test_a_title_cannot_break_out_of_the_json_ld(site: Path) -> None:
    write_glossary(site, ENTRIES)
    write_article(site, "evil", "Russia.\n", title='</script><script>alert(1)</script> & <!-- "x"')
    html = build(site).files["articles/evil/index.html"].decode()
    script = html.split('<script type="application/ld+json">', 1)[1].split("</script>", 1)[0]
    assert "<" not in script and ">" not in script
    # typeset like the page's own title (-- and "x" as in body text), and nothing else changed
    assert json_ld(html)[0]["headline"] == '</script><script>alert(1)</script> & <!\u2013 \u201cx\u201d'


def test_default_favicons_and_manifest_unless_content_has_its_own(site: Path) -> None:
    write_glossary(site, ENTRIES)
    write_article(site, "deal", "Russia.\n")
    result = build(site)
    for name in ("favicon.ico", "favicon.svg", "apple-touch-icon.png", "icon-192.png", "icon-512.png"):
        assert result.files[name], name
    assert result.files["favicon.ico"][:4] == b"\x00\x00\x01\x00"
    manifest = json.loads(result.files["site.webmanifest"])
    assert manifest["icons"][0]["src"] == "/icon-192.png" and manifest["start_url"] == "/"
    html = result.files["articles/deal/index.html"].decode()
    assert '<link rel="icon" href="/favicon.svg" type="image/svg+xml">' in html
    assert '<link rel="manifest" href="/site.webmanifest">' in html
    mine = b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"/>'
    (site / "content" / "favicon.svg").write_bytes(mine)
    (site / "content" / "site.webmanifest").write_text('{"name": "Mine"}')
    again = build(site)
    assert again.files["favicon.svg"] != result.files["favicon.svg"]
    assert json.loads(bytes(again.files["site.webmanifest"]) if isinstance(again.files["site.webmanifest"], bytes)
                      else (site / "content" / "site.webmanifest").read_bytes())["name"] == "Mine"
    assert again.files["favicon.ico"] == result.files["favicon.ico"]


TYPESET = ('title: "Russia\'s \\"deal\\" -- the 2023 story"\n', "Russia’s “deal” – the 2023 story")


def test_front_matter_text_is_typeset_like_the_body_everywhere_it_is_shown(site: Path) -> None:
    write_glossary(site, ENTRIES + [{"slug": "o-brien", "title": "Pat O'Brien", "type": "PERSON",
                                     "aliases": ['"Paddy" O\'Brien']}])
    extra = ("byline: Jane O'Neil\nsource: \"A 'briefing'\"\nimage:\n  src: https://example.org/a.jpg\n"
             "  alt: Two 'boxes'\n  caption: Food one way -- weapons the other...\n  credit: 'Photo: \"desk\"'\n"
             "corrections:\n  - date: 2023-04-09\n    text: We said \"food\"; it was 'grain'.\n")
    path = write_article(site, "russias-deal", "Russia and Pat O'Brien.\n\n```\nkeep \"code\" -- straight\n```\n",
                         extra=extra)
    path.write_text(path.read_text().replace('title: "Russias Deal"\n', TYPESET[0]))
    write_article(site, "other", "Russia. See [[russias-deal]].\n", date="2023-03-01")
    result = build(site)
    html = result.files["articles/russias-deal/index.html"].decode()
    title = TYPESET[1]
    assert f"<h1>{title}</h1>" in html and f"<title>{title} · " in html
    assert meta(html, "property", "og:title") == [title] and meta(html, "name", "twitter:title") == [title]
    assert json_ld(html)[0]["headline"] == title and json_ld(html)[1]["itemListElement"][1]["name"] == title
    assert json_ld(html)[0]["author"] == [{"@type": "Person", "name": "Jane O’Neil"}]
    for shown in ("Jane O’Neil", "A ‘briefing’", "Food one way – weapons the other…", "Photo: “desk”",
                  "We said “food”; it was ‘grain’."):
        assert shown in html, shown
    assert 'alt="Two \'boxes\'"' in html or "alt=\"Two &#39;boxes&#39;\"" in html  # an attribute, not shown text
    assert "keep &quot;code&quot; -- straight" in html  # code never changes
    assert f">{title}</a>" in result.files["articles/other/index.html"].decode()  # a cross-reference's text
    assert f"<title>{title}</title>" in result.files["feed.xml"].decode()
    assert f">{title}</a>" in result.files["index.html"].decode()
    entry = result.files["glossary/o-brien/index.html"].decode()
    assert "<h1>Pat O’Brien</h1>" in entry and "“Paddy” O’Brien" in entry
    assert 'data-filter="pat o\'brien' in result.files["glossary/index.html"].decode() \
        or "data-filter=\"pat o&#39;brien" in result.files["glossary/index.html"].decode()  # the filter folds quotes
    assert "/articles/russias-deal/" in html  # the URL never changes


def test_a_title_with_hundreds_of_quotes_stays_straight() -> None:
    from site_builder.markdown import TYPO_MAX_QUOTES, typeset

    many = "'a' " * (TYPO_MAX_QUOTES // 2 + 1)
    assert typeset(many) == many  # the guard that keeps smartquotes linear holds for titles too
    assert typeset("'a' " * 10) == "‘a’ " * 10
