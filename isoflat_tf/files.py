"""Atomic file output: write to a temporary sibling, rename into place on success.

A killed or failing job then never leaves a file that looks complete, and an
existing file is replaced only by a complete one.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` (same suffix); rename it to ``path`` if the block succeeds.

    The block may write a file or a directory (a Zarr store) there; an existing
    directory at ``path`` is replaced only once the new one is complete.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # What a killed writer of this path left behind (a file, or a whole store):
    # only one job writes a path, so no other writer owns them.
    patterns = (f".{glob.escape(path.stem)}.tmp-*{glob.escape(path.suffix)}", f".{glob.escape(path.name)}.old-*")
    for stale in [p for pattern in patterns for p in path.parent.glob(pattern)]:
        _remove(stale)
    tmp = path.with_name(f".{path.stem}.tmp-{uuid.uuid4().hex[:8]}{path.suffix}")
    try:
        yield tmp
        if tmp.is_dir() and path.exists():
            old = path.with_name(f".{path.name}.old-{uuid.uuid4().hex[:8]}")
            os.replace(path, old)  # a directory cannot be renamed over another one
            os.replace(tmp, path)
            _remove(old)
        else:
            os.replace(tmp, path)
    finally:
        _remove(tmp)


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def write_text(text: str, path: str | os.PathLike) -> None:
    """Write a text file atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)
