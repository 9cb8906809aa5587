"""Regenerate the golden output of the whole-site fixtures.

    python tests/regen_golden.py                 # every tests/sites/<behaviour>/expected/
    python tests/regen_golden.py minimal         # only the named sites
    python tests/regen_golden.py --diagnostics   # also every tests/sites_invalid/<case>/expected.txt

Each site is copied to a temporary folder (so no cache or output lands in the repository),
built with the real pipeline, and its output replaces ``expected/``. Review the diff before
committing: the golden files are the contract the tests hold the builder to.

The tests import the helpers below, so a golden file is always produced exactly the way the
test reproduces it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
SITES = TESTS / "sites"
SITES_INVALID = TESTS / "sites_invalid"
EXPECTED = "expected"
EXPECTED_TXT = "expected.txt"
ASSETS = "assets/"  # the theme's CSS and JS
SEARCH = "pagefind/"  # Pagefind's index: its own binary format, kept by name (names follow the bytes)
ARGS_TXT = "args.txt"  # optional, in an invalid case: extra arguments for `check`, one per line

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def site_folders(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


def copy_site(src: Path, dest: Path) -> Path:
    """The site's sources without its golden files, byte for byte (symlinks kept as links)."""
    shutil.copytree(src, dest, symlinks=True,
                    ignore=shutil.ignore_patterns(EXPECTED, EXPECTED_TXT, ARGS_TXT, "public", ".cache"))
    return dest


def tree(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` (relative path with '/' -> bytes)."""
    out = {}
    for dirpath, _, filenames in os.walk(folder):
        for name in filenames:
            p = Path(dirpath) / name
            out[p.relative_to(folder).as_posix()] = p.read_bytes()
    return out


def build_golden(src: Path, work: Path) -> tuple[dict[str, bytes] | None, str]:
    """Build a copy of the site ``src`` in ``work``; (output tree, diagnostics text)."""
    from site_builder.build import publish

    site = copy_site(src, work / "site")
    out = work / "out"
    result, _ = publish(str(site), str(out))
    text = "\n".join(d.format() for d in result.diagnostics)
    if not result.ok:
        return None, text
    files = tree(out)
    # The theme's fingerprinted assets are kept by name only: their names change with their
    # bytes, and the theme's own tests cover their content (no 1,000-line copies per site).
    # So is the search index (binary; its index, metadata and fragment files are named by
    # their content, and the search tests cover what it finds).
    return {k: (b"" if k.startswith((ASSETS, SEARCH)) else v) for k, v in files.items()}, text


def check_args(case: Path) -> list[str]:
    args_file = case / ARGS_TXT
    if not args_file.exists():
        return []
    return [a.strip() for a in args_file.read_text(encoding="utf-8").splitlines() if a.strip()]


def run_check(case: Path, work: Path) -> subprocess.CompletedProcess:
    """`python -m site_builder check --site <copy of case>` exactly as an editor runs it."""
    site = copy_site(case, work / case.name)
    return subprocess.run([sys.executable, "-m", "site_builder", "check", "--site", str(site), *check_args(case)],
                          cwd=work, capture_output=True, text=True, timeout=300)


def regen_sites(names: list[str]) -> int:
    status = 0
    for src in site_folders(SITES):
        if names and src.name not in names:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            files, diagnostics = build_golden(src, Path(tmp))
        if files is None:
            print(f"{src.name}: the build failed, expected/ left as it was\n{diagnostics}", file=sys.stderr)
            status = 1
            continue
        expected = src / EXPECTED
        if expected.exists():
            shutil.rmtree(expected)
        for rel, data in sorted(files.items()):
            target = expected / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        print(f"{src.name}: {len(files)} files")
    return status


def regen_diagnostics(names: list[str]) -> int:
    for case in site_folders(SITES_INVALID):
        if names and case.name not in names:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            proc = run_check(case, Path(tmp))
        (case / EXPECTED_TXT).write_text(proc.stderr, encoding="utf-8")
        print(f"{case.name}: exit {proc.returncode}, {proc.stderr.count(chr(10))} lines")
    return 0


def main(argv: list[str]) -> int:
    diagnostics = "--diagnostics" in argv
    names = [a for a in argv if not a.startswith("-")]
    status = regen_sites(names)
    if diagnostics:
        status |= regen_diagnostics(names)
    return status


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
