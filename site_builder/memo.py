"""The executor: how the pipeline's stages run, kept apart from what they compute.

``build()`` hands each map stage to ``Executor.map`` with the stage's key function
(declared beside the stage: ``parse.read_key``, ``link.link_key``…) and its compute
function. The executor looks every key up in the stage's table, computes only the
misses, and runs them in worker processes when there are enough (``parallel.py``).
Whole-site reduces go through ``Executor.reduce`` with a key of what they read.

Tables live in memory for as long as the executor does (the dev server keeps one for
its whole session, so each edit recomputes only what it touched), and on disk when a
cache folder is in use (``cache.py``: authenticated, sharded so that an edit rewrites
only the shards it changed). A one-shot build without a cache memoises nothing and
computes no keys.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any, Callable, Hashable, Iterable, Sequence

from site_builder.cache import DiskCache
from site_builder.parallel import PARALLEL_MIN, WORKER, Helper, pool_map

_ABSENT = object()
SHARDS = 16  # files per table on disk: an edit rewrites the shards whose keys changed


def shard_of(key: Hashable) -> int:
    return zlib.crc32(repr(key).encode("utf-8", "surrogatepass")) % SHARDS


@dataclass(frozen=True)
class Stage:
    """A map stage: ``key(item)`` is what computing ``item`` reads (equal keys, equal
    results); ``compute(item, shared)`` makes the result; ``shared()`` makes what every
    call needs and is costly to make (the glossary matcher), only when something misses.
    ``parallel``: whether its misses are worth worker processes (linking, rendering: yes;
    a dictionary look-up per document: no, forking would cost more than the work).
    ``remote``: the same computation as a picklable function of a list of items, which a
    helper process (parallel.Helper) can run for a few misses.
    ``context``: what ``key`` reads besides the item (settings, the index's version): with
    the same context, the very same item object (an unchanged document) gives the result
    of the last run without its key being made again. ``disk``: whether results are
    worth keeping between runs. ``for_keys``: the stage only makes another stage's keys,
    so without a memo it is not run at all."""

    name: str
    key: Callable[[Any], Hashable]
    compute: Callable[[Any, Any], Any]
    shared: Callable[[], Any] = lambda: None
    parallel: bool = False
    remote: Callable[[list[Any]], list[Any]] | None = None
    context: Hashable = None
    disk: bool = True
    for_keys: bool = False
    counted: str = ""  # the word the terminal reports this stage's computations under ("linked")


class Memo:
    """Stage results by key, by stage name: in memory, loaded from disk on first use.
    A memo that will be saved notes which keys each run used, and saves only those."""

    def __init__(self, disk: DiskCache | None, saving: bool = False):
        self.disk = disk if disk is not None and disk.enabled else None
        self.saving = saving and self.disk is not None
        self.tables: dict[str, dict[Hashable, Any]] = {}
        self.used: dict[str, set[Hashable]] = {}  # keys read or written in the current run (when saving)
        self.saved: dict[str, list[set[Hashable]]] = {}  # keys per shard, as on disk

    def table(self, name: str, disk: bool = True) -> dict[Hashable, Any]:
        if name not in self.tables:
            data: dict[Hashable, Any] = {}
            if disk and self.disk is not None:
                shards = []
                for n in range(SHARDS):
                    part = self.disk.load(f"{name}.{n:x}")
                    part = {k: v for k, v in part.items() if shard_of(k) == n}  # a misplaced entry is no entry
                    shards.append(set(part))
                    data.update(part)
                self.saved[name] = shards
            self.tables[name] = data
        return self.tables[name]

    def use(self, name: str, keys: Iterable[Hashable]) -> None:
        if self.saving:
            self.used.setdefault(name, set()).update(keys)

    def prune(self, name: str, keys: list[Hashable], whole: bool) -> None:
        """Forget results nobody will read: a one-shot build that saves keeps only what this
        run used (results replaced by an edit would otherwise stay in memory until the end:
        ~10 MB for a glossary edit that relinks 555 articles); a long session, once a whole
        map's table holds more than twice what its documents use."""
        table = self.tables[name]
        if self.saving:
            used = self.used[name]
            if len(table) > len(used):
                self.tables[name] = {k: v for k, v in table.items() if k in used}
        elif whole and len(table) > 2 * len(keys) + 64:
            self.tables[name] = {k: table[k] for k in keys}

    def begin(self) -> None:
        self.used = {}

    def save(self) -> None:
        """Write the on-disk tables whose kept keys changed, shard by shard (keeping only
        what this run used, so the cache does not grow with every edit)."""
        if not self.saving:
            return
        for name, saved in self.saved.items():
            table = self.tables.get(name, {})
            used = self.used.get(name, set())
            parts: list[dict[Hashable, Any]] = [{} for _ in range(SHARDS)]
            for k in used:
                if k in table:
                    parts[shard_of(k)][k] = table[k]
            for n, part in enumerate(parts):
                if set(part) != saved[n]:
                    self.disk.save(f"{name}.{n:x}", part)
                    saved[n] = set(part)


class Executor:
    """Runs the pipeline's maps and reduces: memoised, and in ``jobs`` processes."""

    def __init__(self, memo: Memo | None, jobs: int = 1):
        self.memo = memo  # None: a one-shot build that keeps nothing (no keys computed)
        self.jobs = max(1, jobs)
        self.counts: dict[str, int] = {}
        self.helper: Helper | None = None  # see parallel.Helper (a one-shot build's)
        self.resources: dict[str, tuple[Hashable, Any]] = {}
        self.recent: dict[str, Any] = {}  # a resident executor's last run of each map (see map, derive)
        self.last: dict[str, Any] = {}  # a resident executor's view of its previous run

    def map(self, stage: Stage, items: Sequence[Any]) -> list[Any]:
        """``stage.compute`` of every item, in order: from the table where the key is known.

        A resident executor compares the items with the last run's (same context): where
        it gets the very same object, it gives the last result without making the key
        again, so an edit costs one pass over the list, not one key per document."""
        if self.memo is None:
            return [None] * len(items) if stage.for_keys else self._compute(stage, list(items))
        items = list(items)
        last = self.recent.get(stage.name)
        if last is not None and last[0] == stage.context and len(last[1]) == len(items):
            _, last_items, keys, results = last
            changed = [i for i, (a, b) in enumerate(zip(items, last_items)) if a is not b]
            if not changed:
                return results
            keys, results = list(keys), list(results)
            for i, value in zip(changed, self._lookup(stage, [items[i] for i in changed])):
                keys[i], results[i] = value
        else:
            keys, results = map(list, zip(*self._lookup(stage, items))) if items else ([], [])
        self.recent[stage.name] = (stage.context, items, keys, results)
        return results

    def _lookup(self, stage: Stage, items: list[Any]) -> list[tuple[Hashable, Any]]:
        """(key, result) of each item: from the table, computing the misses."""
        table = self.memo.table(stage.name, stage.disk)  # type: ignore[union-attr]
        keys = [stage.key(item) for item in items]
        missing: dict[Hashable, Any] = {}
        for item, k in zip(items, keys):
            if k not in table and k not in missing:
                missing[k] = item
        if missing:
            for k, result in zip(missing, self._compute(stage, list(missing.values()))):
                table[k] = result
        self.memo.use(stage.name, keys)  # type: ignore[union-attr]
        results = [(k, table[k]) for k in keys]
        self.memo.prune(stage.name, keys, len(items) > 64)  # type: ignore[union-attr]
        return results

    def derive(self, name: str, source: dict[Any, Any], make: Callable[[dict[Any, Any]], Any]) -> Any:
        """``make(source)``, unless every value of ``source`` is the very object it was in
        the last run, or an equal one (then the last result): for values made from a map's
        results, where an edit changes one or two."""
        last = self.recent.get(name)
        if last is not None and len(last[0]) == len(source) and \
                all((w := last[0].get(k, _ABSENT)) is v or w == v for k, v in source.items()):
            return last[1]
        value = make(source)
        if self.memo is not None:
            self.recent[name] = (source, value)
        return value

    def _compute(self, stage: Stage, items: list[Any]) -> list[Any]:
        if not items:
            return []
        if stage.counted:
            self.counts[stage.counted] = self.counts.get(stage.counted, 0) + len(items)
        if stage.remote is not None and self.helper is not None and len(items) < PARALLEL_MIN:
            results = self.helper.call(stage.remote, items)
            if results is not None:
                return results
        jobs = self.jobs if stage.parallel else 1
        return pool_map(_call, len(items), jobs, {"items": items, "stage": stage, "shared": stage.shared()})

    def reduce(self, name: str, key: Hashable, compute: Callable[[], Any], disk: bool = False) -> Any:
        """``compute()``, unless the last run of this reduce had the same key."""
        if self.memo is None:
            return compute()
        table = self.memo.table(name, disk)
        self.memo.use(name, (key,))
        if key not in table:
            table.clear()  # a reduce keeps its latest result only
            table[key] = compute()
        return table[key]

    def resource(self, name: str, key: Hashable, make: Callable[[], Any]) -> Any:
        """A costly object (the glossary matcher, the Jinja environment), made once for
        each key and kept while the key stays the same."""
        hit = self.resources.get(name)
        if hit is None or hit[0] != key:
            hit = self.resources[name] = (key, make())
        return hit[1]


def _call(i: int) -> Any:
    """One item of a map, in a worker (or here): everything it needs came through fork."""
    return WORKER["stage"].compute(WORKER["items"][i], WORKER["shared"])
