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
from typing import Any, Callable, Hashable, Sequence

from site_builder.cache import DiskCache
from site_builder.parallel import WORKER, pool_map

SHARDS = 16  # files per table on disk: an edit rewrites the shards whose keys changed


def shard_of(key: Hashable) -> int:
    return zlib.crc32(repr(key).encode("utf-8", "surrogatepass")) % SHARDS


@dataclass(frozen=True)
class Stage:
    """A map stage: ``key(item)`` is what computing ``item`` reads (equal keys, equal
    results); ``compute(item, shared)`` makes the result; ``shared()`` makes what every
    call needs and is costly to make (the glossary matcher), only when something misses.
    ``disk``: whether results are worth keeping between runs. ``for_keys``: the stage only
    makes another stage's keys, so without a memo it is not run at all."""

    name: str
    key: Callable[[Any], Hashable]
    compute: Callable[[Any, Any], Any]
    shared: Callable[[], Any] = lambda: None
    disk: bool = True
    for_keys: bool = False
    counted: str = ""  # the word the terminal reports this stage's computations under ("linked")


class Memo:
    """Stage results by key, by stage name: in memory, loaded from disk on first use."""

    def __init__(self, disk: DiskCache | None):
        self.disk = disk
        self.tables: dict[str, dict[Hashable, Any]] = {}
        self.used: dict[str, set[Hashable]] = {}  # keys read or written in the current run
        self.saved: dict[str, list[set[Hashable]]] = {}  # keys per shard, as on disk

    def table(self, name: str, disk: bool = True) -> dict[Hashable, Any]:
        if name not in self.tables:
            data: dict[Hashable, Any] = {}
            if disk and self.disk is not None and self.disk.enabled:
                shards = []
                for n in range(SHARDS):
                    part = self.disk.load(f"{name}.{n:x}")
                    part = {k: v for k, v in part.items() if shard_of(k) == n}  # a misplaced entry is no entry
                    shards.append(set(part))
                    data.update(part)
                self.saved[name] = shards
            self.tables[name] = data
        self.used.setdefault(name, set())
        return self.tables[name]

    def begin(self) -> None:
        """A new run: what it does not use is dropped when it ends."""
        self.used = {}

    def end(self) -> None:
        """Keep only what this run used (in memory), so a long session does not grow."""
        for name, keys in self.used.items():
            table = self.tables.get(name)
            if table is not None and len(table) != len(keys):
                self.tables[name] = {k: table[k] for k in keys if k in table}

    def save(self) -> None:
        """Write the on-disk tables whose keys changed, shard by shard."""
        if self.disk is None or not self.disk.enabled:
            return
        for name, saved in self.saved.items():
            table = self.tables.get(name, {})
            parts: list[dict[Hashable, Any]] = [{} for _ in range(SHARDS)]
            for k, v in table.items():
                parts[shard_of(k)][k] = v
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
        self.resources: dict[str, tuple[Hashable, Any]] = {}
        self.last: dict[str, Any] = {}  # a resident executor's view of its previous run

    def map(self, stage: Stage, items: Sequence[Any]) -> list[Any]:
        """``stage.compute`` of every item, in order: from the table where the key is known."""
        if self.memo is None:
            return [None] * len(items) if stage.for_keys else self._compute(stage, list(items))
        table = self.memo.table(stage.name, stage.disk)
        keys = [stage.key(item) for item in items]
        used = self.memo.used[stage.name]
        used.update(keys)
        missing = {}
        for item, k in zip(items, keys):
            if k not in table and k not in missing:
                missing[k] = item
        if missing:
            for k, result in zip(missing, self._compute(stage, list(missing.values()))):
                table[k] = result
        return [table[k] for k in keys]

    def _compute(self, stage: Stage, items: list[Any]) -> list[Any]:
        if not items:
            return []
        if stage.counted:
            self.counts[stage.counted] = self.counts.get(stage.counted, 0) + len(items)
        return pool_map(_call, len(items), self.jobs, {"items": items, "stage": stage, "shared": stage.shared()})

    def reduce(self, name: str, key: Hashable, compute: Callable[[], Any], disk: bool = False) -> Any:
        """``compute()``, unless the last run of this reduce had the same key."""
        if self.memo is None:
            return compute()
        table = self.memo.table(name, disk)
        self.memo.used[name].add(key)
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
