#!/usr/bin/env python3
"""Benchmark the Telegram sender: 1,000 new articles for 5 channels against the fake Bot API.

    python bench/bench_telegram.py                      # 1,000 articles, 5 channels, time scaled 10x
    python bench/bench_telegram.py --scale 1            # Telegram's real limits (about 10 minutes)
    python bench/bench_telegram.py --route all          # every channel takes every article (5,000 posts)

The service runs in this process (``Service`` with the real ``Sender``, no
HTTP server, no file watcher) over a fresh folder under bench/out/, posting
through real python-telegram-bot to tests/fake_telegram.py, which enforces
Telegram's limits and answers 429 when they are broken:

* one message per second in a chat, 20 per minute in a channel, 30 per
  second for the bot (the bots FAQ; PTB's wiki for channels);
* ``--scale S`` divides every time by S on both sides (the fake's windows and
  interval, feeder's ``per_chat_interval`` and the sender's ``window``), so
  the ratios are Telegram's and the run is S times shorter. Default 10: a
  6 s "minute" and a 0.1 s "second".

Steps: start the service on an empty seeds folder (every channel ready, no
back catalogue), write N well-formed generated articles (bench/gen_corpus.py,
seed 1; each gets one extra category ``bench0``..``bench4`` by index, and
channel i takes ``bench<i>``: N/5 posts a channel; ``--route all``: N each),
ask for a scan, and watch the outbox (read-only) until its rows are there.

Figures:

* **delivery**: from the moment the outbox rows were committed to the last
  message Telegram (the fake) accepted;
* **fastest allowed**: the same for a sender that sends each channel's k-th
  post (k = 0, 1, ...) the very moment the limits allow:
  ``(k // 20) * minute + (k % 20) * second`` after the rows were committed,
  for the busiest channel;
* **share** = fastest allowed / delivery (100 %: as fast as the limits allow);
  **pacing only** measures from the first post instead, leaving out the
  start (the service's pass still publishing the feeds of the new articles,
  which holds the state file's write lock the sender records with);
* **429 answers** and early retries (sending again before ``retry_after``);
* **exactly once, in order**: every outbox row is sent once, each chat holds
  exactly its posts, and message ids grow in outbox order.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import shutil
import sys
import threading
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT), str(ROOT / "tests")]

import gen_corpus  # noqa: E402
from fake_telegram import FakeTelegram  # noqa: E402

from feeder.send import TOKEN_ENV, Sender  # noqa: E402
from feeder.service import Service  # noqa: E402
from feeder.store import Store  # noqa: E402

OUT = HERE / "out"
TOKEN = "7012345678:AAHbenchBENCHbenchBENCHbenchBENCH12"
#: Telegram's limits (bots FAQ): per chat, per channel-minute, for the bot per second
PER_CHAT_INTERVAL, PER_MINUTE, GLOBAL_PER_SECOND = 1.0, 20, 30
MINUTE, SECOND = 60.0, 1.0


def machine_line() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, {platform.system()} {platform.release()}"


def with_category(text: str, category: str) -> str:
    """The article with one more category, written like its others."""
    head, sep, rest = text.partition("categories: \n")
    indent = rest[: rest.index("- ")]
    return f"{head}{sep}{indent}- {category}\n{rest}"


def fastest(posts: int, interval: float, minute: float) -> float:
    """Seconds from the first to the last of ``posts`` messages in one chat, sent as early as the limits allow."""
    k = posts - 1
    return (k // PER_MINUTE) * minute + (k % PER_MINUTE) * interval


def write_config(folder: Path, base_url: str, channels: int, route: str, interval: float) -> Path:
    lines = [
        "[site]", 'title = "bench"', 'base_url = "https://example.org/"',
        "[paths]", 'seeds = "seeds"', 'output = "public"', 'state = "state.sqlite3"',
        "[watch]", "settle = 0", "interval = 3600", "watcher = false",
        "[telegram]", f'base_url = "{base_url}"', f"per_chat_interval = {interval}",
        f"per_chat_per_minute = {PER_MINUTE}", f"global_per_second = {GLOBAL_PER_SECOND}",
    ]  # fmt: skip
    for i in range(channels):
        lines += ["[[channels]]", f'name = "ch{i}"', f'chat = "@bench_channel_{i}"']
        if route == "spread":
            lines.append(f'categories = ["bench{i}"]')
    path = folder / "feeder.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--articles", type=int, default=1000)
    ap.add_argument("--channels", type=int, default=5)
    ap.add_argument("--scale", type=float, default=10.0, help="divide Telegram's times by this (default 10)")
    ap.add_argument("--route", choices=("spread", "all"), default="spread", help="article i to channel i %% channels, or every article to every channel")
    ap.add_argument("-v", "--verbose", action="store_true", help="the service's log on stderr")
    a = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO if a.verbose else logging.ERROR, format="%(asctime)s %(levelname)s %(message)s")
    interval, minute, second = PER_CHAT_INTERVAL / a.scale, MINUTE / a.scale, SECOND / a.scale

    folder = OUT / f"telegram-{a.articles}"
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "seeds").mkdir(parents=True)
    chats = [f"@bench_channel_{i}" for i in range(a.channels)]
    fake = FakeTelegram(
        token=TOKEN, chats=chats, per_chat_min_interval=interval, per_chat_per_minute=PER_MINUTE, per_minute_window=minute,
        global_per_second=GLOBAL_PER_SECOND, global_window=second, retry_grace=0.0,
    ).start()  # fmt: skip
    os.environ[TOKEN_ENV] = TOKEN
    config = write_config(folder, fake.base_url, a.channels, a.route, interval)
    service = Service(config, serve=False, watcher=False, sender_factory=lambda s: Sender(s.config, s.store.path, window=minute))
    service.start()
    if not service.wait_ready(60):
        print("the service did not start", file=sys.stderr)
        return 1
    try:
        # the articles
        per_channel: Counter = Counter()
        for i in range(a.articles):
            rel, text = gen_corpus.new_article_text(i, well_formed=True)
            target = i % a.channels
            path = folder / "seeds" / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(with_category(text, f"bench{target}"), encoding="utf-8")
        expected_rows = a.articles if a.route == "spread" else a.articles * a.channels
        written = time.monotonic()
        service.request_full_scan()

        # the moment the outbox rows are committed
        with Store(folder / "state.sqlite3", readonly=True) as store:
            while sum(sum(states.values()) for states in store.outbox_counts().values()) < expected_rows:
                time.sleep(0.002)
            queued = time.monotonic()
            rows = store.outbox_rows()
        per_channel = Counter(r["channel"] for r in rows)

        # until every post is accepted
        done = threading.Event()
        deadline = queued + 10 * max(fastest(n, interval, minute) for n in per_channel.values()) + 60
        while not done.is_set():
            if sum(len(fake.sent(c)) for c in chats) >= expected_rows:
                done.set()
            elif time.monotonic() > deadline:
                print("gave up waiting for the posts", file=sys.stderr)
                break
            time.sleep(0.01)
        time.sleep(0.5)  # a duplicate would show now
        last = max(m.time for m in fake.all_sent())
        first = min(m.time for m in fake.all_sent())
    finally:
        service.stop()
        fake.stop()

    # exactly once, in order
    problems = []
    with Store(folder / "state.sqlite3", readonly=True) as store:
        rows = store.outbox_rows()
        for i, chat in enumerate(chats):
            name = f"ch{i}"
            mine = [r for r in rows if r["channel"] == name]
            ids = [store.message(name, r["path"])["message_id"] for r in mine if store.message(name, r["path"])]
            sent = fake.sent(chat)
            if len(sent) != len(mine) or len(ids) != len(mine):
                problems.append(f"{name}: {len(mine)} rows, {len(ids)} recorded, {len(sent)} messages in the chat")
            if ids != sorted(ids) or len(set(ids)) != len(ids):
                problems.append(f"{name}: messages out of outbox order")
            if any(r["state"] != "sent" for r in mine):
                problems.append(f"{name}: rows not sent: {Counter(r['state'] for r in mine)}")

    delivery = last - queued
    best = max(fastest(n, interval, minute) for n in per_channel.values())
    total_posts = sum(per_channel.values())
    print(f"machine:           {machine_line()}")
    print(f"command:           python bench/bench_telegram.py {' '.join(argv if argv is not None else sys.argv[1:])}".rstrip())
    print(
        f"limits:            {PER_MINUTE} posts per {minute:g} s and 1 per {interval:g} s per chat, {GLOBAL_PER_SECOND} per {second:g} s for the bot"
        f" (Telegram's, time / {a.scale:g})"
    )
    print(f"posts:             {total_posts} ({a.articles} articles, {a.channels} channels, route {a.route}; busiest channel {max(per_channel.values())})")
    print(f"scan to queued:    {queued - written:.2f} s (write-to-outbox, {a.articles} files)")
    print(f"first post after:  {first - queued:.3f} s")
    print(f"delivery:          {delivery:.2f} s (queued -> last post accepted)")
    print(f"fastest allowed:   {best:.2f} s")
    print(f"share:             {best / delivery * 100:.1f} %")
    print(f"pacing only:       {best / (last - first) * 100:.1f} % (fastest allowed / first post -> last post)")
    print(f"429 answers:       {fake.flood_429_count}; early retries: {fake.early_retry_violations}")
    print(f"exactly once, in order: {'yes' if not problems else 'NO: ' + '; '.join(problems)}")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
