"""One exception tree for feeder: everything it raises on purpose is a FeederError."""

from __future__ import annotations


class FeederError(Exception):
    """Base of every error feeder raises on purpose."""


class ConfigError(FeederError, ValueError):
    """The configuration file is missing, unreadable or invalid.

    ``problems`` holds one line per problem, each naming the key.
    """

    def __init__(self, path: str, problems: list[str]):
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))

    def __reduce__(self):
        return (type(self), (self.path, self.problems))


class ArticleError(FeederError, ValueError):
    """An article file cannot be used; says which file, which line where known, and why."""

    def __init__(self, path: str, reason: str, line: int | None = None):
        self.path = path
        self.reason = reason
        self.line = line
        super().__init__(self.where() + ": " + reason)

    def __reduce__(self):
        return (type(self), (self.path, self.reason, self.line))

    def where(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path


class OutputPathError(FeederError):
    """A feed file would land outside the output directory."""
