"""Watching the site's sources: a thin adapter over watchfiles, with livereload's polling.

``SiteWatcher.start(callback)`` runs two ``watchfiles.watch`` loops, each in a thread of its
own: one over the trees (``content/``, ``templates/`` and the theme, recursively, new folders
included) and one over the site folder itself, for ``site.yaml`` and for a ``content/`` or
``templates/`` that appears, goes or is replaced (the trees are then watched afresh). Each
batch is handed to the event loop with ``call_soon_threadsafe`` and sorted there into

- *changed* paths,
- *transient* paths: created and removed again within seconds (an editor's or ``sed -i``'s
  temporary): worth a rebuild, not a name in the terminal,
- *complete*: False when a file in the batch was reported a moment ago too, i.e. it is still
  being written; ``Preview.notice`` then waits the full debounce instead of the short settle.

Editor temporaries and hidden names are never reported: ``discover.is_temp_file`` for every
part of the path below its root, the rule discovery follows.

Where file-system events cannot be had (``WATCHFILES_FORCE_POLLING`` set, as watchfiles reads
it; the platform's watcher failing to start, or failing later, say at the inotify limits),
livereload's ``Watcher.examine()`` is polled every ``POLL_INTERVAL`` instead. It compares
modification times to the nanosecond; watchfiles' own polling (notify 8) compares whole
seconds and misses a second save within the same second.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from typing import Callable, Iterable

from livereload.watcher import Watcher

from site_builder.discover import is_temp_file
from site_builder.render import THEME

try:
    import watchfiles
except ImportError:  # pragma: no cover - a dependency; without it, polling
    watchfiles = None

STEP = 0.005  # watchfiles looks for new changes this often, and hands a batch over after one quiet step
MAX_BATCH = 0.5  # a steady stream of changes is still handed over this often
POLL_INTERVAL = 0.2  # the polling period where there are no file-system events
REWRITE = 0.05  # a file reported again within this many seconds is still being written
TRANSIENT = 5.0  # a file created and removed within this many seconds was a temporary
READY_WAIT = 30.0  # start() waits at most this long for a watch to be in place
SITE_NAMES = ("site.yaml", "content", "templates")  # what matters in the site folder itself

Callback = Callable[[list[str], list[str], bool], None]


def polling_requested() -> bool:
    """watchfiles' switch, read as watchfiles documents it: ``WATCHFILES_FORCE_POLLING`` set
    and not empty asks for polling, unless it is ``false``, ``disable`` or ``disabled``."""
    value = os.environ.get("WATCHFILES_FORCE_POLLING", "")
    return bool(value) and value.lower() not in ("false", "disable", "disabled")


class _Flag:
    """The stop event watchfiles asks once per step, right before it looks at the changes it
    has collected: its first question says the watch is in place, and counting the questions
    lets a caller wait until the watch has looked again (``after``)."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.ready = threading.Event()
        self._lock = threading.Lock()
        self._steps = 0
        self._waiting: list[tuple[int, Callable[[], None]]] = []

    def is_set(self) -> bool:  # called every step: the common case does as little as it can
        self._steps += 1  # only the watch thread writes it
        if not self.ready.is_set():
            self.ready.set()
        if self._waiting:
            with self._lock:
                due = [call for step, call in self._waiting if step <= self._steps]
                self._waiting = [(step, call) for step, call in self._waiting if step > self._steps]
            for call in due:
                call()
        return self.stop.is_set()

    def after(self, steps: int, call: Callable[[], None]) -> None:
        """``call()``, in the watch thread, once the watch has asked ``steps`` more times."""
        with self._lock:
            self._waiting.append((self._steps + steps, call))


class _Loop:
    """One ``watchfiles.watch`` in a thread of its own, handing each batch (or the exception
    that ended it) to ``deliver``."""

    def __init__(self, paths: list[str], recursive: bool, keep: Callable[[watchfiles.Change, str], bool],
                 deliver: Callable[[_Loop, set | BaseException], None]) -> None:
        self.paths = paths
        self.recursive = recursive
        self.flag = _Flag()
        self.error: BaseException | None = None
        self._keep = keep
        self._deliver = deliver
        self.thread = threading.Thread(target=self._run, name="site-builder-watch", daemon=True)

    def start(self) -> None:
        """Start watching; return once the watch is in place, raise when it cannot be."""
        self.thread.start()
        self.flag.ready.wait(READY_WAIT)
        if self.error is not None:
            self.thread.join()
            raise self.error

    def stop(self) -> None:
        self.flag.stop.set()
        if self.thread.is_alive() and self.thread is not threading.current_thread():
            self.thread.join(READY_WAIT)

    def _run(self) -> None:
        try:
            for changes in watchfiles.watch(
                    *self.paths, watch_filter=self._keep, debounce=round(MAX_BATCH * 1000),
                    step=max(1, round(STEP * 1000)), stop_event=self.flag, rust_timeout=0, raise_interrupt=False,
                    force_polling=False, recursive=self.recursive, ignore_permission_denied=True):
                self._deliver(self, changes)
        except Exception as exc:  # the watch could not start, or its backend failed later
            if self.flag.ready.is_set():
                self._deliver(self, exc)
            else:
                self.error = exc
        finally:
            self.flag.ready.set()


class SiteWatcher(Watcher):
    """The site's sources, watched with watchfiles; livereload's ``Watcher`` underneath, which
    polls where there are no events and gives livereload's handlers the ``filepath`` they log."""

    def __init__(self, site: str, theme: str = THEME, force_polling: bool | None = None,
                 poll_interval: float = POLL_INTERVAL, note: Callable[[str], None] | None = None) -> None:
        super().__init__()
        self.site = os.path.abspath(site)
        self.theme = os.path.abspath(theme)
        self.roots = [os.path.join(self.site, "content"), os.path.join(self.site, "templates"), self.theme]
        for root in self.roots:
            self.watch(root, ignore=self._ignored)
        self.watch(os.path.join(self.site, "site.yaml"))
        self.force_polling = polling_requested() if force_polling is None else force_polling
        self._asked = "as WATCHFILES_FORCE_POLLING asks" if force_polling is None else "as asked"
        self.poll_interval = poll_interval
        self.note = note or (lambda message: None)
        self._callback: Callback | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._top: _Loop | None = None
        self._trees: _Loop | None = None
        self._poller: asyncio.TimerHandle | None = None
        self._created: dict[str, float] = {}  # path -> when it was created, for transients
        self._reported: dict[str, float] = {}  # path -> when it was last reported, for writes in progress

    @property
    def polling(self) -> bool:
        """True while changes are found by polling rather than by file-system events."""
        return self._poller is not None

    # what is reported

    def _ignored(self, path: str) -> bool:
        """Below a root, a path any part of which is hidden or an editor's temporary: discovery
        skips such folders and files alike."""
        for root in self.roots:
            if path.startswith(root + os.sep):
                return any(is_temp_file(part) for part in path[len(root) + 1:].split(os.sep))
        return path not in self.roots

    def _keep_in_trees(self, change: watchfiles.Change, path: str) -> bool:
        return not self._ignored(path)

    def _keep_in_site(self, change: watchfiles.Change, path: str) -> bool:
        return os.path.dirname(path) == self.site and os.path.basename(path) in SITE_NAMES

    def label(self, path: str) -> str:
        """A changed path as the terminal shows it: site-relative, or theme/… for the theme."""
        for root, prefix in ((self.site, ""), (self.theme, "theme/")):
            if path == root or path.startswith(root + os.sep):
                return prefix + os.path.relpath(path, root).replace(os.sep, "/")
        return path

    # starting and stopping

    def start(self, callback: Callback) -> bool:  # type: ignore[override]
        """Call ``callback(changed, transient, complete)`` on the running event loop, with
        absolute paths, for every batch of changes, from now on. True when file-system events
        drive the watch; False when it polls."""
        self._loop = asyncio.get_running_loop()
        self._callback = callback
        if self.force_polling or watchfiles is None:
            why = self._asked if self.force_polling else "as watchfiles is not installed"
            self.note(f"polling every {self.poll_interval:g} s for changes, {why}")
            self._start_polling()
            return False
        try:
            self._top = self._open([self.site], recursive=False)
            self._trees = self._open(self._present(), recursive=True)
        except (OSError, RuntimeError) as exc:  # watchfiles' internal error is a RuntimeError
            self._stop_loops()
            self.note(f"no file-system events here ({exc}); polling every {self.poll_interval:g} s")
            self._start_polling()
            return False
        return True

    def stop(self) -> None:  # type: ignore[override]
        """Stop watching; the watch threads have ended when this returns."""
        self._callback = None
        if self._poller is not None:
            self._poller.cancel()
            self._poller = None
        self._stop_loops()

    def _stop_loops(self) -> None:
        for loop in (self._top, self._trees):
            if loop is not None:
                loop.stop()
        self._top = self._trees = None

    def _present(self) -> list[str]:
        return [root for root in self.roots if os.path.isdir(root)]

    def _open(self, paths: list[str], recursive: bool) -> _Loop:
        loop = _Loop(paths, recursive, self._keep_in_trees if recursive else self._keep_in_site, self._hand_over)
        loop.start()
        return loop

    # polling (event loop)

    def _start_polling(self) -> None:
        self.examine()  # the first look records what is there
        self._poller = self._loop.call_later(self.poll_interval, self._poll)

    def _poll(self) -> None:
        if self._callback is None:
            return
        try:
            path, _ = self.examine()
        except OSError:  # a file went away while it was looked at: look again next time
            path = None
        if path:
            self._dispatch([path], [], True)
        if self._callback is not None:
            self._poller = self._loop.call_later(self.poll_interval, self._poll)

    async def caught_up(self, timeout: float = 1.0) -> None:
        """Return once a change made before this call has reached the callback.

        A change is in watchfiles' collection within a fraction of a millisecond; watchfiles
        hands a batch over after a step in which it stopped growing, and the next step starts
        after the hand-over: so three more steps of each watch are enough (unless changes keep
        coming; bounded by ``timeout``). Polling makes no such promise: it sees a change at
        its next poll."""
        loop = asyncio.get_running_loop()
        waits = []
        for watch in (self._top, self._trees):
            if watch is None or not watch.thread.is_alive():
                continue
            done = loop.create_future()

            def wake(done: asyncio.Future = done) -> None:
                try:
                    loop.call_soon_threadsafe(lambda: done.done() or done.set_result(None))
                except RuntimeError:  # the event loop is closed
                    pass

            watch.flag.after(3, wake)
            waits.append(done)
        if waits:
            try:
                await asyncio.wait_for(asyncio.gather(*waits), timeout)
            except asyncio.TimeoutError:
                pass

    # batches (watch threads -> event loop)

    def _hand_over(self, source: _Loop, batch: set | BaseException) -> None:
        loop = self._loop
        if loop is None or source.flag.stop.is_set():
            return
        try:
            loop.call_soon_threadsafe(self._receive, source, batch, time.monotonic())
        except RuntimeError:  # the event loop is closed: nobody listens any more
            source.flag.stop.set()

    def _receive(self, source: _Loop, batch: set | BaseException, now: float) -> None:
        if self._callback is None or source not in (self._top, self._trees):
            return
        if isinstance(batch, BaseException):  # the backend failed (the inotify limits, say)
            self._fall_back(batch)
            return
        if source is self._top and any(os.path.basename(path) != "site.yaml" and change.name != "modified"
                                       for change, path in batch):
            self._rewatch_trees()
        self._dispatch(*self.sort(batch, now))

    def _rewatch_trees(self) -> None:
        """content/ or templates/ appeared, went or was replaced: watch the trees there now.
        The old watch ends only once the new one is in place, so no change falls between them."""
        old = self._trees
        try:
            self._trees = self._open(self._present(), recursive=True)
        except (OSError, RuntimeError) as exc:
            self._fall_back(exc)
            return
        if old is not None:
            old.stop()

    def _fall_back(self, exc: BaseException) -> None:
        """Events failed after the start: poll from now on, and rebuild, as changes may have been missed."""
        self._stop_loops()
        self.note(f"watching for file-system events failed ({exc}); polling every {self.poll_interval:g} s")
        self._start_polling()
        self._dispatch([os.path.join(self.site, "content")], [], True)

    def _dispatch(self, changed: list[str], transient: list[str], complete: bool) -> None:
        if (changed or transient) and self._callback is not None:
            self.filepath = (changed or transient)[-1]
            self._callback(changed, transient, complete)

    def sort(self, batch: Iterable[tuple[watchfiles.Change, str]], now: float) -> tuple[list[str], list[str], bool]:
        """A batch of ``(watchfiles.Change, path)`` as ``(changed, transient, complete)``.

        A path that is gone and was created in this batch or less than ``TRANSIENT`` seconds
        ago is transient. The batch is not complete when one of its files was reported less
        than ``REWRITE`` seconds ago as well: it is still being written."""
        kinds: dict[str, set[str]] = {}
        for change, path in batch:
            kinds.setdefault(path, set()).add(change.name)
        for memo in (self._created, self._reported):
            if len(memo) > 1000:
                memo.clear()
        changed: list[str] = []
        transient: list[str] = []
        complete = True
        for path in sorted(kinds):
            if not os.path.lexists(path):
                born = self._created.pop(path, None)
                self._reported.pop(path, None)
                if "added" in kinds[path] or (born is not None and now - born < TRANSIENT):
                    transient.append(path)
                    continue
            else:
                if "added" in kinds[path]:
                    self._created[path] = now
                last = self._reported.get(path)
                if last is not None and now - last < REWRITE and not os.path.isdir(path):
                    complete = False
                self._reported[path] = now
            changed.append(path)
        return changed, transient, complete
