"""Cached, parallel and incremental builds give the same bytes as a cold serial one."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import run_cli, write_article, write_glossary
from site_builder.build import Builder

NAMES = [("north-korea", "North Korea", ["DPRK"], "GPE"), ("russia", "Russia", [], "GPE"),
         ("iran", "Iran", [], "GPE"), ("wagner-group", "Wagner Group", [], "ORG"),
         ("john-kirby", "John Kirby", ["Kirby"], "PERSON"), ("ofac", "Office of Foreign Assets Control", ["OFAC"], "ORG"),
         ("janet-yellen", "Janet Yellen", ["Yellen"], "PERSON"), ("china", "China", [], "GPE")]
WORDS = "the officials said that a deal for weapons and food was under way while sanctions grew".split()


def generated_site(root: Path, n_articles: int = 40, seed: int = 7) -> Path:
    rnd = random.Random(seed)
    write_glossary(root, [{"slug": s, "title": t, "aliases": a, "type": ty} for s, t, a, ty in NAMES])
    for i in range(n_articles):
        paras = []
        for _ in range(4):
            words = [rnd.choice(WORDS) for _ in range(40)]
            for _ in range(3):
                words.insert(rnd.randrange(len(words)), rnd.choice(NAMES)[1])
            paras.append(" ".join(words).capitalize() + ".")
        if i:
            paras.append(f"See [[a{rnd.randrange(i):03d}]] for more.")
        tags = ", ".join(sorted({rnd.choice(["sanctions", "russia", "asia", "arms"]) for _ in range(2)}))
        write_article(root, f"a{i:03d}", "\n\n".join(paras) + "\n", title=f"Article {i}",
                      date=f"2023-{1 + i % 12:02d}-{1 + i % 27:02d}", extra=f"tags: [{tags}]\n")
    return root


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_cached_parallel_incremental_equal_cold_serial(tmp_path: Path) -> None:
    site = generated_site(tmp_path / "site")
    cold = run_cli("build", "--site", str(site), "--out", str(tmp_path / "cold"), "--jobs", "1", "--no-cache")
    assert cold.returncode == 0, cold.stderr
    reference = tree(tmp_path / "cold")

    first = run_cli("build", "--site", str(site), "--jobs", "2")
    assert first.returncode == 0, first.stderr
    assert tree(site / "public") == reference
    assert not list(site.glob(".public.*"))  # no staging, old tree or spool left behind

    warm = run_cli("build", "--site", str(site), "--jobs", "2")
    assert warm.returncode == 0 and "0 linked, 0 rendered" in warm.stdout, warm.stdout
    assert tree(site / "public") == reference

    # everything rendered again in the pool, over an output that already holds those bytes
    again = run_cli("build", "--site", str(site), "--jobs", "2", "--no-cache")
    assert again.returncode == 0 and " 0 written, " in again.stdout, again.stdout
    assert tree(site / "public") == reference
    assert not list(site.glob(".public.*"))

    # an edit, then its revert: the incremental results must equal cold builds of each state
    article = site / "content" / "articles" / "a005.md"
    original = article.read_text()
    article.write_text(original.replace("title: \"Article 5\"", "title: \"Article five\""))
    edited = run_cli("build", "--site", str(site), "--jobs", "2")
    assert edited.returncode == 0, edited.stderr
    cold_edit = run_cli("build", "--site", str(site), "--out", str(tmp_path / "cold2"), "--jobs", "1", "--no-cache")
    assert cold_edit.returncode == 0
    assert tree(site / "public") == tree(tmp_path / "cold2")
    assert not list(site.glob(".public.*"))
    article.write_text(original)
    assert run_cli("build", "--site", str(site)).returncode == 0
    assert tree(site / "public") == reference


def test_pages_rendered_in_the_pool_replace_an_existing_output(tmp_path: Path) -> None:
    """Over an existing output, pool-rendered pages that changed are moved in from the spool:
    a few in place, many by swapping the tree; either way the result equals a cold serial build."""
    site = generated_site(tmp_path / "site")
    assert run_cli("build", "--site", str(site), "--jobs", "2").returncode == 0
    before = set(tree(site / "public"))
    article = site / "content" / "articles" / "a007.md"
    article.write_text(article.read_text() + "\nA late correction about Russia.\n")
    few = run_cli("build", "--site", str(site), "--jobs", "2", "--no-cache")
    assert few.returncode == 0 and " 0 written" not in few.stdout, few.stdout
    # no page is removed; the search index's files are named by their content, so the
    # edited article's fragment and the index chunks holding its words are replaced
    assert {k for k in before ^ set(tree(site / "public")) if not k.startswith("pagefind/")} == set()
    cold = run_cli("build", "--site", str(site), "--out", str(tmp_path / "cold"), "--jobs", "1", "--no-cache")
    assert cold.returncode == 0
    assert tree(site / "public") == tree(tmp_path / "cold")
    (site / "site.yaml").write_text("title: A retitled desk\n", encoding="utf-8")  # every page changes
    many = run_cli("build", "--site", str(site), "--jobs", "2", "--no-cache")
    assert many.returncode == 0, many.stderr
    cold = run_cli("build", "--site", str(site), "--out", str(tmp_path / "cold2"), "--jobs", "1", "--no-cache")
    assert cold.returncode == 0
    assert tree(site / "public") == tree(tmp_path / "cold2")
    assert b"A retitled desk" in (site / "public" / "index.html").read_bytes()
    assert not list(site.glob(".public.*"))


def test_parallel_build_failing_after_render_leaves_output_and_no_spool(tmp_path: Path) -> None:
    site = generated_site(tmp_path / "site")
    assert run_cli("build", "--site", str(site), "--jobs", "2").returncode == 0
    good = tree(site / "public")
    article = site / "content" / "articles" / "a007.md"
    article.write_text(article.read_text() + "\nSee [the archive](/articles/no-such-page/).\n")
    failed = run_cli("build", "--site", str(site), "--jobs", "2", "--no-cache")  # every page rendered in the pool
    assert failed.returncode == 1 and "error[link.broken]" in failed.stderr, failed.stderr
    assert tree(site / "public") == good
    assert not list(site.glob(".public.*"))


def test_a_warm_edit_links_only_the_edited_file(tmp_path: Path) -> None:
    site = generated_site(tmp_path / "site", n_articles=30)
    assert run_cli("build", "--site", str(site), "--jobs", "2").returncode == 0
    article = site / "content" / "articles" / "a004.md"
    article.write_text(article.read_text() + "\nA late correction about Russia and the Wagner Group.\n")
    done = run_cli("build", "--site", str(site), "--jobs", "2")
    assert done.returncode == 0, done.stderr
    assert "1 read, 1 linked" in done.stdout, done.stdout
    cold = run_cli("build", "--site", str(site), "--out", str(tmp_path / "cold"), "--jobs", "1", "--no-cache")
    assert cold.returncode == 0
    assert tree(site / "public") == tree(tmp_path / "cold")


def test_slices_cached_by_a_parallel_build_equal_the_serial_ones(tmp_path: Path) -> None:
    """A --jobs 2 build computes the glossary slices (which entries each text could
    mention: the link stage's keys) in worker processes, and so does a glossary edit; a
    serial computation must find the same ones, or later edits would re-link needlessly."""
    site = generated_site(tmp_path / "site")
    filled = run_cli("build", "--site", str(site), "--jobs", "2")
    assert filled.returncode == 0, filled.stderr
    assert_cached_slices_are_serial_ones(site)
    entry = site / "content" / "glossary" / "iran.md"
    entry.write_text(entry.read_text().replace("aliases: []", "aliases: [Persia]"))
    assert "Persia" in entry.read_text()
    edited = run_cli("build", "--site", str(site), "--jobs", "2")
    assert edited.returncode == 0, edited.stderr
    assert_cached_slices_are_serial_ones(site)
    cold = run_cli("build", "--site", str(site), "--out", str(tmp_path / "cold"), "--jobs", "1", "--no-cache")
    assert cold.returncode == 0
    assert tree(site / "public") == tree(tmp_path / "cold")


def assert_cached_slices_are_serial_ones(site: Path) -> None:
    from site_builder.cache import DiskCache
    from site_builder.config import load_config
    from site_builder.discover import discover
    from site_builder.index import build_index
    from site_builder.link import GlossarySlices
    from site_builder.memo import Memo
    from site_builder.parse import parse

    config, _ = load_config(str(site))
    docs = [parse(s, config) for s in discover(str(site)).sources]
    index, _ = build_index(docs, config.root, False)
    slices = GlossarySlices(index.entries.values())
    cached = Memo(DiskCache(str(site))).table("slices")
    assert len(cached) == len(docs)
    for d in docs:
        assert cached[(d.source.path, d.source.digest, slices.key)] == slices.slice(d)


def test_kept_alive_builder_equals_fresh_builder(tmp_path: Path) -> None:
    site = generated_site(tmp_path / "site", n_articles=12)
    builder = Builder(str(site))
    assert builder.run().ok
    entry = site / "content" / "glossary" / "iran.md"
    entry.write_text(entry.read_text().replace("aliases: []", "aliases:\n  - \"Islamic Republic\""))
    (site / "content" / "articles" / "a003.md").unlink()
    text = (site / "content" / "articles" / "a004.md").read_text()
    (site / "content" / "articles" / "a004.md").write_text(text.replace("See [[a", "See also [[a"))
    (site / "site.yaml").write_text("link: all\n")
    incremental = builder.run()
    fresh = Builder(str(site)).run()
    assert incremental.ok and fresh.ok
    assert incremental.files == fresh.files
    assert [d.format() for d in incremental.diagnostics] == [d.format() for d in fresh.diagnostics]


def test_corrupt_or_foreign_cache_is_ignored(tmp_path: Path) -> None:
    site = generated_site(tmp_path / "site", n_articles=8)
    assert run_cli("build", "--site", str(site)).returncode == 0
    reference = tree(site / "public")
    cache = site / ".cache" / "site-builder"
    files = sorted(cache.iterdir())
    assert files, "the build should have written a cache"
    files[0].write_bytes(b"not a pickle at all")
    files[1].write_bytes(files[1].read_bytes()[:10])  # truncated
    link_shard = sorted(cache.glob("link.*.pickle"))[-1]
    link_shard.write_bytes(b"\x80\x04K\x01.")  # a valid pickle of something foreign
    again = run_cli("build", "--site", str(site))
    assert again.returncode == 0, again.stderr
    assert "Traceback" not in again.stderr
    assert tree(site / "public") == reference


def test_warm_build_keeps_mtimes_and_skips_spacy(tmp_path: Path) -> None:
    site = generated_site(tmp_path / "site", n_articles=8)
    assert run_cli("build", "--site", str(site)).returncode == 0
    page = site / "public" / "articles" / "a001" / "index.html"
    os.utime(page, ns=(1_000_000_000, 1_000_000_000))
    before = {p: p.stat().st_mtime_ns for p in (site / "public").rglob("*") if p.is_file()}
    script = ("import sys; from site_builder.cli import main; code = main(['build', '--site', sys.argv[1], '-q']); "
              "print('spacy' in sys.modules); raise SystemExit(code)")
    warm = subprocess.run([sys.executable, "-c", script, str(site)], capture_output=True, text=True, timeout=120)
    assert warm.returncode == 0, warm.stderr
    assert warm.stdout.strip() == "False", "a warm build with nothing changed must not import spaCy"
    after = {p: p.stat().st_mtime_ns for p in (site / "public").rglob("*") if p.is_file()}
    assert after == before


def test_clean_removes_the_cache(tmp_path: Path) -> None:
    site = generated_site(tmp_path / "site", n_articles=3)
    assert run_cli("build", "--site", str(site)).returncode == 0
    assert (site / ".cache" / "site-builder").is_dir()
    result = run_cli("clean", "--site", str(site))
    assert result.returncode == 0
    assert not (site / ".cache").joinpath("site-builder").exists()


@pytest.mark.parametrize("bad", ["0", "-3", "x"])
def test_bad_jobs_is_a_usage_error(tmp_path: Path, bad: str) -> None:
    site = generated_site(tmp_path / "site", n_articles=2)
    assert run_cli("build", "--site", str(site), "--jobs", bad).returncode == 2


def test_a_one_shot_build_keeps_only_the_results_this_run_used(tmp_path: Path) -> None:
    """A warm build loads a stage's table from the cache; the results an edit replaced are
    dropped as soon as the stage has run (a glossary edit that relinks hundreds of articles
    would otherwise hold both copies until the end), and only the used ones are saved."""
    from site_builder.cache import DiskCache
    from site_builder.memo import Executor, Memo, Stage

    stage = Stage("double", key=lambda x: x, compute=lambda x, _: 2 * x)
    first = Executor(Memo(DiskCache(str(tmp_path)), saving=True))
    assert first.map(stage, [1, 2, 3]) == [2, 4, 6]
    first.memo.save()
    second = Executor(Memo(DiskCache(str(tmp_path)), saving=True))
    second.memo.begin()
    assert second.map(stage, [1, 2, 4]) == [2, 4, 8]
    assert set(second.memo.tables["double"]) == {1, 2, 4}
    assert second.map(stage, [5]) == [10]  # a second map of the same stage in the same run keeps the first's
    assert set(second.memo.tables["double"]) == {1, 2, 4, 5}
    second.memo.save()
    assert set(Memo(DiskCache(str(tmp_path))).table("double")) == {1, 2, 4, 5}


def test_a_one_shot_edit_makes_again_only_the_pages_it_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                                ) -> None:
    """The next one-shot build reads what the last one saved of its pages (what each reads,
    its fingerprint): an edit makes again only the pages that read a changed value, and a
    kept page whose file was deleted by hand is made again and rendered."""
    import site_builder.build as build

    site = generated_site(tmp_path / "site", n_articles=30)
    assert run_cli("build", "--site", str(site), "--jobs", "1").returncode == 0
    total = len(tree(site / "public"))
    article = site / "content" / "articles" / "a004.md"
    article.write_text(article.read_text() + "\nA late correction about Russia and the Wagner Group.\n")
    (site / "public" / "tags" / "index.html").unlink()  # reads only the list of tags: kept
    made: list[tuple[str, str]] = []
    real = build.remake

    def counted(values, which, page_types=build.PAGE_TYPES):  # type: ignore[no-untyped-def]
        which = list(which)
        made.extend(which)
        return real(values, which, page_types)

    def whole_site(*args):  # type: ignore[no-untyped-def]
        raise AssertionError("the pages were all made again")

    monkeypatch.setattr(build, "remake", counted)
    monkeypatch.setattr(build, "assemble", whole_site)
    result, stats = build.publish(str(site), jobs=1)
    assert result.ok and stats is not None
    assert ("article", "a004") in made and ("tags", "") in made
    assert len(made) < total // 3, made
    cold = run_cli("build", "--site", str(site), "--out", str(tmp_path / "cold"), "--jobs", "1", "--no-cache")
    assert cold.returncode == 0
    assert tree(site / "public") == tree(tmp_path / "cold")


def test_a_one_shot_build_after_a_template_settings_or_title_edit_equals_a_cold_build(tmp_path: Path) -> None:
    """What a one-shot build keeps of its pages is only used with the same templates, settings
    and index: after each of these edits the warm build's output equals a cold build's."""
    from site_builder.render import THEME_TEMPLATES

    site = generated_site(tmp_path / "site", n_articles=12)
    (site / "site.yaml").write_text("title: First Desk\n", encoding="utf-8")
    assert run_cli("build", "--site", str(site), "--jobs", "1").returncode == 0

    def override_cards() -> None:
        cards = (Path(THEME_TEMPLATES) / "partials" / "cards.html").read_text(encoding="utf-8")
        (site / "templates" / "partials").mkdir(parents=True, exist_ok=True)
        ours = cards.replace('class="article-teaser', 'class="our-teaser article-teaser')
        (site / "templates" / "partials" / "cards.html").write_text(ours, encoding="utf-8")

    def retitle_site() -> None:
        (site / "site.yaml").write_text("title: Second Desk\n", encoding="utf-8")

    def retitle_entry() -> None:
        entry = site / "content" / "glossary" / "john-kirby.md"
        entry.write_text(entry.read_text(encoding="utf-8").replace('"John Kirby"', '"John F. Kirby"', 1),
                         encoding="utf-8")

    for n, edit in enumerate((override_cards, retitle_site, retitle_entry)):
        edit()
        warm = run_cli("build", "--site", str(site), "--jobs", "1")
        assert warm.returncode == 0, warm.stderr
        cold = run_cli("build", "--site", str(site), "--out", str(tmp_path / f"cold{n}"), "--jobs", "1", "--no-cache")
        assert cold.returncode == 0, cold.stderr
        assert tree(site / "public") == tree(tmp_path / f"cold{n}"), edit.__name__
    assert 'class="our-teaser' in (site / "public" / "index.html").read_text(encoding="utf-8")
    assert "John F. Kirby" in (site / "public" / "glossary" / "john-kirby" / "index.html").read_text(encoding="utf-8")
