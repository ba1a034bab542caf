"""Interrupted training resumes from its last epoch; failures leave finished outputs alone."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from isoflat_tf import training
from isoflat_tf.config import EncoderConfig, LossConfig, PairsConfig, RunConfig, TrainingConfig
from isoflat_tf.stages.train import train

from .test_training import tiny_pairs

EPOCHS = 6


def start(root, tmp_path, name, *options):
    """Train tiny_training in a fresh process, writing {name}.npz and checkpoints to ckpt-{name}."""
    out, ckpt = str(tmp_path / f"{name}.npz"), str(tmp_path / f"ckpt-{name}")
    return subprocess.Popen(
        [sys.executable, "-m", "tests.tiny_training", out, ckpt, "--epochs", str(EPOCHS), *options],
        cwd=root,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def weights(path):
    with np.load(path) as f:
        return [f[k] for k in sorted((k for k in f.files if k.startswith("arr_")), key=lambda k: int(k[4:]))]


def probe_latents(path):
    with np.load(path) as f:
        return f["probe"]


@pytest.mark.slow  # two whole trainings in fresh processes
def test_killed_training_resumes_to_the_same_weights(root, tmp_path):
    reference = start(root, tmp_path, "reference")
    assert reference.wait(timeout=300) == 0, reference.stderr.read()

    state = tmp_path / "ckpt-killed" / "state.json"
    proc = start(root, tmp_path, "killed")
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if state.exists() and json.loads(state.read_text())["epoch"] >= 2:
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.01)
    assert proc.wait(timeout=60) == -signal.SIGKILL, "the run finished before it could be killed"
    killed_at = json.loads(state.read_text())["epoch"]
    assert 2 <= killed_at < EPOCHS
    assert not (tmp_path / "killed.npz").exists()

    resumed = start(root, tmp_path, "killed")
    _, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err
    assert f"after epoch {killed_at}" in err  # it resumed rather than starting over
    for a, b in zip(weights(tmp_path / "reference.npz"), weights(tmp_path / "killed.npz"), strict=True):
        np.testing.assert_array_equal(a, b)
    assert not (tmp_path / "ckpt-killed").exists()


def test_failed_training_keeps_the_finished_outputs(tmp_path):
    from isoflat_tf import stores

    run = RunConfig(
        name="r",
        dataset="square",
        seed=0,
        pairs=PairsConfig(n_pairs=64),
        loss=LossConfig(),
        encoder=EncoderConfig(conv_filters=(4,), dense_units=(8,)),
        training=TrainingConfig(epochs=1, starts=1, batch_size=32),
    )
    pairs = tiny_pairs()

    def write_pairs(distance):
        ds = stores.pairs_from_arrays(
            pairs["x"],
            pairs["y"],
            pairs["z"],
            distance,
            {},
            {
                "manifold": "square",
                "dimension": 2,
                "geometry": "intrinsic",
                "strategy": "ball",
                "delta": 0.05,
                "seed": 0,
            },
        )
        return stores.write_store(ds, tmp_path / "pairs.zarr", stores.PAIRS)

    out = tmp_path / "run"
    outputs = {"encoder": out / "encoder.keras", "history": out / "history.csv"}
    train(run=run, pairs=write_pairs(pairs["distance"]), threads=1, **outputs)
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert set(before) == {"encoder.keras", "history.csv"}

    huge = TrainingConfig(epochs=1, starts=1, batch_size=32, learning_rate=1e30, final_learning_rate=1e29)
    with pytest.raises(training.NonFiniteLossError, match=r"at epoch 1, step \d+"):
        train(
            run=RunConfig(**{**run.__dict__, "training": huge}),
            pairs=write_pairs(pairs["distance"]),
            threads=1,
            **outputs,
        )
    after = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert after == before
