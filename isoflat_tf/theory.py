"""The Γ-limit of the sampled loss, checked numerically (docs/design.md §8).

For an analytic map φ with closed-form derivatives, the sampled loss at scale
δ with N pairs,

    L_N(δ) = mean_i W(s_i) + λ b_i,

converges as δ → 0, N → ∞ to the functional (normalised by vol M)

    F[φ] = ⨍_M ⨍_{S_x} W(|Dφ(x)v|) + (λ/16) |∇²φ(x)(v,v)|² dv dvol(x),

computed here by tensor-product quadrature. The sampled loss uses the
package's own loss functions (``isoflat_tf.losses``) and pair sampler.

Predicted rates: the noise is O(N^{-1/2}). The bias is O(δ²) without a
boundary: the O(δ) term of s² is odd in the direction v and averages out, and
the second difference about the midpoint has no odd terms. On a manifold with
boundary, redrawing pairs that leave M makes x non-uniform in a layer of
width δ, which adds an O(δ) bias unless the integrand is constant.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from isoflat_tf import distortions, manifolds
from isoflat_tf.sampling import sample_pairs

Array = np.ndarray


@dataclasses.dataclass(frozen=True)
class AnalyticMap:
    """φ on a manifold with its differential Dφ(x)v and covariant Hessian ∇²φ(x)(v, v)."""

    name: str
    manifold: str
    value: Callable[[Array], Array]
    differential: Callable[[Array, Array], Array]
    hessian: Callable[[Array, Array], Array]


def square_linear(matrix: Array) -> AnalyticMap:
    """φ(p) = A p on the square: constant distortion |Av|, no bending."""
    a = np.asarray(matrix, np.float64)
    return AnalyticMap(
        name="square: linear",
        manifold="square",
        value=lambda p: p @ a.T,
        differential=lambda p, v: v @ a.T,
        hessian=lambda p, v: np.zeros((len(p), a.shape[0])),
    )


def square_paraboloid(curvature: float, centre=(0.5, 0.5)) -> AnalyticMap:
    """φ(p) = (p, κ|p − c|²/2): the graph of a paraboloid; ∇²φ(v, v) = (0, 0, κ|v|²)."""
    c = np.asarray(centre, np.float64)

    def value(p):
        return np.concatenate([p, 0.5 * curvature * np.sum((p - c) ** 2, axis=1, keepdims=True)], axis=1)

    def differential(p, v):
        return np.concatenate([v, curvature * np.sum((p - c) * v, axis=1, keepdims=True)], axis=1)

    def hessian(p, v):
        return np.concatenate([np.zeros_like(v), curvature * np.sum(v * v, axis=1, keepdims=True)], axis=1)

    return AnalyticMap("square: paraboloid", "square", value, differential, hessian)


def sphere_linear(matrix: Array, name: str = "sphere: linear") -> AnalyticMap:
    """φ(u) = L u on S²: Dφ v = L v and ∇²φ(v, v) = −L u |v|² (the sphere's second fundamental form)."""
    a = np.asarray(matrix, np.float64)
    return AnalyticMap(
        name=name,
        manifold="sphere",
        value=lambda u: u @ a.T,
        differential=lambda u, v: v @ a.T,
        hessian=lambda u, v: -(u @ a.T) * np.sum(v * v, axis=1, keepdims=True),
    )


# The manifolds of ``standard_maps``: the Γ-limit job runs their modules.
MANIFOLDS = ("square", "sphere")


def standard_maps() -> list[AnalyticMap]:
    """The maps of the Γ-limit check: isometries, known distortions and known bending."""
    return [
        square_linear([[1.2, 0.3], [0.0, 0.9]]),
        square_paraboloid(1.0),
        sphere_linear(np.eye(3), "sphere: round"),
        sphere_linear(np.diag([1.2, 1.0, 0.8]), "sphere: ellipsoid"),
    ]


def distortion_penalty(s2: Array, kind: str) -> Array:
    """W(s) from s², in NumPy: the definitions of ``isoflat_tf.distortions``, as in the loss."""
    return distortions.penalty(s2, kind)


def tangent_frame(manifold: str, x: Array) -> tuple[Array, Array]:
    """An orthonormal frame (e1, e2) of T_xM for the 2-dimensional test manifolds."""
    if manifold == "square":
        n = len(x)
        return np.tile([1.0, 0.0], (n, 1)), np.tile([0.0, 1.0], (n, 1))
    axis = np.where(np.abs(x[:, 2:3]) < 0.9, [[0.0, 0.0, 1.0]], [[1.0, 0.0, 0.0]])
    e1 = np.cross(x, axis)
    e1 /= np.linalg.norm(e1, axis=1, keepdims=True)
    return e1, np.cross(x, e1)


def quadrature_nodes(manifold: str, n: int) -> tuple[Array, Array]:
    """Points and weights (summing to 1) integrating smooth functions over M against dvol / vol M."""
    g, w = np.polynomial.legendre.leggauss(n)
    if manifold == "square":
        t, wt = 0.5 * (g + 1.0), 0.5 * w
        x, y = np.meshgrid(t, t, indexing="ij")
        return np.stack([x.ravel(), y.ravel()], axis=1), np.outer(wt, wt).ravel()
    if manifold == "sphere":  # area is uniform in z = cos θ (Archimedes): Gauss in z, trapezoid in longitude
        lon = 2.0 * np.pi * np.arange(2 * n) / (2 * n)
        z, phi = np.meshgrid(g, lon, indexing="ij")
        r = np.sqrt(1.0 - z**2)
        pts = np.stack([r * np.cos(phi), r * np.sin(phi), z], axis=-1).reshape(-1, 3)
        return pts, (np.outer(w, np.ones_like(lon)) / (2.0 * len(lon))).ravel()
    raise ValueError(f"no quadrature for {manifold!r}")


def integrand(phi: AnalyticMap, x: Array, v: Array, distortion: str, bending_weight: float) -> Array:
    """W(|Dφ(x)v|) + (λ/16)|∇²φ(x)(v,v)|² for unit tangent vectors v at x."""
    dv = phi.differential(x, v)
    hv = phi.hessian(x, v)
    return distortion_penalty(np.sum(dv * dv, axis=1), distortion) + bending_weight / 16.0 * np.sum(hv * hv, axis=1)


def continuum_functional(
    phi: AnalyticMap, distortion: str = "quadratic", bending_weight: float = 1.0, n: int = 48, n_angles: int = 64
) -> float:
    """F[φ] by Gauss quadrature over M and the trapezoid rule over directions (spectral in both)."""
    points, weights = quadrature_nodes(phi.manifold, n)
    e1, e2 = tangent_frame(phi.manifold, points)
    total = np.zeros(len(points))
    for a in 2.0 * np.pi * np.arange(n_angles) / n_angles:
        v = np.cos(a) * e1 + np.sin(a) * e2
        total += integrand(phi, points, v, distortion, bending_weight)
    return float(np.sum(weights * total / n_angles))


def quadratic_direction_average(phi: AnalyticMap, x: Array, bending_weight: float) -> Array:
    """Closed form of ⨍_S integrand for W = (s²−1)² on a 2-manifold (m = 2):

    (2|G−I|² + (tr(G−I))²)/(m(m+2)) + (λ/16)(2|∇²φ|² + |Δφ|²)/(m(m+2)), G = DφᵀDφ.
    """
    e1, e2 = tangent_frame(phi.manifold, x)
    d1, d2 = phi.differential(x, e1), phi.differential(x, e2)
    g = np.stack(
        [np.stack([np.sum(d1 * d1, 1), np.sum(d1 * d2, 1)], 1), np.stack([np.sum(d2 * d1, 1), np.sum(d2 * d2, 1)], 1)],
        1,
    )
    gi = g - np.eye(2)
    distortion = (2.0 * np.sum(gi**2, axis=(1, 2)) + np.trace(gi, axis1=1, axis2=2) ** 2) / 8.0
    # Hessian entries from the quadratic form: H(e1,e2) = (H(e1+e2) − H(e1−e2))/4 (polarisation).
    h11, h22 = phi.hessian(x, e1), phi.hessian(x, e2)
    h12 = 0.25 * (phi.hessian(x, e1 + e2) - phi.hessian(x, e1 - e2))
    hess_sq = np.sum(h11**2 + h22**2 + 2.0 * h12**2, axis=1)
    laplacian_sq = np.sum((h11 + h22) ** 2, axis=1)
    return distortion + bending_weight / 16.0 * (2.0 * hess_sq + laplacian_sq) / 8.0


def unit_direction(manifold: str, x: Array, y: Array) -> Array:
    """The unit initial velocity at x of the geodesic to y."""
    if manifold == "sphere":
        t = y - np.sum(x * y, axis=1, keepdims=True) * x
    else:
        t = y - x
    return t / np.linalg.norm(t, axis=1, keepdims=True)


@dataclasses.dataclass(frozen=True)
class SampledLoss:
    """The sampled loss L_N(δ) and the same pairs' limit integrand mean G_N (bias = L − G)."""

    loss: float
    limit_integrand: float
    std: float  # standard deviation of the per-pair loss: the noise is std / √N


def sampled_loss(
    phi: AnalyticMap,
    delta: float,
    n: int,
    seed: int,
    distortion: str = "quadratic",
    bending_weight: float = 1.0,
    min_distance_fraction: float = 0.0,
) -> SampledLoss:
    """L_N(δ) with the package's pair sampler and loss terms, in float64."""
    import tensorflow as tf

    from isoflat_tf import losses

    m = manifolds.get(phi.manifold)
    p = sample_pairs(m, "ball", np.random.default_rng(seed), n, delta, min_distance_fraction)
    fx, fy, fz = (tf.constant(phi.value(q), tf.float64) for q in (p.x, p.y, p.z))
    d = tf.constant(p.distance, tf.float64)
    w = losses.distortion_penalty(losses.squared_distortion_ratio(fx, fy, d), distortion)
    per_pair = (w + bending_weight * losses.bending(fx, fy, fz, d)).numpy()
    limit = integrand(phi, p.x, unit_direction(phi.manifold, p.x, p.y), distortion, bending_weight)
    return SampledLoss(float(per_pair.mean()), float(limit.mean()), float(per_pair.std()))


def log_slope(x: Array, y: Array) -> float:
    """Least-squares slope of log y against log x: the observed convergence rate."""
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def bias_table(maps: list[AnalyticMap], deltas: list[float], n: int, seed: int = 0) -> list[dict]:
    """Per map and δ: F, L_N(δ), G_N and the noise level, for the bias plots."""
    rows = []
    for phi in maps:
        f = continuum_functional(phi)
        for delta in deltas:
            s = sampled_loss(phi, delta, n, seed)
            rows.append(
                {
                    "map": phi.name,
                    "delta": delta,
                    "n": n,
                    "functional": f,
                    "sampled_loss": s.loss,
                    "limit_integrand_mean": s.limit_integrand,
                    "total_error": abs(s.loss - f),
                    "interior_bias": abs(s.loss - s.limit_integrand),
                    "sampling_error": abs(s.limit_integrand - f),
                    "noise": s.std / np.sqrt(n),
                }
            )
    return rows


def noise_table(phi: AnalyticMap, delta: float, ns: list[int], repeats: int, seed: int = 0) -> list[dict]:
    """RMS over repeats of G_N − F (pure sampling noise on a manifold without boundary) per N."""
    f = continuum_functional(phi)
    rows = []
    for n in ns:
        errors = [sampled_loss(phi, delta, n, seed + 1000 * r + n).limit_integrand - f for r in range(repeats)]
        rows.append({"map": phi.name, "delta": delta, "n": n, "rms_error": float(np.sqrt(np.mean(np.square(errors))))})
    return rows
