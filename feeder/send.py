"""Drain the outbox to Telegram: in order per channel, within Telegram's limits, never twice.

The only module that talks to ``telegram.Bot``. It runs in a thread of its
own with an asyncio loop: one task per channel (one message at a time per
chat, in outbox order) and one shared :class:`RateLimiter`.

Delivery, per outbox row:

1. the row is marked ``sending`` (attempts + 1) and committed;
2. the post is rendered from the article file as it is now, and sent;
3. on success the row is marked ``sent`` and the message id recorded, in one
   transaction, right after Telegram's answer.

A restart resends a row left ``sending``. That is the one window where a
post can appear twice: killed after Telegram accepted the message and before
step 3 committed, or a request that timed out after Telegram had already
accepted it (the Bot API has no idempotency key). ``stop()`` keeps the first
window short: it takes no new row, but lets a request in flight finish and
be recorded (up to a grace period) before the loop closes.

Failures: 429 waits ``retry_after`` for that chat only; 5xx, time-outs and
dropped connections retry with exponential backoff and jitter, the rest of
the channel's queue waiting behind (order is kept); ``can't parse entities``
is resent as plain text (and logged as a bug); a photo Telegram cannot fetch
is downloaded here and uploaded, else sent as a text post; 403 and ``chat
not found`` pause the channel until the config is reloaded. After
``max_attempts`` a row is ``dead`` (``feeder status`` lists it, ``feeder
retry`` queues it again). Without a token, nothing is sent: posts are logged
and written to ``dry-run.jsonl`` beside the state file.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import os
import random
import sqlite3
import threading
import time
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from telegram import Bot, InputFile, InputMediaPhoto, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.request import HTTPXRequest
from telegram.warnings import PTBDeprecationWarning

from feeder import logs
from feeder.config import ChannelConfig, Config, TelegramConfig
from feeder.derive import Rules
from feeder.errors import ArticleError, FeederError
from feeder.outbox import build_post, read_entry
from feeder.store import Store
from feeder.telegram_format import Post, to_plain

log = logging.getLogger("feeder.telegram")

TOKEN_ENV = "FEEDER_TELEGRAM_TOKEN"
CREDENTIAL = "telegram-token"
#: backoff after the n-th failure: base * 2**(n-1) seconds, at most BACKOFF_CAP, times a jitter in [0.5, 1.5)
BACKOFF_BASE, BACKOFF_CAP = 1.0, 300.0
#: waiting a little longer than Telegram asks costs nothing; sending early extends the ban
RETRY_AFTER_MARGIN = 0.25
#: Telegram's windows: the per-chat "20 a minute" and the bot's "30 a second"
MINUTE, SECOND = 60.0, 1.0
#: how often a channel with nothing to do looks at its queue again (``feeder retry`` runs in another process)
POLL = 0.5
#: how long one write waits for the pass loop's transaction before the event loop is given back (then retried)
DB_BUSY_WAIT = 0.05
#: the loggers of the libraries under the sender (a filter acts only on its own logger's records, not its children's);
#: httpx logs every request URL at INFO, and a Bot API URL holds the token
LIBRARY_LOGGERS = (
    "httpx", "httpcore.connection", "httpcore.http11", "httpcore.http2", "httpcore.proxy",
    "telegram", "telegram.Bot", "telegram.request.BaseRequest", "telegram.request.HTTPXRequest",
)  # fmt: skip
PHOTO_URL_ERRORS = (
    "wrong file identifier/http url specified",
    "failed to get http url content",
    "wrong type of the web page content",
    "wrong remote file identifier specified",
    "photo_invalid_dimensions",
    "image_process_failed",
)
CANT_PARSE = "can't parse entities"
DRY_RUN_FILE = "dry-run.jsonl"
#: the ``kind`` of a message recorded by a dry run: there is nothing to edit or delete
DRY_RUN_KIND = "dry_run"


class TokenError(FeederError):
    """The bot token is missing or unreadable where the config says it is."""


def resolve_token(cfg: TelegramConfig, environ: dict | None = None) -> str | None:
    """The bot token from $FEEDER_TELEGRAM_TOKEN, ``token_file``, or the systemd credential; None: dry run."""
    env = os.environ if environ is None else environ
    token = env.get(TOKEN_ENV, "").strip()
    if not token and cfg.token_file is not None:
        try:
            token = Path(cfg.token_file).read_text(encoding="utf-8").strip()
        except OSError as e:
            raise TokenError(f"telegram.token_file {cfg.token_file}: cannot read: {e.strerror}") from None
    if not token and env.get("CREDENTIALS_DIRECTORY"):
        path = Path(env["CREDENTIALS_DIRECTORY"]) / CREDENTIAL
        if path.is_file():
            token = path.read_text(encoding="utf-8").strip()
    if token:
        logs.REDACTOR.add(token)
    return token or None


def guard_logs() -> None:
    """Put the redactor on the loggers that could see the token, whatever handlers the process has.

    ``logs.setup`` filters at its handler; this also covers handlers added
    by others (pytest's caplog, an embedding program) and library debug logs.
    """
    for name in ("feeder", "feeder.telegram", *LIBRARY_LOGGERS):
        logging.getLogger(name).addFilter(logs.REDACTOR)  # addFilter ignores a filter already there


class RateLimiter:
    """Telegram's flood limits, kept on our side so Telegram never has to say 429.

    Per chat: one message at a time, at least ``interval`` seconds between
    messages and at most ``per_window`` in any ``window`` seconds; for the
    bot: at most ``global_limit`` in any ``global_window`` seconds. A 429
    blocks its chat until its ``retry_after`` has passed.

    A message is counted from when its request *finished*: Telegram counted
    it at some moment before that, so measuring from the answer can only
    err on the slow side, whatever the network's delays. A request still in
    flight counts as happening now. Pure bookkeeping over the ``clock``.
    """

    def __init__(self, interval: float, per_window: int, window: float, global_limit: int, global_window: float = SECOND,
                 clock=time.monotonic):  # fmt: skip
        self.interval = interval
        self.per_window = per_window
        self.window = window
        self.global_limit = global_limit
        self.global_window = global_window
        self.clock = clock
        self._chat: dict[str, collections.deque[float]] = collections.defaultdict(collections.deque)
        self._global: collections.deque[float] = collections.deque()
        self._busy: set[str] = set()
        self._blocked: dict[str, float] = {}

    def delay(self, chat: str) -> float:
        """Seconds until a message to ``chat`` may start (0: now)."""
        now = self.clock()
        times = self._chat[chat]
        while times and times[0] <= now - self.window:
            times.popleft()
        while self._global and self._global[0] <= now - self.global_window:
            self._global.popleft()
        if chat in self._busy:
            return 0.01  # one at a time per chat (two channels may share a chat)
        t = max(now, self._blocked.get(chat, 0.0))
        if times:
            t = max(t, times[-1] + self.interval)
            if len(times) >= self.per_window:
                t = max(t, times[-self.per_window] + self.window)
        in_flight = len(self._busy)
        over = in_flight + len(self._global) - self.global_limit + 1
        if over > 0:
            if over > len(self._global):
                return max(t - now, 0.01)  # wait for an answer to come back
            t = max(t, self._global[over - 1] + self.global_window)
        return max(0.0, t - now)

    def begin(self, chat: str) -> None:
        """A request to ``chat`` starts."""
        self._busy.add(chat)

    def end(self, chat: str) -> None:
        """The request to ``chat`` finished (whatever the answer); once per ``begin``."""
        if chat not in self._busy:
            return
        self._busy.discard(chat)
        now = self.clock()
        self._chat[chat].append(now)
        self._global.append(now)

    def block(self, chat: str, seconds: float) -> None:
        """Telegram said 429 with ``retry_after`` = ``seconds`` for ``chat``."""
        self._blocked[chat] = max(self._blocked.get(chat, 0.0), self.clock() + seconds + RETRY_AFTER_MARGIN)


@dataclass(frozen=True)
class _Rendered:
    """A row's post, rendered from its article file (before the rate-limit wait; checked again after it)."""

    post: Post
    link: str
    #: the article's content hash when it was rendered (recorded with the message)
    content_hash: str


class _Counters:
    def __init__(self) -> None:
        self.sent: collections.Counter = collections.Counter()
        self.failed: collections.Counter = collections.Counter()
        self.last_sent_at = 0.0


class Sender:
    """Drains the outbox in a background thread. ``start()``, ``wake()``, ``reload()``, ``stop()``.

    ``window`` is the length of Telegram's per-chat minute in seconds (and
    the bot's second is ``window / 60``): tests and the benchmark scale time
    down with it. ``backoff`` is the first retry delay after a failure.
    """

    def __init__(self, config: Config, state_path: Path, *, window: float = MINUTE, backoff: float = BACKOFF_BASE,
                 clock=time.monotonic):  # fmt: skip
        self.config = config
        self.state_path = Path(state_path)
        self.window = window
        self.backoff = backoff
        self.clock = clock
        self.counters_ = _Counters()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._events: dict[str, asyncio.Event] = {}
        self._stopping = threading.Event()
        self._ready = threading.Event()
        self._reloaded = False
        self._grace = 4.0
        self._idle_channels: set[str] = set()
        self.dry_run = False
        #: set while every channel's queue is empty or paused
        self.idle = threading.Event()

    # -- thread control ----------------------------------------------------

    def start(self) -> "Sender":
        guard_logs()
        # PTB's own RetryAfter.__init__ reads its deprecated int attribute: not ours to act on
        warnings.filterwarnings("ignore", message=r".*`retry_after`.*", category=PTBDeprecationWarning)
        self._thread = threading.Thread(target=self._thread_main, name="feeder-telegram", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        return self

    def wake(self) -> None:
        """New work may be in the outbox (or stop/reload was asked): every channel looks now."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(self._set_events)
            except RuntimeError:  # the loop closed meanwhile
                pass

    def _set_events(self) -> None:
        for event in self._events.values():
            event.set()

    def reload(self, config: Config) -> None:
        self.config = config
        self._reloaded = True
        self.wake()

    def stop(self, timeout: float = 5.0) -> None:
        """Take no new post; let a request in flight finish and be recorded (most of ``timeout``); close."""
        self._grace = max(0.2, timeout - 1.0)
        self._stopping.set()
        self.wake()
        if self._thread is not None:
            self._thread.join(timeout)

    def status_line(self) -> str:
        c = self.counters_
        mode = "dry run" if self.dry_run else "telegram"
        return f"{mode}: {sum(c.sent.values())} posts sent, {sum(c.failed.values())} failed attempts"

    def counters(self) -> dict:
        counts: dict = {"sent": dict(self.counters_.sent), "failed": dict(self.counters_.failed), "dead": {}, "pending": {}}
        try:
            with Store(self.state_path, readonly=True) as store:
                for channel, states in store.outbox_counts().items():
                    counts["dead"][channel] = states.get("dead", 0)
                    counts["pending"][channel] = states.get("pending", 0) + states.get("sending", 0)
        except FeederError:
            pass
        counts["last_sent_at"] = self.counters_.last_sent_at
        return counts

    # -- the loop ----------------------------------------------------------

    def _thread_main(self) -> None:
        try:
            asyncio.run(self._main())
        except Exception:
            log.exception("the Telegram sender stopped")
        finally:
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        main_event = self._events.setdefault("", asyncio.Event())
        store = Store(self.state_path)
        store.set_busy_timeout(DB_BUSY_WAIT)
        try:
            await self._write(store, lambda: [store.set_paused(c, None) for c in list(store.paused_channels())])  # a start reads the config afresh
            try:
                token = resolve_token(self.config.telegram)
            except TokenError as e:
                log.error("%s; Telegram posting is off", e)
                return
            if token is None:
                self.dry_run = True
                log.warning("no Telegram token: dry run, posts are logged and written to %s", self.state_path.parent / DRY_RUN_FILE)
                self._ready.set()
                await self._run(store, None)
                return
            t = self.config.telegram
            request = HTTPXRequest(
                connection_pool_size=max(8, len(self.config.channels) + 2),
                connect_timeout=t.connect_timeout,
                read_timeout=t.read_timeout,
                write_timeout=t.write_timeout,
                media_write_timeout=t.write_timeout,
                pool_timeout=t.connect_timeout,
            )
            bot = Bot(token, base_url=t.base_url, base_file_url=t.base_file_url, request=request)
            self._ready.set()
            if not await self._initialize(bot, main_event):
                return
            try:
                await self._run(store, bot)
            finally:
                await bot.shutdown()
        finally:
            store.close()
            self._ready.set()

    async def _initialize(self, bot: Bot, event: asyncio.Event) -> bool:
        delay = 1.0
        while not self._stopping.is_set():
            try:
                await bot.initialize()
                log.info("Telegram: signed in as @%s", bot.username)
                return True
            except InvalidToken:
                log.error("the Telegram bot token was refused (InvalidToken); Telegram posting is off until it is fixed and feeder restarted")
                return False
            except TelegramError as e:
                log.warning("Telegram: cannot reach the Bot API (%s); trying again in %.0f s", e.message, delay)
                await self._nap(event, delay)
                delay = min(delay * 2, 60)
        return False

    async def _nap(self, event: asyncio.Event, seconds: float) -> bool:
        """Sleep ``seconds`` or until woken (new work, reload, stop); False when stopping."""
        if self._stopping.is_set():
            return False
        try:
            await asyncio.wait_for(event.wait(), timeout=max(0.0, seconds))
        except asyncio.TimeoutError:
            pass
        event.clear()
        return not self._stopping.is_set()

    async def _run(self, store: Store, bot: Bot | None) -> None:
        t = self.config.telegram
        limiter = RateLimiter(t.per_chat_interval, t.per_chat_per_minute, self.window, t.global_per_second,
                              self.window / MINUTE * SECOND, self.clock)  # fmt: skip
        tasks: dict[str, asyncio.Task] = {}
        main_event = self._events[""]
        while not self._stopping.is_set():
            if self._reloaded:
                self._reloaded = False
                paused = list(store.paused_channels())
                if await self._write(store, lambda: [store.set_paused(name, None) for name in paused]):
                    for name in paused:
                        log.info("channel %s: resumed after the config reload", name)
            channels = {c.name for c in self.config.channels}
            for name, task in list(tasks.items()):
                if task.done():
                    if not task.cancelled() and task.exception() is not None:
                        log.error("channel %s: the sending task failed: %r; starting it again", name, task.exception())
                    del tasks[name]
                elif name not in channels:
                    task.cancel()
                    del tasks[name]
            for name in channels - tasks.keys():
                self._events.setdefault(name, asyncio.Event())
                tasks[name] = asyncio.create_task(self._drain(store, bot, limiter, name), name=f"channel {name}")
            await self._nap(main_event, 5.0)
        # stopping: the channels take no new row; a request in flight may finish and be recorded
        if tasks:
            _, pending = await asyncio.wait(list(tasks.values()), timeout=self._grace)
            for task in pending:
                task.cancel()
            if pending:
                log.warning("stopped with %d request(s) in flight; their posts are sent again at the next start", len(pending))
                await asyncio.wait(pending, timeout=1.0)

    def _channel(self, name: str) -> ChannelConfig | None:
        return next((c for c in self.config.channels if c.name == name), None)

    def _set_idle(self, name: str, idle: bool) -> None:
        if idle:
            self._idle_channels.add(name)
        else:
            self._idle_channels.discard(name)
        if {c.name for c in self.config.channels} <= self._idle_channels:
            self.idle.set()
        else:
            self.idle.clear()

    async def _drain(self, store: Store, bot: Bot | None, limiter: RateLimiter, name: str) -> None:
        event = self._events[name]
        while not self._stopping.is_set():
            channel = self._channel(name)
            if channel is None:
                return
            if not store.channel_ready(name) or name in store.paused_channels():
                self._set_idle(name, True)
                await self._nap(event, POLL)
                continue
            row = store.next_in_queue(name)
            if row is None:
                self._set_idle(name, True)
                await self._nap(event, POLL)
                continue
            self._set_idle(name, False)
            if row["not_before"]:
                wait = (datetime.fromisoformat(row["not_before"]) - _now()).total_seconds()
                if wait > 0:
                    await self._nap(event, min(wait, POLL))
                    continue
            if row["attempts"] >= self.config.telegram.max_attempts:  # e.g. max_attempts lowered since
                await self._dead(store, row["id"], name, row["path"], f"gave up after {row['attempts']} attempts")
                continue
            if bot is None:
                await self._dry_run(store, channel, row)
                continue
            rendered = None
            if row["action"] != "delete":  # rendered while the rate limit is waited out
                rendered = await self._render(store, channel, row)
                if rendered is None:
                    continue
            while (delay := limiter.delay(channel.chat)) > 0:
                if not await self._nap(event, delay):
                    return
            if rendered is not None and (store.content_hash(row["path"]) or row["content_hash"]) != rendered.content_hash:
                continue  # the article changed meanwhile: render it again
            claimed: list[bool] = []
            if self._stopping.is_set() or not await self._write(store, lambda: claimed.append(store.mark_sending(row["id"]))):
                return
            if not claimed[-1]:
                continue  # cancelled while it waited (the article was deleted)
            limiter.begin(channel.chat)
            try:
                await self._deliver(store, bot, limiter, channel, row, rendered)
            finally:
                limiter.end(channel.chat)  # if an error came before the answer

    # -- one row -----------------------------------------------------------

    async def _render(self, store: Store, channel: ChannelConfig, row: dict) -> _Rendered | None:
        """The row's post from the article file as it is now; None when the row was dealt with (gone, unreadable)."""
        name, path, row_id = channel.name, row["path"], row["id"]
        # the hash before the file: if the file changes meanwhile, the recorded hash is the older one,
        # and the next change edits the message (never the other way round)
        content_hash = store.content_hash(path) or row["content_hash"]
        try:
            entry = read_entry(self.config, path, Rules.from_config(self.config))
        except FileNotFoundError:
            await self._write(store, lambda: store.mark_done(row_id, "cancelled", _now(), "the article file is gone"))
            return None
        except (OSError, ArticleError) as e:
            error = f"cannot read the article: {e}"
        else:
            return _Rendered(build_post(entry, channel), entry.link, content_hash)
        claimed: list[bool] = []
        if await self._write(store, lambda: claimed.append(store.mark_sending(row_id))) and claimed[-1]:  # counts as an attempt
            await self._retry(store, row_id, row["attempts"] + 1, name, path, error)
        return None

    async def _deliver(self, store: Store, bot: Bot, limiter: RateLimiter, channel: ChannelConfig, row: dict, rendered: _Rendered | None) -> None:
        name, path, row_id = channel.name, row["path"], row["id"]
        attempts = row["attempts"] + 1
        try:
            if row["action"] == "delete" or rendered is None:
                await self._delete(store, bot, limiter, channel, row)
                return
            if row["action"] == "edit":
                await self._edit(store, bot, limiter, channel, row, rendered.post, rendered.content_hash)
                return
            try:
                message, kind = await self._send(bot, channel, rendered.post, rendered.link, name, path)
            finally:
                limiter.end(channel.chat)  # the answer is in: the limits count from here, not from our bookkeeping

            def record() -> None:
                store.mark_done(row_id, "sent", _now())
                store.put_message(name, path, channel.chat, message.message_id, kind, rendered.content_hash, _now())

            await self._write(store, record, must=True)
            self.counters_.sent[name] += 1
            self.counters_.last_sent_at = time.time()
            log.info("channel %s: posted %s (message %d)", name, path, message.message_id)
        except RetryAfter as e:
            seconds = _retry_after(e)
            limiter.block(channel.chat, seconds)
            await self._write(store, lambda: store.refund_attempt(row_id))
            self.counters_.failed[name] += 1
            log.warning("channel %s: Telegram asks to wait %g s (flood control); this chat waits, others go on", name, seconds)
        except ChatMigrated as e:
            await self._pause(store, row_id, name, f'the chat moved to {e.new_chat_id}; set chat = "{e.new_chat_id}" and reload')
        except Forbidden as e:
            await self._pause(store, row_id, name, f"Telegram refuses: {e.message}")
        except InvalidToken:
            await self._pause(store, row_id, name, "the bot token was refused (InvalidToken)")
        except BadRequest as e:
            if "chat not found" in e.message.lower():
                await self._pause(store, row_id, name, f"Telegram says: {e.message}")
            else:
                self.counters_.failed[name] += 1
                await self._dead(store, row_id, name, path, f"Telegram refused it: {e.message}")
        except NetworkError as e:  # TimedOut, 5xx, dropped connections
            await self._retry(store, row_id, attempts, name, path, f"{type(e).__name__}: {e.message}")
        except Exception as e:  # never let one post stop the channel
            log.exception("channel %s: %s: unexpected error", name, path)
            await self._retry(store, row_id, attempts, name, path, f"{type(e).__name__}: {e}")

    async def _send(self, bot: Bot, channel: ChannelConfig, post: Post, link: str, name: str, path: str):
        """Send a post; returns (message, 'photo' | 'text'). Falls back as the failures call for."""
        if not post.photo:
            return await self._send_text(bot, channel, post, name, path), "text"
        try:
            return await self._send_photo(bot, channel, post, post.photo, name, path), "photo"
        except BadRequest as e:
            if not _photo_error(e):
                raise
            log.warning("channel %s: %s: Telegram cannot fetch the picture %s (%s); fetching it here", name, path, post.photo, e.message)
        data = await self._fetch_image(post.photo, link)
        if data is not None:
            try:
                return await self._send_photo(bot, channel, post, InputFile(data, filename="picture"), name, path), "photo"
            except BadRequest as e:
                if not _photo_error(e):
                    raise
                log.warning("channel %s: %s: the picture was refused as an upload too (%s); sending the post as text", name, path, e.message)
        return await self._send_text(bot, channel, _text_version(post), name, path), "text"

    async def _send_photo(self, bot: Bot, channel: ChannelConfig, post: Post, photo, name: str, path: str):
        try:
            return await bot.send_photo(
                chat_id=channel.chat, photo=photo, caption=post.text, parse_mode=ParseMode.HTML, disable_notification=channel.silent
            )
        except BadRequest as e:
            if CANT_PARSE not in e.message.lower():
                raise
            _log_parse_bug(name, path, e)
            return await bot.send_photo(chat_id=channel.chat, photo=photo, caption=to_plain(post.text), disable_notification=channel.silent)

    async def _send_text(self, bot: Bot, channel: ChannelConfig, post: Post, name: str, path: str):
        options = _preview_options(post)
        try:
            return await bot.send_message(
                chat_id=channel.chat, text=post.text, parse_mode=ParseMode.HTML, disable_notification=channel.silent, link_preview_options=options
            )
        except BadRequest as e:
            if CANT_PARSE not in e.message.lower():
                raise
            _log_parse_bug(name, path, e)
            return await bot.send_message(chat_id=channel.chat, text=to_plain(post.text), disable_notification=channel.silent, link_preview_options=options)

    async def _fetch_image(self, url: str, link: str) -> bytes | None:
        """Download a picture Telegram could not fetch, within the size limit.

        Image hosts that refuse hotlinking want a Referer: the article's page
        first, then the image host's own front page.
        """
        parts = urlsplit(url)
        for referer in dict.fromkeys((link, f"{parts.scheme}://{parts.netloc}/")):
            data = await self._fetch_with(url, referer)
            if data is not None:
                return data
        return None

    async def _fetch_with(self, url: str, referer: str) -> bytes | None:
        limit = self.config.telegram.max_photo_bytes
        headers = {"Referer": referer, "User-Agent": "Mozilla/5.0 (compatible; feeder)"}
        try:
            async with httpx.AsyncClient(follow_redirects=True, timeout=self.config.telegram.read_timeout, headers=headers) as client:
                async with client.stream("GET", url) as resp:
                    kind = resp.headers.get("content-type", "")
                    if resp.status_code != 200 or not kind.startswith("image/"):
                        log.warning("picture %s (Referer %s): HTTP %d, %s", url, referer, resp.status_code, kind or "no content type")
                        return None
                    if int(resp.headers.get("content-length", "0") or 0) > limit:
                        log.warning("picture %s: larger than %d bytes", url, limit)
                        return None
                    chunks, size = [], 0
                    async for chunk in resp.aiter_bytes():
                        size += len(chunk)
                        if size > limit:
                            log.warning("picture %s: larger than %d bytes", url, limit)
                            return None
                        chunks.append(chunk)
                    return b"".join(chunks) or None
        except (httpx.HTTPError, ValueError) as e:
            log.warning("picture %s: cannot fetch: %s", url, type(e).__name__)
            return None

    async def _edit(self, store: Store, bot: Bot, limiter: RateLimiter, channel: ChannelConfig, row: dict, post: Post, current_hash: str) -> None:
        name, path = channel.name, row["path"]
        sent = store.message(name, path)
        if sent is None or sent["kind"] == DRY_RUN_KIND:
            await self._write(store, lambda: store.mark_done(row["id"], "cancelled", _now(), "no message to edit"))
            return
        chat, message_id = sent["chat"], sent["message_id"]
        try:
            if sent["kind"] == "photo" and post.photo:
                try:  # the picture may have changed too
                    await bot.edit_message_media(
                        chat_id=chat, message_id=message_id, media=InputMediaPhoto(post.photo, caption=post.text, parse_mode=ParseMode.HTML)
                    )
                except BadRequest as e:
                    if not _photo_error(e):
                        raise
                    await bot.edit_message_caption(chat_id=chat, message_id=message_id, caption=post.text, parse_mode=ParseMode.HTML)
            elif sent["kind"] == "photo":
                await bot.edit_message_caption(chat_id=chat, message_id=message_id, caption=post.text, parse_mode=ParseMode.HTML)
            else:
                await bot.edit_message_text(
                    chat_id=chat, message_id=message_id, text=post.text, parse_mode=ParseMode.HTML, link_preview_options=_preview_options(post)
                )
        except BadRequest as e:
            text = e.message.lower()
            if "message is not modified" not in text and "message to edit not found" not in text:
                raise
        finally:
            limiter.end(channel.chat)

        def record() -> None:
            store.mark_done(row["id"], "sent", _now())
            store.put_message(name, path, chat, message_id, sent["kind"], current_hash, _now())

        await self._write(store, record, must=True)
        self.counters_.sent[name] += 1
        log.info("channel %s: edited message %d for %s", name, message_id, path)

    async def _delete(self, store: Store, bot: Bot, limiter: RateLimiter, channel: ChannelConfig, row: dict) -> None:
        sent = store.message(channel.name, row["path"])
        if sent is not None and sent["kind"] != DRY_RUN_KIND:
            try:
                await bot.delete_message(chat_id=sent["chat"], message_id=sent["message_id"])
            except BadRequest as e:
                if "not found" not in e.message.lower() and "can't be deleted" not in e.message.lower():
                    raise
            finally:
                limiter.end(channel.chat)
        def record() -> None:
            store.mark_done(row["id"], "sent", _now())
            store.drop_message(channel.name, row["path"])

        await self._write(store, record, must=True)
        log.info("channel %s: deleted the message for %s", channel.name, row["path"])

    async def _write(self, store: Store, work, *, must: bool = False) -> bool:
        """Run ``work`` in one write transaction, without holding up the event loop.

        While the pass loop holds the state file's write lock (a long scan or
        publish), each try waits DB_BUSY_WAIT and gives the loop back; the
        other channels go on meanwhile. Returns False if stopping first;
        ``must`` (recording what Telegram accepted) tries until it lands.
        """
        pause = DB_BUSY_WAIT
        while True:
            try:
                with store.transaction():
                    work()
                return True
            except sqlite3.OperationalError as e:
                if "locked" not in str(e) and "busy" not in str(e):
                    raise
            if self._stopping.is_set() and not must:
                return False
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.5)

    async def _retry(self, store: Store, row_id: int, attempts: int, name: str, path: str, error: str) -> None:
        self.counters_.failed[name] += 1
        if attempts >= self.config.telegram.max_attempts:
            await self._dead(store, row_id, name, path, f"gave up after {attempts} attempts; last: {error}")
            return
        delay = min(BACKOFF_CAP, self.backoff * 2 ** (attempts - 1)) * random.uniform(0.5, 1.5)
        await self._write(store, lambda: store.mark_retry(row_id, _now() + timedelta(seconds=delay), logs.REDACTOR.redact(error)))
        log.warning("channel %s: %s: %s; attempt %d, retrying in %.1f s", name, path, error, attempts, delay)

    async def _dead(self, store: Store, row_id: int, name: str, path: str, error: str) -> None:
        await self._write(store, lambda: store.mark_done(row_id, "dead", _now(), logs.REDACTOR.redact(error)))
        log.error("channel %s: %s: %s; the post is dead (`feeder status` lists it, `feeder retry` queues it again)", name, path, error)

    async def _pause(self, store: Store, row_id: int, name: str, reason: str) -> None:
        def record() -> None:
            store.refund_attempt(row_id)
            store.set_paused(name, logs.REDACTOR.redact(reason))

        await self._write(store, record)
        self.counters_.failed[name] += 1
        log.error("channel %s: PAUSED: %s. Its queue is kept; fix it and reload the config (systemctl reload feeder).", name, reason)

    async def _dry_run(self, store: Store, channel: ChannelConfig, row: dict) -> None:
        try:
            entry = read_entry(self.config, row["path"], Rules.from_config(self.config)) if row["action"] != "delete" else None
        except (OSError, ArticleError) as e:
            error = str(e)
            await self._write(store, lambda: store.mark_done(row["id"], "cancelled", _now(), error))
            return
        post = build_post(entry, channel) if entry is not None else None
        record = {
            "time": _now().isoformat(),
            "channel": channel.name,
            "chat": channel.chat,
            "action": row["action"],
            "path": row["path"],
            "text": post.text if post else None,
            "photo": post.photo if post else None,
        }
        with open(self.state_path.parent / DRY_RUN_FILE, "a", encoding="utf-8") as f:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")

        def done() -> None:
            store.mark_done(row["id"], "dry_run", _now())
            if row["action"] == "delete":
                store.drop_message(channel.name, row["path"])
            else:  # as if sent: a later change is an edit, not a new post
                chash = store.content_hash(row["path"]) or row["content_hash"]
                store.put_message(channel.name, row["path"], channel.chat, 0, DRY_RUN_KIND, chash, _now())

        await self._write(store, done, must=True)
        self.counters_.sent[channel.name] += 1
        first = post.text.splitlines()[0] if post and post.text else ""
        log.info("dry run: would %s to %s: %s", row["action"], channel.chat, first[:120])


def _text_version(post: Post) -> Post:
    """The post as text, for when its picture cannot be sent."""
    return Post(text=post.text, photo=None, preview_url=None, show_preview=False)


def _preview_options(post: Post) -> LinkPreviewOptions:
    if post.preview_url:
        return LinkPreviewOptions(is_disabled=not post.show_preview, url=post.preview_url)
    return LinkPreviewOptions(is_disabled=not post.show_preview)


def _photo_error(e: BadRequest) -> bool:
    text = e.message.lower()
    return any(err in text for err in PHOTO_URL_ERRORS)


def _log_parse_bug(name: str, path: str, e: BadRequest) -> None:
    log.error("channel %s: %s: BUG: Telegram could not parse our HTML (%s); sent as plain text", name, path, e.message)


def _retry_after(e: RetryAfter) -> float:
    # PTB 22.2+ keeps a timedelta; the public attribute warns (deprecated int) unless PTB_TIMEDELTA is set
    value = getattr(e, "_retry_after", None)
    if not isinstance(value, timedelta):
        value = e.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _now() -> datetime:
    return datetime.now(timezone.utc)
