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
