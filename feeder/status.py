"""``feeder status``: what the state file says, for a person or (``--json``) a script.

Opens the state file read-only, so it works while the service runs.
"""

from __future__ import annotations

from feeder.config import Config
from feeder.store import Store


def gather(config: Config) -> dict:
    with Store(config.paths.state, readonly=True) as store:
        problems = [
            {"path": p.path, "line": p.line, "reason": p.reason, "seen": p.seen.isoformat()} for p in store.problems()
        ]
        feeds = store.feed_files()
        outbox = store.outbox_counts() if store.version() >= 2 else {}
        return {
            "state": str(config.paths.state),
            "articles": store.article_count(),
            "feeds": len(feeds),
            "feed_files": sum(len(f[3]) for f in feeds.values()),
            "last_scan": store.fact("last_scan"),
            "last_scan_seconds": float(store.fact("last_scan_seconds", "0") or 0),
            "last_scan_kind": store.fact("last_scan_kind"),
            "problems": problems,
            "warnings": len(store.warnings()),
            "outbox": outbox,
            "dead": store.dead_posts() if store.version() >= 2 else [],
            "paused": store.paused_channels() if store.version() >= 2 else {},
        }


def render_text(info: dict) -> str:
    lines = [
        f"state:      {info['state']}",
        f"articles:   {info['articles']} ({info['warnings']} read with warnings, {len(info['problems'])} unusable)",
        f"feeds:      {info['feeds']} ({info['feed_files']} files)",
        f"last scan:  {info['last_scan'] or 'never'}"
        + (f" ({info['last_scan_kind']}, {info['last_scan_seconds'] * 1000:.0f} ms)" if info["last_scan"] else ""),
    ]
    if info["outbox"]:
        lines.append("outbox:")
        for channel, counts in sorted(info["outbox"].items()):
            parts = ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))
            paused = info["paused"].get(channel)
            lines.append(f"  {channel}: {parts}" + (f"  PAUSED: {paused}" if paused else ""))
    if info["dead"]:
        lines.append(f"dead posts ({len(info['dead'])}; `feeder retry` queues them again):")
        for d in info["dead"][:20]:
            lines.append(f"  {d['channel']}: {d['path']}: {d['error']}")
    if info["problems"]:
        lines.append("problems:")
        for p in info["problems"]:
            where = f"{p['path']}:{p['line']}" if p["line"] else p["path"]
            lines.append(f"  {where}: {p['reason']}")
    return "\n".join(lines)
