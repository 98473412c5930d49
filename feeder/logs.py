"""Logging: one line per event, no timestamps under journald, secrets never written."""

from __future__ import annotations

import logging
import os
import re
import sys

#: what a Telegram bot token looks like (also inside URLs: /bot<token>/sendMessage)
TOKEN_PATTERN = re.compile(r"\d{5,}:[A-Za-z0-9_-]{30,}")


class Redactor(logging.Filter):
    """Replaces secrets (the bot token, anything shaped like one) in every record."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: list[str] = []

    def add(self, secret: str) -> None:
        if secret and secret not in self.secrets:
            self.secrets.append(secret)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "[token]")
        return TOKEN_PATTERN.sub("[token]", text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = self.redact(message)
        if record.exc_info and record.exc_info[1] is not None:
            # format the traceback now, redacted, so the handler never formats the raw one
            formatted = logging.Formatter().formatException(record.exc_info)
            record.exc_text = self.redact(formatted)
            record.exc_info = None
        if clean != message or record.args:
            record.msg, record.args = clean, None
        return True


REDACTOR = Redactor()


class _Formatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return REDACTOR.redact(super().format(record))


def setup(verbosity: int = 0, stream=None) -> None:
    """Configure the 'feeder' loggers: INFO by default, DEBUG with -v, WARNING with -q."""
    stream = stream or sys.stderr
    level = logging.DEBUG if verbosity > 0 else logging.WARNING if verbosity < 0 else logging.INFO
    under_journald = bool(os.environ.get("JOURNAL_STREAM")) or bool(os.environ.get("INVOCATION_ID"))
    fmt = "%(levelname)s %(message)s" if under_journald else "%(asctime)s %(levelname)s %(message)s"
    handler = logging.StreamHandler(stream)
    handler.setFormatter(_Formatter(fmt, "%Y-%m-%d %H:%M:%S"))
    handler.addFilter(REDACTOR)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # httpx logs every request URL at INFO, and a Bot API URL holds the token
    for noisy in ("httpx", "httpcore", "telegram", "apscheduler", "watchfiles"):
        logging.getLogger(noisy).setLevel(logging.WARNING if verbosity < 2 else logging.DEBUG)
