"""The flat cylinder S¹ × [0, h]: a clock hand (channel 0) and a sliding blob (channel 1)."""

from __future__ import annotations

import dataclasses

import numpy as np

from isoflat_tf.manifolds import register
from isoflat_tf.manifolds.base import TWO_PI, Manifold, angle_difference, gaussian_blob, wrap_angle

HEIGHT = 2.0


@register
@dataclasses.dataclass(frozen=True)
class Cylinder(Manifold):
    """S¹ × [0, h] with h = 2, points (θ, z): θ ∈ [0, 2π) periodic, z ∈ [0, h].

    Channel 0 shows a clock hand at angle θ (as in ``circle``), channel 1 a
    round Gaussian blob sliding horizontally with z over [margin, 1 − margin]
    of the image. The cylinder is flat but, being closed in θ, has no flat
    embedding in any R^l: the isometric embedding into R³ (radius 1) bends.
    """

    hand_radius: float = 0.25
    sigma_long: float = 0.12
    sigma_short: float = 0.05
    blob_sigma: float = 0.05  # sliding blob width, in image widths: makes the metric about isotropic
    margin: float = 0.2  # the sliding blob's centre stays in [margin, 1 − margin]

    name = "cylinder"
    dim = 2
    point_dim = 2
    chart_dim = None
    diameter = float(np.hypot(np.pi, HEIGHT))
    volume = TWO_PI * HEIGHT
    channels = 2
    colour_labels = ("angle / 2π", "height / h")

    def _step(self, p, q):
        p, q = np.asarray(p), np.asarray(q)
        return np.stack([angle_difference(p[:, 0], q[:, 0]), q[:, 1] - p[:, 1]], axis=-1)

    def distance(self, p, q):
        return np.linalg.norm(self._step(p, q), axis=-1)

    def geodesic(self, p, q, t):
        t = np.asarray(t, dtype=np.float64)[None, :, None]
        return self.wrap(np.asarray(p)[:, None, :] + t * self._step(p, q)[:, None, :])

    def midpoint(self, p, q):
        return self.wrap(np.asarray(p) + 0.5 * self._step(p, q))

    def exp(self, p, v):
        return self.wrap(np.asarray(p) + np.asarray(v))

    def log(self, p, q):
        return self._step(p, q)

    def neighbour_space(self, p):
        return np.asarray(p, dtype=np.float64), np.array(
            [TWO_PI, 3.0 * HEIGHT]
        )  # 3h: the height never takes the short way round

    def random_unit_tangent(self, rng, p):
        angle = rng.uniform(0.0, TWO_PI, size=np.shape(p)[0])
        return np.stack([np.cos(angle), np.sin(angle)], axis=-1)

    def sample_uniform(self, rng, n):
        return np.stack([rng.uniform(0.0, TWO_PI, size=n), rng.uniform(0.0, HEIGHT, size=n)], axis=-1)

    def contains(self, p):
        return (p[..., 1] >= 0.0) & (p[..., 1] <= HEIGHT)

    def wrap(self, p):
        p = np.array(p, dtype=np.float64)
        p[..., 0] = wrap_angle(p[..., 0])
        return p

    def _render_batch(self, p, xp=np):
        u, v = self.pixel_grid()
        theta, z = p[:, 0], p[:, 1]
        cu = 0.5 + self.hand_radius * xp.cos(theta)
        cv = 0.5 + self.hand_radius * xp.sin(theta)
        hand = gaussian_blob(u, v, cu, cv, theta, self.sigma_long, self.sigma_short, xp)
        su = self.margin + (1.0 - 2.0 * self.margin) * z / HEIGHT
        slider = gaussian_blob(u, v, su, 0.0 * z + 0.5, 0.0 * z, self.blob_sigma, self.blob_sigma, xp)
        return xp.stack([hand, slider], axis=-1)

    def colour_coordinates(self, p):
        return np.stack([p[:, 0] / TWO_PI, p[:, 1] / HEIGHT], axis=-1)

    def grid_lines(self, n_lines=5, n_points=60):
        s = np.linspace(0.0, TWO_PI, n_points)
        h = np.linspace(0.0, HEIGHT, n_points)
        lines = [np.stack([s, np.full_like(s, c)], axis=-1) for c in np.linspace(0.0, HEIGHT, n_lines)]
        lines += [np.stack([np.full_like(h, c), h], axis=-1) for c in np.linspace(0.0, TWO_PI, n_lines, endpoint=False)]
        return lines
