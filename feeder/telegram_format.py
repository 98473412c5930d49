"""Format an article as a Telegram channel post (Telegram HTML parse mode).

Pure: no files, clock, network or database; it only processes data, and
imports only the standard library and feeder.errors. It does not import
python-telegram-bot: the sender turns a :class:`Post` into a ``send_photo`` /
``send_message`` call.

How Telegram reads the text is taken from tdlib's ``parse_html`` and
``match_hashtags`` (td/telegram/MessageEntity.cpp); :func:`_parse_html`
mirrors the first so that lengths are measured on what Telegram will count
and templates are refused here rather than by the Bot API.

Decisions (see docs/dev.md):

* Lengths are counted in UTF-16 code units after entity parsing. tdlib counts
  code points, so this is the safe side (an astral emoji counts 2).
* A post that is too long loses, in this order: the end of the summary (cut
  at a sentence, then a word boundary, with "…"); then, for a photo, the
  photo itself (the post becomes a text message with the picture as its link
  preview); then the end of the title; then hashtags from the end. Hashtags
  are never cut, only dropped whole.
* Hashtags beyond what keeps the post under 100 entities are dropped.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit

from feeder.errors import FeederError

__all__ = [
    "DEFAULT_TEMPLATE",
    "ELLIPSIS",
    "MAX_CAPTION_LENGTH",
    "MAX_ENTITIES",
    "MAX_HASHTAG_LENGTH",
    "MAX_TEXT_LENGTH",
    "PHOTO_MODES",
    "PLACEHOLDERS",
    "Post",
    "PostSource",
    "PostStyle",
    "TelegramHTMLError",
    "TemplateError",
    "escape_html",
    "hashtag",
    "hashtags",
    "render_post",
    "telegram_length",
    "to_plain",
    "validate_template",
]

#: Longest message text, after entity parsing (MessageLimit.MAX_TEXT_LENGTH).
MAX_TEXT_LENGTH = 4096
#: Longest photo caption, after entity parsing (MessageLimit.CAPTION_LENGTH).
MAX_CAPTION_LENGTH = 1024
#: Entities Telegram applies in one message; later ones are silently ignored
#: (MessageLimit.MESSAGE_ENTITIES).
MAX_ENTITIES = 100
#: Characters of a hashtag body that tdlib links (match_hashtags).
MAX_HASHTAG_LENGTH = 256
#: Appended where text was shortened.
ELLIPSIS = "…"

#: Placeholders a template may use; every value is HTML-escaped.
PLACEHOLDERS = ("title", "summary", "link", "host", "tags", "author")
#: "photo": photo with caption; "preview": text message showing the picture
#: as its link preview; "text": text message only.
PHOTO_MODES = ("photo", "preview", "text")

#: Bold title, the summary, a link to the article named by its site, hashtags.
DEFAULT_TEMPLATE = '<b>{title}</b>\n\n{summary}\n\n<a href="{link}">{host}</a>\n\n{tags}'


class TelegramHTMLError(FeederError, ValueError):
    """Telegram would answer "can't parse entities" for this text."""


class TemplateError(FeederError, ValueError):
    """A channel's template or photo mode cannot be used; the message says why."""


# --------------------------------------------------------------------------
# Data crossing the module boundary


@dataclass(frozen=True)
class PostSource:
    """What the formatter needs of an article."""

    #: Article title, plain text.
    title: str
    #: Plain text, already cleaned; may be long (it is shortened to fit).
    summary: str
    #: Absolute http(s) URL of the article.
    link: str
    #: Category names as written by the author; turned into hashtags.
    categories: tuple[str, ...]
    #: Author name, plain text.
    author: str
    #: Absolute http(s) URL of the picture, or None.
    image: str | None

    def __post_init__(self) -> None:
        object.__setattr__(self, "categories", tuple(self.categories))
        if not _is_http_url(self.link):
            raise ValueError(f"article link must be an absolute http(s) URL: {self.link!r}")
        if self.image is not None and not _is_http_url(self.image):
            raise ValueError(f"article image must be an absolute http(s) URL or None: {self.image!r}")


@dataclass(frozen=True)
class PostStyle:
    """A channel's formatting choices."""

    #: Operator-written Telegram HTML with placeholders, see PLACEHOLDERS.
    template: str = DEFAULT_TEMPLATE
    #: One of PHOTO_MODES.
    photo_mode: str = "photo"
    #: Text mode only: whether Telegram shows a preview of the first link.
    link_preview: bool = False

    def __post_init__(self) -> None:
        if self.photo_mode not in PHOTO_MODES:
            raise TemplateError(f"photo_mode must be one of {', '.join(PHOTO_MODES)}: {self.photo_mode!r}")
        _compile(self.template)  # raises TemplateError with the reason


@dataclass(frozen=True)
class Post:
    """What the sender sends."""

    #: Telegram HTML (parse_mode HTML); the caption when ``photo`` is set.
    text: str
    #: URL to send as a photo with ``text`` as its caption, else None.
    photo: str | None
    #: URL for ``link_preview_options.url`` (preview mode), else None.
    preview_url: str | None
    #: Whether the link preview is enabled (text messages).
    show_preview: bool


# --------------------------------------------------------------------------
# Escaping, parsing and measuring Telegram HTML


def escape_html(value: str) -> str:
    """Escape text for Telegram HTML, inside and outside double-quoted attributes."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


_SPACES = frozenset(" \t\r\n\0\v\f")  # tdlib is_space()
_ASCII_ALNUM = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_ASCII_ALPHA = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_DIGITS = frozenset("0123456789")
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_TAGS = frozenset(
    {"a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins",
     "tg-spoiler", "tg-emoji", "span", "pre", "code", "blockquote"}
)  # fmt: skip
_SIMPLE_ENTITY_KIND = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic",
    "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
    "u": "underline", "ins": "underline", "tg-spoiler": "spoiler", "span": "spoiler",
}  # fmt: skip
_SPECIAL = re.compile(r"[&<]")
_INT64 = re.compile(r"-?[0-9]+\Z")


@dataclass(frozen=True)
class _Entity:
    kind: str
    offset: int  # UTF-16 code units
    length: int
    argument: str = ""


@dataclass(frozen=True)
class _Parsed:
    text: str
    entities: tuple[_Entity, ...]
    length: int  # UTF-16 code units of text


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _ascii_lower(text: str) -> str:
    return text.translate(_ASCII_LOWER)


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _decode_entity(html: str, pos: int) -> tuple[int, int]:
    """tdlib decode_html_entity: (code point, position after it), or (0, pos)."""
    n = len(html)
    end = pos + 1
    code = 0
    if end < n and html[end] == "#":
        end += 1
        if end < n and html[end] == "x":
            end += 1
            while end < n and html[end] in _HEX_DIGITS:
                code = code * 16 + int(html[end], 16)
                end += 1
        else:
            while end < n and html[end] in _DIGITS:
                code = code * 10 + ord(html[end]) - 48
                end += 1
        if code == 0 or code >= 0x10FFFF or end - pos >= 10:
            return 0, pos
    else:
        while end < n and html[end] in _ASCII_ALPHA:
            end += 1
        named = _NAMED_ENTITIES.get(html[pos + 1 : end])
        if named is None:
            return 0, pos
        code = ord(named)
    if end < n and html[end] == ";":
        end += 1
    return code, end


def _byte_offset(html: str, pos: int) -> int:
    return len(html[:pos].encode("utf-8", "surrogatepass"))


def _parse_html(html: str) -> _Parsed:
    """Parse Telegram HTML the way tdlib's parse_html does.

    Raises TelegramHTMLError with tdlib's wording where tdlib would refuse
    the text. Entities are returned in the order their end tags close.
    """
    out: list[str] = []
    entities: list[_Entity] = []
    # (tag name, argument, UTF-16 offset, index into out) per open tag
    stack: list[tuple[str, str, int, int]] = []
    utf16 = 0
    n = len(html)
    i = 0

    while i < n:
        m = _SPECIAL.search(html, i)
        j = m.start() if m else n
        if j > i:
            chunk = html[i:j]
            out.append(chunk)
            utf16 += _utf16_len(chunk)
            i = j
            if i == n:
                break
        if html[i] == "&":
            code, end = _decode_entity(html, i)
            if code:
                if 0xD800 <= code <= 0xDFFF:
                    raise TelegramHTMLError(
                        "Text contains invalid Unicode characters after decoding HTML entities, "
                        "check for unmatched surrogate code units"
                    )
                out.append(chr(code))
                utf16 += 2 if code > 0xFFFF else 1
                i = end
            else:
                out.append("&")
                utf16 += 1
                i += 1
            continue

        begin = i  # html[i] == "<"
        i += 1
        if i >= n or html[i] != "/":
            # start tag
            while i < n and html[i] not in _SPACES and html[i] != ">":
                i += 1
            if i >= n:
                raise TelegramHTMLError(f"Unclosed start tag at byte offset {_byte_offset(html, begin)}")
            tag = _ascii_lower(html[begin + 1 : i])
            if tag not in _TAGS:
                raise TelegramHTMLError(f'Unsupported start tag "{tag}" at byte offset {_byte_offset(html, begin)}')
            argument = ""
            while i >= n or html[i] != ">":
                while i < n and html[i] in _SPACES:
                    i += 1
                if i < n and html[i] == ">":
                    break
                name_begin = i
                while i < n and html[i] not in _SPACES and html[i] not in '=>/"\'':
                    i += 1
                name = html[name_begin:i]
                if not name:
                    raise TelegramHTMLError(
                        f'Empty attribute name in the tag "{tag}" at byte offset {_byte_offset(html, begin)}'
                    )
                while i < n and html[i] in _SPACES:
                    i += 1
                if i >= n or html[i] != "=":
                    if i >= n:
                        raise TelegramHTMLError(f'Unclosed start tag "{tag}" at byte offset {_byte_offset(html, begin)}')
                    if tag == "blockquote" and name == "expandable":
                        argument = "1"
                    continue
                i += 1
                while i < n and html[i] in _SPACES:
                    i += 1
                if i >= n:
                    raise TelegramHTMLError(f'Unclosed start tag "{tag}" at byte offset {_byte_offset(html, begin)}')
                if html[i] not in "\"'":
                    token_begin = i
                    while i < n and (html[i] in _ASCII_ALNUM or html[i] in ".-"):
                        i += 1
                    value = _ascii_lower(html[token_begin:i])
                    if i < n and html[i] not in _SPACES and html[i] != ">":
                        raise TelegramHTMLError(f"Unexpected end of name token at byte offset {_byte_offset(html, token_begin)}")
                else:
                    quote = html[i]
                    i += 1
                    chars: list[str] = []
                    while i < n and html[i] != quote:
                        if html[i] == "&":
                            code, end = _decode_entity(html, i)
                            if code:
                                chars.append(chr(code))
                                i = end
                                continue
                        chars.append(html[i])
                        i += 1
                    if i < n:
                        i += 1
                    value = "".join(chars)
                if i >= n:
                    raise TelegramHTMLError(f"Unclosed start tag at byte offset {_byte_offset(html, begin)}")
                if tag == "a" and name == "href":
                    argument = value
                elif tag == "code" and name == "class" and value.startswith("language-"):
                    argument = value[9:]
                elif tag == "span" and name == "class" and value.startswith("tg-"):
                    argument = value[3:]
                elif tag == "tg-emoji" and name == "emoji-id":
                    argument = value
                elif tag == "blockquote" and name == "expandable":
                    argument = "1"
            if tag == "span" and argument != "spoiler":
                raise TelegramHTMLError(f'Tag "span" must have class "tg-spoiler" at byte offset {_byte_offset(html, begin)}')
            stack.append((tag, argument, utf16, len(out)))
            i += 1  # past ">"
            continue

        # end tag
        if not stack:
            raise TelegramHTMLError(f"Unexpected end tag at byte offset {_byte_offset(html, begin)}")
        while i < n and html[i] not in _SPACES and html[i] != ">":
            i += 1
        end_tag = _ascii_lower(html[begin + 2 : i])
        while i < n and html[i] in _SPACES:
            i += 1
        if i >= n or html[i] != ">":
            raise TelegramHTMLError(f"Unclosed end tag at byte offset {_byte_offset(html, begin)}")
        tag, argument, offset, out_index = stack[-1]
        if end_tag and end_tag != tag:
            raise TelegramHTMLError(
                f"Unmatched end tag at byte offset {_byte_offset(html, begin)}, "
                f'expected "</{tag}>", found "</{end_tag}>"'
            )
        if utf16 > offset:
            length = utf16 - offset
            last = entities[-1] if entities else None
            same_span = last is not None and last.offset == offset and last.length == length
            if tag in _SIMPLE_ENTITY_KIND:
                entities.append(_Entity(_SIMPLE_ENTITY_KIND[tag], offset, length))
            elif tag == "tg-emoji":
                if not _INT64.match(argument) or int(argument) == 0 or not -(2**63) <= int(argument) < 2**63:
                    raise TelegramHTMLError("Invalid custom emoji identifier specified")
                entities.append(_Entity("custom_emoji", offset, length, argument))
            elif tag == "a":
                url = argument or "".join(out[out_index:])
                entities.append(_Entity("text_link", offset, length, url))
            elif tag == "pre":
                if same_span and last.kind == "code" and last.argument:
                    entities[-1] = _Entity("pre_code", offset, length, last.argument)
                else:
                    entities.append(_Entity("pre", offset, length))
            elif tag == "code":
                if same_span and last.kind == "pre" and argument:
                    entities[-1] = _Entity("pre_code", offset, length, argument)
                else:
                    entities.append(_Entity("code", offset, length, argument))
            else:  # blockquote
                kind = "expandable_blockquote" if argument else "blockquote"
                entities.append(_Entity(kind, offset, length))
        stack.pop()
        i += 1  # past ">"

    if stack:
        raise TelegramHTMLError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return _Parsed("".join(out), tuple(entities), utf16)


def telegram_length(html: str) -> int:
    """Length of the text Telegram keeps after parsing ``html``, in UTF-16 code units.

    Tags are removed and ``&lt; &gt; &amp; &quot;`` and numeric references
    decoded, as tdlib does; so ``"&amp;"`` counts 1 and an astral emoji 2.
    Raises TelegramHTMLError (a ValueError) where Telegram would refuse the text.
    """
    return _parse_html(html).length


_LOOSE_TAG = re.compile(r"<[^<>]*>")


def to_plain(html: str) -> str:
    """The text Telegram would show for ``html``, for resending without parse mode.

    Works on text Telegram refused as well: then anything that looks like a
    tag is removed and references are decoded the way tdlib decodes them.
    """
    try:
        return _parse_html(html).text
    except TelegramHTMLError:
        pass
    text = _LOOSE_TAG.sub("", html)
    out: list[str] = []
    i = 0
    while True:
        j = text.find("&", i)
        if j < 0:
            out.append(text[i:])
            break
        out.append(text[i:j])
        code, end = _decode_entity(text, j)
        if code and not 0xD800 <= code <= 0xDFFF:
            out.append(chr(code))
            i = end
        else:
            out.append("&")
            i = j + 1
    return "".join(out)


# --------------------------------------------------------------------------
# Counting entities


def _is_hashtag_char(c: str) -> bool:
    """tdlib is_hashtag_letter: letters, decimal digits, _, ZWNJ, middle dot, Sinhala."""
    if c == "_" or c == "\u200c" or c == "\u00b7" or "\u0d80" <= c <= "\u0dff":
        return True
    category = unicodedata.category(c)
    return category[0] == "L" or category == "Nd"


def _count_hashtags(text: str) -> int:
    """Hashtags tdlib's match_hashtags would find in plain text."""
    count = 0
    n = len(text)
    start = text.find("#")
    while start >= 0:
        i = start + 1
        if start == 0 or not _is_hashtag_char(text[start - 1]):
            while i < n and _is_hashtag_char(text[i]):
                i += 1
            body = text[start + 1 : i][:MAX_HASHTAG_LENGTH]
            if body and (i >= n or text[i] != "#") and any(unicodedata.category(c)[0] == "L" for c in body):
                count += 1
        start = text.find("#", i if i > start + 1 else start + 1)
    return count


# Other entities Telegram detects by itself in the text. Deliberately generous:
# counting too many only drops a hashtag, counting too few loses formatting.
_AUTO_ENTITY = re.compile(
    r"(?<![\w@])@[A-Za-z0-9_]{2,32}"  # mention
    r"|(?<![\w$])\$(?:1INCH|[A-Z]{1,8})(?![\w$])"  # cashtag
    r"|(?<![\w/<>])/[A-Za-z0-9_]{1,64}(?![\w/<>])"  # bot command
    r"|[A-Za-z0-9+.-]*://[^\s]+"  # URL with a scheme
    r"|[A-Za-z0-9._%+@-]*[A-Za-z0-9-]\.[A-Za-z]{2,}"  # bare domain, e-mail
)


def _entity_count(html: str) -> int:
    """Entities Telegram would create for ``html``: its tags plus an upper estimate of detected ones."""
    parsed = _parse_html(html)
    return len(parsed.entities) + _count_hashtags(parsed.text) + len(_AUTO_ENTITY.findall(parsed.text))


# --------------------------------------------------------------------------
# Hashtags

_DROPPED_IN_HASHTAG = frozenset("'’‘`´ʼ")  # apostrophes join: "Don't" -> "Dont"


def hashtag(name: str) -> str | None:
    """Make a Telegram hashtag of a category name, or None if nothing usable is left.

    The name is NFKC-normalised (full-width forms become ASCII). Letters,
    decimal digits and the few other characters tdlib links (``_``, ZWNJ,
    ``·``, Sinhala) are kept; whitespace is removed so words join
    ("AGE 动漫" -> "AGE动漫"); apostrophes, combining marks and format
    characters are dropped; any other run of characters (punctuation,
    symbols, emoji, with the spaces around them) becomes one ``_``
    ("新浪财经－国內" -> "新浪财经_国內", "node.js" -> "node_js"); leading
    and trailing ``_`` go ("C++" -> "C"). The body is cut to the 256
    characters tdlib links, and must contain a letter ("2021" -> None).
    """
    body: list[str] = []
    separate = False
    for c in unicodedata.normalize("NFKC", name):
        if c == "_":
            separate = True
        elif _is_hashtag_char(c):
            if separate and body:
                body.append("_")
            separate = False
            body.append(c)
        elif c.isspace() or c in _DROPPED_IN_HASHTAG or unicodedata.category(c) in ("Mn", "Mc", "Me", "Cf"):
            continue
        else:
            separate = True
    text = "".join(body)[:MAX_HASHTAG_LENGTH].rstrip("_")
    if not any(unicodedata.category(c)[0] == "L" for c in text):
        return None
    return "#" + text


def hashtags(names: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Hashtags for category names: unusable ones dropped, duplicates (ignoring case) removed, order kept."""
    seen: set[str] = set()
    result: list[str] = []
    for name in names:
        tag = hashtag(name)
        if tag is not None and tag.casefold() not in seen:
            seen.add(tag.casefold())
            result.append(tag)
    return tuple(result)


# --------------------------------------------------------------------------
# Templates

_PLACEHOLDER = re.compile(r"\{([^{}<>\s]*)\}")
_TEMPLATE_TAG = re.compile(r"<(/?)([^\s<>]*)((?:[^<>\"']|\"[^\"]*\"|'[^']*')*)>")
_DOUBLE_QUOTED = re.compile(r'"[^"]*"')
_HREF = re.compile(r"""(?:^|\s)href\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]*))""", re.IGNORECASE)
_SAMPLE_VALUES = {
    "title": 'Title <&> "quoted"',
    "summary": "Summary <&> text",
    "link": 'https://example.com/path?a=1&b="2"',
    "host": "example.com",
    "tags": "#tag #标签",
    "author": "Author <&>",
}


@dataclass(frozen=True)
class _Line:
    text: str
    #: Placeholders on this line.
    names: tuple[str, ...]
    #: The line goes when all its placeholders are empty (its tags balance on their own).
    droppable: bool


@dataclass(frozen=True)
class _Template:
    lines: tuple[_Line, ...]

    def render(self, values: dict[str, str]) -> str:
        """Substitute escaped values; drop lines whose placeholders are all empty.

        Blank lines then collapse to one, and leading and trailing blank lines
        go, so a missing summary or tag list leaves no gap.
        """
        kept: list[str] = []
        for line in self.lines:
            if line.droppable and not any(values[name] for name in line.names):
                continue
            if not line.text.strip():
                if kept and kept[-1]:
                    kept.append("")
                continue
            kept.append(line.text)
        while kept and not kept[-1]:
            kept.pop()
        escaped = {name: escape_html(value) for name, value in values.items()}
        return _PLACEHOLDER.sub(lambda m: escaped[m.group(1)], "\n".join(kept)).strip()


def validate_template(template: str) -> None:
    """Raise TemplateError (a ValueError) saying why ``template`` cannot be used.

    Refused: unknown placeholders (the known ones are PLACEHOLDERS; write a
    literal brace as ``&#123;``), placeholders inside a tag other than in a
    double-quoted attribute value, anything Telegram's HTML parser rejects
    (unsupported or unbalanced tags, a bare ``<``), ``<a>`` without an
    http(s) ``href`` or ``{link}``, nested blockquotes, and fixed text longer
    than a message.
    """
    _compile(template)


@functools.lru_cache(maxsize=64)
def _compile(template: str) -> _Template:
    template = template.replace("\r\n", "\n")
    for match in _PLACEHOLDER.finditer(template):
        if match.group(1) not in PLACEHOLDERS:
            known = ", ".join("{" + name + "}" for name in PLACEHOLDERS)
            raise TemplateError(f"template: unknown placeholder {match.group(0)} (known: {known})")
    for match in _TEMPLATE_TAG.finditer(template):
        outside_quotes = _DOUBLE_QUOTED.sub("", match.group(2) + match.group(3))
        inner = _PLACEHOLDER.search(outside_quotes)
        if inner:
            raise TemplateError(
                f"template: placeholder {inner.group(0)} in tag {match.group(0)} must be inside a "
                'double-quoted attribute value, as in <a href="{link}">'
            )

    try:
        # Placeholders are plain text to the parser, so offsets point into the template itself.
        _parse_html(template)
        fixed_length = _parse_html(_PLACEHOLDER.sub("", template)).length
        parsed = _parse_html(_PLACEHOLDER.sub(lambda m: escape_html(_SAMPLE_VALUES[m.group(1)]), template))
    except TelegramHTMLError as error:
        raise TemplateError(f"template: Telegram would reject it: {error}") from None
    if not parsed.text.strip():
        raise TemplateError("template: shows nothing")

    open_tags: list[str] = []
    for match in _TEMPLATE_TAG.finditer(template):
        closing, name, attributes = match.group(1), _ascii_lower(match.group(2)), match.group(3)
        if name == "a" and not closing:
            href = _HREF.search(attributes)
            target = next((g for g in href.groups() if g is not None), "") if href else None
            if target is None:
                raise TemplateError(f"template: {match.group(0)} needs an href")
            if not target.startswith("{link}") and not re.match(r"https?://[^/\s]", target, re.IGNORECASE):
                raise TemplateError(
                    f'template: {match.group(0)} must link to "{{link}}" or an http(s) URL, not "{target}"'
                )
        if closing:
            open_tags.pop()  # the parse above showed the tags balance
        else:
            if name == "blockquote" and name in open_tags:
                raise TemplateError("template: Telegram does not allow a blockquote inside a blockquote")
            open_tags.append(name)

    if fixed_length > MAX_TEXT_LENGTH:
        raise TemplateError(
            f"template: its own text is {fixed_length} characters, more than a message holds ({MAX_TEXT_LENGTH})"
        )
    return _Template(tuple(_make_line(text) for text in template.split("\n")))


def _make_line(text: str) -> _Line:
    names = tuple(m.group(1) for m in _PLACEHOLDER.finditer(text))
    if not names:
        return _Line(text, names, droppable=False)
    try:
        _parse_html(_PLACEHOLDER.sub("", text))
    except TelegramHTMLError:
        return _Line(text, names, droppable=False)
    return _Line(text, names, droppable=True)


# --------------------------------------------------------------------------
# Shortening text

_SENTENCE_END = re.compile(r"(?:[。！？｡]|[.!?](?=\s|$))[”’\"'」』）)\]]*|\n")
_TRAILING_JUNK = " \t\n,.;:!?，。；：！？、…‥-–—(（[【{《〈「『“‘·"
#: How far back from the cut a sentence or word boundary may be, as a share of the length kept.
_BOUNDARY_REACH = 0.3


def _is_wide(c: str) -> bool:
    return unicodedata.east_asian_width(c) in ("W", "F")


def _joins_previous(c: str) -> bool:
    """Cutting just before ``c`` would split a character as the reader sees it."""
    code = ord(c)
    return (
        unicodedata.category(c) in ("Mn", "Mc", "Me")
        or code == 0x200D  # zero width joiner
        or 0xFE00 <= code <= 0xFE0F  # variation selectors
        or 0x1F3FB <= code <= 0x1F3FF  # skin tones
        or 0xE0020 <= code <= 0xE007F  # tag characters
        or 0xE0100 <= code <= 0xE01EF
    )


def _can_cut(text: str, p: int) -> bool:
    return 0 < p < len(text) and not _joins_previous(text[p]) and text[p - 1] != "\u200d"


def _is_word_boundary(text: str, p: int) -> bool:
    before, after = text[p - 1], text[p]
    if before.isspace() or after.isspace():
        return True
    if not _can_cut(text, p):
        return False
    return _is_wide(before) or _is_wide(after) or unicodedata.category(before)[0] == "P"


def _shorten(text: str, limit: int) -> str:
    """``text`` if it has at most ``limit`` code points, else a shorter prefix ending in "…".

    The cut is at the end of a sentence, else between words (between any two
    CJK characters), provided that loses under 30% of what could be kept;
    else at the limit. Trailing spaces and punctuation are dropped before the
    ellipsis. Returns "" when nothing worth keeping fits.
    """
    if len(text) <= limit:
        return text
    keep = limit - len(ELLIPSIS)
    if keep <= 0:
        return ""
    floor = int(keep * (1 - _BOUNDARY_REACH))
    cut = None
    for match in _SENTENCE_END.finditer(text, 0, keep + 1):
        if floor <= match.end() <= keep:
            cut = match.end()
    if cut is None:
        cut = next((p for p in range(keep, max(floor, 1) - 1, -1) if _is_word_boundary(text, p)), None)
    if cut is None:
        cut = keep
        while cut > 0 and not _can_cut(text, cut):
            cut -= 1
    kept = text[:cut].rstrip(_TRAILING_JUNK)
    return kept + ELLIPSIS if kept else ""


def _largest(fits, high: int) -> int:
    """Largest k in [0, high] with fits(k), given fits(0); binary search."""
    low = 0
    while low < high:
        middle = (low + high + 1) // 2
        if fits(middle):
            low = middle
        else:
            high = middle - 1
    return low


# --------------------------------------------------------------------------
# Rendering


def render_post(src: PostSource, style: PostStyle) -> Post:
    """Render ``src`` with ``style`` into a Post that fits Telegram's limits.

    A photo post whose caption cannot hold title, link and hashtags even with
    no summary becomes a text message with the picture as link preview; a
    "photo" or "preview" post without an image is a "text" post.
    """
    template = _compile(style.template)
    values = {
        "title": _one_line(src.title),
        "summary": _clean(src.summary).strip(),
        "link": src.link,
        "host": _display_host(src.link),
        "tags": "",
        "author": _one_line(src.author),
    }
    tags = hashtags(src.categories)
    mode = style.photo_mode if src.image is not None else "text"
    if mode == "photo":
        caption = _fit(template, values, tags, MAX_CAPTION_LENGTH, last_resort=False)
        if caption is not None:
            return Post(caption, photo=src.image, preview_url=None, show_preview=False)
        mode = "preview"
    text = _fit(template, values, tags, MAX_TEXT_LENGTH, last_resort=True)
    if not to_plain(text).strip():
        text = escape_html(_shorten(src.link, MAX_TEXT_LENGTH))  # Telegram refuses an empty message
    if mode == "preview":
        return Post(text, photo=None, preview_url=src.image, show_preview=True)
    return Post(text, photo=None, preview_url=None, show_preview=style.link_preview)


def _fit(
    template: _Template, values: dict[str, str], tags: tuple[str, ...], limit: int, last_resort: bool
) -> str | None:
    """The rendered post within ``limit`` and MAX_ENTITIES, or None (only without ``last_resort``).

    Shortens the summary; then, with ``last_resort``, the title, then drops
    hashtags from the end, then sends the visible text without formatting.
    """
    count = min(len(tags), MAX_ENTITIES)
    while True:
        html = _fit_text(template, {**values, "tags": " ".join(tags[:count])}, limit, last_resort)
        if html is None:
            if not last_resort:
                return None
            bare = {**values, "title": "", "summary": ""}

            def fits_with(k: int) -> bool:
                return telegram_length(template.render({**bare, "tags": " ".join(tags[:k])})) <= limit

            if not fits_with(0):
                return _plain_fallback(template.render({**bare, "tags": ""}), limit)
            count = _largest(fits_with, count - 1)
            continue
        excess = _entity_count(html) - MAX_ENTITIES
        if excess > 0 and count > 0:
            count = max(0, count - excess)
            continue
        return html


def _fit_text(template: _Template, values: dict[str, str], limit: int, cut_title: bool) -> str | None:
    def render(**changes: str) -> str:
        return template.render({**values, **changes})

    def fits(html: str) -> bool:
        return telegram_length(html) <= limit

    html = render()
    if fits(html):
        return html
    summary, title = values["summary"], values["title"]
    if fits(render(summary="")):
        k = _largest(lambda k: fits(render(summary=_shorten(summary, k))), min(len(summary), limit))
        return render(summary=_shorten(summary, k))
    if not cut_title or not fits(render(summary="", title="")):
        return None
    k = _largest(lambda k: fits(render(summary="", title=_shorten(title, k))), min(len(title), limit))
    return render(summary="", title=_shorten(title, k))


def _plain_fallback(html: str, limit: int) -> str:
    plain = to_plain(html)
    k = _largest(lambda k: _utf16_len(_shorten(plain, k)) <= limit, min(len(plain), limit))
    return escape_html(_shorten(plain, k))


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _clean(text: str) -> str:
    return _CONTROL.sub(" ", text.replace("\r\n", "\n").replace("\r", "\n"))


def _one_line(text: str) -> str:
    return " ".join(_clean(text).split())


def _is_http_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def _display_host(link: str) -> str:
    """The link's host for people: without "www.", internationalised names decoded."""
    host = urlsplit(link).hostname or ""
    host = host.removeprefix("www.")
    try:
        return host.encode("ascii").decode("idna")
    except UnicodeError:
        return host
