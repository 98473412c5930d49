"""Summaries, thumbnails and content derived from real articles."""

from __future__ import annotations

import re
import zoneinfo
from datetime import datetime, timezone

import pytest

from feeder.config import Config
from feeder.derive import Rules, derive, entry_id, sanitize, summarize
from feeder.read import parse_article
from tests.conftest import CORPUS, SEEDS

CFG = Config()
RULES = Rules.build(
    base_url="https://example.org/",
    permalink=CFG.feeds.permalink,
    summary_length=200,
    drop_classes=CFG.content.drop_classes,
    drop_text=CFG.content.drop_text,
    placeholder_images=CFG.content.placeholder_images,
)
MTIME = datetime(2000, 1, 1, tzinfo=timezone.utc)
TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
SEED = "金融/新浪财经/新浪财经－国內/北京市地方金融监管局：将选择部分园区推动近零排放试点，率先实现碳中和.md"
BOILERPLATE = re.compile(r"责任编辑|尽在新浪财经APP|appendQr|\.appendQr|&#123;|\{border|复制代码|<!--|扫码")


def entry_of(rel: str, data: bytes | None = None, root=CORPUS, rules=RULES):
    data = (root / rel).read_bytes() if data is None else data
    return derive(parse_article(rel, data, MTIME, TZ), rules)


def all_corpus():
    return sorted(p.relative_to(CORPUS).as_posix() for p in CORPUS.rglob("*.md"))


def test_seed_article():
    e = entry_of(SEED, root=SEEDS)
    assert e.summary.startswith("原标题：北京市地方金融监管局：将选择部分园区推动近零排放试点，率先实现碳中和 证券时报记者 贺觉渊 8月30日")
    assert e.summary.endswith("。")  # cut at a sentence end, so no ellipsis
    assert len(e.summary) <= 200
    assert "\u3000" not in e.summary and "  " not in e.summary
    # the headimg is the app logo that only appears in the QR promotion footer
    assert e.thumbnail is None
    assert "责任编辑" not in e.content and "新浪财经APP" not in e.content and "<style" not in e.content
    assert "北京市地方金融监管局将进一步加强绿色金融布局" in e.content


@pytest.mark.parametrize("rel", all_corpus())
def test_no_boilerplate_in_any_corpus_summary(rel):
    e = entry_of(rel)
    assert not BOILERPLATE.search(e.summary), e.summary
    assert len(e.summary) <= 200
    assert e.summary == e.summary.strip() and "  " not in e.summary


@pytest.mark.parametrize("rel", all_corpus())
def test_no_placeholder_or_promotion_thumbnail(rel):
    e = entry_of(rel)
    if e.thumbnail is not None:
        assert e.thumbnail.startswith(("http://", "https://"))
        assert "picsum.photos" not in e.thumbnail
        assert not e.thumbnail.endswith("/undefined")
        assert e.thumbnail != "https://n.sinaimg.cn/finance/cece9e13/20200514/343233024.png"  # sina's app logo


def test_picsum_headimg_falls_back_to_first_content_image():
    body = '<p>text</p><img src="/img/a.png" width="600"><img src="https://x.org/b.png">'
    data = article_bytes(headimg="https://picsum.photos/400/300?random=1", body=body)
    e = entry_of("a/b.md", data)
    assert e.thumbnail == "https://example.org/img/a.png"  # resolved against the article link


def test_tiny_and_data_images_are_not_thumbnails():
    body = '<img src="data:image/png;base64,AAA"><img src="https://x.org/icon.png" width="16"><p>t</p>'
    assert entry_of("a.md", article_bytes(body=body)).thumbnail is None


def test_real_thumbnail_is_kept():
    rel = "source/_posts/游戏/3DMGame/新闻中心/10年前的今天 《质量效应3》发售了.md"
    assert entry_of(rel).thumbnail == "https://img.3dmgame.com/uploads/images/news/20220306/1646575405_556289.jpg"


def test_content_is_sanitised_and_urls_absolute():
    body = (
        '<p onclick="steal()">Hi <a href="javascript:alert(1)">x</a> <a href="/about">about</a></p>'
        '<script>alert(1)</script><iframe src="https://evil"></iframe><style>p{}</style>'
        '<img src="pic.jpg" onerror="x()"><video onclick="y()" src="v.mp4"></video>'
    )
    e = entry_of("blog/post.md", article_bytes(body=body))
    for bad in ("onclick", "javascript:", "<script", "alert", "<iframe", "<style", "onerror", "<video"):
        assert bad not in e.content
    assert 'href="https://example.org/about"' in e.content
    assert 'src="https://example.org/2021/08/30/blog/post/pic.jpg"' in e.content


def test_summary_cuts_at_sentence_end_cjk():
    text = "第一句话很长很长很长。" * 30
    s = summarize(text, 100)
    assert s.endswith("。") and len(s) <= 100 and len(s) >= 60


def test_summary_cuts_latin_at_word_with_ellipsis():
    text = "word " * 100
    s = summarize(text, 53)
    assert s.endswith("word…") and len(s) <= 53


def test_summary_short_text_untouched():
    assert summarize("  short\u3000text\n\n here ", 200) == "short text here"


def test_editor_line_and_copy_button_removed():
    body = "<p>正文第一段。</p><pre><code>x=1</code><button>复制代码</button></pre><p class='x'>责任编辑：张三 </p>"
    e = entry_of("a.md", article_bytes(body=body))
    assert e.summary == "正文第一段。 x=1"


def test_configurable_rules():
    rules = Rules.build(base_url="https://e.org/", permalink="{stem}.html", summary_length=50,
                        drop_classes=("ad",), drop_text=(r"^广告",), placeholder_images=())
    body = '<div class="ad">buy</div><p>广告：买</p><p>内容</p>'
    e = entry_of("x/y.md", article_bytes(body=body), rules=rules)
    assert e.summary == "内容"
    assert e.link == "https://e.org/y.html"


def test_ids_are_stable_and_distinct():
    assert entry_id("a/b.md") == entry_id("a/b.md") == "urn:uuid:" + entry_id("a/b.md").split(":")[-1]
    assert entry_id("a/b.md") != entry_id("a/c.md")
    # fixed forever: changing it would make every reader show every item again
    assert entry_id("金融/x.md") == "urn:uuid:5d77533f-70c6-5af4-bc13-49da901f5552"


def test_sanitize_keeps_ordinary_markup():
    assert sanitize('<p><b>b</b> <a href="https://x.org">l</a></p>') == (
        '<p><b>b</b> <a href="https://x.org" rel="noopener noreferrer nofollow">l</a></p>'
    )


def article_bytes(body: str = "<p>t</p>", headimg: str = "") -> bytes:
    from tests.conftest import article

    return article(body=body, headimg=headimg).encode()
