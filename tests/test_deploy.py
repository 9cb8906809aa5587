"""Deploys: what Netlify and GitHub Actions run, and why a kept cache cannot make a deploy wrong.

A deploy restores ``.cache/site-builder/`` from an earlier build (netlify-plugin-cache,
actions/cache) into a fresh checkout and builds into an empty output folder. Whatever that
cache holds (nothing, an earlier build's results, results written by another version of
the package) the output must be the bytes of a cold ``--no-cache`` build.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
import tomllib
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, run_cli, write_article, write_glossary

NETLIFY = tomllib.loads((ROOT / "netlify.toml").read_text(encoding="utf-8"))
WORKFLOW_PATH = ROOT / ".github" / "workflows" / "site.yml"
LOCK_INSTALL = "pip install --require-hashes -r requirements.lock"
PACKAGE_INSTALL = "pip install --no-deps --no-build-isolation -e ."
PREVIEW_URL = "https://deploy-preview-7--arms-for-food.netlify.app"


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def small_site(root: Path) -> Path:
    write_glossary(root, [
        {"slug": "russia", "title": "Russia", "type": "GPE", "body": "A country; see also North Korea."},
        {"slug": "north-korea", "title": "North Korea", "aliases": ["DPRK"], "type": "GPE"},
        {"slug": "john-kirby", "title": "John Kirby", "aliases": ["Kirby"], "type": "PERSON"},
    ])
    for i in range(12):
        body = (f"Russia asked North Korea for shells, Kirby said on day {i}.\n\n"
                f"The DPRK wants food in return.\n" + (f"\nSee [[a{i - 1:02d}]].\n" if i else ""))
        write_article(root, f"a{i:02d}", body, title=f"Article {i}", date=f"2023-03-{i + 1:02d}",
                      extra="tags: [russia, arms]\n")
    return root


def build(site: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    result = run_cli("build", "--site", str(site), "--out", str(out), "--jobs", "2", *extra)
    assert result.returncode == 0, result.stderr
    return result


def counts(result: subprocess.CompletedProcess) -> dict[str, int]:
    """The build's summary line: how many files it read, linked and rendered."""
    return {what: int(n) for n, what in re.findall(r"(\d+) (read|linked|rendered)\b", result.stdout)}


def cold(site: Path, out: Path) -> dict[str, bytes]:
    build(site, out, "--no-cache")
    return tree(out)


# ---------------------------------------------------------------------------
# The cache on CI


OLDER_VERSION = textwrap.dedent("""
    # An older release of the package: another version string and, so that reusing its
    # results would show, bodies rendered a little differently.
    import dataclasses, sys
    import site_builder
    site_builder.__version__ = "0.0.1"
    import site_builder.link as link_module
    current = link_module.link
    def older_link(*args, **kwargs):
        linked = current(*args, **kwargs)
        return dataclasses.replace(linked, body_html=linked.body_html + "<p>rendered by 0.0.1</p>\\n")
    link_module.link = older_link
    from site_builder.cli import main
    sys.exit(main(sys.argv[1:]))
""")


def test_a_cache_written_by_an_older_version_gives_the_bytes_of_a_cold_build(tmp_path: Path) -> None:
    site = small_site(tmp_path / "site")
    old = subprocess.run([sys.executable, "-c", OLDER_VERSION, "build", "--site", str(site),
                          "--out", str(tmp_path / "old"), "--jobs", "2"],
                         capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert old.returncode == 0, old.stderr
    assert b"rendered by 0.0.1" in (tmp_path / "old" / "articles" / "a03" / "index.html").read_bytes(), \
        "the stand-in for an older version did not change its output: the test would prove nothing"
    assert any((site / ".cache" / "site-builder").iterdir()), "the older version left no cache"

    # the next deploy, with the current version: the restored cache, an empty output folder
    deploy = build(site, tmp_path / "deploy")
    reference = cold(site, tmp_path / "cold")
    assert tree(tmp_path / "deploy") == reference
    assert counts(deploy)["read"] == counts(deploy)["linked"] == 12 + 3, deploy.stdout  # nothing was reused


def test_a_restored_cache_in_a_fresh_checkout_gives_the_bytes_of_a_cold_build(tmp_path: Path) -> None:
    """What a Netlify or GitHub deploy does: the cache of the last deploy copied into a new
    clone (other folder, every file new), one article edited, an output folder that starts
    empty; and a deploy of the same commit again. Both are cold builds' bytes, and reuse."""
    first = small_site(tmp_path / "first")
    build(first, tmp_path / "first-out")
    reference = cold(first, tmp_path / "first-cold")

    for edited in (False, True):
        clone = tmp_path / f"clone-{edited}"
        shutil.copytree(first, clone, ignore=shutil.ignore_patterns(".cache", "public"))  # new mtimes
        shutil.copytree(first / ".cache", clone / ".cache")  # the cache plugin's restore
        later = time.time() + 5
        for p in clone.rglob("*.md"):
            os.utime(p, (later, later))
        if edited:
            article = clone / "content" / "articles" / "a05.md"
            article.write_text(article.read_text(encoding="utf-8") + "\nCorrection: the date was wrong.\n",
                               encoding="utf-8")
        deploy = build(clone, tmp_path / f"deploy-{edited}")
        expected = cold(clone, tmp_path / f"cold-{edited}") if edited else reference
        assert tree(tmp_path / f"deploy-{edited}") == expected
        assert counts(deploy)["linked"] <= (1 if edited else 0), deploy.stdout  # the cache was used


def test_a_missing_cache_gives_the_bytes_of_a_cold_build(tmp_path: Path) -> None:
    site = small_site(tmp_path / "site")
    build(site, tmp_path / "deploy")
    assert (site / ".cache" / "site-builder").is_dir()
    assert tree(tmp_path / "deploy") == cold(site, tmp_path / "cold")


# ---------------------------------------------------------------------------
# netlify.toml


def commands() -> dict[str, str]:
    return {"production": NETLIFY["build"]["command"],
            **{ctx: NETLIFY["context"][ctx]["command"] for ctx in ("deploy-preview", "branch-deploy")}}


def test_netlify_installs_the_lock_then_builds_strictly_and_publishes_public() -> None:
    assert NETLIFY["build"]["publish"] == "public"
    assert NETLIFY["build"]["environment"]["PYTHON_VERSION"] == "3.11"
    for context, command in commands().items():
        steps = [s.strip() for s in command.split("&&")]
        assert steps[0] == f"python -m {LOCK_INSTALL}", context
        assert steps[1] == f"python -m {PACKAGE_INSTALL}", context
        assert steps[2].startswith("python -m site_builder build --strict"), context
        assert len(steps) == 3, context


def test_netlify_keeps_site_builders_cache_and_pips_downloads() -> None:
    plugins = {p["package"]: p for p in NETLIFY["plugins"]}
    paths = plugins["netlify-plugin-cache"]["inputs"]["paths"]
    assert ".cache/site-builder" in paths
    assert NETLIFY["build"]["environment"]["PIP_CACHE_DIR"] in paths
    # Netlify installs a plugin that is not in its own list only from package.json, pinned
    package = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))
    lock = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8"))
    for name in plugins:
        version = package["devDependencies"][name]
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name} is not pinned in package.json"
        locked = lock["packages"][f"node_modules/{name}"]
        assert locked["version"] == version and locked["integrity"].startswith("sha512-")


def test_netlify_keeps_the_security_headers() -> None:
    headers = {h["for"]: h["values"] for h in NETLIFY["headers"]}
    csp = headers["/*"]["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert headers["/*"]["X-Content-Type-Options"] == "nosniff"
    assert headers["/*"]["X-Frame-Options"] == "DENY"
    assert "immutable" in headers["/assets/*"]["Cache-Control"]


def run_netlify_build_step(context: str, site: Path, tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    """The build step of a context's command, run by bash as Netlify runs it, with ``python``
    this interpreter (the install steps are what .ci/run does already)."""
    step = commands()[context].split("&&")[-1].strip()
    shim = tmp_path / "bin"
    shim.mkdir(exist_ok=True)
    (shim / "python").write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n', encoding="utf-8")
    (shim / "python").chmod(0o755)
    full_env = {k: v for k, v in os.environ.items() if k not in ("DEPLOY_PRIME_URL", "SITE_BUILDER_COLD")}
    full_env.update(env, PATH=f"{shim}{os.pathsep}{os.environ['PATH']}")
    return subprocess.run(["bash", "-c", step], cwd=site, env=full_env, capture_output=True, text=True,
                          timeout=300)


def sample_site(dest: Path) -> Path:
    shutil.copytree(ROOT / "content", dest / "content")
    shutil.copy(ROOT / "site.yaml", dest / "site.yaml")
    return dest


def test_netlify_production_build_uses_site_yaml_and_keeps_the_cache(tmp_path: Path) -> None:
    site = sample_site(tmp_path / "site")
    result = run_netlify_build_step("production", site, tmp_path)
    assert result.returncode == 0, result.stderr
    base_url = yaml.safe_load((ROOT / "site.yaml").read_text(encoding="utf-8"))["base_url"]
    assert base_url in (site / "public" / "feed.xml").read_text(encoding="utf-8")
    assert any((site / ".cache" / "site-builder").iterdir())


def test_netlify_cold_switch_builds_without_the_cache(tmp_path: Path) -> None:
    site = sample_site(tmp_path / "site")
    result = run_netlify_build_step("production", site, tmp_path, SITE_BUILDER_COLD="1")
    assert result.returncode == 0, result.stderr
    assert not (site / ".cache").exists(), "SITE_BUILDER_COLD=1 must neither read nor write the cache"
    assert (site / "public" / "index.html").is_file()


@pytest.mark.parametrize("context", ["deploy-preview", "branch-deploy"])
def test_netlify_previews_link_to_their_own_address(context: str, tmp_path: Path) -> None:
    if "--base-url" not in run_cli("build", "--help").stdout:
        pytest.skip("this site-builder's build has no --base-url yet (the command line gains it separately)")
    site = sample_site(tmp_path / "site")
    result = run_netlify_build_step(context, site, tmp_path, DEPLOY_PRIME_URL=PREVIEW_URL)
    assert result.returncode == 0, result.stderr
    feed = (site / "public" / "feed.xml").read_text(encoding="utf-8")
    assert PREVIEW_URL + "/" in feed
    assert "https://arms-for-food.netlify.app" not in feed, "a preview's feed must not point at production"


# ---------------------------------------------------------------------------
# The README's commands and .ci/run install from the lock


def test_readme_ci_and_the_workflow_install_from_the_lock() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    install = f"{LOCK_INSTALL} && {PACKAGE_INSTALL}"
    assert f"{install} && site-builder build" in readme
    test_command = re.search(r"^\(command -v chromium .*$", readme, re.M)
    assert test_command and test_command[0].endswith(f"{install} && python -m pytest")

    ci = [line for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
          if line.strip() and not line.lstrip().startswith("#")]
    assert any(line.startswith("pip install -q --require-hashes -r requirements.lock") for line in ci)
    assert any(line.startswith("pip install -q --no-deps --no-build-isolation -e .") for line in ci)
    assert ci[-1].startswith("python -m pytest")
    assert not any(re.search(r"pip install .*-e \"?\.\[test\]", line) for line in ci), \
        "CI must not resolve versions itself"
    assert "test-newest" not in "\n".join(ci), "the newest-versions run is a separate, explicit command"

    workflow = WORKFLOW_PATH.read_text(encoding="utf-8")
    assert workflow.count(f"python -m {LOCK_INSTALL}") == 2
    assert workflow.count(f"python -m {PACKAGE_INSTALL}") == 2


# ---------------------------------------------------------------------------
# .github/workflows/site.yml


def check_jsonschema(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows",
                           str(path)], capture_output=True, text=True, timeout=120)


def test_the_workflow_passes_githubs_schema() -> None:
    result = check_jsonschema(WORKFLOW_PATH)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_catches_a_broken_workflow(tmp_path: Path) -> None:
    """The check is not vacuous: a job without runs-on, and a step with both uses and run, fail it."""
    for breakage in (lambda w: w["jobs"]["build"].pop("runs-on"),
                     lambda w: w["jobs"]["check"]["steps"][0].update(run="true")):
        workflow = yaml.safe_load(WORKFLOW_PATH.read_text(encoding="utf-8"))
        breakage(workflow)
        broken = tmp_path / "site.yml"
        broken.write_text(yaml.safe_dump(workflow), encoding="utf-8")
        assert check_jsonschema(broken).returncode != 0


def test_the_workflow_checks_pull_requests_and_builds_main() -> None:
    workflow = yaml.safe_load(WORKFLOW_PATH.read_text(encoding="utf-8"))
    on = workflow[True]  # PyYAML reads the key `on` as a yes/no value
    assert "pull_request" in on and on["push"]["branches"] == ["main"]
    assert workflow["permissions"] == {"contents": "read"}
    text = WORKFLOW_PATH.read_text(encoding="utf-8")
    assert "secrets." not in text, "a fork's run has no secrets: the workflow must not need any"

    check, build_job = workflow["jobs"]["check"], workflow["jobs"]["build"]
    assert "pull_request" in check["if"] and "push" in build_job["if"]
    assert any(s.get("run") == "site-builder check --strict" for s in check["steps"])
    assert any(s.get("run") == "site-builder build --strict" for s in build_job["steps"])

    cached = [path.strip() for s in build_job["steps"] if s.get("uses", "").startswith("actions/cache@")
              for path in s["with"]["path"].splitlines() if path.strip()]
    assert "~/.cache/pip" in cached and ".cache/site-builder" in cached
    assert "~/.cache/site-builder-key" in cached  # the key that authenticates the cache, kept with it
    uploads = [s for s in build_job["steps"] if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert len(uploads) == 1 and uploads[0]["with"]["path"].rstrip("/") == "public"
    names = [s.get("uses", s.get("run", "")) for s in build_job["steps"]]
    assert names.index("site-builder build --strict") < names.index(uploads[0]["uses"])
