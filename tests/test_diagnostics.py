"""Invalid sites and the exact diagnostics an editor sees.

Every folder in tests/sites_invalid/ is one case: a small site (content/articles/*.md,
content/glossary/*.md, maybe site.yaml) and ``expected.txt``, the exact standard error of

    python -m site_builder check --site <case> [arguments in args.txt, one per line]

Add a case by adding a folder; ``python tests/regen_golden.py --diagnostics`` writes the
expected.txt files for you to review. Each case must fail with exit code 1, print exactly the
expected text (every error of the run, sorted by path and position, each with a hint) and
never a Python traceback; a build of the same site must fail the same way and leave the
previous output untouched.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from regen_golden import EXPECTED_TXT, SITES_INVALID, check_args, copy_site, run_check, site_folders
from site_builder.build import publish
from site_builder.write import MARKER, MARKER_BYTES

CASES = site_folders(SITES_INVALID)
LINE = re.compile(r"^(?P<path>[^:\n]+):(?P<line>\d+):(?P<col>\d+): (?P<severity>error|warning|info)"
                  r"\[(?P<code>[a-z]+\.[a-z-]+)\]: (?P<message>.+)$")


def test_there_are_cases() -> None:
    assert len(CASES) >= 20
    missing = [c.name for c in CASES if not (c / EXPECTED_TXT).exists()]
    assert not missing, f"cases without {EXPECTED_TXT}: {missing} (run python tests/regen_golden.py --diagnostics)"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_check_reports_exactly(case: Path, tmp_path: Path) -> None:
    proc = run_check(case, tmp_path)
    expected = (case / EXPECTED_TXT).read_text(encoding="utf-8")
    assert "Traceback" not in proc.stderr + proc.stdout
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr == expected


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_expected_text_is_well_formed(case: Path) -> None:
    """Every diagnostic is `path:line:col: severity[area.kind]: message` plus a hint, sorted,
    and the run ends with the count; a case always holds at least one error."""
    lines = (case / EXPECTED_TXT).read_text(encoding="utf-8").splitlines()
    assert lines and lines[-1].startswith("check failed: ")
    keys = []
    errors = 0
    i = 0
    while i < len(lines) - 1:
        m = LINE.match(lines[i])
        assert m, f"not a diagnostic line: {lines[i]!r}"
        assert not m["path"].startswith("/"), "paths are site-relative"
        assert int(m["line"]) >= 1 and int(m["col"]) >= 1
        assert lines[i + 1].startswith("  hint: ") and len(lines[i + 1]) > len("  hint: "), \
            f"no hint after {lines[i]!r}"
        keys.append((m["path"], int(m["line"]), int(m["col"])))
        errors += m["severity"] == "error"
        i += 2
        while i < len(lines) - 1 and lines[i].startswith("  ") and not LINE.match(lines[i]):
            i += 1  # a hint may span lines (an example block)
    assert keys == sorted(keys), "diagnostics must be sorted by path, line and column"
    assert errors >= 1
    assert lines[-1].startswith(f"check failed: {errors} error")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_build_fails_the_same_way_and_keeps_output(case: Path, tmp_path: Path) -> None:
    site = copy_site(case, tmp_path / "site")
    out = tmp_path / "out"
    out.mkdir()
    (out / "index.html").write_bytes(b"previous build\n")
    (out / MARKER).write_bytes(MARKER_BYTES)  # an earlier build's output, which a build may replace
    args = check_args(case)
    result, stats = publish(str(site), str(out), strict="--strict" in args, drafts="--drafts" in args)
    assert not result.ok and stats is None
    shown = "\n".join(d.format() for d in result.diagnostics)
    expected = (case / EXPECTED_TXT).read_text(encoding="utf-8").rsplit("check failed:", 1)[0].rstrip("\n")
    assert shown == expected
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "site"], "no staging folder is left behind"
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "index.html"]
    assert (out / "index.html").read_bytes() == b"previous build\n"


def test_many_errors_are_all_reported_in_one_run() -> None:
    """The many-errors case: every file's problems in one run, not just the first."""
    text = (SITES_INVALID / "many-errors" / EXPECTED_TXT).read_text(encoding="utf-8")
    paths = {m["path"] for m in map(LINE.match, text.splitlines()) if m and m["severity"] == "error"}
    assert len(paths) >= 6, paths
    assert "site.yaml" in paths
    assert sum(1 for line in text.splitlines() if " error[" in line) >= 10
