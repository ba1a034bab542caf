"""Does an anchor to the start keep a rough start from collapsing? A remedy for the photograph.

On the photograph the spectral start is too rough at the scale δ: its bending
b is far above its distortion, and shrinking the whole map is the fastest way
down the loss, so training collapses (docs/results.md, "Where training
starts"). Here the refinement's loss gets an anchor term,

    loss + α(epoch) · mean |φ(x) − Y(x)|²,

where Y are the start's own regression targets (Isomap coordinates in the
units of d). Shrinking the map then costs α times its size, so bending can
only fall by smoothing. α holds for ``--hold`` epochs, is cut by 0.3 each
of the next ``--fade`` epochs, and is ``--floor`` (0) after them.

Works on one run of a finished ``benchmarks/convergence.py`` workdir (its
pairs and test stores). Prints each epoch's validation terms and the
workflow's evaluation of the final encoder as JSON:

    .venv/bin/python benchmarks/anchored_start.py --workdir /tmp/conv --run photograph-seed0 \
        --weight 1000 --hold 16 --epochs 22

A prototype: plain Adam steps, no averaged weights or plateau rule. The
measured outcomes are in docs/results.md ("An anchor to the start").
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.initialisation import load_run, score  # noqa: E402
from isoflat_tf import initialisation, losses, training  # noqa: E402
from isoflat_tf.encoder import build_encoder  # noqa: E402

FADE_FACTOR = 0.3


def anchor_weight(epoch: int, weight: float, hold: int, fade: int, floor: float = 0.0) -> float:
    """α of ``epoch`` (1-based): ``weight`` for ``hold`` epochs, then cut by 0.3 an epoch for ``fade``,
    never below ``floor``, then ``floor``."""
    if epoch <= hold:
        return weight
    if epoch <= hold + fade:
        return max(weight * FADE_FACTOR ** (epoch - hold), floor)
    return floor


def validation_terms(encoder, val: dict[str, np.ndarray], distortion: str, bending_weight: float) -> dict[str, float]:
    """The loss terms of ``encoder`` on the validation pairs (at the full λ)."""
    import tensorflow as tf

    phi = [tf.constant(encoder.predict(val[k], batch_size=1024, verbose=0)) for k in ("x", "y", "z")]
    terms = losses.pair_loss_terms(*phi, tf.constant(val["distance"]), distortion, bending_weight)
    return {name: float(value) for name, value in terms.items()}


def anchored_refinement(
    encoder,
    train: dict[str, np.ndarray],
    val: dict[str, np.ndarray],
    distortion: str,
    bending_weight: float,
    epochs: int,
    weight: float,
    hold: int,
    fade: int,
    seed: int,
    learning_rate: float = 3e-4,
    batch_size: int = 128,
    floor: float = 0.0,
) -> list[dict]:
    """Train ``encoder`` on the pairs ``train`` (``x``, ``y``, ``z``, ``distance`` and the anchor
    ``target`` of each x) with the anchored loss; one row of validation terms per epoch (epoch 0: before)."""
    import keras
    import tensorflow as tf

    tensors = {k: tf.constant(np.asarray(v, np.float32)) for k, v in train.items()}
    optimizer = keras.optimizers.Adam(learning_rate)
    alpha = tf.Variable(0.0)

    @tf.function
    def step(batch):
        with tf.GradientTape() as tape:
            n = tf.shape(batch["x"])[0]
            latent = encoder(tf.concat([batch["x"], batch["y"], batch["z"]], axis=0), training=True)
            terms = losses.pair_loss_terms(
                latent[:n], latent[n : 2 * n], latent[2 * n :], batch["distance"], distortion, bending_weight
            )
            anchor = tf.reduce_mean(tf.reduce_sum((latent[:n] - batch["target"]) ** 2, axis=-1))
            loss = terms["loss"] + alpha * anchor
        grads = tape.gradient(loss, encoder.trainable_variables)
        optimizer.apply_gradients(zip(grads, encoder.trainable_variables, strict=True))
        return anchor

    rows = [{"epoch": 0, "anchor_weight": 0.0, **validation_terms(encoder, val, distortion, bending_weight)}]
    n = len(train["distance"])
    for epoch in range(1, epochs + 1):
        started = time.perf_counter()
        alpha.assign(anchor_weight(epoch, weight, hold, fade, floor))
        for batch in training.pair_dataset(tensors, training.epoch_order(n, seed, epoch - 1), batch_size):
            anchor = step(batch)
        row = {
            "epoch": epoch,
            "anchor_weight": float(alpha.numpy()),
            "anchor": float(anchor),
            **validation_terms(encoder, val, distortion, bending_weight),
            "seconds": round(time.perf_counter() - started, 1),
        }
        print(json.dumps(row), flush=True)
        rows.append(row)
    return rows


def anchored_pairs(
    pairs: dict[str, np.ndarray], train_idx: np.ndarray, points: int, latent_dim: int, seed: int
) -> dict[str, np.ndarray]:
    """The training pairs whose x the start embeds, each with its Isomap target (``target``)."""
    chosen = initialisation.distinct_inputs(pairs["x"], train_idx, points, seed)
    targets, _ = initialisation.spectral_targets(
        pairs["x"][chosen], pairs["y"][chosen], pairs["distance"][chosen], latent_dim, seed=seed
    )
    return {**{k: pairs[k][chosen] for k in ("x", "y", "z", "distance")}, "target": targets}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, required=True, help="a benchmarks/convergence.py workdir")
    parser.add_argument("--run", required=True)
    parser.add_argument("--weight", type=float, default=1000.0, help="α while it holds")
    parser.add_argument("--hold", type=int, default=16, help="epochs at the full α")
    parser.add_argument("--fade", type=int, default=4, help="epochs over which α is cut by 0.3 each")
    parser.add_argument("--floor", type=float, default=0.0, help="α after the fade (and its least during it)")
    parser.add_argument("--epochs", type=int, default=22)
    parser.add_argument("--regression-epochs", type=int, default=30, help="passes of the start's regression")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    experiment, run, pairs, _ = load_run(args.workdir, args.run, args.threads)
    config = run.training
    train_idx, val_idx = training.split_pairs(len(pairs["distance"]), config.validation_fraction, run.seed)
    unit = training.length_unit(pairs["distance"][train_idx], config)
    train = anchored_pairs(pairs, train_idx, config.spectral_points, run.encoder.latent_dim, run.seed)
    encoder = build_encoder(pairs["x"].shape[1:], run.encoder, output_scale=unit)
    fit = initialisation.pretrain(
        encoder, train["x"].astype(np.float32), train["target"], args.regression_epochs, 64, seed=run.seed
    )
    print(f"start: regressed to relative rms {fit:.3g}", flush=True)
    val = {k: np.asarray(pairs[k][val_idx], np.float32) for k in ("x", "y", "z", "distance")}
    history = anchored_refinement(
        encoder,
        train,
        val,
        run.loss.distortion,
        run.loss.bending_weight,
        args.epochs,
        args.weight,
        args.hold,
        args.fade,
        run.seed,
        floor=args.floor,
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "encoder.keras"
        training.save_model(encoder, path)
        metrics = score(path, run, experiment.datasets[run.dataset], experiment, args.workdir)
    print(
        json.dumps(
            {
                "run": args.run,
                "settings": vars(args) | {"workdir": str(args.workdir)},
                **metrics,
                "start_relative_rms": round(fit, 4),
                "history": history,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
