#!/usr/bin/env python3
"""Benchmark ``feeder build``: wall time and peak memory, cold and incremental.

    python bench/bench_build.py                      # 20,000 and 100,000 articles
    python bench/bench_build.py --sizes 20000        # one size
    python bench/bench_build.py --quick              # 2,000 articles, one run each

For each corpus size N (generated once by bench/gen_corpus.py with seed 1
and cached under bench/out/corpus-N/, which git ignores) it runs
``feeder build`` as a subprocess and measures:

* cold       empty state and output folder (the corpus is in the page cache)
* unchanged  a rebuild with nothing changed
* touch 1    a rebuild after one article's mtime changed (same bytes)
* add 1      a rebuild after one new article, the newest, was written
* edit 1     a rebuild after that new article's body changed
* delete 1   a rebuild after it was deleted

Each case runs ``--repeat`` times (default 3) plus once more with memory
sampling (left out of the times: sampling /proc every 10 ms slows a 2-core
machine by about 10 %); the table shows the median
wall time (from fork to exit, as a user sees it, interpreter start-up
included), the median time feeder reports on its summary line (start-up
excluded), and the largest peak memory
seen over the runs, measured two ways:

* max RSS: the peak resident set of the largest single process of the tree
  (``wait4`` rusage of the ``feeder`` process, which covers the worker
  processes it reaped; what ``/usr/bin/time -v`` reports);
* tree PSS: the peak of the summed proportional set size of ``feeder`` and
  its worker processes, sampled every 10 ms from /proc in the extra run
  (forked workers share pages with their parent; PSS counts each shared page
  once overall; the summed RSS, also shown, counts them once per process).

The corpus is restored after the incremental cases, so the cache stays valid.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
sys.path.insert(0, str(HERE))

import gen_corpus  # noqa: E402

SEED = 1


# -- environment -----------------------------------------------------------


def feeder_command() -> list[str]:
    """The ``feeder`` console script next to this Python (the venv), else ``python -m feeder``."""
    script = Path(sys.executable).with_name("feeder")
    return [str(script)] if script.exists() else [sys.executable, "-m", "feeder"]


def machine() -> dict[str, str]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 0
    return {
        "cores": str(cores),
        "cpu": model or platform.processor() or "?",
        "memory": mem or "?",
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


def machine_line() -> str:
    m = machine()
    return f"{m['cores']} cores ({m['cpu']}), {m['memory']} RAM, Python {m['python']}, Linux {m['kernel']}"


# -- the corpus --------------------------------------------------------------


def _generator_digest() -> str:
    return hashlib.sha256((HERE / "gen_corpus.py").read_bytes()).hexdigest()[:16]


def corpus(n: int, *, name: str = "corpus", fresh: bool = False) -> Path:
    """bench/out/<name>-N: N generated articles (seed 1), reused while the generator is unchanged."""
    folder = OUT / f"{name}-{n}"
    marker = OUT / f"{name}-{n}.json"
    want = {"n": n, "seed": SEED, "generator": _generator_digest()}
    if not fresh and folder.is_dir() and marker.is_file():
        try:
            if json.loads(marker.read_text()) == want:
                return folder
        except ValueError:
            pass
    marker.unlink(missing_ok=True)
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    t = time.perf_counter()
    files, size = gen_corpus.generate_stats(folder, n, SEED)
    log(f"generated {files} articles ({size / 1e6:.0f} MB) in {folder} in {time.perf_counter() - t:.1f} s")
    marker.write_text(json.dumps(want))
    return folder


def new_article(seeds: Path, index: int, when: datetime | None = None) -> tuple[str, Path, str]:
    """Write article ``index`` (beyond the corpus) as the newest post; (relpath, path, text)."""
    rel, text = gen_corpus.new_article_text(index, SEED, when=when or datetime.now(timezone.utc), well_formed=True)
    path = seeds / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        f.write(text.encode("utf-8"))
    return rel, path, text


def remove_extras(seeds: Path, n: int, count: int) -> None:
    """Delete articles n..n+count-1 if a crashed run left them behind."""
    for i in range(n, n + count):
        rel, _ = gen_corpus.new_article_text(i, SEED, well_formed=True)
        (seeds / rel).unlink(missing_ok=True)


def write_config(folder: Path, seeds: Path, *, settle: float = 1.0, interval: float = 60, extra: str = "") -> Path:
    """A config for a benchmark run: state and output inside ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "feeder.toml"
    path.write_text(
        f"""# written by bench/{Path(sys.argv[0]).name}
[site]
title = "bench"
description = "benchmark corpus"
base_url = "http://127.0.0.1:8080/"
language = "zh-CN"
timezone = "Asia/Shanghai"

[paths]
seeds = {json.dumps(str(seeds))}
output = "public"
state = "state/feeder.sqlite3"

[watch]
settle = {settle}
interval = {interval}
{extra}"""
    )
    return path


# -- measuring a process tree ------------------------------------------------


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{task}/children") as f:
                    out.extend(int(c) for c in f.read().split())
            except OSError:
                continue
    except OSError:
        pass
    return out


def tree(pid: int) -> list[int]:
    """``pid`` and all its descendants."""
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        todo.extend(_children(p))
    return pids


def _status_kb(pid: int, key: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def rss_kb(pid: int) -> int:
    return _status_kb(pid, "VmRSS:")


def hwm_kb(pid: int) -> int:
    """Peak RSS of one process so far (VmHWM)."""
    return _status_kb(pid, "VmHWM:")


def pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def tree_memory_kb(pid: int) -> tuple[int, int]:
    """(summed RSS, summed PSS) of ``pid`` and its descendants, in KiB."""
    pids = tree(pid)
    return sum(rss_kb(p) for p in pids), sum(pss_kb(p) for p in pids)


class Sampler:
    """Samples a process tree's memory in a thread until stopped; keeps the peaks."""

    def __init__(self, pid: int, every: float = 0.01):
        self.pid, self.every = pid, every
        self.peak_rss = self.peak_pss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "Sampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            rss, pss = tree_memory_kb(self.pid)
            self.peak_rss = max(self.peak_rss, rss)
            self.peak_pss = max(self.peak_pss, pss)
            self._stop.wait(self.every)


@dataclass
class Run:
    wall: float
    maxrss_kb: int  # largest single process (wait4 rusage)
    tree_rss_kb: int  # sampled sum over the tree
    tree_pss_kb: int  # sampled sum over the tree
    summary: str
    sampled: bool = False


class _NoSampler:
    peak_rss = peak_pss = 0

    def __enter__(self) -> "_NoSampler":
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def run_build(config: Path, extra: list[str] = (), sample: bool = False) -> Run:
    """``feeder build -c config``: wall time and memory (the tree's PSS too when ``sample``)."""
    cmd = [*feeder_command(), "build", "-c", str(config), *extra]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    with Sampler(proc.pid) if sample else _NoSampler() as sampler:
        # read the pipes in threads so a chatty build never blocks on a full pipe
        out: dict[str, bytes] = {}
        readers = [
            threading.Thread(target=lambda k=k, s=s: out.__setitem__(k, s.read()), daemon=True)
            for k, s in (("out", proc.stdout), ("err", proc.stderr))
        ]
        for r in readers:
            r.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        for r in readers:
            r.join()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{out.get('err', b'').decode(errors='replace')[-3000:]}")
    summary = out.get("out", b"").decode(errors="replace").strip().splitlines()
    return Run(wall, usage.ru_maxrss, sampler.peak_rss, sampler.peak_pss, summary[-1] if summary else "", sample)


# -- the benchmark ---------------------------------------------------------------


@dataclass
class Case:
    size: int
    name: str
    runs: list[Run] = field(default_factory=list)

    @property
    def timed(self) -> list[Run]:
        return [r for r in self.runs if not r.sampled] or self.runs

    @property
    def wall(self) -> float:
        return statistics.median(r.wall for r in self.timed)

    @property
    def own(self) -> str:
        """The median time feeder itself reports (its summary line: without interpreter start-up)."""
        times = [float(m.group(1)) for r in self.timed if (m := re.search(r" in ([0-9.]+) s$", r.summary))]
        return f"{statistics.median(times):.2f}" if times else "?"

    def row(self) -> str:
        walls = [r.wall for r in self.timed]
        spread = f"{min(walls):.2f}–{max(walls):.2f}" if len(walls) > 1 else ""
        mb = lambda kb: f"{kb / 1024:.0f}"  # noqa: E731
        return (
            f"| {self.size:,} | {self.name} | {self.wall:.2f} | {spread} | {self.own} | "
            f"{mb(max(r.maxrss_kb for r in self.runs))} | {mb(max(r.tree_pss_kb for r in self.runs))} | "
            f"{mb(max(r.tree_rss_kb for r in self.runs))} |"
        )


HEADER = (
    "| articles | case | wall s (median) | range s | in-process s | max RSS MB (largest process) | peak PSS MB (tree) | peak RSS MB (tree sum) |\n"
    "|---:|---|---:|---:|---:|---:|---:|---:|"
)


def bench_size(n: int, repeat: int, verbose: bool) -> list[Case]:
    seeds = corpus(n)
    work = OUT / f"build-{n}"
    if work.exists():
        shutil.rmtree(work)
    config = write_config(work, seeds)
    remove_extras(seeds, n, 16)

    def measure(case: Case, sample: bool) -> Run:
        r = run_build(config, sample=sample)
        case.runs.append(r)
        if verbose:
            what = f"tree pss {r.tree_pss_kb / 1024:5.0f} MB (sampled run, not timed)" if sample else f"{r.wall:6.2f} s"
            log(f"  {n:>7} {case.name:<15} maxrss {r.maxrss_kb / 1024:5.0f} MB  {what} | {r.summary}")
        return r

    cold, unchanged = Case(n, "cold"), Case(n, "unchanged")
    touch, add, edit, delete = Case(n, "touch 1"), Case(n, "add 1 (newest)"), Case(n, "edit 1"), Case(n, "delete 1")
    # run 0 of every case samples the tree's memory from /proc, which slows a
    # 2-core machine by ~10 %: it is left out of the times
    for k in range(repeat + 1):
        shutil.rmtree(work / "public", ignore_errors=True)
        shutil.rmtree(work / "state", ignore_errors=True)
        measure(cold, sample=k == 0)
    for k in range(repeat + 1):
        measure(unchanged, sample=k == 0)
    victim_rel, _ = gen_corpus.article(n // 2, SEED)
    victim = seeds / victim_rel
    try:
        for k in range(repeat + 1):
            now = time.time_ns()
            os.utime(victim, ns=(now, now))
            measure(touch, sample=k == 0)

            _, path, _ = new_article(seeds, n + k)
            measure(add, sample=k == 0)
            with open(path, "ab") as f:
                f.write(f"\n<p>Edited by the benchmark, take {k}.</p>\n".encode())
            measure(edit, sample=k == 0)
            path.unlink()
            measure(delete, sample=k == 0)
    finally:
        remove_extras(seeds, n, 16)
    return [cold, unchanged, touch, add, edit, delete]


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="20000,100000", help="comma-separated corpus sizes (default 20000,100000)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per case (default 3)")
    ap.add_argument("--quick", action="store_true", help="2,000 articles, one run per case")
    ap.add_argument("-q", "--quiet", action="store_true", help="no per-run lines on stderr")
    a = ap.parse_args(argv)
    sizes = [2000] if a.quick else [int(s.replace("_", "")) for s in a.sizes.split(",") if s.strip()]
    repeat = 1 if a.quick else max(1, a.repeat)
    log(f"feeder build benchmark on {machine_line()}; {repeat} run(s) per case")
    cases: list[Case] = []
    for n in sizes:
        cases += bench_size(n, repeat, not a.quiet)
    print()
    print(f"`feeder build`, {repeat} run(s) per case; {machine_line()}")
    print()
    print(HEADER)
    for c in cases:
        print(c.row())
    return 0


if __name__ == "__main__":
    sys.exit(main())
