"""Running a map stage's work in worker processes.

``pool_map(fn, count, jobs, state)`` calls ``fn(0) … fn(count - 1)`` in ``jobs`` forked
processes and returns the results in order. The workers inherit ``state`` (documents,
pages, the glossary matcher, the Jinja environment) through fork, so only indices travel
to them and only results travel back. With one job, or too little work to be worth a
pool, the calls run here.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
from typing import Any, Callable

PARALLEL_MIN = 24  # fewer calls than this are not worth starting a pool

# What the workers inherit (filled just before the fork, emptied after).
WORKER: dict[str, Any] = {}


def pool_map(fn: Callable[[int], Any], count: int, jobs: int, state: dict[str, Any]) -> list[Any]:
    WORKER.clear()
    WORKER.update(state)
    try:
        if jobs <= 1 or count < PARALLEL_MIN:
            return [fn(i) for i in range(count)]
        ctx = multiprocessing.get_context("fork")
        chunk = max(1, min(32, count // (jobs * 8) or 1))
        with concurrent.futures.ProcessPoolExecutor(max_workers=jobs, mp_context=ctx,
                                                    initializer=die_with_parent) as pool:
            return list(pool.map(fn, range(count), chunksize=chunk))
    finally:
        WORKER.clear()


def die_with_parent() -> None:
    """A worker stops when the build that started it is killed (Linux), instead of
    computing on as an orphan."""
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class Helper:
    """A worker process forked at the top of a one-shot build: it imports ``modules`` (spaCy,
    for linking) on the other core while this process loads the cache and reads the site.
    A map with only a few misses then hands them to it as picklable work (``call``), rather
    than paying for the import here. Anything unexpected (a crash, an error, more than
    PATIENCE seconds) makes ``call`` return None, and the caller computes by itself."""

    PATIENCE = 120.0

    def __init__(self, modules: tuple[str, ...]):
        ctx = multiprocessing.get_context("fork")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_serve_helper, args=(child, modules), daemon=True)
        self.proc.start()
        child.close()

    def call(self, fn: Callable[[list[Any]], list[Any]], items: list[Any]) -> list[Any] | None:
        try:
            self.conn.send((fn, items))
            if not self.conn.poll(self.PATIENCE):
                return None
            status, payload = self.conn.recv()
        except (OSError, EOFError, ValueError):
            return None
        return payload if status == "ok" else None

    def close(self) -> None:
        self.proc.kill()
        self.proc.join()
        self.conn.close()


def _serve_helper(conn: Any, modules: tuple[str, ...]) -> None:
    import importlib

    die_with_parent()
    try:
        for name in modules:
            importlib.import_module(name)  # the slow part, done at once
    except Exception:  # noqa: BLE001 - the build then computes by itself
        return
    while True:
        try:
            fn, items = conn.recv()
        except (EOFError, OSError):
            return
        try:
            conn.send(("ok", fn(items)))
        except Exception as exc:  # noqa: BLE001 - reported; the build then computes by itself
            conn.send(("error", repr(exc)))
