"""Feed bytes -> files: atomically, only when the bytes change, never outside the output folder."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path, PurePosixPath

from feeder.errors import OutputPathError


def target(output: Path, relative: str) -> Path:
    """The file ``relative`` (POSIX, e.g. 'categories/x/rss.xml') under ``output``.

    Refuses anything that could land outside ``output``: absolute paths,
    '..' segments, and symlinks under ``output`` that point elsewhere.
    """
    rel = PurePosixPath(relative)
    if rel.is_absolute() or not rel.parts or any(p in ("", ".", "..") for p in rel.parts) or "\\" in relative or "\0" in relative:
        raise OutputPathError(f"refusing to write {relative!r}: not a plain path under the output folder")
    root = output.resolve()
    path = root.joinpath(*rel.parts)
    parent = path.parent.resolve() if path.parent.exists() else path.parent
    if parent != root and root not in parent.parents:
        raise OutputPathError(f"refusing to write {relative!r}: it resolves outside {root}")
    return path


def write_if_changed(output: Path, relative: str, data: bytes) -> bool:
    """Write ``data`` to ``output/relative`` unless the file already holds exactly it.

    The write is atomic (temporary file in the same folder, fsync, rename), so
    a reader never sees half a feed. Returns True when the file was written.
    """
    path = target(output, relative)
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    target(output, relative)  # the folders now exist: check again that none is a link out
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix="." + path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return True


def remove(output: Path, relative: str) -> bool:
    """Delete a feed file that is no longer produced, and its folder when empty."""
    path = target(output, relative)
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    folder = path.parent
    root = output.resolve()
    while folder != root and root in folder.parents:
        try:
            folder.rmdir()
        except OSError:
            break
        folder = folder.parent
    return True
