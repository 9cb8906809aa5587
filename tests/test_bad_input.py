"""Every failure an editor can cause is a diagnostic at its place, output is valid whatever
the text, and every input up to the size cap builds in time proportional to its size."""

from __future__ import annotations

import os
import time
import xml.dom.minidom
from pathlib import Path

import pytest

from conftest import run_cli, write_article, write_glossary
from site_builder.build import Builder


def small_site(site: Path) -> Path:
    write_glossary(site, [{"slug": "russia", "title": "Russia", "type": "GPE"},
                          {"slug": "north-korea", "title": "North Korea", "aliases": ["DPRK"], "type": "GPE"}])
    write_article(site, "deal", "Russia wants shells from North Korea.\n")
    return site


def check(site: Path, *args: str):
    proc = run_cli("check", "--site", str(site), *args)
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    return proc


def errors(text: str) -> list[str]:
    return [line for line in text.splitlines() if " error[" in line]


# ---------------------------------------------------------------------------
# files from content/ that clash with generated output


@pytest.mark.parametrize("static, needs", [
    ("tags", "folder"),
    ("404.html/x.txt", "file 404.html"),
    ("index.html", "same name"),
    ("feed.xml", "same name"),
    ("articles/deal/index.html", "same name"),
])
def test_a_static_file_that_clashes_with_output_is_an_error(site: Path, static: str, needs: str) -> None:
    small_site(site)
    write_article(site, "other", "Tagged.\n", extra="tags: [x]\n")
    path = site / "content" / static
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("a file of the editor's\n")
    proc = run_cli("build", "--site", str(site))
    assert proc.returncode == 1, proc.stderr
    assert f"content/{static}:1:1: error[output.clash]" in proc.stderr and needs in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


# ---------------------------------------------------------------------------
# names too long for the file system


def test_a_tag_too_long_for_a_folder_name(site: Path) -> None:
    small_site(site)
    write_article(site, "long", "Text.\n", extra=f"tags: [{'a' * 300}]\n")
    proc = check(site)
    assert proc.returncode == 1
    assert "content/articles/long.md:5:8: error[tag.too-long]" in proc.stderr and "255" in proc.stderr, proc.stderr


def test_a_slug_too_long_for_a_folder_name(site: Path) -> None:
    small_site(site)
    write_article(site, "long", "Text.\n", extra=f"slug: {'a' * 300}\n")
    proc = check(site)
    assert proc.returncode == 1
    assert "content/articles/long.md:5:7: error[slug.too-long]" in proc.stderr and "255" in proc.stderr, proc.stderr


def test_a_file_name_whose_slug_grows_too_long(site: Path) -> None:
    small_site(site)
    name = "\u33af" * 80  # each ㎯ is 3 bytes in the name and "rad-s2" (6 bytes) in the slug
    assert len(name.encode()) <= 250
    (site / "content" / "articles" / f"{name}.md").write_text("---\ntitle: Units\ndate: 2023-01-01\nsummary: s\n---\nx\n")
    proc = check(site)
    assert proc.returncode == 1
    assert f"content/articles/{name}.md:1:1: error[slug.too-long]" in proc.stderr, proc.stderr


# ---------------------------------------------------------------------------
# settings


@pytest.mark.parametrize("line, says", [
    ("max_file_size: 1" + "0" * 400 + "MB", "between 1 byte and 1GiB"),
    ("base_url: 'http://[::1/'", "not a valid address"),
    ("base_url: 'http://example.org:99999/'", "not a valid address"),
])
def test_bad_settings_are_errors(site: Path, line: str, says: str) -> None:
    small_site(site)
    (site / "site.yaml").write_text(line + "\n")
    proc = check(site)
    assert proc.returncode == 1
    assert "site.yaml:1:" in proc.stderr and says in proc.stderr, proc.stderr


def test_a_bad_base_url_on_the_command_line_is_a_usage_error(site: Path) -> None:
    small_site(site)
    proc = run_cli("build", "--site", str(site), "--base-url", "http://[::1/")
    assert proc.returncode == 2 and "--base-url" in proc.stderr and "Traceback" not in proc.stderr


# ---------------------------------------------------------------------------
# new and clean


def test_new_with_a_huge_title_makes_a_short_file_name(site: Path) -> None:
    title = " ".join(["Sanctions"] * 600)  # 5,999 characters
    proc = run_cli("new", "article", title, "--site", str(site))
    assert proc.returncode == 0, proc.stderr
    path = site / proc.stdout.splitlines()[0].strip()
    assert path.exists() and len(path.name) <= 83
    assert title in path.read_text()


def test_new_when_the_articles_folder_is_a_file(site: Path) -> None:
    (site / "content").mkdir()
    (site / "content" / "articles").write_text("oops\n")
    proc = run_cli("new", "article", "A title", "--site", str(site))
    assert proc.returncode == 2 and "content/articles is a file" in proc.stderr and "Traceback" not in proc.stderr
    assert (site / "content" / "articles").read_text() == "oops\n"


def test_clean_removes_a_symlinked_cache_but_not_what_it_points_to(site: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("not ours\n")
    (site / ".cache").mkdir()
    (site / ".cache" / "site-builder").symlink_to(elsewhere)
    proc = run_cli("clean", "--site", str(site))
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert not os.path.lexists(site / ".cache" / "site-builder")
    assert (elsewhere / "keep.txt").read_text() == "not ours\n"


# ---------------------------------------------------------------------------
# text that XML and HTML cannot carry


def test_control_characters_are_warned_about_and_removed(site: Path) -> None:
    small_site(site)
    (site / "content" / "articles" / "ctl.md").write_text(
        '---\ntitle: "a\\x01b"\ndate: 2023-05-01\nsummary: "sum\\uFFFEmary"\n---\n'
        "Raw \x1b escape, a form feed \x0c and Russia.\n", encoding="utf-8")
    proc = run_cli("build", "--site", str(site))
    assert proc.returncode == 0, proc.stderr
    assert "content/articles/ctl.md:2:8: warning[text.control]" in proc.stderr
    assert "content/articles/ctl.md:4:10: warning[text.control]" in proc.stderr
    assert "content/articles/ctl.md:6:5: warning[text.control]" in proc.stderr, proc.stderr
    public = site / "public"
    xml.dom.minidom.parse(str(public / "feed.xml"))  # well-formed
    xml.dom.minidom.parse(str(public / "sitemap.xml"))
    for page in public.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert not any(ch in text for ch in "\x01\x0c\x1b\ufffe"), page
    assert "ab" in (public / "articles" / "ctl" / "index.html").read_text()


# ---------------------------------------------------------------------------
# wrong output


def test_an_https_lead_image_is_not_a_broken_link(site: Path) -> None:
    small_site(site)
    write_article(site, "photo", "Text.\n",
                  extra="image:\n  src: https://upload.wikimedia.org/x.png\n  alt: a map\n")
    proc = run_cli("build", "--site", str(site))
    assert proc.returncode == 0, proc.stderr
    assert 'src="https://upload.wikimedia.org/x.png"' in (site / "public/articles/photo/index.html").read_text()


def test_an_authors_html_link_never_gets_an_entity_link_inside(site: Path) -> None:
    small_site(site)
    (site / "site.yaml").write_text("allow_html: true\n")
    write_article(site, "html", 'Read <a href="https://example.org/">about Russia and North Korea</a> first.\n\n'
                                "Then Russia again.\n")
    proc = run_cli("build", "--site", str(site))
    assert proc.returncode == 0, proc.stderr
    body = (site / "public/articles/html/index.html").read_text().split('class="prose article-body" data-pagefind-body>', 1)[1]
    body = body.split("</div>", 1)[0]
    inside = body.split('<a href="https://example.org/">', 1)[1].split("</a>", 1)[0]
    assert "<a" not in inside, body
    assert 'data-entity="russia"' in body  # the mention outside the author's link is linked


def test_tags_that_would_share_a_page_are_an_error(site: Path) -> None:
    small_site(site)
    write_article(site, "cpp", "Text.\n", extra="tags: [C++]\n")
    write_article(site, "c", "Text.\n", extra="tags: [C]\n")
    proc = check(site)
    assert proc.returncode == 1
    line = errors(proc.stderr)
    assert len(line) == 1 and "tag.clash" in line[0] and "'C'" in line[0] and "'C++'" in line[0], proc.stderr


def test_tags_in_other_scripts_get_pages_of_their_own(site: Path) -> None:
    small_site(site)
    write_article(site, "jp", "Text.\n", title="About Japan", extra="tags: [日本]\n")
    write_article(site, "cn", "Text.\n", extra="tags: [中国]\n")
    write_article(site, "case", "Text.\n", extra="tags: [north korea, North-Korea]\n")  # one tag written two ways
    proc = run_cli("build", "--site", str(site))
    assert proc.returncode == 0, proc.stderr
    public = site / "public"
    assert "About Japan" in (public / "tags" / "日本" / "index.html").read_text()
    assert (public / "tags" / "中国" / "index.html").exists()
    assert (public / "tags" / "north-korea" / "index.html").exists()
    assert 'href="/tags/%E6%97%A5%E6%9C%AC/"' in (public / "articles" / "jp" / "index.html").read_text()


# ---------------------------------------------------------------------------
# an editor's workflow


def test_every_mistake_of_an_article_comes_in_one_run(site: Path) -> None:
    small_site(site)
    write_article(site, "messy", "See [[nowhere]] and [a map](/images/missing.png).\n\n::: related\nno-such\n:::\n",
                  date="2023-02-30")
    proc = check(site)
    assert proc.returncode == 1
    found = {line.split(": ", 2)[1] for line in errors(proc.stderr)}
    assert {"error[frontmatter.value]", "error[xref.unknown]", "error[link.broken]"} <= found, proc.stderr
    assert len(errors(proc.stderr)) == 4, proc.stderr


def test_a_half_written_draft_never_blocks_a_deploy(site: Path) -> None:
    small_site(site)
    (site / "content" / "articles" / "wip.md").write_text(
        "---\ntitle: Work in progress\ndate: 2023-02-30\ndraft: true\nsummary: [unclosed\n---\nSee [[nowhere]].\n")
    write_article(site, "wip2", "Half done [[nowhere]].\n", extra="draft: true\n")
    for strict in ([], ["--strict"]):
        proc = run_cli("build", "--site", str(site), *strict)
        assert proc.returncode == 0, proc.stderr
        assert "content/articles/wip.md:5:10: warning[yaml.syntax]" in proc.stderr, proc.stderr
        assert " error[" not in proc.stderr
    assert not (site / "public" / "articles" / "wip").exists()
    proc = check(site, "--drafts")
    assert proc.returncode == 1
    assert "content/articles/wip.md:5:10: error[yaml.syntax]" in proc.stderr
    assert "content/articles/wip2.md:7:11: error[xref.unknown]" in proc.stderr, proc.stderr


def test_numbers_and_dates_in_text_fields_are_reported_and_kept_as_written(site: Path) -> None:
    small_site(site)
    write_article(site, "nums", "Text.\n",
                  extra="byline: 1.10\ntags: [2023, news]\nimage:\n  src: /images/a.svg\n  alt: a map\n  caption: 1.50\n")
    (site / "content" / "images").mkdir()
    (site / "content" / "images" / "a.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    proc = run_cli("build", "--site", str(site))
    assert proc.returncode == 0, proc.stderr
    warned = [line for line in proc.stderr.splitlines() if "warning[frontmatter.type]" in line]
    assert any("nums.md:5:9:" in w for w in warned) and any("nums.md:6:8:" in w for w in warned), proc.stderr
    assert any("nums.md:10:12:" in w for w in warned), proc.stderr
    page = (site / "public" / "articles" / "nums" / "index.html").read_text()
    assert "1.10" in page and "1.50" in page
    assert run_cli("build", "--site", str(site), "--strict").returncode == 1


# ---------------------------------------------------------------------------
# linear time on every input up to the size limit


def _best_of(fn, n: int, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn(n)
        best = min(best, time.perf_counter() - started)
    return best


MATCHER_SHAPES = ["!?", "![", "?.", ".,", ";:", "'s", "s'", "’s", "a:", "\"'", "(\"", "!!", "]]"]


@pytest.mark.parametrize("shape", MATCHER_SHAPES)
def test_the_matcher_is_linear_on_runs_of_punctuation(shape: str) -> None:
    from site_builder.glossary import Matcher
    from site_builder.model import EntryHeader, Located

    matcher = Matcher([EntryHeader("russia", "x", "Russia", (Located("Russia", 1, 1),), "s", "GPE")])

    def run(n: int) -> None:
        found = matcher.candidates("Russia " + shape * n + " Russia")
        assert [c.entry for c in found] == ["russia", "russia"]

    run(10)
    small, large = _best_of(run, 40_000), _best_of(run, 80_000)
    assert large <= 3 * small + 0.01, f"doubling the input took {large / small:.1f}× as long"


@pytest.mark.parametrize("line", ["::: related\n", "[[x\n", "![" * 20 + "\n"])
def test_a_document_of_repeated_markup_builds_in_linear_time(tmp_path: Path, line: str) -> None:
    def run(n: int) -> None:
        site = tmp_path / f"site-{n}-{time.monotonic_ns()}"
        small_site(site)
        write_article(site, "huge", line * n)
        Builder(str(site)).run()

    run(10)
    small, large = _best_of(run, 1500, 2), _best_of(run, 3000, 2)
    assert large <= 3 * small + 0.05, f"doubling the input took {large / small:.1f}× as long"
