"""The build as CI and editors meet it: golden sites, determinism, atomic output,
the filesystem rules, hostile text, and the layout of the output."""

from __future__ import annotations

import gzip
import hashlib
import html.parser
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from conftest import ROOT, run_cli, write_article, write_glossary
from regen_golden import EXPECTED, SITES, build_golden, copy_site, site_folders, tree
from site_builder.build import Builder, publish
from site_builder.write import MARKER

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
GOLDEN = site_folders(SITES)
SAFE_SCHEMES = ("http", "https", "mailto")


# ---------------------------------------------------------------------------
# helpers


def snapshot(folder: Path) -> dict[str, tuple[bytes | None, int]]:
    """Every file and folder below ``folder`` with its bytes and modification time."""
    out: dict[str, tuple[bytes | None, int]] = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames:
            p = Path(dirpath) / name
            out[p.relative_to(folder).as_posix() + "/"] = (None, 0)
        for name in filenames:
            p = Path(dirpath) / name
            out[p.relative_to(folder).as_posix()] = (p.read_bytes(), p.lstat().st_mtime_ns)
    return out


def copy_sample(dest: Path) -> Path:
    """The repository's sample site (content/, site.yaml, templates/) without its output."""
    dest.mkdir(parents=True)
    shutil.copytree(ROOT / "content", dest / "content")
    for name in ("site.yaml",):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, dest / name)
    if (ROOT / "templates").is_dir():
        shutil.copytree(ROOT / "templates", dest / "templates")
    return dest


def small_site(site: Path) -> Path:
    write_glossary(site, [
        {"slug": "russia", "title": "Russia", "type": "GPE", "body": "A country."},
        {"slug": "north-korea", "title": "North Korea", "aliases": ["DPRK"], "type": "GPE"},
    ])
    write_article(site, "deal", "Russia wants shells from North Korea.\n", date="2023-03-30",
                  extra="tags: [russia, arms]\n")
    write_article(site, "food", "North Korea needs food.\n", date="2023-03-01", extra="tags: [food-only]\n")
    return site


def built_ok(proc: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 0, proc.stderr


class _Attrs(html.parser.HTMLParser):
    """Every (tag, attribute, value) of a page, and the text of a page in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.attrs: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for k, v in attrs:
            self.attrs.append((tag, k, v or ""))


def attributes(data: bytes) -> list[tuple[str, str, str]]:
    p = _Attrs()
    p.feed(data.decode("utf-8"))
    p.close()
    return p.attrs


def urls_in(data: bytes) -> list[str]:
    return [v for tag, k, v in attributes(data) if k in ("href", "src", "action", "formaction", "poster")]


def scheme_of(url: str) -> str:
    probe = "".join(ch for ch in url if ch > " " and ch != "\x7f").lower()
    first = probe.split("/", 1)[0]
    return first.split(":", 1)[0] if ":" in first else ""


def html_pages(files: dict[str, bytes]) -> dict[str, bytes]:
    return {k: v for k, v in files.items() if k.endswith(".html")}


# ---------------------------------------------------------------------------
# golden whole sites


def test_golden_sites_exist() -> None:
    names = {p.name for p in GOLDEN}
    assert {"minimal", "nested-and-drafts", "crlf-bom"} <= names
    minimal = SITES / "minimal"
    assert not (minimal / "site.yaml").exists() and not (minimal / "templates").exists(), \
        "the minimal site is only content/articles and content/glossary"


@pytest.mark.parametrize("src", GOLDEN, ids=[p.name for p in GOLDEN])
def test_golden_site(src: Path, tmp_path: Path) -> None:
    """Built output equals expected/ byte for byte, file list included.
    After a deliberate change, run `python tests/regen_golden.py` and review the diff."""
    files, diagnostics = build_golden(src, tmp_path)
    assert files is not None, diagnostics
    expected = tree(src / EXPECTED)
    assert sorted(files) == sorted(expected)
    changed = [k for k in sorted(files) if files[k] != expected[k]]
    assert not changed, f"differs from the golden output: {changed} (regenerate: python tests/regen_golden.py)"


def test_crlf_bom_site_equals_its_lf_copy(tmp_path: Path) -> None:
    src = SITES / "crlf-bom"
    raw = [p for p in src.rglob("*") if p.is_file() and EXPECTED not in p.relative_to(src).parts]
    assert any(p.read_bytes().startswith(b"\xef\xbb\xbf") for p in raw), "the fixture lost its BOMs"
    assert any(b"\r\n" in p.read_bytes() for p in raw), "the fixture lost its CRLFs (see tests/sites/.gitattributes)"
    lf = copy_site(src, tmp_path / "lf")
    for p in lf.rglob("*"):
        if p.is_file() and p.suffix in (".md", ".yaml"):
            data = p.read_bytes().removeprefix(b"\xef\xbb\xbf").replace(b"\r\n", b"\n").replace(b"\r", b"\n")
            p.write_bytes(data)
    files, _ = build_golden(lf, tmp_path / "lf-build")
    assert files == tree(src / EXPECTED)


# ---------------------------------------------------------------------------
# determinism


@pytest.fixture(scope="session")
def other_locale(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A locale unlike C.UTF-8 (Turkish: dotless i, other collation and month names),
    compiled into a temporary folder when the system has none installed."""
    listed = subprocess.run(["locale", "-a"], capture_output=True, text=True).stdout.split() \
        if shutil.which("locale") else []
    for name in listed:
        if name not in ("C", "POSIX", "C.utf8", "C.UTF-8") and "utf" in name.lower():
            return {"LC_ALL": name}
    if shutil.which("localedef") and Path("/usr/share/i18n/locales/tr_TR").exists():
        folder = tmp_path_factory.mktemp("locales")
        made = subprocess.run(["localedef", "-i", "tr_TR", "-f", "UTF-8", str(folder / "tr_TR.UTF-8")],
                              capture_output=True)
        if made.returncode in (0, 1) and (folder / "tr_TR.UTF-8").exists():
            env = {"LOCPATH": str(folder), "LC_ALL": "tr_TR.UTF-8"}
            probe = subprocess.run([sys.executable, "-c", "import locale; print(locale.setlocale(locale.LC_ALL, ''))"],
                                   env={**os.environ, **env}, capture_output=True, text=True)
            if probe.returncode == 0 and "tr_TR" in probe.stdout:
                return env
    return {"LC_ALL": "C"}  # the POSIX locale: ASCII, at least unlike C.UTF-8


def test_build_is_deterministic_across_processes_hash_seeds_time_zones_and_locales(
        tmp_path: Path, other_locale: dict[str, str]) -> None:
    a = copy_sample(tmp_path / "a" / "site")
    b = copy_sample(tmp_path / "elsewhere" / "b" / "site")
    built_ok(run_cli("build", "--site", str(a), "--out", str(tmp_path / "out-a"), "--jobs", "1",
                     env={"PYTHONHASHSEED": "1", "TZ": "UTC", "LC_ALL": "C.UTF-8"}))
    built_ok(run_cli("build", "--site", str(b), "--out", str(tmp_path / "out-b"), "--jobs", "3",
                     env={"PYTHONHASHSEED": "4242", "TZ": "Pacific/Kiritimati", **other_locale}))
    out_a, out_b = tree(tmp_path / "out-a"), tree(tmp_path / "out-b")
    assert len(out_a) > 20
    assert sorted(out_a) == sorted(out_b)
    assert [k for k in out_a if out_a[k] != out_b[k]] == []


def test_second_build_is_byte_identical(tmp_path: Path) -> None:
    site = copy_sample(tmp_path / "site")
    built_ok(run_cli("build", "--site", str(site), "--out", str(tmp_path / "one")))
    built_ok(run_cli("build", "--site", str(site), "--out", str(tmp_path / "two")))  # warm: caches in play
    assert tree(tmp_path / "one") == tree(tmp_path / "two")


def test_crlf_and_bom_copy_of_the_sample_builds_identically(tmp_path: Path) -> None:
    lf = copy_sample(tmp_path / "lf")
    crlf = copy_sample(tmp_path / "crlf")
    for p in list(crlf.rglob("*.md")) + [crlf / "site.yaml"]:
        if p.exists():
            p.write_bytes(b"\xef\xbb\xbf" + p.read_bytes().replace(b"\n", b"\r\n"))
    publish(str(lf), str(tmp_path / "out-lf"))
    result, _ = publish(str(crlf), str(tmp_path / "out-crlf"))
    assert result.ok, [d.format() for d in result.diagnostics]
    assert tree(tmp_path / "out-lf") == tree(tmp_path / "out-crlf")


# ---------------------------------------------------------------------------
# atomic output


def test_failed_build_leaves_previous_output_untouched(site: Path) -> None:
    small_site(site)
    built_ok(run_cli("build", "--site", str(site)))
    out = site / "public"
    before = snapshot(out)
    assert "articles/deal/index.html" in before
    write_article(site, "deal", "Changed body.\n", date="2024-02-30")
    proc = run_cli("build", "--site", str(site))
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "content/articles/deal.md:3:7: error[frontmatter.value]: 'date' is an impossible date: 2024-02-30" \
        in proc.stderr
    assert snapshot(out) == before
    assert sorted(p.name for p in site.iterdir() if p.name.startswith(".public")) == []


def test_template_error_leaves_previous_output_untouched(site: Path) -> None:
    small_site(site)
    built_ok(run_cli("build", "--site", str(site)))
    before = snapshot(site / "public")
    (site / "templates").mkdir()
    (site / "templates" / "article.html").write_text("<p>{{ no_such_variable }}</p>\n", encoding="utf-8")
    proc = run_cli("build", "--site", str(site))
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "templates/article.html:1:" in proc.stderr
    assert snapshot(site / "public") == before


def test_leftovers_of_a_killed_build_are_removed(site: Path) -> None:
    small_site(site)
    dead = [site / ".public.staging-99999999", site / ".public.old-99999999"]
    for d in dead:
        (d / "articles").mkdir(parents=True)
        (d / "articles" / "half-written.html").write_text("<p>half", encoding="utf-8")
    live = site / f".public.staging-{os.getpid()}"  # this test process is alive: not a leftover
    live.mkdir()
    built_ok(run_cli("build", "--site", str(site)))
    assert not any(d.exists() for d in dead)
    assert live.exists()
    assert (site / "public" / "index.html").exists()


def test_pages_of_deleted_content_disappear(site: Path) -> None:
    small_site(site)
    publish(str(site))
    out = site / "public"
    assert (out / "articles" / "food" / "index.html").exists()
    assert (out / "tags" / "food-only" / "index.html").exists()
    (site / "content" / "articles" / "food.md").unlink()
    result, _ = publish(str(site))
    assert result.ok
    assert not (out / "articles" / "food").exists()
    assert not (out / "tags" / "food-only").exists()
    assert b"/articles/food/" not in (out / "index.html").read_bytes()
    assert b"/articles/food/" not in (out / "sitemap.xml").read_bytes()
    assert set(tree(out)) == set(result.files)


def test_unchanged_files_keep_their_modification_time(site: Path) -> None:
    small_site(site)
    publish(str(site))
    out = site / "public"
    old = 1_000_000_000
    for p in out.rglob("*"):
        if p.is_file():
            os.utime(p, (old, old))
    before = tree(out)
    write_article(site, "food", "North Korea needs food and fertiliser.\n", date="2023-03-01",
                  extra="tags: [food-only]\n")
    publish(str(site))
    after = tree(out)
    unchanged = [k for k in after if before.get(k) == after[k]]
    changed = [k for k in after if before.get(k) != after[k]]
    assert "404.html" in unchanged and "articles/food/index.html" in changed
    for k in unchanged:
        assert (out / k).stat().st_mtime_ns == old * 10**9, f"{k} was rewritten though its bytes did not change"
    for k in changed:
        assert (out / k).stat().st_mtime_ns != old * 10**9


def test_hand_edited_or_deleted_output_is_restored(site: Path) -> None:
    small_site(site)
    built_ok(run_cli("build", "--site", str(site)))
    out = site / "public"
    good = tree(out)
    (out / "index.html").unlink()
    (out / "404.html").write_bytes(good["404.html"].replace(b"<", b"[", 1))  # same size, other bytes
    (out / "stray.txt").write_text("not ours", encoding="utf-8")
    built_ok(run_cli("build", "--site", str(site)))
    assert tree(out) == good


@pytest.mark.parametrize("where", ["site", "content", "templates", "parent", "inside-content", "a-file"])
def test_out_that_would_delete_sources_is_refused(tmp_path: Path, where: str) -> None:
    site = small_site(tmp_path / "work" / "site")
    (site / "templates").mkdir()
    (site / "templates" / "note.txt").write_text("mine", encoding="utf-8")
    (site / "notes.txt").write_text("not a folder", encoding="utf-8")
    out = {"site": site, "content": site / "content", "templates": site / "templates",
           "parent": tmp_path / "work", "inside-content": site / "content" / "articles" / "out",
           "a-file": site / "notes.txt"}[where]
    before = snapshot(tmp_path)
    proc = run_cli("build", "--site", str(site), "--out", str(out))
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "refusing" in proc.stderr
    assert snapshot(tmp_path) == before


# ---------------------------------------------------------------------------
# the filesystem is the site's


def test_editor_temporary_files_are_ignored(site: Path) -> None:
    small_site(site)
    articles = site / "content" / "articles"
    garbage = "not front-matter at all\n"
    for name in ("a.md~", ".a.md.swp", "#a.md#", ".deal.md.swo", ".#b.md"):
        (articles / name).write_text(garbage, encoding="utf-8")
    (articles / ".#a.md").symlink_to("editor@host.12345:1700000000")  # Emacs locks are dangling links
    images = site / "content" / "images"
    images.mkdir()
    (images / "logo.svg").write_text("<svg/>", encoding="utf-8")
    for name in ("logo.svg~", ".#logo.svg", "#logo.svg#", ".logo.svg.swp"):
        (images / name).write_text(garbage, encoding="utf-8")
    proc = run_cli("build", "--site", str(site))
    built_ok(proc)
    assert "warning" not in proc.stderr, proc.stderr
    files = set(tree(site / "public"))
    assert "images/logo.svg" in files
    files.discard(MARKER)  # the build's own mark on its output folder
    assert not [f for f in files if "~" in f or "#" in f or ".sw" in f or "/." in f or f.startswith(".")]


def test_symlink_leading_outside_the_site_is_skipped_with_a_warning(tmp_path: Path) -> None:
    site = small_site(tmp_path / "site")
    outside = tmp_path / "outside"
    outside.mkdir()
    write_article(outside, "secret", "Outside the site.\n")
    (outside / "content" / "articles" / "secret.md").rename(outside / "secret.md")
    (outside / "folder").mkdir()
    (outside / "folder" / "x.svg").write_text("<svg/>", encoding="utf-8")
    (site / "content" / "articles" / "secret.md").symlink_to(outside / "secret.md")
    (site / "content" / "images").mkdir()
    (site / "content" / "images" / "linked").symlink_to(outside / "folder")
    (site / "content" / "images" / "real.svg").write_text("<svg/>", encoding="utf-8")
    (site / "content" / "images" / "alias.svg").symlink_to("real.svg")  # inside the site: fine
    proc = run_cli("build", "--site", str(site))
    built_ok(proc)
    assert "content/articles/secret.md:1:1: warning[file.symlink]" in proc.stderr
    assert "content/images/linked:1:1: warning[file.symlink]" in proc.stderr
    files = set(tree(site / "public"))
    assert "articles/secret/index.html" not in files
    assert not any(f.startswith("images/linked") for f in files)
    assert {"images/real.svg", "images/alias.svg"} <= files


def test_symlink_loop_inside_the_site_terminates(site: Path) -> None:
    small_site(site)
    (site / "content" / "articles" / "up").symlink_to("..")
    (site / "content" / "glossary" / "arts").symlink_to("../articles")
    proc = run_cli("check", "--site", str(site))
    assert "Traceback" not in proc.stderr
    assert proc.returncode == 0, proc.stderr  # each real folder read once: no duplicate slugs either


def test_nul_in_body_becomes_replacement_character(site: Path) -> None:
    small_site(site)
    write_article(site, "nul", "Before\x00after, and Russia.\n")
    result, _ = publish(str(site))
    assert result.ok, [d.format() for d in result.diagnostics]
    page = (site / "public" / "articles" / "nul" / "index.html").read_bytes().decode("utf-8")
    assert "Before\ufffdafter" in page
    binary = (".png", ".ico")  # the theme's favicons: images hold NUL bytes, text files none
    files = tree(site / "public")
    assert not [k for k, v in files.items() if b"\x00" in v and not k.startswith("pagefind/") and not k.endswith(binary)]
    # the search index is binary; what it shows of the text (its fragments) has no NUL either
    fragments = [gzip.decompress(v) for k, v in files.items() if k.startswith("pagefind/fragment/")]
    assert fragments and any(b"Before" in f for f in fragments)
    assert not [f for f in fragments if b"\x00" in f or b"\\u0000" in f]


# ---------------------------------------------------------------------------
# text is text


@pytest.fixture(scope="module")
def hostile_output(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    files, diagnostics = build_golden(SITES / "hostile-text", tmp_path_factory.mktemp("hostile"))
    assert files is not None, diagnostics
    return files


def test_hostile_front_matter_renders_as_text_everywhere(hostile_output: dict[str, bytes]) -> None:
    for path, data in hostile_output.items():
        if path.startswith("assets/") or path.endswith((".png", ".ico")):  # the theme's, not the site's
            continue
        text = data.decode("utf-8")
        # JSON data blocks (previews, JSON-LD) hold the text as inert JSON strings: no "<" in
        # them at all, so nothing can end the block; the checks below read the rest of the page
        blocks = re.findall(r'(<script type="application/(?:ld\+)?json"[^>]*>)(.*?)</script>', text, re.S)
        for opening, block in blocks:
            assert "<" not in block and ">" not in block and "'" not in block, path
            text = text.replace(opening + block, opening)
        assert "<script>alert" not in text, path
        # the escaped text "onerror=alert('summary')" is typeset like all front matter (‘ ’)
        assert "<img src=x" not in text and "onerror=" not in text.replace("onerror=alert(&#39;", "") \
            .replace("onerror=alert(\u2018", ""), path
        assert "<b>friends" not in text and "<b>bold" not in text and "<i>byline" not in text, path
        assert "<Russia>" not in text, path
        assert 'onclick="' not in text, path
    page = hostile_output["articles/xss/index.html"].decode("utf-8")
    assert "&lt;script&gt;alert(" in page  # shown to the reader as text
    assert "&lt;Russia&gt;" in hostile_output["glossary/russia/index.html"].decode("utf-8")


def test_javascript_and_other_unsafe_urls_never_reach_an_attribute(hostile_output: dict[str, bytes]) -> None:
    for path, data in html_pages(hostile_output).items():
        for url in urls_in(data):
            assert scheme_of(url) in ("", *SAFE_SCHEMES), f"{path}: unsafe URL {url!r}"
    body = hostile_output["articles/xss/index.html"].decode("utf-8")
    assert "javascript:" not in "".join(urls_in(hostile_output["articles/xss/index.html"])).lower()
    assert "[click](javascript:alert(‘link’))" in body  # the text stays (with typographic quotes), the link goes


def test_raw_html_is_escaped_unless_allowed(site: Path) -> None:
    small_site(site)
    write_article(site, "raw", "<em>kept?</em> and <span class=x>span</span>\n")
    publish(str(site))
    page = (site / "public" / "articles" / "raw" / "index.html").read_text(encoding="utf-8")
    assert "&lt;em&gt;kept?&lt;/em&gt;" in page
    (site / "site.yaml").write_text("allow_html: true\n", encoding="utf-8")
    publish(str(site))
    page = (site / "public" / "articles" / "raw" / "index.html").read_text(encoding="utf-8")
    assert "<em>kept?</em>" in page


# ---------------------------------------------------------------------------
# the output's layout, on the sample site


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, bytes], Builder]:
    work = tmp_path_factory.mktemp("sample")
    site = copy_sample(work / "site")
    proc = run_cli("build", "--site", str(site), "--out", str(work / "out"))
    built_ok(proc)
    result = Builder(str(site)).run()
    assert result.ok
    return work / "out", tree(work / "out"), result


def test_sample_builds_without_warnings(sample) -> None:
    _, _, result = sample
    assert [d.format() for d in result.diagnostics if d.severity != "info"] == []


def test_output_layout(sample) -> None:
    _, files, result = sample
    index = result.index
    for name in ("index.html", "404.html", "glossary/index.html", "tags/index.html", "feed.xml", "sitemap.xml"):
        assert name in files
    for slug in index.articles:
        assert f"articles/{slug}/index.html" in files
    for slug in index.entries:
        assert f"glossary/{slug}/index.html" in files
    from site_builder.markdown import slugify

    tags = {slugify(t) for a in index.articles.values() for t in a.tags}
    assert tags and {f"tags/{t}/index.html" for t in tags} <= set(files)
    pages = {k for k in files if k.endswith("index.html")}
    expected_pages = {"index.html", "glossary/index.html", "tags/index.html"} \
        | {f"articles/{s}/index.html" for s in index.articles} | {f"glossary/{s}/index.html" for s in index.entries} \
        | {f"tags/{t}/index.html" for t in tags} | {"search/index.html"}
    assert pages == expected_pages


def test_assets_are_fingerprinted_and_linked(sample) -> None:
    _, files, _ = sample
    assets = [k for k in files if k.startswith("assets/")]
    assert any(k.endswith(".css") for k in assets) and any(k.endswith(".js") for k in assets)
    for k in assets:
        m = re.fullmatch(r"assets/(?:[\w-]+/)*[\w.-]+?\.([0-9a-f]{8,})\.(css|js|svg|woff2|png)", k)
        assert m, f"{k} is not fingerprinted"
        assert hashlib.sha256(files[k]).hexdigest().startswith(m.group(1)), f"{k}: the fingerprint is not its hash"
    css = [k for k in assets if k.endswith(".css")]
    for path, data in html_pages(files).items():
        assert any(f"/{c}".encode() in data for c in css), f"{path} does not load the stylesheet"


def broken_internal_links(files: dict[str, bytes], root: str) -> list[str]:
    broken = []
    for path, data in html_pages(files).items():
        for url in urls_in(data):
            parts = urlsplit(url)
            if parts.scheme or parts.netloc or not parts.path.startswith(root):
                continue
            target = parts.path[len(root):]
            if target == "" or target.endswith("/"):
                target += "index.html"
            if target not in files:
                broken.append(f"{path} -> {url}")
    return broken


def test_internal_links_resolve(sample) -> None:
    _, files, _ = sample
    assert broken_internal_links(files, urlsplit("https://arms-for-food.netlify.app/").path) == []


@pytest.mark.parametrize("src", GOLDEN, ids=[p.name for p in GOLDEN])
def test_golden_internal_links_resolve(src: Path) -> None:
    from site_builder.config import load_config

    config, _ = load_config(str(src))
    assert broken_internal_links(tree(src / EXPECTED), config.root) == []


def test_feed_is_atom_with_one_entry_per_article(sample) -> None:
    _, files, result = sample
    feed = ET.fromstring(files["feed.xml"])
    assert feed.tag == f"{ATOM}feed"
    for child in ("id", "title", "updated"):
        assert feed.find(f"{ATOM}{child}") is not None
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == min(len(result.index.articles), 20)
    ids = [e.findtext(f"{ATOM}id") for e in entries]
    assert len(set(ids)) == len(ids)
    for e in entries:
        assert e.findtext(f"{ATOM}title")
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})", e.findtext(f"{ATOM}updated"))
        link = e.find(f"{ATOM}link")
        assert link is not None and link.get("href", "").startswith("https://")


def test_sitemap_lists_every_page(sample) -> None:
    _, files, _ = sample
    sitemap = ET.fromstring(files["sitemap.xml"])
    assert sitemap.tag == f"{SITEMAP}urlset"
    locs = {u.findtext(f"{SITEMAP}loc") for u in sitemap.findall(f"{SITEMAP}url")}
    base = "https://arms-for-food.netlify.app/"
    for page in files:
        if page.endswith("index.html"):
            assert base + page[: -len("index.html")] in locs, page
    assert all(loc.startswith(base) for loc in locs)
    assert base + "404.html" not in locs


def test_every_page_is_well_formed_enough_to_parse(sample) -> None:
    _, files, _ = sample
    for path, data in html_pages(files).items():
        text = data.decode("utf-8")
        assert text.lstrip().lower().startswith("<!doctype html>"), path
        assert '<html lang="en"' in text, path
        attributes(data)  # html.parser raises on nothing, but this decodes and walks every tag


def test_check_reports_broken_internal_links(site: Path) -> None:
    small_site(site)
    write_article(site, "a", "[broken](/articles/nosuch/) and ![img](/images/missing.png)\n",
                  extra="image:\n  src: /images/nope.svg\n  alt: A picture\n")
    proc = run_cli("check", "--site", str(site))
    assert "Traceback" not in proc.stderr
    assert re.search(r"content/articles/a\.md:6:\d+: \w+\[[\w.-]+\]: .*/images/nope\.svg", proc.stderr), proc.stderr
    assert re.search(r"content/articles/a\.md:9:\d+: \w+\[[\w.-]+\]: .*/articles/nosuch/", proc.stderr), proc.stderr
    assert re.search(r"content/articles/a\.md:9:\d+: \w+\[[\w.-]+\]: .*/images/missing\.png", proc.stderr), proc.stderr


def test_slug_from_a_file_name_is_a_valid_slug(site: Path) -> None:
    small_site(site)
    write_article(site, "Q & A - 2023", "Questions.\n", title="Q and A")
    result, _ = publish(str(site))
    assert result.ok, [d.format() for d in result.diagnostics]
    assert (site / "public" / "articles" / "q-a-2023" / "index.html").exists()


# ---------------------------------------------------------------------------
# order and drafts


def _article_order(index_html: bytes) -> list[str]:
    order: list[str] = []
    for url in urls_in(index_html):
        m = re.fullmatch(r"/articles/([\w-]+)/", url)
        if m and m.group(1) not in order:
            order.append(m.group(1))
    return order


def test_index_lists_articles_newest_first_and_leaves_drafts_out(site: Path) -> None:
    write_glossary(site, [{"slug": "russia", "title": "Russia", "type": "GPE"}])
    write_article(site, "january", "Russia.\n", date="2023-01-05")
    write_article(site, "march", "Russia.\n", date="2023-03-01")
    write_article(site, "december", "Russia.\n", date="2022-12-31")
    write_article(site, "unfinished", "Russia.\n", date="2023-04-01", extra="draft: true\ntags: [draft-only]\n")
    built_ok(run_cli("build", "--site", str(site)))
    files = tree(site / "public")
    assert _article_order(files["index.html"]) == ["march", "january", "december"]
    assert not [k for k in files if "unfinished" in k or "draft-only" in k]
    assert not [k for k, v in files.items() if b"unfinished" in v or b"draft-only" in v]
    feed = ET.fromstring(files["feed.xml"])
    assert [e.findtext(f"{ATOM}id").rstrip("/").rsplit("/", 1)[1] for e in feed.findall(f"{ATOM}entry")] \
        == ["march", "january", "december"]

    built_ok(run_cli("build", "--site", str(site), "--drafts"))
    files = tree(site / "public")
    assert _article_order(files["index.html"]) == ["unfinished", "march", "january", "december"]
    assert "articles/unfinished/index.html" in files and "tags/draft-only/index.html" in files


# ---------------------------------------------------------------------------
# edges: an empty site, a site without a glossary


def test_an_empty_site_builds_its_frame(tmp_path: Path) -> None:
    site = tmp_path / "empty"
    site.mkdir()
    proc = run_cli("build", "--site", str(site))
    assert proc.returncode == 0, proc.stderr
    for page in ("index.html", "glossary/index.html", "tags/index.html", "404.html", "feed.xml", "sitemap.xml"):
        assert (site / "public" / page).is_file(), page
    ET.fromstring((site / "public" / "feed.xml").read_bytes())  # a valid feed with no entries


def test_articles_without_a_glossary_build_and_link_nothing(site: Path) -> None:
    write_article(site, "a", "Russia and Iran met. See [[b]].\n")
    write_article(site, "b", "Nothing named.\n", date="2023-03-31")
    proc = run_cli("build", "--site", str(site))
    assert proc.returncode == 0, proc.stderr
    page = (site / "public" / "articles" / "a" / "index.html").read_text()
    assert 'class="entity"' not in page
    assert 'href="/articles/b/"' in page
