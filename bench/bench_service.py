#!/usr/bin/env python3
"""Benchmark ``feeder run``: write-to-feed latency, idle rescan cost, memory over a day of events.

    python bench/bench_service.py                 # 100,000 articles
    python bench/bench_service.py --size 20000
    python bench/bench_service.py --quick         # 2,000 articles, fewer events

The service runs as a **subprocess**, ``feeder run -c CONFIG --no-serve``,
exactly as an operator starts it (its memory is then its own, and the
benchmark's polling never competes with it for the GIL). The benchmark knows
it is ready from systemd's protocol: it binds a datagram socket, passes it as
$NOTIFY_SOCKET and waits for READY=1. The config sets ``[watch] settle``
(``--settle``, default 0.2 s) and keeps the 60 s safety-net rescan.

Steps, over bench/out/service-N/ (N generated articles, seed 1; the corpus is
restored afterwards and reused by the next run):

1. ``feeder build`` makes the state (the service's first pass then reads nothing).
2. Start the service; time to READY=1.
3. Latency, ``--tries`` times each (default 20), one at a time:
   * **add**: write a new article, the newest (well formed), close it, then
     poll ``public/rss.xml`` every 5 ms until it holds the article's guid;
   * **change**: append a marker paragraph to one of those articles; until the
     site RSS holds the marker;
   * **delete**: delete one of them; until its guid has left the site RSS.
   Add and change must wait out the settle window by design (a file is only
   published once it has not changed for ``settle`` seconds), so their table
   rows also show the figures minus ``settle``, as issue 3 asks. A delete
   needs no settling.
4. A day's worth of events: ``--events`` (default 1,440, one a minute for a
   day) adds, changes and deletes (60/25/15 %) every ``--event-interval``
   seconds; the service's memory (RSS and PSS of its process tree) at start,
   every 10 % of the events, and once it is idle again; and a check that the
   state then counts exactly the articles on disk.
5. SIGTERM: time to exit, exit code.
6. Idle rescan: ``Pipeline.scan()`` (the full scan the service runs every
   ``[watch] interval``) on the unchanged folder, in this process, ``--rescans``
   times; and the same profiled with cProfile (top functions on stderr).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import gen_corpus  # noqa: E402
from bench_build import (  # noqa: E402
    OUT,
    SEED,
    corpus,
    feeder_command,
    hwm_kb,
    log,
    machine_line,
    rss_kb,
    run_build,
    tree,
    tree_memory_kb,
    write_config,
)

POLL = 0.005  # seconds between looks at the feed file


# -- the service subprocess --------------------------------------------------------


class ServiceProcess:
    """``feeder run --no-serve`` with a NOTIFY_SOCKET we listen on."""

    def __init__(self, config: Path, logfile: Path):
        self.tmp = Path(tempfile.mkdtemp(prefix="feeder-bench-"))
        self.sock_path = self.tmp / "notify.sock"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(self.sock_path))
        env = dict(os.environ, NOTIFY_SOCKET=str(self.sock_path))
        for k in ("WATCHDOG_USEC", "WATCHDOG_PID", "JOURNAL_STREAM", "INVOCATION_ID"):
            env.pop(k, None)
        self.log = open(logfile, "wb")  # noqa: SIM115 - closed in stop()
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            [*feeder_command(), "run", "-c", str(config), "--no-serve"],
            stdout=self.log, stderr=subprocess.STDOUT, env=env,
        )  # fmt: skip
        self.status = ""

    def wait_ready(self, timeout: float) -> float:
        """Seconds from start to READY=1."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"the service exited ({self.proc.returncode}) before it was ready; see {self.log.name}")
            self.sock.settimeout(0.5)
            try:
                msg = self.sock.recv(65536).decode(errors="replace")
            except TimeoutError:
                continue
            for line in msg.splitlines():
                if line.startswith("STATUS="):
                    self.status = line[7:]
            if "READY=1" in msg.splitlines():
                return time.perf_counter() - self.started
        raise SystemExit(f"the service was not ready within {timeout} s; see {self.log.name}")

    def memory(self) -> tuple[float, float, float, int]:
        """(RSS MB of the main process, RSS MB and PSS MB of its process tree, processes in the tree)."""
        rss, pss = tree_memory_kb(self.proc.pid)
        return rss_kb(self.proc.pid) / 1024, rss / 1024, pss / 1024, len(tree(self.proc.pid))

    def stop(self, timeout: float = 30) -> tuple[int | None, float]:
        t = time.perf_counter()
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = None
        took = time.perf_counter() - t
        self.log.close()
        self.sock.close()
        shutil.rmtree(self.tmp, ignore_errors=True)
        return rc, took


# -- watching the feed file ------------------------------------------------------


class FeedFile:
    """Polls one file; re-reads it only when its stat changes."""

    def __init__(self, path: Path):
        self.path = path
        self._key: tuple[int, int, int] | None = None
        self._data = b""

    def data(self) -> bytes:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return b""
        key = (st.st_ino, st.st_mtime_ns, st.st_size)
        if key != self._key:
            try:
                self._data = self.path.read_bytes()
                self._key = key
            except FileNotFoundError:
                return b""
        return self._data

    def wait(self, predicate, since: float, timeout: float = 60) -> float:
        """Seconds from ``since`` (perf_counter) until predicate(bytes) holds."""
        deadline = since + timeout
        while True:
            if predicate(self.data()):
                return time.perf_counter() - since
            if time.perf_counter() > deadline:
                raise SystemExit(f"{self.path} did not show the change within {timeout} s")
            time.sleep(POLL)


def write_file(path: Path, data: bytes, mode: str = "wb") -> float:
    """Write and close; the perf_counter time right after the close."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, mode) as f:
        f.write(data)
    return time.perf_counter()


# -- the benchmark -----------------------------------------------------------------


def summary(values: list[float]) -> tuple[float, float]:
    return statistics.median(values), max(values)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=100_000, help="articles in the folder (default 100000)")
    ap.add_argument("--tries", type=int, default=20, help="latency tries per kind (default 20)")
    ap.add_argument("--settle", type=float, default=0.2, help="[watch] settle in seconds (default 0.2)")
    ap.add_argument("--events", type=int, default=1440, help="events for the memory test (default 1440: one a minute for a day)")
    ap.add_argument("--event-interval", type=float, default=0.25, help="seconds between those events (default 0.25)")
    ap.add_argument("--rescans", type=int, default=5, help="timed idle rescans (default 5)")
    ap.add_argument("--no-stress", dest="stress", action="store_false", help="skip the adds under load")
    ap.add_argument("--quick", action="store_true", help="2,000 articles, 5 tries, 200 events")
    a = ap.parse_args(argv)
    if a.quick:
        a.size, a.tries, a.events = 2000, 5, 200
    from feeder.derive import entry_id

    n = a.size
    log(f"feeder run benchmark on {machine_line()}; {n} articles, settle {a.settle} s")
    seeds = corpus(n, name="service")
    marker = OUT / f"service-{n}.json"
    marker_text = marker.read_text()
    marker.unlink()  # until the corpus is restored below, it is not the generated one
    work = OUT / f"run-{n}"
    if work.exists():
        shutil.rmtree(work)
    config = write_config(work, seeds, settle=a.settle, interval=60)
    rss_path = work / "public" / "rss.xml"
    feed = FeedFile(rss_path)
    rng = random.Random(SEED)
    next_index = n  # new articles get indices n, n+1, ...
    added: dict[int, Path] = {}  # new articles still on disk
    touched: set[int] = set()  # generated articles changed or deleted (restored at the end)
    deleted_generated: set[int] = set()
    rows: list[tuple[str, str, str, str]] = []
    mem: list[tuple[str, float, float, float, int]] = []

    build = run_build(config)
    log(f"prime: {build.summary}")
    service = ServiceProcess(config, work / "service.log")
    try:
        ready = service.wait_ready(timeout=900)
        log(f"ready in {ready:.2f} s ({service.status})")
        mem.append(("ready", *service.memory()))

        # -- latency: add, change, delete ------------------------------------
        adds, changes, deletes = [], [], []
        mine: list[tuple[int, str, Path]] = []
        for k in range(a.tries):
            i = next_index
            next_index += 1
            rel, text = gen_corpus.new_article_text(i, SEED, when=datetime.now(timezone.utc), well_formed=True)
            path = seeds / rel
            guid = entry_id(rel).encode()
            t = write_file(path, text.encode("utf-8"))
            adds.append(feed.wait(lambda b, g=guid: g in b, t))
            added[i] = path
            mine.append((i, rel, path))
            log(f"  add {k + 1:2}: {adds[-1] * 1000:6.0f} ms")
            time.sleep(0.3)
        for k, (i, rel, path) in enumerate(mine):
            mark = f"feeder-bench-edit-{k}-{time.time_ns()}".encode()
            t = write_file(path, b"\n<p>" + mark + b"</p>\n", "ab")
            changes.append(feed.wait(lambda b, m=mark: m in b, t))
            log(f"  change {k + 1:2}: {changes[-1] * 1000:6.0f} ms")
            time.sleep(0.3)
        for k, (i, rel, path) in enumerate(mine):
            guid = entry_id(rel).encode()
            path.unlink()
            t = time.perf_counter()
            del added[i]
            deletes.append(feed.wait(lambda b, g=guid: bool(b) and g not in b, t))
            log(f"  delete {k + 1:2}: {deletes[-1] * 1000:6.0f} ms")
            time.sleep(0.3)
        for name, values, settle in (("add", adds, a.settle), ("change", changes, a.settle), ("delete", deletes, 0.0)):
            med, worst = summary(values)
            minus = f"{(med - settle) * 1000:.0f} / {(worst - settle) * 1000:.0f}" if settle else "(no settle wait)"
            rows.append((name, f"{len(values)}", f"{med * 1000:.0f} / {worst * 1000:.0f}", minus))
        mem.append(("after the latency tries", *service.memory()))

        # -- the same under load: adds that land while other files are still settling
        if a.stress:
            stream = a.settle / 2
            lat, next_index = _stream(seeds, feed, next_index, added, a.tries, stream, timeout=90)
            med, worst = summary(lat)
            rows.append((
                f"add, one every {stream * 1000:.0f} ms (a steady stream)", f"{len(lat)}",
                f"{med * 1000:.0f} / {worst * 1000:.0f}", f"{(med - a.settle) * 1000:.0f} / {(worst - a.settle) * 1000:.0f}",
            ))  # fmt: skip
            lat = []
            for k in range(3):
                i = next_index
                next_index += 1
                rel, text = gen_corpus.new_article_text(i, SEED, when=datetime.now(timezone.utc), well_formed=True)
                t = write_file(seeds / rel, text.encode("utf-8"))
                added[i] = seeds / rel
                time.sleep(a.settle / 2)
                j = rng.randrange(n)  # an unrelated old article goes while the new one settles
                while j in deleted_generated:
                    j = rng.randrange(n)
                touched.add(j)
                deleted_generated.add(j)
                (seeds / gen_corpus.article(j, SEED)[0]).unlink()
                guid = entry_id(rel).encode()
                lat.append(feed.wait(lambda b, g=guid: g in b, t, timeout=90))
                log(f"  add + unrelated delete {k + 1}: {lat[-1] * 1000:6.0f} ms")
                time.sleep(0.5)
            med, worst = summary(lat)
            rows.append((
                f"add, then {a.settle / 2 * 1000:.0f} ms later an unrelated delete", f"{len(lat)}",
                f"{med * 1000:.0f} / {worst * 1000:.0f}", f"{(med - a.settle) * 1000:.0f} / {(worst - a.settle) * 1000:.0f}",
            ))  # fmt: skip
            mem.append(("after the load tries", *service.memory()))

        # -- a day's events ------------------------------------------------------
        counts = {"add": 0, "change": 0, "delete": 0}
        t_events = time.perf_counter()
        for e in range(a.events):
            r = rng.random()
            if r < 0.60:
                i = next_index
                next_index += 1
                rel, text = gen_corpus.new_article_text(i, SEED, when=datetime.now(timezone.utc), well_formed=True)
                write_file(seeds / rel, text.encode("utf-8"))
                added[i] = seeds / rel
                counts["add"] += 1
            elif r < 0.85:
                if added and rng.random() < 0.5:
                    path = added[rng.choice(list(added))]
                else:
                    i = rng.randrange(n)
                    while i in deleted_generated:
                        i = rng.randrange(n)
                    touched.add(i)
                    path = seeds / gen_corpus.article(i, SEED)[0]
                write_file(path, f"\n<p>change {e}</p>\n".encode(), "ab")
                counts["change"] += 1
            else:
                if added and rng.random() < 0.5:
                    added.pop(rng.choice(list(added))).unlink()
                else:
                    i = rng.randrange(n)
                    while i in deleted_generated:
                        i = rng.randrange(n)
                    touched.add(i)
                    deleted_generated.add(i)
                    (seeds / gen_corpus.article(i, SEED)[0]).unlink()
                counts["delete"] += 1
            if (e + 1) % max(1, a.events // 10) == 0:
                mem.append((f"after {e + 1} events", *service.memory()))
            time.sleep(a.event_interval)
        events_took = time.perf_counter() - t_events
        # idle again: the state counts what is on disk
        expected = n + len(added) - len(deleted_generated)
        idle_deadline = time.monotonic() + 120
        known = -1
        while time.monotonic() < idle_deadline:
            time.sleep(max(1.0, a.settle * 3))
            known = _state_articles(config)
            if known == expected:
                break
        time.sleep(2)
        mem.append(("idle after the events", *service.memory()))
        service_hwm = hwm_kb(service.proc.pid) / 1024
        passes = _count(work / "service.log", " pass: ")
        rc, stop_took = service.stop()
        service = None
    finally:
        if service is not None:
            service.stop()
        # restore the corpus: drop the new files, rewrite the generated ones we changed or deleted
        for path in added.values():
            path.unlink(missing_ok=True)
        for i in range(n, next_index):
            (seeds / gen_corpus.new_article_text(i, SEED, well_formed=True)[0]).unlink(missing_ok=True)
        for i in touched:
            rel, text = gen_corpus.article(i, SEED)
            (seeds / rel).parent.mkdir(parents=True, exist_ok=True)
            (seeds / rel).write_bytes(text.encode("utf-8"))
        marker.write_text(marker_text)

    # -- idle rescan, in this process ------------------------------------------------
    # the corpus was just restored: one unmeasured scan records that, then the folder is idle
    rescans, profile = _idle_rescans(config, a.rescans)

    # -- the report ----------------------------------------------------------------
    print()
    print(f"`feeder run` at {n:,} articles, settle {a.settle:g} s, service as a subprocess; {machine_line()}")
    print()
    print(f"Prime (`feeder build`, cold): {build.wall:.1f} s. Service start to READY=1 (state present): {ready:.2f} s.")
    print()
    print("| change | tries | to the site RSS: median / worst ms | minus settle: median / worst ms |")
    print("|---|---:|---:|---:|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print()
    med, worst = summary(rescans)
    print(f"Idle full rescan (`Pipeline.scan()`, nothing changed, {len(rescans)} runs): median {med * 1000:.0f} ms, worst {worst * 1000:.0f} ms.")
    print()
    print(
        f"A day's events: {sum(counts.values())} ({counts['add']} added, {counts['change']} changed, {counts['delete']} deleted) "
        f"in {events_took:.0f} s, {passes} passes logged; state afterwards counts {known} articles, {expected} on disk "
        f"({'OK' if known == expected else 'MISMATCH'})."
    )
    print()
    print("| service memory | RSS MB (main process) | RSS MB (tree) | PSS MB (tree) | processes |")
    print("|---|---:|---:|---:|---:|")
    for label, main_rss, rss, pss, procs in mem:
        print(f"| {label} | {main_rss:.0f} | {rss:.0f} | {pss:.0f} | {procs} |")
    print()
    print(f"Peak RSS of the service process (VmHWM): {service_hwm:.0f} MB. SIGTERM: exit code {rc} in {stop_took:.2f} s.")
    log("\nidle rescan profile (cProfile, cumulative):\n" + profile)
    return 0


def _stream(seeds: Path, feed: FeedFile, index: int, added: dict, count: int, every: float, timeout: float):
    """Write ``count`` new articles, one every ``every`` s, polling the feed meanwhile; each one's latency."""
    from feeder.derive import entry_id

    pending: dict[bytes, float] = {}
    latency: list[float] = []
    next_write = time.perf_counter()
    written = 0
    deadline = None
    while pending or written < count:
        now = time.perf_counter()
        if written < count and now >= next_write:
            rel, text = gen_corpus.new_article_text(index, SEED, when=datetime.now(timezone.utc), well_formed=True)
            pending[entry_id(rel).encode()] = write_file(seeds / rel, text.encode("utf-8"))
            added[index] = seeds / rel
            index += 1
            written += 1
            next_write += every
            if written == count:
                deadline = time.perf_counter() + timeout
        data = feed.data()
        for guid in [g for g in pending if g in data]:
            latency.append(time.perf_counter() - pending.pop(guid))
        if deadline and time.perf_counter() > deadline:
            raise SystemExit(f"{len(pending)} streamed articles never reached the feed")
        time.sleep(POLL)
    log(f"  stream of {count}, one every {every * 1000:.0f} ms: " + " ".join(f"{x * 1000:.0f}" for x in latency) + " ms")
    return latency, index


def _state_articles(config: Path) -> int:
    out = subprocess.run([*feeder_command(), "status", "-c", str(config), "--json"], capture_output=True, text=True, check=False)
    try:
        return int(json.loads(out.stdout)["articles"])
    except (ValueError, KeyError):
        return -1


def _count(path: Path, needle: str) -> int:
    try:
        return sum(1 for line in path.read_text(errors="replace").splitlines() if needle in line)
    except OSError:
        return 0


def _idle_rescans(config_path: Path, runs: int) -> tuple[list[float], str]:
    import logging

    from feeder.build import Pipeline
    from feeder.config import load_config
    from feeder.store import Store

    logging.getLogger("feeder").setLevel(logging.ERROR)  # the restored files' warnings were logged by the service already
    config = load_config(config_path)
    with Store(config.paths.state) as store:
        pipeline = Pipeline(config, store)
        pipeline.scan()  # records the restored corpus
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            report = pipeline.scan()
            times.append(time.perf_counter() - t)
            assert not (report.new or report.changed or report.deleted), "the folder was not idle"
        prof = cProfile.Profile()
        prof.enable()
        pipeline.scan()
        prof.disable()
    s = io.StringIO()
    pstats.Stats(prof, stream=s).sort_stats("cumulative").print_stats(12)
    return times, s.getvalue()


if __name__ == "__main__":
    sys.exit(main())
