"""A fake Telegram Bot API server for tests.

``FakeTelegram`` is a real HTTP server on 127.0.0.1 (random free port, one
daemon thread per connection) that python-telegram-bot, httpx or curl can talk
to instead of ``https://api.telegram.org``::

    with FakeTelegram(chats=["@news"]) as fake:
        async with telegram.Bot(fake.token, base_url=fake.base_url) as bot:
            await bot.send_message("@news", "<b>hi</b>", parse_mode="HTML")
        assert fake.texts("@news") == ["hi"]

It is deliberately independent of the ``feeder`` package it is used to test.

What it models
==============
Methods: ``getMe``, ``sendMessage``, ``sendPhoto`` (URL, file_id or uploaded
file), ``editMessageText``, ``editMessageCaption``, ``editMessageMedia``
(photos only) and ``deleteMessage``. Bodies are accepted as JSON,
``application/x-www-form-urlencoded``, ``multipart/form-data`` or a query
string, method names case-insensitively, as the Bot API does. Answers are
Telegram-shaped: ``{"ok": true, "result": ...}`` or ``{"ok": false,
"error_code": N, "description": "..."}``.

* Token: ``/bot<token>/<method>`` with another token answers 401
  ``Unauthorized``; an unknown method or path answers 404 ``Not Found``.
* HTML parse mode follows tdlib's ``parse_html`` (td/telegram/MessageEntity.cpp)
  byte for byte: the allowed tags, attribute parsing, the only named entities
  ``&lt; &gt; &amp; &quot;`` plus numeric ``&#N;``/``&#xN;`` ones, an ``&``
  that starts no valid entity staying a literal ``&``, an unescaped ``<``
  opening a tag (so ``1 < 2`` fails with ``Unsupported start tag "" ...``),
  and the exact error texts with UTF-8 *byte* offsets into the input.
  ``<tg-time>`` (newest tdlib) is not modeled and is rejected as unsupported.
* After parsing, tdlib's ``fix_formatted_text`` clean-up is modeled: control
  characters become spaces, ``\\r`` and a few invisible characters are
  removed, trailing spaces/newlines are trimmed and leading ones up to the
  first entity. Lengths are then counted (``length_unit``: UTF-16 code units,
  the safe side and the default, or code points, which is what tdlib's
  ``utf8_length`` actually counts): text 1..4096, caption 0..1024.
* Entities: only the first 100 formatting entities are kept, the rest are
  dropped *silently*, as tdlib does (``MAX_USER_ENTITY_COUNT`` in
  ``get_input_message_entities``); custom emoji do not count. The number
  dropped is recorded (``SentMessage.entities_dropped``,
  ``FakeTelegram.entities_dropped``) so tests can assert it stays 0. Links in
  ``<a href>`` go through a model of ``LinkManager::get_checked_link``: http(s)
  URLs are normalised (``https://e.com`` -> ``https://e.com/``, no scheme ->
  ``http://``) and links Telegram cannot use (relative URLs, hosts without a
  dot, other schemes) lose their entity silently, like the real server.
  Auto-detected entities (urls, mentions, hashtags) are not produced.
* Flood control: per chat a minimum interval between messages (Telegram: about
  one per second) and at most 20 messages per rolling minute in groups and
  channels; about 30 messages per second for the whole bot. A breach answers
  429 ``Too Many Requests: retry after N`` with ``parameters.retry_after``;
  sending again before N seconds passed is recorded as a violation and
  extends the ban, as Telegram does. All limits are constructor parameters.
* Scriptable faults (``add_fault``), per chat and/or method, for the next K
  requests or always: 403 kicked / not a member, 400 chat not found, 500, 502
  (an nginx HTML page, like Telegram's front end), slow answers, dropped
  connections (before or after the message was accepted), forced 429s, photo
  URL failures and arbitrary errors. Photo URL failures are sticky: Telegram
  caches a URL it failed to fetch (tdlib/telegram-bot-api#782).
* Uploaded photos: non-empty, at most 10 MB, and (``validate_images``) a
  PNG/JPEG/GIF/WebP whose width + height <= 10000 and side ratio <= 20.
* Everything is recorded, thread-safely: accepted messages per chat in order,
  edits, deletions, every request with its time and answer, 429 counts and
  flood violations.

Sources
=======
* Bot API docs, https://core.telegram.org/bots/api (limits, formatting
  options, the error/ResponseParameters shape) and the bots FAQ (flood limits).
* tdlib ``td/telegram/MessageEntity.cpp``: ``parse_html``,
  ``decode_html_entity``, ``fix_formatted_text``, ``sort_entities``
  priorities, ``get_input_message_entities``; ``td/telegram/LinkManager.cpp``:
  ``check_link``.
* telegram-bot-api ``Client.cpp``: ``fail_query_with_error`` (the ``Bad
  Request:``/``Forbidden:`` prefixes, lower-casing the first letter of tdlib
  messages), ``get_input_message_text`` (an empty ``text`` is ``message text
  is empty`` before any parsing), ``get_formatted_text`` (``unsupported
  parse_mode``).
* Not verified against a source, best effort: the 10 MB upload error text
  (``file is too big``) and ``text must be non-empty`` for a text that is
  only whitespace after parsing (tdlib's ``Text must be non-empty`` passed
  through the Bot API's lower-casing).
"""

from __future__ import annotations

import copy
import itertools
import json
import math
import re
import socket
import struct
import threading
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request
import zlib
from collections import deque
from dataclasses import dataclass, field
from email.message import Message as _EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterable

__all__ = [
    "FAULT_KINDS",
    "DeletionRecord",
    "EditRecord",
    "EntityParseError",
    "FakeChat",
    "FakeTelegram",
    "Fault",
    "FloodViolation",
    "RequestRecord",
    "SentMessage",
    "checked_link",
    "image_size",
    "make_png",
    "normalize_text",
    "parse_html",
    "text_length",
]

# ---------------------------------------------------------------------------
# Telegram's real values (defaults of FakeTelegram's parameters)
# ---------------------------------------------------------------------------

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_ENTITIES = 100
MAX_UPLOAD_PHOTO_BYTES = 10 * 1024 * 1024
MAX_URL_PHOTO_BYTES = 5 * 1024 * 1024
PER_CHAT_MIN_INTERVAL = 1.0  # seconds between two messages in one chat
PER_CHAT_PER_MINUTE = 20  # messages per rolling minute in a group/channel
GLOBAL_PER_SECOND = 30  # messages per second for the whole bot

# Error texts, as the Bot API sends them.
ERR_UNAUTHORIZED = "Unauthorized"
ERR_NOT_FOUND = "Not Found"
ERR_CHAT_ID_EMPTY = "Bad Request: chat_id is empty"
ERR_CHAT_NOT_FOUND = "Bad Request: chat not found"
ERR_TEXT_EMPTY = "Bad Request: message text is empty"
ERR_TEXT_BLANK = "Bad Request: text must be non-empty"
ERR_TEXT_TOO_LONG = "Bad Request: message is too long"
ERR_CAPTION_TOO_LONG = "Bad Request: message caption is too long"
ERR_PARSE_MODE = "Bad Request: unsupported parse_mode"
ERR_CANT_PARSE = "Bad Request: can't parse entities: "
ERR_NO_PHOTO = "Bad Request: there is no photo in the request"
ERR_WRONG_FILE = "Bad Request: wrong file identifier/HTTP URL specified"
ERR_FETCH_FAILED = "Bad Request: failed to get HTTP URL content"
ERR_WRONG_TYPE = "Bad Request: wrong type of the web page content"
ERR_FILE_EMPTY = "Bad Request: file must be non-empty"
ERR_FILE_TOO_BIG = "Bad Request: file is too big"
ERR_IMAGE_PROCESS = "Bad Request: IMAGE_PROCESS_FAILED"
ERR_PHOTO_DIMENSIONS = "Bad Request: PHOTO_INVALID_DIMENSIONS"
ERR_EDIT_NOT_FOUND = "Bad Request: message to edit not found"
ERR_DELETE_NOT_FOUND = "Bad Request: message to delete not found"
ERR_NO_TEXT_TO_EDIT = "Bad Request: there is no text in the message to edit"
ERR_NO_CAPTION_TO_EDIT = "Bad Request: there is no caption in the message to edit"
ERR_NO_MEDIA_TO_EDIT = "Bad Request: there is no media in the message to edit"
ERR_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply "
    "markup are exactly the same as a current content and reply markup of the message"
)
ERR_INTERNAL = "Internal Server Error"

_BAD_GATEWAY_HTML = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n"
    b"</body>\r\n</html>\r\n"
)

# ---------------------------------------------------------------------------
# HTML parse mode: a model of tdlib's parse_html
# ---------------------------------------------------------------------------


class EntityParseError(ValueError):
    """tdlib's parse_html error; the Bot API prefixes "can't parse entities: "."""


_ALLOWED_TAGS = frozenset(
    b"a b strong i em s strike del u ins tg-spoiler tg-emoji span pre code blockquote".split()
)
_SPACES = frozenset(b" \t\r\n\v\f\0")  # td::is_space, which also accepts '\0'
_DIGITS = frozenset(b"0123456789")
_HEX = frozenset(b"0123456789abcdefABCDEF")
_ALPHA = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_ALNUM = _ALPHA | _DIGITS
_NAMED_ENTITIES = {b"lt": 0x3C, b"gt": 0x3E, b"amp": 0x26, b"quot": 0x22}
_LT, _GT, _AMP, _SLASH, _EQ = 0x3C, 0x3E, 0x26, 0x2F, 0x3D
_QUOTES = (0x22, 0x27)

# tdlib's MessageEntity::get_type_priority, used to order entities.
_PRIORITY = {
    "blockquote": 0,
    "expandable_blockquote": 0,
    "pre": 11,
    "code": 20,
    "text_link": 49,
    "text_mention": 49,
    "bold": 90,
    "italic": 91,
    "underline": 92,
    "strikethrough": 93,
    "spoiler": 94,
    "custom_emoji": 99,
}
_SPLITTABLE = frozenset({"bold", "italic", "underline", "strikethrough", "spoiler"})
_SIMPLE_TAGS = {
    b"b": "bold",
    b"strong": "bold",
    b"i": "italic",
    b"em": "italic",
    b"u": "underline",
    b"ins": "underline",
    b"s": "strikethrough",
    b"strike": "strikethrough",
    b"del": "strikethrough",
    b"tg-spoiler": "spoiler",
    b"span": "spoiler",
}


def _decode_html_entity(s: bytes, pos: int) -> tuple[int, int]:
    """tdlib's decode_html_entity: (code point or 0, position after the entity).

    ``s`` must be NUL-padded; ``s[pos]`` is ``&``.
    """
    end = pos + 1
    res = 0
    if s[pos + 1] == 0x23:  # '#': numeric character reference
        end += 1
        if s[pos + 2] == 0x78:  # only a lowercase 'x' means hexadecimal
            end += 1
            while s[end] in _HEX:
                res = res * 16 + int(chr(s[end]), 16)
                end += 1
        else:
            while s[end] in _DIGITS:
                res = res * 10 + s[end] - 0x30
                end += 1
        if res == 0 or res >= 0x10FFFF or end - pos >= 10:
            return 0, pos
    else:
        while s[end] in _ALPHA:
            end += 1
        res = _NAMED_ENTITIES.get(s[pos + 1 : end], 0)
        if res == 0:
            return 0, pos
    if s[end] == 0x3B:  # ';' is optional
        end += 1
    return res, end


def _utf8(code: int) -> bytes:
    return chr(code).encode("utf-8", "surrogatepass")


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse Bot API HTML the way tdlib does.

    Returns the plain text and Bot-API-shaped entities (offsets and lengths in
    UTF-16 code units, sorted like tdlib sorts them). Raises EntityParseError
    with tdlib's message (byte offsets into the UTF-8 encoded input).
    """
    data = text.encode("utf-8", "surrogatepass")
    if b"\0" in data:
        raise EntityParseError("Text must not contain null bytes")
    n = len(data)
    s = data + b"\0\0\0\0"  # tdlib reads a NUL-terminated C string
    out = bytearray()
    entities: list[dict[str, Any]] = []
    stack: list[tuple[bytes, str, int, int]] = []  # tag, argument, utf16 offset, out position
    utf16 = 0
    need_recheck_utf8 = False
    i = 0
    while i < n:
        c = s[i]
        if c == _AMP:
            code, end = _decode_html_entity(s, i)
            if code:
                utf16 += 2 if code > 0xFFFF else 1
                need_recheck_utf8 |= 0xD800 <= code <= 0xDFFF
                out += _utf8(code)
                i = end
                continue
        if c != _LT:
            if c & 0xC0 != 0x80:  # first byte of a UTF-8 character
                utf16 += 2 if c >= 0xF0 else 1
            out.append(c)
            i += 1
            continue

        begin = i
        i += 1
        if s[i] != _SLASH:  # a start tag
            while s[i] not in _SPACES and s[i] != _GT:
                i += 1
            if s[i] == 0:
                raise EntityParseError(f"Unclosed start tag at byte offset {begin}")
            tag = s[begin + 1 : i].lower()
            tag_str = tag.decode("utf-8", "replace")
            if tag not in _ALLOWED_TAGS:
                raise EntityParseError(f'Unsupported start tag "{tag_str}" at byte offset {begin}')
            argument = ""
            while s[i] != _GT:
                while s[i] != 0 and s[i] in _SPACES:
                    i += 1
                if s[i] == _GT:
                    break
                name_begin = i
                while s[i] not in _SPACES and s[i] not in (_EQ, _GT, _SLASH, *_QUOTES):
                    i += 1
                name = s[name_begin:i]
                if not name:
                    raise EntityParseError(
                        f'Empty attribute name in the tag "{tag_str}" at byte offset {begin}'
                    )
                while s[i] != 0 and s[i] in _SPACES:
                    i += 1
                if s[i] != _EQ:  # an attribute without a value
                    if s[i] == 0:
                        raise EntityParseError(
                            f'Unclosed start tag "{tag_str}" at byte offset {begin}'
                        )
                    if tag == b"blockquote" and name == b"expandable":
                        argument = "1"
                    continue
                i += 1
                while s[i] != 0 and s[i] in _SPACES:
                    i += 1
                if s[i] == 0:
                    raise EntityParseError(f'Unclosed start tag "{tag_str}" at byte offset {begin}')
                if s[i] not in _QUOTES:  # a name token, case-insensitive
                    token_begin = i
                    while s[i] in _ALNUM or s[i] in (0x2E, 0x2D):
                        i += 1
                    value = s[token_begin:i].lower()
                    if s[i] not in _SPACES and s[i] != _GT:
                        raise EntityParseError(
                            f"Unexpected end of name token at byte offset {token_begin}"
                        )
                else:  # a string literal, entities decoded
                    quote = s[i]
                    i += 1
                    buf = bytearray()
                    while s[i] != quote and s[i] != 0:
                        if s[i] == _AMP:
                            code, end = _decode_html_entity(s, i)
                            if code:
                                buf += _utf8(code)
                                i = end
                                continue
                        buf.append(s[i])
                        i += 1
                    if s[i] == quote:
                        i += 1
                    value = bytes(buf)
                if s[i] == 0:
                    raise EntityParseError(f"Unclosed start tag at byte offset {begin}")
                val = value.decode("utf-8", "replace")
                if tag == b"a" and name == b"href":
                    argument = val
                elif tag == b"code" and name == b"class" and val.startswith("language-"):
                    argument = val[9:]
                elif tag == b"span" and name == b"class" and val.startswith("tg-"):
                    argument = val[3:]
                elif tag == b"tg-emoji" and name == b"emoji-id":
                    argument = val
                elif tag == b"blockquote" and name == b"expandable":
                    argument = "1"
            if tag == b"span" and argument != "spoiler":
                raise EntityParseError(
                    f'Tag "span" must have class "tg-spoiler" at byte offset {begin}'
                )
            stack.append((tag, argument, utf16, len(out)))
        else:  # an end tag
            if not stack:
                raise EntityParseError(f"Unexpected end tag at byte offset {begin}")
            while s[i] not in _SPACES and s[i] != _GT:
                i += 1
            end_tag = s[begin + 2 : i].lower()
            while s[i] in _SPACES and s[i] != 0:
                i += 1
            if s[i] != _GT:
                raise EntityParseError(f"Unclosed end tag at byte offset {begin}")
            tag, argument, offset, out_pos = stack[-1]
            if end_tag and end_tag != tag:
                raise EntityParseError(
                    f'Unmatched end tag at byte offset {begin}, expected "</{tag.decode()}>", '
                    f'found "</{end_tag.decode("utf-8", "replace")}>"'
                )
            if utf16 > offset:
                _close_entity(entities, tag, argument, offset, utf16 - offset, out[out_pos:])
            stack.pop()
        i += 1  # skip the '>'
    if stack:
        raise EntityParseError(
            f'Can\'t find end tag corresponding to start tag "{stack[-1][0].decode()}"'
        )
    for entity in entities:
        if entity["type"] == "code":
            entity.pop("language", None)
    try:
        plain = bytes(out).decode("utf-8")
    except UnicodeDecodeError:
        if not need_recheck_utf8:
            raise
        raise EntityParseError(
            "Text contains invalid Unicode characters after decoding HTML entities, "
            "check for unmatched surrogate code units"
        ) from None
    return plain, sort_entities(entities)


def _close_entity(
    entities: list[dict[str, Any]],
    tag: bytes,
    argument: str,
    offset: int,
    length: int,
    inner: bytes,
) -> None:
    """Append the entity a closing tag creates (tdlib's end-tag branch)."""
    entity: dict[str, Any] = {"offset": offset, "length": length}
    last = entities[-1] if entities else None
    same_span = last is not None and last["offset"] == offset and last["length"] == length
    if tag in _SIMPLE_TAGS:
        entity["type"] = _SIMPLE_TAGS[tag]
    elif tag == b"tg-emoji":
        if not re.fullmatch(r"-?\d{1,19}", argument) or not 0 < abs(int(argument)) < 2**63:
            raise EntityParseError("Invalid custom emoji identifier specified")
        entity.update(type="custom_emoji", custom_emoji_id=str(int(argument)))
    elif tag == b"a":
        url = checked_link(argument or inner.decode("utf-8", "replace"))
        if not url:
            return  # Telegram drops the link silently
        entity.update(type="text_link", url=url)
    elif tag == b"pre":
        if same_span and last["type"] == "code" and last.get("language"):
            last["type"] = "pre"
            return
        entity["type"] = "pre"
    elif tag == b"code":
        if same_span and last["type"] == "pre" and argument:
            last["language"] = argument
            return
        entity["type"] = "code"
        if argument:
            entity["language"] = argument  # kept only if a <pre> closes around it
    elif tag == b"blockquote":
        entity["type"] = "expandable_blockquote" if argument else "blockquote"
    else:  # pragma: no cover - _ALLOWED_TAGS and this function disagree
        raise AssertionError(tag)
    entities.append(entity)


def sort_entities(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Order entities like tdlib: offset, longer first, then type priority."""
    return sorted(entities, key=lambda e: (e["offset"], -e["length"], _PRIORITY.get(e["type"], 50)))


def checked_link(url: str) -> str:
    """Model of tdlib's LinkManager::get_checked_link: the URL a text link gets.

    Returns "" when Telegram would drop the link. An approximation: http(s)
    and scheme-less URLs need a host with a dot and get a path ("/" at
    least); tg:, ton: and tonsite: links are kept; any other scheme, a
    relative URL or a dotless host is rejected.
    """
    url = url.strip()
    low = url.lower()
    for scheme in ("tg", "ton", "tonsite"):
        if low.startswith(scheme + ":"):
            rest = url[len(scheme) + 1 :]
            rest = rest[2:] if rest.startswith("//") else rest
            host, tail = _split_authority(rest)
            extra = "." if scheme == "tonsite" else ""
            if not host or any(not (ch.isascii() and (ch.isalnum() or ch in "-_" + extra)) for ch in host):
                return ""
            query = tail if tail.startswith("/") else "/" + tail
            if len(query) > 1 and query[1] == "?":
                query = query[1:]
            return f"{scheme}://{host}{query}"
    if "://" in url:
        scheme, rest = url.split("://", 1)
        scheme = scheme.lower()
        if scheme not in ("http", "https"):
            return ""
    elif re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:(?!\d)", url):
        return ""  # mailto:, javascript: and friends
    else:
        scheme, rest = "http", url
    authority, tail = _split_authority(rest)
    userinfo, _, hostport = authority.rpartition("@")
    host, _, port = hostport.partition(":")
    if port and (not port.isdigit() or not 0 < int(port) < 65536):
        return ""
    if not host or "." not in host or host.startswith(".") or ".." in host:
        return ""
    if any(not (ord(ch) >= 0x80 or ch.isalnum() or ch in "-._~%") for ch in host):
        return ""
    query = tail if tail.startswith("/") else "/" + tail
    prefix = f"{userinfo}@" if userinfo else ""
    return f"{scheme}://{prefix}{host}{':' + port if port else ''}{query}"


def _split_authority(rest: str) -> tuple[str, str]:
    match = re.search(r"[/?#]", rest)
    if match is None:
        return rest, ""
    return rest[: match.start()], rest[match.start() :]


# ---------------------------------------------------------------------------
# fix_formatted_text, lengths and the entity cap
# ---------------------------------------------------------------------------

# Characters tdlib removes from message text: \r, U+2028..U+202E, and the
# combining marks U+030A, U+0333, U+033F ("vertical lines").
_REMOVED_CHARS = frozenset([0x0D, *range(0x2028, 0x202F), 0x030A, 0x0333, 0x033F])


def _u16(ch: str) -> int:
    return 2 if ord(ch) > 0xFFFF else 1


def text_length(text: str, unit: str = "utf16") -> int:
    """Length of ``text`` in UTF-16 code units ("utf16") or code points."""
    if unit == "utf16":
        return sum(_u16(ch) for ch in text)
    if unit == "codepoints":
        return len(text)
    raise ValueError(f"unknown length unit {unit!r}")


def normalize_text(
    text: str, entities: list[dict[str, Any]], *, allow_empty: bool
) -> tuple[str, list[dict[str, Any]]] | None:
    """Model of tdlib's fix_formatted_text after parsing.

    Control characters other than ``\\n`` become spaces, ``\\r`` and a few
    invisible characters disappear, trailing spaces/newlines are trimmed and
    leading ones up to the first entity; entities are moved along and empty
    ones dropped. Returns None for a text with nothing but spaces and
    newlines when ``allow_empty`` is false, ``("", [])`` when it is true.
    """
    chars: list[str] = []
    old_to_new: list[int] = []  # UTF-16 position before -> after cleaning
    pos = 0
    for ch in text:
        code = ord(ch)
        old_to_new.extend([pos] * _u16(ch))
        if code in _REMOVED_CHARS:
            continue
        if code < 32 and code != 10:
            chars.append(" ")
            pos += 1
        else:
            chars.append(ch)
            pos += _u16(ch)
    old_to_new.append(pos)
    last = len(old_to_new) - 1

    moved = []
    for entity in entities:
        start = old_to_new[min(entity["offset"], last)]
        end = old_to_new[min(entity["offset"] + entity["length"], last)]
        if end > start:
            moved.append({**entity, "offset": start, "length": end - start})

    cleaned = "".join(chars).rstrip(" \n")
    if not cleaned:
        return ("", []) if allow_empty else None
    limit = text_length(cleaned)
    trimmed = []
    for entity in moved:
        if entity["offset"] < limit:
            entity["length"] = min(entity["length"], limit - entity["offset"])
            trimmed.append(entity)
    trimmed = sort_entities(trimmed)
    first_entity = trimmed[0]["offset"] if trimmed else len(cleaned)
    skip = 0
    while skip < first_entity and cleaned[skip] in " \n":
        skip += 1
    for entity in trimmed:
        entity["offset"] -= skip
    return cleaned[skip:], trimmed


def limit_entities(entities: list[dict[str, Any]], limit: int) -> tuple[list[dict[str, Any]], int]:
    """Keep what tdlib sends: custom emoji, then up to ``limit`` others.

    Non-splittable entities (links, code, pre, quotes) are taken first, then
    bold/italic/underline/strikethrough/spoiler, each in text order; the rest
    are dropped without an error. Returns (kept entities, number dropped).
    """
    kept: list[dict[str, Any]] = []
    count = dropped = 0
    others = [e for e in entities if e["type"] != "custom_emoji"]
    ordered = [e for e in others if e["type"] not in _SPLITTABLE] + [
        e for e in others if e["type"] in _SPLITTABLE
    ]
    for entity in ordered:
        if count < limit:
            kept.append(entity)
            count += 1
        else:
            dropped += 1
    kept.extend(e for e in entities if e["type"] == "custom_emoji")
    return sort_entities(kept), dropped


_ENTITY_INPUT_TYPES = frozenset(_PRIORITY)
_ENTITY_AUTO_TYPES = frozenset(
    {"mention", "hashtag", "cashtag", "bot_command", "url", "email", "phone_number", "bank_card_number"}
)


def _entities_from_json(raw: str | None) -> list[dict[str, Any]]:
    """Entities a client passed instead of parse_mode (Client::get_formatted_text)."""
    if not raw:
        return []
    try:
        value = json.loads(raw)
    except ValueError:
        return []  # the Bot API ignores an unparsable entities field
    if not isinstance(value, list):
        return []
    result = []
    for item in value:
        if not isinstance(item, dict):
            raise _ApiError(400, "Bad Request: can't parse MessageEntity: expected an Object")
        kind = item.get("type")
        if kind in _ENTITY_AUTO_TYPES:
            continue
        if kind not in _ENTITY_INPUT_TYPES:
            raise _ApiError(400, "Bad Request: can't parse MessageEntity: Unsupported type specified")
        try:
            entity = {"type": kind, "offset": int(item["offset"]), "length": int(item["length"])}
        except (KeyError, TypeError, ValueError):
            raise _ApiError(400, "Bad Request: can't parse MessageEntity: Field not found") from None
        for extra in ("url", "language", "custom_emoji_id", "user"):
            if extra in item:
                entity[extra] = item[extra]
        result.append(entity)
    return sort_entities(result)


# ---------------------------------------------------------------------------
# Images
# ---------------------------------------------------------------------------


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG, GIF, JPEG or WebP image, None if unknown."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR" and len(data) >= 24:
        return struct.unpack(">II", data[16:24])
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        return struct.unpack("<HH", data[6:10])
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP" and len(data) >= 30:
        chunk = data[12:16]
        if chunk == b"VP8X":
            return 1 + int.from_bytes(data[24:27], "little"), 1 + int.from_bytes(data[27:30], "little")
        if chunk == b"VP8 ":
            width, height = struct.unpack("<HH", data[26:30])
            return width & 0x3FFF, height & 0x3FFF
        if chunk == b"VP8L":
            bits = int.from_bytes(data[21:25], "little")
            return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
        return None
    if data[:2] == b"\xff\xd8":
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                return None
            marker = data[i + 1]
            if marker == 0xFF:
                i += 1
                continue
            if marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:
                i += 2
                continue
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height, width = struct.unpack(">HH", data[i + 5 : i + 9])
                return width, height
            i += 2 + int.from_bytes(data[i + 2 : i + 4], "big")
    return None


def make_png(width: int = 1, height: int = 1, rgb: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """A valid solid-colour PNG, handy for upload tests."""

    def chunk(tag: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body))

    row = b"\x00" + bytes(rgb) * width
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


# ---------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------


@dataclass
class FakeChat:
    """A chat the bot can post to. ``type``: channel, supergroup, group or private."""

    id: int
    username: str | None = None  # without the "@"
    title: str | None = None
    type: str = "channel"

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.type == "private":
            data["first_name"] = self.title or "User"
        else:
            data["title"] = self.title or (self.username or f"Chat {self.id}")
        if self.username:
            data["username"] = self.username
        return data


@dataclass
class SentMessage:
    """A message Telegram accepted (edits update it in place; see ``edits``)."""

    chat_id: int
    message_id: int
    kind: str  # "text" or "photo"
    time: float  # clock() when accepted
    date: int  # unix time, as returned to the client
    source: str = ""  # text/caption exactly as the client sent it
    parse_mode: str | None = None
    text: str | None = None  # plain text after entity parsing (text messages)
    caption: str | None = None  # plain caption after entity parsing (photos)
    entities: list[dict[str, Any]] = field(default_factory=list)  # text or caption entities
    entities_dropped: int = 0  # beyond the 100-entity cap
    photo_url: str | None = None  # photo sent by URL
    photo_upload_size: int | None = None  # bytes of an uploaded photo
    photo_file_id: str | None = None
    photo_width: int | None = None
    photo_height: int | None = None
    disable_notification: bool = False
    link_preview_options: dict[str, Any] | None = None
    disable_web_page_preview: bool | None = None
    reply_markup: Any = None
    params: dict[str, str] = field(default_factory=dict)  # all request parameters
    edit_date: int | None = None
    edit_count: int = 0
    deleted: bool = False

    @property
    def content(self) -> str:
        """The text of a text message, the caption of a photo ("" if none)."""
        return (self.text if self.kind == "text" else self.caption) or ""


@dataclass
class EditRecord:
    time: float
    chat_id: int
    message_id: int
    method: str
    before: SentMessage  # snapshots
    after: SentMessage


@dataclass
class DeletionRecord:
    time: float
    chat_id: int
    message_id: int


@dataclass
class RequestRecord:
    """One HTTP request and what the fake did with it."""

    time: float  # clock() when received
    wall_time: float
    http_method: str
    path: str  # with the token replaced by "<token>"
    method: str | None = None  # Bot API method as the client spelled it
    params: dict[str, str] = field(default_factory=dict)
    files: dict[str, int] = field(default_factory=dict)  # field name -> size
    chat_id: int | None = None  # resolved chat, if any
    status: int | None = None  # None: the connection was dropped
    description: str | None = None  # error description, None on success
    result: Any = None
    faults: list[str] = field(default_factory=list)  # kinds of faults that fired


@dataclass
class FloodViolation:
    """A request sent before the retry_after of an earlier 429 elapsed."""

    time: float
    chat_id: int | None  # None: the bot-wide ban
    method: str
    seconds_early: float


FAULT_KINDS = frozenset(
    {
        "kicked",  # 403 bot was kicked from the ... chat
        "not_member",  # 403 bot is not a member of the ... chat
        "chat_not_found",  # 400 chat not found
        "server_error",  # 500 Internal Server Error (JSON)
        "bad_gateway",  # 502 nginx HTML page
        "error",  # any status/description you give
        "slow",  # answer after `delay` seconds (the request is still processed)
        "drop",  # close the connection without answering
        "flood",  # 429 with `retry_after`, and the chat is banned for that long
        "photo_wrong_url",  # 400 wrong file identifier/HTTP URL specified
        "photo_fetch_failed",  # 400 failed to get HTTP URL content
        "photo_wrong_type",  # 400 wrong type of the web page content
    }
)
_PHOTO_FAULTS = {
    "photo_wrong_url": ERR_WRONG_FILE,
    "photo_fetch_failed": ERR_FETCH_FAILED,
    "photo_wrong_type": ERR_WRONG_TYPE,
}
_TRANSPORT_FAULTS = frozenset({"server_error", "bad_gateway", "error"})
_CHAT_FAULTS = frozenset({"kicked", "not_member", "chat_not_found"})


@dataclass
class Fault:
    """A scripted failure; see FakeTelegram.add_fault."""

    kind: str
    chat: str | None = None  # normalised chat key, None = any chat
    methods: frozenset[str] | None = None  # lower-case method names, None = all but getMe
    remaining: int | None = 1  # None = always
    delay: float = 0.0
    retry_after: int = 5
    status: int = 400
    description: str = ""
    after_processing: bool = False
    url: str | None = None
    fired: int = 0

    @property
    def active(self) -> bool:
        return self.remaining is None or self.remaining > 0


# ---------------------------------------------------------------------------
# The server
# ---------------------------------------------------------------------------


class _ApiError(Exception):
    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


class _Drop(Exception):
    """Close the connection without an answer."""


@dataclass
class _Upload:
    filename: str
    content_type: str
    data: bytes


@dataclass
class _FloodState:
    last_send: float | None = None
    window: deque = field(default_factory=deque)
    ban_until: float = float("-inf")
    ban_length: int = 0


@dataclass
class _Ctx:
    method: str  # canonical name, e.g. "sendMessage"
    params: dict[str, str]
    files: dict[str, _Upload]
    record: RequestRecord
    after_faults: list[Fault] = field(default_factory=list)


_PATH_RE = re.compile(r"^/bot([^/]+)/([A-Za-z]+)/?$")
_METHODS = (
    "getMe",
    "sendMessage",
    "sendPhoto",
    "editMessageText",
    "editMessageCaption",
    "editMessageMedia",
    "deleteMessage",
)


def _to_bool(value: str | None) -> bool:
    return (value or "").strip().lower() in ("true", "yes", "1")


class FakeTelegram:
    """A fake Bot API server; see the module docstring for what it models.

    All limits are parameters; the defaults are Telegram's real values, which
    are too slow for most tests (pass e.g. ``per_chat_min_interval=0``). A
    limit of None or 0 disables it.
    """

    def __init__(
        self,
        token: str = "123456789:TEST-fake-token",
        chats: Iterable[int | str | FakeChat] = ("@news",),
        *,
        per_chat_min_interval: float | None = PER_CHAT_MIN_INTERVAL,
        per_chat_per_minute: int | None = PER_CHAT_PER_MINUTE,
        per_minute_window: float = 60.0,
        global_per_second: int | None = GLOBAL_PER_SECOND,
        global_window: float = 1.0,
        flood_methods: Iterable[str] = ("sendMessage", "sendPhoto"),
        retry_grace: float = 0.01,
        length_unit: str = "utf16",
        max_text_length: int = MAX_TEXT_LENGTH,
        max_caption_length: int = MAX_CAPTION_LENGTH,
        max_entities: int = MAX_ENTITIES,
        max_upload_photo_bytes: int = MAX_UPLOAD_PHOTO_BYTES,
        validate_images: bool = True,
        photo_url_errors: dict[str, str] | None = None,
        sticky_url_failures: bool = True,
        fetch_photo_urls: bool = False,
        url_photo_size: tuple[int, int] = (1280, 720),
        first_message_id: int = 1,
        bot_username: str = "feeder_test_bot",
        clock: Callable[[], float] = time.monotonic,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        """
        Args:
            token: the bot token clients must use; other tokens get 401.
            chats: known chats: ids, "@usernames" or FakeChat objects. A bare
                username gets a channel id -1001000000001, -1001000000002, ...;
                a bare id is a channel if it starts with -100, a group if
                negative, a private chat if positive. Unknown: chat not found.
            per_chat_min_interval: seconds between two messages in one chat
                (Telegram: about 1).
            per_chat_per_minute: messages per ``per_minute_window`` seconds in
                one group/channel (Telegram: 20 per 60 s); private chats exempt.
            global_per_second: messages per ``global_window`` seconds for the
                whole bot (Telegram: about 30 per second).
            flood_methods: methods the flood limits count (edits are not
                counted unless you add them).
            retry_grace: a request this many seconds before the end of a ban
                is not counted as a violation (absorbs timer jitter).
            length_unit: "utf16" (default, the safe side) or "codepoints"
                (what tdlib counts) for the text/caption limits.
            validate_images: uploaded photos must be PNG/JPEG/GIF/WebP of
                valid dimensions.
            photo_url_errors: {url: fault kind} for photo URLs Telegram
                "cannot fetch" (kinds: photo_wrong_url, photo_fetch_failed,
                photo_wrong_type).
            sticky_url_failures: a URL that failed once keeps failing.
            fetch_photo_urls: really GET photo URLs (5 s timeout) and check
                status, image MIME type, 5 MB size and dimensions.
            url_photo_size: (width, height) reported for URL photos not fetched.
            clock: monotonic time source for limits and records.
        """
        if length_unit not in ("utf16", "codepoints"):
            raise ValueError(f"unknown length unit {length_unit!r}")
        self.token = token
        self.per_chat_min_interval = per_chat_min_interval
        self.per_chat_per_minute = per_chat_per_minute
        self.per_minute_window = per_minute_window
        self.global_per_second = global_per_second
        self.global_window = global_window
        self.flood_methods = frozenset(m.lower() for m in flood_methods)
        self.retry_grace = retry_grace
        self.length_unit = length_unit
        self.max_text_length = max_text_length
        self.max_caption_length = max_caption_length
        self.max_entities = max_entities
        self.max_upload_photo_bytes = max_upload_photo_bytes
        self.validate_images = validate_images
        self.sticky_url_failures = sticky_url_failures
        self.fetch_photo_urls = fetch_photo_urls
        self.url_photo_size = url_photo_size
        self.first_message_id = first_message_id
        self.clock = clock
        self._host = host
        self._port = port

        head = token.split(":", 1)[0]
        self.bot_user = {
            "id": int(head) if head.isdigit() else 123456789,
            "is_bot": True,
            "first_name": "Feeder Test Bot",
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

        self._lock = threading.RLock()
        self._stop_event = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()

        self._chats: dict[int, FakeChat] = {}
        self._usernames: dict[str, int] = {}
        auto_ids = itertools.count(1)
        for spec in chats:
            self.add_chat(spec, _auto_ids=auto_ids)
        for kind in (photo_url_errors or {}).values():
            if kind not in _PHOTO_FAULTS:
                raise ValueError(f"{kind!r} is not a photo URL fault")
        self._configured_url_errors = dict(photo_url_errors or {})
        self._file_ids = itertools.count(1)
        self._methods = {name.lower(): name for name in _METHODS}
        self._reset_state()

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> FakeTelegram:
        """Bind a free port and serve in a background thread."""
        if self._server is not None:
            return self
        self._stop_event.clear()
        self._server = _Server((self._host, self._port), _Handler, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
            name="fake-telegram", daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, wake slow answers, close open connections."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stop_event.set()
        server.shutdown()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeTelegram:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeTelegram is not started")
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        """For ``telegram.Bot(token, base_url=fake.base_url)``: ".../bot"."""
        return f"http://127.0.0.1:{self.port}/bot"

    def api_url(self, method: str, token: str | None = None) -> str:
        """Full URL of a method, for raw HTTP clients."""
        return f"{self.base_url}{self.token if token is None else token}/{method}"

    # -- configuration -----------------------------------------------------

    def add_chat(self, spec: int | str | FakeChat, *, _auto_ids: Iterable[int] | None = None) -> FakeChat:
        """Make a chat known; returns it."""
        with self._lock:
            if isinstance(spec, FakeChat):
                chat = spec
            elif isinstance(spec, str) and spec.startswith("@"):
                number = next(_auto_ids) if _auto_ids is not None else len(self._chats) + 1
                chat = FakeChat(id=-1001000000000 - number, username=spec[1:], title=spec[1:])
                while chat.id in self._chats:
                    chat.id -= 1
            else:
                chat_id = int(spec)
                if str(chat_id).startswith("-100"):
                    kind = "channel"
                else:
                    kind = "group" if chat_id < 0 else "private"
                chat = FakeChat(id=chat_id, type=kind)
            self._chats[chat.id] = chat
            if chat.username:
                self._usernames[chat.username.lower()] = chat.id
            return chat

    def chat(self, chat: int | str) -> FakeChat:
        """A known chat by id or "@username" (KeyError if unknown)."""
        chat_id = self._lookup_chat(str(chat))
        if chat_id is None:
            raise KeyError(chat)
        return self._chats[chat_id]

    def set_photo_url_error(self, url: str, kind: str = "photo_fetch_failed") -> None:
        """Make sendPhoto with this URL fail (kinds: photo_wrong_url,
        photo_fetch_failed, photo_wrong_type) until clear_photo_url_errors()."""
        if kind not in _PHOTO_FAULTS:
            raise ValueError(f"{kind!r} is not a photo URL fault")
        with self._lock:
            self._photo_url_errors[url] = kind

    def clear_photo_url_errors(self) -> None:
        with self._lock:
            self._photo_url_errors.clear()

    def add_fault(
        self,
        kind: str,
        *,
        chat: int | str | None = None,
        method: str | Iterable[str] | None = None,
        times: int | None = 1,
        delay: float = 0.0,
        retry_after: int = 5,
        status: int = 400,
        description: str = "",
        after_processing: bool = False,
        url: str | None = None,
    ) -> Fault:
        """Script a failure for the next ``times`` matching requests (None: always).

        ``chat`` restricts it to one chat (id or "@username"), ``method`` to
        some methods (default: every method but getMe), ``url`` (photo
        faults) to one photo URL. Kinds are listed in FAULT_KINDS.
        ``delay`` is for "slow"; ``retry_after`` for "flood"; ``status`` and
        ``description`` for "error". ``after_processing`` for "drop" and
        "slow": the request is handled (a message is accepted) and only then
        the connection is closed / the answer delayed - the client cannot know
        the message went out.
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {sorted(FAULT_KINDS)}")
        if kind == "error" and not description:
            raise ValueError('a fault of kind "error" needs a description')
        if isinstance(method, str):
            method = [method]
        fault = Fault(
            kind=kind,
            chat=None if chat is None else self._chat_key(str(chat)),
            methods=None if method is None else frozenset(m.lower() for m in method),
            remaining=times,
            delay=delay,
            retry_after=max(1, int(retry_after)),
            status=status,
            description=description,
            after_processing=after_processing,
            url=url,
        )
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def reset(self) -> None:
        """Forget records, counters, faults, bans, message ids and learned URL
        failures; keeps the chats and the constructor's photo_url_errors."""
        with self._lock:
            self._reset_state()

    def _reset_state(self) -> None:
        self._faults: list[Fault] = []
        self._messages: dict[int, list[SentMessage]] = {}
        self._next_message_id: dict[int, int] = {}
        self._requests: list[RequestRecord] = []
        self._edits: list[EditRecord] = []
        self._deletions: list[DeletionRecord] = []
        self._violations: list[FloodViolation] = []
        self._flood_429_count = 0
        self._entities_dropped = 0
        self._chat_flood: dict[int, _FloodState] = {}
        self._global_flood = _FloodState()
        self._known_files: dict[str, tuple[int, int]] = {}
        self._photo_url_errors: dict[str, str] = dict(self._configured_url_errors)
        self._internal_errors: list[str] = []

    # -- recorded data -----------------------------------------------------

    @property
    def requests(self) -> list[RequestRecord]:
        """Every HTTP request received, in order."""
        with self._lock:
            return list(self._requests)

    @property
    def messages(self) -> dict[int, list[SentMessage]]:
        """Accepted messages per chat id, in order (deleted ones included)."""
        with self._lock:
            return {chat_id: list(items) for chat_id, items in self._messages.items()}

    def sent(self, chat: int | str, *, include_deleted: bool = False) -> list[SentMessage]:
        """Accepted messages in one chat (id or "@username"), in order."""
        chat_id = self._lookup_chat(str(chat))
        with self._lock:
            items = list(self._messages.get(chat_id, [])) if chat_id is not None else []
        return [m for m in items if include_deleted or not m.deleted]

    def texts(self, chat: int | str) -> list[str]:
        """Current text (or caption) of each live message in a chat."""
        return [m.content for m in self.sent(chat)]

    def all_sent(self) -> list[SentMessage]:
        """All accepted messages of all chats, in the order they were accepted."""
        with self._lock:
            items = [m for ms in self._messages.values() for m in ms]
        return sorted(items, key=lambda m: m.time)

    @property
    def edits(self) -> list[EditRecord]:
        with self._lock:
            return list(self._edits)

    @property
    def deletions(self) -> list[DeletionRecord]:
        with self._lock:
            return list(self._deletions)

    @property
    def flood_429_count(self) -> int:
        """How many 429 answers were sent (limits and "flood" faults)."""
        with self._lock:
            return self._flood_429_count

    @property
    def early_retry_violations(self) -> int:
        """How many requests came before the retry_after of a 429 elapsed."""
        with self._lock:
            return len(self._violations)

    @property
    def violations(self) -> list[FloodViolation]:
        with self._lock:
            return list(self._violations)

    @property
    def internal_errors(self) -> list[str]:
        """Tracebacks of bugs in the fake itself (answered as 500); should stay empty."""
        with self._lock:
            return list(self._internal_errors)

    @property
    def entities_dropped(self) -> int:
        """Entities dropped over the cap, over all accepted messages and edits."""
        with self._lock:
            return self._entities_dropped

    # -- request handling ------------------------------------------------------

    def _handle(self, http_method: str, raw_path: str, headers: Any, body: bytes) -> tuple[int, str, bytes]:
        """Answer one HTTP request: (status, content type, body); raises _Drop."""
        split = urllib.parse.urlsplit(raw_path)
        match = _PATH_RE.match(split.path)
        shown_path = split.path
        if match:
            shown_path = split.path.replace(match.group(1), "<token>", 1)
        record = RequestRecord(
            time=self.clock(), wall_time=time.time(), http_method=http_method, path=shown_path
        )
        with self._lock:
            self._requests.append(record)
        ctx: _Ctx | None = None
        try:
            if not match:
                raise _ApiError(404, ERR_NOT_FOUND)
            token, method_name = match.groups()
            record.method = method_name
            if token != self.token:
                raise _ApiError(401, ERR_UNAUTHORIZED)
            params, files = _parse_body(headers, body, split.query)
            record.params = dict(params)
            record.files = {name: len(upload.data) for name, upload in files.items()}
            canonical = self._methods.get(method_name.lower())
            if canonical is None:
                raise _ApiError(404, ERR_NOT_FOUND)
            ctx = _Ctx(canonical, params, files, record)
            self._transport_faults(ctx)
            with self._lock:
                result = getattr(self, "_api_" + canonical)(ctx)
            status, payload = 200, {"ok": True, "result": result}
            record.result = result
        except _ApiError as err:
            status = err.status
            payload = {"ok": False, "error_code": err.status, "description": err.description}
            if err.parameters:
                payload["parameters"] = err.parameters
            record.description = err.description
        except _Drop:
            return self._drop(record)
        except Exception as err:  # a bug in the fake: answer, record, don't hang
            with self._lock:
                self._internal_errors.append(traceback.format_exc())
            status = 500
            description = f"[fake_telegram] internal error: {err!r}"
            payload = {"ok": False, "error_code": 500, "description": description}
            record.description = description
        if ctx is not None:
            for fault in ctx.after_faults:
                if fault.kind == "drop" or self._stop_event.wait(fault.delay):
                    return self._drop(record)
        record.status = status
        if status == 502:
            return status, "text/html", _BAD_GATEWAY_HTML
        return status, "application/json", json.dumps(payload, ensure_ascii=False).encode("utf-8")

    @staticmethod
    def _drop(record: RequestRecord) -> tuple[int, str, bytes]:
        record.status = None
        record.description = None
        raise _Drop

    # -- faults ------------------------------------------------------------

    def _chat_key(self, raw: str) -> str:
        chat_id = self._lookup_chat(raw)
        return str(chat_id) if chat_id is not None else raw.strip().lower()

    def _take_fault(self, ctx: _Ctx, kinds: Iterable[str], *, url: str | None = None) -> Fault | None:
        """Consume and return the first active fault of these kinds matching ctx."""
        kinds = frozenset(kinds)
        method = ctx.method.lower()
        raw_chat = ctx.params.get("chat_id")
        with self._lock:
            chat_key = self._chat_key(raw_chat) if raw_chat else None
            for fault in self._faults:
                if fault.kind not in kinds or not fault.active:
                    continue
                if fault.methods is None and method == "getme":
                    continue
                if fault.methods is not None and method not in fault.methods:
                    continue
                if fault.chat is not None and fault.chat != chat_key:
                    continue
                if fault.url is not None and fault.url != url:
                    continue
                if fault.remaining is not None:
                    fault.remaining -= 1
                fault.fired += 1
                ctx.record.faults.append(fault.kind)
                return fault
        return None

    def _transport_faults(self, ctx: _Ctx) -> None:
        """Faults that hit before the Bot API looks at the request."""
        for kind in ("slow", "drop"):
            fault = self._take_fault(ctx, [kind])
            if fault is None:
                continue
            if fault.after_processing:
                ctx.after_faults.append(fault)
            elif kind == "drop" or self._stop_event.wait(fault.delay):
                raise _Drop  # asked to, or the server stopped while we slept
        fault = self._take_fault(ctx, _TRANSPORT_FAULTS)
        if fault is None:
            return
        if fault.kind == "server_error":
            raise _ApiError(500, ERR_INTERNAL)
        if fault.kind == "bad_gateway":
            raise _ApiError(502, "Bad Gateway")
        raise _ApiError(fault.status, fault.description)

    # -- chats -------------------------------------------------------------

    def _lookup_chat(self, raw: str) -> int | None:
        raw = raw.strip()
        with self._lock:
            if raw.startswith("@"):
                return self._usernames.get(raw[1:].lower())
            try:
                chat_id = int(raw)
            except ValueError:
                return None
            return chat_id if chat_id in self._chats else None

    def _resolve_chat(self, ctx: _Ctx) -> FakeChat:
        """chat_id -> known chat, or the Bot API's 400/403 errors."""
        raw = ctx.params.get("chat_id", "").strip()
        if not raw:
            raise _ApiError(400, ERR_CHAT_ID_EMPTY)
        chat_id = self._lookup_chat(raw)
        if chat_id is None:
            raise _ApiError(400, ERR_CHAT_NOT_FOUND)
        chat = self._chats[chat_id]
        ctx.record.chat_id = chat_id
        fault = self._take_fault(ctx, _CHAT_FAULTS)
        if fault is not None:
            place = {"channel": "channel chat", "supergroup": "supergroup chat"}.get(chat.type, "group chat")
            if fault.kind == "chat_not_found":
                raise _ApiError(400, ERR_CHAT_NOT_FOUND)
            if fault.kind == "kicked":
                text = (
                    "bot was blocked by the user"
                    if chat.type == "private"
                    else f"bot was kicked from the {place}"
                )
            else:
                text = (
                    "bot can't initiate conversation with a user"
                    if chat.type == "private"
                    else f"bot is not a member of the {place}"
                )
            raise _ApiError(403, "Forbidden: " + text)
        return chat

    # -- flood control -----------------------------------------------------

    def _raise_429(self, seconds: float) -> None:
        retry_after = max(1, math.ceil(seconds - 1e-9))
        self._flood_429_count += 1
        raise _ApiError(
            429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
        )

    @staticmethod
    def _ban(state: _FloodState, now: float, seconds: float) -> int:
        length = max(1, math.ceil(seconds - 1e-9))
        state.ban_until = max(state.ban_until, now + length)
        state.ban_length = length
        return length

    def _check_ban(self, ctx: _Ctx, chat: FakeChat) -> None:
        """A request during a ban is a violation; Telegram extends the ban."""
        if ctx.method.lower() not in self.flood_methods:
            return
        now = self.clock()
        chat_state = self._chat_flood.setdefault(chat.id, _FloodState())
        for scope, state in ((chat.id, chat_state), (None, self._global_flood)):
            if now < state.ban_until - self.retry_grace:
                self._violations.append(FloodViolation(now, scope, ctx.method, state.ban_until - now))
                state.ban_until = max(state.ban_until, now + state.ban_length)
                self._raise_429(state.ban_until - now)

    def _admit(self, ctx: _Ctx, chat: FakeChat) -> None:
        """Count an otherwise valid message against the limits, or answer 429."""
        if ctx.method.lower() not in self.flood_methods:
            return
        now = self.clock()
        fault = self._take_fault(ctx, ["flood"])
        state = self._chat_flood.setdefault(chat.id, _FloodState())
        if fault is not None:
            self._raise_429(self._ban(state, now, fault.retry_after))
        chat_wait = 0.0
        if self.per_chat_min_interval and state.last_send is not None:
            chat_wait = max(chat_wait, state.last_send + self.per_chat_min_interval - now)
        if self.per_chat_per_minute and chat.type != "private":
            while state.window and state.window[0] <= now - self.per_minute_window:
                state.window.popleft()
            if len(state.window) >= self.per_chat_per_minute:
                chat_wait = max(chat_wait, state.window[0] + self.per_minute_window - now)
        bot = self._global_flood
        global_wait = 0.0
        if self.global_per_second:
            while bot.window and bot.window[0] <= now - self.global_window:
                bot.window.popleft()
            if len(bot.window) >= self.global_per_second:
                global_wait = bot.window[0] + self.global_window - now
        if chat_wait > 0 or global_wait > 0:
            length = 0
            if chat_wait > 0:
                length = self._ban(state, now, chat_wait)
            if global_wait > 0:
                length = max(length, self._ban(bot, now, global_wait))
            self._raise_429(length)
        state.last_send = now
        state.window.append(now)
        bot.window.append(now)

    # -- text and captions -------------------------------------------------

    def _formatted(
        self, text: str, parse_mode: str | None, entities_json: str | None
    ) -> tuple[str, list[dict]]:
        """Client::get_formatted_text: parse_mode parsing or explicit entities."""
        mode = (parse_mode or "").strip().lower()
        if text and mode and mode != "none":
            if mode == "html":
                try:
                    return parse_html(text)
                except EntityParseError as err:
                    message = str(err)
                    raise _ApiError(400, ERR_CANT_PARSE + message) from None
            if mode in ("markdown", "markdownv2"):
                raise _ApiError(400, f"Bad Request: [fake_telegram] parse_mode {parse_mode!r} is not modeled")
            raise _ApiError(400, ERR_PARSE_MODE)
        return text, _entities_from_json(entities_json)

    def _finish_text(self, text: str, entities: list[dict], *, caption: bool) -> tuple[str, list[dict], int]:
        """Clean-up, length limit and entity cap; (text, entities, dropped)."""
        fixed = normalize_text(text, entities, allow_empty=caption)
        if fixed is None:
            raise _ApiError(400, ERR_TEXT_BLANK)
        text, entities = fixed
        limit = self.max_caption_length if caption else self.max_text_length
        if text_length(text, self.length_unit) > limit:
            raise _ApiError(400, ERR_CAPTION_TOO_LONG if caption else ERR_TEXT_TOO_LONG)
        entities, dropped = limit_entities(entities, self.max_entities)
        return text, entities, dropped

    # -- photos ------------------------------------------------------------

    def _photo_input(self, ctx: _Ctx, value: str | None, upload: _Upload | None) -> tuple[str, Any]:
        """("upload", _Upload) / ("url", str) / ("file_id", str) from the request."""
        if upload is not None:
            return "upload", upload
        value = (value or "").strip()
        if value.startswith("attach://"):
            attached = ctx.files.get(value[len("attach://") :])
            if attached is None:
                raise _ApiError(400, ERR_WRONG_FILE)
            return "upload", attached
        if not value:
            raise _ApiError(400, ERR_NO_PHOTO)
        if re.match(r"^https?://", value, re.IGNORECASE):
            return "url", value
        return "file_id", value

    def _check_photo(self, ctx: _Ctx, kind: str, value: Any) -> dict[str, Any]:
        """Validate a photo; returns the SentMessage fields describing it."""
        if kind == "upload":
            data = value.data
            if not data:
                raise _ApiError(400, ERR_FILE_EMPTY)
            if len(data) > self.max_upload_photo_bytes:
                raise _ApiError(400, ERR_FILE_TOO_BIG)
            width, height = self._image_dimensions(data)
            file_id = self._new_file_id(width, height)
            return dict(
                photo_upload_size=len(data), photo_file_id=file_id, photo_width=width, photo_height=height
            )
        if kind == "file_id":
            base = value if value in self._known_files else value.rpartition("_")[0]  # a size's id
            if base not in self._known_files:
                raise _ApiError(400, ERR_WRONG_FILE)
            width, height = self._known_files[base]
            return dict(photo_file_id=value, photo_width=width, photo_height=height)
        url = value
        known = self._photo_url_errors.get(url)
        if known is not None:
            raise _ApiError(400, _PHOTO_FAULTS[known])
        fault = self._take_fault(ctx, _PHOTO_FAULTS, url=url)
        if fault is not None:
            if self.sticky_url_failures:
                self._photo_url_errors[url] = fault.kind
            raise _ApiError(400, _PHOTO_FAULTS[fault.kind])
        width, height = self.url_photo_size
        if self.fetch_photo_urls:
            width, height = self._fetch_photo(url)
        file_id = self._new_file_id(width, height)
        return dict(photo_url=url, photo_file_id=file_id, photo_width=width, photo_height=height)

    def _image_dimensions(self, data: bytes) -> tuple[int, int]:
        size = image_size(data)
        if size is None:
            if self.validate_images:
                raise _ApiError(400, ERR_IMAGE_PROCESS)
            return self.url_photo_size
        width, height = size
        valid = 0 < width and 0 < height and width + height <= 10000
        if self.validate_images and not (valid and max(width, height) <= 20 * min(width, height)):
            raise _ApiError(400, ERR_PHOTO_DIMENSIONS)
        return width, height

    def _fetch_photo(self, url: str) -> tuple[int, int]:
        def failure(kind: str) -> _ApiError:
            if self.sticky_url_failures:
                self._photo_url_errors[url] = kind
            return _ApiError(400, _PHOTO_FAULTS[kind])

        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                content_type = response.headers.get_content_type()
                data = response.read(MAX_URL_PHOTO_BYTES + 1)
        except (urllib.error.URLError, OSError, ValueError):
            raise failure("photo_fetch_failed") from None
        if not content_type.startswith("image/"):
            raise failure("photo_wrong_type")
        if not data or len(data) > MAX_URL_PHOTO_BYTES:
            raise failure("photo_fetch_failed")
        return self._image_dimensions(data)

    def _new_file_id(self, width: int, height: int) -> str:
        file_id = f"AgACAgIAAxkBAAI{next(self._file_ids):08d}FakePhoto"
        self._known_files[file_id] = (width, height)
        return file_id

    @staticmethod
    def _photo_sizes(message: SentMessage) -> list[dict[str, Any]]:
        width, height = message.photo_width or 1, message.photo_height or 1
        sizes = []
        for side in (90, 320, 800, 1280, 2560):
            scale = min(1.0, side / max(width, height))
            w, h = max(1, round(width * scale)), max(1, round(height * scale))
            sizes.append({
                "file_id": f"{message.photo_file_id}_{side}",
                "file_unique_id": f"{message.photo_file_id}_{side}"[-16:],
                "width": w, "height": h, "file_size": w * h // 8 + 100,
            })
            if scale == 1.0:
                break
        return sizes

    # -- message helpers ---------------------------------------------------

    def _message_json(self, message: SentMessage) -> dict[str, Any]:
        chat = self._chats[message.chat_id]
        data: dict[str, Any] = {"message_id": message.message_id}
        if chat.type == "channel":
            data["sender_chat"] = chat.to_json()
        else:
            data["from"] = {k: self.bot_user[k] for k in ("id", "is_bot", "first_name", "username")}
        data["chat"] = chat.to_json()
        data["date"] = message.date
        if message.edit_date is not None:
            data["edit_date"] = message.edit_date
        if message.kind == "text":
            data["text"] = message.text
            if message.entities:
                data["entities"] = message.entities
            if message.link_preview_options:
                data["link_preview_options"] = message.link_preview_options
        else:
            data["photo"] = self._photo_sizes(message)
            if message.caption:
                data["caption"] = message.caption
                if message.entities:
                    data["caption_entities"] = message.entities
        if isinstance(message.reply_markup, dict):
            data["reply_markup"] = message.reply_markup
        return copy.deepcopy(data)

    def _accept(self, ctx: _Ctx, chat: FakeChat, **fields: Any) -> dict[str, Any]:
        """Record an accepted message and return its JSON."""
        message_id = self._next_message_id.get(chat.id, self.first_message_id)
        self._next_message_id[chat.id] = message_id + 1
        params = ctx.params
        message = SentMessage(
            chat_id=chat.id,
            message_id=message_id,
            time=self.clock(),
            date=int(time.time()),
            disable_notification=_to_bool(params.get("disable_notification")),
            link_preview_options=_json_param(params, "link_preview_options"),
            disable_web_page_preview=(
                _to_bool(params["disable_web_page_preview"]) if "disable_web_page_preview" in params else None
            ),
            reply_markup=_json_param(params, "reply_markup"),
            params=dict(params),
            **fields,
        )
        self._entities_dropped += message.entities_dropped
        self._messages.setdefault(chat.id, []).append(message)
        return self._message_json(message)

    def _find_message(self, ctx: _Ctx, chat: FakeChat, missing: str) -> SentMessage:
        try:
            message_id = int(ctx.params.get("message_id", "").strip())
        except ValueError:
            raise _ApiError(400, missing) from None
        for message in self._messages.get(chat.id, []):
            if message.message_id == message_id and not message.deleted:
                return message
        raise _ApiError(400, missing)

    def _apply_edit(self, ctx: _Ctx, message: SentMessage, **changes: Any) -> dict[str, Any]:
        before = copy.deepcopy(message)
        for key, value in changes.items():
            setattr(message, key, value)
        reply_markup = _json_param(ctx.params, "reply_markup")
        if reply_markup is not None:
            message.reply_markup = reply_markup
        message.edit_count += 1
        message.edit_date = int(time.time())
        self._entities_dropped += changes.get("entities_dropped", 0)
        self._edits.append(
            EditRecord(
                self.clock(), message.chat_id, message.message_id, ctx.method, before, copy.deepcopy(message)
            )
        )
        return self._message_json(message)

    @staticmethod
    def _check_json_params(ctx: _Ctx) -> None:
        """Reject unparsable JSON parameters before anything counts."""
        for name in ("link_preview_options", "reply_markup"):
            _json_param(ctx.params, name)

    @staticmethod
    def _require_inline_free(ctx: _Ctx) -> None:
        if ctx.params.get("inline_message_id"):
            raise _ApiError(400, "Bad Request: [fake_telegram] inline messages are not modeled")

    # -- Bot API methods ---------------------------------------------------

    def _api_getMe(self, ctx: _Ctx) -> dict[str, Any]:
        return dict(self.bot_user)

    def _api_sendMessage(self, ctx: _Ctx) -> dict[str, Any]:
        params = ctx.params
        self._check_json_params(ctx)
        if not params.get("chat_id", "").strip():
            raise _ApiError(400, ERR_CHAT_ID_EMPTY)
        source = params.get("text", "")
        if not source:
            raise _ApiError(400, ERR_TEXT_EMPTY)
        text, entities = self._formatted(source, params.get("parse_mode"), params.get("entities"))
        chat = self._resolve_chat(ctx)
        self._check_ban(ctx, chat)
        text, entities, dropped = self._finish_text(text, entities, caption=False)
        self._admit(ctx, chat)
        return self._accept(
            ctx, chat, kind="text", source=source, parse_mode=params.get("parse_mode"),
            text=text, entities=entities, entities_dropped=dropped,
        )

    def _api_sendPhoto(self, ctx: _Ctx) -> dict[str, Any]:
        params = ctx.params
        self._check_json_params(ctx)
        if not params.get("chat_id", "").strip():
            raise _ApiError(400, ERR_CHAT_ID_EMPTY)
        photo_kind, photo = self._photo_input(ctx, params.get("photo"), ctx.files.get("photo"))
        source = params.get("caption", "")
        caption, entities = self._formatted(source, params.get("parse_mode"), params.get("caption_entities"))
        chat = self._resolve_chat(ctx)
        self._check_ban(ctx, chat)
        caption, entities, dropped = self._finish_text(caption, entities, caption=True)
        photo_fields = self._check_photo(ctx, photo_kind, photo)
        self._admit(ctx, chat)
        return self._accept(
            ctx, chat, kind="photo", source=source, parse_mode=params.get("parse_mode"),
            caption=caption, entities=entities, entities_dropped=dropped, **photo_fields,
        )

    def _api_editMessageText(self, ctx: _Ctx) -> dict[str, Any]:
        self._require_inline_free(ctx)
        params = ctx.params
        self._check_json_params(ctx)
        if not params.get("chat_id", "").strip():
            raise _ApiError(400, ERR_CHAT_ID_EMPTY)
        source = params.get("text", "")
        if not source:
            raise _ApiError(400, ERR_TEXT_EMPTY)
        text, entities = self._formatted(source, params.get("parse_mode"), params.get("entities"))
        chat = self._resolve_chat(ctx)
        self._check_ban(ctx, chat)
        message = self._find_message(ctx, chat, ERR_EDIT_NOT_FOUND)
        if message.kind != "text":
            raise _ApiError(400, ERR_NO_TEXT_TO_EDIT)
        text, entities, dropped = self._finish_text(text, entities, caption=False)
        preview = _json_param(params, "link_preview_options")
        if (text, entities) == (message.text, message.entities) and _json_param(params, "reply_markup") in (
            None,
            message.reply_markup,
        ):
            raise _ApiError(400, ERR_NOT_MODIFIED)
        self._admit(ctx, chat)
        changes = dict(text=text, entities=entities, entities_dropped=dropped, source=source,
                       parse_mode=params.get("parse_mode"))
        if preview is not None:
            changes["link_preview_options"] = preview
        return self._apply_edit(ctx, message, **changes)

    def _api_editMessageCaption(self, ctx: _Ctx) -> dict[str, Any]:
        self._require_inline_free(ctx)
        params = ctx.params
        self._check_json_params(ctx)
        if not params.get("chat_id", "").strip():
            raise _ApiError(400, ERR_CHAT_ID_EMPTY)
        source = params.get("caption", "")
        caption, entities = self._formatted(source, params.get("parse_mode"), params.get("caption_entities"))
        chat = self._resolve_chat(ctx)
        self._check_ban(ctx, chat)
        message = self._find_message(ctx, chat, ERR_EDIT_NOT_FOUND)
        if message.kind != "photo":
            raise _ApiError(400, ERR_NO_CAPTION_TO_EDIT)
        caption, entities, dropped = self._finish_text(caption, entities, caption=True)
        if (caption, entities) == (message.caption or "", message.entities) and _json_param(
            params, "reply_markup"
        ) in (None, message.reply_markup):
            raise _ApiError(400, ERR_NOT_MODIFIED)
        self._admit(ctx, chat)
        return self._apply_edit(ctx, message, caption=caption, entities=entities, entities_dropped=dropped,
                                source=source, parse_mode=params.get("parse_mode"))

    def _api_editMessageMedia(self, ctx: _Ctx) -> dict[str, Any]:
        self._require_inline_free(ctx)
        params = ctx.params
        self._check_json_params(ctx)
        if not params.get("chat_id", "").strip():
            raise _ApiError(400, ERR_CHAT_ID_EMPTY)
        raw_media = params.get("media", "")
        if not raw_media:
            raise _ApiError(400, "Bad Request: parameter \"media\" is required")
        try:
            media = json.loads(raw_media)
        except ValueError:
            raise _ApiError(400, "Bad Request: can't parse input media JSON object") from None
        if not isinstance(media, dict):
            raise _ApiError(400, "Bad Request: can't parse InputMedia: expected an Object")
        if media.get("type") != "photo":
            raise _ApiError(
                400, f"Bad Request: [fake_telegram] media type {media.get('type')!r} is not modeled"
            )
        media_value = media.get("media")
        if not isinstance(media_value, str):
            media_value = None
        photo_kind, photo = self._photo_input(ctx, media_value, None)
        source = media.get("caption") or ""
        entities_json = media.get("caption_entities")
        caption, entities = self._formatted(
            source, media.get("parse_mode"), json.dumps(entities_json) if entities_json is not None else None
        )
        chat = self._resolve_chat(ctx)
        self._check_ban(ctx, chat)
        message = self._find_message(ctx, chat, ERR_EDIT_NOT_FOUND)
        if message.kind != "photo":
            raise _ApiError(400, ERR_NO_MEDIA_TO_EDIT)
        caption, entities, dropped = self._finish_text(caption, entities, caption=True)
        if photo_kind == "url" and photo == message.photo_url and (caption, entities) == (
            message.caption or "",
            message.entities,
        ):
            raise _ApiError(400, ERR_NOT_MODIFIED)
        photo_fields = self._check_photo(ctx, photo_kind, photo)
        self._admit(ctx, chat)
        photo_fields.setdefault("photo_url", None)
        photo_fields.setdefault("photo_upload_size", None)
        return self._apply_edit(ctx, message, caption=caption, entities=entities, entities_dropped=dropped,
                                source=source, parse_mode=media.get("parse_mode"), **photo_fields)

    def _api_deleteMessage(self, ctx: _Ctx) -> bool:
        chat = self._resolve_chat(ctx)
        self._check_ban(ctx, chat)
        message = self._find_message(ctx, chat, ERR_DELETE_NOT_FOUND)
        self._admit(ctx, chat)
        message.deleted = True
        self._deletions.append(DeletionRecord(self.clock(), chat.id, message.message_id))
        return True


def _json_param(params: dict[str, str], name: str) -> Any:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise _ApiError(400, f"Bad Request: can't parse {name.replace('_', ' ')} JSON object") from None


def _parse_body(headers: Any, body: bytes, query: str) -> tuple[dict[str, str], dict[str, _Upload]]:
    """Request parameters as the Bot API sees them: every value a string
    (JSON bodies: non-strings re-encoded as JSON), plus uploaded files."""
    params: dict[str, str] = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
    files: dict[str, _Upload] = {}
    content_type = headers.get("Content-Type", "") or ""
    media_type = content_type.split(";", 1)[0].strip().lower()
    if not body:
        return params, files
    if media_type == "application/json":
        try:
            data = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise _ApiError(400, "Bad Request: can't parse JSON encoded request") from None
        if not isinstance(data, dict):
            raise _ApiError(400, "Bad Request: can't parse JSON encoded request")
        for key, value in data.items():
            if value is None:
                continue
            params[key] = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    elif media_type == "multipart/form-data":
        header = _EmailMessage()
        header["Content-Type"] = content_type
        boundary = header.get_param("boundary")
        if not boundary:
            raise _ApiError(400, "Bad Request: can't parse multipart/form-data request")
        for part in (b"\r\n" + body).split(b"\r\n--" + boundary.encode("latin-1"))[1:]:
            if part.startswith(b"--"):
                break
            head, _, data = part[2:].partition(b"\r\n\r\n")
            disposition = _EmailMessage()
            for line in head.decode("utf-8", "replace").split("\r\n"):
                name, _, value = line.partition(":")
                disposition[name.strip()] = value.strip()
            name = disposition.get_param("name", header="content-disposition")
            if not name:
                continue
            filename = disposition.get_filename()
            if filename is None:
                params[name] = data.decode("utf-8", "replace")
            else:
                files[name] = _Upload(filename, disposition.get_content_type(), data)
    else:  # application/x-www-form-urlencoded and anything else
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise _ApiError(400, "Bad Request: strings must be encoded in UTF-8") from None
        params.update(urllib.parse.parse_qsl(text, keep_blank_values=True))
    for value in params.values():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise _ApiError(400, "Bad Request: strings must be encoded in UTF-8") from None
    return params, files


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type, fake: FakeTelegram):
        self.fake = fake
        super().__init__(address, handler)


class _Handler(BaseHTTPRequestHandler):
    disable_nagle_algorithm = True  # answer at once: Nagle adds ~40 ms to small responses
    protocol_version = "HTTP/1.1"  # keep-alive, as httpx expects
    server: _Server

    def setup(self) -> None:
        super().setup()
        with self.server.fake._lock:
            self.server.fake._connections.add(self.connection)

    def finish(self) -> None:
        with self.server.fake._lock:
            self.server.fake._connections.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass  # keep test output clean (and tokens out of logs)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _serve(self) -> None:
        body = self._read_body()
        try:
            answer = self.server.fake._handle(self.command, self.path, self.headers, body)
        except _Drop:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        status, content_type, payload = answer
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            self.wfile.flush()
        except OSError:  # the client gave up (timed out) meanwhile
            self.close_connection = True

    do_GET = do_POST = _serve
