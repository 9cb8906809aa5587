"""Every kind of error PyYAML raises becomes one `path:line:col` diagnostic with a fitting hint.

The readable cases live in tests/fixtures/yaml-errors.md (add one by adding a block there);
each runs with the loader the project uses (libyaml's, when PyYAML has it) and with PyYAML's
pure-Python loader, which words its errors differently and gives up on deep nesting in
another way: the diagnostics must not depend on which one read the text.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from packaging.version import Version

from conftest import FIXTURES, read_fixture_file
from site_builder import frontmatter as fm
from site_builder.config import load_config

FIXTURE = FIXTURES / "yaml-errors.md"
CASES = read_fixture_file(FIXTURE)
KINDS = {"ScannerError", "ParserError", "ComposerError", "ConstructorError", "ReaderError", "ValueError",
         "RecursionError"}
TOO_DEEP = ("error[yaml.syntax]: front-matter is nested too deeply to read\n"
            "  hint: front-matter values are text, lists of text, or one level of 'key: value' (image)")


class PurePythonLoader(yaml.SafeLoader):
    """The project's loader rebuilt on PyYAML's pure-Python classes."""


PurePythonLoader.add_constructor("tag:yaml.org,2002:timestamp", fm._keep_timestamp)
LOADERS = {"project": fm._Loader, "pure-python": PurePythonLoader}


def diagnostics(text: str, first_line: int = 2) -> str:
    values, diags = fm.load_mapping("a.md", text, first_line)
    assert diags, f"no diagnostic for {text[:60]!r}"
    return "\n".join(d.format() for d in diags)


def raised(text: str, loader: type = fm._Loader) -> str:
    """The name of what PyYAML itself raises when it reads ``text`` as the project does:
    composed into nodes, then built with ``deep=True`` (plain Python objects, no generators)."""
    try:
        node = yaml.compose(text, Loader=loader)
        loader("").construct_object(node, deep=True)
    except Exception as exc:  # noqa: BLE001 - the point is which one
        return type(exc).__name__
    return "nothing"


def kind_of(title: str) -> str | None:
    head = title.split(":", 1)[0]
    return head if head in KINDS else None


@pytest.mark.parametrize("loader", LOADERS)
@pytest.mark.parametrize("line, title, source, expected",
                         [pytest.param(*c, id=f"{c[0]}:{c[1][:50]}") for c in CASES])
def test_fixture(loader: str, line: int, title: str, source: str, expected: str,
                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fm, "_Loader", LOADERS[loader])
    assert diagnostics(source + "\n") == expected, f"{FIXTURE.name}:{line}: {title}"


@pytest.mark.parametrize("line, title, source, expected",
                         [pytest.param(*c, id=f"{c[0]}:{c[1][:50]}") for c in CASES if kind_of(c[1])])
def test_fixture_feeds_the_kind_it_names(line: int, title: str, source: str, expected: str) -> None:
    assert raised(source + "\n") == kind_of(title), f"{FIXTURE.name}:{line}: {title}"


def test_fixture_is_well_formed() -> None:
    assert len(CASES) >= 15
    for line, title, _, expected in CASES:
        lines = expected.splitlines()
        assert len(lines) == 2 and lines[0].startswith("a.md:") and lines[1].startswith("  hint: "), \
            f"{FIXTURE.name}:{line}: {title}: expected one diagnostic and its hint"
        assert "\n" not in lines[0] and "Traceback" not in expected


# -- deep nesting: libyaml stops at 1000 levels with a ScannerError (PyYAML ≥ 6.0.4), older
#    releases and the pure-Python loader run out of stack (RecursionError)

FLOW = "title: The deal\ntags: " + "[" * 1100 + "]" * 1100 + "\n"
FLOW_300 = "title: The deal\ntags: " + "[" * 300 + "]" * 300 + "\n"
FLOW_MAPPING = "image: " + "{a: " * 1100 + "b" + "}" * 1100 + "\n"
BLOCK = "title: The deal\nimage:\n" + "".join("  " * i + "a:\n" for i in range(1, 1100)) + "  " * 1100 + "b\n"
BLOCK_SEQUENCE = "title: The deal\ntags:\n" + "".join("  " * i + "-\n" for i in range(1, 300)) + "  " * 300 + "- b\n"
DEEP = {"flow-1100": (FLOW, 3), "flow-300": (FLOW_300, 3), "flow-mapping": (FLOW_MAPPING, 2),
        "block-1100": (BLOCK, 3), "block-sequence-300": (BLOCK_SEQUENCE, 3)}


@pytest.mark.parametrize("loader", LOADERS)
@pytest.mark.parametrize("case", DEEP)
def test_deep_nesting_is_too_deep_at_its_key(case: str, loader: str, monkeypatch: pytest.MonkeyPatch) -> None:
    text, key_line = DEEP[case]
    assert raised(text, LOADERS[loader]) in {"ScannerError", "RecursionError"}
    monkeypatch.setattr(fm, "_Loader", LOADERS[loader])
    assert diagnostics(text) == f"a.md:{key_line}:1: {TOO_DEEP}"


def test_the_deep_cases_feed_both_ways_pyyaml_gives_up() -> None:
    seen = {raised(text, loader) for text, _ in DEEP.values() for loader in LOADERS.values()}
    assert "RecursionError" in seen
    if yaml.__with_libyaml__ and Version(yaml.__version__) >= Version("6.0.4"):
        assert "ScannerError" in seen  # libyaml's "exceeded maximum nesting depth"


def test_libyaml_nesting_limit_error_reads_as_too_deep() -> None:
    """The exact error libyaml raises at its limit, made by hand, so this runs on every PyYAML."""
    text = "title: The deal\ntags: " + "[" * 1000 + "\n"
    mark = yaml.Mark("<unicode string>", 1006, 1, 1006, None, None)
    exc = yaml.scanner.ScannerError("while increasing flow level", mark, "exceeded maximum nesting depth", mark)
    d = fm.yaml_diagnostic("a.md", exc, text, 2)
    assert d.format() == f"a.md:3:1: {TOO_DEEP}"


@pytest.mark.parametrize("problem", ["exceeded maximum nesting depth", "a wording of some later release"])
def test_an_error_where_the_text_is_deep_reads_as_too_deep_whatever_its_wording(problem: str) -> None:
    text = "title: The deal\ntags: " + "[" * 1000 + "\n"
    mark = yaml.Mark("<unicode string>", 1006, 1, 1006, None, None)
    exc = yaml.parser.ParserError("while parsing a flow node", mark, problem, mark)
    assert fm.yaml_diagnostic("a.md", exc, text, 2).format() == f"a.md:3:1: {TOO_DEEP}"


def test_the_same_error_where_the_text_is_shallow_is_a_syntax_error() -> None:
    text = "title: The deal\ntags: [[a]\n"
    mark = yaml.Mark("<unicode string>", 27, 1, 11, None, None)
    exc = yaml.parser.ParserError("while parsing a flow node", mark, "a wording of some later release", mark)
    d = fm.yaml_diagnostic("a.md", exc, text, 2)
    assert d.format().startswith("a.md:3:12: error[yaml.syntax]: front-matter is not valid YAML: "), d.format()
    assert "too deeply" not in d.message


def test_nesting_that_closed_does_not_hide_a_later_error() -> None:
    text = "tags: " + "[" * 80 + "]" * 80 + "\ntitle: 'The deal\n"
    assert "a quoted value that starts here is never closed" in diagnostics(text)
    assert "too deeply" not in diagnostics(text)


def test_moderate_nesting_is_read() -> None:
    values, diags = fm.load_mapping("a.md", "tags: " + "[" * 20 + "a" + "]" * 20 + "\n", 2)
    assert diags == [] and values is not None and "tags" in values


def test_every_kind_is_fed() -> None:
    fed = {kind_of(title) for _, title, _, _ in CASES} | {"RecursionError"}
    assert KINDS <= fed, f"no case feeds {sorted(KINDS - fed)}"


def test_an_impossible_date_from_the_stock_loader() -> None:
    """The timestamps PyYAML builds itself raise ValueError for a date like 2024-02-30."""
    text = "title: The deal\ndate: 2024-02-30\n"
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    key, value = node.value[1]
    with pytest.raises(ValueError) as info:
        yaml.SafeLoader("").construct_object(value, deep=True)
    d = fm.yaml_diagnostic("a.md", info.value, text, 2, key=key.value, node=value)
    assert d.format() == ("a.md:3:7: error[yaml.value]: the value of 'date' is an impossible date: 2024-02-30\n"
                          "  hint: write a real calendar date as YYYY-MM-DD")
    # the project's loader keeps dates as text and checks them itself
    values, diags = fm.load_mapping("a.md", text, 2)
    assert diags == [] and values is not None
    with pytest.raises(fm.Invalid, match="impossible date"):
        fm.as_date(values["date"])
    assert fm.as_date(fm.load_mapping("a.md", "date: 2024-02-29\n", 2)[0]["date"]) == dt.date(2024, 2, 29)


def test_any_other_error_is_still_one_line_at_a_position() -> None:
    d = fm.yaml_diagnostic("a.md", yaml.YAMLError("something\nnew"), "title: x\n", 2)
    assert d.format() == ("a.md:2:1: error[yaml.syntax]: front-matter is not valid YAML: something new\n"
                          f"  hint: {fm.GENERIC_HINT}")


@pytest.mark.parametrize("text, expected", [
    ("title: News\n\tbase_url: https://example.org/\n",
     "site.yaml:2:1: error[yaml.syntax]: front-matter is not valid YAML: a tab character is used for indentation"),
    ("title: News\nlink: " + "[" * 1100 + "]" * 1100 + "\n",
     "site.yaml:2:1: error[yaml.syntax]: front-matter is nested too deeply to read"),
    ("title: News\nrelated_count: 0b_\n",
     "site.yaml:2:16: error[yaml.value]: the value of 'related_count' (0b_) looks like a whole number to YAML"),
])
def test_site_yaml_goes_through_the_same_converter(tmp_path: Path, text: str, expected: str) -> None:
    (tmp_path / "site.yaml").write_text(text, encoding="utf-8")
    _, diags = load_config(str(tmp_path))
    assert diags and diags[0].format().startswith(expected)
