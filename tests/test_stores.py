"""Store round trips, atomic writes and contract errors that name the store and variable."""

import numpy as np
import pytest

from isoflat_tf import stores


def small_dataset(n=5):
    rng = np.random.default_rng(0)
    return stores.dataset_from_arrays(
        rng.uniform(size=(n, 8, 8, 1)),
        rng.uniform(size=(n, 2)),
        rng.uniform(size=(n, 2)),
        {"manifold": "square", "dimension": 2, "geometry": "intrinsic", "settings": "{}", "seed": 1},
    )


def small_pairs(n=6, **overrides):
    rng = np.random.default_rng(1)
    arrays = {k: rng.uniform(size=(n, 8, 8, 1)).astype(np.float32) for k in ("x", "y", "z")}
    arrays["distance"] = rng.uniform(0.01, 0.05, size=n)
    arrays.update(overrides)
    attrs = {
        "manifold": "square",
        "dimension": 2,
        "geometry": "intrinsic",
        "strategy": "ball",
        "delta": 0.05,
        "seed": 1,
    }
    return stores.pairs_from_arrays(arrays["x"], arrays["y"], arrays["z"], arrays["distance"], {}, attrs)


def test_round_trip_keeps_values_and_attrs(tmp_path):
    ds = small_dataset()
    path = stores.write_store(ds, tmp_path / "train.zarr", stores.DATASET)
    back = stores.open_store(path, stores.DATASET)
    np.testing.assert_array_equal(back["image"].values, ds["image"].values)
    np.testing.assert_array_equal(back["chart"].values, ds["chart"].values)
    assert back.attrs["manifold"] == "square" and back.attrs["isoflat_version"]
    assert [p.name for p in tmp_path.iterdir()] == ["train.zarr"]  # no temporary left behind


def test_contract_violation_is_not_written(tmp_path):
    bad = small_dataset().drop_vars("point")
    with pytest.raises(stores.StoreError, match=r"bad.zarr.*missing variable 'point'"):
        stores.write_store(bad, tmp_path / "bad.zarr", stores.DATASET)
    assert list(tmp_path.iterdir()) == []


def test_rewrite_replaces_a_complete_store(tmp_path):
    path = tmp_path / "s.zarr"
    stores.write_store(small_dataset(n=5), path, stores.DATASET)
    stores.write_store(small_dataset(n=7), path, stores.DATASET)
    assert stores.open_store(path, stores.DATASET).sizes["sample"] == 7
    assert [p.name for p in tmp_path.iterdir()] == ["s.zarr"]


def test_reader_names_store_and_wrong_variable(tmp_path):
    path = tmp_path / "wrong.zarr"
    ds = small_dataset()
    ds["image"] = ds["image"].astype(np.float64)
    ds.to_zarr(path, consolidated=False)
    with pytest.raises(stores.StoreError, match=r"wrong.zarr.*'image' has dtype float64, expected float32"):
        stores.open_store(path, stores.DATASET)
    path2 = tmp_path / "noattr.zarr"
    ds = small_dataset()
    del ds.attrs["seed"]
    ds.to_zarr(path2, consolidated=False)
    with pytest.raises(stores.StoreError, match=r"noattr.zarr.*missing attribute 'seed'"):
        stores.open_store(path2, stores.DATASET)


def test_missing_and_corrupt_stores(tmp_path):
    with pytest.raises(stores.StoreError, match="nothere.zarr does not exist"):
        stores.open_store(tmp_path / "nothere.zarr", stores.PAIRS)
    corrupt = tmp_path / "corrupt.zarr"
    corrupt.mkdir()
    (corrupt / "zarr.json").write_text("{ not json")
    with pytest.raises(stores.StoreError, match="corrupt.zarr"):
        stores.open_store(corrupt, stores.PAIRS)


def test_chunk_deleted_is_reported(tmp_path):
    path = stores.write_store(small_dataset(), tmp_path / "c.zarr", stores.DATASET)
    for chunk in (path / "image" / "c").rglob("*"):
        if chunk.is_file():
            chunk.write_bytes(b"garbage")
    with pytest.raises(stores.StoreError, match=r"c.zarr: data cannot be read"):
        stores.open_store(path, stores.DATASET)


def test_pairs_value_checks_name_the_problem():
    ok = small_pairs()
    stores.check_pairs_values(ok, "ok.zarr")
    with pytest.raises(stores.StoreError, match=r"p.zarr.*'distance' has 1 non-positive"):
        stores.check_pairs_values(small_pairs(distance=np.array([0.01, 0.0, 0.02, 0.03, 0.01, 0.02])), "p.zarr")
    with pytest.raises(stores.StoreError, match=r"'distance' has 1 non-finite"):
        stores.check_pairs_values(small_pairs(distance=np.array([0.01, np.nan, 0.02, 0.03, 0.01, 0.02])), "p.zarr")
    nan_x = np.zeros((6, 8, 8, 1), np.float32)
    nan_x[2, 3, 3, 0] = np.nan
    with pytest.raises(stores.StoreError, match=r"'x' has 1 NaN"):
        stores.check_pairs_values(small_pairs(x=nan_x), "p.zarr")


def test_pairs_with_mismatched_image_shapes_are_reported(tmp_path):
    ds = small_pairs().drop_vars("z")
    ds["z"] = (("pair", "height_z", "width", "channel"), np.zeros((6, 9, 8, 1), np.float32))
    path = tmp_path / "shapes.zarr"
    ds.to_zarr(path, consolidated=False)
    with pytest.raises(stores.StoreError, match=r"shapes.zarr.*variable 'z' has dims"):
        stores.open_store(path, stores.PAIRS)
