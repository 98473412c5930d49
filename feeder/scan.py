"""Find what changed under the seeds folder since the store last looked.

``walk`` is the only I/O here (one ``stat`` a file, through ``os.scandir``);
``diff`` is pure: it compares what is on disk with what the store knows, by
size and modification time, so an unchanged file is never opened.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
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


def stat_paths(seeds: Path, paths: Iterable[str]) -> tuple[dict[str, SourceFile], list[str]]:
    """The article files among ``paths`` (relative), and the folders among them walked.

    For the file watcher: it names what changed, so only that is looked at.
    Returns the files found and the relative folders that were walked or
    may have held files (a folder moved away leaves only its own event).
    """
    found: dict[str, SourceFile] = {}
    folders: list[str] = []
    for rel in paths:
        parts = rel.split("/")
        if not rel or any(p.startswith(".") or p in ("", "..") for p in parts):
            continue
        full = seeds.joinpath(*parts)
        try:
            st = full.stat(follow_symlinks=False)
        except OSError:
            if not rel.endswith(SUFFIX):
                folders.append(rel)  # gone: it may have been a folder
            continue
        if os.path.isdir(full) and not full.is_symlink():
            folders.append(rel)
            found.update({f"{rel}/{k}": SourceFile(f"{rel}/{k}", v.size, v.mtime_ns) for k, v in walk(full).items()})
        elif rel.endswith(SUFFIX) and full.is_file():
            found[rel] = SourceFile(rel, st.st_size, st.st_mtime_ns)
    return found, folders


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
    out.unsettled.sort(key=lambda f: f.path)
    out.changed.sort(key=lambda f: f.path)
    return out
