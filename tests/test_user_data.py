"""Users' own data: a pairs store written here (not by isoflat's sampler) trains, evaluates and plots
through the real workflow; each kind of bad store is reported with its path and variable."""

import json

import numpy as np
import pytest
import xarray as xr
import yaml

from isoflat_tf import stores
from isoflat_tf.config_loader import ConfigError, load_config
from isoflat_tf.pair_sources import of_dataset

from .conftest import planned_jobs, run_snakemake

SIZE = 12


def stripe(mu: np.ndarray) -> np.ndarray:
    """The user's own renderer: a vertical Gaussian stripe at horizontal position mu ∈ [0, 1]."""
    u = (np.arange(SIZE) + 0.5) / SIZE
    profile = np.exp(-0.5 * ((u[None, :] - 0.2 - 0.6 * mu[:, None]) / 0.08) ** 2)
    return np.repeat(profile[:, None, :, None], SIZE, axis=1).astype(np.float32)


def user_pairs(n: int, seed: int, with_points: bool = True, **override) -> xr.Dataset:
    """Pairs of the stripe family at distance ≤ 0.05, written as plain xarray (no isoflat helpers)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.05, 0.95, n)
    y = x + rng.uniform(-0.05, 0.05, n)
    arrays = {
        "x": (("pair", "height", "width", "channel"), stripe(x)),
        "y": (("pair", "height", "width", "channel"), stripe(y)),
        "z": (("pair", "height", "width", "channel"), stripe((x + y) / 2)),
        "distance": (("pair",), np.abs(y - x)),
    }
    if with_points:
        arrays["x_point"] = (("pair", "coord"), x[:, None])
    arrays.update(override)
    return xr.Dataset(arrays)


def write(ds: xr.Dataset, path) -> str:
    ds.to_zarr(path, mode="w", consolidated=False)
    return str(path)


def user_config(pairs: str, test: str | None = None) -> dict:
    dataset = {"pairs_store": pairs, "dimension": 1}
    if test:
        dataset["test_store"] = test
    return {
        "datasets": {"mine": dataset},
        "runs": {
            "mine": {
                "dataset": "mine",
                "encoder": {"latent_dim": 2, "conv_filters": [8, 8], "dense_units": [16]},
                "training": {"epochs": 2, "starts": 1, "batch_size": 64},
            }
        },
        "evaluation": {"n_pairs": 100},
        "resources": {"threads": 1},
    }


def config_file(tmp_path, raw: dict):
    path = tmp_path / "user.yaml"
    path.write_text(yaml.safe_dump(raw))
    return str(path)


@pytest.mark.slow
def test_user_pairs_train_evaluate_and_plot_through_the_workflow(tmp_path):
    pairs = write(user_pairs(400, 0), tmp_path / "my_pairs.zarr")
    test = write(user_pairs(150, 1, with_points=False), tmp_path / "my_test.zarr")
    config = config_file(tmp_path, user_config(pairs, test))
    work = tmp_path / "work"
    proc = run_snakemake(work, "-n", "--cores", "1", "--configfile", config)
    # Nothing synthesized, no baselines and no Γ-limit check: they need a known manifold.
    assert planned_jobs(proc.stdout) == {"train": 1, "evaluate": 1, "figures": 1, "summary": 1, "all": 1}
    run_snakemake(work, "--cores", "1", "--configfile", config)
    metrics = json.loads((work / "results/runs/mine/metrics.json").read_text())
    assert metrics["evaluated_on"] == "test_store" and metrics["n_test_pairs"] == 100
    assert {"mean_abs_ratio_error", "rms_sqrt_bending", "mean_midpoint_error", "best_scale"} <= set(metrics)
    assert np.isfinite(metrics["mean_abs_ratio_error"])
    assert set(metrics["skipped"]) == {"interpolation_error", "procrustes_error"}
    assert "interpolation_error" not in metrics and "procrustes_error" not in metrics
    latent = stores.open_store(work / "results/runs/mine/latent.zarr", stores.LATENT)
    assert latent.sizes["sample"] == 100 and latent.sizes["latent_dim"] == 2
    for fig in ("embedding", "training", "interpolation"):
        assert (work / f"results/figures/mine/{fig}.png").stat().st_size > 5_000
    assert not (work / "results/data").exists() and not (work / "results/pairs").exists()


def bad_stores(tmp_path):
    """(name, store, variable named in the message, message pattern) for each bad-store case."""
    n = 20
    nan_x = stripe(np.full(n, 0.5))
    nan_x[3, 2, 2, 0] = np.nan
    cases = [
        ("missing", user_pairs(n, 0).drop_vars("distance"), r"missing variable 'distance'"),
        (
            "dtype",
            user_pairs(n, 0, x=(("pair", "height", "width", "channel"), stripe(np.zeros(n)).astype(np.float64))),
            r"variable 'x' has dtype float64, expected float32",
        ),
        (
            "shape",
            user_pairs(n, 0, z=(("pair", "h2", "width", "channel"), np.zeros((n, SIZE + 1, SIZE, 1), np.float32))),
            r"variable 'z' has image shape \(13, 12, 1\), but 'x' has \(12, 12, 1\)",
        ),
        (
            "count",
            user_pairs(n, 0, distance=(("pair2",), np.full(n - 1, 0.01))),
            r"disagree on the number of pairs: .*distance: 19",
        ),
        (
            "zero_distance",
            user_pairs(n, 0, distance=(("pair",), np.r_[0.0, np.full(n - 1, 0.01)])),
            r"variable 'distance' has 1 non-positive",
        ),
        (
            "inf_distance",
            user_pairs(n, 0, distance=(("pair",), np.r_[np.inf, np.full(n - 1, 0.01)])),
            r"variable 'distance' has 1 non-finite",
        ),
        (
            "nan_image",
            user_pairs(n, 0, x=(("pair", "height", "width", "channel"), nan_x)),
            r"variable 'x' has 1 NaN or infinite pixels",
        ),
    ]
    return [(name, write(ds, tmp_path / f"{name}.zarr"), pattern) for name, ds, pattern in cases]


def test_each_bad_store_is_reported_with_path_and_variable(tmp_path):
    for name, path, pattern in bad_stores(tmp_path):
        with pytest.raises(stores.StoreError, match=rf"pairs store .*{name}\.zarr: .*{pattern}"):
            stores.open_pairs(path)


@pytest.mark.slow
def test_bad_stores_stop_the_workflow_before_training(tmp_path):
    """Structural faults stop the workflow at start-up; bad values stop the train job before it trains."""
    cases = {name: (path, pattern) for name, path, pattern in bad_stores(tmp_path)}
    path, pattern = cases["shape"]
    proc = run_snakemake(tmp_path / "w1", "-n", "--configfile", config_file(tmp_path, user_config(path)), check=False)
    assert proc.returncode != 0
    assert "shape.zarr" in proc.stderr and "variable 'z' has image shape" in proc.stderr
    # A bad test store is caught at start-up too.
    good = write(user_pairs(50, 2), tmp_path / "good.zarr")
    path, _ = cases["missing"]
    proc = run_snakemake(
        tmp_path / "w2", "-n", "--configfile", config_file(tmp_path, user_config(good, path)), check=False
    )
    assert proc.returncode != 0 and "missing.zarr" in proc.stderr and "missing variable 'distance'" in proc.stderr
    path, _ = cases["nan_image"]
    work = tmp_path / "w3"
    proc = run_snakemake(work, "--cores", "1", "--configfile", config_file(tmp_path, user_config(path)), check=False)
    assert proc.returncode != 0
    log = (work / "results/logs/train/mine.log").read_text()
    assert "nan_image.zarr" in log and "variable 'x' has 1 NaN or infinite pixels" in log
    assert "variable 'x' has 1 NaN or infinite pixels" in proc.stderr
    assert "epoch 1/" not in log and not (work / "results/runs/mine/encoder.keras").exists()


def test_config_keeps_synthetic_and_user_settings_apart(tmp_path):
    raw = user_config("p.zarr")
    raw["datasets"]["mine"]["manifold"] = "square"
    with pytest.raises(ConfigError, match="datasets.mine: give either 'manifold'"):
        load_config(raw)
    raw = user_config("p.zarr")
    raw["datasets"]["mine"]["image_size"] = 16
    with pytest.raises(ConfigError, match=r"datasets.mine: image_size apply to synthetic data \('manifold'\) only"):
        load_config(raw)
    raw = user_config("p.zarr")
    raw["runs"]["mine"]["encoder"]["latent_dim"] = 1
    raw["datasets"]["mine"]["dimension"] = 2
    with pytest.raises(ConfigError, match="latent_dim is 1; it must be ≥ 2, the dimension given for dataset 'mine'"):
        load_config(raw)
    cfg = load_config(user_config("p.zarr", "t.zarr"))
    assert of_dataset(cfg.datasets["mine"]).key == "pairs_store" and cfg.datasets["mine"].test_store == "t.zarr"


def test_user_evaluation_measures_a_known_embedding():
    """The stripe's centroid recovers its position: an isometric 1-D embedding, so s ≈ 1 and b ≈ 0."""
    from isoflat_tf.evaluation import evaluate_pairs

    u = (np.arange(SIZE) + 0.5) / SIZE

    def encode(images):
        profile = images[:, 0, :, 0].astype(np.float64)
        centre = (profile @ u) / profile.sum(axis=1)
        return np.stack([(centre - 0.2) / 0.6, np.zeros_like(centre)], axis=-1)

    pairs = user_pairs(300, 3)
    inner = (pairs["x_point"].values[:, 0] > 0.3) & (pairs["x_point"].values[:, 0] < 0.7)  # centroid unbiased there
    result, latent = evaluate_pairs(encode, pairs.isel(pair=np.flatnonzero(inner)), 100, seed=0)
    assert result["n_test_pairs"] == 100 and result["mean_abs_ratio_error"] < 1e-3
    assert result["rms_sqrt_bending"] < 0.1
    assert latent.attrs["colour_labels"][0] == "first coordinate of x_point"
    _, latent = evaluate_pairs(encode, user_pairs(50, 4, with_points=False), 100, seed=0)
    assert latent.sizes["sample"] == 50 and latent["point"].shape == (50, 0)
    assert latent["colour"].values.min() >= 0 and latent["colour"].values.max() <= 1
