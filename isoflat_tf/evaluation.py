"""Evaluate an encoder on held-out points and fresh pairs (DESIGN §6).

The encoder enters as a callable ``encode(images) -> latents`` so that this
module stays free of TensorFlow and serves any embedding method.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import xarray as xr

from isoflat_tf import geometry as geometries
from isoflat_tf import metrics, stores
from isoflat_tf.config import EvaluationConfig
from isoflat_tf.manifolds import Manifold
from isoflat_tf.sampling import pairs_at_distance, pairs_at_radius

Encode = Callable[[np.ndarray], np.ndarray]


def evaluate(
    manifold: Manifold,
    encode: Encode,
    test: xr.Dataset,
    delta: float,
    min_distance_fraction: float,
    config: EvaluationConfig,
    seed: int,
    geometry: str = "intrinsic",
) -> tuple[dict, xr.Dataset]:
    """Metrics on the test store's points and on fresh pairs drawn from them.

    Pairs start at the test points (x) with y drawn by the ``ball`` law at
    scale δ, using a generator seeded by ``seed``, so they never coincide
    with the training pairs. Distances, midpoints and geodesic paths come
    from the oracle of ``geometry`` (the one the encoder was trained with).
    The Procrustes error compares with the intrinsic isometric chart, so it
    is reported for the intrinsic geometry only. Returns (metrics dict, latent dataset).
    """
    rng = np.random.default_rng(seed)
    oracle = geometries.oracle(manifold, geometry)
    points = test["point"].values
    latent = encode(test["image"].values)
    result: dict = {
        "manifold": manifold.name,
        "geometry": geometry,
        "delta": delta,
        "n_test_points": int(points.shape[0]),
    }

    inner = min_distance_fraction * delta
    x, y = pairs_at_radius(
        manifold, rng, _draw(rng, points, config.n_pairs), lambda k: manifold.ball_radius(rng, k, delta, inner)
    )
    d, z = oracle.distance_midpoint(x, y)
    phi = encode(manifold.render(np.concatenate([x, y, z])))
    phi_x, phi_y, phi_z = np.split(phi, 3)
    s = metrics.distortion_ratio(phi_x, phi_y, d)
    result["n_test_pairs"] = int(d.size)
    result.update(metrics.distortion_summary(s))
    result.update(metrics.bending_summary(phi_x, phi_y, phi_z, d))

    t = np.linspace(0.0, 1.0, config.path_points)
    interp = {}
    for k in config.distance_multiples:
        px, py = pairs_at_distance(manifold, rng, _draw(rng, points, config.n_paths), k * delta)
        path = oracle.path(px, py, config.path_points)  # (n, k, point_dim)
        phi_path = encode(manifold.render(path.reshape(-1, path.shape[-1]))).reshape(len(px), len(t), -1)
        err = metrics.interpolation_error(phi_path, t)
        interp[f"{k:g}"] = {
            "distance": float(k * delta),
            "mean": float(err.mean()),
            "p95": float(np.percentile(err, 95)),
        }
    result["interpolation_error"] = interp

    chart = test["chart"].values if "chart" in test else None
    if chart is not None and geometry == "intrinsic":
        result["procrustes_error"] = metrics.procrustes_error(latent, chart, manifold.diameter)
    return result, latent_dataset(manifold, latent, test, encode)


def _draw(rng: np.random.Generator, points: np.ndarray, n: int) -> np.ndarray:
    """n of the test points, without replacement when there are enough."""
    return points[rng.choice(points.shape[0], size=n, replace=points.shape[0] < n)]


def latent_dataset(manifold: Manifold, latent: np.ndarray, test: xr.Dataset, encode: Encode) -> xr.Dataset:
    """The latent store: test latents beside their points, plus mapped grid lines for figures."""
    lines = manifold.grid_lines()
    n_points = lines[0].shape[0]
    grid = encode(manifold.render(np.concatenate(lines))).reshape(len(lines), n_points, -1)
    ds = xr.Dataset(
        {
            "latent": (("sample", "latent_dim"), np.asarray(latent, np.float32)),
            "point": (("sample", "coord"), test["point"].values),
            "colour": (("sample", "colour_coord"), manifold.colour_coordinates(test["point"].values)),
            "grid_line": (("line", "line_point", "latent_dim"), grid.astype(np.float32)),
        },
        attrs=stores.base_attrs(
            manifold=manifold.name, dimension=manifold.dim, colour_labels=list(manifold.colour_labels)
        ),
    )
    if "chart" in test:
        ds["chart"] = test["chart"]
    return ds


# Metrics that need what only a known manifold provides; a user's pairs store has neither.
SKIPPED_FOR_USER_DATA = {
    "interpolation_error": "needs geodesic paths between far points, which only a known manifold provides",
    "procrustes_error": "needs an isometric chart of the test points",
}


def evaluate_pairs(encode: Encode, pairs: xr.Dataset, n_pairs: int, seed: int) -> tuple[dict, xr.Dataset]:
    """Metrics of a user's data: distortion and bending on (at most n_pairs of) the store's pairs.

    The latent store holds the x images' latents, coloured by the first two
    coordinates of ``x_point`` when the store has it, else by the latents'
    own two principal coordinates.
    """
    rng = np.random.default_rng(seed)
    n = pairs.sizes["pair"]
    idx = np.sort(rng.choice(n, size=min(n, n_pairs), replace=False))
    sub = pairs.isel(pair=idx)
    d = sub["distance"].values
    phi = encode(np.concatenate([sub[k].values for k in ("x", "y", "z")]))
    phi_x, phi_y, phi_z = np.split(phi, 3)
    result: dict = {"manifold": None, "geometry": "user", "n_test_pairs": int(d.size)}
    result.update(metrics.distortion_summary(metrics.distortion_ratio(phi_x, phi_y, d)))
    result.update(metrics.bending_summary(phi_x, phi_y, phi_z, d))
    result["skipped"] = SKIPPED_FOR_USER_DATA
    return result, user_latent_dataset(phi_x, sub)


def _unit_range(a: np.ndarray) -> np.ndarray:
    span = a.max(axis=0) - a.min(axis=0)
    return (a - a.min(axis=0)) / np.where(span > 0, span, 1.0)


def user_latent_dataset(latent: np.ndarray, pairs: xr.Dataset) -> xr.Dataset:
    """The latent store for a user's pairs: x latents, their points if given, no grid lines."""
    n, dim = latent.shape
    if "x_point" in pairs:
        point = pairs["x_point"].values.astype(np.float64)
        labels = ["first coordinate of x_point", "second coordinate of x_point"]
        colour = _unit_range(point[:, :2] if point.shape[1] >= 2 else np.repeat(point[:, :1], 2, axis=1))
    else:
        point = np.zeros((n, 0))
        centred = latent - latent.mean(axis=0)
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        coords = centred @ vt[: min(2, dim)].T
        colour = _unit_range(coords if coords.shape[1] == 2 else np.repeat(coords, 2, axis=1))
        labels = ["first principal latent coordinate", "second principal latent coordinate"]
    return xr.Dataset(
        {
            "latent": (("sample", "latent_dim"), np.asarray(latent, np.float32)),
            "point": (("sample", "coord"), point),
            "colour": (("sample", "colour_coord"), colour),
            "grid_line": (("line", "line_point", "latent_dim"), np.zeros((0, 1, dim), np.float32)),
        },
        attrs=stores.base_attrs(manifold="user data", dimension="unknown", colour_labels=labels),
    )
