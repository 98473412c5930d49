"""Shared test fixtures: real files, a real SQLite state, real feeds. Nothing is mocked."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
CORPUS = DATA / "corpus"
SEEDS = Path(__file__).parent.parent / "seeds"


def write_config(folder: Path, extra: str = "", **paths: str) -> Path:
    """A config file in ``folder`` whose paths point at seeds/, out/ and state.sqlite3 there."""
    seeds = paths.get("seeds", "seeds")
    text = textwrap.dedent(
        f"""
        [site]
        title = "Test site"
        base_url = "https://example.org/"
        timezone = "Asia/Shanghai"
        language = "zh-CN"
        [paths]
        seeds = "{seeds}"
        output = "out"
        state = "state.sqlite3"
        """
    ) + textwrap.dedent(extra)
    path = folder / "feeder.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def corpus_site(tmp_path: Path) -> Path:
    """A folder with the real corpus as seeds and a config with a high feed limit."""
    shutil.copytree(CORPUS, tmp_path / "seeds")
    write_config(tmp_path, "[feeds]\nlimit = 1000\n")
    return tmp_path


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """An empty seeds folder and a config."""
    (tmp_path / "seeds").mkdir()
    write_config(tmp_path)
    return tmp_path


def article(title: str = "Hello", date: str = "Mon, 30 Aug 2021 14:10:13 GMT", categories=("新闻",), author: str = "Site",
            body: str = "<p>Body text.</p>", headimg: str = "") -> str:
    cats = "\n".join(f" - {c}" for c in categories)
    return (
        f"\n---\ntitle: '{title}'\ncategories: \n{cats}\nheadimg: '{headimg}'\nauthor: {author}\n"
        f"comments: false\ndate: {date}\nthumbnail: '{headimg}'\n---\n\n{body}\n"
    )
