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


#: (size, mtime_ns) of a file: all a scan looks at
Stat = tuple[int, int]


def walk(seeds: Path | str) -> dict[str, Stat]:
    """Every ``*.md`` file under ``seeds``, recursively, with its size and mtime.

    Hidden files and folders are skipped; symbolic links to folders are not
    followed (no loops, nothing outside seeds). Plain tuples, one stat a
    file: this is the whole cost of an idle rescan.
    """
    found: dict[str, Stat] = {}
    stack = [(os.fspath(seeds), "")]
    pop, push = stack.pop, stack.append
    while stack:
        folder, prefix = pop()
        try:
            it = os.scandir(folder)
        except OSError:
            continue
        with it:
            for entry in it:
                name = entry.name
                if name[0] == ".":
                    continue
                if name.endswith(SUFFIX):
                    try:
                        if entry.is_file():
                            st = entry.stat()
                            found[prefix + name] = (st.st_size, st.st_mtime_ns)
                            continue
                    except OSError:
                        continue  # vanished while we looked
                if entry.is_dir(follow_symlinks=False):
                    push((entry.path, prefix + name + "/"))
    return found


def stat_paths(seeds: Path, paths: Iterable[str]) -> tuple[dict[str, Stat], list[str]]:
    """The article files among ``paths`` (relative), and the folders among them walked.

    For the file watcher: it names what changed, so only that is looked at.
    Returns the files found and the relative folders that were walked or
    may have held files (a folder moved away leaves only its own event).
    """
    found: dict[str, Stat] = {}
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
            found.update({f"{rel}/{k}": v for k, v in walk(full).items()})
        elif rel.endswith(SUFFIX) and full.is_file():
            found[rel] = (st.st_size, st.st_mtime_ns)
    return found, folders


@dataclass(frozen=True)
class Diff:
    """What a scan found: files to read, paths gone, files still being written."""

    changed: list[SourceFile] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    #: changed too recently to trust: looked at again once they have settled
    unsettled: list[SourceFile] = field(default_factory=list)


def diff(
    on_disk: Mapping[str, Stat], known: Mapping[str, Known], now_ns: int, settle_ns: int, scope: Iterable[str] | None = None
) -> Diff:
    """Compare the disk with the store. Pure.

    A file is changed when its size or mtime differs from what the store
    recorded (as an article or as a problem). A changed file whose mtime is
    within ``settle_ns`` of ``now_ns`` is still being written: it is left
    for a later scan, so half a file is never published. ``scope``: the
    known paths the look covered (None: all of them); those not on disk
    are deleted.
    """
    out = Diff()
    for path, (size, mtime_ns) in on_disk.items():
        k = known.get(path)
        if k is not None and k[0] == size and k[1] == mtime_ns:
            continue
        f = SourceFile(path, size, mtime_ns)
        if settle_ns and now_ns - mtime_ns < settle_ns:
            out.unsettled.append(f)
        else:
            out.changed.append(f)
    if scope is None:
        gone = known.keys() - on_disk.keys()
    else:
        gone = {path for path in scope if path in known and path not in on_disk}
    out.deleted.extend(sorted(gone))
    out.unsettled.sort(key=lambda f: f.path)
    out.changed.sort(key=lambda f: f.path)
    return out
