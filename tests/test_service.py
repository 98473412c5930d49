"""The service in-process on a temporary seeds folder: real watcher, real SQLite, real files."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import feedparser
import pytest

from feeder.derive import entry_id
from feeder.service import Service
from tests.conftest import article, write_config

SETTLE = 0.3
WATCH = f"[watch]\nsettle = {SETTLE}\ninterval = 30\n[feeds]\nlimit = 2000\n"


def wait_for(predicate, timeout: float = 20.0, step: float = 0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("condition not met in time")


def titles(site: Path) -> set[str]:
    path = site / "out" / "atom.xml"
    if not path.exists():
        return set()
    return {e.title for e in feedparser.parse(path.read_bytes()).entries}


def feed_ids(site: Path) -> list[str]:
    return [e.id for e in feedparser.parse((site / "out" / "atom.xml").read_bytes()).entries]


@pytest.fixture
def service(site):
    write_config(site, WATCH)
    svc = Service(site / "feeder.toml", serve=False)
    reports = []
    svc.on_pass = reports.append
    svc.reports = reports
    svc.start()
    assert svc.wait_ready(20)
    yield svc
    svc.stop()


def put(site: Path, rel: str, text: str) -> Path:
    path = site / "seeds" / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_add_change_delete_rename(site, service):
    put(site, "新闻/a.md", article(title="First"))
    wait_for(lambda: titles(site) == {"First"})
    first_id = feed_ids(site)[0]
    assert first_id == entry_id("新闻/a.md")

    put(site, "新闻/a.md", article(title="First, corrected"))
    wait_for(lambda: titles(site) == {"First, corrected"})
    assert feed_ids(site) == [first_id]  # a changed article keeps its id

    os.rename(site / "seeds/新闻/a.md", site / "seeds/新闻/b.md")
    wait_for(lambda: feed_ids(site) == [entry_id("新闻/b.md")])

    (site / "seeds/新闻/b.md").unlink()
    wait_for(lambda: titles(site) == set())
    assert not (site / "out/categories/新闻").exists()


def test_a_folder_moved_in_and_out(site, service, tmp_path_factory):
    outside = tmp_path_factory.mktemp("staging")
    (outside / "sub").mkdir()
    (outside / "sub" / "x.md").write_text(article(title="Moved in"), encoding="utf-8")
    os.rename(outside / "sub", site / "seeds" / "sub")
    wait_for(lambda: titles(site) == {"Moved in"})
    os.rename(site / "seeds" / "sub", outside / "back")
    wait_for(lambda: titles(site) == set())


def test_half_written_file_is_not_published_half(site, service):
    path = site / "seeds" / "slow.md"
    full = article(title="Complete title", body="<p>" + "完整的正文。" * 200 + "</p>")
    with open(path, "w", encoding="utf-8") as f:
        f.write(full[:40])  # the front matter is not even closed yet
        f.flush()
        time.sleep(SETTLE / 2)
        f.write(full[40:])
    wait_for(lambda: titles(site) == {"Complete title"})
    assert all(not r.skipped for r in service.reports)  # never seen as broken
    assert service.stats.published == 1


def test_file_that_becomes_valid_later(site, service):
    put(site, "later.md", "not an article yet")
    wait_for(lambda: service.stats.skipped == 1, timeout=5)
    assert titles(site) == set()
    put(site, "later.md", article(title="Now valid"))
    wait_for(lambda: titles(site) == {"Now valid"})


def test_burst_of_1000_files(site, service):
    for i in range(1000):
        put(site, f"burst/{i // 100}/{i}.md", article(title=f"Burst {i}", date=f"2021-01-01 00:{i // 60:02d}:{i % 60:02d}"))
    wait_for(lambda: len(titles(site)) == 1000, timeout=60, step=0.2)
    assert service.stats.published == 1000
    assert service.stats.skipped == 0


def test_restart_reparses_and_republishes_nothing(site):
    write_config(site, WATCH)
    for i in range(20):
        put(site, f"{i}.md", article(title=f"T{i}"))
    svc = Service(site / "feeder.toml", serve=False)
    svc.start()
    assert svc.wait_ready(20)
    wait_for(lambda: len(titles(site)) == 20)
    svc.stop()
    before = {p: p.stat().st_mtime_ns for p in (site / "out").rglob("*") if p.is_file()}

    again = Service(site / "feeder.toml", serve=False)
    reports = []
    again.on_pass = reports.append
    again.start()
    assert again.wait_ready(20)
    wait_for(lambda: reports)
    again.stop()
    assert reports[0].read == 0 and reports[0].new == [] and reports[0].touched == set()
    assert again.stats.feed_writes == 0
    assert {p: p.stat().st_mtime_ns for p in (site / "out").rglob("*") if p.is_file()} == before


def test_changes_while_stopped_are_found_at_start(site):
    write_config(site, WATCH)
    put(site, "a.md", article(title="A"))
    svc = Service(site / "feeder.toml", serve=False)
    svc.start()
    assert svc.wait_ready(20)
    svc.stop()
    put(site, "b.md", article(title="B"))
    (site / "seeds" / "a.md").unlink()
    svc = Service(site / "feeder.toml", serve=False, watcher=False)
    svc.start()
    try:
        assert svc.wait_ready(20)
        # b.md may still be inside the settle window at start: it is published once it settles
        wait_for(lambda: titles(site) == {"B"}, timeout=5)
    finally:
        svc.stop()


def test_rescan_without_watcher_is_the_safety_net(site):
    write_config(site, "[watch]\nsettle = 0\ninterval = 0.3\n")
    svc = Service(site / "feeder.toml", serve=False, watcher=False)
    svc.start()
    try:
        assert svc.wait_ready(20)
        put(site, "a.md", article(title="Found by the rescan"))
        wait_for(lambda: titles(site) == {"Found by the rescan"}, timeout=5)
    finally:
        svc.stop()


def test_reload_good_and_bad_config(site, service, caplog):
    put(site, "a.md", article(title="A"))
    wait_for(lambda: titles(site) == {"A"})
    text = (site / "feeder.toml").read_text(encoding="utf-8").replace('title = "Test site"', 'title = "Renamed site"')
    (site / "feeder.toml").write_text(text, encoding="utf-8")
    service.request_reload()
    wait_for(lambda: feedparser.parse((site / "out/atom.xml").read_bytes()).feed.title == "Renamed site")
    assert service.config.site.title == "Renamed site"

    (site / "feeder.toml").write_text(text + "\n[serve]\nbogus = 1\n", encoding="utf-8")
    service.request_reload()
    wait_for(lambda: "reload refused" in caplog.text)
    assert "serve.bogus: unknown key" in caplog.text
    assert service.config.site.title == "Renamed site"  # the old config is kept
    put(site, "b.md", article(title="B"))
    wait_for(lambda: titles(site) == {"A", "B"})  # and the service keeps working


def _notify_listener(tmp_path: Path) -> tuple[socket.socket, str]:
    address = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(address)
    sock.settimeout(0.5)
    return sock, address


def _messages(sock: socket.socket, until, timeout: float = 20) -> list[str]:
    got: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            got.extend(sock.recv(4096).decode().splitlines())
        except TimeoutError:
            pass
        if until(got):
            return got
    raise AssertionError(f"not seen in time; got {got}")


def test_run_under_systemd_signals(site, tmp_path):
    """A real `feeder run` process: READY=1, WATCHDOG=1, STATUS=, SIGHUP reload, SIGTERM exit 0."""
    write_config(site, WATCH + "[serve]\nport = 0\n")
    put(site, "a.md", article(title="A"))
    sock, address = _notify_listener(tmp_path)
    env = {**os.environ, "NOTIFY_SOCKET": address, "WATCHDOG_USEC": "400000", "JOURNAL_STREAM": "8:1"}
    env.pop("WATCHDOG_PID", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "feeder", "run", "-c", str(site / "feeder.toml")], env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        got = _messages(sock, lambda m: "READY=1" in m and "WATCHDOG=1" in m)
        assert any(m.startswith("STATUS=1 articles") for m in got)
        (site / "feeder.toml").write_text((site / "feeder.toml").read_text() + "\n[oops]\n", encoding="utf-8")
        proc.send_signal(signal.SIGHUP)
        got = _messages(sock, lambda m: "RELOADING=1" in m and m.count("READY=1") >= 1)
        proc.send_signal(signal.SIGTERM)
        started = time.monotonic()
        assert proc.wait(timeout=10) == 0
        assert time.monotonic() - started < 5
        got += _messages(sock, lambda m: "STOPPING=1" in m, timeout=2)
    finally:
        if proc.poll() is None:
            proc.kill()
        sock.close()
    err = proc.stderr.read()
    assert "reload refused" in err and "oops" in err
    assert "INFO published a.md" in err
    assert not any(line[:4].isdigit() for line in err.splitlines())  # no timestamps under journald


def test_status_command_while_running(site, service):
    put(site, "a.md", article(title="A"))
    put(site, "bad.md", "no front matter")
    wait_for(lambda: titles(site) == {"A"} and service.stats.skipped == 1)
    result = subprocess.run(
        [sys.executable, "-m", "feeder", "status", "--json", "-c", str(site / "feeder.toml")], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["articles"] == 1 and info["feeds"] >= 2
    assert info["problems"][0]["path"] == "bad.md" and "no front matter" in info["problems"][0]["reason"]
    assert info["last_scan"] is not None
    text = subprocess.run(
        [sys.executable, "-m", "feeder", "status", "-c", str(site / "feeder.toml")], capture_output=True, text=True, timeout=30
    ).stdout
    assert "articles:   1" in text and "bad.md:1: no front matter" in text


def test_a_settling_file_is_not_forgotten_when_other_events_come(site, service):
    put(site, "a.md", article(title="Waiting to settle"))
    time.sleep(SETTLE / 3)
    put(site, "unrelated.txt", "an event about another file")  # a pass that does not see a.md
    wait_for(lambda: titles(site) == {"Waiting to settle"}, timeout=SETTLE + 2)  # not the 30 s rescan


def test_a_steady_stream_is_published_as_it_settles(site, service):
    """Each file is published once it has settled, while others keep arriving."""
    published_at: dict[str, float] = {}
    written_at: dict[str, float] = {}
    deadline = time.monotonic() + 3 * SETTLE + 1.5
    i = 0
    while time.monotonic() < deadline:
        if i < 12:
            put(site, f"s{i}.md", article(title=f"S{i}"))
            written_at[f"S{i}"] = time.monotonic()
            i += 1
        for title in titles(site):
            published_at.setdefault(title, time.monotonic())
        time.sleep(SETTLE / 3)
    assert set(published_at) == set(written_at)
    # the first files were out long before the stream stopped
    assert published_at["S0"] < written_at["S11"]
    assert max(published_at[t] - written_at[t] for t in written_at) < SETTLE + 1.0


def test_seeds_folder_gone_is_not_everything_deleted(site, caplog):
    write_config(site, WATCH)
    put(site, "a.md", article(title="Still here"))
    svc = Service(site / "feeder.toml", serve=False, watcher=False)
    svc.start()
    try:
        assert svc.wait_ready(20)
        wait_for(lambda: titles(site) == {"Still here"})
        os.rename(site / "seeds", site / "seeds.unmounted")
        svc.request_full_scan()
        wait_for(lambda: "seeds folder" in caplog.text and "is missing" in caplog.text)
        assert titles(site) == {"Still here"} and svc.stats.removed == 0
        os.rename(site / "seeds.unmounted", site / "seeds")
        put(site, "b.md", article(title="And new"))
        svc.request_full_scan()
        wait_for(lambda: titles(site) == {"Still here", "And new"})
    finally:
        svc.stop()
