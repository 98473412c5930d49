"""Operating feeder as systemd runs it: the credential, the logs, /metrics, ExecStartPre."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import time
from datetime import datetime, timezone
from email.utils import format_datetime
from pathlib import Path

from fake_telegram import FakeTelegram

from tests.conftest import article, write_config

TOKEN = "987654321:AAE-secret-token-for-the-credential-test"


def _wait(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_token_from_systemd_credential_is_used_and_never_logged(site, tmp_path):
    creds = tmp_path / "credentials"
    creds.mkdir()
    (creds / "telegram-token").write_text(TOKEN + "\n", encoding="utf-8")
    now = format_datetime(datetime.now(timezone.utc).replace(microsecond=0), usegmt=True)
    (site / "seeds" / "a.md").write_text(article(title="Fresh news", date=now), encoding="utf-8")
    with FakeTelegram(token=TOKEN, chats=("@news",), per_chat_min_interval=0) as fake:
        write_config(
            site,
            f"""
            [watch]
            settle = 0.1
            [serve]
            port = 0
            [telegram]
            base_url = "{fake.base_url}"
            per_chat_interval = 0
            [[channels]]
            name = "news"
            chat = "@news"
            """,
        )
        env = {k: v for k, v in os.environ.items() if k != "FEEDER_TELEGRAM_TOKEN"}
        env["CREDENTIALS_DIRECTORY"] = str(creds)
        # -vv: library loggers at DEBUG too, httpx's request URLs (which hold the token) included
        proc = subprocess.Popen(
            [sys.executable, "-m", "feeder", "run", "-vv", "-c", str(site / "feeder.toml")],
            env=env, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            assert _wait(lambda: fake.texts("@news")), "the post never arrived"
        finally:
            proc.terminate()
            out, err = proc.communicate(timeout=15)
        assert proc.returncode == 0
        assert fake.texts("@news")[0].startswith("Fresh news")
    assert TOKEN not in err and TOKEN not in out
    assert TOKEN.split(":")[1] not in err
    assert "posted a.md" in err
    assert "[token]" in err  # the DEBUG lines that held it were redacted, not dropped
    for path in site.rglob("*"):
        if path.is_file() and creds not in path.parents:  # the output, the state file, the dry-run log…
            assert TOKEN.encode() not in path.read_bytes(), path


def test_metrics_endpoint(site):
    from feeder.service import Service

    write_config(site, "[serve]\nport = 0\n[watch]\nsettle = 0\n")
    (site / "seeds" / "a.md").write_text(article(), encoding="utf-8")
    svc = Service(site / "feeder.toml", serve=True, watcher=False)
    svc.start()
    try:
        assert svc.wait_ready(20)
        conn = http.client.HTTPConnection("127.0.0.1", svc.server.port, timeout=5)
        conn.request("GET", "/metrics")
        resp = conn.getresponse()
        body = resp.read().decode()
        assert resp.status == 200 and resp.getheader("Content-Type").startswith("text/plain; version=0.0.4")
        lines = dict(line.rsplit(" ", 1) for line in body.splitlines() if not line.startswith("#"))
        assert lines["feeder_articles"] == "1"
        assert lines["feeder_articles_published_total"] == "1"
        assert int(lines["feeder_feed_writes_total"]) >= 9
        assert float(lines["feeder_last_scan_timestamp_seconds"]) > time.time() - 60
        assert "# TYPE feeder_scan_duration_seconds gauge" in body
    finally:
        svc.stop()


def test_exec_start_pre_check(tmp_path):
    good = write_config(tmp_path)
    assert subprocess.run([sys.executable, "-m", "feeder", "check", "--config-only", "-c", str(good)]).returncode == 0
    good.write_text(good.read_text() + "\n[watch]\ninterval = -1\n")
    result = subprocess.run([sys.executable, "-m", "feeder", "check", "--config-only", "-c", str(good)], capture_output=True, text=True)
    assert result.returncode == 2 and "watch.interval: Input should be greater than 0" in result.stderr


def test_unit_file_names_what_the_program_provides():
    unit = (Path(__file__).parent.parent / "systemd" / "feeder.service").read_text()
    for line in (
        "Type=notify",
        "ExecStartPre=/opt/feeder/bin/feeder check --config-only -c /etc/feeder/feeder.toml",
        "ExecStart=/opt/feeder/bin/feeder run -c /etc/feeder/feeder.toml",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "LoadCredential=telegram-token:",
        "StateDirectory=feeder",
        "ConfigurationDirectory=feeder",
        "Restart=on-failure",
    ):
        assert line in unit, line
    assert "WatchdogSec=" in unit
