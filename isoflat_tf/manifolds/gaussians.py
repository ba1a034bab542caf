"""Normal distributions N(μ, σ²) with the Fisher–Rao metric: a piece of the hyperbolic plane.

The Fisher–Rao metric of the family is ds² = (dμ² + 2 dσ²) / σ². In
(x, y) = (μ/√2, σ) it is 2 (dx² + dy²) / y², twice the metric of the Poincaré
half-plane, so the family is the hyperbolic plane of curvature −1/2 and every
geometric quantity has a closed form. The closed forms go through the
hyperboloid model {X : −X₀² + X₁² + X₂² = −1, X₀ > 0} of the half-plane, where
geodesics are X cosh t + V sinh t and the midpoint is the normalised sum.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from isoflat_tf.manifolds import register
from isoflat_tf.manifolds.base import Manifold

SQRT2 = float(np.sqrt(2.0))
MU_RANGE = (-1.0, 1.0)
SIGMA_RANGE = (0.5, 1.0)
VISIBLE = 5.0  # the profile is drawn over x ∈ [−VISIBLE, VISIBLE]: beyond μ ± 4σ for every point


def _minkowski(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return -a[..., 0] * b[..., 0] + a[..., 1] * b[..., 1] + a[..., 2] * b[..., 2]


def to_hyperboloid(p: np.ndarray) -> np.ndarray:
    """Points (μ, σ) → the hyperboloid model, (n, 3)."""
    x, y = np.asarray(p)[..., 0] / SQRT2, np.asarray(p)[..., 1]
    r2 = x**2 + y**2
    return np.stack([(r2 + 1.0) / (2.0 * y), (r2 - 1.0) / (2.0 * y), x / y], axis=-1)


def from_hyperboloid(X: np.ndarray) -> np.ndarray:
    """Hyperboloid points → (μ, σ)."""
    y = 1.0 / (X[..., 0] - X[..., 1])
    return np.stack([SQRT2 * X[..., 2] * y, y], axis=-1)


def _tangent_to_hyperboloid(p: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The differential of ``to_hyperboloid`` at p applied to v = (dμ, dσ)."""
    x, y = np.asarray(p)[..., 0] / SQRT2, np.asarray(p)[..., 1]
    dx, dy = np.asarray(v)[..., 0] / SQRT2, np.asarray(v)[..., 1]
    r2 = x**2 + y**2
    dr2 = 2.0 * (x * dx + y * dy)
    return np.stack(
        [
            dr2 / (2.0 * y) - (r2 + 1.0) * dy / (2.0 * y**2),
            dr2 / (2.0 * y) - (r2 - 1.0) * dy / (2.0 * y**2),
            dx / y - x * dy / y**2,
        ],
        axis=-1,
    )


def _tangent_from_hyperboloid(X: np.ndarray, V: np.ndarray) -> np.ndarray:
    """The differential of ``from_hyperboloid`` at X applied to V, as (dμ, dσ)."""
    w = X[..., 0] - X[..., 1]
    dw = V[..., 0] - V[..., 1]
    dy = -dw / w**2
    dx = V[..., 2] / w - X[..., 2] * dw / w**2
    return np.stack([SQRT2 * dx, dy], axis=-1)


def _hyperbolic_distance(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Distance on the hyperboloid (curvature −1), accurate for nearby points too.

    arccosh(−⟨X, Y⟩) loses precision at small distances; 2 asinh(|X − Y|_L / 2)
    is the same function written through the chord, |X − Y|_L² = 2(−⟨X, Y⟩ − 1).
    """
    diff = X - Y
    chord2 = np.maximum(_minkowski(diff, diff), 0.0)
    return 2.0 * np.arcsinh(0.5 * np.sqrt(chord2))


def _hyperbolic_log(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """The tangent vector at X of the geodesic to Y, of Minkowski length d(X, Y)."""
    d = _hyperbolic_distance(X, Y)
    u = Y + _minkowski(X, Y)[..., None] * X  # Y's component orthogonal to X
    norm = np.sqrt(np.maximum(_minkowski(u, u), 0.0))
    scale = np.where(norm > 0.0, d / np.where(norm > 0.0, norm, 1.0), 0.0)
    return scale[..., None] * u


def _hyperbolic_exp(X: np.ndarray, V: np.ndarray) -> np.ndarray:
    norm = np.sqrt(np.maximum(_minkowski(V, V), 0.0))[..., None]
    sinhc = np.where(norm > 0.0, np.sinh(norm) / np.where(norm > 0.0, norm, 1.0), 1.0)
    return np.cosh(norm) * X + sinhc * V


def _region_diameter() -> float:
    corners = np.array([[m, s] for m in MU_RANGE for s in SIGMA_RANGE])
    i, j = np.triu_indices(len(corners), 1)
    return float(SQRT2 * _hyperbolic_distance(to_hyperboloid(corners[i]), to_hyperboloid(corners[j])).max())


@register
@dataclasses.dataclass(frozen=True)
class Gaussians(Manifold):
    """N(μ, σ²) for μ ∈ [−1, 1], σ ∈ [0.5, 1] with the Fisher–Rao metric; points (μ, σ).

    The image of a point is √p, the square root of its density, drawn as a
    profile along the image's columns (every row the same) over x ∈ [−5, 5].
    √p is the Hellinger embedding: the L2 metric of √p is one quarter of the
    Fisher–Rao metric, so the image metric is (up to pixel sampling) a
    constant multiple of the intrinsic one, as on ``square``. Negatively
    curved (K = −1/2): no isometric chart into the plane, and no flat
    embedding anywhere.
    """

    name = "gaussians"
    dim = 2
    point_dim = 2
    chart_dim = None
    diameter = _region_diameter()
    # ∫∫ √2/σ² dμ dσ over the region: the Riemannian area.
    volume = SQRT2 * (MU_RANGE[1] - MU_RANGE[0]) * (1.0 / SIGMA_RANGE[0] - 1.0 / SIGMA_RANGE[1])
    colour_labels = ("mean μ", "standard deviation σ")

    def distance(self, p, q):
        return SQRT2 * _hyperbolic_distance(to_hyperboloid(p), to_hyperboloid(q))

    def log(self, p, q):
        # The coordinate vector of the curvature −1 log has Fisher–Rao length √2 · d_H = d: no rescaling.
        X = to_hyperboloid(p)
        return _tangent_from_hyperboloid(X, _hyperbolic_log(X, to_hyperboloid(q)))

    def exp(self, p, v):
        return from_hyperboloid(_hyperbolic_exp(to_hyperboloid(p), _tangent_to_hyperboloid(p, v)))

    def geodesic(self, p, q, t):
        X = to_hyperboloid(p)
        V = _hyperbolic_log(X, to_hyperboloid(q))
        t = np.asarray(t, dtype=np.float64)[None, :, None]
        return from_hyperboloid(_hyperbolic_exp(X[:, None, :], t * V[:, None, :]))

    def midpoint(self, p, q):
        s = to_hyperboloid(p) + to_hyperboloid(q)
        return from_hyperboloid(s / np.sqrt(-_minkowski(s, s))[..., None])

    def tangent_norm(self, p, v):
        return np.sqrt(v[..., 0] ** 2 + 2.0 * v[..., 1] ** 2) / np.asarray(p)[..., 1]

    def tangent_basis(self, p):
        sigma = np.asarray(p)[:, 1]
        basis = np.zeros((len(sigma), 2, 2))
        basis[:, 0, 0] = sigma  # |(σ, 0)|² = σ²/σ² = 1
        basis[:, 1, 1] = sigma / SQRT2  # |(0, σ/√2)|² = 2 (σ²/2)/σ² = 1
        return basis

    def random_unit_tangent(self, rng, p):
        angle = rng.uniform(0.0, 2.0 * np.pi, size=np.shape(p)[0])
        return np.einsum("ni,nip->np", np.stack([np.cos(angle), np.sin(angle)], axis=-1), self.tangent_basis(p))

    def sample_uniform(self, rng, n):
        # The area element is √2 dμ dσ / σ²: μ uniform, 1/σ uniform.
        inverse = rng.uniform(1.0 / SIGMA_RANGE[1], 1.0 / SIGMA_RANGE[0], size=n)
        return np.stack([rng.uniform(*MU_RANGE, size=n), 1.0 / inverse], axis=-1)

    def ball_radius(self, rng, n, delta, inner=0.0):
        # A geodesic disk of radius r at curvature −1/2 has area 4π (cosh(r/√2) − 1).
        lo = (np.cosh(inner / SQRT2) - 1.0) / (np.cosh(delta / SQRT2) - 1.0)
        u = lo + rng.uniform(size=n) * (1.0 - lo)
        return SQRT2 * np.arccosh(1.0 + u * (np.cosh(delta / SQRT2) - 1.0))

    def contains(self, p):
        mu, sigma = p[..., 0], p[..., 1]
        return (mu >= MU_RANGE[0]) & (mu <= MU_RANGE[1]) & (sigma >= SIGMA_RANGE[0]) & (sigma <= SIGMA_RANGE[1])

    def _render_batch(self, p, xp=np):
        u, _ = self.pixel_grid()
        x = VISIBLE * (2.0 * u - 1.0)
        mu, sigma = p[:, 0, None, None], p[:, 1, None, None]
        # √p, scaled so that the narrowest profile peaks at 1.
        peak = (SIGMA_RANGE[0] / sigma) ** 0.5
        root_density = peak * xp.exp(-((x[None] - mu) ** 2) / (4.0 * sigma**2))
        return root_density[..., None]

    def colour_coordinates(self, p):
        return np.stack(
            [
                (p[:, 0] - MU_RANGE[0]) / (MU_RANGE[1] - MU_RANGE[0]),
                (p[:, 1] - SIGMA_RANGE[0]) / (SIGMA_RANGE[1] - SIGMA_RANGE[0]),
            ],
            axis=-1,
        )

    def grid_lines(self, n_lines=5, n_points=60):
        mus, sigmas = np.linspace(*MU_RANGE, n_points), np.linspace(*SIGMA_RANGE, n_points)
        lines = []
        for c in np.linspace(0.0, 1.0, n_lines):
            mu = MU_RANGE[0] + c * (MU_RANGE[1] - MU_RANGE[0])
            sigma = SIGMA_RANGE[0] + c * (SIGMA_RANGE[1] - SIGMA_RANGE[0])
            lines.append(np.stack([mus, np.full_like(mus, sigma)], axis=-1))
            lines.append(np.stack([np.full_like(sigmas, mu), sigmas], axis=-1))
        return lines
