"""Tests of the fake Bot API server, driven through real python-telegram-bot.

PTB strips "Bad Request: " from descriptions and then ``str.capitalize()``s
the rest (lower-casing everything after the first letter), so exact texts are
asserted on the fake's own request records (``fake.requests[-1].description``).
"""

from __future__ import annotations

import asyncio
import threading
import time
import warnings
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
import telegram
from fake_telegram import (
    EntityParseError,
    FakeChat,
    FakeTelegram,
    checked_link,
    image_size,
    make_png,
    normalize_text,
    parse_html,
    text_length,
)
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.request import HTTPXRequest

pytestmark = [
    pytest.mark.timeout(30),
    # PTB warns about its own int retry_after inside RetryAfter.__init__
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
]

NO_LIMITS = dict(per_chat_min_interval=None, per_chat_per_minute=None, global_per_second=None)
CHATS = ["@news", "@other", FakeChat(-1002000000001, username="grp", title="Group", type="supergroup")]


@pytest.fixture
def fake():
    with FakeTelegram(chats=CHATS, **NO_LIMITS) as server:
        yield server
        assert server.internal_errors == []


def make_bot(fake: FakeTelegram, **request_kwargs) -> telegram.Bot:
    request = HTTPXRequest(**request_kwargs) if request_kwargs else None
    return telegram.Bot(fake.token, base_url=fake.base_url, request=request)


def run(fake: FakeTelegram, scenario, **request_kwargs):
    """Run ``await scenario(bot)`` with an initialised PTB bot."""

    async def main():
        async with make_bot(fake, **request_kwargs) as bot:
            return await scenario(bot)

    return asyncio.run(main())


def retry_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else value


def last_description(fake: FakeTelegram) -> str | None:
    return fake.requests[-1].description


# --------------------------------------------------------------------------
# The HTML parser on its own (tdlib parse_html semantics)
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "html, error",
    [
        ("<p>x</p>", 'Unsupported start tag "p" at byte offset 0'),
        ("héllo <br>", 'Unsupported start tag "br" at byte offset 7'),  # é is 2 bytes
        ("a</b>", "Unexpected end tag at byte offset 1"),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("x <b", "Unclosed start tag at byte offset 2"),
        ('<span class="x">y</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ('<a href="x"/>', 'Empty attribute name in the tag "a" at byte offset 0'),
        ("<b/>", 'Unsupported start tag "b/" at byte offset 0'),
        ("<tg-emoji emoji-id=abc>x</tg-emoji>", "Invalid custom emoji identifier specified"),
        ("<b>x</b >", None),
    ],
)
def test_parse_html_errors(html, error):
    if error is None:
        assert parse_html(html) == ("x", [{"type": "bold", "offset": 0, "length": 1}])
        return
    with pytest.raises(EntityParseError) as info:
        parse_html(html)
    assert str(info.value) == error


def test_parse_html_entities_and_escapes():
    assert parse_html("a & b &nbsp; &lt;&gt;&amp;&quot; &#128512;&#x41;&#X41;") == (
        'a & b &nbsp; <>&" 😀A&#X41;',
        [],
    )
    text, entities = parse_html(
        '<B>b</B><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>n</ins><s>s</s><strike>k</strike>'
        '<del>d</del><tg-spoiler>p</tg-spoiler><span class="tg-spoiler">q</span><code>c</code>'
    )
    assert text == "bsieunskdpqc"
    assert [e["type"] for e in entities] == [
        "bold", "bold", "italic", "italic", "underline", "underline",
        "strikethrough", "strikethrough", "strikethrough", "spoiler", "spoiler", "code",
    ]
    # offsets and lengths are UTF-16 code units
    assert parse_html("😀<b>😀x</b>") == ("😀😀x", [{"type": "bold", "offset": 2, "length": 3}])
    assert parse_html('<pre><code class="language-python">x = 1</code></pre>')[1] == [
        {"type": "pre", "offset": 0, "length": 5, "language": "python"}
    ]
    assert parse_html('<code class="language-python">x</code>')[1] == [
        {"type": "code", "offset": 0, "length": 1}
    ]
    assert parse_html("<blockquote expandable>q</blockquote><blockquote>r</blockquote>")[1] == [
        {"type": "expandable_blockquote", "offset": 0, "length": 1},
        {"type": "blockquote", "offset": 1, "length": 1},
    ]
    assert parse_html('<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>')[1] == [
        {"type": "custom_emoji", "offset": 0, "length": 2, "custom_emoji_id": "5368324170671202286"}
    ]
    # links: normalised; unusable ones silently lose their entity
    text, entities = parse_html('<a href="https://e.com">a</a> <a href="/rel">b</a> <a>t.me/x</a>')
    assert text == "a b t.me/x"
    assert entities == [
        {"type": "text_link", "offset": 0, "length": 1, "url": "https://e.com/"},
        {"type": "text_link", "offset": 4, "length": 6, "url": "http://t.me/x"},
    ]
    assert parse_html("<b></b>x") == ("x", [])  # empty entities vanish


def test_link_checks():
    assert checked_link("example.com/a?b") == "http://example.com/a?b"
    assert checked_link("HTTPS://ex.com") == "https://ex.com/"
    assert checked_link("tg://resolve?domain=news") == "tg://resolve?domain=news"
    bad_links = ("/relative", "#top", "localhost:8080", "mailto:a@b.com", "javascript:alert(1)", "ftp://e.com")
    for bad in bad_links:
        assert checked_link(bad) == "", bad


def test_normalize_and_lengths():
    assert normalize_text(" \r\n a\tb\u2028c \n", [], allow_empty=False) == ("a bc", [])
    assert normalize_text(" \n ", [], allow_empty=False) is None
    assert normalize_text(" \n ", [], allow_empty=True) == ("", [])
    # leading whitespace goes only up to the first entity; trailing is cut from entities too
    text, entities = parse_html(" <b>x </b>")
    bold = {"type": "bold", "offset": 0, "length": 1}
    assert normalize_text(text, entities, allow_empty=False) == ("x", [bold])
    text, entities = parse_html("<b> x </b>")
    assert normalize_text(text, entities, allow_empty=False) == (" x", [{**bold, "length": 2}])
    assert text_length("a😀", "utf16") == 3
    assert text_length("a😀", "codepoints") == 2


def test_image_helpers():
    assert image_size(make_png(30, 20)) == (30, 20)
    assert image_size(b"GIF89a\x05\x00\x07\x00") == (5, 7)
    assert image_size(b"not an image") is None


# --------------------------------------------------------------------------
# Through python-telegram-bot
# --------------------------------------------------------------------------


def test_success_path_and_records(fake):
    png = make_png(40, 30)

    async def scenario(bot):
        me = await bot.get_me()
        first = await bot.send_message(
            "@news", "<b>Hello</b>, world", parse_mode="HTML", disable_notification=True,
            link_preview_options=telegram.LinkPreviewOptions(is_disabled=True),
        )
        second = await bot.send_message("@news", "plain")
        other = await bot.send_message("@other", "elsewhere")
        by_url = await bot.send_photo(
            "@news", "https://img.example/a.jpg", caption="<i>cap</i>", parse_mode="HTML"
        )
        upload = await bot.send_photo("@news", png, caption="uploaded")
        again = await bot.send_photo("@news", upload.photo[-1].file_id)
        edited = await bot.edit_message_text("<u>Changed</u>", chat_id="@news", message_id=first.message_id,
                                             parse_mode="HTML")
        recaptioned = await bot.edit_message_caption(
            chat_id="@news", message_id=by_url.message_id, caption="new cap"
        )
        deleted = await bot.delete_message("@news", second.message_id)
        return me, first, second, other, by_url, upload, again, edited, recaptioned, deleted

    me, first, second, other, by_url, upload, again, edited, recaptioned, deleted = run(fake, scenario)

    assert me.username == "feeder_test_bot" and me.is_bot
    news = fake.chat("@news")
    assert first.chat.id == news.id and first.chat.type == "channel" and first.chat.username == "news"
    assert first.sender_chat.id == news.id
    assert first.text == "Hello, world"
    assert [(e.type, e.offset, e.length) for e in first.entities] == [("bold", 0, 5)]
    assert abs(first.date.timestamp() - time.time()) < 60
    ids = [first.message_id, second.message_id, by_url.message_id, upload.message_id, again.message_id]
    assert ids == [1, 2, 3, 4, 5]
    assert other.message_id == 1  # ids are per chat
    assert by_url.caption == "cap" and by_url.caption_entities[0].type == "italic"
    assert upload.photo[-1].width == 40 and upload.photo[-1].height == 30
    assert edited.text == "Changed" and edited.edit_date is not None
    assert recaptioned.caption == "new cap"
    assert deleted is True

    sent = fake.sent("@news", include_deleted=True)
    assert [m.message_id for m in sent] == [1, 2, 3, 4, 5]
    assert sent[0].source == "<u>Changed</u>" and sent[0].text == "Changed" and sent[0].parse_mode == "HTML"
    assert sent[0].edit_count == 1
    assert sent[0].disable_notification is True and sent[0].link_preview_options == {"is_disabled": True}
    assert sent[1].deleted and sent[1].disable_notification is False
    assert sent[2].photo_url == "https://img.example/a.jpg" and sent[2].caption == "new cap"
    assert sent[3].photo_upload_size == len(png) and sent[3].photo_url is None
    assert sent[4].photo_file_id == upload.photo[-1].file_id
    assert fake.texts("@news") == ["Changed", "new cap", "uploaded", ""]
    assert fake.texts(fake.chat("@other").id) == ["elsewhere"]

    assert [(e.method, e.message_id, e.before.content, e.after.content) for e in fake.edits] == [
        ("editMessageText", 1, "Hello, world", "Changed"),
        ("editMessageCaption", 3, "cap", "new cap"),
    ]
    assert [(d.chat_id, d.message_id) for d in fake.deletions] == [(news.id, 2)]
    requests = fake.requests
    assert [r.method for r in requests] == [
        "getMe", "getMe", "sendMessage", "sendMessage", "sendMessage", "sendPhoto", "sendPhoto",
        "sendPhoto", "editMessageText", "editMessageCaption", "deleteMessage",
    ]
    assert all(r.status == 200 for r in requests)
    assert [r.time for r in requests] == sorted(r.time for r in requests)
    assert requests[6].files == {"photo": len(png)}
    assert all("<token>" in r.path and fake.token not in r.path for r in requests)


def test_wrong_token_is_unauthorized(fake):
    async def main():
        async with telegram.Bot("999:wrong", base_url=fake.base_url):
            pass

    with pytest.raises(InvalidToken):
        asyncio.run(main())
    assert (fake.requests[-1].status, last_description(fake)) == (401, "Unauthorized")


@pytest.mark.parametrize(
    "html, description",
    [
        ("<p>Para</p>", 'Bad Request: can\'t parse entities: Unsupported start tag "p" at byte offset 0'),
        (
            "Fish & chips <br/>",
            'Bad Request: can\'t parse entities: Unsupported start tag "br/" at byte offset 13',
        ),
        ("x</b>", "Bad Request: can't parse entities: Unexpected end tag at byte offset 1"),
        ("2 < 3", 'Bad Request: can\'t parse entities: Unsupported start tag "" at byte offset 2'),
    ],
)
def test_html_rejected_like_telegram(fake, html, description):
    async def scenario(bot):
        await bot.send_message("@news", html, parse_mode="HTML")

    with pytest.raises(BadRequest) as info:
        run(fake, scenario)
    assert info.value.message.lower() == description.removeprefix("Bad Request: ").lower()
    assert last_description(fake) == description
    assert fake.sent("@news") == []


def test_length_limits_count_astral_emoji(fake):
    async def scenario(bot):
        results = {}
        for name, call in [
            ("2048 emoji", bot.send_message("@news", "😀" * 2048)),
            ("2049 emoji", bot.send_message("@news", "😀" * 2049)),
            ("4097 ascii", bot.send_message("@news", "a" * 4097)),
            ("markup is free", bot.send_message("@news", "<b>" + "a" * 4096 + "</b>", parse_mode="HTML")),
            ("entities decode", bot.send_message("@news", "&amp;" * 4096, parse_mode="HTML")),
            ("512 emoji caption", bot.send_photo("@news", "https://img.example/1.png", caption="😀" * 512)),
            ("513 emoji caption", bot.send_photo("@news", "https://img.example/2.png", caption="😀" * 513)),
            ("empty", bot.send_message("@news", "")),
            ("blank", bot.send_message("@news", "<b> </b>\n", parse_mode="HTML")),
        ]:
            try:
                await call
                results[name] = "ok"
            except BadRequest:
                results[name] = last_description(fake)
        return results

    assert run(fake, scenario) == {
        "2048 emoji": "ok",
        "2049 emoji": "Bad Request: message is too long",
        "4097 ascii": "Bad Request: message is too long",
        "markup is free": "ok",
        "entities decode": "ok",
        "512 emoji caption": "ok",
        "513 emoji caption": "Bad Request: message caption is too long",
        "empty": "Bad Request: message text is empty",
        "blank": "Bad Request: text must be non-empty",
    }


def test_length_unit_codepoints():
    with FakeTelegram(length_unit="codepoints", **NO_LIMITS) as fake:

        async def scenario(bot):
            await bot.send_message("@news", "😀" * 4096)  # what a public probe saw Telegram accept
            with pytest.raises(BadRequest, match="(?i)message is too long"):
                await bot.send_message("@news", "😀" * 4097)

        run(fake, scenario)
        assert len(fake.sent("@news")) == 1


def test_entity_cap_drops_silently(fake):
    html = " ".join("<b>x</b>" for _ in range(150))

    async def scenario(bot):
        return await bot.send_message("@news", html, parse_mode="HTML")

    message = run(fake, scenario)
    assert len(message.entities) == 100
    assert fake.sent("@news")[0].entities_dropped == 50
    assert fake.entities_dropped == 50


def test_flood_per_chat_per_minute_and_early_retry_violation():
    limits = dict(per_chat_min_interval=0, per_chat_per_minute=3, global_per_second=None)
    with FakeTelegram(chats=CHATS, **limits) as fake:

        async def scenario(bot):
            for i in range(3):
                await bot.send_message("@news", f"m{i}")
            with pytest.raises(RetryAfter) as first:
                await bot.send_message("@news", "m3")
            await bot.send_message("@other", "other chats are not limited")
            with pytest.raises(RetryAfter) as second:  # did not wait: a violation
                await bot.send_message("@news", "m3 again")
            return first.value, second.value

        first, second = run(fake, scenario)
        assert 55 <= retry_seconds(first) <= 60
        assert retry_seconds(second) >= retry_seconds(first) - 1
        assert fake.requests[-1].description.startswith("Too Many Requests: retry after ")
        assert fake.flood_429_count == 2
        assert fake.early_retry_violations == 1
        (violation,) = fake.violations
        assert violation.chat_id == fake.chat("@news").id and violation.method == "sendMessage"
        assert violation.seconds_early > 50
        assert fake.texts("@news") == ["m0", "m1", "m2"]


def test_flood_min_interval_honoured_retry_is_not_a_violation():
    with FakeTelegram(per_chat_min_interval=0.3, per_chat_per_minute=None, global_per_second=None) as fake:

        async def scenario(bot):
            await bot.send_message("@news", "one")
            with pytest.raises(RetryAfter) as info:
                await bot.send_message("@news", "two")
            await asyncio.sleep(retry_seconds(info.value))
            await bot.send_message("@news", "two")

        run(fake, scenario)
        assert fake.texts("@news") == ["one", "two"]
        assert (fake.flood_429_count, fake.early_retry_violations) == (1, 0)


def test_flood_global_limit_bans_the_whole_bot():
    with FakeTelegram(chats=CHATS, per_chat_min_interval=None, per_chat_per_minute=None,
                      global_per_second=2) as fake:

        async def scenario(bot):
            await bot.send_message("@news", "1")
            await bot.send_message("@other", "2")
            with pytest.raises(RetryAfter):
                await bot.send_message("@grp", "3")
            with pytest.raises(RetryAfter):  # another chat, same bot-wide ban
                await bot.send_message("@news", "4")

        run(fake, scenario)
        assert fake.flood_429_count == 2
        assert [v.chat_id for v in fake.violations] == [None]


def test_flood_fault_sets_a_ban(fake):
    fake.add_fault("flood", chat="@news", retry_after=7)

    async def scenario(bot):
        with pytest.raises(RetryAfter) as info:
            await bot.send_message("@news", "x")
        with pytest.raises(RetryAfter):
            await bot.send_message("@news", "x")
        return info.value

    assert retry_seconds(run(fake, scenario)) == 7
    assert (fake.flood_429_count, fake.early_retry_violations) == (2, 1)


def test_forbidden_and_chat_not_found(fake):
    fake.add_fault("kicked", chat="@news", times=2)
    fake.add_fault("not_member", chat="@grp", times=None)
    fake.add_fault("chat_not_found", chat="@other")

    async def scenario(bot):
        outcomes = []
        for chat in ["@news", "@news", "@news", "@grp", "@grp", "@other", "@other", "@nowhere", -100999]:
            try:
                await bot.send_message(chat, "hi")
                outcomes.append("ok")
            except (Forbidden, BadRequest) as exc:
                outcomes.append((type(exc).__name__, last_description(fake)))
        return outcomes

    kicked = ("Forbidden", "Forbidden: bot was kicked from the channel chat")
    not_member = ("Forbidden", "Forbidden: bot is not a member of the supergroup chat")
    not_found = ("BadRequest", "Bad Request: chat not found")
    assert run(fake, scenario) == [
        kicked, kicked, "ok", not_member, not_member, not_found, "ok", not_found, not_found,
    ]


def test_server_errors_are_network_errors(fake):
    fake.add_fault("server_error", times=1)
    fake.add_fault("bad_gateway", times=1)
    fake.add_fault("error", status=400, description="Bad Request: PEER_ID_INVALID", method="sendPhoto")

    async def scenario(bot):
        errors = []
        for _ in range(2):
            try:
                await bot.send_message("@news", "x")
            except NetworkError as exc:
                errors.append((type(exc), fake.requests[-1].status))
        with pytest.raises(BadRequest, match="Peer_id_invalid"):
            await bot.send_photo("@news", "https://img.example/p.png")
        await bot.send_message("@news", "recovered")
        return errors

    assert run(fake, scenario) == [(NetworkError, 500), (NetworkError, 502)]
    assert fake.texts("@news") == ["recovered"]


def test_slow_answer(fake):
    fake.add_fault("slow", delay=0.3)
    fake.add_fault("slow", delay=2.0, after_processing=True)

    async def scenario(bot):
        started = time.monotonic()
        await bot.send_message("@news", "slow but fine")
        elapsed = time.monotonic() - started
        with pytest.raises(TimedOut):
            await bot.send_message("@news", "sent, but the answer never came")
        return elapsed

    elapsed = run(fake, scenario, read_timeout=1.0)
    assert elapsed >= 0.3
    # Telegram had accepted the second message: a naive retry would duplicate it
    assert fake.texts("@news") == ["slow but fine", "sent, but the answer never came"]


def test_dropped_connections(fake):
    fake.add_fault("drop")
    fake.add_fault("drop", after_processing=True)

    async def scenario(bot):
        for _ in range(2):
            with pytest.raises(NetworkError) as info:
                await bot.send_message("@news", "x")
            assert not isinstance(info.value, BadRequest)
        await bot.send_message("@news", "after")

    run(fake, scenario)
    assert fake.texts("@news") == ["x", "after"]  # only the drop after processing delivered
    assert [r.status for r in fake.requests if r.method == "sendMessage"] == [None, None, 200]


def test_photo_url_failures_are_sticky():
    broken = "https://img.example/broken.jpg"
    with FakeTelegram(photo_url_errors={broken: "photo_wrong_url"}, **NO_LIMITS) as fake:
        flaky = "https://img.example/flaky.jpg"
        page = "https://img.example/page.html"
        fake.add_fault("photo_fetch_failed", url=flaky)
        fake.set_photo_url_error(page, "photo_wrong_type")

        async def scenario(bot):
            outcomes = []
            for photo in [broken, flaky, flaky, page, "https://img.example/fine.jpg", "not-a-file-id"]:
                try:
                    await bot.send_photo("@news", photo)
                    outcomes.append("ok")
                except BadRequest:
                    outcomes.append(last_description(fake))
            return outcomes

        assert run(fake, scenario) == [
            "Bad Request: wrong file identifier/HTTP URL specified",
            "Bad Request: failed to get HTTP URL content",
            "Bad Request: failed to get HTTP URL content",  # Telegram caches the failure
            "Bad Request: wrong type of the web page content",
            "ok",
            "Bad Request: wrong file identifier/HTTP URL specified",
        ]


def test_fetch_photo_urls_for_real():
    png = make_png(64, 48)

    class Images(BaseHTTPRequestHandler):
        def do_GET(self):
            body, kind, status = {
                "/a.png": (png, "image/png", 200),
                "/page": (b"<html></html>", "text/html", 200),
            }.get(self.path, (b"missing", "text/plain", 404))
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    images = ThreadingHTTPServer(("127.0.0.1", 0), Images)
    threading.Thread(target=images.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{images.server_address[1]}"
    try:
        with FakeTelegram(fetch_photo_urls=True, **NO_LIMITS) as fake:

            async def scenario(bot):
                outcomes = []
                for path in ["/a.png", "/page", "/gone.png"]:
                    try:
                        message = await bot.send_photo("@news", base + path)
                        outcomes.append((message.photo[-1].width, message.photo[-1].height))
                    except BadRequest:
                        outcomes.append(last_description(fake))
                return outcomes

            assert run(fake, scenario) == [
                (64, 48),
                "Bad Request: wrong type of the web page content",
                "Bad Request: failed to get HTTP URL content",
            ]
    finally:
        images.shutdown()
        images.server_close()


def test_upload_validation(fake):
    too_big = make_png(10, 10) + b"\0" * (10 * 1024 * 1024)

    async def scenario(bot):
        outcomes = []
        for data in [b"", b"<html>not an image</html>", make_png(9000, 2000), make_png(400, 10), too_big]:
            try:
                await bot.send_photo("@news", data, filename="p.png")
                outcomes.append("ok")
            except BadRequest:
                outcomes.append(last_description(fake))
        return outcomes

    assert run(fake, scenario, media_write_timeout=30) == [
        "Bad Request: file must be non-empty",
        "Bad Request: IMAGE_PROCESS_FAILED",
        "Bad Request: PHOTO_INVALID_DIMENSIONS",  # width + height > 10000
        "Bad Request: PHOTO_INVALID_DIMENSIONS",  # ratio > 20
        "Bad Request: file is too big",
    ]


def test_edit_and_delete_errors(fake):
    async def scenario(bot):
        text = await bot.send_message("@news", "<b>same</b>", parse_mode="HTML")
        photo = await bot.send_photo("@news", "https://img.example/x.png")
        outcomes = []
        for call in [
            bot.edit_message_text("x", chat_id="@news", message_id=99),
            bot.edit_message_text(
                "<b>same</b>", chat_id="@news", message_id=text.message_id, parse_mode="HTML"
            ),
            bot.edit_message_text("x", chat_id="@news", message_id=photo.message_id),
            bot.edit_message_caption(chat_id="@news", message_id=text.message_id, caption="c"),
            bot.edit_message_media(telegram.InputMediaPhoto(make_png(2, 2), caption="new"), chat_id="@news",
                                   message_id=photo.message_id),
            bot.delete_message("@news", text.message_id),
            bot.delete_message("@news", text.message_id),
            bot.edit_message_text("gone", chat_id="@news", message_id=text.message_id),
        ]:
            try:
                await call
                outcomes.append("ok")
            except BadRequest:
                outcomes.append(last_description(fake))
        return outcomes

    assert run(fake, scenario) == [
        "Bad Request: message to edit not found",
        "Bad Request: message is not modified: specified new message content and reply markup are exactly "
        "the same as a current content and reply markup of the message",
        "Bad Request: there is no text in the message to edit",
        "Bad Request: there is no caption in the message to edit",
        "ok",
        "ok",
        "Bad Request: message to delete not found",
        "Bad Request: message to edit not found",
    ]
    (photo,) = fake.sent("@news")
    assert photo.caption == "new" and photo.photo_upload_size and photo.photo_url is None


def test_raw_json_form_and_query_bodies(fake):
    with httpx.Client() as client:
        url = fake.api_url("sendMessage")
        answer = client.post(url, json={"chat_id": "@news", "text": "<b>j</b>", "parse_mode": "HTML",
                                        "link_preview_options": {"is_disabled": True}})
        assert answer.status_code == 200
        assert answer.json()["result"]["entities"] == [{"type": "bold", "offset": 0, "length": 1}]
        assert client.post(url, data={"chat_id": fake.chat("@news").id, "text": "form"}).status_code == 200
        assert client.get(url, params={"chat_id": "@news", "text": "query"}).status_code == 200
        bad = client.post(fake.api_url("SENDMESSAGE"), json={"chat_id": "@news", "text": "<p>x</p>",
                                                               "parse_mode": "html"})
        assert bad.status_code == 400
        assert bad.json() == {
            "ok": False, "error_code": 400,
            "description": 'Bad Request: can\'t parse entities: Unsupported start tag "p" at byte offset 0',
        }
        assert client.post(url, json={"text": "x"}).json()["description"] == "Bad Request: chat_id is empty"
        assert client.post(url, json={"chat_id": "@news", "text": "x", "parse_mode": "bbcode"}).json()[
            "description"] == "Bad Request: unsupported parse_mode"
        assert client.post(fake.api_url("sendSticker"), json={}).status_code == 404
        assert client.post(fake.api_url("getMe", token="1:bad")).json() == {
            "ok": False, "error_code": 401, "description": "Unauthorized",
        }
    assert fake.texts("@news") == ["j", "form", "query"]
    assert fake.sent("@news")[0].link_preview_options == {"is_disabled": True}


def test_concurrent_sends_are_consistent(fake):
    chats = ["@news", "@other", "@grp"]

    async def scenario(bot):
        await asyncio.gather(*(bot.send_message(chat, f"{chat} {i}") for i in range(10) for chat in chats))

    run(fake, scenario, connection_pool_size=8)
    for chat in chats:
        messages = fake.sent(chat)
        assert [m.message_id for m in messages] == list(range(1, 11))
        assert sorted(m.text for m in messages) == sorted(f"{chat} {i}" for i in range(10))


def test_stop_wakes_slow_handlers_and_context_manager_restarts():
    fake = FakeTelegram(**NO_LIMITS)
    with pytest.raises(RuntimeError):
        fake.base_url
    with fake:
        fake.add_fault("slow", delay=30)
        with httpx.Client(timeout=0.2) as client, pytest.raises(httpx.ReadTimeout):
            client.post(fake.api_url("sendMessage"), json={"chat_id": "@news", "text": "x"})
    started = time.monotonic()
    fake.stop()  # idempotent, and the 30 s sleeper was woken already
    assert time.monotonic() - started < 1
    with fake:
        assert httpx.get(fake.api_url("getMe")).json()["ok"] is True
