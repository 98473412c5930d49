"""Which feeds exist and which articles go into each, newest first.

Pure: works on :class:`Meta` rows (what the store keeps of every article)
and returns :class:`~feeder.model.FeedSpec` and ordered paths. Only the
newest ``limit`` articles of each feed ever need a summary and content.

Category and author names become folder names through :func:`slugify`,
which can only produce one safe path segment, whatever the name is; two
names with the same slug (``IT 之家`` and ``it之家``) share one feed.
"""

from __future__ import annotations

import hashlib
import heapq
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from feeder.model import FeedSpec

SITE_KEY = "site"
#: at most this many UTF-8 bytes in a folder name (file systems allow 255)
MAX_SLUG_BYTES = 120
_NOT_WORD = re.compile(r"[\W_]+")


@dataclass(frozen=True, slots=True)
class Meta:
    """What feed selection needs of one article."""

    path: str
    date: datetime
    categories: tuple[str, ...]
    author: str


def slugify(name: str) -> str:
    """A stable, safe folder name for a category or author: one path segment, never '.' or '..'.

    Letters and digits of any script are kept (lower-cased, NFKC), every
    other run of characters becomes '-'. A name with nothing usable gets a
    hash-based name, so it still has a stable folder of its own.
    """
    norm = unicodedata.normalize("NFKC", name).casefold()
    slug = _NOT_WORD.sub("-", norm).strip("-")
    if len(slug.encode()) > MAX_SLUG_BYTES:
        digest = hashlib.sha1(name.encode()).hexdigest()[:8]
        slug = slug.encode()[: MAX_SLUG_BYTES - 9].decode("utf-8", "ignore").rstrip("-") + "-" + digest
    if not slug:
        slug = "x-" + hashlib.sha1(name.encode()).hexdigest()[:8]
    return slug


def feed_spec(key: str, name: str, site_title: str) -> FeedSpec:
    if key == SITE_KEY:
        return FeedSpec(key=key, folder="", title=site_title, name="")
    kind, _, slug = key.partition(":")
    folder = ("categories/" if kind == "category" else "authors/") + slug
    return FeedSpec(key=key, folder=folder, title=f"{site_title} · {name}", name=name)


class FeedIndex:
    """Which articles belong to which feed; kept up to date as articles come and go.

    In memory only (a few hundred bytes an article); ``top()`` answers a
    feed's newest articles without looking at any other feed.
    """

    def __init__(self, per_category: bool = True, per_author: bool = True):
        self.per_category = per_category
        self.per_author = per_author
        self._metas: dict[str, Meta] = {}
        self._members: dict[str, dict[str, datetime]] = {}
        self._names: dict[str, dict[str, int]] = {}
        self._slugs: dict[str, str] = {}

    def __len__(self) -> int:
        return len(self._metas)

    def __contains__(self, path: str) -> bool:
        return path in self._metas

    def _slug(self, name: str) -> str:
        slug = self._slugs.get(name)
        if slug is None:
            slug = self._slugs[name] = slugify(name)
        return slug

    def _keyed(self, meta: Meta) -> list[tuple[str, str]]:
        """(key, the name spelled as in this article) for every feed of ``meta``."""
        out = [(SITE_KEY, "")]
        if self.per_category:
            out.extend(("category:" + self._slug(c), c) for c in dict.fromkeys(meta.categories))
        if self.per_author and meta.author:
            out.append(("author:" + self._slug(meta.author), meta.author))
        return out

    def add(self, meta: Meta) -> set[str]:
        """Add or replace an article; returns the keys of every feed it was or is in."""
        touched = self.remove(meta.path)
        self._metas[meta.path] = meta
        for key, name in self._keyed(meta):
            self._members.setdefault(key, {})[meta.path] = meta.date
            counts = self._names.setdefault(key, {})
            counts[name] = counts.get(name, 0) + 1
            touched.add(key)
        return touched

    def remove(self, path: str) -> set[str]:
        """Forget an article; returns the keys of the feeds it was in."""
        meta = self._metas.pop(path, None)
        if meta is None:
            return set()
        touched = set()
        for key, name in self._keyed(meta):
            members = self._members.get(key)
            if members is not None:
                members.pop(path, None)
                if not members:
                    del self._members[key]
            counts = self._names.get(key)
            if counts is not None:
                counts[name] -= 1
                if counts[name] <= 0:
                    del counts[name]
                if not counts:
                    del self._names[key]
            touched.add(key)
        return touched

    def keys(self) -> set[str]:
        return set(self._members)

    def top(self, key: str, limit: int) -> list[str]:
        """The paths of the newest ``limit`` articles of a feed; ties broken by path."""
        members = self._members.get(key, {})
        return [path for _, path in heapq.nlargest(limit, ((d, p) for p, d in members.items()))]

    def name(self, key: str) -> str:
        """The most used spelling of the feed's category or author name ('' for the site)."""
        counts = self._names.get(key)
        if not counts:
            return ""
        return min(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0]

    def spec(self, key: str, site_title: str) -> FeedSpec:
        return feed_spec(key, self.name(key), site_title)
