"""Training stops on convergence, keeps its best epoch, ignores the units of d, and can be watched."""

import dataclasses
import re

import numpy as np
import pytest
import yaml

from isoflat_tf import losses, monitor, plateau, training
from isoflat_tf.config import TrainingConfig
from isoflat_tf.config_loader import ConfigError, load_config

from .conftest import TINY_CONFIG, planned_jobs, run_snakemake
from .test_training import TINY_ENCODER, tiny_pairs

RULE = TrainingConfig(epochs=20, patience=3, tolerance=0.01, lr_patience=2, lr_factor=0.5, learning_rate=1e-3)


def run_rule(losses_per_epoch, config=RULE, warmup=0, terms=None):
    state = plateau.initial_state(config)
    for epoch, loss in enumerate(losses_per_epoch, start=1):
        epoch_terms = {name: values[epoch - 1] for name, values in (terms or {}).items()}
        state = plateau.update(state, loss, epoch, config, epoch_terms, counted=epoch > warmup)
        reason = plateau.stop_reason(state, epoch, 0.0, config)
        if reason:
            return state, epoch, reason
    return state, len(losses_per_epoch), None


def test_plateau_rule_cuts_the_learning_rate_then_stops():
    state, epoch, reason = run_rule([1.0, 0.5, 0.499, 0.498, 0.6, 0.1])
    # 0.499 and 0.498 improve by < 1 %: two stale epochs cut the rate, a third stops;
    # the weights kept are still those of the lowest loss.
    assert (epoch, reason, state.best_epoch, state.best_loss) == (5, plateau.PLATEAU, 4, 0.498)
    assert state.learning_rate == pytest.approx(5e-4)


def test_plateau_rule_goes_on_while_a_term_improves_under_a_floor():
    floor = [1.0, 0.999, 0.998, 0.997, 0.996, 0.995]  # bending at its floor dominates the loss
    distortion = [0.1, 0.05, 0.025, 0.0125, 0.006, 0.003]
    assert run_rule(floor)[2] == plateau.PLATEAU
    state, epoch, reason = run_rule(floor, terms={"distortion": distortion})
    assert reason is None and epoch == 6 and state.best_epoch == 6 and state.learning_rate == RULE.learning_rate


def test_plateau_rule_at_the_learning_rate_floor_watches_only_the_loss():
    config = dataclasses.replace(RULE, final_learning_rate=RULE.learning_rate)  # at the floor from the start
    loss = [1.0, 0.999, 0.998, 0.997, 0.996, 0.995]
    jitter = [1e-3, 0.9e-3, 0.8e-3, 0.7e-3, 0.6e-3, 0.5e-3]  # a tiny term falling by > 1 % each epoch
    assert run_rule(loss, terms={"distortion": jitter})[2] is None  # above the floor it counts
    state, epoch, reason = run_rule(loss, config, terms={"distortion": jitter})
    assert (epoch, reason, state.best_epoch) == (4, plateau.PLATEAU, 4)


def test_plateau_rule_counts_improvement_relative_to_the_best():
    state, epoch, reason = run_rule([1.0, 0.98, 0.96, 0.94, 0.92, 0.9])  # 2 % per epoch: always improving
    assert reason is None and state.best_epoch == 6 and state.learning_rate == RULE.learning_rate


def test_plateau_rule_ignores_warm_up_epochs_and_respects_the_floor():
    config = dataclasses.replace(RULE, final_learning_rate=4e-4, patience=10)
    state, _, _ = run_rule([0.1, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0], config, warmup=1)
    assert state.best_epoch == 2 and state.best_loss == 5.0  # epoch 1's 0.1 was at a smaller λ
    assert state.learning_rate == 4e-4


def test_plateau_rule_stops_at_the_epoch_limit_and_on_time():
    assert run_rule([1.0 / k for k in range(1, 21)])[2] == plateau.MAX_EPOCHS
    budget = dataclasses.replace(RULE, max_minutes=1.0)
    state = plateau.update(plateau.initial_state(budget), 1.0, 1, budget)
    assert plateau.stop_reason(state, 1, 59.0, budget) is None
    assert plateau.stop_reason(state, 1, 61.0, budget) == plateau.TIME_BUDGET


def test_the_last_epochs_decay_the_learning_rate_whatever_the_rule_says():
    config = dataclasses.replace(RULE, epochs=10, decay_epochs=3, final_learning_rate=1e-4)
    peak = plateau.initial_state(config)
    rates = [plateau.epoch_learning_rate(peak, epoch, config) for epoch in range(1, 11)]
    assert rates[:7] == [1e-3] * 7
    assert rates[7:] == pytest.approx([5e-4, 2.5e-4, 1.25e-4])
    cut = dataclasses.replace(peak, learning_rate=2e-4)  # the rule has cut below the decay
    assert plateau.epoch_learning_rate(cut, 8, config) == 2e-4
    assert plateau.epoch_learning_rate(cut, 10, config) == pytest.approx(1.25e-4)
    short = dataclasses.replace(config, epochs=3, decay_epochs=5)  # shorter than its decay
    assert [plateau.epoch_learning_rate(peak, epoch, short) for epoch in (1, 2, 3)] == pytest.approx(
        [1e-3, 5e-4, 2.5e-4]
    )
    floor = dataclasses.replace(config, epochs=6, decay_epochs=5)  # the floor holds
    assert plateau.epoch_learning_rate(peak, 6, floor) == 1e-4
    assert plateau.epoch_learning_rate(peak, 10, dataclasses.replace(config, decay_epochs=0)) == 1e-3


def test_training_ends_with_the_decay(tmp_path):
    training.configure_tensorflow(0, threads=1)
    # No plateau cuts (lr_patience beyond the run), so the rates are the decay's alone.
    cfg = TrainingConfig(
        epochs=4,
        decay_epochs=2,
        lr_patience=10,
        patience=10,
        initialisation="random",
        starts=1,
        batch_size=64,
        learning_rate=1e-3,
        validation_fraction=0.2,
        tensorboard=False,
    )
    _, rows = training.train(tiny_pairs(n=200), TINY_ENCODER, "quadratic", 1.0, cfg, 0, tmp_path / "ckpt")
    assert [row["learning_rate"] for row in rows] == pytest.approx([1e-3, 1e-3, 3e-4, 9e-5])
    assert rows[-1]["stop_reason"] == plateau.MAX_EPOCHS


def validation_loss(encoder, pairs, config, bending_weight=1.0):
    """The loss of ``encoder`` on the validation split that training used."""
    _, val = training.split_pairs(len(pairs["distance"]), config.validation_fraction, 0)
    phi = [np.asarray(encoder(pairs[k][val].astype(np.float32))) for k in ("x", "y", "z")]
    d = pairs["distance"][val].astype(np.float32)
    return float(losses.pair_loss_terms(*phi, d, "quadratic", bending_weight)["loss"])


def test_training_stops_on_a_plateau_and_restores_the_best_weights(tmp_path):
    training.configure_tensorflow(0, threads=1)
    pairs = tiny_pairs(n=200)
    # Only a halving counts as progress, and a learning rate too high to settle (3e-2, barely
    # cut) makes the validation loss rise again: a plateau comes within a few epochs, after the best one.
    cfg = TrainingConfig(
        epochs=30,
        initialisation="random",  # from a random start, so the first epochs still make progress
        patience=2,
        tolerance=0.5,
        lr_factor=0.99,
        batch_size=64,
        learning_rate=3e-2,
        validation_fraction=0.2,
        tensorboard=False,
    )
    encoder, rows = training.train(pairs, TINY_ENCODER, "quadratic", 1.0, cfg, 0, tmp_path / "ckpt")
    last = rows[-1]
    assert last["stop_reason"] == plateau.PLATEAU and len(rows) < cfg.epochs
    best = last["best_epoch"]
    assert best == 1 + int(np.argmin([row["val_loss"] for row in rows])) < len(rows)
    assert rows[best - 1]["val_loss"] != pytest.approx(last["val_loss"], rel=1e-3)  # restoring changes something
    # (The validation split is one batch: Keras' mean over batches is the plain mean.)
    assert validation_loss(encoder, pairs, cfg) == pytest.approx(rows[best - 1]["val_loss"], rel=1e-4)


def scaled(pairs, factor):
    return {**pairs, "distance": pairs["distance"] * factor}


def test_the_units_of_the_distances_do_not_matter(tmp_path):
    """The same problem in 30× larger units (an image metric's) trains as well; without the length unit it does not.

    λ has units of length² (b has 1/length²), so it converts with the distances.
    """
    pairs = tiny_pairs(n=400, size=16)
    # From a random start: the spectral start would hide how slowly the scale is learnt without the unit.
    cfg = TrainingConfig(
        epochs=3,
        initialisation="random",
        starts=1,
        patience=3,
        batch_size=32,
        learning_rate=3e-3,
        final_learning_rate=3e-3,
    )
    results = {}
    for name, factor, unit in [("unit", 1.0, "auto"), ("x30", 30.0, "auto"), ("x30, no unit", 30.0, 1.0)]:
        training.configure_tensorflow(0, threads=1)
        run_cfg = dataclasses.replace(cfg, length_unit=unit)
        lam = factor**2
        encoder, rows = training.train(
            scaled(pairs, factor), TINY_ENCODER, "quadratic", lam, run_cfg, 0, tmp_path / name
        )
        results[name] = (rows[-1]["val_ratio_error"], encoder)
    quality, x30 = results["unit"][0], results["x30"][0]
    assert abs(x30 - quality) <= 0.2 * quality
    assert results["x30, no unit"][0] > 1.5 * quality  # the check can fail: without the unit the scale is learnt slowly
    # The exported encoders map into the units of d (up to a translation, which the loss does not see).
    images = pairs["x"][:50]
    latents = {name: np.asarray(results[name][1](images)) for name in ("unit", "x30")}
    spread = {name: np.linalg.norm(z - z.mean(axis=0), axis=1) for name, z in latents.items()}
    np.testing.assert_allclose(spread["x30"], 30.0 * spread["unit"], rtol=0.05)


def test_tensorboard_logs_hold_every_term_the_learning_rate_and_snapshots(tmp_path):
    training.configure_tensorflow(0, threads=1)
    cfg = TrainingConfig(epochs=2, starts=1, batch_size=16, snapshot_every=1)
    training.train(
        tiny_pairs(), TINY_ENCODER, "quadratic", 1.0, cfg, 0, tmp_path / "ckpt", tensorboard_dir=tmp_path / "tb"
    )
    tags = monitor.event_tags(tmp_path / "tb")
    terms = {"loss", "distortion", "bending", "ratio_error"}
    assert terms | {f"val_{t}" for t in terms} | {"grad_norm", "learning_rate", "bending_weight", "embedding"} <= tags


def test_the_best_of_several_starts_goes_on(tmp_path, caplog):
    training.configure_tensorflow(0, threads=1)
    cfg = TrainingConfig(epochs=2, initialisation="random", starts=3, batch_size=16, tensorboard=False)
    with caplog.at_level("INFO", logger="isoflat_tf.training"):
        _, rows = training.train(tiny_pairs(), TINY_ENCODER, "quadratic", 1.0, cfg, 0, tmp_path / "ckpt")
    starts = [float(m.group(1)) for m in re.finditer(r"start \d/3: monitored loss (\S+)", caplog.text)]
    assert len(starts) == 3 and len(set(starts)) == 3  # different initialisations
    assert rows[0]["val_loss"] == pytest.approx(min(starts), rel=1e-3)
    assert len(rows) == 2  # the chosen start's epoch is the run's first
    # Two epochs cannot make a plateau of patience 3: the log says how to train on.
    assert rows[-1]["stop_reason"] == plateau.MAX_EPOCHS and "raise training.epochs to train on" in caplog.text


def test_a_warm_start_continues_the_encoder_it_names(tmp_path):
    pairs = tiny_pairs(n=200)
    cfg = TrainingConfig(epochs=3, starts=1, batch_size=64, learning_rate=3e-3, tensorboard=False)
    training.configure_tensorflow(0, threads=1)
    first, rows = training.train(pairs, TINY_ENCODER, "quadratic", 1.0, cfg, 0, tmp_path / "a")
    path = tmp_path / "first.keras"
    training.save_model(first, path)
    # A learning rate too small to move the weights: the warm start's first epoch scores the first run's encoder.
    frozen = dataclasses.replace(cfg, epochs=1, learning_rate=1e-12, final_learning_rate=1e-12)
    second, again = training.train(pairs, TINY_ENCODER, "quadratic", 1.0, frozen, 0, tmp_path / "b", init_encoder=path)
    best = rows[-1]["best_epoch"]
    assert again[0]["val_loss"] == pytest.approx(rows[best - 1]["val_loss"], rel=1e-4)
    assert training.encoder_unit(second) == training.encoder_unit(first) != 1.0


@pytest.mark.parametrize(
    ("runs", "message"),
    [
        ({"b": {"training": {"init_from": "nope"}}}, r"runs\.b\.training\.init_from is 'nope'; allowed values: a"),
        ({"b": {"training": {"init_from": "b"}}}, r"runs\.b\.training\.init_from names the run itself"),
        (
            {"a": {"training": {"init_from": "b"}}, "b": {"training": {"init_from": "a"}}},
            r"warm starts form a cycle: a → b → a",
        ),
        ({"b": {"training": {"init_from": "a"}, "encoder": {"dense_units": [32]}}}, r"other encoder settings"),
    ],
)
def test_invalid_warm_starts_name_the_key(runs, message):
    raw = {"datasets": {"s": {"manifold": "square"}}, "runs": {"a": {"dataset": "s"}, "b": {"dataset": "s"}}}
    for name, settings in runs.items():
        raw["runs"][name].update(settings)
    with pytest.raises(ConfigError, match=message):
        load_config(raw)


def test_snakemake_trains_the_warm_start_first(tmp_path):
    raw = yaml.safe_load(TINY_CONFIG.read_text())
    raw["runs"]["square_fine"] = {"dataset": "square", "pairs": {"delta": 0.03}, "training": {"init_from": "square"}}
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(raw))
    proc = run_snakemake(tmp_path, "-n", "results/runs/square_fine/encoder.keras", "--configfile", str(config))
    assert planned_jobs(proc.stdout).get("train") == 2  # the warm start's own training comes first
