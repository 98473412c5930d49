"""The HTTP server a feed reader subscribes to: content types, ETag, 304, nothing outside."""

from __future__ import annotations

import http.client
from pathlib import Path

import pytest

from feeder.serve import FeedServer


@pytest.fixture
def server(tmp_path: Path):
    out = tmp_path / "out"
    (out / "categories" / "新闻").mkdir(parents=True)
    (out / "rss.xml").write_bytes(b"<rss/>")
    (out / "atom.xml").write_bytes(b"<feed/>")
    (out / "feed.json").write_bytes(b"{}")
    (out / "feeds.opml").write_bytes(b"<opml/>")
    (out / "categories" / "新闻" / "rss.xml").write_bytes(b"<rss>cat</rss>")
    (tmp_path / "secret.txt").write_text("secret")
    with FeedServer(out, "127.0.0.1", 0) as s:
        yield s


def get(server: FeedServer, path: str, headers: dict | None = None, method: str = "GET"):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    conn.request(method, path, headers=headers or {})
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return resp, body


@pytest.mark.parametrize(
    "path, ctype",
    [
        ("/rss.xml", "application/rss+xml; charset=utf-8"),
        ("/atom.xml", "application/atom+xml; charset=utf-8"),
        ("/feed.json", "application/feed+json; charset=utf-8"),
        ("/feeds.opml", "text/x-opml; charset=utf-8"),
        ("/categories/%E6%96%B0%E9%97%BB/rss.xml", "application/rss+xml; charset=utf-8"),
    ],
)
def test_content_types(server, path, ctype):
    resp, body = get(server, path)
    assert resp.status == 200 and resp.getheader("Content-Type") == ctype and body


def test_etag_and_last_modified_give_304(server):
    resp, body = get(server, "/rss.xml")
    etag, last_modified = resp.getheader("ETag"), resp.getheader("Last-Modified")
    assert etag and last_modified and body == b"<rss/>"
    resp, body = get(server, "/rss.xml", {"If-None-Match": etag})
    assert resp.status == 304 and body == b""
    resp, body = get(server, "/rss.xml", {"If-Modified-Since": last_modified})
    assert resp.status == 304
    resp, body = get(server, "/rss.xml", {"If-None-Match": '"other"'})
    assert resp.status == 200 and body == b"<rss/>"


def test_changed_file_gets_new_etag(server):
    etag = get(server, "/rss.xml")[0].getheader("ETag")
    path = server.root / "rss.xml"
    path.write_bytes(b"<rss>new</rss>")
    resp, body = get(server, "/rss.xml", {"If-None-Match": etag})
    assert resp.status == 200 and body == b"<rss>new</rss>"


@pytest.mark.parametrize("path", ["/../secret.txt", "/%2e%2e/secret.txt", "/categories/../../secret.txt", "/.hidden", "/nope.xml"])
def test_nothing_outside_the_output_folder(server, path):
    resp, body = get(server, path)
    assert resp.status == 404 and b"secret" not in body


def test_head_and_index(server):
    resp, body = get(server, "/rss.xml", method="HEAD")
    assert resp.status == 200 and body == b"" and resp.getheader("Content-Length") == "6"
    resp, body = get(server, "/")
    assert resp.status == 200 and b"feeds.opml" in body
