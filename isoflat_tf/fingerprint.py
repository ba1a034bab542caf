"""Fingerprints that decide staleness: of a training run's inputs, and of a store on disk.

* ``training_fingerprint``: a hash of a run's settings and of its training
  arrays' contents. A checkpoint records it and resumes only the exact run
  that wrote it (``isoflat_tf.training.Checkpoint``).
* ``store_fingerprint``: a hash of the relative path, size and modification
  time of every file in a store. It is part of the params of the jobs that
  read a user's own store, so editing that store in place (e.g.
  ``to_zarr(mode="r+")``) reruns them. It reads no data: it costs one
  ``stat`` per file (README-style figure in docs/robustness.md).

This module imports neither TensorFlow nor Keras: the Snakefile uses it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

# Snakemake's marker of a directory output: its time changes without the data changing.
IGNORED = {".snakemake_timestamp"}


def training_fingerprint(settings: Mapping, arrays: Mapping[str, np.ndarray]) -> str:
    """A hex digest of JSON-able ``settings`` and of the arrays' names, dtypes, shapes and bytes."""
    h = hashlib.blake2b(digest_size=16)
    h.update(json.dumps(settings, sort_keys=True, default=str).encode())
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}:{a.dtype.str}:{a.shape}".encode())
        h.update(memoryview(a).cast("B"))
    return h.hexdigest()


def store_fingerprint(path: str | os.PathLike) -> str:
    """A hex digest of every file's relative path, size and mtime (ns) under ``path``."""
    root = Path(path)
    entries = []
    for directory, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            if name in IGNORED:
                continue
            full = os.path.join(directory, name)
            st = os.stat(full)
            entries.append(f"{os.path.relpath(full, root)}\0{st.st_size}\0{st.st_mtime_ns}")
    return hashlib.blake2b("\n".join(entries).encode(), digest_size=16).hexdigest()
