"""Seeds: every job derives its own from the experiment's base seed and names of its purpose."""

from __future__ import annotations

import zlib

import numpy as np


def derive_seed(base: int, *names: str) -> int:
    """A stable 31-bit seed for a purpose (e.g. ``derive_seed(0, "square", "test")``)."""
    key = zlib.crc32("/".join(names).encode())
    return int(np.random.SeedSequence([base, key]).generate_state(1)[0] & 0x7FFFFFFF)
