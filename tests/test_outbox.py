"""The outbox: which article goes to which channel, backfill, updates, and the transaction it shares.

Real article files, a real SQLite state and the real scan pipeline; no
Telegram (the sender's side is tests/test_send.py). Where a test needs "this
post was sent", it records it through the store as the sender does.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

import pytest

from feeder.build import Pipeline
from feeder.config import ChannelConfig, load_config
from feeder.outbox import Router, preview, wants
from feeder.store import Store
from tests.conftest import article, write_config

NOW = datetime(2024, 3, 10, 12, 0, tzinfo=timezone.utc)


def ago(hours: float) -> str:
    """An article date ``hours`` before NOW, as an RFC 2822 date."""
    return format_datetime(NOW - timedelta(hours=hours), usegmt=True)


def channels_toml(*channels: dict, extra: str = "") -> str:
    out = [extra]
    for c in channels:
        out.append("[[channels]]")
        for key, value in c.items():
            if isinstance(value, (list, tuple)):
                out.append(f"{key} = [{', '.join(repr(v) for v in value)}]".replace("'", '"'))
            elif isinstance(value, bool):
                out.append(f"{key} = {'true' if value else 'false'}")
            else:
                out.append(f'{key} = "{value}"')
    return "\n".join(out) + "\n"


class Site:
    """A seeds folder, its config and state, scanned with a fixed clock."""

    def __init__(self, folder: Path, toml: str, router_class=Router):
        self.folder = folder
        (folder / "seeds").mkdir(exist_ok=True)
        self.configure(toml)
        self.router_class = router_class
        self.store = Store(self.config.paths.state)
        self.now = NOW

    def configure(self, toml: str) -> None:
        write_config(self.folder, toml)
        self.config = load_config(self.folder / "feeder.toml")

    def write(self, name: str, **fields) -> None:
        path = self.folder / "seeds" / name
        old = path.stat().st_mtime if path.exists() else None
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(article(**fields), encoding="utf-8")
        if old is not None:  # a change the scan must see even within the file system's time resolution
            os.utime(path, (old + 1, old + 1))

    def remove(self, name: str) -> None:
        (self.folder / "seeds" / name).unlink()

    def scan(self):
        pipeline = Pipeline(self.config, self.store, clock=lambda: self.now, router=self.router_class(self.config))
        return pipeline.scan()

    def rows(self, channel: str | None = None, states=("pending", "sending")) -> list[tuple[str, str]]:
        """(path, action) of the outbox rows in these states, in queue order."""
        return [(r["path"], r["action"]) for r in self.store.outbox_rows(channel) if r["state"] in states]

    def mark_sent(self, channel: str, path: str, message_id: int = 1, kind: str = "text") -> None:
        """Record a delivery the way the sender does (row sent, message id kept)."""
        with self.store.transaction():
            for r in self.store.outbox_rows(channel):
                if r["path"] == path and r["state"] in ("pending", "sending"):
                    self.store.mark_done(r["id"], "sent", NOW)
            self.store.put_message(channel, path, "@chan", message_id, kind, self.store.content_hash(path), NOW)

    def close(self) -> None:
        self.store.close()


@pytest.fixture
def make_site(tmp_path):
    sites = []

    def make(toml: str, **kw) -> Site:
        site = Site(tmp_path, toml, **kw)
        sites.append(site)
        return site

    yield make
    for site in sites:
        site.close()


ALL = {"name": "all", "chat": "@chan_all"}


# -- filters ------------------------------------------------------------------


def channel(**kw) -> ChannelConfig:
    return ChannelConfig(name="c", chat="@channel", **kw)


def test_no_filters_takes_everything():
    assert wants(channel(), ("新闻",), "Site")
    assert wants(channel(), (), "")


def test_category_globs_match_any_category_case_insensitively():
    c = channel(categories=("tech*", "新浪财经－*"))
    assert wants(c, ("Technology",), "")
    assert wants(c, ("news", "TECH news"), "")
    assert wants(c, ("新浪财经－国內",), "")
    assert not wants(c, ("news",), "")
    assert not wants(c, (), "")
    assert wants(channel(categories=("r[ue]st",)), ("Rust",), "")
    assert wants(channel(categories=("go?",)), ("Gol",), "") and not wants(channel(categories=("go?",)), ("Go",), "")


def test_excludes_win_over_includes():
    c = channel(categories=("tech*",), exclude_categories=("*draft*",))
    assert wants(c, ("tech",), "")
    assert not wants(c, ("tech", "Draft-2024"), "")
    assert not wants(channel(exclude_categories=("ads",)), ("news", "ADS"), "")


def test_author_filters():
    c = channel(authors=("ali?e", "bob*"))
    assert wants(c, (), "Alice") and wants(c, (), "Bobby")
    assert not wants(c, (), "Carol") and not wants(c, (), "")
    assert not wants(channel(exclude_authors=("spam*",)), (), "SpamBot")
    assert wants(channel(exclude_authors=("spam*",)), (), "Alice")
    assert wants(channel(exclude_authors=("spam*",)), (), "")


def test_a_pathological_glob_is_not_a_runaway_regex():
    import time

    c = channel(categories=("*a*a*a*a*a*a*a*a*a*a*a*a*a*b",))
    started = time.perf_counter()
    assert not wants(c, ("a" * 5000,), "")
    assert time.perf_counter() - started < 1.0


def test_new_articles_are_routed_by_the_filters(make_site):
    site = make_site(
        channels_toml(
            ALL,
            {"name": "tech", "chat": "@chan_tech", "categories": ["tech*"], "exclude_categories": ["*draft"]},
            {"name": "alice", "chat": "@chan_alice", "authors": ["Alice"]},
        )
    )
    site.scan()  # first start on an empty folder: every channel ready, nothing queued
    assert site.rows() == []
    site.write("a.md", title="A", categories=("Technology",), author="Bob", date=ago(1))
    site.write("b.md", title="B", categories=("tech", "ideas-draft"), author="Alice", date=ago(1))
    site.write("c.md", title="C", categories=("news",), author="alice", date=ago(1))
    report = site.scan()
    assert sorted(report.new) == ["a.md", "b.md", "c.md"]
    assert site.rows("all") == [("a.md", "post"), ("b.md", "post"), ("c.md", "post")]
    assert site.rows("tech") == [("a.md", "post")]
    assert site.rows("alice") == [("b.md", "post"), ("c.md", "post")]


def test_new_articles_with_old_dates_are_still_posted_once_running(make_site):
    """The backfill limit is for the first start only: a file added later is news to its reader."""
    site = make_site(channels_toml(ALL))
    site.scan()
    site.write("old.md", title="Old", date=ago(24 * 400))
    site.scan()
    assert site.rows("all") == [("old.md", "post")]


# -- first start ----------------------------------------------------------------


def test_first_start_on_a_full_folder_queues_only_recent_articles_and_few(make_site):
    site = make_site(
        channels_toml(ALL, {"name": "tech", "chat": "@chan_tech", "categories": ["tech"]}, extra="[backfill]\nmax_age_hours = 24\nmax_posts = 10\n")
    )
    for i in range(30):  # a back catalogue, one a day
        site.write(f"old/{i:02}.md", title=f"Old {i}", date=ago(48 + 24 * i))
    for i in range(14):  # and 14 recent ones, one an hour; the newest is r13
        site.write(f"new/r{i:02}.md", title=f"Recent {i}", categories=("tech",) if i % 3 == 0 else ("news",), date=ago(14 - i))
    report = site.scan()
    assert len(report.new) == 44
    # the 10 newest of the 14 recent ones, oldest first so the channel reads in order
    assert site.rows("all") == [(f"new/r{i:02}.md", "post") for i in range(4, 14)]
    # tech takes r00 r03 r06 r09 r12: all recent, fewer than max_posts
    assert site.rows("tech") == [(f"new/r{i:02}.md", "post") for i in (0, 3, 6, 9, 12)]
    # the rest is recorded as not to be sent, and a second scan does not change that
    assert site.store.channel_ready("all") and site.store.channel_ready("tech")
    site.now = NOW + timedelta(hours=1)
    site.scan()
    assert len(site.rows("all")) == 10 and len(site.rows("tech")) == 5


def test_first_start_backfill_limits_are_configurable(make_site):
    site = make_site(channels_toml(ALL, extra="[backfill]\nmax_age_hours = 2\nmax_posts = 1\n"))
    site.write("a.md", title="A", date=ago(1.5))
    site.write("b.md", title="B", date=ago(0.5))
    site.write("c.md", title="C", date=ago(3))
    site.scan()
    assert site.rows("all") == [("b.md", "post")]


def test_max_posts_zero_sends_no_back_catalogue(make_site):
    site = make_site(channels_toml(ALL, extra="[backfill]\nmax_posts = 0\n"))
    site.write("a.md", title="A", date=ago(1))
    site.scan()
    assert site.rows("all") == []
    site.write("b.md", title="B", date=ago(0))
    site.scan()
    assert site.rows("all") == [("b.md", "post")]


def test_a_channel_added_later_gets_its_own_backfill_and_the_others_nothing_again(make_site):
    site = make_site(channels_toml(ALL))
    for i in range(5):
        site.write(f"a{i}.md", title=f"A{i}", date=ago(10 - i))
    site.write("ancient.md", title="Ancient", date=ago(24 * 30))
    site.scan()
    assert len(site.rows("all")) == 5
    site.configure(channels_toml(ALL, {"name": "late", "chat": "@chan_late"}, extra="[backfill]\nmax_posts = 3\n"))
    site.write("a5.md", title="A5", date=ago(0))
    site.scan()
    # the old channel: just the new article; the new one: the 3 newest, oldest first, never the ancient one
    assert site.rows("all") == [(f"a{i}.md", "post") for i in range(6)]
    assert site.rows("late") == [("a3.md", "post"), ("a4.md", "post"), ("a5.md", "post")]


def test_first_start_that_crashes_before_the_backfill_runs_it_next_time(make_site):
    class Crashing(Router):
        def prepare(self, store, now):
            raise RuntimeError("killed")

    site = make_site(channels_toml(ALL), router_class=Crashing)
    site.write("a.md", title="A", date=ago(1))
    with pytest.raises(RuntimeError):
        site.scan()
    assert site.store.article_count() == 1 and site.rows() == []
    site.router_class = Router
    site.scan()
    assert site.rows("all") == [("a.md", "post")]


# -- updates ------------------------------------------------------------------------


def posted_site(make_site, on_change: str = "edit", delete_removed: bool = False) -> Site:
    extra = f'[telegram]\non_change = "{on_change}"\ndelete_removed = {"true" if delete_removed else "false"}\n'
    site = make_site(channels_toml(ALL, extra=extra))
    site.scan()
    site.write("a.md", title="First", date=ago(1))
    site.scan()
    site.mark_sent("all", "a.md")
    assert site.rows() == []
    return site


def test_changed_posted_article_is_edited(make_site):
    site = posted_site(make_site, "edit")
    site.write("a.md", title="Second, longer", date=ago(1))
    report = site.scan()
    assert report.changed == ["a.md"]
    assert site.rows("all") == [("a.md", "edit")]
    # a second change before the edit went out: the queued edit sends the file as it is then
    site.write("a.md", title="Third", date=ago(1))
    site.scan()
    assert site.rows("all") == [("a.md", "edit")]


def test_changed_posted_article_is_ignored(make_site):
    site = posted_site(make_site, "ignore")
    site.write("a.md", title="Second, longer", date=ago(1))
    assert site.scan().changed == ["a.md"]
    assert site.rows() == []


def test_changed_posted_article_is_posted_again(make_site):
    site = posted_site(make_site, "repost")
    site.write("a.md", title="Second, longer", date=ago(1))
    site.scan()
    assert site.rows("all") == [("a.md", "post")]


def test_a_touched_file_with_the_same_content_is_no_change(make_site):
    site = posted_site(make_site, "edit")
    path = site.folder / "seeds" / "a.md"
    os.utime(path, (path.stat().st_mtime + 5,) * 2)
    report = site.scan()
    assert report.changed == [] and site.rows() == []


def test_change_while_queued_adds_nothing_and_while_in_flight_adds_an_edit(make_site):
    site = make_site(channels_toml(ALL))
    site.scan()
    site.write("a.md", title="First", date=ago(1))
    site.scan()
    site.write("a.md", title="Second, longer", date=ago(1))
    site.scan()
    assert site.rows("all") == [("a.md", "post")]  # sent as the file is when its turn comes
    row = site.store.next_in_queue("all")
    with site.store.transaction():
        site.store.mark_sending(row["id"])  # the sender has it in flight, maybe with the old text
    site.write("a.md", title="Third, longest", date=ago(1))
    site.scan()
    assert site.rows("all") == [("a.md", "post"), ("a.md", "edit")]


def test_editing_the_back_catalogue_does_not_flood_the_channel(make_site):
    site = make_site(channels_toml(ALL, extra="[backfill]\nmax_posts = 1\n"))
    site.write("old.md", title="Old", date=ago(24 * 10))
    site.write("recent1.md", title="Recent 1", date=ago(2))
    site.write("recent2.md", title="Recent 2", date=ago(1))
    site.scan()
    assert site.rows("all") == [("recent2.md", "post")]
    site.write("old.md", title="Old, edited", date=ago(24 * 10))
    site.scan()
    assert site.rows("all") == [("recent2.md", "post")]
    # a recent article left out by max_posts, or one that matches only now, is posted when it changes
    site.write("recent1.md", title="Recent 1, edited", date=ago(2))
    site.scan()
    assert site.rows("all") == [("recent2.md", "post"), ("recent1.md", "post")]


def test_an_article_that_starts_matching_is_posted(make_site):
    site = make_site(channels_toml({"name": "tech", "chat": "@chan_tech", "categories": ["tech"]}))
    site.scan()
    site.write("a.md", title="A", categories=("news",), date=ago(1))
    site.scan()
    assert site.rows() == []
    site.write("a.md", title="A", categories=("news", "tech"), date=ago(1))
    site.scan()
    assert site.rows("tech") == [("a.md", "post")]


def test_a_dead_post_is_not_queued_twice_by_a_change(make_site):
    site = make_site(channels_toml(ALL))
    site.scan()
    site.write("a.md", title="A", date=ago(1))
    site.scan()
    row = site.store.next_in_queue("all")
    with site.store.transaction():
        site.store.mark_done(row["id"], "dead", NOW, "refused")
    site.write("a.md", title="A, changed", date=ago(1))
    site.scan()
    assert site.rows() == [] and site.rows(states=("dead",)) == [("a.md", "post")]


def test_deleted_article_cancels_its_queued_post(make_site):
    site = make_site(channels_toml(ALL, extra="[telegram]\ndelete_removed = true\n"))
    site.scan()
    site.write("a.md", title="A", date=ago(1))
    site.write("b.md", title="B", date=ago(1))
    site.scan()
    site.remove("a.md")
    assert site.scan().deleted == ["a.md"]
    assert site.rows("all") == [("b.md", "post")]  # no message to delete: nothing else
    assert site.rows("all", states=("cancelled",)) == [("a.md", "post")]


def test_deleted_posted_article_deletes_its_message_when_configured(make_site):
    site = posted_site(make_site, delete_removed=True)
    site.write("a.md", title="Second, longer", date=ago(1))
    site.scan()  # an edit is queued...
    site.remove("a.md")
    site.scan()  # ...and cancelled by the deletion, which deletes the message instead
    assert site.rows("all") == [("a.md", "delete")]
    assert site.rows("all", states=("cancelled",)) == [("a.md", "edit")]


def test_deleted_posted_article_keeps_its_message_by_default(make_site):
    site = posted_site(make_site, delete_removed=False)
    site.remove("a.md")
    site.scan()
    assert site.rows() == []


def test_an_article_deleted_and_written_again_is_edited_not_posted_twice(make_site):
    site = posted_site(make_site, delete_removed=False)
    site.remove("a.md")
    site.scan()
    site.write("a.md", title="Back again", date=ago(1))
    assert site.scan().new == ["a.md"]
    assert site.rows("all") == [("a.md", "edit")]


# -- one transaction ------------------------------------------------------------------


def test_outbox_row_and_article_are_written_in_one_transaction(make_site):
    """A crash between recording an article and queueing its posts leaves neither: the next scan does both."""

    class CrashAfterQueueing(Router):
        def article_changed(self, store, action, path, article, now):
            super().article_changed(store, action, path, article, now)
            raise RuntimeError("killed mid-transaction")

    site = make_site(channels_toml(ALL))
    site.scan()  # the channel is ready
    site.write("a.md", title="A", date=ago(1))
    site.router_class = CrashAfterQueueing
    with pytest.raises(RuntimeError):
        site.scan()
    assert site.store.article_count() == 0
    assert site.store.outbox_rows() == []
    site.router_class = Router
    assert site.scan().new == ["a.md"]
    assert site.store.article_count() == 1 and site.rows("all") == [("a.md", "post")]


def test_a_crash_recording_a_change_keeps_the_old_article_and_queues_nothing(make_site):
    class CrashOnChange(Router):
        def article_changed(self, store, action, path, article, now):
            super().article_changed(store, action, path, article, now)
            if action == "changed":
                raise RuntimeError("killed")

    site = posted_site(make_site, "edit")
    before = site.store.content_hash("a.md")
    site.write("a.md", title="Changed, longer", date=ago(1))
    site.router_class = CrashOnChange
    with pytest.raises(RuntimeError):
        site.scan()
    assert site.store.content_hash("a.md") == before and site.rows() == []
    site.router_class = Router
    site.scan()
    assert site.rows("all") == [("a.md", "edit")]


# -- preview ------------------------------------------------------------------


def test_preview_shows_the_post_for_each_matching_channel(make_site):
    site = make_site(channels_toml(ALL, {"name": "tech", "chat": "@chan_tech", "categories": ["tech"]}, {"name": "other", "chat": "@chan_other", "categories": ["x"]}))
    site.write("a.md", title="Fish & <Chips>", categories=("tech",), date=ago(1), body="<p>Tasty.</p>")
    shown = list(preview(site.config, site.folder / "seeds" / "a.md"))
    assert [c.name for c, _ in shown] == ["all", "tech"]
    post = shown[0][1]
    assert post.text.startswith("<b>Fish &amp; &lt;Chips&gt;</b>") and "#tech" in post.text and "Tasty." in post.text


def test_the_router_says_when_a_scan_queued_posts_after_its_commit(make_site):
    calls = []

    class Watching(Router):
        def __init__(self, config):
            super().__init__(config, on_queued=lambda: calls.append(self_store.outbox_rows()))

    site = make_site(channels_toml(ALL), router_class=Watching)
    self_store = site.store
    site.scan()
    assert calls == []  # nothing queued
    site.write("a.md", title="A", date=ago(1))
    site.scan()
    assert len(calls) == 1 and [r["path"] for r in calls[0]] == ["a.md"]  # told once, with the row already there
    site.scan()
    assert len(calls) == 1


def test_a_burst_is_queued_oldest_first(tmp_path):
    """Files found in one scan go to the outbox in date order, whatever their names."""
    from datetime import datetime, timedelta, timezone
    from email.utils import format_datetime

    from feeder.build import make_pipeline
    from feeder.config import load_config
    from feeder.store import Store
    from tests.conftest import article, write_config

    (tmp_path / "seeds").mkdir()
    write_config(tmp_path, '[[channels]]\nname = "all"\nchat = "@allnews"\n')
    config = load_config(tmp_path / "feeder.toml")
    with Store(config.paths.state) as store:
        make_pipeline(config, store).build()  # the channel's first start, on an empty folder
        now = datetime.now(timezone.utc).replace(microsecond=0)
        for name, minutes in (("a", 1), ("b", 3), ("c", 2)):
            date = format_datetime(now - timedelta(minutes=minutes), usegmt=True)
            (tmp_path / "seeds" / f"{name}.md").write_text(article(title=name, date=date), encoding="utf-8")
        make_pipeline(config, store).build()
        assert [r["path"] for r in store.outbox_rows("all")] == ["b.md", "c.md", "a.md"]
