"""Users' own samples, no oracle: a samples store written with plain xarray trains, evaluates and plots
through the real workflow (pairs from the data geometry); each bad input gets its message."""

import json

import numpy as np
import pytest
import xarray as xr
import yaml

from isoflat_tf import stores
from isoflat_tf.config import DatasetConfig
from isoflat_tf.config_loader import ConfigError, load_config
from isoflat_tf.neighbour_graph import SamplesError
from isoflat_tf.stages.sample_pairs import estimate_pairs
from isoflat_tf.stages.split_samples import split_samples

from .conftest import planned_jobs, run_snakemake
from .test_user_data import stripe

IMAGE = ("sample", "height", "width", "channel")


def user_samples(n: int, seed: int = 0, with_points: bool = True, **override) -> xr.Dataset:
    """Samples of the stripe family at random positions, as plain xarray (no isoflat helpers)."""
    mu = np.sort(np.random.default_rng(seed).uniform(0.05, 0.95, n))
    arrays = {"image": (IMAGE, stripe(mu))}
    if with_points:
        arrays["point"] = (("sample", "coord"), mu[:, None])
    arrays.update(override)
    return xr.Dataset(arrays)


def write(ds: xr.Dataset, path) -> str:
    ds.to_zarr(path, mode="w", consolidated=False)
    return str(path)


def samples_config(store: str, **dataset) -> dict:
    return {
        "datasets": {"mine": {"samples_store": store, **dataset}},
        "runs": {
            "mine": {
                "dataset": "mine",
                "pairs": {"n_pairs": 300, "candidates": 48},
                "encoder": {"latent_dim": 2, "conv_filters": [8, 8], "dense_units": [16]},
                "training": {"epochs": 2, "batch_size": 64, "starts": 1, "tensorboard": False},
            }
        },
        "evaluation": {"n_pairs": 60, "neighbourhood_points": 60},
        "baselines": {"methods": ["pca"]},
        "resources": {"threads": 1},
    }


def config_file(tmp_path, raw: dict, name: str = "samples.yaml") -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(raw))
    return str(path)


@pytest.mark.slow
def test_samples_train_evaluate_and_plot_through_the_workflow(tmp_path):
    store = write(user_samples(500), tmp_path / "my_samples.zarr")
    config = config_file(tmp_path, samples_config(store))
    work = tmp_path / "work"
    proc = run_snakemake(work, "-n", "--cores", "1", "--configfile", config)
    # Split, pairs from the data geometry, a baseline and the comparison; no decoder, no Γ-limit.
    assert planned_jobs(proc.stdout) == {
        "split_samples": 1,
        "sample_pairs": 1,
        "train": 1,
        "evaluate": 1,
        "figures": 1,
        "baseline": 1,
        "comparison_figures": 1,
        "summary": 1,
        "all": 1,
    }
    run_snakemake(work, "--cores", "1", "--configfile", config)
    metrics = json.loads((work / "results/runs/mine/metrics.json").read_text())
    assert metrics["evaluated_on"] == "test samples" and metrics["n_test_samples"] == 100
    assert metrics["geometry"] == "data" and metrics["neighbourhoods_against"] == "point"
    assert np.isfinite(metrics["scale_free_mean_abs_ratio_error"]) and 0 < metrics["trustworthiness"] <= 1
    pairs = xr.open_zarr(next((work / "results/pairs/mine").glob("data-*.zarr")), consolidated=False)
    assert pairs.attrs["geometry"] == "data" and pairs.sizes["pair"] > 0
    # Midpoints are samples: every z image is one of the training samples.
    train = stores.open_store(work / "results/samples/mine/train.zarr", stores.SAMPLES)
    flat = train["image"].values.reshape(train.sizes["sample"], -1)
    z = pairs["z"].values[:20].reshape(20, -1)
    assert all(np.any(np.all(flat == row, axis=1)) for row in z)
    baseline = json.loads((work / "results/baselines/mine/pca/seed0/metrics.json").read_text())
    assert baseline["evaluated_on"] == "test samples" and baseline["n_test_pairs"] == metrics["n_test_pairs"]
    for fig in ("embedding", "training", "interpolation", "comparison_bars", "comparison_embeddings"):
        assert (work / f"results/figures/mine/{fig}.png").stat().st_size > 5_000
    # Editing the store in place reruns the split and what follows.
    edited = user_samples(500)
    edited["image"][:] = edited["image"].values[::-1]
    edited.to_zarr(store, mode="r+", consolidated=False)
    proc = run_snakemake(work, "-n", "--cores", "1", "--configfile", config)
    assert planned_jobs(proc.stdout).get("split_samples") == 1


def test_split_keeps_every_sample_once_and_is_deterministic(tmp_path):
    store = write(user_samples(50), tmp_path / "s.zarr")
    dataset = DatasetConfig(name="mine", samples_store=store, test_fraction=0.2)
    for name in ("a", "b"):
        split_samples(
            dataset=dataset, seed=3, store=store, train=tmp_path / f"{name}-train", test=tmp_path / f"{name}-test"
        )
    train_a, test_a = (xr.open_zarr(tmp_path / f"a-{s}", consolidated=False) for s in ("train", "test"))
    train_b = xr.open_zarr(tmp_path / "b-train", consolidated=False)
    assert test_a.sizes["sample"] == 10 and train_a.sizes["sample"] == 40
    rows = np.r_[train_a["source_index"].values, test_a["source_index"].values]
    assert sorted(rows) == list(range(50))
    np.testing.assert_array_equal(train_a["image"].values, train_b["image"].values)
    np.testing.assert_array_equal(
        train_a["point"].values[:, 0], user_samples(50)["point"].values[train_a["source_index"], 0]
    )


def bad_samples(tmp_path):
    """(name, store, message pattern) for samples stores whose structure is wrong: caught at start-up."""
    n = 40
    cases = [
        ("missing", user_samples(n).rename({"image": "images"}), r"exactly one of 'image' .* and 'features' .*neither"),
        (
            "uint8",
            user_samples(n, image=(IMAGE, (255 * stripe(np.linspace(0, 1, n))).astype(np.uint8))),
            r"variable 'image' has dtype uint8 .*divide 8-bit images by 255",
        ),
        ("few", user_samples(5), r"it has 5 samples; at least 10 are needed"),
        (
            "point_rows",
            user_samples(n, point=(("row", "coord"), np.zeros((n - 1, 1)))),
            r"variable 'point' has 39 rows, but 'image' has 40 samples",
        ),
        (
            "point_strings",
            user_samples(n, point=(("sample", "coord"), np.full((n, 1), "a"))),
            r"variable 'point' has dtype <U1",
        ),
    ]
    return [(name, write(ds, tmp_path / f"{name}.zarr"), pattern) for name, ds, pattern in cases]


def test_each_bad_samples_store_is_named_with_its_variable(tmp_path):
    for name, path, pattern in bad_samples(tmp_path):
        with pytest.raises(stores.StoreError, match=rf"samples store .*{name}\.zarr: .*{pattern}"):
            stores.check_samples_structure(path)


def test_bad_samples_store_stops_the_workflow_at_start_up(tmp_path):
    _, path, _ = bad_samples(tmp_path)[1]
    proc = run_snakemake(tmp_path / "w", "-n", "--configfile", config_file(tmp_path, samples_config(path)), check=False)
    assert proc.returncode != 0 and "uint8.zarr" in proc.stderr and "divide 8-bit images by 255" in proc.stderr


def test_bad_sample_values_are_named(tmp_path):
    images = stripe(np.linspace(0.05, 0.95, 40))
    images[7, 1, 1, 0] = np.nan
    store = write(user_samples(40, image=(IMAGE, images)), tmp_path / "nan.zarr")
    dataset = DatasetConfig(name="mine", samples_store=store)
    with pytest.raises(stores.StoreError, match=r"samples store .*nan\.zarr: variable 'image' has 1 NaN"):
        split_samples(dataset=dataset, seed=0, store=store, train=tmp_path / "t", test=tmp_path / "v")
    assert not (tmp_path / "t").exists() and not (tmp_path / "v").exists()


def estimate_from(tmp_path, ds: xr.Dataset, **dataset):
    from isoflat_tf.config import PairsConfig

    samples = write(ds, tmp_path / "train.zarr")
    estimate_pairs(
        dataset=DatasetConfig(name="mine", samples_store="unused", **dataset),
        pairs=PairsConfig(geometry="data", n_pairs=50, candidates=24),
        seed=0,
        store=tmp_path / "pairs.zarr",
        samples=samples,
    )
    return xr.open_zarr(tmp_path / "pairs.zarr", consolidated=False)


def test_duplicates_and_components_are_named_and_the_largest_can_be_embedded(tmp_path):
    images = stripe(np.linspace(0.05, 0.95, 60))
    images[30] = images[10]
    with pytest.raises(SamplesError, match=r"2 of 60 samples coincide with another sample .*samples 10 and 30"):
        estimate_from(tmp_path, user_samples(60, image=(IMAGE, images)))
    # Two stripe families far apart: the graph falls apart into 60 + 40 samples.
    apart = np.concatenate([stripe(np.linspace(0.05, 0.95, 60)), 5.0 + stripe(np.linspace(0.05, 0.95, 40))])
    ds = xr.Dataset({"image": (IMAGE, apart)})
    with pytest.raises(SamplesError, match=r"has 2 components of 60, 40 samples.*largest_component: true"):
        estimate_from(tmp_path, ds)
    pairs = estimate_from(tmp_path, ds, largest_component=True)
    assert pairs.sizes["pair"] > 0 and float(pairs["x"].max()) <= 1.0  # only the first family


def test_samples_datasets_train_on_the_data_geometry_only():
    raw = samples_config("s.zarr")
    experiment = load_config(raw)
    assert experiment.runs["mine"].pairs.geometry == "data"  # the default for samples
    raw["runs"]["mine"]["pairs"]["geometry"] = "intrinsic"
    with pytest.raises(ConfigError, match=r"runs.mine.pairs.geometry is 'intrinsic', but dataset 'mine' has samples"):
        load_config(raw)
    raw = samples_config("s.zarr", n_train=10)
    with pytest.raises(ConfigError, match=r"n_train apply to synthetic data \('manifold'\) only"):
        load_config(raw)


def test_feature_vectors_travel_as_one_by_one_images_to_a_dense_encoder(tmp_path):
    import keras

    from isoflat_tf.config import EncoderConfig
    from isoflat_tf.encoder import build_encoder

    angle = np.linspace(0, 2 * np.pi, 60, endpoint=False)
    features = np.c_[np.cos(angle), np.sin(angle), np.zeros((60, 3))] @ np.random.default_rng(0).normal(size=(5, 5))
    store = write(xr.Dataset({"features": (("sample", "feature"), features)}), tmp_path / "f.zarr")
    assert stores.check_samples_structure(store) == (5,)
    dataset = DatasetConfig(name="mine", samples_store=store)
    split_samples(dataset=dataset, seed=0, store=store, train=tmp_path / "t", test=tmp_path / "v")
    train = stores.open_store(tmp_path / "t", stores.SAMPLES)
    assert train["image"].shape == (48, 1, 1, 5)
    encoder = build_encoder(train["image"].shape[1:], EncoderConfig(latent_dim=2, dense_units=(8,)))
    assert not any(isinstance(layer, keras.layers.Conv2D) for layer in encoder.layers)
    assert encoder(train["image"].values).shape == (48, 2)
