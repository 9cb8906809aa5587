"""Run one command and report its wall time, CPU time and peak memory as JSON.

    python bench/measure.py --json result.json [--log out.log] [--cwd DIR] -- CMD ARGS...

A fresh process per measurement, so its own counters start at zero:

- wall: ``time.perf_counter`` from just before the child is started to just after it is
  reaped (the interpreter start-up of this wrapper is not included).
- cpu: ``getrusage(RUSAGE_CHILDREN)`` user + system seconds, which covers the child and
  every descendant it waited for (process-pool workers included).
- max_proc_mb: ``RUSAGE_CHILDREN.ru_maxrss``, the kernel's exact high-water mark of the
  largest single process in the tree (what ``/usr/bin/time -f %M`` prints). It misses
  processes that run side by side, so:
- tree_rss_mb: the process tree (found through /proc/PID/task/TID/children) is sampled
  every ``--interval`` seconds (default 0.05) and its RSS summed; the peak of that sum, and
  never less than max_proc_mb. RSS counts pages shared between forked workers once per process, so
  this over-states a process pool a little:
- tree_pss_mb: PSS (/proc/PID/smaps_rollup, which costs the kernel a walk of the page
  tables, hence not at every sample: every fifth one, and whenever the RSS sum has grown by
  5 % since PSS was last read), where shared pages are split between the processes
  sharing them: the fairest "memory the build needed" figure
  for a multi-process tool. For a single process it is RSS less its share of libraries.
- other_cores: CPU time the rest of the machine used while the command ran, in cores
  (from /proc/stat): above ~0.2 on a 2-core machine, the wall times are contaminated.
- own_cpu: what this sampling cost (CPU seconds of the wrapper itself).

The command runs in its own session; if this wrapper is terminated, the whole group goes
with it (a killed build must not leave pool workers running).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import time

PAGE = os.sysconf("SC_PAGE_SIZE")
TICK = os.sysconf("SC_CLK_TCK")


def _busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy since boot (all cores)."""
    with open("/proc/stat") as fh:
        fields = [int(x) for x in fh.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    steal_guest = sum(fields[7:]) if len(fields) > 7 else 0  # steal, guest, guest_nice
    return (sum(fields) - idle - steal_guest) / TICK


def _tree(root: int) -> list[int]:
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                with open(f"/proc/{pid}/task/{tid}/children") as fh:
                    todo.extend(int(c) for c in fh.read().split())
            except OSError:
                pass
    return pids


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


def _pss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        pass
    return 0


def measure(cmd: list[str], cwd: str | None = None, log: str | None = None, env: dict | None = None,
            interval: float = 0.05, pss_every: int = 5) -> dict:
    out = open(log, "wb") if log else subprocess.DEVNULL
    peak_rss = peak_pss = samples = pss_at = 0
    busy0 = _busy_seconds()
    self0 = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    try:
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
    except OSError as exc:
        return {"rc": 127, "error": str(exc), "cmd": cmd}

    def stop(signum: int, frame: object) -> None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
        raise SystemExit(128 + signum)

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
    try:
        while proc.poll() is None:
            pids = _tree(proc.pid)
            rss = sum(_rss(p) for p in pids)
            peak_rss = max(peak_rss, rss)
            if samples % pss_every == 0 or rss > pss_at * 1.05:
                peak_pss = max(peak_pss, sum(_pss(p) for p in pids))
                pss_at = rss
            samples += 1
            time.sleep(interval)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    wall = time.perf_counter() - started
    busy1 = _busy_seconds()
    if log:
        out.close()
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    self1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = ru.ru_utime + ru.ru_stime
    own = (self1.ru_utime + self1.ru_stime) - (self0.ru_utime + self0.ru_stime)
    max_proc = ru.ru_maxrss * 1024  # kilobytes on Linux
    mb = 1024 * 1024
    return {
        "rc": proc.returncode,
        "cmd": cmd,
        "wall": round(wall, 4),
        "cpu": round(cpu, 3),
        "max_proc_mb": round(max_proc / mb, 1),
        "tree_rss_mb": round(max(peak_rss, max_proc) / mb, 1),
        "tree_pss_mb": round(peak_pss / mb, 1) if peak_pss else None,
        "samples": samples,
        "other_cores": round(max(0.0, busy1 - busy0 - cpu - own) / wall, 2) if wall > 0 else None,
        "own_cpu": round(own, 3),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--json", required=True, help="where to write the result")
    p.add_argument("--log", help="the command's output (stdout and stderr), default: discarded")
    p.add_argument("--cwd")
    p.add_argument("--interval", type=float, default=0.05, help="sampling interval in seconds")
    p.add_argument("cmd", nargs=argparse.REMAINDER)
    args = p.parse_args(argv)
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not cmd:
        p.error("no command given (put it after --)")
    result = measure(cmd, args.cwd, args.log, interval=args.interval)
    with open(args.json, "w") as fh:
        json.dump(result, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main())
