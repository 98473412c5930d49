"""The Telegram sender, end to end: the real service, real python-telegram-bot, the fake Bot API.

Nothing of feeder is mocked: articles are files, the service scans them,
the outbox is SQLite, and the posts go over HTTP to tests/fake_telegram.py,
which enforces Telegram's rules and flood limits. Time is scaled down:
Telegram's one-minute window is WINDOW seconds here (the sender's
``window=``), its one-second interval per chat is INTERVAL, on both sides.

Every failure path of issue 4 part 4 is driven through the fake, and each
test asserts that every post arrives exactly once and in order, and that the
sender never came back before a 429's retry_after (``early_retry_violations``).
"""

from __future__ import annotations

import io
import json
import logging
import os
import sqlite3
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from feeder.config import TelegramConfig
from feeder.send import TOKEN_ENV, RateLimiter, Sender, TokenError, resolve_token
from feeder.service import Service
from feeder.store import Store
from tests.conftest import article, write_config
from tests.fake_telegram import FakeTelegram, make_png

pytestmark = [
    pytest.mark.timeout(60),
    # PTB warns about its own int retry_after inside RetryAfter.__init__
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
]

ROOT = Path(__file__).parent.parent
#: shaped like a real token, so the generic token pattern would catch it too
TOKEN = "7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"
WINDOW = 2.0  # Telegram's 60 s, scaled
INTERVAL = 0.05  # Telegram's 1 s per chat, scaled
BACKOFF = 0.1


@pytest.fixture(autouse=True)
def token(monkeypatch):
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)


def make_fake(*chats: str, **kw) -> FakeTelegram:
    limits = dict(per_chat_min_interval=INTERVAL, per_chat_per_minute=20, per_minute_window=WINDOW, global_window=WINDOW / 60)
    return FakeTelegram(token=TOKEN, chats=chats, **{**limits, **kw}).start()


@pytest.fixture
def fake():
    fakes: list[FakeTelegram] = []

    def make(*chats: str, **kw) -> FakeTelegram:
        f = make_fake(*chats, **kw)
        fakes.append(f)
        return f

    yield make
    for f in fakes:
        assert f.internal_errors == []
        f.stop()


def channel(name: str, chat: str, **kw) -> str:
    lines = ["[[channels]]", f'name = "{name}"', f'chat = "{chat}"']
    for key, value in kw.items():
        if isinstance(value, bool):
            lines.append(f"{key} = {'true' if value else 'false'}")
        elif isinstance(value, (list, tuple)):
            lines.append(f"{key} = {json.dumps(list(value), ensure_ascii=False)}")
        elif isinstance(value, (int, float)):
            lines.append(f"{key} = {value}")
        else:
            lines.append(f'{key} = "{value}"')
    return "\n".join(lines) + "\n"


class Site:
    """A seeds folder with a config pointing at a fake, and the service running over it."""

    def __init__(self, folder: Path, fake: FakeTelegram | None, channels: str, telegram: str = "", backoff: float = BACKOFF):
        self.folder = folder
        self.fake = fake
        self.backoff = backoff
        (folder / "seeds").mkdir(exist_ok=True)
        self.service: Service | None = None
        self.configure(channels, telegram)

    def configure(self, channels: str, telegram: str = "", extra: str = "") -> None:
        """``telegram``: lines of the [telegram] table over the test defaults; ``extra``: other tables."""
        base_url = self.fake.base_url if self.fake else "http://127.0.0.1:9/bot"
        keys = {"base_url": f'"{base_url}"', "per_chat_interval": INTERVAL, "read_timeout": 2, "connect_timeout": 2}
        for line in telegram.splitlines():
            if "=" in line:
                key, value = line.split("=", 1)
                keys[key.strip()] = value.strip()
        table = "".join(f"{k} = {v}\n" for k, v in keys.items())
        write_config(self.folder, f"[watch]\nsettle = 0\ninterval = 3600\nwatcher = false\n[telegram]\n{table}{extra}\n{channels}")

    @property
    def config_path(self) -> Path:
        return self.folder / "feeder.toml"

    @property
    def state(self) -> Path:
        return self.folder / "state.sqlite3"

    def start(self) -> "Site":
        self.service = Service(self.config_path, serve=False, watcher=False, sender_factory=self._sender)
        self.service.start()
        assert self.service.wait_ready(30)
        assert self.service.sender is not None
        return self

    def _sender(self, service: Service) -> Sender:
        return Sender(service.config, service.store.path, window=WINDOW, backoff=self.backoff)

    def stop(self) -> float:
        started = time.monotonic()
        if self.service is not None:
            self.service.stop()
            self.service = None
        return time.monotonic() - started

    def write(self, name: str, **fields) -> None:
        path = self.folder / "seeds" / name
        old = path.stat().st_mtime if path.exists() else None
        path.write_text(article(**fields), encoding="utf-8")
        if old is not None:
            os.utime(path, (old + 1, old + 1))

    def post(self, *titles: str, **fields) -> None:
        """New articles, one file each, named so they queue in this order; then a scan."""
        for title in titles:
            self.write(f"{title}.md", title=title, **fields)
        self.scan()

    def scan(self) -> None:
        self.service.request_full_scan()

    def rows(self) -> list[dict]:
        with Store(self.state, readonly=True) as store:
            return store.outbox_rows()

    def paused(self) -> dict[str, str]:
        with Store(self.state, readonly=True) as store:
            return store.paused_channels()


@pytest.fixture
def make_site(tmp_path):
    sites: list[Site] = []

    def make(fake, channels: str, telegram: str = "", **kw) -> Site:
        site = Site(tmp_path, fake, channels, telegram, **kw)
        sites.append(site)
        return site

    yield make
    for site in sites:
        site.stop()


def wait_for(condition, timeout: float = 15.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def titles(fake: FakeTelegram, chat: str) -> list[str]:
    """The first line (the title) of every live message in a chat, in the order Telegram accepted them."""
    return [m.content.split("\n", 1)[0] for m in fake.sent(chat)]


def delivered(fake: FakeTelegram, chat: str, n: int, timeout: float = 15.0) -> list[str]:
    wait_for(lambda: len(fake.sent(chat)) >= n, timeout, f"{n} messages in {chat} (have {titles(fake, chat)})")
    time.sleep(0.1)  # a duplicate would show up now
    return titles(fake, chat)


def names(prefix: str, n: int) -> list[str]:
    return [f"{prefix}{i:02}" for i in range(n)]


def assert_clean(fake: FakeTelegram) -> None:
    assert fake.early_retry_violations == 0, fake.violations
    assert fake.entities_dropped == 0


# -- the happy path ------------------------------------------------------------


def test_posts_arrive_once_in_order_in_every_channel_and_are_recorded(fake, make_site):
    tg = fake("@chan_a", "@chan_b")
    site = make_site(tg, channel("a", "@chan_a") + channel("b", "@chan_b", categories=["tech"])).start()
    site.post(*names("a", 6), categories=("news",))
    site.post(*names("t", 3), categories=("tech",))
    assert delivered(tg, "@chan_a", 9) == names("a", 6) + names("t", 3)
    assert delivered(tg, "@chan_b", 3) == names("t", 3)
    assert tg.flood_429_count == 0
    assert_clean(tg)
    wait_for(lambda: all(r["state"] == "sent" for r in site.rows()), 5, "rows marked sent")
    with Store(site.state, readonly=True) as store:
        assert store.message("b", "t01.md")["message_id"] == tg.sent("@chan_b")[1].message_id
    sent = tg.sent("@chan_a")[0]
    assert sent.parse_mode == "HTML" and sent.entities[0]["type"] == "bold"


# -- 429 -----------------------------------------------------------------------------


def test_429_waits_retry_after_for_that_chat_only_while_others_carry_on(fake, make_site):
    tg = fake("@chan_a", "@chan_b")
    tg.add_fault("flood", chat="@chan_a", retry_after=1, times=1)
    site = make_site(tg, channel("a", "@chan_a") + channel("b", "@chan_b")).start()
    site.post(*names("p", 5))
    assert delivered(tg, "@chan_b", 5) == names("p", 5)
    assert delivered(tg, "@chan_a", 5) == names("p", 5)
    assert tg.flood_429_count == 1
    assert_clean(tg)
    refused = next(r for r in tg.requests if r.status == 429)
    a_first = tg.sent("@chan_a")[0].time
    assert a_first >= refused.time + 1.0  # waited retry_after
    assert tg.sent("@chan_b")[-1].time < a_first  # b did not wait for a
    assert all(r["attempts"] == 1 for r in site.rows())  # a flood wait is not a failed attempt


def test_429_from_telegrams_own_limits_is_obeyed(fake, make_site):
    """The fake is stricter than the config: Telegram's own 429s come with retry_after, and are waited out."""
    tg = fake("@chan_a", per_chat_min_interval=0.3)
    site = make_site(tg, channel("a", "@chan_a")).start()
    site.post(*names("p", 3))
    assert delivered(tg, "@chan_a", 3, timeout=20) == names("p", 3)
    assert tg.flood_429_count >= 1
    assert_clean(tg)


def test_no_429_when_the_limits_bind(fake, make_site):
    """More posts than the window allows: the sender spreads them out itself."""
    tg = fake("@chan_a", "@chan_b")
    site = make_site(tg, channel("a", "@chan_a") + channel("b", "@chan_b")).start()
    started = time.monotonic()
    site.post(*names("p", 25))
    assert delivered(tg, "@chan_a", 25) == names("p", 25)
    assert delivered(tg, "@chan_b", 25) == names("p", 25)
    assert time.monotonic() - started >= WINDOW  # 20 per window: the last 5 waited
    assert tg.flood_429_count == 0
    assert_clean(tg)


# -- 5xx, slow answers, time-outs, dropped connections --------------------------------


def test_server_errors_are_retried_with_backoff_in_order(fake, make_site):
    tg = fake("@chan_a", "@chan_b")
    tg.add_fault("server_error", chat="@chan_a", times=2)
    tg.add_fault("bad_gateway", chat="@chan_a", times=1)
    site = make_site(tg, channel("a", "@chan_a") + channel("b", "@chan_b")).start()
    site.post(*names("p", 4))
    assert delivered(tg, "@chan_a", 4) == names("p", 4)
    assert delivered(tg, "@chan_b", 4) == names("p", 4)
    assert_clean(tg)
    failed = [r for r in tg.requests if r.status in (500, 502)]
    assert len(failed) == 3
    # backoff: each retry came later than the one before it
    a_sends = [r.time for r in tg.requests if r.params.get("chat_id") == "@chan_a" and r.method == "sendMessage"]
    gaps = [b - a for a, b in zip(a_sends, a_sends[1:4])]  # base * 2**n * a jitter in [0.5, 1.5)
    assert gaps[0] >= BACKOFF * 0.5 and gaps[1] >= BACKOFF * 2 * 0.5 and gaps[2] >= BACKOFF * 4 * 0.5
    assert gaps[2] > gaps[0]
    assert [r["attempts"] for r in site.rows() if r["channel"] == "a"] == [4, 1, 1, 1]


def test_dropped_connections_are_retried_in_order(fake, make_site):
    tg = fake("@chan_a")
    tg.add_fault("drop", chat="@chan_a", times=2)
    site = make_site(tg, channel("a", "@chan_a")).start()
    site.post(*names("p", 3))
    assert delivered(tg, "@chan_a", 3) == names("p", 3)
    assert len([r for r in tg.requests if r.status is None]) == 2
    assert_clean(tg)


def test_a_slow_answer_within_the_timeout_is_waited_for(fake, make_site):
    tg = fake("@chan_a")
    tg.add_fault("slow", chat="@chan_a", delay=0.8, times=1)
    site = make_site(tg, channel("a", "@chan_a")).start()
    site.post(*names("p", 3))
    assert delivered(tg, "@chan_a", 3) == names("p", 3)
    assert len([r for r in tg.requests if r.method == "sendMessage"]) == 3  # no retry
    assert_clean(tg)


def test_a_timed_out_request_is_retried_in_order(fake, make_site, caplog):
    """A request Telegram did not take in time (slow, then failing): the client times out and tries again."""
    tg = fake("@chan_a")
    tg.add_fault("slow", chat="@chan_a", delay=0.6, times=1)
    tg.add_fault("server_error", chat="@chan_a", times=1)  # the slow request is then refused, not accepted
    # the first retry comes after the slow request has been answered (backoff >= 0.5 s after the 0.3 s time-out)
    site = make_site(tg, channel("a", "@chan_a"), "read_timeout = 0.3\n", backoff=1.0).start()
    site.post(*names("p", 3))
    assert delivered(tg, "@chan_a", 3) == names("p", 3)
    rows = [r for r in site.rows() if r["path"] == "p00.md"]
    assert rows[0]["attempts"] == 2 and "p00.md: TimedOut: Timed out; attempt 1, retrying in" in caplog.text
    assert_clean(tg)


def test_the_documented_duplicate_window_a_timeout_after_telegram_accepted(fake, make_site):
    """The one case where a post shows twice: Telegram accepted it, the answer never came back in time.

    The Bot API has no idempotency key; this is the window send.py's docstring
    documents. The order and every other post are unaffected.
    """
    tg = fake("@chan_a")
    tg.add_fault("slow", chat="@chan_a", delay=0.6, times=1, after_processing=True)
    site = make_site(tg, channel("a", "@chan_a"), "read_timeout = 0.3\n").start()
    site.post(*names("p", 2))
    wait_for(lambda: len(tg.sent("@chan_a")) >= 3, 10, "three messages")
    time.sleep(0.2)
    assert titles(tg, "@chan_a") == ["p00", "p00", "p01"]
    assert_clean(tg)


# -- can't parse entities --------------------------------------------------------------


def test_cant_parse_entities_is_resent_as_plain_text_and_logged_as_a_bug(fake, make_site, caplog):
    caplog.set_level(logging.INFO, logger="feeder")
    tg = fake("@chan_a")
    tg.add_fault("error", chat="@chan_a", method="sendMessage", status=400, times=1,
                 description='Bad Request: can\'t parse entities: Unsupported start tag "foo" at byte offset 0')  # fmt: skip
    site = make_site(tg, channel("a", "@chan_a")).start()
    site.post(*names("p", 3))
    assert delivered(tg, "@chan_a", 3) == names("p", 3)
    first, second = tg.sent("@chan_a")[:2]
    assert first.parse_mode is None and first.entities == []  # the plain-text resend
    assert first.content == "p00\n\nBody text.\n\nexample.org\n\n#新闻"
    assert second.parse_mode == "HTML"
    assert "BUG: Telegram could not parse our HTML" in caplog.text
    assert_clean(tg)


def test_cant_parse_entities_in_a_caption_is_resent_as_plain_text(fake, make_site, image_host):
    tg = fake("@chan_a")
    tg.add_fault("error", chat="@chan_a", method="sendPhoto", status=400, times=1,
                 description="Bad Request: can't parse entities: Unexpected end tag at byte offset 12")  # fmt: skip
    site = make_site(tg, channel("a", "@chan_a")).start()
    site.post("p00", headimg=image_host.url("open.png"))
    assert delivered(tg, "@chan_a", 1) == ["p00"]
    sent = tg.sent("@chan_a")[0]
    assert sent.kind == "photo" and sent.parse_mode is None and sent.photo_url == image_host.url("open.png")
    assert_clean(tg)


# -- pictures Telegram cannot fetch --------------------------------------------------------


class ImageHost:
    """An image host on 127.0.0.1 that, like many, serves pictures only with a Referer header."""

    PNG = make_png(64, 48)

    def __init__(self):
        host = self
        self.referers: list[str | None] = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                referer = self.headers.get("Referer")
                host.referers.append(referer)
                own_site = f"http://127.0.0.1:{self.server.server_address[1]}/"
                if self.path == "/open.png" or (self.path == "/guarded.png" and referer) or (self.path == "/own-site.png" and referer == own_site):
                    body, status, kind = host.PNG, 200, "image/png"
                elif self.path in ("/guarded.png", "/own-site.png"):
                    body, status, kind = b"hotlinking is not allowed", 403, "text/plain"
                else:
                    body, status, kind = b"not found", 404, "text/plain"
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/{name}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def image_host():
    host = ImageHost()
    yield host
    host.close()


def test_a_picture_telegram_cannot_fetch_is_fetched_here_and_uploaded(fake, make_site, image_host):
    guarded = image_host.url("guarded.png")
    tg = fake("@chan_a", photo_url_errors={guarded: "photo_fetch_failed"})
    site = make_site(tg, channel("a", "@chan_a")).start()
    site.post("p00", "p01", headimg=guarded)
    assert delivered(tg, "@chan_a", 2) == ["p00", "p01"]
    for sent in tg.sent("@chan_a"):
        assert sent.kind == "photo" and sent.photo_upload_size == len(ImageHost.PNG) and sent.photo_width == 64
    assert image_host.referers[0] == "https://example.org/" + "2021/08/30/p00/"  # the article's own link
    with Store(site.state, readonly=True) as store:
        assert store.message("a", "p00.md")["kind"] == "photo"
    assert_clean(tg)


def test_a_host_that_wants_its_own_site_as_referer_gets_it(fake, make_site, image_host):
    own = image_host.url("own-site.png")
    tg = fake("@chan_a", photo_url_errors={own: "photo_wrong_type"})
    site = make_site(tg, channel("a", "@chan_a")).start()
    site.post("p00", headimg=own)
    assert delivered(tg, "@chan_a", 1) == ["p00"]
    assert tg.sent("@chan_a")[0].photo_upload_size == len(ImageHost.PNG)
    assert image_host.referers == ["https://example.org/2021/08/30/p00/", image_host.url("")]


@pytest.mark.parametrize("kind", ["photo_wrong_url", "photo_wrong_type"])
def test_a_picture_nobody_can_fetch_is_sent_as_a_text_post(fake, make_site, image_host, kind):
    missing = image_host.url("missing.png")
    tg = fake("@chan_a", photo_url_errors={missing: kind})
    site = make_site(tg, channel("a", "@chan_a")).start()
    site.post("p00", headimg=missing)
    site.post("p01")
    assert delivered(tg, "@chan_a", 2) == ["p00", "p01"]
    sent = tg.sent("@chan_a")[0]
    assert sent.kind == "text" and sent.parse_mode == "HTML" and "#新闻" in sent.content
    assert_clean(tg)


# -- 403 and chat not found: pause ----------------------------------------------------------


def test_kicked_not_member_and_chat_not_found_pause_the_channel_until_reload(fake, make_site, caplog):
    caplog.set_level(logging.INFO, logger="feeder")
    tg = fake("@chan_a", "@chan_b", "@chan_ok")
    tg.add_fault("kicked", chat="@chan_a", times=None)
    tg.add_fault("not_member", chat="@chan_b", times=None)
    channels = channel("a", "@chan_a") + channel("b", "@chan_b") + channel("gone", "@chan_gone") + channel("ok", "@chan_ok")
    site = make_site(tg, channels).start()
    site.post(*names("p", 4))
    assert delivered(tg, "@chan_ok", 4) == names("p", 4)  # the others carry on
    wait_for(lambda: set(site.paused()) == {"a", "b", "gone"}, 5, "three paused channels")
    paused = site.paused()
    assert "kicked" in paused["a"] and "not a member" in paused["b"] and "chat not found" in paused["gone"].lower()
    assert "channel a: PAUSED" in caplog.text and "channel gone: PAUSED" in caplog.text
    time.sleep(1.5)  # paused means paused: no more tries
    tries = len(tg.requests)
    time.sleep(1.2)
    assert len(tg.requests) == tries
    # the queue is kept, attempts not spent
    pending = [r for r in site.rows() if r["channel"] != "ok"]
    assert len(pending) == 12 and all(r["state"] == "pending" and r["attempts"] == 0 for r in pending)
    # fixed (bot added back, chat created) and the config reloaded: everything goes, in order, once
    tg.clear_faults()
    tg.add_chat("@chan_gone")
    site.service.request_reload()
    for chat in ("@chan_a", "@chan_b", "@chan_gone"):
        assert delivered(tg, chat, 4) == names("p", 4)
    assert site.paused() == {}
    assert titles(tg, "@chan_ok") == names("p", 4)
    assert_clean(tg)


# -- dead letters ------------------------------------------------------------------------


def feeder_cli(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != TOKEN_ENV}
    return subprocess.run([sys.executable, "-m", "feeder", *args], cwd=ROOT, capture_output=True, text=True, timeout=60, env=env)


def test_dead_letter_after_max_attempts_shown_by_status_and_requeued_by_retry(fake, make_site):
    tg = fake("@chan_a")
    tg.add_fault("server_error", chat="@chan_a", times=3)
    site = make_site(tg, channel("a", "@chan_a"), "max_attempts = 3\n").start()
    site.post("p00")
    wait_for(lambda: any(r["state"] == "dead" for r in site.rows()), 10, "a dead post")
    site.post("p01")  # the channel goes on past a dead post
    assert delivered(tg, "@chan_a", 1) == ["p01"]
    status = feeder_cli("status", "-c", str(site.config_path))
    assert status.returncode == 0, status.stderr
    assert "dead posts (1; `feeder retry` queues them again)" in status.stdout
    assert "a: p00.md: gave up after 3 attempts" in status.stdout
    retry = feeder_cli("retry", "-c", str(site.config_path))
    assert retry.returncode == 0 and "1 dead posts queued again" in retry.stdout
    assert delivered(tg, "@chan_a", 2) == ["p01", "p00"]  # no wake-up needed: the sender looks again by itself
    assert [r["state"] for r in site.rows()] == ["sent", "sent"]
    assert_clean(tg)


def test_a_refused_post_goes_dead_at_once_and_the_rest_follow(fake, make_site):
    tg = fake("@chan_a")
    tg.add_fault("error", chat="@chan_a", status=400, description="Bad Request: message is too long", times=1)
    site = make_site(tg, channel("a", "@chan_a")).start()
    site.post(*names("p", 3))
    assert delivered(tg, "@chan_a", 2) == ["p01", "p02"]
    dead = [r for r in site.rows() if r["state"] == "dead"]
    assert [r["path"] for r in dead] == ["p00.md"] and dead[0]["attempts"] == 1 and "too long" in dead[0]["last_error"]


# -- restarts ------------------------------------------------------------------------------


def test_a_restart_never_resends_a_post_recorded_as_sent(fake, make_site):
    tg = fake("@chan_a", "@chan_b")
    site = make_site(tg, channel("a", "@chan_a") + channel("b", "@chan_b")).start()
    site.post(*names("p", 3))
    delivered(tg, "@chan_a", 3)
    delivered(tg, "@chan_b", 3)
    wait_for(lambda: all(r["state"] == "sent" for r in site.rows()), 5, "rows sent")
    site.stop()
    # killed after a row was marked sending but before its request left: that one goes at the next start
    site.write("p03.md", title="p03")
    site.start()
    site.scan()
    assert delivered(tg, "@chan_a", 4) == names("p", 4)
    assert delivered(tg, "@chan_b", 4) == names("p", 4)
    site.stop()
    with sqlite3.connect(site.state) as db:
        db.execute("UPDATE outbox SET state='sending', attempts=attempts+1 WHERE path='p03.md' AND channel='a'")
        db.execute("DELETE FROM messages WHERE path='p03.md' AND channel='a'")
    tg.reset()  # forget what was sent: only new sends show now
    site.start()
    site.write("p04.md", title="p04")
    site.scan()
    assert delivered(tg, "@chan_a", 2) == ["p03", "p04"]
    assert delivered(tg, "@chan_b", 1) == ["p04"]


def test_stop_lets_a_request_in_flight_finish_and_records_it(fake, make_site):
    tg = fake("@chan_a")
    tg.add_fault("slow", chat="@chan_a", delay=1.0, times=1)
    site = make_site(tg, channel("a", "@chan_a")).start()
    site.post("p00")
    wait_for(lambda: any(r.method == "sendMessage" for r in tg.requests), 5, "the request in flight")
    took = site.stop()
    assert 0.5 < took < 3.0
    rows = site.rows()
    assert rows[0]["state"] == "sent"
    site.start()
    time.sleep(0.5)
    assert titles(tg, "@chan_a") == ["p00"]


def test_a_post_cancelled_while_it_waits_out_a_429_is_not_sent(fake, make_site):
    tg = fake("@chan_a")
    tg.add_fault("flood", chat="@chan_a", retry_after=1, times=1)
    site = make_site(tg, channel("a", "@chan_a")).start()
    site.post("p00", "p01")
    wait_for(lambda: tg.flood_429_count == 1, 5, "the 429")
    (site.folder / "seeds" / "p00.md").unlink()  # deleted while the chat waits
    site.scan()
    assert delivered(tg, "@chan_a", 1) == ["p01"]
    time.sleep(0.3)
    assert titles(tg, "@chan_a") == ["p01"]
    assert [(r["path"], r["state"]) for r in site.rows()] == [("p00.md", "cancelled"), ("p01.md", "sent")]
    assert_clean(tg)


def test_a_refused_token_stops_posting_not_the_service(fake, make_site, monkeypatch, caplog):
    monkeypatch.setenv(TOKEN_ENV, "7012345678:AAwrongwrongwrongwrongwrongwrong123")
    tg = fake("@chan_a")
    site = make_site(tg, channel("a", "@chan_a")).start()
    site.post("p00")
    wait_for(lambda: "token was refused" in caplog.text, 5, "the error")
    assert tg.all_sent() == [] and site.service.pipeline is not None
    assert "wrongwrong" not in caplog.text
    wait_for(lambda: len(site.rows()) == 1, 5, "the queued post")
    time.sleep(0.3)
    assert [r["state"] for r in site.rows()] == ["pending"]  # kept for when the token is fixed


def test_stop_is_prompt_when_idle_and_while_waiting_out_a_429(fake, make_site):
    tg = fake("@chan_a")
    site = make_site(tg, channel("a", "@chan_a")).start()
    assert site.stop() < 1.0
    tg.add_fault("flood", chat="@chan_a", retry_after=30, times=1)
    site.start()
    site.post("p00")
    wait_for(lambda: tg.flood_429_count == 1, 5, "the 429")
    assert site.stop() < 1.0
    assert_clean(tg)


def hold_write_lock(state: Path, seconds: float) -> threading.Thread:
    """Hold the state file's write lock for a while, as the pass loop does during a long scan or publish."""
    taken = threading.Event()

    def hold():
        with Store(state) as store, store.transaction():
            taken.set()
            time.sleep(seconds)

    thread = threading.Thread(target=hold)
    thread.start()
    taken.wait(5)
    return thread


def test_a_long_write_lock_held_by_the_pass_loop_delays_but_never_duplicates(fake, make_site):
    tg = fake("@chan_a", "@chan_b")
    tg.add_fault("slow", chat="@chan_a", delay=0.5, times=1)
    site = make_site(tg, channel("a", "@chan_a") + channel("b", "@chan_b")).start()
    site.post(*names("p", 3))
    wait_for(lambda: any(r.method == "sendMessage" and r.params.get("chat_id") == "@chan_a" for r in tg.requests), 5, "a's first send")
    # a's first post is in flight; its answer comes while the lock is held, and must still be recorded, once
    holder = hold_write_lock(site.state, float(os.environ.get("LOCK_SECONDS", "1.5")))
    started = time.monotonic()
    time.sleep(0.7)
    assert len(tg.sent("@chan_a")) == 1  # accepted by Telegram, not recorded yet
    holder.join()
    assert delivered(tg, "@chan_a", 3) == names("p", 3)
    assert delivered(tg, "@chan_b", 3) == names("p", 3)
    assert time.monotonic() - started >= 1.4
    wait_for(lambda: [r["state"] for r in site.rows()] == ["sent"] * 6, 5, "all rows sent")
    assert_clean(tg)


# -- updates ---------------------------------------------------------------------------------


def test_a_changed_article_is_edited_in_place(fake, make_site, image_host):
    tg = fake("@chan_a", "@chan_p")
    site = make_site(tg, channel("a", "@chan_a") + channel("p", "@chan_p", categories=["pics"])).start()
    site.post("t00")
    delivered(tg, "@chan_a", 1)
    site.write("pic.md", title="pic", categories=("pics",), headimg=image_host.url("open.png"))
    site.scan()
    delivered(tg, "@chan_a", 2)
    delivered(tg, "@chan_p", 1)
    site.write("t00.md", title="t00 corrected", body="<p>Better text.</p>")
    site.write("pic.md", title="pic corrected", categories=("pics",), headimg=image_host.url("open.png?v=2"))
    site.scan()
    wait_for(lambda: len(tg.edits) >= 3, 10, "three edits (text, and the picture in two channels)")
    time.sleep(0.2)
    assert titles(tg, "@chan_a") == ["t00 corrected", "pic corrected"]
    assert "Better text." in tg.sent("@chan_a")[0].content
    photo = tg.sent("@chan_p")[0]
    assert titles(tg, "@chan_p") == ["pic corrected"] and photo.photo_url == image_host.url("open.png?v=2")
    assert len(tg.all_sent()) == 3  # edits, no new messages
    assert_clean(tg)


def test_on_change_ignore_and_repost(fake, make_site):
    tg = fake("@chan_a")
    site = make_site(tg, channel("a", "@chan_a"), 'on_change = "ignore"\n').start()
    site.post("t00")
    delivered(tg, "@chan_a", 1)
    site.write("t00.md", title="t00 v2")
    site.scan()
    time.sleep(0.5)
    assert titles(tg, "@chan_a") == ["t00"] and tg.edits == []
    site.configure(channel("a", "@chan_a"), 'on_change = "repost"\n')
    site.service.request_reload()
    time.sleep(0.2)
    site.write("t00.md", title="t00 v3")
    site.scan()
    assert delivered(tg, "@chan_a", 2) == ["t00", "t00 v3"]
    assert tg.edits == []
    assert_clean(tg)


def test_a_deleted_article_deletes_its_message_when_configured(fake, make_site):
    tg = fake("@chan_a")
    site = make_site(tg, channel("a", "@chan_a"), "delete_removed = true\n").start()
    site.post("t00", "t01")
    delivered(tg, "@chan_a", 2)
    (site.folder / "seeds" / "t00.md").unlink()
    site.scan()
    wait_for(lambda: len(tg.deletions) == 1, 5, "the deletion")
    assert titles(tg, "@chan_a") == ["t01"]
    assert_clean(tg)


# -- secrets ---------------------------------------------------------------------------------


def test_the_token_never_appears_in_logs_or_files(fake, make_site, caplog, capfd):
    """A whole run with failures, every logger at DEBUG, a handler with no redaction filter of its own."""
    raw = io.StringIO()
    handler = logging.StreamHandler(raw)
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    loggers = {name: logging.getLogger(name).level for name in ("", "httpx", "httpcore", "telegram", "feeder", "asyncio")}
    root.addHandler(handler)
    for name in loggers:
        logging.getLogger(name).setLevel(logging.DEBUG)
    caplog.set_level(logging.DEBUG)
    try:
        tg = fake("@chan_a", "@chan_b")
        tg.add_fault("server_error", chat="@chan_a", times=1)
        tg.add_fault("drop", chat="@chan_a", times=1)
        tg.add_fault("kicked", chat="@chan_b", times=1)
        site = make_site(tg, channel("a", "@chan_a") + channel("b", "@chan_b")).start()
        site.post(*names("p", 2))
        assert delivered(tg, "@chan_a", 2) == names("p", 2)
        wait_for(lambda: "b" in site.paused(), 5, "b paused")
        site.stop()
    finally:
        root.removeHandler(handler)
        for name, level in loggers.items():
            logging.getLogger(name).setLevel(level)
    out, err = capfd.readouterr()
    text = raw.getvalue()
    assert "HTTP Request: POST" in text and "sendMessage" in text  # httpx did log its URLs
    secret = TOKEN.split(":", 1)[1]
    for where, content in (("handler", text), ("caplog", caplog.text), ("stdout", out), ("stderr", err)):
        assert secret not in content, where
    for path in site.folder.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


# -- without a token ---------------------------------------------------------------------------


def test_without_a_token_posts_are_logged_and_written_to_dry_run_jsonl(make_site, monkeypatch, caplog):
    monkeypatch.delenv(TOKEN_ENV)
    caplog.set_level(logging.INFO, logger="feeder")
    site = make_site(None, channel("a", "@chan_a") + channel("b", "@chan_b", categories=["tech"])).start()
    assert site.service.sender.dry_run
    site.post("t00", "t01")
    lines_file = site.folder / "dry-run.jsonl"
    wait_for(lambda: lines_file.exists() and len(lines_file.read_text().splitlines()) == 2, 5, "two dry-run lines")
    records = [json.loads(line) for line in lines_file.read_text(encoding="utf-8").splitlines()]
    assert [(r["channel"], r["chat"], r["action"], r["path"]) for r in records] == [("a", "@chan_a", "post", "t00.md"), ("a", "@chan_a", "post", "t01.md")]
    assert records[0]["text"].startswith("<b>t00</b>")
    assert "no Telegram token: dry run" in caplog.text and "dry run: would post to @chan_a: <b>t00</b>" in caplog.text
    # a change is a dry-run edit, not a second post
    site.write("t00.md", title="t00 v2")
    site.scan()
    wait_for(lambda: len(lines_file.read_text().splitlines()) == 3, 5, "the edit line")
    assert json.loads(lines_file.read_text().splitlines()[2])["action"] == "edit"
    assert "dry run: 3 posts sent" in site.service.sender.status_line()


# -- pieces ----------------------------------------------------------------------------------------


def test_token_sources_in_order(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text(" from-file \n")
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "telegram-token").write_text("from-credential\n")
    cfg = TelegramConfig(token_file=token_file)
    assert resolve_token(cfg, {TOKEN_ENV: "from-env", "CREDENTIALS_DIRECTORY": str(creds)}) == "from-env"
    assert resolve_token(cfg, {"CREDENTIALS_DIRECTORY": str(creds)}) == "from-file"
    assert resolve_token(TelegramConfig(), {"CREDENTIALS_DIRECTORY": str(creds)}) == "from-credential"
    assert resolve_token(TelegramConfig(), {}) is None
    with pytest.raises(TokenError, match="cannot read"):
        resolve_token(TelegramConfig(token_file=tmp_path / "nope"), {})


def test_a_token_file_is_used_by_the_sender(fake, make_site, monkeypatch, tmp_path):
    monkeypatch.delenv(TOKEN_ENV)
    (tmp_path / "token").write_text(TOKEN + "\n")
    tg = fake("@chan_a")
    site = make_site(tg, channel("a", "@chan_a"), f'token_file = "{tmp_path / "token"}"\n').start()
    site.post("p00")
    assert delivered(tg, "@chan_a", 1) == ["p00"]


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_rate_limiter_per_chat_interval_and_window():
    clock = Clock()
    rl = RateLimiter(interval=1.0, per_window=3, window=60.0, global_limit=30, clock=clock)
    assert rl.delay("a") == 0
    for expected in (0.0, 1.0, 1.0):
        assert rl.delay("a") == pytest.approx(expected)
        clock.now += rl.delay("a")
        rl.begin("a")
        assert rl.delay("a") > 0  # one at a time per chat
        clock.now += 0.25  # the request takes a while; counted from its answer
        rl.end("a")
    # three in the window: the next waits until the first answer is 60 s old
    assert rl.delay("a") == pytest.approx(100.25 + 60 - clock.now)
    assert rl.delay("b") == 0  # other chats are not held up
    rl.block("b", 5)
    assert rl.delay("b") == pytest.approx(5.25)


def test_rate_limiter_global_limit_counts_requests_in_flight():
    clock = Clock()
    rl = RateLimiter(interval=0, per_window=20, window=60.0, global_limit=2, global_window=1.0, clock=clock)
    rl.begin("a")
    rl.begin("b")
    assert rl.delay("c") > 0  # two in flight fill the second
    clock.now += 0.1
    rl.end("a")
    rl.end("b")
    assert rl.delay("c") == pytest.approx(1.0)
    clock.now += 1.0
    assert rl.delay("c") == 0
