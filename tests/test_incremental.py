"""A builder kept alive (the dev server's) gives exactly a fresh build's output after
any sequence of edits, whichever path (fast or full) it takes."""

from __future__ import annotations

import random
from pathlib import Path

from hypothesis import given, settings, strategies as st, HealthCheck

from conftest import write_article, write_glossary
from test_cache import generated_site
from site_builder.build import Builder

EDITS = ["body", "body-mention", "sentence", "title", "alias", "add", "delete", "link-all", "xref", "noop",
         "break", "mend", "picture", "repaint", "spoil"]


def png(width: int, height: int) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (width % 256, height % 256, 90)).save(out, "PNG")
    return out.getvalue()


def _chart(site: Path) -> Path:
    (site / "content" / "images").mkdir(exist_ok=True)
    return site / "content" / "images" / "chart.png"


def _apply(site: Path, edit: str, rnd: random.Random, step: int) -> None:
    articles = sorted((site / "content" / "articles").glob("*.md"))
    target = rnd.choice(articles)
    text = target.read_text()
    if edit == "body":
        target.write_text(text + f"\nA plain closing line number {step}.\n")
    elif edit == "body-mention":
        target.write_text(text + f"\nLater, China and Iran were named again ({step}).\n")
    elif edit == "sentence":
        target.write_text(text.replace(" said ", f" said on day {step} ", 1))
    elif edit == "title":
        target.write_text(text.replace('title: "', f'title: "Edited {step} ', 1))
    elif edit == "alias":
        entry = site / "content" / "glossary" / "iran.md"
        entry.write_text(entry.read_text().replace("aliases: []", "aliases:\n  - \"Tehran\""))
    elif edit == "add":
        (site / "content" / "articles" / f"new{step}.md").write_text(
            f"---\ntitle: \"New {step}\"\ndate: 2023-05-0{1 + step % 9}\nsummary: New.\n---\nRussia and Iran met.\n")
    elif edit == "delete" and len(articles) > 3:
        victims = [a for a in articles if "[[" + a.stem + "]]" not in "".join(p.read_text() for p in articles)]
        if victims:
            rnd.choice(victims).unlink()
    elif edit == "link-all":
        cfg = site / "site.yaml"
        cfg.write_text("link: all\n" if not cfg.exists() or "first" in cfg.read_text() else "link: first\n")
    elif edit == "break":  # a build that stops at an error, between two that succeed
        target.write_text(text.replace(" and ", " and [[no-such-article]] ", 1))
    elif edit == "mend":
        for a in articles:
            a.write_text(a.read_text().replace(" and [[no-such-article]] ", " and "))
        if _chart(site).exists():
            _chart(site).write_bytes(png(600, 300))
    elif edit == "picture":  # a body image (its file made when missing)
        if not _chart(site).exists():
            _chart(site).write_bytes(png(600, 300))
        target.write_text(text + f"\n![A chart, step {step}](/images/chart.png)\n")
    elif edit == "repaint":  # the same file, another size: the pages that show it change
        _chart(site).write_bytes(png(400 + 97 * step, 200 + 13 * step))
    elif edit == "spoil" and _chart(site).exists():  # no longer a picture: an error, until mended
        _chart(site).write_bytes(b"not a picture any more")
    elif edit == "xref" and len(articles) > 1:
        other = rnd.choice([a for a in articles if a != target])
        target.write_text(text + f"\nSee also [[{other.stem}]].\n")


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(EDITS), min_size=1, max_size=8), st.integers(0, 1000))
def test_edits_then_incremental_equals_fresh(tmp_path_factory, edits: list[str], seed: int) -> None:
    site = generated_site(tmp_path_factory.mktemp("site"), n_articles=10)
    rnd = random.Random(seed)
    builder = Builder(str(site))
    assert builder.run().ok
    for step, edit in enumerate(edits):
        _apply(site, edit, rnd, step)
        incremental = builder.run()
        fresh = Builder(str(site)).run()
        assert [d.format() for d in incremental.diagnostics] == [d.format() for d in fresh.diagnostics], edits[:step + 1]
        assert incremental.files == fresh.files, edits[:step + 1]


def test_body_edit_takes_the_fast_path(tmp_path: Path) -> None:
    site = generated_site(tmp_path / "site", n_articles=10)
    builder = Builder(str(site))
    assert builder.run().ok
    article = site / "content" / "articles" / "a004.md"
    article.write_text(article.read_text() + "\nOne more plain sentence.\n")
    result = builder.run()
    # the article's page and the feed (every article of this small site is in the feed)
    assert result.counts == {"read": 1, "linked": 1, "rendered": 2}, result.counts
    assert result.files == Builder(str(site)).run().files


def test_a_build_that_stops_at_an_error_hides_nothing_from_the_next(tmp_path: Path) -> None:
    """The pages a failed build would have made again are made by the next build that
    succeeds, even when the values they show are back to what the last good build had."""
    site = tmp_path / "site"
    write_glossary(site, [{"slug": "kim-jong-un", "title": "Kim Jong Un", "type": "PERSON"}])
    write_article(site, "visit", "Nobody was named.\n")
    builder = Builder(str(site))
    assert builder.run().ok
    write_article(site, "visit", "Kim Jong Un was named.\n")
    assert builder.run().ok
    write_article(site, "visit", "Nobody was named, see [[no-such-article]].\n")
    assert not builder.run().ok
    write_article(site, "visit", "Nobody was named at all.\n")
    kept, fresh = builder.run(), Builder(str(site)).run()
    assert kept.ok and fresh.ok
    assert kept.files == fresh.files
    assert b"No article mentions Kim Jong Un" in kept.files["glossary/kim-jong-un/index.html"]


def test_an_edited_image_rerenders_the_pages_that_show_it(tmp_path: Path) -> None:
    site = generated_site(tmp_path / "site", n_articles=10)
    _chart(site).write_bytes(png(1000, 500))
    article = site / "content" / "articles" / "a004.md"
    article.write_text(article.read_text() + "\n![A chart](/images/chart.png)\n")
    builder = Builder(str(site))
    first = builder.run()
    assert first.ok and 'width="1000" height="500"' in first.files["articles/a004/index.html"].decode()
    _chart(site).write_bytes(png(1200, 400))
    result = builder.run()
    assert result.counts == {"rendered": 2}, result.counts  # the article and the feed; nothing read or linked
    html = result.files["articles/a004/index.html"].decode()
    assert 'width="1200" height="400"' in html and "/images/chart.960w.png 960w" in html
    assert result.files == Builder(str(site)).run().files
