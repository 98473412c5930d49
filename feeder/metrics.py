"""Prometheus metrics for ``/metrics`` on the serve port (text exposition format 0.0.4).

Written by hand: a dozen gauges and counters do not need a client library.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from feeder.service import Service


def _line(out: list[str], name: str, kind: str, help_text: str, samples: list[tuple[str, float]]) -> None:
    out.append(f"# HELP {name} {help_text}")
    out.append(f"# TYPE {name} {kind}")
    for labels, value in samples:
        out.append(f"{name}{labels} {value!r}")  # repr: full precision (timestamps need it)


def render_metrics(service: "Service") -> str:
    s = service.stats
    out: list[str] = []
    pipeline = service.pipeline
    articles = len(pipeline.index) if pipeline is not None and pipeline._index is not None else 0
    _line(out, "feeder_articles", "gauge", "Articles known.", [("", articles)])
    _line(out, "feeder_articles_published_total", "counter", "New articles seen since start.", [("", s.published)])
    _line(out, "feeder_articles_changed_total", "counter", "Changed articles seen since start.", [("", s.changed)])
    _line(out, "feeder_articles_removed_total", "counter", "Deleted articles seen since start.", [("", s.removed)])
    _line(out, "feeder_articles_skipped_total", "counter", "Article files that could not be used.", [("", s.skipped)])
    _line(out, "feeder_feed_writes_total", "counter", "Feed files written since start.", [("", s.feed_writes)])
    _line(out, "feeder_scan_duration_seconds", "gauge", "Duration of the last scan.", [("", round(s.last_scan_seconds, 6))])
    _line(out, "feeder_last_scan_timestamp_seconds", "gauge", "When the last scan finished.", [("", round(s.last_scan_at, 3))])
    _line(out, "feeder_last_full_scan_timestamp_seconds", "gauge", "When the last full rescan finished.", [("", round(s.last_full_scan_at, 3))])
    _line(out, "feeder_last_publish_timestamp_seconds", "gauge", "When feeds were last written.", [("", round(s.last_publish_at, 3))])
    sender = service.sender
    if sender is not None:
        counts = sender.counters()
        _line(out, "feeder_posts_sent_total", "counter", "Telegram posts sent since start.", [(f'{{channel="{c}"}}', n) for c, n in counts["sent"].items()])
        _line(out, "feeder_posts_failed_total", "counter", "Telegram send attempts that failed.", [(f'{{channel="{c}"}}', n) for c, n in counts["failed"].items()])
        _line(out, "feeder_posts_dead", "gauge", "Posts given up on (feeder retry re-queues them).", [(f'{{channel="{c}"}}', n) for c, n in counts["dead"].items()])
        _line(out, "feeder_outbox_depth", "gauge", "Posts waiting to be sent.", [(f'{{channel="{c}"}}', n) for c, n in counts["pending"].items()])
        _line(out, "feeder_last_post_timestamp_seconds", "gauge", "When a post was last sent.", [("", round(counts["last_sent_at"], 3))])
    return "\n".join(out) + "\n"
