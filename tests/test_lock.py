"""requirements.lock pins, with hashes, everything the package and its tests import.

Nothing may be resolved by chance: every third-party module that ``site_builder/`` or
``tests/`` imports belongs to a distribution that pyproject.toml declares (the package's
own imports in ``dependencies``, the tests' there or in the ``test`` extra) and that the
lock pins, and the pins satisfy pyproject's ranges and are complete (every requirement of
a pinned distribution is pinned too).
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def lock_entries() -> dict[str, tuple[str, list[str]]]:
    """Distribution name → (pinned version, sha256 hashes)."""
    entries: dict[str, tuple[str, list[str]]] = {}
    for block in re.split(r"\n(?=\S)", LOCK.read_text(encoding="utf-8")):  # a line and its continuations
        if block.startswith("#") or not block.strip():
            continue
        m = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", block)
        assert m, f"requirements.lock: not an exact pin: {block.splitlines()[0]!r}"
        name = canonical(m[1])
        assert name not in entries, f"requirements.lock pins {name} twice"
        entries[name] = (m[2], re.findall(r"--hash=sha256:([0-9a-f]{64})\b", block))
    return entries


def declared(group: str) -> list[Requirement]:
    if group == "dependencies":
        return [Requirement(r) for r in PYPROJECT["project"]["dependencies"]]
    if group == "build":
        return [Requirement(r) for r in PYPROJECT["build-system"]["requires"]]
    return [Requirement(r) for r in PYPROJECT["project"]["optional-dependencies"][group]]


def imports(folder: str) -> dict[str, set[str]]:
    """Top-level third-party module → the files under ``folder`` that import it."""
    local = {"site_builder"} | {p.stem for p in (ROOT / "tests").rglob("*.py")}
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / folder).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top == "__future__" or top in sys.stdlib_module_names or top in local:
                    continue
                found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def distributions_of(modules: dict[str, set[str]]) -> dict[str, set[str]]:
    """Distribution → the files that import one of its modules; fails on a module no
    installed distribution provides."""
    provided = importlib.metadata.packages_distributions()
    out: dict[str, set[str]] = {}
    for module, files in modules.items():
        dists = provided.get(module)
        assert dists, f"{sorted(files)} import {module!r}, which no installed distribution provides"
        for dist in dists:
            out.setdefault(canonical(dist), set()).update(files)
    return out


def test_the_lock_pins_every_line_exactly_with_hashes() -> None:
    entries = lock_entries()
    assert len(entries) >= 20
    unhashed = sorted(name for name, (_, hashes) in entries.items() if not hashes)
    assert not unhashed, f"pinned without a hash: {unhashed}"


def test_every_import_is_declared_and_locked() -> None:
    entries = lock_entries()
    package = {canonical(r.name) for r in declared("dependencies")}
    tests = package | {canonical(r.name) for r in declared("test")}
    for folder, allowed, where in (("site_builder", package, "[project] dependencies"),
                                   ("tests", tests, "dependencies or the test extra")):
        dists = distributions_of(imports(folder))
        assert dists, folder
        undeclared = {d: sorted(f) for d, f in dists.items() if d not in allowed}
        assert not undeclared, f"imported from {folder}/ but not declared in {where}: {undeclared}"
        unlocked = {d: sorted(f) for d, f in dists.items() if d not in entries}
        assert not unlocked, f"imported from {folder}/ but not pinned in requirements.lock: {unlocked}"


def test_the_imports_seen_include_the_known_ones() -> None:
    """The import scan itself works: it finds what the package is known to import."""
    assert {"yaml", "spacy", "jinja2", "markdown_it", "tornado"} <= set(imports("site_builder"))
    assert {"pytest", "hypothesis", "playwright"} <= set(imports("tests"))


def test_every_declared_requirement_is_pinned_within_its_range() -> None:
    entries = lock_entries()
    for group in ("dependencies", "test", "build"):
        for req in declared(group):
            name = canonical(req.name)
            assert name in entries, f"pyproject.toml ({group}) names {req}, requirements.lock does not pin it"
            version = entries[name][0]
            assert req.specifier.contains(version, prereleases=True), \
                f"requirements.lock pins {name}=={version}, outside pyproject.toml's {req}"


def test_the_lock_is_closed_under_requirements() -> None:
    """Each requirement of a pinned distribution (for this Python and platform, with the
    extras asked for) is pinned too, within its range. Read from the installed metadata,
    so it checks what is installed at the pinned version (all of it, after .ci/run)."""
    entries = lock_entries()
    env = default_environment()
    todo = [(r, frozenset(r.extras)) for g in ("dependencies", "test", "build") for r in declared(g)]
    seen: set[tuple[str, frozenset[str]]] = set()
    checked = 0
    while todo:
        req, extras = todo.pop()
        name = canonical(req.name)
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        if installed != entries[name][0]:
            continue  # another version is installed (scripts/test-newest): its metadata says nothing about the pin
        checked += 1
        for line in importlib.metadata.requires(name) or []:
            sub = Requirement(line)
            if sub.marker and not any(sub.marker.evaluate(dict(env, extra=e)) for e in (extras or {""})):
                continue
            sub_name = canonical(sub.name)
            assert sub_name in entries, f"{name} requires {sub}, which requirements.lock does not pin"
            assert sub.specifier.contains(entries[sub_name][0], prereleases=True), \
                f"{name} requires {sub}, requirements.lock pins {sub_name}=={entries[sub_name][0]}"
            todo.append((sub, frozenset(sub.extras)))
    assert checked, "no pinned distribution is installed at its pinned version"


def test_the_refresh_command_in_the_readme_is_the_one_that_made_the_lock() -> None:
    header = re.search(r"^#\s+(pip-compile .+)$", LOCK.read_text(encoding="utf-8"), re.M)
    assert header, "requirements.lock has no pip-compile header"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = [line for line in readme.splitlines() if line.lstrip().startswith("pip-compile ")]
    assert commands, "README.md shows no pip-compile command"
    assert any(set(header[1].split()) <= set(cmd.split()) for cmd in commands), \
        f"README.md's refresh command differs from the one recorded in requirements.lock: {header[1]}"
