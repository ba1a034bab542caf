"""Evaluation metrics (docs/design.md §7) as pure NumPy functions of latent arrays.

All metrics are invariant to rigid motions of latent space (rotations,
reflections and translations), like the loss itself.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

TINY = 1e-30

# An embedding is collapsed when its median pair ratio s = |φ(x) − φ(y)| / d is
# below this: the latent distances are negligible against the given distances.
COLLAPSE_RATIO = 0.01


def distortion_ratio(phi_x: np.ndarray, phi_y: np.ndarray, distance: np.ndarray) -> np.ndarray:
    """s = |φ(x) − φ(y)| / d per pair."""
    return np.linalg.norm(np.asarray(phi_x, np.float64) - np.asarray(phi_y, np.float64), axis=-1) / distance


def best_global_scale(s: np.ndarray) -> float:
    """α = exp(−mean log s): the scale minimising the RMS of log(α s).

    Used to compare methods whose embedding scale is arbitrary.
    """
    return float(np.exp(-np.mean(np.log(np.maximum(s, TINY)))))


def distortion_summary(s: np.ndarray) -> dict[str, float]:
    """Mean and 95th percentile of |s − 1|, RMS of log s, both absolute and after the best scale."""
    alpha = best_global_scale(s)
    out = {}
    for prefix, ratio in (("", s), ("scale_free_", alpha * s)):
        err = np.abs(ratio - 1.0)
        out[f"{prefix}mean_abs_ratio_error"] = float(np.mean(err))
        out[f"{prefix}p95_abs_ratio_error"] = float(np.percentile(err, 95))
        out[f"{prefix}rms_log_ratio"] = float(np.sqrt(np.mean(np.log(np.maximum(ratio, TINY)) ** 2)))
    out["best_scale"] = alpha
    return out


def collapse_summary(s: np.ndarray) -> dict:
    """``median_ratio`` (the median of s over the pairs) and ``collapsed`` (it is below ``COLLAPSE_RATIO``).

    The ratio is dimensionless: latent distances against the given distances.
    A collapsed embedding maps most pairs to (nearly) one point; its bending,
    midpoint and scale-free errors are then near 0 or meaningless, and its
    ``best_scale`` huge. NaN counts as collapsed.
    """
    median = float(np.median(s)) if np.size(s) else float("nan")
    return {"median_ratio": median, "collapsed": not median >= COLLAPSE_RATIO}


def bending_summary(phi_x: np.ndarray, phi_y: np.ndarray, phi_z: np.ndarray, distance: np.ndarray) -> dict[str, float]:
    """RMS of √b with b = |φx + φy − 2φz|²/d⁴, and mean midpoint error |φz − (φx+φy)/2| / d."""
    phi_x, phi_y, phi_z = (np.asarray(a, np.float64) for a in (phi_x, phi_y, phi_z))
    second = np.linalg.norm(phi_x + phi_y - 2.0 * phi_z, axis=-1)
    b = second**2 / distance**4
    return {
        "rms_sqrt_bending": float(np.sqrt(np.mean(b))),
        "mean_midpoint_error": float(np.mean(0.5 * second / distance)),
    }


def interpolation_error(phi_path: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Per pair: max over t of |φ(γ(t)) − ((1−t)φ(x) + tφ(y))| / |φ(x) − φ(y)|.

    Args:
      phi_path: latents along geodesics, (n_pairs, len(t), latent_dim); the
        first and last entries are φ(x) and φ(y) (t[0] = 0, t[-1] = 1).
      t: path parameters, increasing from 0 to 1.
    """
    phi_path = np.asarray(phi_path, np.float64)
    start, end = phi_path[:, :1], phi_path[:, -1:]
    t = np.asarray(t, np.float64)[None, :, None]
    deviation = np.linalg.norm(phi_path - ((1.0 - t) * start + t * end), axis=-1).max(axis=1)
    return deviation / np.maximum(np.linalg.norm(end[:, 0] - start[:, 0], axis=-1), TINY)


def _centred_pair(latent: np.ndarray, chart: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Latent and chart, centred; a chart of lower dimension than the latent space padded with zeros."""
    a = np.asarray(latent, np.float64)
    b = np.asarray(chart, np.float64)
    if b.shape[1] > a.shape[1]:
        raise ValueError(f"chart dimension {b.shape[1]} exceeds latent dimension {a.shape[1]}")
    b = np.pad(b, ((0, 0), (0, a.shape[1] - b.shape[1])))
    return a - a.mean(axis=0), b - b.mean(axis=0)


def procrustes_error(latent: np.ndarray, chart: np.ndarray, diameter: float) -> float:
    """RMS distance between the latent and the chart after the best rigid motion, / diameter.

    The rigid motion is a translation and an orthogonal map (rotation or
    reflection; no scaling): both leave the loss unchanged. A chart of lower
    dimension than the latent space is padded with zeros.
    """
    a, b = _centred_pair(latent, chart)
    u, _, vt = np.linalg.svd(a.T @ b)
    residual = a @ (u @ vt) - b
    return float(np.sqrt(np.mean(np.sum(residual**2, axis=1))) / diameter)


def scaled_procrustes_error(latent: np.ndarray, chart: np.ndarray, diameter: float) -> float:
    """RMS distance between the latent and the chart after the best similarity (rigid motion and
    one scale), / diameter: the shape error of an embedding whose units differ from the chart's
    (e.g. trained on distances estimated from the images)."""
    a, b = _centred_pair(latent, chart)
    u, singular, vt = np.linalg.svd(a.T @ b)
    scale = singular.sum() / max(float(np.sum(a * a)), TINY)
    residual = scale * a @ (u @ vt) - b
    return float(np.sqrt(np.mean(np.sum(residual**2, axis=1))) / diameter)


def neighbourhood_preservation(
    distances_high: Callable[[np.ndarray], np.ndarray],
    distances_low: Callable[[np.ndarray], np.ndarray],
    n: int,
    k: int = 10,
    block: int = 256,
) -> dict[str, float]:
    """Trustworthiness and continuity (Venna & Kaski) of an embedding of n points, with k neighbours.

    ``distances_high(rows)`` and ``distances_low(rows)`` give the distances from
    the points ``rows`` to all n points, (len(rows), n), in the original and the
    embedded space. Rows are processed in blocks, so memory is O(block · n),
    never n × n. Both scores are 1 for a perfect embedding; a fold scores low.
    """
    if not 0 < k < n / 2:
        raise ValueError(f"k = {k} must satisfy 0 < k < n/2 (n = {n})")
    penalty = {"trustworthiness": 0.0, "continuity": 0.0}
    for start in range(0, n, block):
        rows = np.arange(start, min(start + block, n))
        ranks, neighbours = {}, {}
        for space, dist in (("high", distances_high(rows)), ("low", distances_low(rows))):
            dist = np.array(dist, np.float64)
            dist[np.arange(len(rows)), rows] = -np.inf  # each point is its own rank-0 neighbour
            order = np.argsort(dist, axis=1, kind="stable")
            rank = np.empty_like(order)
            np.put_along_axis(rank, order, np.arange(n)[None, :], axis=1)
            ranks[space], neighbours[space] = rank, order[:, 1 : k + 1]
        for name, (other, mine) in {"trustworthiness": ("high", "low"), "continuity": ("low", "high")}.items():
            r = np.take_along_axis(ranks[other], neighbours[mine], axis=1)  # ranks of my neighbours over there
            penalty[name] += float(np.sum(np.clip(r - k, 0, None)))
    scale = 2.0 / (n * k * (2 * n - 3 * k - 1))
    return {name: 1.0 - scale * p for name, p in penalty.items()}


def relative_image_error(images: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Per item, |images − reference| / |reference| over all remaining axes (e.g. a whole path of images)."""
    diff = (np.asarray(images, np.float64) - reference).reshape(len(reference), -1)
    return np.linalg.norm(diff, axis=1) / np.maximum(
        np.linalg.norm(reference.reshape(len(reference), -1), axis=1), TINY
    )
