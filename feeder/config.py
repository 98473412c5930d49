"""The one TOML file an operator edits, validated at load.

Every problem is reported as ``key: what is wrong``; a bad file raises
:class:`~feeder.errors.ConfigError` (the CLI exits 2). Paths in ``[paths]``
are relative to the config file's folder.
"""

from __future__ import annotations

import tomllib
import zoneinfo
from pathlib import Path
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from feeder.errors import ConfigError

DEFAULT_DROP_CLASSES = (
    # app / QR-code promotion footers and share bars seen in real posts
    "appendqr",
    "qrcode",
    "qr-code",
    "qr_code",
    "app-download",
    "download-app",
    "article-editor",
    "show_author",
    "share",
    "copy-code",
    "code-copy",
    "copy-btn",
    "copybtn",
    "hljs-copy",
)
DEFAULT_DROP_TEXT = (
    # editor and source lines; matched against a block's whole text
    r"^\s*[(（\[]?\s*(责任编辑|編輯|编辑|责编|實習編輯|实习编辑|文字编辑|校对|审核)\s*[:：].{0,40}$",
    r"^.{0,20}(尽在|下载).{0,12}(APP|App|app|客户端).{0,10}$",
    r"^\s*(复制代码|Copy code|copy code|Copy|复制)\s*$",
    r"^\s*(扫码|扫描二维码|长按识别二维码|长按二维码).{0,40}$",
)
DEFAULT_PLACEHOLDER_IMAGES = (
    r"^https?://(i\.)?picsum\.photos/",
    r"^https?://(www\.)?placehold\.(it|co)/",
    r"^https?://via\.placeholder\.com/",
    r"/undefined$",
    r"^(null|undefined|none)$",
)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SiteConfig(_Section):
    title: str = "feeder"
    description: str = ""
    base_url: str = "http://127.0.0.1:8080/"
    language: str = "en"
    #: zone for dates written without one (``2021-07-31 05:06:47``)
    timezone: str = "UTC"
    author: str = "feeder"

    @field_validator("base_url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return v if v.endswith("/") else v + "/"

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            zoneinfo.ZoneInfo(v)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r} (use an IANA name such as 'Asia/Shanghai')") from None
        return v


class PathsConfig(_Section):
    seeds: Path = Path("seeds")
    output: Path = Path("public")
    state: Path = Path("state/feeder.sqlite3")


class FeedsConfig(_Section):
    limit: int = Field(50, ge=1, le=10_000)
    summary_length: int = Field(200, ge=20, le=10_000)
    formats: tuple[Literal["rss", "atom", "json"], ...] = ("rss", "atom", "json")
    #: public URL of the output folder; '' means site.base_url
    url: str = ""
    #: link of an article on the site: {year} {month} {day} {path} {stem} {slug}
    permalink: str = "{year}/{month}/{day}/{path}/"
    per_category: bool = True
    per_author: bool = True

    @field_validator("formats")
    @classmethod
    def _formats(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if not v:
            raise ValueError("list at least one of 'rss', 'atom', 'json'")
        return tuple(dict.fromkeys(v))

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if v and not v.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return v if not v or v.endswith("/") else v + "/"

    @field_validator("permalink")
    @classmethod
    def _permalink(cls, v: str) -> str:
        import string

        names = {name for _, name, _, _ in string.Formatter().parse(v) if name is not None}
        unknown = names - {"year", "month", "day", "path", "stem", "slug"}
        if unknown:
            raise ValueError(f"unknown placeholder {{{sorted(unknown)[0]}}}; use {{year}} {{month}} {{day}} {{path}} {{stem}} {{slug}}")
        return v


class ContentConfig(_Section):
    """Boilerplate rules: what is removed before the summary and content are made."""

    #: an element whose class or id contains one of these (case-insensitive) is dropped
    drop_classes: tuple[str, ...] = DEFAULT_DROP_CLASSES
    #: a block whose whole text matches one of these regular expressions is dropped
    drop_text: tuple[str, ...] = DEFAULT_DROP_TEXT
    #: images whose URL matches one of these are never used as thumbnails
    placeholder_images: tuple[str, ...] = DEFAULT_PLACEHOLDER_IMAGES

    @field_validator("drop_text", "placeholder_images")
    @classmethod
    def _regexes(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        import re

        for pattern in v:
            try:
                re.compile(pattern)
            except re.error as e:
                raise ValueError(f"bad regular expression {pattern!r}: {e}") from None
        return v


class ServeConfig(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)


class WatchConfig(_Section):
    #: seconds between safety-net rescans
    interval: float = Field(60.0, gt=0)
    #: a file must be unchanged this long (seconds) before it is published
    settle: float = Field(1.0, ge=0)
    #: use the file watcher (inotify) as well as the rescans
    watcher: bool = True


class TelegramConfig(_Section):
    #: a file holding the bot token (else $FEEDER_TELEGRAM_TOKEN or the systemd credential)
    token_file: Path | None = None
    #: Bot API server, e.g. a local telegram-bot-api: 'http://127.0.0.1:8081/bot'
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    #: seconds
    connect_timeout: float = Field(10.0, gt=0)
    read_timeout: float = Field(30.0, gt=0)
    write_timeout: float = Field(30.0, gt=0)
    #: attempts before a post goes to the dead-letter state
    max_attempts: int = Field(8, ge=1)
    #: posts per minute in one chat, and messages per second for the whole bot
    per_chat_per_minute: int = Field(20, ge=1)
    per_chat_interval: float = Field(1.0, ge=0)
    global_per_second: int = Field(30, ge=1)
    #: what to do when a posted article changes
    on_change: Literal["edit", "ignore", "repost"] = "edit"
    #: delete the channel message when the article file is deleted
    delete_removed: bool = False
    #: largest picture feeder downloads itself when Telegram cannot fetch one (bytes)
    max_photo_bytes: int = Field(10 * 1024 * 1024, ge=1)

    @model_validator(mode="before")
    @classmethod
    def _no_token(cls, data: object) -> object:
        if isinstance(data, dict) and "token" in data:
            raise ValueError(
                "a bot token must not be written in the config file; use $FEEDER_TELEGRAM_TOKEN, "
                "token_file, or the systemd credential 'telegram-token'"
            )
        return data


class ChannelConfig(_Section):
    name: str
    #: '@username' or a numeric chat id
    chat: str
    categories: tuple[str, ...] = ()
    exclude_categories: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    exclude_authors: tuple[str, ...] = ()
    #: Telegram-HTML template; '' means the default one
    template: str = ""
    photo_mode: Literal["photo", "preview", "text"] = "photo"
    link_preview: bool = False
    silent: bool = False

    @field_validator("chat")
    @classmethod
    def _chat(cls, v: str) -> str:
        import re

        if not re.fullmatch(r"@[A-Za-z][A-Za-z0-9_]{3,31}|-?\d{1,20}", v):
            raise ValueError("must be '@username' or a numeric chat id such as -1001234567890")
        return v

    @field_validator("categories", "exclude_categories", "authors", "exclude_authors")
    @classmethod
    def _globs(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in v:
            if len(pattern) > 200:
                raise ValueError("a pattern is at most 200 characters")
        return v

    @field_validator("template")
    @classmethod
    def _template(cls, v: str) -> str:
        if v:
            from feeder.telegram_format import validate_template

            validate_template(v)
        return v


class BackfillConfig(_Section):
    #: on first start, only articles newer than this many hours are posted
    max_age_hours: float = Field(24.0, ge=0)
    #: and at most this many per channel
    max_posts: int = Field(10, ge=0)


class Config(_Section):
    site: SiteConfig = SiteConfig()
    paths: PathsConfig = PathsConfig()
    feeds: FeedsConfig = FeedsConfig()
    content: ContentConfig = ContentConfig()
    serve: ServeConfig = ServeConfig()
    watch: WatchConfig = WatchConfig()
    telegram: TelegramConfig = TelegramConfig()
    channels: tuple[ChannelConfig, ...] = ()
    backfill: BackfillConfig = BackfillConfig()
    #: the file this was loaded from (not a TOML key)
    source: Path | None = Field(None, exclude=True)

    @model_validator(mode="after")
    def _unique_channels(self) -> "Config":
        seen: set[str] = set()
        for ch in self.channels:
            if ch.name in seen:
                raise ValueError(f"channel name {ch.name!r} is used twice")
            seen.add(ch.name)
        return self

    @property
    def feeds_url(self) -> str:
        return self.feeds.url or self.site.base_url


def _describe(err: dict) -> str:
    loc = ".".join(str(p) for p in err["loc"] if p != "__root__")
    if err["type"] == "extra_forbidden":
        return f"{loc}: unknown key"
    if err["type"] == "missing":
        return f"{loc}: required"
    msg = err["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        msg = msg.removeprefix(prefix)
    return f"{loc}: {msg}" if loc else msg


def parse_config(data: dict, source: Path | None = None) -> Config:
    """Validate a TOML document already read; paths stay as written."""
    name = str(source) if source else "<config>"
    if "channels" in data and isinstance(data["channels"], list):
        pass
    try:
        return Config.model_validate({**data, "source": source})
    except ValidationError as e:
        raise ConfigError(name, [_describe(err) for err in e.errors()]) from None


def load_config(path: str | Path, seeds: str | Path | None = None, output: str | Path | None = None) -> Config:
    """Read, validate and resolve the config file; ``seeds``/``output`` override ``[paths]``."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise ConfigError(str(path), [f"cannot read: {e.strerror}"]) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise ConfigError(str(path), [f"not UTF-8 at byte {e.start}"]) from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(str(path), [f"not valid TOML: {e}"]) from None
    config = parse_config(data, path)
    base = path.resolve().parent
    paths = config.paths
    resolved = PathsConfig(
        seeds=Path(seeds).resolve() if seeds else (base / paths.seeds).resolve(),
        output=Path(output).resolve() if output else (base / paths.output).resolve(),
        state=(base / paths.state).resolve(),
    )
    return config.model_copy(update={"paths": resolved})
