"""The state: one SQLite file (stdlib sqlite3, WAL), with a schema version and migrations.

It holds what is known of every article file (stat, content hash, parsed
fields), the derived entries (cached by content hash and the derive rules),
the problems of files that could not be used, what each feed was last
written from, and the Telegram outbox. Every datetime is stored as ISO 8601
UTC text.

Only this module speaks SQL.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import NamedTuple

from feeder.errors import FeederError
from feeder.model import Article, Entry
from feeder.select import Meta

# Each migration takes the schema from version i to i+1. Never edit one that shipped; add another.
MIGRATIONS: tuple[str, ...] = (
    # 1: articles, derived entries, problems, feed files, key/value facts
    """
    CREATE TABLE articles (
        path TEXT PRIMARY KEY,
        size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        content_hash TEXT NOT NULL,
        title TEXT NOT NULL,
        date TEXT NOT NULL,
        categories TEXT NOT NULL,
        author TEXT NOT NULL,
        headimg TEXT NOT NULL,
        thumbnail TEXT NOT NULL,
        warnings TEXT NOT NULL,
        first_seen TEXT NOT NULL,
        updated TEXT NOT NULL
    );
    CREATE TABLE entries (
        path TEXT PRIMARY KEY,
        content_hash TEXT NOT NULL,
        rules TEXT NOT NULL,
        data TEXT NOT NULL
    );
    CREATE TABLE problems (
        path TEXT PRIMARY KEY,
        size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        reason TEXT NOT NULL,
        line INTEGER,
        seen TEXT NOT NULL
    );
    CREATE TABLE feed_files (
        key TEXT PRIMARY KEY,
        folder TEXT NOT NULL,
        title TEXT NOT NULL,
        signature TEXT NOT NULL,
        files TEXT NOT NULL,
        written TEXT NOT NULL
    );
    CREATE TABLE facts (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
    # 2: the Telegram outbox (one row per article and channel) and the messages sent
    """
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        channel TEXT NOT NULL,
        path TEXT NOT NULL,
        action TEXT NOT NULL,
        state TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        not_before TEXT,
        last_error TEXT,
        created TEXT NOT NULL,
        done TEXT
    );
    CREATE INDEX outbox_queue ON outbox (state, channel, id);
    CREATE TABLE messages (
        channel TEXT NOT NULL,
        path TEXT NOT NULL,
        chat TEXT NOT NULL,
        message_id INTEGER NOT NULL,
        kind TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        sent TEXT NOT NULL,
        PRIMARY KEY (channel, path)
    );
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


class StoreError(FeederError):
    """The state file cannot be opened or is from a newer feeder."""


def iso(d: datetime) -> str:
    return d.astimezone(timezone.utc).isoformat()


def from_iso(s: str) -> datetime:
    return datetime.fromisoformat(s)


class Known(NamedTuple):
    """What the store knows of a file on disk, for the scan to compare against.

    A named tuple, not a dataclass: the service keeps one per article file
    in memory (100,000 of them), and a scan builds them all at start.
    """

    size: int
    mtime_ns: int
    content_hash: str | None
    #: True when the file is recorded as a problem (not as an article)
    problem: bool


@dataclass(frozen=True, slots=True)
class Problem:
    path: str
    reason: str
    line: int | None
    seen: datetime


class Store:
    """The state file. Use as a context manager, or call close()."""

    def __init__(self, path: Path, readonly: bool = False):
        self.path = path
        try:
            if readonly:
                self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
                self.db.execute("PRAGMA journal_mode=WAL")
                self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA busy_timeout=5000")
            if not readonly:
                self._migrate()
            elif self.version() > SCHEMA_VERSION:
                raise StoreError(f"{path}: made by a newer feeder (schema {self.version()} > {SCHEMA_VERSION})")
        except sqlite3.Error as e:
            raise StoreError(f"{path}: cannot open the state file: {e}") from None

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    def version(self) -> int:
        return self.db.execute("PRAGMA user_version").fetchone()[0]

    def _migrate(self) -> None:
        current = self.version()
        if current > SCHEMA_VERSION:
            raise StoreError(f"{self.path}: made by a newer feeder (schema {current} > {SCHEMA_VERSION})")
        for number in range(current, SCHEMA_VERSION):
            # executescript() commits first; the script is its own transaction
            self.db.executescript("BEGIN IMMEDIATE;" + MIGRATIONS[number] + f";PRAGMA user_version={number + 1};COMMIT;")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: everything in it lands, or nothing does."""
        if self.db.in_transaction:
            yield self.db
            return
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        else:
            self.db.execute("COMMIT")

    # -- articles ---------------------------------------------------------

    def known_files(self) -> dict[str, Known]:
        known = {row[0]: Known(row[1], row[2], row[3], False) for row in self.db.execute("SELECT path, size, mtime_ns, content_hash FROM articles")}
        for path, size, mtime in self.db.execute("SELECT path, size, mtime_ns FROM problems"):
            old = known.get(path)
            known[path] = Known(size, mtime, old.content_hash if old else None, True)
        return known

    def put_article(self, a: Article, size: int, mtime_ns: int, now: datetime) -> str:
        """Record an article; returns 'new', 'changed' or 'same' (only its stat changed)."""
        row = self.db.execute("SELECT content_hash, first_seen FROM articles WHERE path=?", (a.path,)).fetchone()
        self.db.execute("DELETE FROM problems WHERE path=?", (a.path,))
        if row and row[0] == a.content_hash:
            self.db.execute("UPDATE articles SET size=?, mtime_ns=? WHERE path=?", (size, mtime_ns, a.path))
            return "same"
        first_seen = row[1] if row else iso(now)
        updated = iso(now) if row else iso(a.date)
        self.db.execute(
            "INSERT OR REPLACE INTO articles VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                a.path, size, mtime_ns, a.content_hash, a.title, iso(a.date), json.dumps(a.categories, ensure_ascii=False),
                a.author, a.headimg, a.thumbnail, json.dumps(a.warnings, ensure_ascii=False), first_seen, updated,
            ),
        )  # fmt: skip
        return "changed" if row else "new"

    def touch_article(self, path: str, size: int, mtime_ns: int) -> None:
        self.db.execute("UPDATE articles SET size=?, mtime_ns=? WHERE path=?", (size, mtime_ns, path))

    def delete_article(self, path: str) -> bool:
        cur = self.db.execute("DELETE FROM articles WHERE path=?", (path,))
        self.db.execute("DELETE FROM problems WHERE path=?", (path,))
        self.db.execute("DELETE FROM entries WHERE path=?", (path,))
        return cur.rowcount > 0

    def put_problem(self, path: str, size: int, mtime_ns: int, reason: str, line: int | None, now: datetime) -> None:
        self.db.execute("INSERT OR REPLACE INTO problems VALUES (?,?,?,?,?,?)", (path, size, mtime_ns, reason, line, iso(now)))

    def problems(self) -> list[Problem]:
        return [
            Problem(path, reason, line, from_iso(seen))
            for path, reason, line, seen in self.db.execute("SELECT path, reason, line, seen FROM problems ORDER BY path")
        ]

    def warnings(self) -> list[tuple[str, str]]:
        out = []
        for path, warnings in self.db.execute("SELECT path, warnings FROM articles WHERE warnings != '[]' ORDER BY path"):
            out.extend((path, w) for w in json.loads(warnings))
        return out

    def metas(self) -> Iterator[Meta]:
        for path, date, cats, author in self.db.execute("SELECT path, date, categories, author FROM articles"):
            yield Meta(path, from_iso(date), tuple(json.loads(cats)), author)

    def meta(self, path: str) -> Meta | None:
        row = self.db.execute("SELECT date, categories, author FROM articles WHERE path=?", (path,)).fetchone()
        return Meta(path, from_iso(row[0]), tuple(json.loads(row[1])), row[2]) if row else None

    def article_count(self) -> int:
        return self.db.execute("SELECT count(*) FROM articles").fetchone()[0]

    def versions(self, paths: Iterable[str]) -> dict[str, tuple[str, datetime]]:
        """content hash and updated time of each path."""
        out: dict[str, tuple[str, datetime]] = {}
        paths = list(paths)
        for i in range(0, len(paths), 500):
            chunk = paths[i : i + 500]
            q = f"SELECT path, content_hash, updated FROM articles WHERE path IN ({','.join('?' * len(chunk))})"
            for path, chash, updated in self.db.execute(q, chunk):
                out[path] = (chash, from_iso(updated))
        return out

    # -- derived entries --------------------------------------------------

    def cached_entries(self, wanted: dict[str, str], rules: str) -> dict[str, Entry]:
        """Entries cached for these {path: content_hash} under these derive rules."""
        out: dict[str, Entry] = {}
        paths = list(wanted)
        for i in range(0, len(paths), 500):
            chunk = paths[i : i + 500]
            q = f"SELECT path, content_hash, rules, data FROM entries WHERE path IN ({','.join('?' * len(chunk))})"
            for path, chash, r, data in self.db.execute(q, chunk):
                if chash == wanted[path] and r == rules:
                    out[path] = _entry_from_json(data)
        return out

    def put_entry(self, entry: Entry, content_hash: str, rules: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO entries VALUES (?,?,?,?)", (entry.path, content_hash, rules, _entry_to_json(entry)))

    # -- feed files -------------------------------------------------------

    def feed_files(self) -> dict[str, tuple[str, str, str, list[str]]]:
        """key -> (folder, title, signature, file names)"""
        return {
            key: (folder, title, sig, json.loads(files))
            for key, folder, title, sig, files in self.db.execute("SELECT key, folder, title, signature, files FROM feed_files")
        }

    def put_feed(self, key: str, folder: str, title: str, signature: str, files: list[str], now: datetime) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO feed_files VALUES (?,?,?,?,?,?)", (key, folder, title, signature, json.dumps(files), iso(now))
        )

    def drop_feed(self, key: str) -> None:
        self.db.execute("DELETE FROM feed_files WHERE key=?", (key,))

    def metas_since(self, since: datetime) -> list[Meta]:
        rows = self.db.execute("SELECT path, date, categories, author FROM articles WHERE date >= ?", (iso(since),))
        return [Meta(path, from_iso(date), tuple(json.loads(cats)), author) for path, date, cats, author in rows]

    def content_hash(self, path: str) -> str | None:
        row = self.db.execute("SELECT content_hash FROM articles WHERE path=?", (path,)).fetchone()
        return row[0] if row else None

    # -- Telegram outbox ----------------------------------------------------

    def set_busy_timeout(self, seconds: float) -> None:
        """How long a write waits for another writer before "database is locked" (the sender waits briefly, then retries)."""
        self.db.execute(f"PRAGMA busy_timeout={int(seconds * 1000)}")

    def channel_ready(self, name: str) -> bool:
        return self.fact("channel:" + name) is not None

    def set_channel_ready(self, name: str, total: int, queued: int, now: datetime) -> None:
        self.set_fact("channel:" + name, json.dumps({"since": iso(now), "backfill_queued": queued, "not_sent": total - queued}))

    def enqueue(self, channel: str, path: str, action: str, content_hash: str, now: datetime) -> None:
        self.db.execute(
            "INSERT INTO outbox (channel, path, action, state, content_hash, created) VALUES (?,?,?,?,?,?)",
            (channel, path, action, "pending", content_hash, iso(now)),
        )

    def open_rows(self, channel: str, path: str) -> list[tuple[str, str]]:
        """(action, state) of the rows of an article in a channel that are not finished: pending, sending or dead."""
        q = "SELECT action, state FROM outbox WHERE channel=? AND path=? AND state IN ('pending','sending','dead') ORDER BY id"
        return [(action, state) for action, state in self.db.execute(q, (channel, path))]

    def outbox_rows(self, channel: str | None = None) -> list[dict]:
        """Every outbox row (of one channel), oldest first: for status and tests."""
        keys = ("id", "channel", "path", "action", "state", "content_hash", "attempts", "not_before", "last_error", "created", "done")
        q = f"SELECT {', '.join(keys)} FROM outbox" + (" WHERE channel=?" if channel else "") + " ORDER BY id"
        return [dict(zip(keys, r)) for r in self.db.execute(q, (channel,) if channel else ())]

    def cancel_pending(self, channel: str, path: str, now: datetime) -> None:
        self.db.execute(
            "UPDATE outbox SET state='cancelled', done=? WHERE channel=? AND path=? AND state IN ('pending','dead') AND action!='delete'",
            (iso(now), channel, path),
        )

    def message(self, channel: str, path: str) -> dict | None:
        row = self.db.execute(
            "SELECT chat, message_id, kind, content_hash, sent FROM messages WHERE channel=? AND path=?", (channel, path)
        ).fetchone()
        return dict(zip(("chat", "message_id", "kind", "content_hash", "sent"), row)) if row else None

    def next_in_queue(self, channel: str) -> dict | None:
        """The oldest unfinished row of a channel (a crash may have left one 'sending')."""
        row = self.db.execute(
            "SELECT id, path, action, content_hash, attempts, not_before FROM outbox "
            "WHERE channel=? AND state IN ('pending','sending') ORDER BY id LIMIT 1",
            (channel,),
        ).fetchone()
        if row is None:
            return None
        return dict(zip(("id", "path", "action", "content_hash", "attempts", "not_before"), row))

    def mark_sending(self, row_id: int) -> bool:
        """Claim a row for a send (attempts + 1); False if it is no longer queued (cancelled meanwhile)."""
        cur = self.db.execute("UPDATE outbox SET state='sending', attempts=attempts+1 WHERE id=? AND state IN ('pending','sending')", (row_id,))
        return cur.rowcount > 0

    def mark_done(self, row_id: int, state: str, now: datetime, error: str | None = None) -> None:
        self.db.execute("UPDATE outbox SET state=?, done=?, last_error=? WHERE id=?", (state, iso(now), error, row_id))

    def mark_retry(self, row_id: int, not_before: datetime, error: str) -> None:
        self.db.execute("UPDATE outbox SET state='pending', not_before=?, last_error=? WHERE id=?", (iso(not_before), error, row_id))

    def refund_attempt(self, row_id: int) -> None:
        """A flood wait is not a failure: it does not count toward the dead-letter limit."""
        self.db.execute("UPDATE outbox SET state='pending', attempts=max(attempts-1, 0) WHERE id=?", (row_id,))

    def put_message(self, channel: str, path: str, chat: str, message_id: int, kind: str, content_hash: str, now: datetime) -> None:
        self.db.execute("INSERT OR REPLACE INTO messages VALUES (?,?,?,?,?,?,?)", (channel, path, chat, message_id, kind, content_hash, iso(now)))

    def drop_message(self, channel: str, path: str) -> None:
        self.db.execute("DELETE FROM messages WHERE channel=? AND path=?", (channel, path))

    def outbox_counts(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for channel, state, n in self.db.execute("SELECT channel, state, count(*) FROM outbox GROUP BY channel, state"):
            out.setdefault(channel, {})[state] = n
        return out

    def dead_posts(self) -> list[dict]:
        rows = self.db.execute("SELECT channel, path, action, attempts, last_error FROM outbox WHERE state='dead' ORDER BY id")
        return [dict(zip(("channel", "path", "action", "attempts", "error"), r)) for r in rows]

    def requeue_dead(self, channel: str | None = None) -> int:
        with self.transaction():
            q = "UPDATE outbox SET state='pending', attempts=0, not_before=NULL WHERE state='dead'"
            cur = self.db.execute(q + (" AND channel=?" if channel else ""), (channel,) if channel else ())
            return cur.rowcount

    def set_paused(self, channel: str, reason: str | None) -> None:
        if reason is None:
            self.db.execute("DELETE FROM facts WHERE key=?", ("paused:" + channel,))
        else:
            self.set_fact("paused:" + channel, reason)

    def paused_channels(self) -> dict[str, str]:
        return {k.removeprefix("paused:"): v for k, v in self.db.execute("SELECT key, value FROM facts WHERE key LIKE 'paused:%'")}

    # -- facts ------------------------------------------------------------

    def fact(self, key: str, default: str | None = None) -> str | None:
        row = self.db.execute("SELECT value FROM facts WHERE key=?", (key,)).fetchone()
        return row[0] if row else default

    def set_fact(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO facts VALUES (?,?)", (key, value))


def _entry_to_json(e: Entry) -> str:
    return json.dumps(
        {
            "id": e.id, "path": e.path, "title": e.title, "link": e.link, "published": iso(e.published), "updated": iso(e.updated),
            "categories": e.categories, "author": e.author, "summary": e.summary, "thumbnail": e.thumbnail, "content": e.content,
        },
        ensure_ascii=False,
    )  # fmt: skip


def _entry_from_json(data: str) -> Entry:
    d = json.loads(data)
    return Entry(
        id=d["id"], path=d["path"], title=d["title"], link=d["link"], published=from_iso(d["published"]), updated=from_iso(d["updated"]),
        categories=tuple(d["categories"]), author=d["author"], summary=d["summary"], thumbnail=d["thumbnail"], content=d["content"],
    )  # fmt: skip
