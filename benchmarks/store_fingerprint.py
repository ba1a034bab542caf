"""Start-up cost of ``store_fingerprint`` on a 20 000-pair store of 32 × 32 images (docs/robustness.md).

PYTHONPATH=$PWD .venv/bin/python benchmarks/store_fingerprint.py /tmp/fp.zarr
"""

import os
import sys
import time

import numpy as np

from isoflat_tf import stores
from isoflat_tf.fingerprint import store_fingerprint


def main(out: str, n: int = 20_000, repeats: int = 20) -> None:
    images = np.random.default_rng(0).random((n, 32, 32, 1), dtype=np.float32)
    attrs = {k: 0 for k in stores.PAIRS.attrs if k != "isoflat_version"}
    stores.write_store(
        stores.pairs_from_arrays(images, images[::-1], images, np.full(n, 0.01), {}, attrs), out, stores.PAIRS
    )
    files = sum(len(names) for _, _, names in os.walk(out))
    store_fingerprint(out)  # warm the file-system cache, as a second start-up would
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        store_fingerprint(out)
        times.append(time.perf_counter() - start)
    print(f"{files} files; store_fingerprint median {1e3 * np.median(times):.2f} ms, max {1e3 * max(times):.2f} ms")


if __name__ == "__main__":
    main(sys.argv[1])
