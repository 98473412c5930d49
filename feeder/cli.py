"""The command line: a thin layer over the library. ``feeder --help`` lists the commands.

Exit codes: 0 success, 1 problems found (``check``) or a failure at run
time, 2 a bad command line or config.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
import zoneinfo
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from feeder import __version__, logs
from feeder.config import Config, load_config
from feeder.errors import ArticleError, ConfigError, FeederError

log = logging.getLogger("feeder")

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2
DEFAULT_CONFIG = "config/feeder.toml"


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    logs.setup(args.verbose - args.quiet)
    try:
        return args.func(args)
    except ConfigError as e:
        print(f"feeder: config error in {e.path}:", file=sys.stderr)
        for problem in e.problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_USAGE
    except FeederError as e:
        print(f"feeder: {logs.REDACTOR.redact(str(e))}", file=sys.stderr)
        return EXIT_PROBLEMS
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="feeder",
        description="Turn a directory of Markdown articles into RSS, Atom and JSON feeds and Telegram channel posts.",
    )
    parser.add_argument("--version", action="version", version=f"feeder {__version__}")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")

    def command(name: str, func, help: str) -> argparse.ArgumentParser:  # noqa: A002
        p = sub.add_parser(name, help=help, description=help)
        p.add_argument("-c", "--config", default=DEFAULT_CONFIG, help=f"the TOML config file (default: {DEFAULT_CONFIG})")
        p.add_argument("-v", "--verbose", action="count", default=0, help="more log lines (twice: library logs too)")
        p.add_argument("-q", "--quiet", action="count", default=0, help="warnings and errors only")
        p.set_defaults(func=func)
        return p

    p = command("build", cmd_build, "Build every feed once from the seeds folder, then exit.")
    p.add_argument("--seeds", help="read articles from this folder instead of [paths] seeds")
    p.add_argument("--out", help="write feeds to this folder instead of [paths] output")
    p.add_argument("--serve", action="store_true", help="then serve the output folder until interrupted")

    p = command("check", cmd_check, "Validate the config and every article; list the problems (exit 1 if any).")
    p.add_argument("--seeds", help="check this folder instead of [paths] seeds")
    p.add_argument("--config-only", action="store_true", help="validate the config file only (for ExecStartPre=)")
    p.add_argument("--strict", action="store_true", help="count recovered defects (warnings) as problems too")

    p = command("serve", cmd_serve, "Serve the output folder on [serve] host:port (ETag, Last-Modified, 304).")
    p.add_argument("--out", help="serve this folder instead of [paths] output")
    p.add_argument("--port", type=int, help="port instead of [serve] port")

    for extra in _extra_commands():
        extra(command)
    return parser


def _extra_commands():
    """Commands that live in other modules (service, Telegram); imported lazily."""
    from feeder import commands

    return commands.REGISTER


# -- build -----------------------------------------------------------------


def cmd_build(args: argparse.Namespace) -> int:
    from feeder.build import make_pipeline
    from feeder.store import Store

    config = load_config(args.config, seeds=args.seeds, output=args.out)
    _require_seeds(config)
    started = time.perf_counter()
    progress = _Progress() if sys.stderr.isatty() else None
    with Store(config.paths.state) as store:
        pipeline = make_pipeline(config, store)
        scan, publish = pipeline.build(progress=progress)
        if progress:
            progress.done()
        total = store.article_count()
    print(build_summary(scan, publish, total, time.perf_counter() - started))
    if args.serve:
        return _serve(config, None)
    return EXIT_OK


def build_summary(scan, publish, total: int, seconds: float) -> str:
    """The one line a build ends with."""
    skipped = ""
    if scan.skipped:
        reasons = Counter(reason.split(": ", 1)[-1] for _, reason in scan.skipped)
        skipped = " (" + ", ".join(f"{n}× {r}" for r, n in reasons.most_common(3)) + ")"
    parts = [
        f"{total} articles",
        f"{scan.read} read",
        f"{len(scan.skipped)} skipped{skipped}",
        f"{len(scan.deleted)} removed",
    ]
    if publish is None:
        feeds = "feeds unchanged"
    else:
        feeds = f"{publish.feeds} feeds: {len(publish.written)} files written, {publish.unchanged} unchanged"
        if publish.removed:
            feeds += f", {len(publish.removed)} removed"
    return f"feeder build: {', '.join(parts)}; {feeds} in {seconds:.2f} s"


class _Progress:
    """A one-line progress bar on stderr, for terminals only."""

    def __init__(self) -> None:
        self.shown = False
        self.last = 0.0

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if total < 500 or (now - self.last < 0.1 and done < total):
            return
        self.last = now
        width = 30
        filled = int(width * done / max(total, 1))
        sys.stderr.write(f"\r{stage:>9} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        sys.stderr.flush()
        self.shown = True

    def done(self) -> None:
        if self.shown:
            sys.stderr.write("\r" + " " * 70 + "\r")
            sys.stderr.flush()


def _require_seeds(config: Config) -> None:
    if not Path(config.paths.seeds).is_dir():
        raise ConfigError(str(config.source), [f"paths.seeds: folder {config.paths.seeds} does not exist"])


# -- check -----------------------------------------------------------------


def cmd_check(args: argparse.Namespace) -> int:
    from feeder.read import parse_article
    from feeder.scan import walk

    config = load_config(args.config, seeds=args.seeds)
    if args.config_only:
        print(f"feeder check: {args.config}: config OK")
        return EXIT_OK
    _require_seeds(config)
    tz = zoneinfo.ZoneInfo(config.site.timezone)
    seeds = Path(config.paths.seeds)
    files = walk(seeds)
    errors = warnings = 0
    for rel in sorted(files):
        try:
            data = (seeds / rel).read_bytes()
            article = parse_article(rel, data, datetime.fromtimestamp(files[rel][1] / 1e9, timezone.utc), tz)
        except OSError as e:
            errors += 1
            print(f"error: {rel}: cannot read: {e.strerror}")
            continue
        except ArticleError as e:
            errors += 1
            print(f"error: {e.where()}: {e.reason}")
            continue
        for w in article.warnings:
            warnings += 1
            print(f"warning: {rel}: {w}")
    problems = errors + (warnings if args.strict else 0)
    print(f"feeder check: {len(files)} articles, {errors} unusable, {warnings} warnings")
    return EXIT_PROBLEMS if problems else EXIT_OK


# -- serve -----------------------------------------------------------------


def cmd_serve(args: argparse.Namespace) -> int:
    config = load_config(args.config, output=args.out)
    return _serve(config, args.port)


def _serve(config: Config, port: int | None) -> int:
    from feeder.serve import FeedServer

    out = Path(config.paths.output)
    out.mkdir(parents=True, exist_ok=True)
    server = FeedServer(out, config.serve.host, port if port is not None else config.serve.port)
    print(f"feeder: serving {out} at {server.url} (Ctrl-C to stop)", file=sys.stderr)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.httpd.server_close()
    return EXIT_OK
