"""Related reading: front-matter lists, automatic picks, backlinks, and their errors."""

from __future__ import annotations

import random
from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import body_of, run_cli, write_article, write_glossary
from site_builder.build import Builder

ENTRIES = [
    {"slug": "iran", "title": "Iran", "type": "GPE"},
    {"slug": "russia", "title": "Russia", "type": "GPE"},
    {"slug": "wagner-group", "title": "Wagner Group", "type": "ORG"},
    {"slug": "kcna", "title": "Korean Central News Agency", "aliases": ["KCNA"], "type": "ORG"},
]


def small_site(root: Path) -> Path:
    write_glossary(root, ENTRIES)
    write_article(root, "drones", "Iran sold Russia drones.\n", date="2023-03-08", extra="tags: [iran]\n")
    write_article(root, "wagner", "The Wagner Group got arms. KCNA denied it.\n", date="2023-03-16",
                  extra="related: [drones]\n")
    write_article(root, "deal", "Russia wants arms. KCNA was silent. See [[wagner]].\n", date="2023-03-30",
                  extra="tags: [iran]\n")
    write_article(root, "food", "A harvest story about Russia.\n", date="2023-04-03")
    write_article(root, "secret", "Not yet.\n", date="2023-04-04", extra="draft: true\n")
    return root


def test_explicit_first_then_padded_to_three(tmp_path: Path) -> None:
    site = small_site(tmp_path / "site")
    result = Builder(str(site)).run()
    assert result.ok, [d.format() for d in result.diagnostics]
    picks = result.picks["wagner"]
    assert [p.header.slug for p in picks][0] == "drones" and picks[0].explicit
    assert len(picks) == 3
    assert all(not p.explicit for p in picks[1:])
    # the article sharing the rare entity (KCNA) beats the one sharing nothing rare
    assert picks[1].header.slug == "deal"
    for slug, ps in result.picks.items():
        slugs = [p.header.slug for p in ps]
        assert slug not in slugs and len(slugs) == len(set(slugs)) and "secret" not in slugs


def test_related_section_and_referenced_by_render(tmp_path: Path) -> None:
    site = small_site(tmp_path / "site")
    assert run_cli("build", "--site", str(site)).returncode == 0
    write_article(site, "later", "A year on, see [[wagner]].\n", date="2024-06-01")  # too far off to be picked
    assert run_cli("build", "--site", str(site)).returncode == 0
    wagner = (site / "public" / "articles" / "wagner" / "index.html").read_text()
    assert "Related reading" in wagner
    assert "Referenced by" in wagner  # 'later' cross-references it
    assert 'href="/articles/later/"' in wagner.split("Referenced by", 1)[1]
    # 'deal' cross-references it too, and is among the picks: shown once, under "Related reading"
    assert wagner.count('href="/articles/deal/"') == 1
    deal = (site / "public" / "articles" / "deal" / "index.html").read_text()
    assert "Referenced by" not in deal


def test_explain_related_prints_score_parts(tmp_path: Path) -> None:
    site = small_site(tmp_path / "site")
    out = run_cli("check", "--site", str(site), "--explain-related", "wagner")
    assert out.returncode == 0, out.stderr
    assert "chosen by the editor" in out.stdout
    assert "shared entities" in out.stdout and "kcna" in out.stdout
    assert "nearness in date" in out.stdout


def test_front_matter_related_errors_all_in_one_run(tmp_path: Path) -> None:
    site = small_site(tmp_path / "site")
    write_article(site, "broken", "Text.\n", date="2023-05-01",
                  extra="related:\n  - drons\n  - broken\n  - drones\n  - drones\n  - secret\n")
    public = site / "public"
    public.mkdir()
    (public / "keep.txt").write_text("previous output")
    out = run_cli("build", "--site", str(site))
    assert out.returncode == 1
    err = out.stderr
    assert "content/articles/broken.md:6:5: error[related.unknown]: related item 'drons'" in err
    assert "did you mean 'drones'" in err
    assert "content/articles/broken.md:7:5: warning[related.self]" in err
    assert "content/articles/broken.md:9:5: warning[related.duplicate]" in err
    assert "content/articles/broken.md:10:5: error[related.draft]" in err
    assert "Traceback" not in err
    assert (public / "keep.txt").read_text() == "previous output"  # the previous output is untouched


def test_related_block_duplicate_is_a_warning(tmp_path: Path) -> None:
    site = small_site(tmp_path / "site")
    write_article(site, "block", "::: related\ndrones\ndrones\n:::\n", date="2023-05-02")
    result = Builder(str(site)).run()
    assert result.ok
    assert any(d.code == "related.duplicate" and d.line == 8 for d in result.diagnostics)
    assert body_of(result.files["articles/block/index.html"].decode()).count("card-article") == 1


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(0, 10_000))
def test_related_lists_never_hold_self_or_duplicates_and_are_stable(tmp_path_factory, seed: int) -> None:
    rnd = random.Random(seed)
    site = tmp_path_factory.mktemp("site")
    names = ["Iran", "Russia", "Wagner Group", "KCNA"]
    write_glossary(site, ENTRIES)
    n = rnd.randint(2, 9)
    for i in range(n):
        body = " and ".join(rnd.sample(names, rnd.randint(0, 3))) or "Nothing named"
        related = rnd.sample([f"a{j}" for j in range(n) if j != i], rnd.randint(0, min(2, n - 1)))
        write_article(site, f"a{i}", body + ".\n", date=f"2023-0{1 + rnd.randint(0, 8)}-1{rnd.randint(0, 9)}",
                      extra=f"related: [{', '.join(related)}]\ntags: [{rnd.choice(['x', 'y'])}]\n")
    first = Builder(str(site)).run()
    second = Builder(str(site)).run()
    assert first.ok
    for slug, picks in first.picks.items():
        slugs = [p.header.slug for p in picks]
        assert slug not in slugs
        assert len(slugs) == len(set(slugs))
        assert len(slugs) == min(3, n - 1)
        assert slugs == [p.header.slug for p in second.picks[slug]]
    assert first.files == second.files
