"""The command line, run as a user runs it: a real process, real files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from feeder.cli import _parser
from tests.conftest import SEEDS, article, write_config

ROOT = Path(__file__).parent.parent


def feeder(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "feeder", *args], cwd=cwd or ROOT, capture_output=True, text=True, timeout=120, env=env)


def commands() -> list[str]:
    parser = _parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    return sorted(sub.choices)


def test_every_command_has_help():
    names = commands()
    assert {"build", "check", "serve"} <= set(names)
    for name in names:
        result = feeder(name, "--help")
        assert result.returncode == 0, name
        assert "usage: feeder " + name in result.stdout
        assert len(result.stdout.splitlines()) > 3


def test_no_command_prints_help_and_exits_2():
    result = feeder()
    assert result.returncode == 2 and "commands" in result.stdout


def test_build_the_bundled_seeds(tmp_path):
    write_config(tmp_path, seeds=str(SEEDS))
    result = feeder("build", "-c", str(tmp_path / "feeder.toml"))
    assert result.returncode == 0, result.stderr
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("feeder build: 14 articles, 14 read, 0 skipped, 0 removed;")
    assert "files written, 0 unchanged" in last
    again = feeder("build", "-c", str(tmp_path / "feeder.toml"))
    assert "0 read" in again.stdout and "feeds unchanged" in again.stdout


def test_build_exits_0_with_skipped_articles_and_names_them(site):
    (site / "seeds" / "ok.md").write_text(article(), encoding="utf-8")
    (site / "seeds" / "broken.md").write_text("\n\nno front matter", encoding="utf-8")
    result = feeder("build", "-c", str(site / "feeder.toml"))
    assert result.returncode == 0
    assert "skipped broken.md:3: no front matter" in result.stderr
    assert "1 skipped (1× no front matter" in result.stdout


def test_python_m_and_console_script_agree():
    result = subprocess.run([str(Path(sys.executable).parent / "feeder"), "--version"], capture_output=True, text=True)
    assert result.stdout.strip() == feeder("--version").stdout.strip() != ""


@pytest.mark.parametrize(
    "toml, expected",
    [
        ("[feeds]\nlimit = 0\n", "feeds.limit: Input should be greater than or equal to 1"),
        ("[feeds]\nlimt = 5\n", "feeds.limt: unknown key"),
        ('[site]\ntimezone = "Mars/Base"\n', "site.timezone: unknown time zone 'Mars/Base'"),
        ('[feeds]\nformats = ["rss", "pdf"]\n', "feeds.formats.1: Input should be 'rss', 'atom' or 'json'"),
        ('[telegram]\ntoken = "123:abc"\n', "telegram: a bot token must not be written in the config file"),
        ("[site\n", "not valid TOML"),
        ('[[channels]]\nname = "a"\nchat = "not a chat"\n', "channels.0.chat: must be '@username' or a numeric chat id"),
    ],
)
def test_config_errors_name_the_key_and_exit_2(tmp_path, toml, expected):
    (tmp_path / "bad.toml").write_text(toml, encoding="utf-8")
    result = feeder("check", "--config-only", "-c", str(tmp_path / "bad.toml"))
    assert result.returncode == 2
    assert expected in result.stderr
    assert "123:abc" not in result.stderr


def test_missing_config_file(tmp_path):
    result = feeder("build", "-c", str(tmp_path / "nope.toml"))
    assert result.returncode == 2 and "cannot read" in result.stderr


def test_check_lists_problems_and_exits_1(site):
    (site / "seeds" / "ok.md").write_text(article(), encoding="utf-8")
    (site / "seeds" / "nodate.md").write_text("---\ntitle: x\n---\n", encoding="utf-8")
    ok = feeder("check", "-c", str(site / "feeder.toml"))
    assert ok.returncode == 0 and "warning: nodate.md: no date" in ok.stdout
    strict = feeder("check", "--strict", "-c", str(site / "feeder.toml"))
    assert strict.returncode == 1
    (site / "seeds" / "bad.md").write_text("oops", encoding="utf-8")
    bad = feeder("check", "-c", str(site / "feeder.toml"))
    assert bad.returncode == 1
    assert "error: bad.md:1: no front matter" in bad.stdout
    assert bad.stdout.strip().splitlines()[-1] == "feeder check: 3 articles, 1 unusable, 1 warnings"


def test_check_config_only_accepts_the_bundled_config():
    result = feeder("check", "--config-only", "-c", "config/feeder.toml")
    assert result.returncode == 0, result.stderr


def test_preview_prints_the_post_per_matching_channel():
    seed = "seeds/金融/新浪财经/新浪财经－国內/0！.md"
    result = feeder("preview", "-c", "config/feeder.toml", seed)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("── finance (@feeder_demo_finance): text, ")
    assert lines[1] == "<b>0！</b>"
    assert lines[-1] == "#金融 #新浪财经 #新浪财经_国內"
    other = feeder("preview", "-c", "config/feeder.toml", "seeds/设计/Dribbble - 流行/1.md")
    assert "no channel takes this article" in other.stdout


def test_progress_bar_draws_and_clears(capsys):
    from feeder.cli import _Progress

    bar = _Progress()
    bar("reading", 10, 100)  # short runs draw nothing
    assert capsys.readouterr().err == ""
    bar("reading", 1000, 4000)
    err = capsys.readouterr().err
    assert err.startswith("\r  reading [#######") and err.endswith("] 1000/4000")
    bar.done()
    assert capsys.readouterr().err.startswith("\r ")
