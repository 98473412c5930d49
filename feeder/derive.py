"""Article -> Entry: the link, the summary, the thumbnail and the sanitised content.

Pure: no file system, clock, network or database here. The rules come in as
:class:`Rules`, built once from the config.

The body is parsed once with lxml. Boilerplate is removed from the tree
(style, script, iframe, comments, app/QR promotion blocks, editor lines,
code-copy buttons: see ``[content]`` in the config); the summary is the
remaining text, whitespace collapsed (U+3000 indents included), cut at a
sentence end near ``summary_length``; the content is the remaining HTML with
URLs made absolute, sanitised by nh3 (Ammonia).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import quote, urljoin

import lxml.etree
import lxml.html
import nh3

from feeder.model import Article, Entry

if TYPE_CHECKING:  # pragma: no cover
    from feeder.config import Config

ELLIPSIS = "…"
#: a sentence may end this far before the limit (as a share of it) and still be preferred
SENTENCE_WINDOW = 0.4
_ID_NAMESPACE = uuid.UUID("5f0c8a52-8f3e-4b0e-9f39-6a3c1b7de2a1")

_DROP_TAGS = (
    "style", "script", "noscript", "template", "iframe", "frame", "frameset", "object", "embed",
    "form", "input", "button", "select", "textarea", "svg", "canvas", "link", "meta", "head",
    "title", "audio", "video", "source", "track", "map", "dialog",
)  # fmt: skip
_BLOCK_TAGS = frozenset(
    "address article aside blockquote br dd details div dl dt fieldset figcaption figure footer "
    "h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section summary table tbody td tfoot th "
    "thead tr ul".split()
)
_TEXT_BLOCKS = ("p", "div", "section", "li", "span", "footer", "aside", "h5", "h6", "blockquote", "td", "center", "font", "strong")
_SPACE = re.compile(r"\s+")
_SENTENCE_END = re.compile(r"[。！？!?…]+[”」』\"')）]*|[.](?=\s|$)")
_CJK = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]")
_XML_BAD = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

ALLOWED_TAGS = frozenset(
    "a abbr b bdi bdo blockquote br caption cite code col colgroup dd del details dfn div dl dt em "
    "figcaption figure h1 h2 h3 h4 h5 h6 hr i img ins kbd li mark ol p pre q rp rt ruby s samp small "
    "span strike strong sub summary sup table tbody td tfoot th thead time tr u ul".split()
)
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height", "referrerpolicy"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "ol": {"start"},
    "time": {"datetime"},
    "blockquote": {"cite"},
    "q": {"cite"},
}


@dataclass(frozen=True)
class Rules:
    """Everything derive() needs from the config, compiled once."""

    base_url: str
    permalink: str
    summary_length: int
    #: matches a class or id that marks a block as boilerplate
    drop_class: re.Pattern[str] | None
    #: matches the whole text of a boilerplate block
    drop_text: re.Pattern[str] | None
    #: matches an image URL that is a placeholder
    placeholder: re.Pattern[str] | None
    default_author: str = ""

    @classmethod
    def build(
        cls,
        *,
        base_url: str,
        permalink: str,
        summary_length: int,
        drop_classes: tuple[str, ...],
        drop_text: tuple[str, ...],
        placeholder_images: tuple[str, ...],
        default_author: str = "",
    ) -> "Rules":
        words = "|".join(re.escape(c.lower()) for c in drop_classes)
        return cls(
            base_url=base_url,
            permalink=permalink,
            summary_length=summary_length,
            drop_class=re.compile(rf"(?:^|[\s_-])(?:{words})(?:$|[\s_-])") if words else None,
            drop_text=re.compile("|".join(f"(?:{p})" for p in drop_text)) if drop_text else None,
            placeholder=re.compile("|".join(f"(?:{p})" for p in placeholder_images), re.I) if placeholder_images else None,
            default_author=default_author,
        )


    @classmethod
    def from_config(cls, config: "Config") -> "Rules":
        c = config
        return cls.build(
            base_url=c.site.base_url,
            permalink=c.feeds.permalink,
            summary_length=c.feeds.summary_length,
            drop_classes=c.content.drop_classes,
            drop_text=c.content.drop_text,
            placeholder_images=c.content.placeholder_images,
        )


def entry_id(path: str) -> str:
    """The stable id of the article at ``path``: the same on every run and machine."""
    return "urn:uuid:" + str(uuid.uuid5(_ID_NAMESPACE, path))


def article_link(article: Article, rules: Rules) -> str:
    stem_path = article.path.removesuffix(".md")
    d = article.date
    rel = rules.permalink.format(
        year=f"{d.year:04d}",
        month=f"{d.month:02d}",
        day=f"{d.day:02d}",
        path=quote(stem_path, safe="/"),
        stem=quote(stem_path.rsplit("/", 1)[-1], safe=""),
        slug=quote(_slug_words(article.title), safe=""),
    )
    return urljoin(rules.base_url, rel)


def _slug_words(title: str) -> str:
    return re.sub(r"[^\w]+", "-", title.lower()).strip("-")[:80] or "untitled"


def derive(article: Article, rules: Rules, updated: datetime | None = None) -> Entry:
    """Make the feed entry for an article. ``updated`` defaults to the article's date."""
    link = article_link(article, rules)
    tree = _parse(article.body)
    promo_images: set[str] = set()
    if tree is not None:
        _strip_boilerplate(tree, rules, promo_images)
    text = _text(tree) if tree is not None else ""
    content = _content(tree, link) if tree is not None else ""
    return Entry(
        id=entry_id(article.path),
        path=article.path,
        title=_xml_safe(article.title),
        link=link,
        published=article.date,
        updated=updated or article.date,
        categories=article.categories,
        author=article.author or rules.default_author,
        summary=_xml_safe(summarize(text, rules.summary_length)),
        thumbnail=_thumbnail(article, tree, link, rules, promo_images),
        content=_xml_safe(content),
    )


def _parse(body: str) -> lxml.html.HtmlElement | None:
    if not body.strip():
        return None
    try:
        return lxml.html.fragment_fromstring(body, create_parent="div")
    except (lxml.etree.ParserError, ValueError):
        return None


def _drop(el: lxml.html.HtmlElement) -> None:
    """Remove an element but keep its tail text."""
    parent = el.getparent()
    if parent is None:
        return
    tail = el.tail
    if tail and tail.strip():
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(el)


def _images(el: lxml.html.HtmlElement) -> list[str]:
    return [src for img in el.iter("img") if (src := (img.get("src") or img.get("data-src") or "").strip())]


def _strip_boilerplate(tree: lxml.html.HtmlElement, rules: Rules, promo_images: set[str]) -> None:
    for el in list(tree.iter(lxml.etree.Comment, lxml.etree.ProcessingInstruction)):
        _drop(el)
    for el in list(tree.iter(*_DROP_TAGS)):
        _drop(el)
    if rules.drop_class is not None:
        for el in list(tree.iter()):
            marker = ((el.get("class") or "") + " " + (el.get("id") or "")).lower()
            if marker.strip() and rules.drop_class.search(marker):
                promo_images.update(_images(el))
                _drop(el)
    if rules.drop_text is not None:
        for el in list(tree.iter(*_TEXT_BLOCKS)):
            if el.getparent() is None and el is not tree:
                continue  # already removed with an ancestor
            text = el.text_content()
            if 0 < len(text) <= 160 and rules.drop_text.search(_SPACE.sub(" ", text).strip()):
                promo_images.update(_images(el))
                _drop(el)


def _text(tree: lxml.html.HtmlElement) -> str:
    parts: list[str] = []

    def walk(el: lxml.html.HtmlElement) -> None:
        block = el.tag in _BLOCK_TAGS
        if block:
            parts.append(" ")
        if el.text:
            parts.append(el.text)
        for child in el:
            walk(child)
            if child.tail:
                parts.append(child.tail)
        if block:
            parts.append(" ")

    walk(tree)
    return _SPACE.sub(" ", "".join(parts)).strip()


def summarize(text: str, limit: int) -> str:
    """Cut plain text to at most ``limit`` characters, at a sentence end where one is near.

    CJK-aware: CJK text may be cut anywhere; other text at a word boundary.
    An ellipsis marks a cut (and counts toward the limit).
    """
    text = _SPACE.sub(" ", text).strip()
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    # the last sentence end inside the limit, if it is not too far back
    best = None
    for m in _SENTENCE_END.finditer(text, 0, limit):
        best = m.end()
    if best is not None and best >= limit * (1 - SENTENCE_WINDOW):
        return text[:best].strip()
    if not _CJK.search(head[-1:] + text[limit - 1 : limit]):
        space = head.rfind(" ")
        if space >= limit * (1 - SENTENCE_WINDOW):
            head = head[:space]
    return head.rstrip(" ,，、;；:：-—") + ELLIPSIS


def _usable(url: str, rules: Rules) -> bool:
    return bool(url) and not (rules.placeholder and rules.placeholder.search(url))


def _thumbnail(
    article: Article, tree: lxml.html.HtmlElement | None, link: str, rules: Rules, promo_images: set[str]
) -> str | None:
    content_images = _images(tree) if tree is not None else []
    kept = set(content_images)
    for candidate in (article.thumbnail, article.headimg):
        if not _usable(candidate, rules):
            continue
        if candidate in promo_images and candidate not in kept:
            continue  # the site's app logo in a promotion footer, not a picture of the article
        url = urljoin(link, candidate)
        if url.startswith(("http://", "https://")):
            return url
    if tree is not None:
        for img in tree.iter("img"):
            src = (img.get("src") or img.get("data-src") or "").strip()
            if not _usable(src, rules) or src.startswith("data:") or _tiny(img):
                continue
            url = urljoin(link, src)
            if url.startswith(("http://", "https://")):
                return url
    return None


def _tiny(img: lxml.html.HtmlElement) -> bool:
    for attr in ("width", "height"):
        value = (img.get(attr) or "").strip().removesuffix("px")
        if value.isdigit() and int(value) < 48:
            return True
    return False


def _content(tree: lxml.html.HtmlElement, link: str) -> str:
    for img in tree.iter("img"):
        if not img.get("src") and img.get("data-src"):
            img.set("src", img.get("data-src"))
    tree.make_links_absolute(link, resolve_base_href=False, handle_failures="discard")
    html = (tree.text or "") + "".join(lxml.html.tostring(child, encoding="unicode") for child in tree)
    return sanitize(html)


def sanitize(html: str) -> str:
    """Untrusted HTML -> HTML safe to embed in a feed (no script, style, handlers, javascript: URLs)."""
    cleaned = nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
    return cleaned.strip()


def _xml_safe(s: str) -> str:
    return _XML_BAD.sub("", s)
