"""`feeder build` end to end over the real corpus: real files, real SQLite, feeds parsed back."""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

import feedparser
import pytest

from feeder.build import Pipeline
from feeder.config import load_config
from feeder.derive import entry_id
from feeder.store import Store
from tests.conftest import DATA, article, write_config
from tests.feedcheck import check_atom, check_json, check_rss

EXPECTED = json.loads((DATA / "corpus_expected.json").read_text(encoding="utf-8"))


def build(folder: Path, **overrides):
    config = load_config(folder / "feeder.toml", **overrides)
    with Store(config.paths.state) as store:
        return Pipeline(config, store).build()


def snapshot(out: Path) -> dict[str, tuple[bytes, int]]:
    return {p.relative_to(out).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns) for p in out.rglob("*") if p.is_file()}


def test_corpus_site_feed_has_every_dated_article_once(corpus_site):
    scan, publish = build(corpus_site)
    assert scan.read == 114 and scan.skipped == []
    feed = feedparser.parse((corpus_site / "out/rss.xml").read_bytes())
    assert not feed.bozo
    by_id = {}
    for e in feed.entries:
        assert e.id not in by_id, "duplicate entry"
        by_id[e.id] = e
    assert len(by_id) == 114
    for rel, want in EXPECTED.items():
        e = by_id[entry_id(rel)]
        assert e.title == want["title"]
        if want["date"]:
            assert datetime(*e.published_parsed[:6], tzinfo=timezone.utc) == datetime.fromisoformat(want["date"])
    atom = feedparser.parse((corpus_site / "out/atom.xml").read_bytes())
    assert not atom.bozo and {e.id for e in atom.entries} == set(by_id)


def test_every_written_feed_is_valid(corpus_site):
    build(corpus_site)
    out = corpus_site / "out"
    checked = 0
    for path in out.rglob("*"):
        if path.name == "rss.xml":
            assert check_rss(path.read_bytes()) == [], path
        elif path.name == "atom.xml":
            assert check_atom(path.read_bytes()) == [], path
        elif path.name == "feed.json":
            assert check_json(path.read_bytes()) == [], path
        else:
            continue
        checked += 1
    assert checked > 300  # site + every category + every author, three formats


def test_feeds_are_newest_first_and_limited(corpus_site):
    write_config(corpus_site, "[feeds]\nlimit = 7\n")
    build(corpus_site)
    feed = feedparser.parse((corpus_site / "out/rss.xml").read_bytes())
    dates = [e.published_parsed for e in feed.entries]
    assert len(dates) == 7 and dates == sorted(dates, reverse=True)


def test_per_category_and_author_feeds_and_opml(corpus_site):
    build(corpus_site)
    out = corpus_site / "out"
    cat = feedparser.parse((out / "categories/新浪财经-国內/rss.xml").read_bytes())
    assert cat.feed.title == "Test site · 新浪财经－国內"
    assert {e.title for e in cat.entries} == {"AI 篮球裁判火了，走步算得特别准，就问哈登慌不慌", "0！", '"绿色股票"试水欧洲'}
    it = json.loads((out / "authors/it-之家/feed.json").read_bytes())
    assert {i["title"] for i in it["items"]} >= {"(更新) Twitter 在全球遭遇宕机"}
    opml = (out / "feeds.opml").read_text(encoding="utf-8")
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.name in ("rss.xml", "atom.xml", "feed.json"))
    for rel in written:
        assert f'xmlUrl="https://example.org/{quote(rel)}"' in opml
    assert opml.count("<outline ") == len(written)


def test_thumbnails_and_summaries_in_feeds(corpus_site):
    build(corpus_site)
    doc = json.loads((corpus_site / "out/feed.json").read_bytes())
    items = {i["title"]: i for i in doc["items"]}
    assert "image" not in items["0！"]  # the app logo is a promotion image
    assert items["10年前的今天 《质量效应3》发售了"]["image"].startswith("https://img.3dmgame.com/")
    rss = (corpus_site / "out/rss.xml").read_text(encoding="utf-8")
    assert "picsum.photos" not in rss.split("<content:encoded>")[0]
    assert "media:group" not in rss and "media:thumbnail" in rss


def test_second_build_changes_no_file(corpus_site):
    build(corpus_site)
    before = snapshot(corpus_site / "out")
    scan, publish = build(corpus_site)
    assert publish is None and scan.read == 0
    assert snapshot(corpus_site / "out") == before
    # even a full re-publish (state lost) writes the same bytes and touches nothing
    for p in corpus_site.glob("state.sqlite3*"):
        p.unlink()
    build(corpus_site)
    after = snapshot(corpus_site / "out")
    assert {k: v[0] for k, v in after.items()} == {k: v[0] for k, v in before.items()}
    assert after == before  # unchanged bytes are not rewritten (same mtimes)


def test_hostile_category_names_stay_inside_output(site):
    names = ["../../x", "/etc", "..", ".", "a/../../b", "C:\\evil", "\x00nul", "  ", "~root"]
    for i, name in enumerate(names):
        text = article(title=f"t{i}", categories=(name.replace("\\", "\\\\"),), author="../../author")
        (site / "seeds" / f"{i}.md").write_text(text.replace(f" - {name}", f" - '{name}'"), encoding="utf-8")
    before = set(site.parent.rglob("*"))
    build(site)
    created = set(site.parent.rglob("*")) - before
    out = (site / "out").resolve()
    assert created and all(p.resolve() == out or out in p.resolve().parents or p.name.startswith("state.sqlite3") for p in created)
    assert not (site.parent / "x").exists() and not (site / "x").exists()
    assert all(p.name != "b" for p in site.parent.iterdir())


def test_output_symlink_escape_is_refused(site, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside")
    (site / "out" / "categories").mkdir(parents=True)
    os.symlink(outside, site / "out" / "categories" / "新闻")
    (site / "seeds" / "a.md").write_text(article(categories=("新闻",)), encoding="utf-8")
    build(site)
    assert list(outside.iterdir()) == []
    assert (site / "out/rss.xml").exists()


def test_changes_deletes_and_stale_feeds(site):
    seeds = site / "seeds"
    (seeds / "a.md").write_text(article(title="A", categories=("甲",)), encoding="utf-8")
    (seeds / "b.md").write_text(article(title="B", categories=("乙",), date="Tue, 31 Aug 2021 00:00:00 GMT"), encoding="utf-8")
    build(site)
    assert (site / "out/categories/乙/rss.xml").exists()
    (seeds / "b.md").unlink()
    (seeds / "a.md").write_text(article(title="A2", categories=("甲",)), encoding="utf-8")
    os.utime(seeds / "a.md", ns=(1, 2))
    scan, publish = build(site)
    assert scan.deleted == ["b.md"] and scan.changed == ["a.md"]
    assert not (site / "out/categories/乙").exists()
    feed = feedparser.parse((site / "out/atom.xml").read_bytes())
    assert [e.title for e in feed.entries] == ["A2"]
    e = feed.entries[0]
    assert e.id == entry_id("a.md")
    assert e.updated_parsed > e.published_parsed  # a changed article keeps its id and gets a new updated time
    assert "乙" not in (site / "out/feeds.opml").read_text(encoding="utf-8")


def test_bad_articles_are_skipped_and_the_rest_published(site):
    seeds = site / "seeds"
    (seeds / "good.md").write_text(article(title="Good"), encoding="utf-8")
    (seeds / "bad.md").write_text("no front matter here", encoding="utf-8")
    (seeds / "half.md").write_text("---\ntitle: half\n", encoding="utf-8")
    scan, publish = build(site)
    assert sorted(p for p, _ in scan.skipped) == ["bad.md", "half.md"]
    feed = feedparser.parse((site / "out/rss.xml").read_bytes())
    assert [e.title for e in feed.entries] == ["Good"]
    # not re-read while unchanged; re-read when changed
    scan, _ = build(site)
    assert scan.skipped == []
    (seeds / "half.md").write_text(article(title="Half, now whole"), encoding="utf-8")
    scan, _ = build(site)
    assert scan.new == ["half.md"]
    assert {e.title for e in feedparser.parse((site / "out/rss.xml").read_bytes()).entries} == {"Good", "Half, now whole"}


def test_feed_updated_is_newest_entry_not_build_time(site):
    (site / "seeds" / "a.md").write_text(article(date="Mon, 30 Aug 2021 14:10:13 GMT"), encoding="utf-8")
    build(site)
    rss = (site / "out/rss.xml").read_text(encoding="utf-8")
    assert "<lastBuildDate>Mon, 30 Aug 2021 14:10:13 +0000</lastBuildDate>" in rss
    atom = (site / "out/atom.xml").read_text(encoding="utf-8")
    assert "<updated>2021-08-30T14:10:13+00:00</updated>" in atom


def test_overrides_seeds_and_out(corpus_site, tmp_path_factory):
    other = tmp_path_factory.mktemp("other-out")
    build(corpus_site, output=other)
    assert (other / "rss.xml").exists() and not (corpus_site / "out").exists()


@pytest.mark.parametrize("formats", [["rss"], ["json", "atom"]])
def test_formats(site, formats):
    write_config(site, f"[feeds]\nformats = {json.dumps(formats)}\n")
    (site / "seeds" / "a.md").write_text(article(), encoding="utf-8")
    build(site)
    names = {"rss": "rss.xml", "atom": "atom.xml", "json": "feed.json"}
    assert {p.name for p in (site / "out").iterdir() if p.is_file()} == {names[f] for f in formats} | {"feeds.opml"}
