"""Find what changed under the seeds folder since the store last looked.

``walk`` is the only I/O here (one ``stat`` a file, through ``os.scandir``);
``diff`` is pure: it compares what is on disk with what the store knows, by
size and modification time, so an unchanged file is never opened.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from feeder.model import SourceFile
from feeder.store import Known

SUFFIX = ".md"


def walk(seeds: Path) -> dict[str, SourceFile]:
    """Every ``*.md`` file under ``seeds``, recursively; hidden files and folders are skipped.

    Symbolic links to folders are not followed (no loops, nothing outside seeds).
    """
    found: dict[str, SourceFile] = {}
    stack = [(seeds, "")]
    while stack:
        folder, prefix = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            continue
        for entry in entries:
            name = entry.name
            if name.startswith("."):
                continue
            rel = prefix + name
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append((Path(entry.path), rel + "/"))
                elif name.endswith(SUFFIX) and entry.is_file():
                    st = entry.stat()
                    found[rel] = SourceFile(rel, st.st_size, st.st_mtime_ns)
            except OSError:
                continue  # vanished while we looked
    return found


@dataclass(frozen=True)
class Diff:
    """What a scan found: files to read, paths gone, files still being written."""

    changed: list[SourceFile] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    #: changed too recently to trust: looked at again once they have settled
    unsettled: list[SourceFile] = field(default_factory=list)


def diff(on_disk: Mapping[str, SourceFile], known: Mapping[str, Known], now_ns: int, settle_ns: int) -> Diff:
    """Compare the disk with the store. Pure.

    A file is changed when its size or mtime differs from what the store
    recorded (as an article or as a problem). A changed file whose mtime is
    within ``settle_ns`` of ``now_ns`` is still being written: it is left
    for a later scan, so half a file is never published.
    """
    out = Diff()
    for path, f in on_disk.items():
        k = known.get(path)
        if k is not None and k.size == f.size and k.mtime_ns == f.mtime_ns:
            continue
        if settle_ns and now_ns - f.mtime_ns < settle_ns:
            out.unsettled.append(f)
        else:
            out.changed.append(f)
    out.deleted.extend(sorted(path for path in known if path not in on_disk))
    out.changed.sort(key=lambda f: f.path)
    return out
