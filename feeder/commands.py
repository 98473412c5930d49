"""Commands beyond build/check/serve, registered with the CLI parser."""

from __future__ import annotations

REGISTER: list = []
