"""Serve the output folder over HTTP, as a feed reader expects.

Right content types, ``ETag`` and ``Last-Modified`` on every file, and
``304 Not Modified`` for conditional requests, so a reader polling an
unchanged feed gets a few hundred bytes. Nothing outside the output folder
is ever served. ``/metrics`` answers with Prometheus text when the service
provides it.
"""

from __future__ import annotations

import email.utils
import html
import logging
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

log = logging.getLogger("feeder.serve")

CONTENT_TYPES = {
    "rss.xml": "application/rss+xml; charset=utf-8",
    "atom.xml": "application/atom+xml; charset=utf-8",
    "feed.json": "application/feed+json; charset=utf-8",
}
SUFFIX_TYPES = {
    ".opml": "text/x-opml; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}


def content_type(path: Path) -> str:
    return CONTENT_TYPES.get(path.name) or SUFFIX_TYPES.get(path.suffix, "application/octet-stream")


class FeedServer:
    """A threaded HTTP server for one folder; ``start()`` runs it in a background thread."""

    def __init__(self, root: Path, host: str = "127.0.0.1", port: int = 8080, metrics: Callable[[], str] | None = None):
        self.root = root.resolve()
        self.metrics = metrics
        server = self

        class Handler(_Handler):
            feed_server = server

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    @property
    def url(self) -> str:
        host = self.httpd.server_address[0]
        return f"http://{host}:{self.port}/"

    def start(self) -> "FeedServer":
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="feeder-http", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self.httpd.serve_forever()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> "FeedServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _Handler(BaseHTTPRequestHandler):
    feed_server: FeedServer
    server_version = "feeder"
    sys_version = ""

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's name
        log.debug("%s " + format, self.address_string(), *args)

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def do_GET(self) -> None:
        self._serve(head=False)

    def _serve(self, head: bool) -> None:
        url_path = unquote(urlsplit(self.path).path)
        if url_path == "/metrics" and self.feed_server.metrics is not None:
            return self._send_bytes(self.feed_server.metrics().encode(), "text/plain; version=0.0.4; charset=utf-8", head)
        file = self._resolve(url_path)
        if file is None:
            if url_path in ("/", "/index.html"):
                return self._send_bytes(self._index(), "text/html; charset=utf-8", head)
            return self._send_bytes(b"not found\n", "text/plain; charset=utf-8", head, HTTPStatus.NOT_FOUND)
        try:
            st = file.stat()
            data = b"" if head else file.read_bytes()
        except OSError:
            return self._send_bytes(b"not found\n", "text/plain; charset=utf-8", head, HTTPStatus.NOT_FOUND)
        etag = f'"{st.st_size:x}-{st.st_mtime_ns:x}"'
        last_modified = email.utils.formatdate(st.st_mtime, usegmt=True)
        if self._not_modified(etag, int(st.st_mtime)):
            self.send_response(HTTPStatus.NOT_MODIFIED)
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", last_modified)
            self.send_header("Cache-Control", "max-age=60")
            self.end_headers()
            return
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", content_type(file))
        self.send_header("Content-Length", str(st.st_size))
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", last_modified)
        self.send_header("Cache-Control", "max-age=60")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        if not head:
            self.wfile.write(data)

    def _not_modified(self, etag: str, mtime: int) -> bool:
        inm = self.headers.get("If-None-Match")
        if inm is not None:
            return etag in [t.strip() for t in inm.split(",")] or inm.strip() == "*"
        ims = self.headers.get("If-Modified-Since")
        if ims:
            try:
                since = email.utils.parsedate_to_datetime(ims).timestamp()
            except (TypeError, ValueError):
                return False
            return mtime <= since
        return False

    def _resolve(self, url_path: str) -> Path | None:
        root = self.feed_server.root
        parts = [p for p in url_path.split("/") if p]
        if any(p in (".", "..") or p.startswith(".") or "\\" in p or "\0" in p for p in parts) or not parts:
            return None
        file = root.joinpath(*parts)
        if file.is_dir():
            file = file / "rss.xml"
        try:
            real = file.resolve()
        except OSError:
            return None
        if root not in real.parents or not real.is_file():
            return None
        return real

    def _index(self) -> bytes:
        links = [
            name for name in ("rss.xml", "atom.xml", "feed.json", "feeds.opml") if (self.feed_server.root / name).is_file()
        ]
        items = "".join(f'<li><a href="{html.escape(n)}">{html.escape(n)}</a></li>' for n in links)
        return (
            "<!doctype html><meta charset=utf-8><title>feeder</title>"
            f"<h1>Feeds</h1><ul>{items}</ul><p>Every feed is listed in <a href=feeds.opml>feeds.opml</a>.</p>"
        ).encode()

    def _send_bytes(self, data: bytes, ctype: str, head: bool, status: HTTPStatus = HTTPStatus.OK) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if not head:
            self.wfile.write(data)
