"""The long-running job (``feeder run``): watch the seeds, keep the feeds current, serve them.

One process, a few threads:

* the **pass loop** (one thread) does every scan and publish, one at a time,
  so nothing races; it wakes when told to and on its own when a changed
  file has settled;
* the **file watcher** (watchfiles, inotify) tells the loop which paths
  changed, so a pass looks at those files only;
* **APScheduler** runs the safety-net full rescan every ``[watch] interval``
  (coalesced: a missed run is one run) and the systemd watchdog pings;
* the **HTTP server** serves the output folder;
* the **Telegram sender** (when channels are configured) drains the outbox.

SIGTERM/SIGINT stop taking work, let the pass in flight finish, close the
store and exit 0. SIGHUP reloads the config; a bad one is refused and the
old one kept.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from apscheduler.schedulers.background import BackgroundScheduler

from feeder import notify
from feeder.build import Pipeline, ScanReport, make_pipeline
from feeder.config import Config, load_config
from feeder.errors import ConfigError, FeederError
from feeder.serve import FeedServer
from feeder.store import Store

log = logging.getLogger("feeder")

#: how long the watcher waits for more events before reporting a batch (ms)
WATCH_DEBOUNCE_MS = 50


@dataclass
class Stats:
    """What the service has done since it started (for /metrics and STATUS=)."""

    started: float = field(default_factory=time.time)
    passes: int = 0
    published: int = 0
    changed: int = 0
    removed: int = 0
    skipped: int = 0
    feed_writes: int = 0
    last_scan_seconds: float = 0.0
    last_scan_at: float = 0.0
    last_full_scan_at: float = 0.0
    last_publish_at: float = 0.0


class Service:
    """feeder's main job over one config file. ``start()``, then ``stop()``; or ``run()`` until a signal."""

    def __init__(self, config_path: str | Path, *, serve: bool = True, watcher: bool | None = None, sender_factory=None):
        self.config_path = Path(config_path)
        self.config: Config = load_config(self.config_path)
        self.serve = serve
        self.watcher_enabled = self.config.watch.watcher if watcher is None else watcher
        self.sender_factory = sender_factory
        self.stats = Stats()
        self.notifier = notify.Notifier()
        self.store: Store | None = None
        self.pipeline: Pipeline | None = None
        self.server: FeedServer | None = None
        self.sender = None
        self.scheduler: BackgroundScheduler | None = None
        self._lock = threading.Lock()  # guards the fields below
        self._pending: set[str] = set()
        self._full = True
        self._reload = False
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._watch_stop = threading.Event()
        self._loop_thread: threading.Thread | None = None
        self._watch_thread: threading.Thread | None = None
        self._heartbeat = time.monotonic()
        self._ready = threading.Event()
        #: called after every pass with its scan report (tests, metrics)
        self.on_pass: Callable[[ScanReport], None] | None = None

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> "Service":
        config = self.config
        Path(config.paths.output).mkdir(parents=True, exist_ok=True)
        self.store = Store(config.paths.state)
        self.pipeline = self._make_pipeline(config)
        if self.serve:
            self._start_server(config)
        self._loop_thread = threading.Thread(target=self._loop, name="feeder-pass", daemon=True)
        self._loop_thread.start()
        if self.watcher_enabled:
            self._start_watcher()
        self.scheduler = BackgroundScheduler(timezone=timezone.utc, job_defaults={"coalesce": True, "max_instances": 1})
        self.scheduler.add_job(self.request_full_scan, "interval", seconds=config.watch.interval, id="rescan")
        interval = notify.watchdog_interval()
        if interval:
            self.scheduler.add_job(self._watchdog, "interval", seconds=interval, id="watchdog")
        self.scheduler.start()
        return self

    def wait_ready(self, timeout: float = 60) -> bool:
        return self._ready.wait(timeout)

    def stop(self, timeout: float = 10) -> None:
        """Stop taking work, finish the pass in flight, close everything."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        self.notifier.stopping()
        log.info("stopping")
        self._watch_stop.set()
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
        self._wake.set()
        if self._loop_thread is not None:
            self._loop_thread.join(timeout)
        if self.sender is not None:
            self.sender.stop(timeout)
        if self._watch_thread is not None:
            self._watch_thread.join(2)
        if self.server is not None:
            self.server.stop()
        if self.store is not None:
            self.store.close()
        self.notifier.close()

    def run(self) -> int:
        """Run until SIGTERM or SIGINT; SIGHUP reloads the config. Returns the exit code."""
        stop = threading.Event()
        previous = {}

        def on_stop(signum, frame):
            log.info("got %s", signal.Signals(signum).name)
            stop.set()

        def on_hup(signum, frame):
            self.request_reload()

        for sig, handler in ((signal.SIGTERM, on_stop), (signal.SIGINT, on_stop), (signal.SIGHUP, on_hup)):
            previous[sig] = signal.signal(sig, handler)
        try:
            self.start()
            while not stop.wait(0.5):
                if self._loop_thread is not None and not self._loop_thread.is_alive():
                    log.error("the pass loop died; exiting")
                    return 1
        finally:
            self.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return 0

    # -- requests from other threads ----------------------------------------

    def request_paths(self, paths: set[str]) -> None:
        with self._lock:
            self._pending |= paths
        self._wake.set()

    def request_full_scan(self) -> None:
        with self._lock:
            self._full = True
        self._wake.set()

    def request_reload(self) -> None:
        with self._lock:
            self._reload = True
        self._wake.set()

    # -- the pass loop -------------------------------------------------------

    def _loop(self) -> None:
        try:
            self.notifier.status("starting: first scan")
            self.pipeline.index  # load the feed index once, before the first change needs it  # noqa: B018
            self._pass(full=True, paths=set())
            if self.sender_factory is not None:
                self.sender = self.sender_factory(self)
                if self.sender is not None:
                    self.sender.start()
        except Exception:
            log.exception("the first pass failed")
        self._ready.set()
        self.notifier.ready(self._status_line())
        log.info("running: watching %s", self.config.paths.seeds)
        while not self._stopping.is_set():
            timeout = self._next_timeout()
            self._wake.wait(timeout)
            self._wake.clear()
            self._heartbeat = time.monotonic()
            if self._stopping.is_set():
                break
            if not self._pending_due():
                time.sleep(0.02)  # let a burst of events gather
            with self._lock:
                reload, full, paths = self._reload, self._full, self._pending
                self._reload, self._full, self._pending = False, False, set()
            if reload:
                self._do_reload()
                full = True
            paths |= self.pipeline.settled(time.time())  # files waited for, now settled
            if full or paths:
                try:
                    self._pass(full=full, paths=paths)
                except Exception:
                    log.exception("a pass failed; the next one will try again")
                    self.pipeline = self._make_pipeline(self.config)

    def _pending_due(self) -> bool:
        """True when the wake-up is only for files whose settle window just ended: no need to wait."""
        with self._lock:
            requested = self._pending or self._full or self._reload
        return not requested

    def _next_timeout(self) -> float:
        until = self.pipeline.next_settle() if self.pipeline else None
        if until is not None:
            return max(0.005, min(1.0, until - time.time()))
        return 1.0

    def _pass(self, full: bool, paths: set[str]) -> None:
        pipeline = self.pipeline
        settle = self.config.watch.settle
        report = pipeline.scan(settle=settle, only=None if full else paths, progress=self._progress)
        published = pipeline.publish_changes(report, progress=self._progress)
        now = time.time()
        s = self.stats
        s.passes += 1
        s.published += len(report.new)
        s.changed += len(report.changed)
        s.removed += len(report.deleted)
        s.skipped += len(report.skipped)
        s.last_scan_seconds = report.seconds
        s.last_scan_at = now
        if full:
            s.last_full_scan_at = now
        if published is not None:
            s.feed_writes += len(published.written)
            s.last_publish_at = now
        with self.store.transaction():
            self.store.set_fact("last_scan", datetime.now(timezone.utc).isoformat())
            self.store.set_fact("last_scan_seconds", f"{report.seconds:.4f}")
            self.store.set_fact("last_scan_kind", "full" if full else "watch")
        if report.new or report.changed or report.deleted or report.skipped:
            log.info(
                "pass: %d new, %d changed, %d removed, %d skipped; %s",
                len(report.new), len(report.changed), len(report.deleted), len(report.skipped),
                f"{len(published.written)} feed files written" if published else "feeds unchanged",
            )  # fmt: skip
        self._heartbeat = time.monotonic()
        self.notifier.status(self._status_line())
        if self.sender is not None and (report.new or report.changed or report.deleted):
            self.sender.wake()
        if self.on_pass is not None:
            self.on_pass(report)

    def _progress(self, stage: str, done: int, total: int) -> None:
        self._heartbeat = time.monotonic()
        self.notifier.status(f"{stage} {done}/{total}")

    def _status_line(self) -> str:
        s = self.stats
        articles = len(self.pipeline.index) if self.pipeline and self.pipeline._index is not None else 0
        line = f"{articles} articles; last scan {s.last_scan_seconds * 1000:.0f} ms; {s.published} new, {s.changed} changed, {s.removed} removed since start"
        if self.sender is not None:
            line += "; " + self.sender.status_line()
        return line

    # -- reload --------------------------------------------------------------

    def _do_reload(self) -> None:
        self.notifier.reloading()
        try:
            new = load_config(self.config_path)
        except ConfigError as e:
            log.error("reload refused, keeping the running config: %s", e)
            self.notifier.ready(self._status_line())
            return
        old = self.config
        if Path(new.paths.state) != Path(old.paths.state):
            log.warning("reload: paths.state cannot change while running; keeping %s", old.paths.state)
            new = new.model_copy(update={"paths": new.paths.model_copy(update={"state": old.paths.state})})
        self.config = new
        self.pipeline = self._make_pipeline(new)
        if self.serve and (new.serve != old.serve or new.paths.output != old.paths.output):
            if self.server is not None:
                self.server.stop()
            self._start_server(new)
        if new.paths.seeds != old.paths.seeds and self.watcher_enabled:
            self._watch_stop.set()
            if self._watch_thread is not None:
                self._watch_thread.join(2)
            self._watch_stop = threading.Event()
            self._start_watcher()
        if self.scheduler is not None and new.watch.interval != old.watch.interval:
            self.scheduler.reschedule_job("rescan", trigger="interval", seconds=new.watch.interval)
        if self.sender is not None:
            self.sender.reload(new)
        log.info("reloaded %s", self.config_path)
        self.notifier.ready(self._status_line())

    # -- parts ---------------------------------------------------------------

    def _make_pipeline(self, config: Config) -> Pipeline:
        return make_pipeline(config, self.store, on_queued=self._wake_sender)

    def _wake_sender(self) -> None:
        if self.sender is not None:
            self.sender.wake()

    def _start_server(self, config: Config) -> None:
        from feeder.metrics import render_metrics

        try:
            self.server = FeedServer(
                Path(config.paths.output), config.serve.host, config.serve.port, metrics=lambda: render_metrics(self)
            ).start()
            log.info("serving %s at %s", config.paths.output, self.server.url)
        except OSError as e:
            raise FeederError(f"cannot serve on {config.serve.host}:{config.serve.port}: {e.strerror}") from None

    def _start_watcher(self) -> None:
        seeds = Path(self.config.paths.seeds)
        stop = self._watch_stop

        def watch() -> None:
            import watchfiles

            root = seeds.resolve()
            while not stop.is_set():
                try:
                    for changes in watchfiles.watch(
                        root, stop_event=stop, debounce=WATCH_DEBOUNCE_MS, step=10, rust_timeout=1000, yield_on_timeout=False,
                        recursive=True, ignore_permission_denied=True, raise_interrupt=False,
                    ):  # fmt: skip
                        paths = set()
                        for _, changed in changes:
                            try:
                                paths.add(Path(changed).resolve().relative_to(root).as_posix())
                            except ValueError:
                                continue
                        if paths:
                            self.request_paths(paths)
                except Exception as e:  # the folder vanished, inotify limits...: the rescans still run
                    if stop.is_set():
                        break
                    log.warning("file watcher: %s; retrying in 5 s (the %g s rescans go on)", e, self.config.watch.interval)
                    stop.wait(5)

        self._watch_thread = threading.Thread(target=watch, name="feeder-watch", daemon=True)
        self._watch_thread.start()

    def _watchdog(self) -> None:
        interval = notify.watchdog_interval() or 30
        alive = self._loop_thread is not None and self._loop_thread.is_alive()
        # the loop beats at least once a second when idle, and on every progress step of a pass:
        # a stuck loop gets no ping, and systemd restarts the service
        if alive and time.monotonic() - self._heartbeat < max(interval * 2, 5):
            self.notifier.watchdog()
