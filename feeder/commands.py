"""The service and Telegram commands: run, status, preview, retry."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from feeder.config import load_config

EXIT_OK, EXIT_PROBLEMS = 0, 1


def cmd_run(args: argparse.Namespace) -> int:
    from feeder.service import Service

    service = Service(args.config, serve=not args.no_serve, sender_factory=_sender_factory)
    return service.run()


def _sender_factory(service):
    if not service.config.channels:
        return None
    from feeder.send import Sender

    return Sender(service.config, service.store.path)


def cmd_status(args: argparse.Namespace) -> int:
    from feeder.status import gather, render_text

    config = load_config(args.config)
    state = Path(config.paths.state)
    if not state.exists():
        print(f"feeder status: no state file at {state} yet (run `feeder build` or `feeder run`)", file=sys.stderr)
        return EXIT_PROBLEMS
    info = gather(config)
    if args.json:
        print(json.dumps(info, ensure_ascii=False, indent=2))
    else:
        print(render_text(info))
    return EXIT_OK


def cmd_preview(args: argparse.Namespace) -> int:
    from feeder.outbox import preview

    config = load_config(args.config)
    shown = 0
    for channel, post in preview(config, Path(args.path)):
        shown += 1
        kind = f"photo {post.photo} with caption" if post.photo else "text"
        print(f"── {channel.name} ({channel.chat}): {kind}, {len(post.text)} characters")
        print(post.text)
        print()
    if not shown:
        print("no channel takes this article (check the channels' filters)")
    return EXIT_OK


def cmd_retry(args: argparse.Namespace) -> int:
    from feeder.store import Store

    config = load_config(args.config)
    with Store(config.paths.state) as store:
        n = store.requeue_dead(args.channel)
    print(f"feeder retry: {n} dead posts queued again" + (f" for {args.channel}" if args.channel else ""))
    return EXIT_OK


def _register_run(command) -> None:
    p = command("run", cmd_run, "The service: watch the seeds, keep the feeds current, serve them, post to Telegram.")
    p.add_argument("--no-serve", action="store_true", help="do not start the HTTP server")


def _register_status(command) -> None:
    p = command("status", cmd_status, "What the state file says: articles, feeds, last scan, problems, outbox.")
    p.add_argument("--json", action="store_true", help="machine-readable output")


def _register_preview(command) -> None:
    p = command("preview", cmd_preview, "Print the Telegram post an article makes, for every channel that takes it.")
    p.add_argument("path", help="an article file")


def _register_retry(command) -> None:
    p = command("retry", cmd_retry, "Queue the dead posts (given up on after too many failures) again.")
    p.add_argument("--channel", help="only this channel's")


REGISTER = [_register_run, _register_status, _register_preview, _register_retry]
