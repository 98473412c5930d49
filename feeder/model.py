"""The data that flows between feeder's steps: small frozen dataclasses, one per role.

    SourceFile --read--> Article --derive--> Entry --render--> feed files
                                               \\--telegram_format--> Post --send--> Delivery

Every datetime here is timezone-aware UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class SourceFile:
    """An article file as the file system shows it, before it is read."""

    #: path relative to the seeds folder, with forward slashes
    path: str
    #: size in bytes
    size: int
    #: modification time in nanoseconds since the epoch
    mtime_ns: int


@dataclass(frozen=True, slots=True)
class Article:
    """What an article file says, after recovery from the usual defects."""

    #: path relative to the seeds folder; the article's identity
    path: str
    title: str
    #: publication date (UTC); from the file's mtime when the file has none
    date: datetime
    #: category names in the order given, blank levels dropped
    categories: tuple[str, ...]
    author: str
    #: the ``headimg`` and ``thumbnail`` fields, '' when absent
    headimg: str
    thumbnail: str
    #: the HTML (or plain text) body, untrusted
    body: str
    #: sha256 of the file's bytes
    content_hash: str
    #: non-fatal problems met while reading (one line each, without the path)
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Entry:
    """An article made ready for feeds: derived once per content hash."""

    #: stable id (``urn:uuid:``), the same for the same path on every run and machine
    id: str
    path: str
    title: str
    #: absolute URL of the article on the site
    link: str
    published: datetime
    #: when feeder last saw the article change (== published until it does)
    updated: datetime
    categories: tuple[str, ...]
    author: str
    #: plain text, boilerplate removed, cut to ``feeds.summary_length``
    summary: str
    #: absolute URL of a real picture of the article, or None
    thumbnail: str | None
    #: sanitised HTML with absolute URLs
    content: str


@dataclass(frozen=True, slots=True)
class FeedSpec:
    """One feed that feeder writes (in every configured format)."""

    #: 'site', 'category:<slug>' or 'author:<slug>'
    key: str
    #: folder under the output directory, '' for the site feed
    folder: str
    title: str
    #: the category or author name the feed is about ('' for the site feed)
    name: str
