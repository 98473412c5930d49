"""Reading real articles: every variation in the corpus loads, as the golden file says."""

from __future__ import annotations

import json
import zoneinfo
from datetime import datetime, timezone

import pytest

from feeder.errors import ArticleError
from feeder.read import parse_article, parse_date
from tests.conftest import CORPUS, DATA

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
MTIME = datetime(2000, 1, 1, tzinfo=timezone.utc)
EXPECTED = json.loads((DATA / "corpus_expected.json").read_text(encoding="utf-8"))


def read(rel: str, data: bytes | None = None):
    if data is None:
        data = (CORPUS / rel).read_bytes()
    return parse_article(rel, data, MTIME, SHANGHAI)


@pytest.mark.parametrize("rel", sorted(EXPECTED))
def test_corpus_golden(rel):
    a = read(rel)
    got = {
        "title": a.title,
        "date": None if a.date == MTIME else a.date.isoformat(),
        "categories": list(a.categories),
        "author": a.author,
    }
    assert got == EXPECTED[rel]


def test_every_corpus_file_is_in_the_golden_file():
    files = {p.relative_to(CORPUS).as_posix() for p in CORPUS.rglob("*.md")}
    assert files == set(EXPECTED)


def test_titles_yaml_cannot_parse_are_recovered():
    assert read("AlgoCasts - 视频更新/1.md").title == "P233. N 皇后问题 _ AlgoCasts 视频更新"
    assert read("雪球 - 用户自选动态/1.md").title == "@大道无形我有型 关注了股票 台积电"
    a = read("DLsite - 产品打折信息/1.md")
    assert a.title == "2021年04月18日 割引終了 ゴキブリ素材集"
    assert any("not valid YAML" in w and w.startswith("line ") for w in a.warnings)


def test_titles_stay_strings():
    # YAML 1.1 would read 12_00 as the number 1200 and 111111 as an int
    assert read("坂道系列官网资讯 - 日向坂 46 博客/2.md").title == "12_00"
    assert read("wolley - posts/1.md").title == "111111"


def test_blank_title_falls_back_to_the_first_sentence():
    a = read("source/_posts/编程/开源中国/资讯/ .md")
    assert a.title.startswith("此版本已改为Nacos注册中心")
    assert a.title.endswith("。")
    assert any("blank title" in w for w in a.warnings)


def test_date_forms():
    assert parse_date("Mon, 30 Aug 2021 14:10:13 GMT", SHANGHAI) == datetime(2021, 8, 30, 14, 10, 13, tzinfo=timezone.utc)
    # naive dates are in the site's zone
    assert parse_date("2021-07-31 05:06:47", SHANGHAI) == datetime(2021, 7, 30, 21, 6, 47, tzinfo=timezone.utc)
    assert parse_date("2021-7-1", SHANGHAI) == datetime(2021, 6, 30, 16, 0, tzinfo=timezone.utc)
    assert parse_date("2021-07-31T05:06:47Z", SHANGHAI) == datetime(2021, 7, 31, 5, 6, 47, tzinfo=timezone.utc)
    assert parse_date("Invalid Date", SHANGHAI) is None
    assert parse_date("", SHANGHAI) is None


def test_invalid_date_uses_mtime_with_a_warning():
    a = read("Dribbble - 流行/1.md")
    assert a.date == MTIME
    assert a.warnings == ("date 'Invalid Date' cannot be read; using the file's modification time",)


def test_missing_date_uses_mtime():
    a = read("x.md", b"---\ntitle: t\n---\nbody")
    assert a.date == MTIME and "no date" in a.warnings[0]


def test_categories_as_string_and_blank_levels():
    a = read("x.md", "---\ntitle: t\ncategories: 新闻, [科技](http://x)\n---\n".encode())
    assert a.categories == ("新闻", "科技")
    a = read("x.md", "---\ntitle: t\ncategories:\n -  - 资讯\n - ''\n - 资讯\n---\n".encode())
    assert a.categories == ("资讯",)


def test_not_utf8_is_read_with_a_warning():
    text = "\n---\ntitle: 中文标题\ndate: 2021-01-01 00:00:00\n---\n<p>正文</p>\n"
    a = read("gbk.md", text.encode("gb18030"))
    assert a.title == "中文标题"
    assert a.body == "<p>正文</p>"
    assert "not UTF-8" in a.warnings[0]


def test_empty_body_and_plain_text_body():
    assert read("x.md", b"---\ntitle: t\ndate: 2021-01-01\n---\n").body == ""
    assert read("x.md", b"---\ntitle: t\ndate: 2021-01-01\n---\nplain words").body == "plain words"


@pytest.mark.parametrize(
    "data, line, reason",
    [
        (b"just text, no front matter", 1, "no front matter"),
        (b"\n\n---\ntitle: half written\ncategories:\n", 3, "not closed"),
        (b"", 1, "no front matter"),
    ],
)
def test_unusable_files_name_the_line_and_reason(data, line, reason):
    with pytest.raises(ArticleError) as e:
        read("bad.md", data)
    assert e.value.path == "bad.md" and e.value.line == line and reason in e.value.reason
    assert str(e.value).startswith(f"bad.md:{line}: ")


def test_scraper_braces_are_restored_in_front_matter():
    assert read("x.md", b"---\ntitle: a &#123;b&#125;\n---\n").title == "a {b}"


def test_control_characters_are_dropped():
    assert read("x.md", b"---\ntitle: a\x01b\x0c\n---\n").title == "ab"


def test_fast_front_matter_path_agrees_with_yaml():
    import yaml

    from feeder.read import _BOUNDARY, _load_simple

    answered = 0
    for path in CORPUS.rglob("*.md"):
        fm = _BOUNDARY.split(path.read_text(encoding="utf-8").lstrip(), 2)[1]
        fast = _load_simple(fm)
        if fast is None:
            continue
        answered += 1
        slow = {k: "" if v is None else v for k, v in yaml.load(fm, Loader=yaml.BaseLoader).items()}
        assert fast == slow, path
    assert answered > 90  # the fast path answers for nearly every real post


@pytest.mark.parametrize(
    "fm",
    ["title: a # comment", "title: 'x' tail", "title: a: b", 'title: "esc\\n"', "title: |\n  block", "title: [a, b]",
     "title: x\ntitle: y", "title: &anchor x", "categories:\n  - [a, b]"],
)
def test_fast_path_declines_what_it_cannot_read_exactly(fm):
    from feeder.read import _load_simple

    assert _load_simple("\n" + fm + "\n") is None
