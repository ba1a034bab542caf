"""Zarr stores: the data contracts between stages (docs/design.md §6).

Writers build an ``xarray.Dataset``, write it to a temporary sibling path and
rename it into place, so a killed job never leaves a store that looks
complete. Readers open a store and check it against its contract, failing
with a ``StoreError`` that names the store and the offending variable.
"""

from __future__ import annotations

import dataclasses
import os
import warnings
from pathlib import Path

import numpy as np
import xarray as xr

import isoflat_tf
from isoflat_tf.files import atomic_path

FLOAT = np.dtype("float32")
DOUBLE = np.dtype("float64")

# Fewer pairs than this cannot be split into training and validation pairs and
# evaluated meaningfully (a single pair always scores a scale-free error of 0).
MIN_PAIRS = 10
# isoflat's own images lie in [0, 1]; pixels far outside order 1 (e.g. 0–255, or
# 1e6) make the first steps' gradients overflow. The user scales them instead.
MAX_ABS_PIXEL = 10.0
# Optional point variables of a pairs store: numeric (pair, coord) arrays.
POINT_VARIABLES = ("x_point", "y_point", "z_point")


class StoreError(ValueError):
    """A store is missing, unreadable or breaks its contract."""


@dataclasses.dataclass(frozen=True)
class Variable:
    """A required variable: its dimensions and the dtype kind it must have."""

    dims: tuple[str, ...]
    dtype: np.dtype


@dataclasses.dataclass(frozen=True)
class Contract:
    """What a store of one kind must contain."""

    kind: str
    variables: dict[str, Variable]
    attrs: tuple[str, ...]


IMAGE_DIMS = ("height", "width", "channel")

DATASET = Contract(
    kind="dataset",
    variables={
        "image": Variable(("sample", *IMAGE_DIMS), FLOAT),
        "point": Variable(("sample", "coord"), DOUBLE),
    },
    attrs=("manifold", "dimension", "geometry", "settings", "seed", "isoflat_version"),
)

PAIRS = Contract(
    kind="pairs",
    variables={
        "x": Variable(("pair", *IMAGE_DIMS), FLOAT),
        "y": Variable(("pair", *IMAGE_DIMS), FLOAT),
        "z": Variable(("pair", *IMAGE_DIMS), FLOAT),
        "distance": Variable(("pair",), DOUBLE),
    },
    attrs=("manifold", "dimension", "geometry", "strategy", "delta", "seed", "isoflat_version"),
)

LATENT = Contract(
    kind="latent",
    variables={
        "latent": Variable(("sample", "latent_dim"), FLOAT),
        "point": Variable(("sample", "coord"), DOUBLE),
    },
    attrs=("manifold", "dimension", "isoflat_version"),
)

# Samples for the data geometry: images alone; a dataset store qualifies, and
# so does the split of a user's samples store.
SAMPLES = Contract(kind="samples", variables={"image": DATASET.variables["image"]}, attrs=())

# A user's samples store holds one of these (``check_samples_structure``).
SAMPLE_VARIABLES = {"image": ("sample", *IMAGE_DIMS), "features": ("sample", "feature")}

# A user's own pairs (or test pairs) store: the pairs variables, no attributes required.
USER_PAIRS = Contract(kind="pairs", variables=PAIRS.variables, attrs=())

CONTRACTS = {c.kind: c for c in (DATASET, PAIRS, LATENT)}


def base_attrs(**attrs) -> dict:
    """Store attributes with the package version added; nested dicts kept JSON-able."""
    return {**attrs, "isoflat_version": isoflat_tf.__version__}


def write_store(ds: xr.Dataset, path: str | os.PathLike, contract: Contract) -> Path:
    """Check ``ds`` against ``contract`` and write it atomically to ``path``.

    The store is written beside ``path`` and renamed into place
    (``files.atomic_path``); an existing store at ``path`` is replaced only
    after the new one is complete.
    """
    path = Path(path)
    check_dataset(ds, contract, str(path))
    with atomic_path(path) as tmp:
        ds.to_zarr(tmp, mode="w", consolidated=False, zarr_format=3)
    return path


def open_store(path: str | os.PathLike, contract: Contract, load: bool = True) -> xr.Dataset:
    """Open the store at ``path`` and check it against ``contract``.

    Raises:
      StoreError: naming the store and what is missing or wrong.
    """
    path = Path(path)
    if not path.exists():
        raise StoreError(f"{contract.kind} store {path} does not exist")
    try:
        with warnings.catch_warnings():
            # Snakemake marks directory outputs with a '.snakemake_timestamp' file.
            warnings.filterwarnings("ignore", message=".*snakemake_timestamp.*")
            ds = xr.open_zarr(path, consolidated=False)
    except Exception as err:  # zarr raises many types for corrupt stores
        raise StoreError(f"{contract.kind} store {path} cannot be opened as Zarr: {err}") from err
    check_dataset(ds, contract, str(path))
    if load:
        try:
            ds = ds.load()
        except Exception as err:
            raise StoreError(f"{contract.kind} store {path}: data cannot be read: {err}") from err
    return ds


def check_dataset(ds: xr.Dataset, contract: Contract, name: str) -> None:
    """Raise ``StoreError`` if ``ds`` breaks ``contract``; ``name`` names the store."""
    problems = []
    for var, spec in contract.variables.items():
        if var not in ds.variables:
            problems.append(f"missing variable {var!r} (expected dims {spec.dims}, dtype {spec.dtype})")
            continue
        have = ds[var]
        if have.dims != spec.dims:
            problems.append(f"variable {var!r} has dims {have.dims}, expected {spec.dims}")
        if have.dtype != spec.dtype:
            problems.append(f"variable {var!r} has dtype {have.dtype}, expected {spec.dtype}")
    for attr in contract.attrs:
        if attr not in ds.attrs:
            problems.append(f"missing attribute {attr!r}")
    if problems:
        raise StoreError(f"{contract.kind} store {name}: " + "; ".join(problems))


def _chunked(ds: xr.Dataset, dim: str, chunk: int = 1024) -> xr.Dataset:
    """Set Zarr chunking along the sample/pair dimension for every variable that has it."""
    for var in ds.variables.values():
        if dim in var.dims:
            var.encoding["chunks"] = tuple(
                min(chunk, s) if d == dim else s for d, s in zip(var.dims, var.shape, strict=True)
            )
    return ds


def dataset_from_arrays(images: np.ndarray, points: np.ndarray, chart: np.ndarray | None, attrs: dict) -> xr.Dataset:
    """A dataset store: images and manifold points (and the isometric chart where known)."""
    data = {
        "image": (("sample", *IMAGE_DIMS), np.asarray(images, FLOAT)),
        "point": (("sample", "coord"), np.asarray(points, DOUBLE)),
    }
    if chart is not None:
        data["chart"] = (("sample", "chart_dim"), np.asarray(chart, DOUBLE))
    return _chunked(xr.Dataset(data, attrs=base_attrs(**attrs)), "sample")


def pairs_from_arrays(
    x: np.ndarray, y: np.ndarray, z: np.ndarray, distance: np.ndarray, points: dict[str, np.ndarray], attrs: dict
) -> xr.Dataset:
    """A pairs store: x, y, z images, distances and (optionally) the three points."""
    data = {k: (("pair", *IMAGE_DIMS), np.asarray(v, FLOAT)) for k, v in (("x", x), ("y", y), ("z", z))}
    data["distance"] = (("pair",), np.asarray(distance, DOUBLE))
    for k, v in points.items():
        data[f"{k}_point"] = (("pair", "coord"), np.asarray(v, DOUBLE))
    return _chunked(xr.Dataset(data, attrs=base_attrs(**attrs)), "pair")


def check_pairs_values(ds: xr.Dataset, name: str) -> None:
    """Value checks for a pairs store (e.g. a user's): distances > 0 and everything finite.

    Image shapes of x, y and z agree by the contract, which gives them the same dims.
    """
    problems = []
    d = ds["distance"].values
    if not np.all(np.isfinite(d)):
        problems.append(f"variable 'distance' has {int(np.sum(~np.isfinite(d)))} non-finite values")
    elif np.any(d <= 0):
        problems.append(f"variable 'distance' has {int(np.sum(d <= 0))} non-positive values (min {d.min():g})")
    for k in ("x", "y", "z"):
        problems += check_image_values(ds[k].values, name, k)
    if not problems:
        same = identical_images(ds["x"].values, ds["y"].values)
        if same:
            problems.append(
                f"variables 'x' and 'y' hold identical images in {same} of {d.size} pairs although their "
                "distance is > 0: no encoder can tell these points apart (constant or degenerate images?)"
            )
    if problems:
        raise StoreError(f"pairs store {name}: " + "; ".join(problems))


def identical_images(a: np.ndarray, b: np.ndarray, chunk: int = 4096) -> int:
    """How many pairs have identical images in ``a`` and ``b`` (compared in chunks to bound memory)."""
    return int(
        sum(np.sum(np.all(a[i : i + chunk] == b[i : i + chunk], axis=(1, 2, 3))) for i in range(0, len(a), chunk))
    )


def check_pairs_structure(path: str | os.PathLike) -> tuple[int, ...]:
    """Check a pairs store's arrays from their metadata alone (fast: no data read).

    Catches what xarray would report vaguely or not at all for a store written
    by other tools: a missing variable, a wrong dtype or number of axes, and
    image shapes of x, y and z or pair counts that disagree, fewer than
    ``MIN_PAIRS`` pairs, and point variables that are not numeric. Raises
    ``StoreError`` naming the store and the variable; returns the image shape.
    """
    path = Path(path)
    arrays = _zarr_arrays(path, "pairs")
    problems = []
    for var, spec in PAIRS.variables.items():
        if var not in arrays:
            problems.append(f"missing variable {var!r} (expected dims {spec.dims}, dtype {spec.dtype})")
            continue
        a = arrays[var]
        if a.dtype != spec.dtype:
            problems.append(f"variable {var!r} has dtype {a.dtype}, expected {spec.dtype}")
        if len(a.shape) != len(spec.dims):
            problems.append(f"variable {var!r} has shape {a.shape}, expected dims {spec.dims}")
    images = {k: arrays[k].shape for k in ("x", "y", "z") if k in arrays and len(arrays[k].shape) == 4}
    for k, shape in images.items():
        first = next(iter(images))
        if shape[1:] != images[first][1:]:
            problems.append(f"variable {k!r} has image shape {shape[1:]}, but {first!r} has {images[first][1:]}")
    counts = {k: arrays[k].shape[0] for k in PAIRS.variables if k in arrays and len(arrays[k].shape) >= 1}
    if len(set(counts.values())) > 1:
        problems.append(
            "variables disagree on the number of pairs: " + ", ".join(f"{k}: {n}" for k, n in counts.items())
        )
    elif counts and min(counts.values()) < MIN_PAIRS:
        problems.append(f"it has {min(counts.values())} pairs; at least {MIN_PAIRS} are needed")
    for var in POINT_VARIABLES:
        if var in arrays and (arrays[var].dtype.kind not in "fiu" or len(arrays[var].shape) != 2):
            problems.append(
                f"variable {var!r} has dtype {arrays[var].dtype} and shape {arrays[var].shape}; "
                "expected numbers with dims ('pair', 'coord')"
            )
    if problems:
        raise StoreError(f"pairs store {path}: " + "; ".join(problems))
    return tuple(images["x"][1:])


def check_user_stores(pairs_store: str | os.PathLike, test_store: str | os.PathLike | None) -> None:
    """Check a user's training and test pairs stores from metadata, and that their images agree in shape."""
    shape = check_pairs_structure(pairs_store)
    if test_store is not None:
        test_shape = check_pairs_structure(test_store)
        if test_shape != shape:
            raise StoreError(
                f"pairs store {test_store}: images have shape {test_shape}, but the training pairs store "
                f"{pairs_store} has {shape}: the encoder takes one image shape"
            )


def _zarr_arrays(path: Path, kind: str) -> dict:
    """The arrays of a Zarr group, from metadata only; ``StoreError`` if it is missing or unreadable."""
    import zarr

    if not path.exists():
        raise StoreError(f"{kind} store {path} does not exist")
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*snakemake_timestamp.*")
            group = zarr.open_group(str(path), mode="r")
            return {name: group[name] for name in group.array_keys()}
    except Exception as err:  # zarr raises many types for corrupt stores
        raise StoreError(f"{kind} store {path} cannot be opened as Zarr: {err}") from err


def check_samples_structure(path: str | os.PathLike, min_samples: int = MIN_PAIRS) -> tuple[int, ...]:
    """Check a user's samples store from its metadata alone; returns the shape of one sample.

    It needs either ``image`` (sample, height, width, channel) or ``features``
    (sample, feature), of a float dtype, and at least ``min_samples`` samples;
    ``point`` (sample, coord), if present, must be numeric with one row per sample.
    """
    path = Path(path)
    arrays = _zarr_arrays(path, "samples")
    problems = []
    present = [name for name in SAMPLE_VARIABLES if name in arrays]
    if len(present) != 1:
        problems.append(
            "it must hold exactly one of 'image' (dims ('sample', 'height', 'width', 'channel')) and 'features' "
            f"(dims ('sample', 'feature')); it has {', '.join(repr(p) for p in present) or 'neither'}"
        )
        raise StoreError(f"samples store {path}: " + "; ".join(problems))
    name = present[0]
    data, dims = arrays[name], SAMPLE_VARIABLES[name]
    if data.dtype.kind != "f" or len(data.shape) != len(dims):
        hint = (
            "; scale integer values to order one first, e.g. divide 8-bit images by 255"
            if data.dtype.kind in "iu"
            else ""
        )
        problems.append(
            f"variable {name!r} has dtype {data.dtype} and shape {data.shape}; expected floats with dims {dims}{hint}"
        )
    elif data.shape[0] < min_samples:
        problems.append(f"it has {data.shape[0]} samples; at least {min_samples} are needed")
    point = arrays.get("point")
    if point is not None and (point.dtype.kind not in "fiu" or len(point.shape) != 2):
        problems.append(
            f"variable 'point' has dtype {point.dtype} and shape {point.shape}; "
            "expected numbers with dims ('sample', 'coord')"
        )
    elif point is not None and point.shape[0] != data.shape[0]:
        problems.append(f"variable 'point' has {point.shape[0]} rows, but {name!r} has {data.shape[0]} samples")
    if problems:
        raise StoreError(f"samples store {path}: " + "; ".join(problems))
    return tuple(data.shape[1:])


def samples_as_images(ds: xr.Dataset) -> np.ndarray:
    """The samples of a user's samples store as float32 images: feature vectors become 1 × 1 images
    with one channel per feature (the encoder then has no convolutions, ``isoflat_tf.encoder``)."""
    if "features" in ds:
        return ds["features"].values.astype(np.float32)[:, None, None, :]
    return ds["image"].values.astype(np.float32)


def check_image_values(images: np.ndarray, name: str, variable: str = "image") -> list[str]:
    """Problems with pixel values: NaN or infinite pixels, or pixels far outside order 1."""
    bad = int(np.sum(~np.isfinite(images)))
    if bad:
        return [f"variable {variable!r} has {bad} NaN or infinite pixels"]
    if images.size and np.abs(images).max() > MAX_ABS_PIXEL:
        return [
            f"variable {variable!r} has pixels up to {np.abs(images).max():g}; isoflat expects pixel values of order 1 "
            f"(|pixel| ≤ {MAX_ABS_PIXEL:g}; its own images lie in [0, 1]): scale the images, e.g. divide "
            "8-bit images by 255"
        ]
    return []


def open_pairs(path: str | os.PathLike, contract: Contract = USER_PAIRS) -> xr.Dataset:
    """Open a pairs store for training or evaluation, checking structure, contract and values."""
    check_pairs_structure(path)
    ds = open_store(path, contract)
    check_pairs_values(ds, str(path))
    return ds
