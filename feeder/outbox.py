"""Which article goes to which Telegram channel, and the outbox rows that say so.

The :class:`Router` is told of every article change inside the transaction
that records it (see ``build.Pipeline``), so an outbox row exists exactly
when its article does: a crash loses nothing. A channel seen for the first
time is filled from the back catalogue with only the articles newer than
``[backfill] max_age_hours``, at most ``max_posts`` of them, never a flood.

Filters are simple globs (``fnmatch``: ``*``, ``?``, ``[...]``), matched
case-insensitively; no user regex that could run away.
"""

from __future__ import annotations

import fnmatch
import logging
import zoneinfo
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

from feeder.config import ChannelConfig, Config
from feeder.derive import Rules, derive
from feeder.model import Article, Entry
from feeder.read import parse_article
from feeder.store import Store
from feeder.telegram_format import (
    DEFAULT_TEMPLATE,
    Post,
    PostSource,
    PostStyle,
    render_post,
)

log = logging.getLogger("feeder.telegram")


def _matches(patterns: tuple[str, ...], values: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(v.casefold(), p.casefold()) for p in patterns for v in values)


def wants(channel: ChannelConfig, categories: tuple[str, ...], author: str) -> bool:
    """Whether a channel takes an article with these categories and author. Pure."""
    if channel.categories and not _matches(channel.categories, categories):
        return False
    if channel.exclude_categories and _matches(channel.exclude_categories, categories):
        return False
    authors = (author,) if author else ()
    if channel.authors and not _matches(channel.authors, authors):
        return False
    if channel.exclude_authors and _matches(channel.exclude_authors, authors):
        return False
    return True


def style_of(channel: ChannelConfig) -> PostStyle:
    return PostStyle(template=channel.template or DEFAULT_TEMPLATE, photo_mode=channel.photo_mode, link_preview=channel.link_preview)


def source_of(entry: Entry) -> PostSource:
    return PostSource(
        title=entry.title,
        summary=entry.summary,
        link=entry.link,
        categories=entry.categories,
        author=entry.author,
        image=entry.thumbnail,
    )


def build_post(entry: Entry, channel: ChannelConfig) -> Post:
    return render_post(source_of(entry), style_of(channel))


def read_entry(config: Config, path: str, rules: Rules | None = None) -> Entry:
    """Read and derive one article by its path under the seeds folder (raises OSError, ArticleError)."""
    file = Path(config.paths.seeds) / path
    data = file.read_bytes()
    mtime = datetime.fromtimestamp(file.stat().st_mtime, timezone.utc)
    article = parse_article(path, data, mtime, zoneinfo.ZoneInfo(config.site.timezone))
    return derive(article, rules or Rules.from_config(config))


class Router:
    """Writes outbox rows for the channels that want an article (inside the caller's transaction).

    What a change means for a channel (decided from the store, written to the outbox):

    * a new article the channel wants: a post;
    * a changed article already posted: an edit, nothing or a new post (``telegram.on_change``);
      not posted yet: the queued post sends the file as it is then (an edit
      follows a post already in flight); never queued (it did not match, or
      it was left out by the first start's backfill): a post if it matches
      now and is recent (newer than ``backfill.max_age_hours``), so that
      editing old articles never floods a channel;
    * a deleted article: its queued posts are cancelled, and with
      ``telegram.delete_removed`` its message is deleted.
    """

    def __init__(self, config: Config, on_queued: Callable[[], None] | None = None):
        self.config = config
        self.channels = config.channels
        #: called once a scan's rows are committed, if it queued any (the service wakes the sender)
        self.on_queued = on_queued
        self._ready: set[str] = set()
        self._queued = False

    def _enqueue(self, store: Store, channel: str, path: str, action: str, content_hash: str, now: datetime) -> None:
        store.enqueue(channel, path, action, content_hash, now)
        self._queued = True

    def _is_ready(self, store: Store, name: str) -> bool:
        if name not in self._ready and store.channel_ready(name):
            self._ready.add(name)
        return name in self._ready

    def article_changed(self, store: Store, action: str, path: str, article: Article | None, now: datetime) -> None:
        for channel in self.channels:
            if not self._is_ready(store, channel.name):
                continue  # its first fill (backfill) decides what it gets
            if action == "new" and article is not None:
                if store.message(channel.name, path) is not None:
                    self._changed(store, channel, path, article, now)  # deleted and written again: one message still
                elif wants(channel, article.categories, article.author):
                    self._enqueue(store, channel.name, path, "post", article.content_hash, now)
            elif action == "changed" and article is not None:
                self._changed(store, channel, path, article, now)
            elif action == "deleted":
                self._deleted(store, channel, path, now)

    def _changed(self, store: Store, channel: ChannelConfig, path: str, article: Article, now: datetime) -> None:
        name = channel.name
        open_rows = store.open_rows(name, path)
        sent = store.message(name, path)
        mode = self.config.telegram.on_change
        if sent is not None:
            if sent["content_hash"] == article.content_hash or mode == "ignore":
                return
            action = "edit" if mode == "edit" else "post"
            if (action, "pending") not in open_rows:  # a queued one renders the file as it is when sent
                self._enqueue(store, name, path, action, article.content_hash, now)
            return
        if ("post", "sending") in open_rows:
            # in flight: it may carry the old text; an edit after it makes sure
            if mode == "edit" and ("edit", "pending") not in open_rows:
                self._enqueue(store, name, path, "edit", article.content_hash, now)
            return
        if any(a == "post" for a, _ in open_rows):
            return  # queued (sends the file as it is then) or dead (`feeder retry`)
        recent = article.date >= now - timedelta(hours=self.config.backfill.max_age_hours)
        if recent and wants(channel, article.categories, article.author):
            self._enqueue(store, name, path, "post", article.content_hash, now)

    def _deleted(self, store: Store, channel: ChannelConfig, path: str, now: datetime) -> None:
        in_flight = ("post", "sending") in store.open_rows(channel.name, path)
        store.cancel_pending(channel.name, path, now)
        if self.config.telegram.delete_removed and (in_flight or store.message(channel.name, path) is not None):
            self._enqueue(store, channel.name, path, "delete", "", now)

    def prepare(self, store: Store, now: datetime) -> None:
        """Give every channel seen for the first time its back catalogue: recent articles only, a few.

        Called after the scan's transactions committed: ``on_queued`` is told here.
        """
        b = self.config.backfill
        since = now - timedelta(hours=b.max_age_hours)
        for channel in self.channels:
            if self._is_ready(store, channel.name):
                continue
            candidates = [m for m in store.metas_since(since) if wants(channel, m.categories, m.author)]
            candidates.sort(key=lambda m: (m.date, m.path), reverse=True)
            chosen = candidates[: b.max_posts]
            with store.transaction():
                for meta in reversed(chosen):  # oldest first, so the channel reads in order
                    self._enqueue(store, channel.name, meta.path, "post", store.content_hash(meta.path) or "", now)
                store.set_channel_ready(channel.name, total=store.article_count(), queued=len(chosen), now=now)
            self._ready.add(channel.name)
            log.info(
                "channel %s: first start, %d recent articles queued, the back catalogue (%d older or over max_posts) is not sent",
                channel.name, len(chosen), store.article_count() - len(chosen),
            )  # fmt: skip
        if self._queued and self.on_queued is not None:
            self.on_queued()
        self._queued = False


def preview(config: Config, path: Path) -> Iterator[tuple[ChannelConfig, Post]]:
    """The post an article file makes for each channel that takes it (for ``feeder preview``)."""
    seeds = Path(config.paths.seeds).resolve()
    full = path.resolve()
    rel = full.relative_to(seeds).as_posix() if seeds in full.parents else full.name
    data = full.read_bytes()
    mtime = datetime.fromtimestamp(full.stat().st_mtime, timezone.utc)
    article = parse_article(rel, data, mtime, zoneinfo.ZoneInfo(config.site.timezone))
    entry = derive(article, Rules.from_config(config))
    for channel in config.channels:
        if wants(channel, article.categories, article.author):
            yield channel, build_post(entry, channel)

