"""Glossary diagnostics: duplicate terms are errors naming both places; risky aliases warn."""

from __future__ import annotations

from pathlib import Path

from conftest import run_cli, write_article, write_glossary


def _check(site: Path, *args: str):
    return run_cli("check", "--site", str(site), *args)


def test_same_term_on_two_entries_names_both(tmp_path: Path) -> None:
    site = tmp_path / "site"
    write_glossary(site, [
        {"slug": "north-korea", "title": "North Korea", "aliases": ["DPRK"], "type": "GPE"},
        # the same term: differing only by case, by Unicode form (fullwidth letters), by inner spaces
        {"slug": "pyongyang-regime", "title": "Pyongyang regime", "aliases": ["dprk", "ＤＰＲＫ", "North  Korea"]},
    ])
    write_article(site, "a", "North Korea.\n")
    out = _check(site)
    assert out.returncode == 1
    err = out.stderr
    assert err.count("error[glossary.term-duplicate]") == 3, err
    assert "content/glossary/pyongyang-regime.md:4:5: error[glossary.term-duplicate]: the alias 'dprk' is also a term of " \
           "content/glossary/north-korea.md:4 ('DPRK')" in err
    assert "content/glossary/north-korea.md:2" in err  # 'North  Korea' clashes with the title, on line 2


def test_risky_aliases_warn_and_fail_under_strict(tmp_path: Path) -> None:
    site = tmp_path / "site"
    write_glossary(site, [
        {"slug": "united-states", "title": "United States", "aliases": ["US"]},
        {"slug": "state-department", "title": "State Department", "aliases": ["state"]},
        {"slug": "iran", "title": "Iran", "aliases": ["Teh\u200bran"]},
        {"slug": "russia", "title": "Russia", "aliases": ["Russ\u0456a"]},  # a Cyrillic і
        {"slug": "nato", "title": "NATO", "aliases": ["OTAN"]},
    ])
    write_article(site, "a", "The United States, the State Department, Iran, Russia and NATO.\n")
    out = _check(site)
    assert out.returncode == 0, out.stderr
    err = out.stderr
    assert "warning[glossary.term-short]: the alias 'US'" in err
    assert "warning[glossary.term-common]: the alias 'state'" in err
    assert "warning[glossary.term-invisible]" in err
    assert "warning[glossary.term-mixed-script]" in err
    assert "OTAN" not in err  # an all-capital acronym is not a common word
    strict = _check(site, "--strict")
    assert strict.returncode == 1
    assert "error[glossary.term-short]" in strict.stderr


def test_entries_never_mentioned_are_info(tmp_path: Path) -> None:
    site = tmp_path / "site"
    write_glossary(site, [{"slug": "iran", "title": "Iran"}, {"slug": "chad", "title": "Chad"}])
    write_article(site, "a", "Iran only.\n")
    out = _check(site, "--strict")
    assert out.returncode == 0, out.stderr
    assert "content/glossary/chad.md:1:1: info[glossary.unmentioned]: 'Chad' is not mentioned in any article" in out.stderr
    assert "iran.md" not in out.stderr
