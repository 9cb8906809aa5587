"""The command line: scaffolding, help, exit codes, and `check` writing nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, run_cli, write_article, write_glossary
from test_build import snapshot

TITLES = [
    'He said "no": the deal',
    "Sanctions: a primer",
    "Key: value: more: colons",
    "<script>alert('x')</script> & <b>bold</b>",
    "Rockets 🚀 and food 🍚",
    "Пхеньян",
    "北朝鮮",
    "--- leading dashes",
    "---",
    "NO",
    "yes",
    "2023-03-30",
    "null",
    "~",
    "[not, a, list]",
    "{not: a mapping}",
    "&anchor *alias !!python/object",
    "# not a comment",
    "'single' and \\backslash\\",
    "tab\there  and   spaces",
    "Russia’s war, North\u00a0Korea’s shells",
    "A very long title " * 12,
]


def _new(site: Path, kind: str, title: str) -> Path:
    proc = run_cli("new", kind, "--site", str(site), "--", title)
    assert "Traceback" not in proc.stderr
    assert proc.returncode == 0, proc.stderr
    rel = proc.stdout.strip()
    path = site / rel
    assert path.is_file(), proc.stdout
    return path


def _front_matter(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("\n---\n", 1)[0][4:])


@pytest.mark.parametrize("kind", ["article", "term"])
def test_new_scaffolds_valid_files_whatever_the_title(site: Path, kind: str) -> None:
    made = {}
    for title in TITLES:
        path = _new(site, kind, title)
        assert path.parent == site / "content" / ("articles" if kind == "article" else "glossary")
        fm = _front_matter(path)
        assert fm["title"] == " ".join(title.split()), f"{title!r} came back as {fm['title']!r}"
        if kind == "article":
            assert fm["draft"] is True
        made[path] = title
    assert len(made) == len(TITLES), "every title gets its own file"
    if kind == "term":  # give the entries an article that mentions none of them: a valid site
        write_article(site, "anchor-article", "Nothing to see.\n")
    proc = run_cli("check", "--site", str(site), "--drafts")
    assert "Traceback" not in proc.stderr
    assert proc.returncode == 0, proc.stderr
    assert " error[" not in proc.stderr, proc.stderr
    # the only warnings: the scaffold's placeholder summary and body, one each per file
    warnings = [line for line in proc.stderr.splitlines() if " warning[" in line]
    assert warnings and all("warning[content.placeholder]" in w for w in warnings), proc.stderr
    assert len(warnings) == 2 * len(made), proc.stderr
    assert run_cli("check", "--site", str(site), "--drafts", "--strict").returncode == 1  # never published by accident
    if kind == "article":
        assert run_cli("check", "--site", str(site)).returncode == 0  # drafts left out is fine too


def test_new_article_builds_and_its_title_is_text(site: Path) -> None:
    path = _new(site, "article", "<script>alert('x')</script> Пхеньян")
    text = path.read_text(encoding="utf-8").replace("draft: true", "draft: false")
    path.write_text(text, encoding="utf-8")
    proc = run_cli("build", "--site", str(site))
    assert proc.returncode == 0, proc.stderr
    page = (site / "public" / "articles" / path.stem / "index.html").read_text(encoding="utf-8")
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(‘x’)&lt;/script&gt; Пхеньян" in page  # escaped, typeset like all titles


def test_new_never_overwrites_and_avoids_taken_slugs(site: Path) -> None:
    write_article(site, "deal", "Old text.\n")
    nested = site / "content" / "articles" / "2023"
    nested.mkdir()
    (site / "content" / "articles" / "deal.md").rename(nested / "deal.md")
    write_glossary(site, [{"slug": "russia", "title": "Russia"}])
    a = _new(site, "article", "Deal")
    b = _new(site, "article", "Deal")
    c = _new(site, "article", "Russia")
    assert len({a, b, c}) == 3
    assert a.stem != "deal" and c.stem != "russia"
    assert (nested / "deal.md").read_text(encoding="utf-8").endswith("Old text.\n")
    proc = run_cli("check", "--site", str(site), "--drafts")
    assert proc.returncode == 0, proc.stderr


def test_new_with_undecodable_bytes_and_control_characters(site: Path) -> None:
    """A terminal can hand over bytes that are not UTF-8 (Python passes them as surrogates)
    and control characters; the file must still be valid UTF-8 YAML."""
    weird = b"caf\xe9 \x01\x7f\xc2\x85x".decode("utf-8", "surrogateescape")
    proc = subprocess.run([sys.executable, "-m", "site_builder", "new", "article", "--site", str(site), weird],
                          capture_output=True, text=True, cwd=ROOT)
    assert "Traceback" not in proc.stderr
    assert proc.returncode == 0, proc.stderr
    path = site / proc.stdout.strip()
    assert path.read_bytes().decode("utf-8")
    assert _front_matter(path)["title"].startswith("caf\ufffd")
    assert run_cli("check", "--site", str(site), "--drafts").returncode == 0


@pytest.mark.parametrize("blocker", ["content", "content/glossary"])
def test_new_where_a_file_stands_for_the_folder_is_a_usage_error(site: Path, blocker: str) -> None:
    shutil.rmtree(site / "content", ignore_errors=True)
    (site / blocker).parent.mkdir(parents=True, exist_ok=True)
    (site / blocker).write_text("not a folder\n")
    proc = run_cli("new", "term", "--site", str(site), "Wagner Group")
    assert proc.returncode == 2, proc.stderr
    assert f"{blocker} is a file, not a folder" in proc.stderr and "Traceback" not in proc.stderr
    assert (site / blocker).read_text() == "not a folder\n"


@pytest.mark.parametrize("title", ["", "   ", "\t"])
def test_new_with_empty_title_is_a_usage_error(site: Path, title: str) -> None:
    proc = run_cli("new", "article", "--site", str(site), "--", title)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert not (site / "content").exists() or not list((site / "content").rglob("*.md"))


@pytest.mark.parametrize("args", [
    ["--help"], ["build", "--help"], ["check", "--help"], ["new", "--help"], ["serve", "--help"], ["--version"],
])
def test_help_exits_zero(args: list[str]) -> None:
    proc = run_cli(*args)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip()
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("args", [
    [],
    ["frobnicate"],
    ["build", "--no-such-option"],
    ["build", "--site"],
    ["check", "unexpected-positional"],
    ["new"],
    ["new", "article"],
    ["new", "page", "Title"],
    ["serve", "--port", "eighty"],
    ["build", "--site", "/no/such/site/folder"],
    ["check", "--site", "/no/such/site/folder"],
    ["new", "article", "Title", "--site", "/no/such/site/folder"],
])
def test_bad_arguments_exit_two(args: list[str], tmp_path: Path) -> None:
    proc = run_cli(*args, cwd=tmp_path)
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip()
    assert list(tmp_path.iterdir()) == []


def test_check_writes_nothing(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    shutil.copytree(ROOT / "content", site / "content")
    shutil.copy2(ROOT / "site.yaml", site / "site.yaml")
    before = snapshot(tmp_path)
    proc = run_cli("check", "--site", str(site), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "check passed" in proc.stdout
    assert snapshot(tmp_path) == before
    assert not (site / "public").exists()


def test_check_with_errors_writes_nothing(site: Path) -> None:
    write_article(site, "bad", "Body.\n", date="2024-02-30")
    before = snapshot(site)
    proc = run_cli("check", "--site", str(site), cwd=site)
    assert proc.returncode == 1
    assert snapshot(site) == before


def _console_script() -> str | None:
    beside = Path(sys.executable).parent / "site-builder"
    return str(beside) if beside.exists() else shutil.which("site-builder")


@pytest.mark.parametrize("args", [["--help"], ["build", "--help"], ["check", "--site", "{site}"],
                                  ["check", "--site", "{bad}"], ["frobnicate"]])
def test_python_m_equals_console_script(args: list[str], tmp_path: Path) -> None:
    script = _console_script()
    if script is None:
        pytest.skip("the site-builder console script is not installed (pip install -e .)")
    good = tmp_path / "good"
    write_glossary(good, [{"slug": "russia", "title": "Russia"}])
    write_article(good, "a", "Russia.\n")
    bad = tmp_path / "bad"
    write_article(bad, "a", "Body.\n", date="2024-02-30")
    argv = [a.format(site=good, bad=bad) for a in args]
    env = dict(os.environ, COLUMNS="100")
    via_m = subprocess.run([sys.executable, "-m", "site_builder", *argv], capture_output=True, text=True, env=env)
    via_script = subprocess.run([script, *argv], capture_output=True, text=True, env=env)
    assert via_m.returncode == via_script.returncode
    assert via_m.stdout == via_script.stdout
    assert via_m.stderr == via_script.stderr
