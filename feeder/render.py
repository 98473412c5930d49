"""Entries -> feed bytes: RSS 2.0 and Atom 1.0 (feedgen), JSON Feed 1.1, OPML.

Pure: the same entries always give the same bytes. Nothing here reads the
clock: a feed's updated time is its newest entry's (feedgen would default it
to now(), which changes every file on every run).

feedgen 1.0.0 traps avoided here, each of which makes a feed invalid:
the RSS channel ``<link>`` is the last ``link()`` call, so ``rel=self`` goes
first and the alternate last; ``media.thumbnail`` wraps in a bare
``media:group`` unless ``group=None``; ``content(type='CDATA')`` writes
``type="CDATA"`` into Atom, so content is given as escaped ``html``; an Atom
enclosure becomes a second alternate link, so no enclosures are written
(the picture is ``media:thumbnail`` and JSON Feed ``image``).
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from xml.sax.saxutils import quoteattr

from feedgen.feed import FeedGenerator

from feeder import __version__
from feeder.model import Entry, FeedSpec

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
FILE_NAMES = {"rss": "rss.xml", "atom": "atom.xml", "json": "feed.json"}
MEDIA_TYPES = {"rss": "application/rss+xml", "atom": "application/atom+xml", "json": "application/feed+json"}
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"


@dataclass(frozen=True)
class Channel:
    """What a feed says about itself."""

    spec: FeedSpec
    #: URL of the folder the feed files are served from (ends with '/')
    url: str
    #: the site's home page
    home: str
    description: str
    language: str
    author: str


def feed_url(channel: Channel, fmt: str) -> str:
    return channel.url + FILE_NAMES[fmt]


def updated_of(entries: Sequence[Entry]) -> datetime:
    return max((e.updated for e in entries), default=EPOCH)


def render(fmt: str, channel: Channel, entries: Sequence[Entry]) -> bytes:
    if fmt == "json":
        return render_json(channel, entries)
    return render_xml(fmt, channel, entries)


def render_xml(fmt: str, channel: Channel, entries: Sequence[Entry]) -> bytes:
    """RSS 2.0 (``fmt='rss'``) or Atom 1.0 (``fmt='atom'``) with feedgen."""
    fg = FeedGenerator()
    fg.load_extension("media", atom=True, rss=True)
    fg.load_extension("dc", atom=False, rss=True)
    self_url = feed_url(channel, fmt)
    fg.id(self_url)
    fg.title(channel.spec.title)
    fg.subtitle(channel.description or channel.spec.title)
    fg.link(href=self_url, rel="self", type=MEDIA_TYPES[fmt])
    fg.link(href=channel.home, rel="alternate")  # last: feedgen makes it the RSS channel <link>
    fg.language(channel.language)
    fg.author(name=channel.author)
    fg.generator("feeder", version=__version__)
    fg.updated(updated_of(entries))
    # feedgen prepends entries; add oldest first so the file lists newest first
    for e in reversed(entries):
        fe = fg.add_entry()
        fe.id(e.id)
        fe.guid(e.id, permalink=False)
        fe.title(e.title or "Untitled")
        fe.link(href=e.link, rel="alternate", type="text/html")
        fe.published(e.published)
        fe.updated(e.updated)
        if e.author:
            fe.author(name=e.author)
            if fmt == "rss":
                fe.dc.dc_creator(e.author)
        for name in e.categories:
            fe.category(term=name)
        if e.summary:
            fe.summary(html.escape(e.summary, quote=False), type="html")
        if e.content:
            fe.content(e.content, type="html")
        if e.thumbnail:
            fe.media.thumbnail({"url": e.thumbnail}, group=None)
    if fmt == "rss":
        return fg.rss_str(pretty=True)
    return fg.atom_str(pretty=True)


def render_json(channel: Channel, entries: Sequence[Entry]) -> bytes:
    """JSON Feed 1.1 (jsonfeed.org/version/1.1)."""
    items = []
    for e in entries:
        item: dict[str, object] = {"id": e.id, "url": e.link, "title": e.title or "Untitled"}
        item["content_html"] = e.content or html.escape(e.summary)
        if e.summary:
            item["summary"] = e.summary
        if e.thumbnail:
            item["image"] = e.thumbnail
        item["date_published"] = _iso(e.published)
        item["date_modified"] = _iso(e.updated)
        if e.author:
            item["authors"] = [{"name": e.author}]
        if e.categories:
            item["tags"] = list(e.categories)
        items.append(item)
    doc = {
        "version": JSON_FEED_VERSION,
        "title": channel.spec.title,
        "home_page_url": channel.home,
        "feed_url": feed_url(channel, "json"),
        "description": channel.description or channel.spec.title,
        "language": channel.language,
        "authors": [{"name": channel.author}],
        "items": items,
    }
    # compact: json's indent= switches to its pure-Python encoder, ten times slower
    return (json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


def _iso(d: datetime) -> str:
    return d.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def render_opml(title: str, feeds: Sequence[tuple[Channel, str]]) -> bytes:
    """An OPML 2.0 list of every feed file written: (channel, format) pairs."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<opml version="2.0">',
        "  <head>",
        f"    <title>{html.escape(title)}</title>",
        "  </head>",
        "  <body>",
    ]
    for channel, fmt in feeds:
        label = {"rss": "RSS", "atom": "Atom", "json": "JSON Feed"}[fmt]
        text = f"{channel.spec.title} ({label})"
        lines.append(
            f"    <outline type=\"rss\" text={quoteattr(text)} title={quoteattr(text)}"
            f" xmlUrl={quoteattr(feed_url(channel, fmt))} htmlUrl={quoteattr(channel.home)}"
            f" version={quoteattr(fmt.upper())}/>"
        )
    lines += ["  </body>", "</opml>", ""]
    return "\n".join(lines).encode()
