"""Memory each stage needs at least, estimated from the config at start-up.

Each estimate counts only the float32 images a stage must hold at once (one
channel), so it is a lower bound: a config whose estimate exceeds the limit
cannot run, and is refused before any job starts instead of failing inside a
job with a multi-TiB allocation error.

This module imports neither TensorFlow nor Keras: the Snakefile uses it.
"""

from __future__ import annotations

import os

from isoflat_tf.pair_sources import of_dataset

FLOAT32 = 4


def physical_memory() -> int:
    """Bytes of physical memory of this machine (0 when unknown)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 0


def stage_estimates(experiment) -> list[tuple[str, int]]:
    """(what, bytes at least) per stage and dataset or run of a resolved ``ExperimentConfig``."""
    out = []
    for name, d in experiment.datasets.items():
        if not of_dataset(d).synthetic:  # the user's own images: nothing synthesized
            continue
        image = d.image_size**2 * FLOAT32
        out.append(
            (
                f"synthesize {name}: {max(d.n_train, d.n_test)} images of {d.image_size}²",
                max(d.n_train, d.n_test) * image,
            )
        )
        e = experiment.evaluation
        path_images = e.n_paths * e.path_points * len(e.distance_multiples)
        out.append(
            (
                f"evaluate on {name}: {d.n_test} test, 3 × {e.n_pairs} pair and {path_images} path images",
                (d.n_test + 3 * e.n_pairs + path_images) * image,
            )
        )
    for name, run in experiment.runs.items():
        d = experiment.datasets[run.dataset]
        if not of_dataset(d).synthetic:  # the user's own images: nothing synthesized
            continue
        pair_images = 3 * run.pairs.n_pairs * d.image_size**2 * FLOAT32
        out.append((f"sample_pairs {name}: 3 × {run.pairs.n_pairs} images of {d.image_size}²", pair_images))
        # The pairs as loaded, and the training split copied into TensorFlow.
        out.append(
            (
                f"train {name}: 3 × {run.pairs.n_pairs} images of {d.image_size}², as loaded and as tensors",
                2 * pair_images,
            )
        )
    return out


def memory_problems(experiment, limit: int) -> list[str]:
    """Stages whose estimate exceeds ``limit`` bytes, each with its estimate and the limit."""
    return [
        f"{what}: at least {format_bytes(need)} needed, more than the {format_bytes(limit)} available"
        for what, need in stage_estimates(experiment)
        if need > limit
    ]


def memory_limit(experiment) -> int:
    """The most a job may use: this machine's memory, or what training asks for (a cluster's nodes), if more."""
    return max(physical_memory(), experiment.resources.train_mem_mb * 2**20)


def format_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.3g} {unit}"
        n /= 1024
    return f"{n:.3g} PiB"
