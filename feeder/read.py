"""Read one article file: bytes in, :class:`~feeder.model.Article` out.

Pure: no file system, clock or network here. The caller passes the bytes,
the file's modification time (used when the article has no usable date) and
the zone for naive dates. A file that cannot be used raises
:class:`~feeder.errors.ArticleError` naming the file, the line where known,
and the reason; everything that can be recovered is recovered, with a
warning in ``Article.warnings``.

Real input has (see tests/data/corpus): a blank line before the front
matter; dates as RFC 822, as naive ``YYYY-MM-DD HH:MM:SS`` and as the
literal ``Invalid Date``; titles YAML cannot parse (runs of quotes, a leading
``@``, plain titles over several lines); blank or numeric titles; categories
as a list or a string, with blank levels; bodies that are empty or plain
text; files that are not UTF-8.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo
from email.utils import parsedate_to_datetime

import frontmatter.default_handlers
import yaml

from feeder.errors import ArticleError
from feeder.model import Article

try:  # libyaml is ~10x faster; PyYAML wheels ship it
    _Loader = yaml.CBaseLoader
except AttributeError:  # pragma: no cover - pure-Python PyYAML
    _Loader = yaml.BaseLoader

_BOUNDARY = frontmatter.default_handlers.YAMLHandler.FM_BOUNDARY
_QUOTE_RUNS = re.compile(r'^"{2,}\'?(.*?)\'?"{2,}$', re.S)
_MD_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_SPACE = re.compile(r"\s+")
_TAG = re.compile(r"<[^>]*>")
_KEY_LINE = re.compile(r"^([A-Za-z_][\w-]*)\s*:(?:\s+(.*))?$")
_ITEM_LINE = re.compile(r"^\s*-(?:\s+(.*))?$")
_NAIVE = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_UNTITLED_STEMS = re.compile(r"^[\d\s._-]*$")


def decode(data: bytes) -> tuple[str, str | None]:
    """Decode an article's bytes; returns the text and a warning when it was not UTF-8."""
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as e:
        first_bad = e.start
    try:
        return data.decode("gb18030"), f"not UTF-8 (byte {first_bad}); read as GB18030"
    except UnicodeDecodeError:
        return data.decode("utf-8", "replace"), f"not UTF-8 (byte {first_bad}); undecodable bytes replaced"


def parse_article(path: str, data: bytes, mtime: datetime, tz: tzinfo) -> Article:
    """Parse an article file's bytes.

    ``path`` is the path relative to the seeds folder (used in messages and as
    the identity); ``mtime`` (aware) stands in for a missing or unreadable
    date; ``tz`` is the zone for naive dates.
    """
    warnings: list[str] = []
    text, warning = decode(data)
    if warning:
        warnings.append(warning)
    text = _CONTROL.sub("", text)

    stripped = text.lstrip()
    skipped_lines = text[: len(text) - len(stripped)].count("\n")
    if not _BOUNDARY.match(stripped):
        raise ArticleError(path, "no front matter: the file must start with a '---' line", line=skipped_lines + 1)
    parts = _BOUNDARY.split(stripped, 2)
    if len(parts) < 3:
        raise ArticleError(path, "front matter is not closed by a '---' line", line=skipped_lines + 1)
    _, fm_text, body = parts
    fm_text = fm_text.replace("&#123;", "{").replace("&#125;", "}")
    fm_line = skipped_lines + 2  # first line of the front matter block

    meta = _load_simple(fm_text)
    if meta is None:
        meta = _load_yaml(fm_text)
    if isinstance(meta, YAMLProblem):
        where = f"line {skipped_lines + 1 + meta.line}: " if meta.line is not None else ""
        warnings.append(f"{where}front matter is not valid YAML ({meta.problem}); read line by line")
        meta = _load_lines(fm_text)
    elif meta is None:
        meta = {}
    elif not isinstance(meta, dict):
        raise ArticleError(path, "front matter is not a set of 'key: value' lines", line=fm_line)

    body = body.strip()
    title = _title(meta.get("title"))
    if not title:
        title = _fallback_title(path, body)
        warnings.append(f"blank title; using {title!r}")

    date = _date(meta.get("date"), tz)
    if date is None:
        raw = _scalar(meta.get("date"))
        why = f"date {raw!r} cannot be read" if raw else "no date"
        warnings.append(f"{why}; using the file's modification time")
        date = mtime.astimezone(timezone.utc).replace(microsecond=0)

    return Article(
        path=path,
        title=title,
        date=date,
        categories=_categories(meta.get("categories", meta.get("category"))),
        author=_clean_line(_scalar(meta.get("author"))),
        headimg=_scalar(meta.get("headimg")).strip(),
        thumbnail=_scalar(meta.get("thumbnail")).strip(),
        body=body,
        content_hash=hashlib.sha256(data).hexdigest(),
        warnings=tuple(warnings),
    )


_SIMPLE_KEY = re.compile(r"^([A-Za-z_][\w-]*):(?: +(.*?))? *$")
_SIMPLE_ITEM = re.compile(r"^ +- +(.*?) *$")
_PLAIN_OK = re.compile(r"^[^-?:,\[\]{}#&*!|>'\"%@`\s](?:(?!: |\s#).)*$")
_SINGLE_QUOTED = re.compile(r"^'((?:[^']|'')*)'$")
_DOUBLE_QUOTED = re.compile(r'^"([^"\\]*)"$')


def _simple_value(v: str) -> str | None:
    """A scalar as YAML reads it, for the forms whose meaning is plain; None for anything else."""
    if not v:
        return ""
    m = _SINGLE_QUOTED.match(v)
    if m:
        return m.group(1).replace("''", "'")
    m = _DOUBLE_QUOTED.match(v)
    if m:
        return m.group(1)
    if _PLAIN_OK.match(v):
        return v
    return None


def _load_simple(fm_text: str) -> dict[str, object] | None:
    """The front matter real posts have (``key: value`` and ``- item`` lines), read without YAML.

    Gives exactly what YAML would for these lines (every scalar a string),
    about ten times faster; returns None for anything else, which then goes
    to the YAML parser.
    """
    meta: dict[str, object] = {}
    key = None
    for line in fm_text.split("\n"):
        if not line.strip():
            continue
        m = _SIMPLE_KEY.match(line)
        if m:
            key = m.group(1)
            if key in meta:
                return None
            value = _simple_value(m.group(2) or "")
            if value is None:
                return None
            meta[key] = value
            continue
        m = _SIMPLE_ITEM.match(line)
        if m and key is not None and meta[key] in ("", None) or m and isinstance(meta.get(key), list):
            value = _simple_value(m.group(1))
            if value is None:
                return None
            items = meta[key] if isinstance(meta[key], list) else []
            items.append(value)
            meta[key] = items
            continue
        return None
    return meta


@dataclass(frozen=True, slots=True)
class YAMLProblem:
    problem: str
    #: 0-based line within the front matter text (whose line 0 is the rest of the '---' line)
    line: int | None


def _load_yaml(fm_text: str) -> object:
    """YAML with every scalar kept as a string (``12_00`` stays ``12_00``)."""
    try:
        return yaml.load(fm_text, Loader=_Loader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        return YAMLProblem(problem, mark.line if mark else None)


def _load_lines(fm_text: str) -> dict[str, object]:
    """Read front matter YAML rejected, line by line: ``key: value``, ``- item``, continuations."""
    meta: dict[str, object] = {}
    key: str | None = None
    for raw in fm_text.splitlines():
        if not raw.strip() or raw.lstrip().startswith("#") and not raw.startswith(" "):
            continue
        m = _KEY_LINE.match(raw)
        if m and not raw[0].isspace():
            key = m.group(1)
            meta[key] = _unquote((m.group(2) or "").strip())
            continue
        item = _ITEM_LINE.match(raw)
        if item and key is not None:
            value = meta.get(key)
            items = value if isinstance(value, list) else ([value] if value else [])
            items.append(_unquote((item.group(1) or "").strip()))
            meta[key] = items
            continue
        if key is not None and isinstance(meta.get(key), str):  # a plain scalar over several lines
            meta[key] = (str(meta[key]) + " " + raw.strip()).strip()
    return meta


def _unquote(v: str) -> str:
    if len(v) >= 2 and v[0] == v[-1] == "'" and not _QUOTE_RUNS.match(v):
        return v[1:-1].replace("''", "'")
    if len(v) >= 2 and v[0] == v[-1] == '"' and not _QUOTE_RUNS.match(v):
        return v[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return v


def _scalar(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, list):
        return _scalar(v[0]) if v else ""
    if isinstance(v, dict):
        return ""
    return str(v)


def _clean_line(v: str) -> str:
    return _SPACE.sub(" ", v).strip()


def _title(v: object) -> str:
    title = _clean_line(_scalar(v))
    m = _QUOTE_RUNS.match(title)
    if m:  # """""'Title'""""" written by an old generator
        title = m.group(1).strip()
    return title


def _fallback_title(path: str, body: str) -> str:
    text = _clean_line(_TAG.sub(" ", body)).replace("&nbsp;", " ")
    if text:
        first = re.split(r"(?<=[。！？!?])|(?<=\.)\s", text, maxsplit=1)[0].strip()
        return first if len(first) <= 80 else first[:79].rstrip() + "…"
    stem = path.rsplit("/", 1)[-1].removesuffix(".md").strip()
    if stem and not _UNTITLED_STEMS.match(stem):
        return stem
    return "Untitled"


def parse_date(raw: str, tz: tzinfo) -> datetime | None:
    """A date as written in front matter -> aware UTC, or None if it cannot be read.

    Accepts RFC 822 (``Mon, 30 Aug 2021 14:10:13 GMT``), ISO 8601 with or
    without a zone, and naive ``YYYY-MM-DD[ HH:MM[:SS]]`` (taken in ``tz``).
    """
    raw = raw.strip()
    if not raw:
        return None
    parsed: datetime | None = None
    if _NAIVE.match(raw):
        try:
            parsed = datetime.fromisoformat(_pad_iso(raw))
        except ValueError:
            return None
    else:
        try:
            parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            try:
                parsed = parsedate_to_datetime(raw)
            except (TypeError, ValueError, IndexError):
                return None
    if parsed is None or not (1970 <= parsed.year <= 9999):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed.astimezone(timezone.utc)


def _pad_iso(raw: str) -> str:
    date, _, time = raw.replace("T", " ").partition(" ")
    y, m, d = date.split("-")
    out = f"{y}-{int(m):02d}-{int(d):02d}"
    if time:
        h, rest = time.split(":", 1)
        out += f" {int(h):02d}:{rest}"
    return out


def _date(v: object, tz: tzinfo) -> datetime | None:
    raw = _scalar(v)
    return parse_date(raw, tz) if raw else None


def _categories(v: object) -> tuple[str, ...]:
    if v is None:
        return ()
    items = v if isinstance(v, list) else re.split(r"[,，]", str(v)) if not isinstance(v, dict) else []
    out: list[str] = []
    for item in items:
        if isinstance(item, list):  # Hexo allows [parent, child] pairs
            out.extend(_scalar(x) for x in item)
        else:
            out.append(_scalar(item))
    names = (_clean_line(_MD_LINK.sub(r"\1", name)) for name in out)
    return tuple(dict.fromkeys(n for n in names if n))
