"""`site-builder suggest`: the name-finding rules (tests/fixtures/suggest.md), the text and
JSON output, --write, the cache, ner_model, and the sample site."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import FIXTURES, ROOT, glossary_entries, read_fixture_file, run_cli, write_article, write_glossary
from site_builder.build import suggest
from site_builder.suggest import key_of


def _cases():
    return [pytest.param(source, expected, id=f"suggest:{line}:{title[:50]}")
            for line, title, source, expected in read_fixture_file(FIXTURES / "suggest.md")]


@pytest.mark.parametrize("source, expected", _cases())
def test_rule_fixture(tmp_path: Path, source: str, expected: str) -> None:
    site = tmp_path / "site"
    write_glossary(site, glossary_entries())
    write_article(site, "case", source + "\n")
    found = {s.name: s for s in suggest(str(site), cache=False, min_articles=1).top(1)}
    wanted = {}
    for line in expected.split("\n"):
        if line.startswith("not: "):
            assert line[5:] not in found, f"{line[5:]!r} must not be suggested: {sorted(found)}"
            continue
        name, *rest = [part.strip() for part in line.split("|")]
        wanted[name] = rest
    assert sorted(found) == sorted(wanted)
    for name, rest in wanted.items():
        if rest and rest[0] != "-":
            assert found[name].type == rest[0], (name, found[name].type)
        if len(rest) > 1:
            assert found[name].aliases == [a.strip() for a in rest[1].split(",")], (name, found[name].aliases)


def _news_site(site: Path) -> None:
    write_glossary(site, glossary_entries())
    write_article(site, "one", "Defense Minister Sergei Shoigu met officials in Pyongyang.\n\n"
                               "Later, Shoigu’s aides flew home.\n", date="2023-03-01")
    write_article(site, "two", "Text.\n\nSergei\nShoigu said the Islamic Revolutionary Guard Corps (IRGC) helped.\n",
                  date="2023-03-02")
    write_article(site, "three", "The IRGC and Sergei Shoigu again; Vienna once.\n", date="2023-03-03")


def test_json_contract(site: Path) -> None:
    _news_site(site)
    out = run_cli("suggest", "--site", str(site), "--format", "json", "--no-cache")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert isinstance(data, list)
    assert [d["name"] for d in data] == ["Sergei Shoigu", "Islamic Revolutionary Guard Corps"]
    shoigu, irgc = data
    assert set(shoigu) == {"name", "slug", "variants", "aliases", "articles", "article_paths", "mentions",
                           "examples", "type"}
    assert shoigu["type"] == "PERSON" and irgc["type"] == "ORG"
    assert shoigu["articles"] == 3 and shoigu["mentions"] == 4
    assert shoigu["article_paths"] == ["content/articles/one.md", "content/articles/three.md",
                                       "content/articles/two.md"]
    assert "Defense Minister Sergei Shoigu" in shoigu["variants"] and "Shoigu’s" in shoigu["variants"]
    assert shoigu["aliases"] == ["Shoigu"]
    assert irgc["aliases"] == ["IRGC"] and irgc["articles"] == 2
    for d in data:
        for ex in d["examples"]:
            assert set(ex) == {"path", "line", "sentence"}
            lines = (site / ex["path"]).read_text(encoding="utf-8").split("\n")
            forms = [d["name"].split()[0], d["name"].split()[-1], *d["aliases"]]
            assert any(w in lines[ex["line"] - 1] for w in forms), ex
    assert shoigu["examples"][0] == {"path": "content/articles/one.md", "line": 6,
                                     "sentence": "Defense Minister Sergei Shoigu met officials in Pyongyang."}
    assert shoigu["examples"][2]["line"] == 8  # "Sergei" on line 8 of two.md; the name crosses a line break


def test_an_example_sentence_keeps_its_cross_references_and_code(site: Path) -> None:
    """The sentence shown is the one the editor wrote: a cross-reference or code inside it
    is shown as written, not dropped ("described in , and…")."""
    write_glossary(site, glossary_entries())
    for slug in ("one", "two"):
        write_article(site, slug, f"Later Sergei Shoigu signed the deal described in [[{'two' if slug == 'one' else 'one'}]], "
                                  "under clause `4b`.\n", date="2023-03-01")
    out = run_cli("suggest", "--site", str(site), "--format", "json", "--no-cache")
    assert out.returncode == 0, out.stderr
    sentences = [ex["sentence"] for ex in json.loads(out.stdout)[0]["examples"]]
    assert sentences == ["Later Sergei Shoigu signed the deal described in [[two]], under clause 4b.",
                         "Later Sergei Shoigu signed the deal described in [[one]], under clause 4b."]


def test_json_type_only_when_known(site: Path) -> None:
    write_glossary(site, glossary_entries())
    for n in (1, 2):
        write_article(site, f"a{n}", "Talks were held in Vienna.\n", date=f"2023-03-0{n}")
    data = json.loads(run_cli("suggest", "--site", str(site), "--format", "json", "--no-cache").stdout)
    assert data[0]["name"] == "Vienna" and "type" not in data[0]


def test_text_output_min_articles_and_limit(site: Path) -> None:
    _news_site(site)
    out = run_cli("suggest", "--site", str(site), "--no-cache")
    assert out.returncode == 0, out.stderr
    assert "1. Sergei Shoigu [PERSON]  (slug sergei-shoigu): 3 articles, 4 mentions" in out.stdout
    assert "content/articles/one.md:6: Defense Minister Sergei Shoigu met officials in Pyongyang." in out.stdout
    assert "also written: " in out.stdout and "Vienna (slug" not in out.stdout
    one = run_cli("suggest", "--site", str(site), "--no-cache", "--min-articles", "1", "--limit", "3")
    assert "\n3. " in one.stdout and "\n4. " not in one.stdout
    assert "4 names in 1 or more articles without a glossary entry (3 shown)" in one.stdout
    assert run_cli("suggest", "--site", str(site), "--limit", "0").returncode == 2


def test_write_scaffolds_an_entry_that_strict_refuses(site: Path) -> None:
    _news_site(site)
    out = run_cli("suggest", "--site", str(site), "--write", "sergei-shoigu", "islamic-revolutionary-guard-corps")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["content/glossary/sergei-shoigu.md",
                                  "content/glossary/islamic-revolutionary-guard-corps.md"]
    text = (site / "content" / "glossary" / "sergei-shoigu.md").read_text(encoding="utf-8")
    assert text.startswith('---\ntitle: "Sergei Shoigu"\naliases: ["Shoigu"]\n')
    assert "type: PERSON\n" in text
    irgc = (site / "content" / "glossary" / "islamic-revolutionary-guard-corps.md").read_text(encoding="utf-8")
    assert 'aliases: ["IRGC"]' in irgc and "type: ORG" in irgc
    built = run_cli("build", "--site", str(site))
    assert built.returncode == 0, built.stderr
    assert "warning[content.placeholder]" in built.stderr and "sergei-shoigu.md" in built.stderr
    strict = run_cli("build", "--site", str(site), "--strict")
    assert strict.returncode == 1 and "error[content.placeholder]" in strict.stderr
    # linked now, so no longer suggested
    after = json.loads(run_cli("suggest", "--site", str(site), "--format", "json").stdout)
    assert after == []


def test_a_build_never_writes_the_preview_panel(site: Path) -> None:
    _news_site(site)
    assert run_cli("build", "--site", str(site)).returncode == 0
    assert not [p for p in (site / "public").rglob("*") if "suggest" in p.name]


def test_write_refuses_unknown_and_taken_slugs(site: Path) -> None:
    _news_site(site)
    unknown = run_cli("suggest", "--site", str(site), "--write", "sergei-shoygu")
    assert unknown.returncode == 2 and "did you mean 'sergei-shoigu'" in unknown.stderr
    assert not (site / "content" / "glossary" / "sergei-shoygu.md").exists()
    write_article(site, "sergei-shoigu", "An article that took the slug.\n")
    taken = run_cli("suggest", "--site", str(site), "--write", "sergei-shoigu")
    assert taken.returncode == 2 and "already the slug" in taken.stderr
    assert not (site / "content" / "glossary" / "sergei-shoigu.md").exists()


def test_cache_makes_a_second_run_read_nothing_again(site: Path) -> None:
    _news_site(site)
    first = suggest(str(site), min_articles=1)
    assert first.counts.get("read for names") == 3
    again = suggest(str(site), min_articles=1)
    assert again.counts.get("read for names", 0) == 0
    assert [s.as_json() for s in again.suggestions] == [s.as_json() for s in first.suggestions]
    write_article(site, "three", "Vienna, and Sergei Shoigu in Vienna.\n", date="2023-03-03")
    edited = suggest(str(site), min_articles=1)
    assert edited.counts.get("read for names") == 1
    assert next(s for s in edited.top(1) if s.name == "Vienna").mentions == 2


def test_ner_model_not_installed_is_a_clear_error(site: Path) -> None:
    _news_site(site)
    (site / "site.yaml").write_text("title: T\nner_model: en_core_web_nonexistent\n", encoding="utf-8")
    out = run_cli("suggest", "--site", str(site))
    assert out.returncode == 1
    assert "site.yaml:2:1: error[config.ner-model]: the spaCy pipeline 'en_core_web_nonexistent'" in out.stderr
    assert "hint:" in out.stderr and "Traceback" not in out.stderr
    assert run_cli("build", "--site", str(site)).returncode == 0  # only suggest reads it


def test_ner_model_labels_and_entities_are_used(site: Path, tmp_path: Path) -> None:
    import spacy

    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([{"label": "GPE", "pattern": "Vienna"},
                        {"label": "ORG", "pattern": [{"LOWER": "acme"}, {"LOWER": "holdings"}]}])
    model = tmp_path / "pipeline"
    nlp.to_disk(model)
    write_glossary(site, glossary_entries())
    for n in (1, 2):
        write_article(site, f"a{n}", "Talks in Vienna; acme holdings paid.\n", date=f"2023-03-0{n}")
    (site / "site.yaml").write_text(f"ner_model: {json.dumps(str(model))}\n", encoding="utf-8")
    found = {s.name: s for s in suggest(str(site), cache=False).top(2)}
    assert found["Vienna"].type == "GPE"
    assert "acme holdings" not in found  # a pipeline's entity must still begin with a capital


def test_sample_site_suggests_nothing_an_entry_covers(tmp_path: Path) -> None:
    site = tmp_path / "sample"
    shutil.copytree(ROOT / "content", site / "content")
    shutil.copy(ROOT / "site.yaml", site / "site.yaml")
    result = suggest(str(site), cache=False, min_articles=1)
    from site_builder.build import Builder

    index = Builder(str(site)).run().index
    terms = {key_of(t.value) for e in index.entries.values() for t in e.terms}
    assert result.top(1)
    for s in result.top(1):
        assert key_of(s.name) not in terms and not terms & {key_of(a) for a in s.aliases}, s.name


def test_a_part_of_one_entrys_term_is_offered_as_its_alias(site: Path) -> None:
    write_glossary(site, [{"slug": "wagner-group", "title": "Wagner Group", "type": "ORG"},
                          {"slug": "kim-jong-un", "title": "Kim Jong Un", "type": "PERSON"}])
    for n in (1, 2):
        write_article(site, f"a{n}", "The Wagner Group recruited; later Wagner fighters and the UN left.\n",
                      date=f"2023-03-0{n}")
    data = {d["name"]: d for d in json.loads(run_cli("suggest", "--site", str(site), "--format", "json").stdout)}
    assert data["Wagner"]["alias_of"] == "wagner-group"
    assert "alias_of" not in data["UN"]  # case as written: "UN" is no part of "Kim Jong Un"
    text = run_cli("suggest", "--site", str(site)).stdout
    assert "perhaps an alias of the entry 'wagner-group'" in text
