"""Tests for feeder.telegram_format: golden posts, hashtags, templates, limits."""

from __future__ import annotations

import ast
import html as html_lib
import random
import re
from pathlib import Path

import pytest

from feeder import telegram_format as tf
from feeder.errors import FeederError
from feeder.telegram_format import (
    DEFAULT_TEMPLATE,
    MAX_CAPTION_LENGTH,
    MAX_ENTITIES,
    MAX_TEXT_LENGTH,
    Post,
    PostSource,
    PostStyle,
    TelegramHTMLError,
    TemplateError,
    hashtag,
    hashtags,
    render_post,
    telegram_length,
    to_plain,
    validate_template,
)

SINA_TITLE = "北京市地方金融监管局：将选择部分园区推动近零排放试点，率先实现碳中和"
SINA_SUMMARY = (
    "8月30日，记者从北京市地方金融监管局获悉，下一步，北京将进一步做好绿色金融发展工作。"
    "北京市地方金融监管局将进一步加强绿色金融布局。以城市副中心为绿色金融的主要载体，推动绿色金融先行示范区建设。"
)
SINA_LINK = "https://finance.sina.com.cn/roll/2021-08-30/doc-iktzqtyt3213413.shtml"
SINA_IMAGE = "https://n.sinaimg.cn/finance/cece9e13/20200514/343233024.png"


def sina(**changes) -> PostSource:
    fields = dict(
        title=SINA_TITLE,
        summary=SINA_SUMMARY,
        link=SINA_LINK,
        categories=("金融", "新浪财经", "新浪财经－国內"),
        author="新浪财经",
        image=SINA_IMAGE,
    )
    return PostSource(**{**fields, **changes})


ENGLISH = PostSource(
    title="Python 3.11: What's new for async code",
    summary=(
        "Task groups and exception groups change how asyncio programs handle failure. "
        "This article walks through both, with examples you can run."
    ),
    link="https://www.example.org/blog/python-311-async?utm_source=feed&ref=1",
    categories=("Python", "Open Source", "C++", "python", "2021"),
    author="Jane Doe",
    image=None,
)


# --------------------------------------------------------------------------
# Golden posts


def test_chinese_finance_article_as_photo():
    assert render_post(sina(), PostStyle()) == Post(
        text=(
            "<b>北京市地方金融监管局：将选择部分园区推动近零排放试点，率先实现碳中和</b>\n"
            "\n"
            "8月30日，记者从北京市地方金融监管局获悉，下一步，北京将进一步做好绿色金融发展工作。"
            "北京市地方金融监管局将进一步加强绿色金融布局。以城市副中心为绿色金融的主要载体，推动绿色金融先行示范区建设。\n"
            "\n"
            '<a href="https://finance.sina.com.cn/roll/2021-08-30/doc-iktzqtyt3213413.shtml">finance.sina.com.cn</a>\n'
            "\n"
            "#金融 #新浪财经 #新浪财经_国內"
        ),
        photo=SINA_IMAGE,
        preview_url=None,
        show_preview=False,
    )


def test_english_article_as_text_with_preview():
    post = render_post(ENGLISH, PostStyle(photo_mode="text", link_preview=True))
    assert post == Post(
        text=(
            "<b>Python 3.11: What's new for async code</b>\n"
            "\n"
            "Task groups and exception groups change how asyncio programs handle failure. "
            "This article walks through both, with examples you can run.\n"
            "\n"
            '<a href="https://www.example.org/blog/python-311-async?utm_source=feed&amp;ref=1">example.org</a>\n'
            "\n"
            "#Python #OpenSource #C"
        ),
        photo=None,
        preview_url=None,
        show_preview=True,
    )


def test_custom_template_with_author_and_photo_mode_without_image_is_text():
    style = PostStyle(template='<b>{title}</b>\n<i>{author}</i>\n\n{summary}\n\n<a href="{link}">Read more</a>\n{tags}')
    assert render_post(ENGLISH, style) == Post(
        text=(
            "<b>Python 3.11: What's new for async code</b>\n"
            "<i>Jane Doe</i>\n"
            "\n"
            "Task groups and exception groups change how asyncio programs handle failure. "
            "This article walks through both, with examples you can run.\n"
            "\n"
            '<a href="https://www.example.org/blog/python-311-async?utm_source=feed&amp;ref=1">Read more</a>\n'
            "#Python #OpenSource #C"
        ),
        photo=None,
        preview_url=None,
        show_preview=False,
    )


def test_markup_characters_are_escaped_and_never_substituted_again():
    src = PostSource(
        title='Tom & Jerry: <script>alert("x")</script> & {summary} > 1',
        summary="a<b && c>d; use &amp; literally",
        link='https://example.com/search?q="a&b"&x=<y>',
        categories=("A&B", "<tag>"),
        author="",
        image="https://example.com/p.jpg",
    )
    post = render_post(src, PostStyle(photo_mode="preview"))
    assert post == Post(
        text=(
            "<b>Tom &amp; Jerry: &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; {summary} &gt; 1</b>\n"
            "\n"
            "a&lt;b &amp;&amp; c&gt;d; use &amp;amp; literally\n"
            "\n"
            '<a href="https://example.com/search?q=&quot;a&amp;b&quot;&amp;x=&lt;y&gt;">example.com</a>\n'
            "\n"
            "#A_B #tag"
        ),
        photo=None,
        preview_url="https://example.com/p.jpg",
        show_preview=True,
    )
    assert to_plain(post.text) == (
        'Tom & Jerry: <script>alert("x")</script> & {summary} > 1\n'
        "\n"
        "a<b && c>d; use &amp; literally\n"
        "\n"
        "example.com\n"
        "\n"
        "#A_B #tag"
    )
    assert telegram_length(post.text) == 113


def test_missing_summary_and_tags_leave_no_blank_lines():
    src = PostSource("Just a title", "  ", "https://example.com/x", ("2021", "!!!"), "", None)
    assert render_post(src, PostStyle()).text == '<b>Just a title</b>\n\n<a href="https://example.com/x">example.com</a>'


# Sentences of 50 characters: "Sentence 0000 is one part of a long article body. "
LONG_SENTENCES = [f"Sentence {i:04d} is one part of a long article body. " for i in range(200)]
LONG_SUMMARY = "".join(LONG_SENTENCES)


def test_ten_thousand_character_summary_is_cut_at_a_sentence_for_a_message():
    assert len(LONG_SUMMARY) == 10_000
    src = PostSource("A long read", LONG_SUMMARY, "https://example.com/long", ("Reading",), "", None)
    post = render_post(src, PostStyle(photo_mode="text"))
    # Title, link, tag and blank lines take 36; 81 sentences less ". " plus "…" take 4049 (82: 4099).
    kept = "".join(LONG_SENTENCES[:81]).rstrip(" .") + "…"
    assert post.text == (
        f"<b>A long read</b>\n\n{kept}\n\n"
        '<a href="https://example.com/long">example.com</a>\n\n#Reading'
    )
    assert telegram_length(post.text) == 4085


def test_ten_thousand_character_summary_is_cut_for_a_caption():
    src = PostSource("A long read", LONG_SUMMARY, "https://example.com/long", ("Reading",), "", "https://example.com/i.png")
    post = render_post(src, PostStyle())
    kept = "".join(LONG_SENTENCES[:19]).rstrip(" .") + "…"  # 36 + 949 = 985; 20 sentences: 1035
    assert post == Post(
        text=f"<b>A long read</b>\n\n{kept}\n\n" '<a href="https://example.com/long">example.com</a>\n\n#Reading',
        photo="https://example.com/i.png",
        preview_url=None,
        show_preview=False,
    )
    assert telegram_length(post.text) <= MAX_CAPTION_LENGTH


def test_chinese_summary_is_cut_at_a_sentence_end():
    sentences = [f"第{i:03d}句：北京将进一步做好绿色金融发展工作，推动近零排放试点。" for i in range(300)]
    post = render_post(sina(summary="".join(sentences)), PostStyle())
    # Sentences are 32 characters; the rest of the post 78: 29 sentences make 1005, 30 would make 1037.
    kept = "".join(sentences[:29]).rstrip("。") + "…"
    assert post.text == (
        f"<b>{SINA_TITLE}</b>\n\n{kept}\n\n"
        f'<a href="{SINA_LINK}">finance.sina.com.cn</a>\n\n#金融 #新浪财经 #新浪财经_国內'
    )
    assert telegram_length(post.text) <= MAX_CAPTION_LENGTH


def test_summary_without_sentences_is_cut_between_words():
    words = " ".join(f"word{i}" for i in range(1000))
    post = render_post(PostSource("T", words, "https://example.com/", (), "", "https://example.com/i.png"), PostStyle())
    summary = post.text.split("\n\n")[1]
    assert summary.endswith("…")
    assert words.startswith(summary[:-1] + " ")  # whole words only


def test_astral_emoji_count_two_units():
    assert telegram_length("😀") == 2
    assert telegram_length("&#128512;") == 2
    assert telegram_length("&#x1F600;") == 2
    assert telegram_length("<b>👍🏽</b>") == 4
    src = PostSource("Emoji", "😀" * 3000, "https://example.com/e", (), "", None)
    post = render_post(src, PostStyle(photo_mode="text"))
    # "Emoji" 5 + 2 blank lines 4 + link text 11 = 20 units; 2037 emoji and "…" take 4075.
    assert post.text == "<b>Emoji</b>\n\n" + "😀" * 2037 + '…\n\n<a href="https://example.com/e">example.com</a>'
    assert telegram_length(post.text) == 4095


def test_title_too_long_for_a_caption_becomes_a_preview_message_with_the_whole_title():
    title = "监管" * 600  # 1200 characters
    post = render_post(sina(title=title), PostStyle())
    assert post == Post(
        text=(
            f"<b>{title}</b>\n\n{SINA_SUMMARY}\n\n"
            f'<a href="{SINA_LINK}">finance.sina.com.cn</a>\n\n#金融 #新浪财经 #新浪财经_国內'
        ),
        photo=None,
        preview_url=SINA_IMAGE,
        show_preview=True,
    )


def test_title_too_long_for_a_message_is_cut_as_a_last_resort():
    title = "word " * 1000
    post = render_post(PostSource(title, "summary", "https://example.com/t", ("Tag",), "", None), PostStyle())
    # Link, tag and blank lines take 19; 815 words and "…" take 4075 (816: 4080).
    kept = ("word " * 815).strip() + "…"
    assert post.text == f'<b>{kept}</b>\n\n<a href="https://example.com/t">example.com</a>\n\n#Tag'
    assert telegram_length(post.text) == 4094


def test_hashtags_beyond_the_entity_limit_are_dropped_whole():
    src = PostSource("T", "S", "https://example.com/", tuple(f"tag{i}" for i in range(150)), "", None)
    text = render_post(src, PostStyle()).text
    # bold + link + 97 tags; "example.com" counts as a possible URL entity.
    assert text.endswith("#tag95 #tag96")
    assert tf._entity_count(text) <= MAX_ENTITIES


def test_long_tag_list_never_cuts_a_tag():
    categories = tuple(f"{'分类' * 100}{i:03d}x" for i in range(60))
    post = render_post(PostSource("T", "S", "https://example.com/", categories, "", "https://example.com/i.png"), PostStyle())
    assert post.photo is None and post.preview_url == "https://example.com/i.png"
    tags = post.text.rsplit("\n\n", 1)[1].split(" ")
    assert tags == [t for t in hashtags(categories)][: len(tags)]
    assert telegram_length(post.text) <= MAX_TEXT_LENGTH


# --------------------------------------------------------------------------
# Hashtags


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("金融", "#金融"),
        ("新浪财经－国內", "#新浪财经_国內"),
        ("AGE 动漫 - 番剧详情", "#AGE动漫_番剧详情"),
        ("Dev.to - 最高职位", "#Dev_to_最高职位"),
        ("Open Source", "#OpenSource"),
        ("C++", "#C"),
        ("C#", "#C"),
        ("node.js", "#node_js"),
        ("Wi-Fi", "#Wi_Fi"),
        ("Don't Panic", "#DontPanic"),
        ("__init__", "#init"),
        ("ＡＩ 人工智能", "#AI人工智能"),  # full-width forms normalised
        ("café", "#café"),
        ("cafe\u0301", "#café"),  # decomposed accent is composed
        ("3D打印", "#3D打印"),
        ("#tag", "#tag"),
        ("🔥 热门", "#热门"),
        ("詹姆斯·邦德", "#詹姆斯·邦德"),  # middle dot is a hashtag character in tdlib
        ("2021", None),  # Telegram needs a letter
        ("2021-08-30", None),
        ("!!!", None),
        ("", None),
        ("   ", None),
    ],
)
def test_hashtag(name, expected):
    assert hashtag(name) == expected


def test_hashtag_is_cut_to_what_telegram_links():
    assert hashtag("a" * 300) == "#" + "a" * 256
    assert hashtag("a" * 255 + "-b") == "#" + "a" * 255


def test_hashtags_drop_duplicates_ignoring_case_and_keep_order():
    assert hashtags(["Python", "python", "新浪财经", "Py thon", "2021", "PYTHON"]) == ("#Python", "#新浪财经")


def test_every_hashtag_is_one_whole_telegram_hashtag():
    rng = random.Random(7)
    alphabet = "ab Z9_-.·'#@&中文字한글カナ\u0301\u200d😀＋－　"
    for _ in range(500):
        tag = hashtag("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 20))))
        if tag is not None:
            assert tf._count_hashtags(tag) == 1
            assert tf._count_hashtags(f"x {tag} y") == 1


# --------------------------------------------------------------------------
# Templates


def test_default_template_is_valid():
    validate_template(DEFAULT_TEMPLATE)
    validate_template('<blockquote expandable>{summary}</blockquote>\n<a href="https://t.me/s/{author}">{author}</a>')
    validate_template('<blockquote>{title}</><blockquote>{summary}</blockquote>\n<a href="{link}#comments">{host}</a>')
    validate_template("x" * 4000 + '<a href="{link}">{title}</a>')  # an href is not text


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        ("<b>{title}</b> {date}", "unknown placeholder {date}"),
        ("{title.__class__}", "unknown placeholder {title.__class__}"),
        ("{}", "unknown placeholder {}"),
        ("<p>{title}</p>", 'Unsupported start tag "p" at byte offset 0'),
        ("<b>{title}", 'Can\'t find end tag corresponding to start tag "b"'),
        ("{title}</b>", "Unexpected end tag at byte offset 7"),  # offsets point into the template
        ("<b><i>{title}</b></i>", 'expected "</i>", found "</b>"'),
        ("1 < 2 {title}", "Unsupported start tag"),
        ("<span>{title}</span>", 'must have class "tg-spoiler"'),
        ("<a href='{link}'>x</a>", "must be inside a double-quoted attribute value"),
        ("<a href={link}>x</a>", "must be inside a double-quoted attribute value"),
        ('<a href="{title}">x</a>', 'must link to "{link}" or an http(s) URL'),
        ('<a href="javascript:alert(1)">{title}</a>', "must link to"),
        ("<a>{link}</a>", "needs an href"),
        ("<blockquote><blockquote>{summary}</blockquote></blockquote>", "blockquote inside a blockquote"),
        ("<blockquote><b>x</><blockquote>{summary}</></>", "blockquote inside a blockquote"),
        ("", "shows nothing"),
        ("x" * 4097 + "{title}", "its own text is 4097 characters"),
    ],
)
def test_invalid_templates_are_refused_with_a_reason(template, reason):
    with pytest.raises(TemplateError, match=re.escape(reason)):
        validate_template(template)
    with pytest.raises(TemplateError):
        PostStyle(template=template)


def test_errors_belong_to_the_feeder_tree_and_are_value_errors():
    for error in (TemplateError, TelegramHTMLError):
        assert issubclass(error, FeederError) and issubclass(error, ValueError)


def test_literal_braces_are_written_as_references():
    style = PostStyle(template="&#123;{title}&#125;\n{link}")
    src = PostSource("T", "", "https://example.com/", (), "", None)
    assert to_plain(render_post(src, style).text) == "{T}\nhttps://example.com/"


def test_line_is_dropped_only_when_all_its_placeholders_are_empty():
    style = PostStyle(template="<b>{title}</b>\nBy {author}\n\n\n{summary} {tags}\n\n{link}")
    src = PostSource("T", "", "https://example.com/", ("x",), "", None)
    assert render_post(src, style).text == "<b>T</b>\n\n #x\n\nhttps://example.com/"


def test_line_whose_tags_span_lines_is_kept_when_empty():
    style = PostStyle(template='<blockquote expandable>{summary}\n</blockquote>\n<a href="{link}">{title}</a>')
    src = PostSource("T", "", "https://example.com/", (), "", None)
    assert render_post(src, style).text == (
        '<blockquote expandable>\n</blockquote>\n<a href="https://example.com/">T</a>'
    )


def test_a_message_is_never_empty():
    src = PostSource("T", "", "https://example.com/?a=1&b=2", (), "", None)
    assert render_post(src, PostStyle(template="{summary}", photo_mode="text")).text == "https://example.com/?a=1&amp;b=2"


def test_text_that_cannot_be_shortened_is_sent_plain_as_a_last_resort():
    style = PostStyle(template='<i>{author}</i> <a href="{link}">{title}</a>\n{tags}')
    src = PostSource("T", "S", "https://example.com/", ("Tag",), "<" * 5000, None)
    assert render_post(src, style).text == "&lt;" * 4095 + "…"


def test_host_is_shown_without_www_and_decoded():
    src = PostSource("T", "", "https://www.xn--bcher-kva.example/a", (), "", None)
    assert render_post(src, PostStyle()).text.endswith(">bücher.example</a>")
    src = PostSource("T", "", "https://xn--zz.example/a", (), "", None)  # not valid punycode: shown as is
    assert render_post(src, PostStyle()).text.endswith(">xn--zz.example</a>")


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("short", 5, "short"),
        ("short!", 5, "shor…"),
        ("e\u0301" * 10, 6, "e\u0301e\u0301…"),  # never separates an accent from its letter
        ("ab👨\u200d👩\u200d👧", 6, "ab…"),  # nor splits an emoji sequence
        ("一二三四五六七八九十", 6, "一二三四五…"),  # any two CJK characters are a word boundary
        ("one two, three", 12, "one two…"),
        ("Done. Then more", 10, "Done…"),
        ("x", 0, ""),
    ],
)
def test_shorten(text, limit, expected):
    assert tf._shorten(text, limit) == expected


def test_style_and_source_are_checked_where_they_enter():
    with pytest.raises(TemplateError, match="photo_mode"):
        PostStyle(photo_mode="video")
    with pytest.raises(ValueError, match="http"):
        PostSource("T", "", "javascript:alert(1)", (), "", None)
    with pytest.raises(ValueError, match="http"):
        PostSource("T", "", "/relative/link", (), "", None)
    with pytest.raises(ValueError, match="image"):
        PostSource("T", "", "https://example.com/", (), "", "data:image/png;base64,AAAA")
    assert PostSource("T", "", "https://example.com/", ["a", "b"], "", None).categories == ("a", "b")


# --------------------------------------------------------------------------
# Parsing as Telegram does


@pytest.mark.parametrize(
    ("html", "plain"),
    [
        ("&amp;", "&"),
        ("&lt;b&gt;", "<b>"),
        ("&quot;&QUOT;", '"&QUOT;'),  # named references are case-sensitive
        ("a &amp b", "a & b"),  # the semicolon is optional
        ("&nbsp;&copy;", "&nbsp;&copy;"),  # only four named references exist
        ("&#65;&#x42;&#X43;", "AB&#X43;"),
        ("&#0;&#1114111;", "&#0;&#1114111;"),  # out of range: kept literally
        ("<b>bold</b> <i>it</i> <a href=\"https://e.com/?a=1&amp;b=2\">link</a>", "bold it link"),
        ("<pre><code class=\"language-python\">x = 1</code></pre>", "x = 1"),
        ("<tg-spoiler>s</tg-spoiler><span class=\"tg-spoiler\">p</span>", "sp"),
        ("<blockquote expandable>q</blockquote>", "q"),
        ("<B>upper</B>", "upper"),
        ("<b>x</>", "x"),  # an empty end tag closes the open one
        ("<b x>y</b>", "y"),  # attributes without a value are accepted
        ("<code class=language-py>x</code>", "x"),  # unquoted attribute values
        ('<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>', "👍"),
        ("<pre>p</pre>", "p"),
    ],
)
def test_entity_parsing(html, plain):
    assert to_plain(html) == plain
    assert telegram_length(html) == len(plain.encode("utf-16-le")) // 2


@pytest.mark.parametrize(
    ("html", "message"),
    [
        ("<p>x</p>", 'Unsupported start tag "p" at byte offset 0'),
        ("ab</b>", "Unexpected end tag at byte offset 2"),
        ("中<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b", "Unclosed start tag at byte offset 0"),
        ("<b>x</b", "Unclosed end tag at byte offset 4"),
        ('<a href="x">y</a', "Unclosed end tag"),
        ("<tg-emoji emoji-id=\"abc\">x</tg-emoji>", "Invalid custom emoji identifier specified"),
        ("&#xD83D;&#xDE00;", "invalid Unicode characters"),
        ("<b/>", 'Unsupported start tag "b/"'),
        ("<b class=x/>", "Unexpected end of name token at byte offset 9"),
        ('<b class="x', "Unclosed start tag at byte offset 0"),
        ("<b class", 'Unclosed start tag "b"'),
        ("<b =x>", 'Empty attribute name in the tag "b"'),
    ],
)
def test_parse_errors_use_telegram_wording(html, message):
    with pytest.raises(TelegramHTMLError, match=re.escape(message)):
        telegram_length(html)


def test_to_plain_still_works_on_text_telegram_refused():
    assert to_plain("<p>Hello &amp; <b>bye</p> 1 &lt; 2 &nbsp;") == "Hello & bye 1 < 2 &nbsp;"


# --------------------------------------------------------------------------
# Properties


_TAG_RE = re.compile(r'<(/?)(b|i|u|s|a|code|pre|blockquote)((?: [a-z-]+(?:="[^"<>]*")?)*)>')
_REFERENCE_RE = re.compile(r"&(?:amp|lt|gt|quot|#[0-9]+);")


def _check_telegram_html(text: str) -> str:
    """Independent check: only allowed, balanced tags and known references; returns the plain text."""
    stack: list[str] = []
    plain: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "<":
            m = _TAG_RE.match(text, i)
            assert m, f"bad tag at {i}: {text[i:i + 30]!r}"
            if m.group(1):
                assert stack and stack.pop() == m.group(2), f"unbalanced at {i}"
            else:
                stack.append(m.group(2))
            i = m.end()
        elif c == "&":
            m = _REFERENCE_RE.match(text, i)
            assert m, f"bare & at {i}: {text[i:i + 10]!r}"
            plain.append(html_lib.unescape(m.group(0)))
            i = m.end()
        else:
            assert c != ">", f"bare > at {i}"
            plain.append(c)
            i += 1
    assert not stack, f"unclosed {stack}"
    return "".join(plain)


_TEMPLATES = [
    DEFAULT_TEMPLATE,
    '<b>{title}</b>\n<i>{author}</i>\n{summary}\n<a href="{link}">Read more</a> {tags}',
    '<blockquote expandable>{summary}</blockquote>\n<b><a href="{link}">{title}</a></b>\n{tags}',
    "{title}\n{summary}\n<code>{link}</code>\n{tags} {author}",
]
_PIECES = [
    "a", "Z", "9", " ", " ", "\n", "\t", "<", ">", "&", "&amp;", '"', "'", "{", "}", "{title}",
    "<b>", "</b>", "#", "@", "_", "-", ".", "。", "，", "中", "文", "字", "한", "カ", "😀", "👍🏽",
    "👨\u200d👩\u200d👧", "e\u0301", "\u200d", "\ufe0f", "\r", "\x00", "www.example.com", "#tag",
]  # fmt: skip


def _random_text(rng: random.Random, max_pieces: int) -> str:
    return "".join(rng.choice(_PIECES) for _ in range(rng.randint(0, max_pieces)))


def test_rendered_posts_always_parse_and_fit():
    rng = random.Random(20210830)
    for _ in range(250):
        size = rng.choice([5, 50, 400, 3000])
        src = PostSource(
            title=_random_text(rng, rng.choice([3, 30, 600, 2500])),
            summary=_random_text(rng, size),
            link="https://example.com/" + _random_text(rng, 5).replace("\n", ""),
            categories=tuple(_random_text(rng, 6) for _ in range(rng.choice([0, 3, 120]))),
            author=_random_text(rng, 5),
            image=rng.choice([None, "https://example.com/i.png"]),
        )
        style = PostStyle(template=rng.choice(_TEMPLATES), photo_mode=rng.choice(tf.PHOTO_MODES))
        post = render_post(src, style)
        plain = _check_telegram_html(post.text)
        limit = MAX_CAPTION_LENGTH if post.photo else MAX_TEXT_LENGTH
        assert len(plain.encode("utf-16-le")) // 2 <= limit
        assert telegram_length(post.text) <= limit
        assert to_plain(post.text) == plain
        assert plain.strip() or post.photo
        assert (post.photo is not None) == (style.photo_mode == "photo" and src.image is not None and post.preview_url is None)


def test_shorten_is_fast_and_bounded():
    for limit in range(0, 120):
        cut = tf._shorten(LONG_SUMMARY, limit)
        assert len(cut) <= limit
        assert cut == "" or cut.endswith("…")


# --------------------------------------------------------------------------
# The module itself


def test_limits_match_python_telegram_bot():
    from telegram.constants import MessageLimit

    assert MAX_TEXT_LENGTH == MessageLimit.MAX_TEXT_LENGTH
    assert MAX_CAPTION_LENGTH == MessageLimit.CAPTION_LENGTH
    assert MAX_ENTITIES == MessageLimit.MESSAGE_ENTITIES


def test_module_is_pure():
    """Standard library only (no telegram, no I/O modules), plus feeder's error tree."""
    tree = ast.parse(Path(tf.__file__).read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module or "")
    assert imported <= {"__future__", "dataclasses", "functools", "re", "unicodedata", "urllib.parse", "feeder.errors"}
