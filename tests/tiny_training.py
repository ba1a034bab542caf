"""Train a tiny encoder in a fresh process and save its weights (used by the tests).

python -m tests.tiny_training OUT.npz CHECKPOINT_DIR [--epochs N] [--starts S] [--logical-cpus K]
    [--distribute none|mirrored] [--precision P] [--jit auto|true|false]
"""

import argparse
import logging

import numpy as np

from isoflat_tf import training
from isoflat_tf.config import EncoderConfig, TrainingConfig
from tests.test_training import tiny_pairs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("checkpoint")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--starts", type=int, default=3)
    parser.add_argument("--logical-cpus", type=int, default=1)
    parser.add_argument("--distribute", default="none")
    parser.add_argument("--precision", default="float32")
    parser.add_argument("--jit", default="auto")
    parser.add_argument("--sgd-step", action="store_true", help="one plain SGD step on one batch of 64 instead")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)

    import tensorflow as tf

    if args.logical_cpus > 1:
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * args.logical_cpus)
    device = training.configure_tensorflow(11, threads=1)
    jit = {"true": True, "false": False}.get(args.jit, args.jit)
    cfg = TrainingConfig(
        epochs=args.epochs,
        starts=args.starts,
        batch_size=32,
        learning_rate=3e-3,
        final_learning_rate=1e-4,
        distribute=args.distribute,
        precision=args.precision,
        jit_compile=jit,
    )
    pairs = tiny_pairs(n=1024, size=16)
    if args.sgd_step:
        return one_sgd_step(pairs, args)
    encoder, rows = training.train(
        pairs,
        EncoderConfig(latent_dim=2, conv_filters=(8, 8), dense_units=(16,)),
        "quadratic",
        1.0,
        cfg,
        5,
        args.checkpoint,
        device=device,
    )
    logging.info("final ratio_error %.6g val_ratio_error %.6g", rows[-1]["ratio_error"], rows[-1]["val_ratio_error"])
    probe = np.asarray(encoder(pairs["x"][:128]), np.float64)  # latents of fixed images
    np.savez(args.out, *encoder.get_weights(), probe=probe)


def one_sgd_step(pairs, args) -> None:
    """Save probe latents before and after one SGD step: SGD, unlike Adam, shows the gradient's scale."""
    import keras
    import tensorflow as tf

    from isoflat_tf.encoder import build_encoder
    from isoflat_tf.model import IsometricEncoderModel

    strategy = training.distribution_strategy(args.distribute)
    with strategy.scope():
        encoder = build_encoder(
            pairs["x"].shape[1:], EncoderConfig(latent_dim=2, conv_filters=(8, 8), dense_units=(16,))
        )
        model = IsometricEncoderModel(encoder)
        model.compile(optimizer=keras.optimizers.SGD(0.05))
    before = np.asarray(encoder(pairs["x"][:128]), np.float64)
    batch = tf.data.Dataset.from_tensor_slices({k: np.asarray(v[:64], np.float32) for k, v in pairs.items()}).batch(64)
    model.fit(batch, epochs=1, verbose=0)
    np.savez(args.out, probe=np.asarray(encoder(pairs["x"][:128]), np.float64), before=before)


if __name__ == "__main__":
    main()
