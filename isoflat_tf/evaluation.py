"""Evaluate an encoder on held-out points and fresh pairs (docs/design.md §7).

The encoder enters as a callable ``encode(images) -> latents`` so that this
module stays free of TensorFlow and serves any embedding method.

Metrics are registered (``@register_metric``) with the columns they give:
the summary, the figures and the sweep summaries read their columns from
``METRICS``. To add one, register ``compute(subject) -> dict`` here; it runs
after the registered ones, so their draws from the shared generator stay as they were.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import xarray as xr

from isoflat_tf import geometry as geometries
from isoflat_tf import metrics, stores
from isoflat_tf.config import EvaluationConfig
from isoflat_tf.manifolds import Manifold
from isoflat_tf.neighbour_graph import DataPairs
from isoflat_tf.registry import Registry
from isoflat_tf.sampling import pairs_at_distance, pairs_at_radius

Encode = Callable[[np.ndarray], np.ndarray]  # images -> latents
Decode = Callable[[np.ndarray], np.ndarray]  # latents -> images


@dataclasses.dataclass(frozen=True)
class Column:
    """A column of the summaries, read from a metric's output (flattened as in ``summary.flatten_metrics``).

    Attributes:
      name: the column.
      headline: shown in ``summary.csv`` and ``summary.md``.
      bars: its title in the comparison bars figure, if drawn there.
      sweep: its axis label in the sweep figure, if drawn there.
      log_scale: drawn on a log axis in the bars figure.
    """

    name: str
    headline: bool = True
    bars: str | None = None
    sweep: str | None = None
    log_scale: bool = True


@dataclasses.dataclass
class Subject:
    """What the metrics of one evaluation share: the embedding, the test data and the generator.

    The generator is shared and the metrics run in registration order, so
    each sees the same draws whatever it computes. ``paths`` are drawn on first use.
    """

    manifold: Manifold
    oracle: object
    encode: Encode
    decode: Decode | None
    test: xr.Dataset
    latent: np.ndarray
    delta: float
    min_distance_fraction: float
    config: EvaluationConfig
    rng: np.random.Generator
    geometry: str
    _paths: dict | None = None

    @property
    def points(self) -> np.ndarray:
        return self.test["point"].values

    @property
    def paths(self) -> dict[float, np.ndarray]:
        """Geodesic paths of length k δ for each multiple k of the evaluation."""
        if self._paths is None:
            self._paths = {
                k: geodesic_paths(self.manifold, self.oracle, self.rng, self.points, k * self.delta, self.config)
                for k in self.config.distance_multiples
            }
        return self._paths


@dataclasses.dataclass(frozen=True)
class Metric:
    """A registered metric: ``compute(subject) -> dict`` (empty where it does not apply) and its columns.

    Attributes:
      per_multiple: keys of its output given per multiple k of δ as ``{k: {"mean": …}}``.
    """

    compute: Callable[[Subject], dict]
    columns: tuple[Column, ...]
    per_multiple: tuple[str, ...] = ()


METRICS: Registry[Metric] = Registry("metric")


def register_metric(name: str, columns: tuple[Column, ...], per_multiple: tuple[str, ...] = ()):
    """Decorator registering ``compute(subject) -> dict`` as the metric ``name``, computed after those before it."""
    return lambda compute: METRICS.add(name, Metric(compute, columns, per_multiple)).compute


def columns() -> list[Column]:
    """Every registered column, in registration order."""
    return [c for metric in METRICS.entries() for c in metric.columns]


def evaluate_embedding(
    manifold: Manifold,
    encode: Encode,
    test: xr.Dataset,
    delta: float,
    min_distance_fraction: float,
    config: EvaluationConfig,
    seed: int,
    decode: Decode | None = None,
    geometry: str = "intrinsic",
) -> tuple[dict, xr.Dataset]:
    """The registered metrics on the test store's points and on fresh pairs drawn from them.

    Pairs start at the test points (x) with y drawn by the ``ball`` law at
    scale δ, using a generator seeded by ``seed``, so they never coincide
    with the training pairs; every method evaluated with the same seed sees
    the same pairs. Distances, midpoints and geodesic paths come from the
    oracle of ``geometry`` (the one the encoder was trained with); the
    Procrustes error compares with the intrinsic isometric chart, so it is
    reported for the intrinsic geometry only. With a ``decode``, reconstruction
    and decoded-interpolation errors are added. Returns (metrics dict, latent dataset).
    """
    subject = Subject(
        manifold=manifold,
        oracle=geometries.oracle(manifold, geometry),
        encode=encode,
        decode=decode,
        test=test,
        latent=encode(test["image"].values),
        delta=delta,
        min_distance_fraction=min_distance_fraction,
        config=config,
        rng=np.random.default_rng(seed),
        geometry=geometry,
    )
    result: dict = {
        "manifold": manifold.name,
        "geometry": geometry,
        "delta": delta,
        "n_test_points": int(subject.points.shape[0]),
    }
    for metric in METRICS.entries():
        result.update(metric.compute(subject))
    strips = None
    if decode is not None:
        strips = decoded_strips(manifold, encode, decode, subject.paths[max(subject.paths)][: config.strips])
    return result, latent_dataset(manifold, subject.latent, test, encode, strips)


@register_metric(
    "local",
    (
        Column("scale_free_mean_abs_ratio_error", bars="scale-free mean |s−1|", sweep="scale-free mean |s − 1|"),
        Column("mean_abs_ratio_error", sweep="mean |s − 1|"),
        Column("rms_sqrt_bending", sweep="RMS √b"),
        Column("scale_free_rms_sqrt_bending", bars="scale-free RMS √b"),
    ),
)
def local(subject: Subject) -> dict:
    """Distortion and bending on fresh pairs at scale δ from test points."""
    x = _draw(subject.rng, subject.points, subject.config.n_pairs)
    return local_metrics(
        subject.manifold, subject.oracle, subject.encode, x, subject.delta, subject.min_distance_fraction, subject.rng
    )


@register_metric(
    "interpolation",
    (
        Column("interpolation_error_1"),
        Column("interpolation_error_4", bars="interpolation error at 4δ"),
        Column("interpolation_error_8"),
        Column("interpolation_error_max", headline=False, sweep="interpolation error (longest paths)"),
    ),
    per_multiple=("interpolation_error",),
)
def interpolation(subject: Subject) -> dict:
    """Deviation of geodesics' latents from the latent segment, per path length k δ."""
    summaries = {
        f"{k:g}": interpolation_summary(subject.manifold, subject.encode, path, k * subject.delta)
        for k, path in subject.paths.items()
    }
    return {"interpolation_error": summaries}


@register_metric(
    "global",
    (
        Column("procrustes_error"),
        Column("trustworthiness", bars="trustworthiness (k=10)", log_scale=False),
        Column("continuity"),
        Column("scale_free_global_distance_error"),
    ),
)
def global_structure(subject: Subject) -> dict:
    """Neighbourhoods and far distances; with the intrinsic geometry, the Procrustes error to the chart."""
    out = global_metrics(subject.manifold, subject.latent, subject.points, subject.rng, subject.config)
    if "chart" in subject.test and subject.geometry == "intrinsic":
        out["procrustes_error"] = metrics.procrustes_error(
            subject.latent, subject.test["chart"].values, subject.manifold.diameter
        )
    return out


@register_metric(
    "decoder",
    (Column("reconstruction_error"), Column("decoded_interpolation_error_4")),
    per_multiple=("decoded_interpolation_error",),
)
def decoder(subject: Subject) -> dict:
    """With a decoder: reconstruction, and decoded latent-linear paths against rendered geodesics."""
    if subject.decode is None:
        return {}
    return decoder_metrics(
        subject.manifold, subject.encode, subject.decode, subject.test["image"].values, subject.paths
    )


def local_metrics(
    manifold: Manifold,
    oracle,
    encode: Encode,
    x: np.ndarray,
    delta: float,
    min_distance_fraction: float,
    rng: np.random.Generator,
) -> dict:
    """Distortion and bending on pairs at scale δ starting from the points x."""
    inner = min_distance_fraction * delta
    x, y = pairs_at_radius(manifold, rng, x, lambda k: manifold.ball_radius(rng, k, delta, inner))
    d, z = oracle.distance_midpoint(x, y)
    phi_x, phi_y, phi_z = np.split(encode(manifold.render(np.concatenate([x, y, z]))), 3)
    out = {"n_test_pairs": int(d.size)}
    s = metrics.distortion_ratio(phi_x, phi_y, d)
    out.update(metrics.distortion_summary(s))
    out.update(metrics.collapse_summary(s))
    out.update(metrics.bending_summary(phi_x, phi_y, phi_z, d))
    # √b scales with the embedding: after the best scale, methods with arbitrary scale compare.
    out["scale_free_rms_sqrt_bending"] = out["best_scale"] * out["rms_sqrt_bending"]
    return out


def geodesic_paths(
    manifold: Manifold, oracle, rng: np.random.Generator, points: np.ndarray, distance: float, config: EvaluationConfig
) -> np.ndarray:
    """Geodesics (of the oracle) from test points to points at the given intrinsic distance.

    Shape (n_paths, path_points, point_dim).
    """
    px, py = pairs_at_distance(manifold, rng, _draw(rng, points, config.n_paths), distance)
    return oracle.path(px, py, config.path_points)


def _encode_paths(manifold: Manifold, encode: Encode, paths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rendered images (n, t, H, W, C) and latents (n, t, l) along paths."""
    images = manifold.render(paths.reshape(-1, paths.shape[-1]))
    latents = encode(images).reshape(len(paths), paths.shape[1], -1)
    return images.reshape(len(paths), paths.shape[1], *images.shape[1:]), latents


def interpolation_summary(manifold: Manifold, encode: Encode, paths: np.ndarray, distance: float) -> dict:
    """Deviation of φ(γ(t)) from the latent segment, relative to |φ(x) − φ(y)|: mean and p95."""
    t = np.linspace(0.0, 1.0, paths.shape[1])
    err = metrics.interpolation_error(_encode_paths(manifold, encode, paths)[1], t)
    return {"distance": float(distance), "mean": float(err.mean()), "p95": float(np.percentile(err, 95))}


def global_metrics(
    manifold: Manifold, latent: np.ndarray, points: np.ndarray, rng: np.random.Generator, config: EvaluationConfig
) -> dict:
    """Trustworthiness and continuity (geodesic vs latent neighbours) and distance preservation of far pairs."""
    n = min(len(points), config.neighbourhood_points)
    idx = np.sort(rng.choice(len(points), n, replace=False))
    p, z = points[idx], np.asarray(latent[idx], np.float64)

    def geodesic_rows(rows):
        return np.stack([manifold.distance(np.repeat(p[r : r + 1], n, axis=0), p) for r in rows])

    def latent_rows(rows):
        return np.linalg.norm(z[rows, None, :] - z[None, :, :], axis=-1)

    out = metrics.neighbourhood_preservation(geodesic_rows, latent_rows, n, config.neighbours)
    i, j = rng.integers(0, len(points), size=(2, config.far_pairs))
    keep = i != j
    geo = manifold.distance(points[i[keep]], points[j[keep]])
    s = np.linalg.norm(np.asarray(latent[i[keep]] - latent[j[keep]], np.float64), axis=1) / geo
    alpha = metrics.best_global_scale(s)
    out["global_distance_error"] = float(np.mean(np.abs(s - 1.0)))
    out["scale_free_global_distance_error"] = float(np.mean(np.abs(alpha * s - 1.0)))
    return out


def decoder_metrics(manifold: Manifold, encode: Encode, decode: Decode, images: np.ndarray, paths: dict) -> dict:
    """Reconstruction error on test images, and decoded latent-linear paths against rendered geodesics."""
    recon = metrics.relative_image_error(decode(encode(images)), images)
    out = {"reconstruction_error": float(recon.mean()), "decoded_interpolation_error": {}}
    for k, path in paths.items():
        rendered, decoded = _decoded_paths(manifold, encode, decode, path)
        err = metrics.relative_image_error(decoded, rendered)
        out["decoded_interpolation_error"][f"{k:g}"] = {"mean": float(err.mean()), "p95": float(np.percentile(err, 95))}
    return out


def _decoded_paths(manifold: Manifold, encode: Encode, decode: Decode, paths: np.ndarray):
    """Rendered geodesic images and decoded latent-linear images along the same paths."""
    rendered, latents = _encode_paths(manifold, encode, paths)
    t = np.linspace(0.0, 1.0, paths.shape[1])[None, :, None]
    linear = (1.0 - t) * latents[:, :1] + t * latents[:, -1:]
    decoded = decode(linear.reshape(-1, linear.shape[-1])).reshape(rendered.shape)
    return rendered, decoded


def decoded_strips(manifold: Manifold, encode: Encode, decode: Decode, paths: np.ndarray) -> dict:
    """Example strips for figures: rendered geodesic and decoded latent-linear images."""
    rendered, decoded = _decoded_paths(manifold, encode, decode, paths)
    return {"strip_rendered": rendered.astype(np.float32), "strip_decoded": decoded.astype(np.float32)}


def _draw(rng: np.random.Generator, points: np.ndarray, n: int) -> np.ndarray:
    """n of the test points, without replacement when there are enough."""
    return points[rng.choice(points.shape[0], size=n, replace=points.shape[0] < n)]


def latent_dataset(
    manifold: Manifold, latent: np.ndarray, test: xr.Dataset, encode: Encode, strips: dict | None = None
) -> xr.Dataset:
    """The latent store: test latents beside their points, mapped grid lines and example strips for figures."""
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
    for name, images in (strips or {}).items():
        ds[name] = (("strip", "strip_point", "height", "width", "channel"), images)
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
    result: dict = {"manifold": None, "geometry": "user", **pair_metrics(phi_x, phi_y, phi_z, d)}
    result["skipped"] = SKIPPED_FOR_USER_DATA
    return result, user_latent_dataset(phi_x, sub)


def pair_metrics(phi_x: np.ndarray, phi_y: np.ndarray, phi_z: np.ndarray, distance: np.ndarray) -> dict:
    """Distortion, collapse and bending of an embedding on pairs with their midpoints and distances."""
    s = metrics.distortion_ratio(phi_x, phi_y, distance)
    return {
        "n_test_pairs": int(distance.size),
        **metrics.distortion_summary(s),
        **metrics.collapse_summary(s),
        **metrics.bending_summary(phi_x, phi_y, phi_z, distance),
    }


def evaluate_samples(
    encode: Encode, samples: xr.Dataset, pairs: DataPairs, config: EvaluationConfig, seed: int
) -> tuple[dict, xr.Dataset]:
    """Metrics on a user's held-out samples: distortion and bending on ``pairs`` estimated from them
    (the data geometry), and neighbourhood preservation against their points (where the store has
    them, else against the samples themselves)."""
    images = samples["image"].values
    latent = np.asarray(encode(images), np.float64)
    t = pairs.triples
    result: dict = {
        "manifold": None,
        "geometry": "data",
        "n_test_samples": int(len(images)),
        # In units of the held-out samples' own graph diameter (scale-free metrics do not depend on it).
        "test_pair_radius": pairs.radius / pairs.diameter,
        **pair_metrics(latent[t.x], latent[t.y], latent[t.z], pairs.distance),
    }
    reference = samples["point"].values if "point" in samples else images.reshape(len(images), -1)
    rng = np.random.default_rng(seed)
    n = min(len(images), config.neighbourhood_points)
    idx = np.sort(rng.choice(len(images), n, replace=False))
    high, low = np.asarray(reference[idx], np.float64), latent[idx]
    result.update(
        metrics.neighbourhood_preservation(
            lambda rows: np.linalg.norm(high[rows, None, :] - high[None, :, :], axis=-1),
            lambda rows: np.linalg.norm(low[rows, None, :] - low[None, :, :], axis=-1),
            n,
            config.neighbours,
        )
    )
    result["neighbourhoods_against"] = "point" if "point" in samples else "image"
    result["skipped"] = SKIPPED_FOR_USER_DATA
    return result, user_latent_dataset(latent, samples.rename({"point": "x_point"}) if "point" in samples else samples)


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
