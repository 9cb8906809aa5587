"""Nothing lost, nothing run: what `--out` may replace, a cache and templates that cannot
run code, and I/O failures (a full disk, an immutable folder) that leave the previous
output intact, with one line instead of a traceback.

The disk-full and immutable-folder tests use the real thing: a small tmpfs mounted for
the test, and `chattr +i`. Both need root (CI runs as root); elsewhere they skip, saying so.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import run_cli, write_article, write_glossary
from site_builder.write import MARKER


def small_site(site: Path) -> Path:
    write_glossary(site, [{"slug": "russia", "title": "Russia", "type": "GPE", "body": "A country."},
                          {"slug": "north-korea", "title": "North Korea", "aliases": ["DPRK"], "type": "GPE"}])
    write_article(site, "deal", "Russia wants shells from North Korea.\n", extra="tags: [russia]\n")
    write_article(site, "food", "North Korea needs food.\n", date="2023-03-01")
    return site


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def no_traceback(proc: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr


# ---------------------------------------------------------------------------
# --out never destroys what a build did not make


def test_out_that_contains_the_home_folder_is_refused(tmp_path: Path) -> None:
    site = small_site(tmp_path / "site")
    home = tmp_path / "h" / "alice"
    home.mkdir(parents=True)
    (home / "thesis.txt").write_text("years of work\n")
    proc = run_cli("build", "--site", str(site), "--out", str(tmp_path / "h"), "--force", env={"HOME": str(home)})
    no_traceback(proc)
    assert proc.returncode == 2
    assert "home folder" in proc.stderr and str(tmp_path / "h") in proc.stderr
    assert (home / "thesis.txt").read_text() == "years of work\n"


@pytest.mark.parametrize("where", [".git", "repo-root", "inside-git"])
def test_a_repository_is_never_an_output_folder(tmp_path: Path, where: str) -> None:
    site = small_site(tmp_path / "site")
    (site / ".git").mkdir()
    (site / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    other = tmp_path / "repo"
    (other / ".git").mkdir(parents=True)
    (other / "code.py").write_text("print()\n")
    out = {".git": site / ".git", "repo-root": other, "inside-git": site / ".git" / "objects"}[where]
    for extra in ([], ["--force"]):
        proc = run_cli("build", "--site", str(site), "--out", str(out), *extra)
        no_traceback(proc)
        assert proc.returncode == 2, proc.stderr
        assert "repository" in proc.stderr
    assert (site / ".git" / "HEAD").read_text() == "ref: refs/heads/main\n"
    assert (other / "code.py").exists()


def test_a_folder_no_build_made_is_refused_unless_forced(tmp_path: Path) -> None:
    site = small_site(tmp_path / "site")
    out = tmp_path / "photos"
    out.mkdir()
    (out / "holiday.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    proc = run_cli("build", "--site", str(site), "--out", str(out))
    no_traceback(proc)
    assert proc.returncode == 2
    assert str(out) in proc.stderr and "--force" in proc.stderr
    assert tree(out) == {"holiday.jpg": b"\xff\xd8 not really a jpeg"}
    proc = run_cli("build", "--site", str(site), "--out", str(out), "--force")
    assert proc.returncode == 0, proc.stderr
    assert not (out / "holiday.jpg").exists() and (out / "index.html").exists() and (out / MARKER).exists()
    (out / "stray.txt").write_text("left by hand\n")
    proc = run_cli("build", "--site", str(site), "--out", str(out))  # its own output now: no --force needed
    assert proc.returncode == 0, proc.stderr


def test_empty_missing_and_default_output_folders_are_fine(tmp_path: Path) -> None:
    site = small_site(tmp_path / "site")
    (tmp_path / "empty").mkdir()
    for out in (tmp_path / "empty", tmp_path / "missing" / "deeper"):
        proc = run_cli("build", "--site", str(site), "--out", str(out))
        assert proc.returncode == 0, proc.stderr
    (site / "public").mkdir()
    (site / "public" / "index.html").write_text("from a build before the output was marked\n")
    proc = run_cli("build", "--site", str(site))  # the site's own public/ is the declared output
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("target", ["site", "content", "templates-inside", "root"])
def test_force_never_reaches_the_site_or_root(tmp_path: Path, target: str) -> None:
    site = small_site(tmp_path / "site")
    (site / "templates").mkdir()
    out = {"site": site, "content": site / "content", "templates-inside": site / "templates" / "x",
           "root": Path("/")}[target]
    before = tree(site)
    proc = run_cli("build", "--site", str(site), "--out", str(out), "--force")
    no_traceback(proc)
    assert proc.returncode == 2
    assert tree(site) == before


def test_a_stray_file_goes_even_when_nothing_else_changed(tmp_path: Path) -> None:
    site = small_site(tmp_path / "site")
    assert run_cli("build", "--site", str(site)).returncode == 0
    expected = tree(site / "public")
    (site / "public" / "stray.html").write_text("not from the build\n")
    proc = run_cli("build", "--site", str(site))
    assert proc.returncode == 0, proc.stderr
    assert tree(site / "public") == expected


# ---------------------------------------------------------------------------
# nothing a site or its cache holds runs code


class _Boom:
    def __init__(self, path: str):
        self.path = path

    def __reduce__(self):
        return (os.system, (f"echo pwned > {self.path}",))


def _evil_pickle(marker: Path) -> bytes:
    return pickle.dumps(_Boom(str(marker)))


@pytest.mark.parametrize("form", ["old-format", "new-header-forged-mac", "right-key-but-code"])
def test_a_cache_shipped_with_the_site_never_runs_code(tmp_path: Path, form: str) -> None:
    site = small_site(tmp_path / "site")
    marker = tmp_path / "pwned"
    cache = site / ".cache" / "site-builder"
    cache.mkdir(parents=True)
    payload = _evil_pickle(marker)
    if form == "old-format":
        blob = pickle.dumps(("site-builder-cache", 6, "0.1.0")) + payload
    elif form == "new-header-forged-mac":
        blob = b"site-builder-cache\n" + b"\0" * 32 + payload
    else:  # a file authenticated with the key of the machine that builds: the allowlist still refuses
        from site_builder.cache import DiskCache

        disk = DiskCache(str(site))
        blob = b"site-builder-cache\n" + disk._mac("stamps", payload) + payload
    for name in ("stamps", "read.0", "link.0", "manifest-0000000000000000"):
        (cache / f"{name}.pickle").write_bytes(blob)
    proc = run_cli("build", "--site", str(site))
    no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    assert not marker.exists(), "the cache ran code"
    cold = tmp_path / "cold"
    assert run_cli("build", "--site", str(site), "--out", str(cold), "--no-cache").returncode == 0
    assert tree(site / "public") == tree(cold)


def test_the_cache_key_lives_outside_the_site(tmp_path: Path) -> None:
    from site_builder.cache import key_file

    assert not str(Path(key_file()).resolve()).startswith(str(tmp_path.resolve()))
    site = small_site(tmp_path / "site")
    assert run_cli("build", "--site", str(site)).returncode == 0
    key = Path(key_file()).read_bytes()
    assert len(key) == 32
    assert not [p for p in (site / ".cache").rglob("*") if p.is_file() and key in p.read_bytes()]


def test_a_cache_from_another_machine_is_a_miss(tmp_path: Path) -> None:
    site = small_site(tmp_path / "site")
    assert run_cli("build", "--site", str(site), env={"SITE_BUILDER_CACHE_KEY": "machine-a"}).returncode == 0
    write_article(site, "food", "North Korea needs food and fuel.\n", date="2023-03-01")
    proc = run_cli("build", "--site", str(site), env={"SITE_BUILDER_CACHE_KEY": "machine-b"})
    assert proc.returncode == 0, proc.stderr
    assert "3 read" in proc.stdout or "4 read" in proc.stdout, proc.stdout  # nothing was taken from the cache
    cold = tmp_path / "cold"
    assert run_cli("build", "--site", str(site), "--out", str(cold), "--no-cache").returncode == 0
    assert tree(site / "public") == tree(cold)


def test_a_misplaced_cache_file_is_a_miss_not_a_crash(tmp_path: Path) -> None:
    site = small_site(tmp_path / "site")
    assert run_cli("build", "--site", str(site)).returncode == 0
    cache = site / ".cache" / "site-builder"
    for src in cache.glob("link-content.*.pickle"):
        shutil.copy(src, cache / src.name.replace("link-content.", "link."))
    write_article(site, "deal", "Russia wants shells and rockets from North Korea.\n", extra="tags: [russia]\n")
    proc = run_cli("build", "--site", str(site))
    no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    cold = tmp_path / "cold"
    assert run_cli("build", "--site", str(site), "--out", str(cold), "--no-cache").returncode == 0
    assert tree(site / "public") == tree(cold)


def test_a_flipped_bit_in_a_cached_body_is_detected(tmp_path: Path) -> None:
    site = small_site(tmp_path / "site")
    assert run_cli("build", "--site", str(site)).returncode == 0
    cache = site / ".cache" / "site-builder"
    flipped = 0
    for path in cache.glob("link.*.pickle"):
        data = bytearray(path.read_bytes())
        at = data.find(b"North Korea needs")
        if at >= 0:
            data[at] ^= 0x01  # 'N' -> 'O'
            path.write_bytes(bytes(data))
            flipped += 1
    assert flipped
    shutil.rmtree(site / "public")  # so that every page is made again from the cache
    proc = run_cli("build", "--site", str(site))
    assert proc.returncode == 0, proc.stderr
    cold = tmp_path / "cold"
    assert run_cli("build", "--site", str(site), "--out", str(cold), "--no-cache").returncode == 0
    assert tree(site / "public") == tree(cold)


SANDBOX_ESCAPES = [
    "{{ cycler.__init__.__globals__.os.system('echo pwned > MARK') }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ lipsum.__globals__['os'].system('echo pwned > MARK') }}",
    "{% set x = site.nav.append(1) %}{{ x }}",
]


@pytest.mark.parametrize("template", SANDBOX_ESCAPES)
def test_templates_run_in_the_sandbox(tmp_path: Path, template: str) -> None:
    site = small_site(tmp_path / "site")
    marker = tmp_path / "pwned"
    (site / "templates").mkdir()
    (site / "templates" / "404.html").write_text(template.replace("MARK", str(marker)) + "\n")
    proc = run_cli("build", "--site", str(site))
    no_traceback(proc)
    assert proc.returncode == 1
    assert "templates/404.html:1:1: error[template.unsafe]" in proc.stderr, proc.stderr
    assert not marker.exists()


@pytest.mark.parametrize("body, says", [
    ("{{ 1 // 0 }}", "ZeroDivisionError"),
    ("{{ '%d' % 'a' }}", "TypeError"),
    ("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "calls itself"),
])
def test_template_runtime_errors_name_the_template(tmp_path: Path, body: str, says: str) -> None:
    site = small_site(tmp_path / "site")
    (site / "templates").mkdir()
    (site / "templates" / "404.html").write_text("<p>\n" + body + "\n")
    proc = run_cli("build", "--site", str(site))
    no_traceback(proc)
    assert proc.returncode == 1
    assert "templates/404.html:2:1: error[template.render]" in proc.stderr and says in proc.stderr, proc.stderr


# ---------------------------------------------------------------------------
# I/O failures: one line, exit 1, the old output intact, no temporary file left


@contextlib.contextmanager
def small_disk(path: Path, size: str):
    path.mkdir(parents=True, exist_ok=True)
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                          capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill up (needs root): {made.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(disk: Path, leave: int) -> None:
    """Fill the disk up to ``leave`` bytes of free space."""
    st = os.statvfs(disk)
    free = st.f_bavail * st.f_frsize
    with open(disk / "filler", "wb") as fh:
        fh.write(b"\0" * max(0, free - leave))


def leftovers(*folders: Path) -> list[str]:
    found = []
    for folder in folders:
        for p in folder.rglob("*"):
            if ".sb-tmp" in p.name or ".staging-" in p.name or ".spool-" in p.name or ".old-" in p.name \
                    or (p.parent.name == "site-builder" and p.name.startswith(".")):
                found.append(str(p))
    return found


def test_a_full_disk_on_the_first_build(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk", "2m") as disk:
        site = small_site(disk / "site")
        fill(disk, 16 * 1024)
        proc = run_cli("build", "--site", str(site), "--jobs", "1")
        no_traceback(proc)
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert "error[output.write]" in proc.stderr and "no space left on device" in proc.stderr, proc.stderr
        assert not (site / "public").exists()
        assert leftovers(disk) == []


@pytest.mark.parametrize("change", ["one-article", "every-page"])
def test_a_full_disk_on_a_rebuild_leaves_the_old_output(tmp_path: Path, change: str) -> None:
    with small_disk(tmp_path / "disk", "3m") as disk:
        site = small_site(disk / "site")
        assert run_cli("build", "--site", str(site), "--jobs", "1").returncode == 0
        before = tree(site / "public")
        if change == "one-article":  # few changes: replaced in place
            write_article(site, "food", "North Korea needs food. " * 2000 + "\n", date="2023-03-01")
        else:  # many changes: a whole new tree is swapped in
            (site / "site.yaml").write_text("title: A new name for every page\n")
        fill(disk, 8 * 1024)
        proc = run_cli("build", "--site", str(site), "--jobs", "1")
        no_traceback(proc)
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert "no space left on device" in proc.stderr, proc.stderr
        assert len([line for line in proc.stderr.splitlines() if "error[" in line]) == 1
        assert tree(site / "public") == before
        assert leftovers(disk) == []


def test_a_full_disk_while_the_cache_is_saved_leaves_no_partial_files(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk", "1m") as disk:
        site = small_site(disk / "site")
        fill(disk, 4 * 1024)
        out = tmp_path / "out"  # on the big disk: only the cache runs out of room
        proc = run_cli("build", "--site", str(site), "--out", str(out))
        no_traceback(proc)
        assert proc.returncode == 0, proc.stderr
        assert (out / "index.html").exists()
        assert leftovers(disk) == []


@contextlib.contextmanager
def immutable(path: Path):
    made = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot make a folder immutable here (needs root and chattr): {made.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=False)


@pytest.mark.parametrize("what", ["public", "site"])
def test_an_immutable_folder_is_one_line_and_the_output_stays(tmp_path: Path, what: str) -> None:
    site = small_site(tmp_path / "site")
    for i in range(80):  # enough pages that a change to all of them swaps in a whole new tree
        write_article(site, f"extra-{i}", "More on Russia.\n")
    assert run_cli("build", "--site", str(site)).returncode == 0
    before = tree(site / "public")
    write_article(site, "food", "North Korea needs food and fuel.\n", date="2023-03-01")
    (site / "site.yaml").write_text("title: Renamed\n")  # every page changes: the tree is swapped
    with immutable(site / "public" if what == "public" else site):
        proc = run_cli("build", "--site", str(site))
    no_traceback(proc)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "error[output.write]" in proc.stderr and "operation not permitted" in proc.stderr, proc.stderr
    assert tree(site / "public") == before
    assert leftovers(site, tmp_path) == []


# ---------------------------------------------------------------------------
# the last resort: an internal error is one line saying it is a bug


def test_an_internal_error_is_one_line_and_a_traceback_only_with_debug(tmp_path: Path) -> None:
    site = small_site(tmp_path / "site")
    script = ("import sys, site_builder.build as b\n"
              "def broken(*a, **k):\n    raise RuntimeError('simulated bug')\n"
              "b.build = broken\n"
              "from site_builder.cli import main\nsys.exit(main(sys.argv[1:]))\n")
    for debug in ([], ["--debug"]):
        proc = subprocess.run([sys.executable, "-c", script, "build", "--site", str(site), *debug],
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 3
        assert "internal error" in proc.stderr and "bug in site-builder" in proc.stderr
        assert ("Traceback" in proc.stderr) == bool(debug), proc.stderr
