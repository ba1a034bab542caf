"""Watching a run while it trains: TensorBoard event files.

Per epoch: every loss term (training and validation), the learning rate, the
bending weight in force, the gradient norm; every ``snapshot_every`` epochs,
an image of the embedding of the validation pairs' x. View them with
``tensorboard --logdir results/runs``.
"""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import numpy as np

# Scalars written besides Keras' logs.
LEARNING_RATE = "learning_rate"
BENDING_WEIGHT = "bending_weight"
SNAPSHOT = "embedding"


def clear(directory: str | os.PathLike) -> None:
    """Remove the event files of an earlier, unrelated run (a fresh start, not a resume)."""
    shutil.rmtree(directory, ignore_errors=True)


def snapshot_png(latent: np.ndarray, title: str) -> bytes:
    """A scatter plot of latents (first two coordinates) as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(3.2, 3.2), dpi=80)
    second = latent[:, 1] if latent.shape[1] > 1 else np.zeros(len(latent))
    ax.scatter(latent[:, 0], second, s=2, c=np.arange(len(latent)) % 7, cmap="tab10")
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_title(title, fontsize=8)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


class TensorBoardLog:
    """Writes one run's scalars and embedding snapshots into ``directory``."""

    def __init__(self, directory: str | os.PathLike, snapshot_every: int):
        import tensorflow as tf

        Path(directory).mkdir(parents=True, exist_ok=True)
        self.writer = tf.summary.create_file_writer(str(directory))
        self.snapshot_every = snapshot_every

    def epoch(self, epoch: int, logs: dict[str, float], encode=None, images: np.ndarray | None = None) -> None:
        """Write an epoch's scalars; every ``snapshot_every`` epochs an embedding image of ``encode(images)``."""
        import tensorflow as tf

        with self.writer.as_default(step=epoch):
            for name, value in logs.items():
                tf.summary.scalar(name, float(value))
            if encode is not None and images is not None and epoch % self.snapshot_every == 0:
                png = snapshot_png(np.asarray(encode(images)), f"epoch {epoch}")
                tf.summary.image(SNAPSHOT, tf.image.decode_png(png)[None])
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()


def event_tags(directory: str | os.PathLike) -> set[str]:
    """The tags of every summary in the event files under ``directory`` (for tests and checks)."""
    import tensorflow as tf

    tags = set()
    for path in Path(directory).rglob("events.out.tfevents.*"):
        for record in tf.data.TFRecordDataset(str(path)):
            event = tf.compat.v1.Event.FromString(record.numpy())
            tags.update(value.tag for value in event.summary.value)
    return tags
