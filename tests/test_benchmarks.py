"""benchmarks/scaling.py on tiny samples: its table, its memory refusal and its limits on a child."""

from __future__ import annotations

import importlib.util
import math
import sys

import numpy as np
import pandas as pd
import pytest

from isoflat_tf.config import EvaluationConfig

from .conftest import ROOT


def load_benchmark(name: str):
    """A benchmark script as a module (benchmarks/ is not a package)."""
    spec = importlib.util.spec_from_file_location(f"benchmark_{name}", ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


scaling = load_benchmark("scaling")

TINY = scaling.Settings(
    image_size=8,
    n_pairs=200,
    epochs=1,
    n_test=150,
    warmup_samples=50,
    evaluation=EvaluationConfig(n_pairs=300, n_paths=30, neighbourhood_points=100, far_pairs=200),
)
TIMES = ("train_s", "total_s", "peak_gb")


def test_scaling_measures_isoflat_in_process_and_isomap_in_a_child(tmp_path):
    isoflat = scaling.measure("isoflat", 300, TINY, tmp_path / "isoflat")
    isomap = scaling.run_one("isomap", 300, TINY, scaling.Limits(), tmp_path)
    table = scaling.table_frame([isoflat, isomap])
    assert list(table.columns[: len(scaling.HEADERS)]) == list(scaling.HEADERS)
    assert list(table["status"].fillna(scaling.OK)) == [scaling.OK, scaling.OK]
    for column in (*TIMES, *scaling.QUALITY):
        assert table[column].map(math.isfinite).all(), (column, table[column].tolist())
    assert isoflat["pairs"] == TINY.n_pairs and isoflat["graph_pairs_s"] > 0
    assert isoflat["total_s"] == pytest.approx(isoflat["graph_pairs_s"] + isoflat["train_s"])
    assert math.isnan(table["graph_pairs_s"][1])  # a baseline's graph is part of its fit
    # The child's own peak (os.wait4), in GB: a Python process with NumPy and scikit-learn.
    assert 0.05 < isomap["peak_gb"] < 4
    assert 0 <= table["trustworthiness"].min() and table["trustworthiness"].max() <= 1
    header = [cell.strip() for cell in scaling.markdown(table).splitlines()[0].strip("|").split("|")]
    assert header == list(scaling.HEADERS.values()) and "peak GB" in header


def test_scaling_refuses_a_size_whose_estimate_exceeds_the_limit(tmp_path):
    limits = scaling.Limits(memory=8 * scaling.GB)
    full = scaling.Settings()
    # Isomap's dense geodesic matrix, its kernel and KernelPCA's copy: 3 · 8 N² bytes.
    assert scaling.memory_estimate("isomap", 64000, full) > 3 * 8 * 64000**2
    assert "more than the 8 GB limit" in scaling.refusal("isomap", 64000, full, limits)
    assert scaling.refusal("isomap", 16000, full, limits) is None
    assert scaling.refusal("isoflat", 128000, full, limits) is None
    table = scaling.run_all(["isomap"], [40000, 20000], full, scaling.Limits(memory=1 * scaling.GB), tmp_path)
    assert list(table["N"]) == [20000, 40000] and set(table["status"]) == {scaling.REFUSED}
    assert (table["estimate_gb"] > 1).all() and table["note"].str.contains("GB").all()
    assert not (tmp_path / "logs").exists()  # refused before any child started
    text = scaling.write_outputs(table, scaling.Limits(memory=1 * scaling.GB), tmp_path)
    assert "needs at least" in text and (tmp_path / "scaling.png").stat().st_size > 0


def test_scaling_stops_a_child_past_the_memory_limit_and_skips_larger_sizes(tmp_path):
    # Far below what the child's imports alone take, far above the estimate of the size.
    limits = scaling.Limits(memory=0.08 * scaling.GB, seconds=300)
    assert scaling.memory_estimate("isomap", 300, TINY) < limits.memory
    table = scaling.run_all(["isomap"], [300, 600], TINY, limits, tmp_path)
    assert list(table["status"]) == [scaling.EXCEEDED_MEMORY, scaling.SKIPPED]
    assert table["peak_gb"][0] > 0.08 and "past the 0.08 GB limit" in table["note"][0]
    text = scaling.write_outputs(table, limits, tmp_path)
    assert "exceeded memory" in text and (tmp_path / "scaling.png").stat().st_size > 0


def test_convergence_experiment_sets_only_what_a_user_would():
    convergence = load_benchmark("convergence")
    config = convergence.experiment(["torus", "square_image_metric"], [0, 2], 100, [], {"initialisation": "random"})
    assert set(config["datasets"]) == {"torus", "square"}
    assert config["runs"]["square_image_metric-seed2"] == {
        "dataset": "square",
        "seed": 2,
        "pairs": {"delta": 0.05, "geometry": "image"},
        "encoder": {"latent_dim": 2},
        "training": {"initialisation": "random"},
    }
    assert config["runs"]["torus-seed0"]["encoder"] == {"latent_dim": 4}
    narrow = convergence.experiment(["torus"], [0], 100, [], encoder={"conv_filters": [16, 32, 64]})
    assert narrow["runs"]["torus-seed0"]["encoder"] == {"latent_dim": 4, "conv_filters": [16, 32, 64]}
    assert "training" not in narrow["runs"]["torus-seed0"]


def test_the_initialisation_benchmark_decays_its_regression_to_a_hundredth_over_its_steps():
    regression = load_benchmark("initialisation").Regression
    assert regression(epochs=3).learning_rate(1000) == 1e-3
    schedule = regression(epochs=3, decay=True).learning_rate(1000)  # 16 batches of 64 a pass
    assert float(schedule(0)) == pytest.approx(1e-3)
    assert float(schedule(24)) == pytest.approx(0.5e-3 * (1 + 0.01), rel=1e-3)
    assert float(schedule(48)) == pytest.approx(1e-5)
    assert float(regression(epochs=3, decay=True, batch_size=128).learning_rate(1000)(24)) == pytest.approx(1e-5)


def test_time_to_quality_is_the_first_epoch_near_the_kept_one_and_the_job_time_until_it():
    convergence = load_benchmark("convergence")
    history = pd.DataFrame(
        {
            "epoch": [1, 2, 3, 4, 5],
            "val_ratio_error": [0.5, 0.12, 0.2, 0.1, 0.11],
            "best_epoch": [1, 2, 2, 4, 4],
            "seconds": [6.0, 5.0, 5.0, 5.0, 5.0],
        }
    )
    # Kept: epoch 4 (0.1); epoch 2 (0.12) is within 1.25× of it. The job's 50 s less epochs 3–5.
    assert convergence.time_to_quality(history, 50.0) == (2, 35.0)
    assert convergence.time_to_quality(history, 50.0, factor=1.0) == (4, 45.0)


def test_the_convergence_table_of_baselines_alone_reads_their_metrics_and_job_times(tmp_path):
    convergence = load_benchmark("convergence")
    config = convergence.experiment(["circle"], [1], 100, ["irvae"])
    job = tmp_path / "results" / "benchmarks" / "baseline"
    job.mkdir(parents=True)
    (job / "circle-irvae-seed1.tsv").write_text("s\th:m:s\n41.25\t0:00:41\n")
    out = tmp_path / "results" / "baselines" / "circle" / "irvae" / "seed1"
    out.mkdir(parents=True)
    (out / "metrics.json").write_text('{"trustworthiness": 0.75, "interpolation_error": {"4": {"mean": 0.5}}}')
    rows = convergence.table(tmp_path, config, trained=False)
    assert rows.to_dict("records") == [
        {
            "manifold": "circle",
            "method": "irvae",
            "seed": 1,
            "train_s": 41.2,
            "scale_free_mean_abs_ratio_error": pytest.approx(math.nan, nan_ok=True),
            "rms_sqrt_bending": pytest.approx(math.nan, nan_ok=True),
            "interpolation_error_4": 0.5,
            "procrustes_error": pytest.approx(math.nan, nan_ok=True),
            "trustworthiness": 0.75,
        }
    ]
    with pytest.raises(FileNotFoundError):  # the isoflat rows it was not asked to skip
        convergence.table(tmp_path, config)


def test_the_initialisation_benchmark_regresses_a_subset_of_the_embedded_inputs(monkeypatch):
    from types import SimpleNamespace

    from isoflat_tf import initialisation, training

    from .test_training import TINY_ENCODER, tiny_pairs

    benchmark = load_benchmark("initialisation")
    regressed = []
    pretrain = initialisation.pretrain

    def recording_pretrain(encoder, images, *args, **kwargs):  # the real regression, its inputs counted
        regressed.append(len(images))
        return pretrain(encoder, images, *args, **kwargs)

    monkeypatch.setattr(initialisation, "pretrain", recording_pretrain)
    training.configure_tensorflow(0, threads=1)
    pairs = tiny_pairs(n=300, size=12)
    run = SimpleNamespace(encoder=TINY_ENCODER)
    encoder = benchmark.spectral_start(pairs, run, 300, benchmark.Regression(epochs=2, subset=100), 1.0, seed=0)
    assert regressed == [100]
    latent = encoder(pairs["x"]).numpy()
    assert latent.shape == (300, TINY_ENCODER.latent_dim)
    assert np.isfinite(latent).all() and latent.std(axis=0).min() > 0


def test_the_start_graph_benchmark_counts_the_short_circuits_that_ruin_isomap():
    # A 6 × 1 strip rolled into a ring whose ends stay 2.5 sample spacings apart: 16 neighbours
    # link the ends, and Isomap returns a ring; 4 neighbours do not, and it unrolls the strip.
    start_graph = load_benchmark("start_graph")
    rng = np.random.default_rng(0)
    n, length = 1500, 6.0
    chart = rng.uniform((0.0, 0.0), (length, 1.0), size=(n, 2))
    radius = (length + 2.5 * np.sqrt(length / n)) / (2 * np.pi)
    angle = chart[:, 0] / radius
    x = np.stack([radius * np.cos(angle), radius * np.sin(angle), chart[:, 1]], axis=1)
    table = start_graph.graph_faithfulness(x, chart, [4, 16], too_long=5.0, seed=0).set_index("neighbours")
    assert table.loc[4, "short_circuits"] == 0 and table.loc[4, "isomap_procrustes_pct"] < 10
    assert table.loc[16, "short_circuits"] > 0 and table.loc[16, "isomap_procrustes_pct"] > 20
    assert table.loc[16, "longest_edge_spacings"] > 80  # the ends, the strip's length (95 spacings) apart


anchored_start = load_benchmark("anchored_start")


def test_the_anchor_holds_then_fades_to_nothing():
    weights = [anchored_start.anchor_weight(epoch, 100.0, hold=2, fade=2) for epoch in range(1, 6)]
    assert weights == pytest.approx([100.0, 100.0, 30.0, 9.0, 0.0])
    floored = [anchored_start.anchor_weight(epoch, 100.0, hold=2, fade=2, floor=20.0) for epoch in range(1, 6)]
    assert floored == pytest.approx([100.0, 100.0, 30.0, 20.0, 20.0])


def test_an_anchored_refinement_stays_near_its_targets():
    from isoflat_tf import training
    from isoflat_tf.encoder import build_encoder

    from .test_training import TINY_ENCODER, tiny_pairs

    training.configure_tensorflow(0, threads=1)
    pairs = {k: np.asarray(v, np.float32) for k, v in tiny_pairs(n=128).items()}
    # Targets far from the random encoder's outputs: only the anchor pulls towards them.
    target = np.random.default_rng(1).normal(size=(128, 2)).astype(np.float32)
    start = build_encoder(pairs["x"].shape[1:], TINY_ENCODER)
    residuals = {}
    for weight in (0.0, 100.0):
        encoder = build_encoder(pairs["x"].shape[1:], TINY_ENCODER)
        encoder.set_weights(start.get_weights())
        rows = anchored_start.anchored_refinement(
            encoder, {**pairs, "target": target}, pairs, "quadratic", 1.0, 3, weight, 2, 1, 0, 1e-2, 32
        )
        assert [row["anchor_weight"] for row in rows] == [0.0, weight, weight, 0.3 * weight]
        assert all(np.isfinite(row["loss"]) for row in rows)
        residuals[weight] = float(np.mean(np.sum((encoder.predict(pairs["x"], verbose=0) - target) ** 2, -1)))
    assert residuals[100.0] < 0.8 * residuals[0.0]
