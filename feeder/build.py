"""One pass of the pipeline: scan -> read -> record -> select -> derive -> render -> write.

:class:`Pipeline` is shared by ``feeder build`` (one pass) and ``feeder run``
(a pass on every change). It keeps the feed index in memory between passes
so a change touches only the feeds it is in, and the store caches every
derived entry by content hash, so unchanged work is never done twice.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import time
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Protocol
from urllib.parse import quote

from feeder import output, scan, workers
from feeder.config import Config
from feeder.derive import Rules, derive
from feeder.errors import ArticleError, OutputPathError
from feeder.model import Article, Entry, SourceFile
from feeder.read import parse_article
from feeder.render import FILE_NAMES, Channel, render, render_opml
from feeder.select import SITE_KEY, FeedIndex, Meta
from feeder.store import Known, Store

log = logging.getLogger("feeder")

OPML_NAME = "feeds.opml"
#: derived entries and written feeds are committed this many at a time
COMMIT_EVERY = 100
#: a scan reads and records this many files per transaction
BATCH = 2000

Progress = Callable[[str, int, int], None]


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Router(Protocol):
    """Told of every article change inside the transaction that records it (the Telegram outbox)."""

    def article_changed(self, store: Store, action: str, path: str, article: Article | None, now: datetime) -> None: ...

    def prepare(self, store: Store, now: datetime) -> None: ...


@dataclass
class ScanReport:
    """What one scan did."""

    seen: int = 0
    read: int = 0
    new: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    #: (path, 'line N: reason' or reason) of files that could not be used
    skipped: list[tuple[str, str]] = field(default_factory=list)
    #: (path, warning) of files used after a recovery
    warnings: list[tuple[str, str]] = field(default_factory=list)
    unsettled: list[str] = field(default_factory=list)
    #: keys of the feeds the changes touch
    touched: set[str] = field(default_factory=set)
    seconds: float = 0.0


@dataclass
class PublishReport:
    feeds: int = 0
    written: list[str] = field(default_factory=list)
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)
    seconds: float = 0.0


class Pipeline:
    """The feed pipeline over one config and one store."""

    def __init__(
        self,
        config: Config,
        store: Store,
        clock: Callable[[], datetime] = utcnow,
        router: Router | None = None,
    ):
        self.config = config
        self.store = store
        self.clock = clock
        self.router = router
        self.tz = zoneinfo.ZoneInfo(config.site.timezone)
        self.seeds = Path(config.paths.seeds)
        self.output = Path(config.paths.output)
        c = config
        self.rules = Rules.from_config(config)
        self.rules_key = _digest(
            [c.site.base_url, c.feeds.permalink, c.feeds.summary_length, c.content.model_dump(mode="json"), c.site.timezone]
        )
        # everything that shapes a feed file besides its entries
        self.render_key = _digest(
            [self.rules_key, c.feeds.formats, c.feeds.limit, self.config.feeds_url, c.site.model_dump(mode="json"), _code_version()]
        )
        self._index: FeedIndex | None = None
        self._known: dict[str, Known] | None = None
        #: files still being written when last looked at: path -> mtime_ns
        self._unsettled: dict[str, int] = {}
        self._settle_ns = 0

    # -- scan ---------------------------------------------------------------

    @property
    def index(self) -> FeedIndex:
        if self._index is None:
            index = FeedIndex(self.config.feeds.per_category, self.config.feeds.per_author)
            for meta in self.store.metas():
                index.add(meta)
            self._index = index
        return self._index

    @property
    def known(self) -> dict[str, Known]:
        """What the store knows of every file (stat, hash), kept in memory and up to date."""
        if self._known is None:
            self._known = self.store.known_files()
        return self._known

    def scan(self, settle: float = 0.0, progress: Progress | None = None, only: set[str] | None = None) -> ScanReport:
        """Look at the seeds folder, read what changed, record it. Never raises for an article.

        ``only``: relative paths (files or folders) the watcher saw change; look
        at those alone instead of walking the whole folder.
        """
        started = time.perf_counter()
        report = ScanReport()
        if not self.seeds.is_dir():
            # an unmounted or moved folder is not "every article deleted": change nothing
            log.error("seeds folder %s is missing; feeds and outbox stay as they are until it is back", self.seeds)
            report.seconds = time.perf_counter() - started
            return report
        known = self.known
        if only is None:
            on_disk = scan.walk(self.seeds)
            scope = None
            covered: set[str] | None = None
        else:
            on_disk, folders = scan.stat_paths(self.seeds, only)
            scope = {p for p in only if p.endswith(scan.SUFFIX)}
            for folder in folders:  # a folder moved away or deleted takes its files with it
                prefix = folder.rstrip("/") + "/"
                scope.update(p for p in known if p.startswith(prefix))
            covered = set(only) | scope | set(on_disk)
        report.seen = len(on_disk)
        now = self.clock()
        settle_ns = int(settle * 1e9)
        d = scan.diff(on_disk, known, time.time_ns(), settle_ns, scope)
        self._track_unsettled(d.unsettled, covered, settle_ns)
        report.unsettled = [f.path for f in d.unsettled]
        total = len(d.changed)
        reader = _Reader(self.seeds, self.tz)
        jobs = [(f, known.get(f.path)) for f in d.changed]
        results = iter(workers.pmap(reader, jobs))
        for start in range(0, total, BATCH):
            batch = jobs[start : start + BATCH]
            # oldest first, so the outbox queues a burst of new articles in date order
            recorded = sorted(zip(batch, itertools.islice(results, len(batch)), strict=True), key=_by_date)
            with self.store.transaction():
                for (f, k), result in recorded:
                    self._record(f, result, k, now, report)
            if progress:
                progress("reading", min(start + BATCH, total), total)
        if d.deleted:
            with self.store.transaction():
                for path in d.deleted:
                    self._delete(path, now, report)
        if self.router is not None:
            self.router.prepare(self.store, now)
        report.seconds = time.perf_counter() - started
        return report

    def _track_unsettled(self, unsettled: list[SourceFile], covered: set[str] | None, settle_ns: int) -> None:
        """Remember every file still being written, across scans, until a scan finds it settled."""
        if covered is None:
            self._unsettled.clear()
        else:
            for path in covered & self._unsettled.keys():
                del self._unsettled[path]
        for f in unsettled:
            self._unsettled[f.path] = f.mtime_ns
        self._settle_ns = settle_ns

    def next_settle(self) -> float | None:
        """When (epoch seconds) the earliest file still being written will have settled; None if none."""
        if not self._unsettled:
            return None
        return (min(self._unsettled.values()) + self._settle_ns) / 1e9

    def settled(self, now: float) -> set[str]:
        """The files waited for whose settle window has passed by ``now`` (epoch seconds)."""
        limit = now * 1e9 - self._settle_ns
        return {path for path, mtime in self._unsettled.items() if mtime <= limit}

    def _record(self, f: SourceFile, result, known: Known | None, now: datetime, report: ScanReport) -> None:
        store = self.store
        if result == "same":
            store.touch_article(f.path, f.size, f.mtime_ns)
            self.known[f.path] = Known(f.size, f.mtime_ns, known.content_hash if known else None, False)
            return
        if isinstance(result, ArticleError):
            store.put_problem(f.path, f.size, f.mtime_ns, result.reason, result.line, now)
            self.known[f.path] = Known(f.size, f.mtime_ns, known.content_hash if known else None, True)
            reason = f"line {result.line}: {result.reason}" if result.line else result.reason
            report.skipped.append((f.path, reason))
            log.warning("skipped %s: %s", result.where(), result.reason)
            return
        article: Article = result
        report.read += 1
        status = store.put_article(article, f.size, f.mtime_ns, now)
        self.known[f.path] = Known(f.size, f.mtime_ns, article.content_hash, False)
        for w in article.warnings:
            report.warnings.append((f.path, w))
            log.warning("%s: %s", f.path, w)
        if status == "same":
            return
        (report.new if status == "new" else report.changed).append(f.path)
        log.info("%s %s", "published" if status == "new" else "changed", f.path)
        report.touched |= self.index.add(Meta(f.path, article.date, article.categories, article.author))
        if self.router is not None:
            self.router.article_changed(store, status, f.path, article, now)

    def _delete(self, path: str, now: datetime, report: ScanReport) -> None:
        self.known.pop(path, None)
        if self.store.delete_article(path):
            report.deleted.append(path)
            log.info("removed %s", path)
            report.touched |= self.index.remove(path)
            if self.router is not None:
                self.router.article_changed(self.store, "deleted", path, None, now)

    def build(self, settle: float = 0.0, progress: Progress | None = None) -> tuple[ScanReport, PublishReport | None]:
        """Scan, then publish what the changes touch; None when nothing needed writing."""
        report = self.scan(settle=settle, progress=progress)
        return report, self.publish_changes(report, progress)

    def publish_changes(self, report: ScanReport, progress: Progress | None = None) -> PublishReport | None:
        """Publish after a scan: the feeds it touched, or every feed when the config that
        shapes them changed or feed files went missing; None when nothing needed writing."""
        current = self.store.fact("render_key") == self.render_key and self.outputs_present()
        if current and not report.touched:
            return None
        published = self.publish(report.touched if current else None, progress=progress)
        with self.store.transaction():
            self.store.set_fact("render_key", self.render_key)
        return published

    def outputs_present(self) -> bool:
        """Every feed file the store says was written is on disk (someone may have wiped the folder)."""
        if not (self.output / OPML_NAME).is_file():
            return False
        for folder, _, _, names in self.store.feed_files().values():
            base = self.output / folder if folder else self.output
            if not all((base / name).is_file() for name in names):
                return False
        return True

    # -- publish ------------------------------------------------------------

    def publish(self, keys: set[str] | None = None, progress: Progress | None = None) -> PublishReport:
        """Write the feeds whose entries changed (``keys``; None: check every feed)."""
        started = time.perf_counter()
        report = PublishReport()
        index = self.index
        previous = self.store.feed_files()
        if keys is None:
            keys = index.keys() | set(previous)
        limit = self.config.feeds.limit
        plans: dict[str, tuple[Channel, list[str], str]] = {}
        live = index.keys()
        tops = {key: index.top(key, limit) for key in keys if key in live}
        versions = self.store.versions({p for top in tops.values() for p in top})
        for key, top in tops.items():
            channel = self._channel(key)
            signature = _digest([self.render_key, channel.spec.title, [(p, *_v(versions.get(p))) for p in top]])
            old = previous.get(key)
            if old and old[2] == signature and self._files_present(channel.spec.folder):
                report.unchanged += 1
                continue
            plans[key] = (channel, top, signature)
        entries = self._entries({p for _, top, _ in plans.values() for p in top}, versions, progress)
        now = self.clock()
        ordered = sorted(plans.items())
        formats = self.config.feeds.formats
        jobs = [(fmt, channel, [entries[p] for p in top if p in entries]) for _, (channel, top, _) in ordered for fmt in formats]
        rendered = iter(workers.pmap(_render_job, jobs, chunksize=8))
        # files are written outside any transaction, and what was written is recorded in
        # short ones: the Telegram sender records its posts in between. A crash in between
        # only means a feed is rendered again, to the same bytes.
        done: list[tuple[str, Channel, str, list[str]]] = []
        for n, (key, (channel, _, signature)) in enumerate(ordered, 1):
            names = []
            for fmt in formats:
                data = next(rendered)
                rel = _join(channel.spec.folder, FILE_NAMES[fmt])
                try:
                    if output.write_if_changed(self.output, rel, data):
                        report.written.append(rel)
                        log.info("wrote %s", rel)
                except OutputPathError as e:
                    log.error("%s", e)
                    continue
                names.append(FILE_NAMES[fmt])
            for stale in set(previous.get(key, ("", "", "", []))[3]) - set(names):
                self._remove(_join(channel.spec.folder, stale), report)
            done.append((key, channel, signature, names))
            if len(done) >= COMMIT_EVERY or n == len(ordered):
                with self.store.transaction():
                    for k, c, sig, written in done:
                        self.store.put_feed(k, c.spec.folder, c.spec.title, sig, written, now)
                done.clear()
            if progress and n % 50 == 0:
                progress("writing", n, len(plans))
        gone = [key for key in keys - set(tops) if key in previous]  # feeds with no article any more
        for key in gone:
            folder, _, _, names = previous[key]
            for name in names:
                self._remove(_join(folder, name), report)
        if gone:
            with self.store.transaction():
                for key in gone:
                    self.store.drop_feed(key)
        report.feeds = len(tops)
        if plans or report.removed or not (self.output / OPML_NAME).exists():
            self._write_opml(report)
        report.seconds = time.perf_counter() - started
        return report

    def _remove(self, rel: str, report: PublishReport) -> None:
        try:
            if output.remove(self.output, rel):
                report.removed.append(rel)
                log.info("removed feed %s", rel)
        except OutputPathError as e:
            log.error("%s", e)

    def _files_present(self, folder: str) -> bool:
        base = self.output / folder if folder else self.output
        return all((base / FILE_NAMES[fmt]).is_file() for fmt in self.config.feeds.formats)

    def _channel(self, key: str) -> Channel:
        spec = self.index.spec(key, self.config.site.title)
        site = self.config.site
        return Channel(
            spec=spec,
            # percent-encoded: an IRI in a feed's self link trips some validators and readers
            url=self.config.feeds_url + (quote(spec.folder) + "/" if spec.folder else ""),
            home=site.base_url,
            description=site.description if key == SITE_KEY else f"{spec.name} — {site.title}",
            language=site.language,
            author=site.author,
        )

    def _entries(self, paths: set[str], versions: dict, progress: Progress | None) -> dict[str, Entry]:
        """The entries for these paths, from the cache or derived now (and cached)."""
        wanted = {p: versions[p][0] for p in paths if p in versions}
        cached = self.store.cached_entries(wanted, self.rules_key)
        out: dict[str, Entry] = {}
        for p, e in cached.items():
            out[p] = _with_updated(e, versions[p][1])
        missing = sorted(set(wanted) - set(cached))
        deriver = _Deriver(self.seeds, self.tz, self.rules)
        derived = zip(missing, workers.pmap(deriver, [(p, versions[p][1]) for p in missing]), strict=True)
        # short transactions: the Telegram sender records its posts in between
        for start in range(0, len(missing), COMMIT_EVERY):
            with self.store.transaction():
                for path, entry in itertools.islice(derived, COMMIT_EVERY):
                    if entry is not None:
                        out[path] = entry
                        self.store.put_entry(entry, wanted[path], self.rules_key)
            if progress:
                progress("deriving", min(start + COMMIT_EVERY, len(missing)), len(missing))
        return out

    def _write_opml(self, report: PublishReport) -> None:
        feeds = []
        live = self.index.keys()
        for key, (_, _, _, names) in sorted(self.store.feed_files().items(), key=lambda kv: (kv[0] != SITE_KEY, kv[0])):
            if key not in live:
                continue
            channel = self._channel(key)
            for fmt in self.config.feeds.formats:
                if FILE_NAMES[fmt] in names:
                    feeds.append((channel, fmt))
        if output.write_if_changed(self.output, OPML_NAME, render_opml(self.config.site.title, feeds)):
            report.written.append(OPML_NAME)


def make_pipeline(
    config: Config, store: Store, clock: Callable[[], datetime] = utcnow, on_queued: Callable[[], None] | None = None
) -> Pipeline:
    """The pipeline for a config: with the Telegram router when channels are configured.

    ``feeder build`` fills the outbox too, so an article first seen by a build
    is still posted by ``feeder run``. ``on_queued`` is called when a scan has
    committed new outbox rows (the service wakes its sender).
    """
    router = None
    if config.channels:
        from feeder.outbox import Router

        router = Router(config, on_queued=on_queued)
    return Pipeline(config, store, clock=clock, router=router)


@dataclass(frozen=True)
class _Reader:
    """Reads one changed file (in a worker process): an Article without its body, an error, or 'same'."""

    seeds: Path
    tz: zoneinfo.ZoneInfo

    def __call__(self, job: tuple[SourceFile, Known | None]) -> Article | ArticleError | str:
        f, known = job
        try:
            data = (self.seeds / f.path).read_bytes()
        except OSError as e:
            return ArticleError(f.path, f"cannot read: {e.strerror or e}")
        if known is not None and not known.problem and known.content_hash == hashlib.sha256(data).hexdigest():
            return "same"
        mtime = datetime.fromtimestamp(f.mtime_ns / 1e9, timezone.utc)
        try:
            return replace(parse_article(f.path, data, mtime, self.tz), body="")
        except ArticleError as e:
            return e
        except Exception as e:  # a bug must not stop the service: report it against the file
            log.exception("%s: unexpected error while reading", f.path)
            return ArticleError(f.path, f"unexpected error: {type(e).__name__}: {e}")


@dataclass(frozen=True)
class _Deriver:
    """Reads and derives one entry (in a worker process); None if the file is gone or unusable."""

    seeds: Path
    tz: zoneinfo.ZoneInfo
    rules: Rules

    def __call__(self, job: tuple[str, datetime]) -> Entry | None:
        path, updated = job
        file = self.seeds / path
        try:
            data = file.read_bytes()
            mtime = datetime.fromtimestamp(file.stat().st_mtime, timezone.utc)
            return derive(parse_article(path, data, mtime, self.tz), self.rules, updated=updated)
        except (OSError, ArticleError) as e:
            log.warning("%s: left out of the feeds until the next scan: %s", path, e)
            return None
        except Exception:
            log.exception("%s: unexpected error while deriving; left out of the feeds", path)
            return None


_NO_DATE = datetime.min.replace(tzinfo=timezone.utc)


def _by_date(item: tuple[tuple[SourceFile, Known | None], object]) -> tuple[datetime, str]:
    (f, _), result = item
    return (result.date if isinstance(result, Article) else _NO_DATE, f.path)


def _render_job(job: tuple[str, Channel, list[Entry]]) -> bytes:
    return render(*job)


def _v(version: tuple[str, datetime] | None) -> tuple[str, str]:
    return (version[0], version[1].isoformat()) if version else ("", "")


def _with_updated(e: Entry, updated: datetime) -> Entry:
    return e if e.updated == updated else replace(e, updated=updated)


def _join(folder: str, name: str) -> str:
    return f"{folder}/{name}" if folder else name


def _digest(value: object) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str, ensure_ascii=False).encode()).hexdigest()[:32]


def _code_version() -> str:
    from feeder import __version__

    return __version__
