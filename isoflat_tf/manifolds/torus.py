"""The flat torus S¹ × S¹, encoded as two clock hands turning independently (one per channel)."""

from __future__ import annotations

import dataclasses

import numpy as np

from isoflat_tf.manifolds import register
from isoflat_tf.manifolds.base import TWO_PI, FlatAngles, gaussian_blob, wrap_angle


@register
@dataclasses.dataclass(frozen=True)
class Torus(FlatAngles):
    """The flat torus R²/(2πZ)², points given by two angles in [0, 2π).

    Channel k shows a clock hand (an off-centre elongated Gaussian blob, as in
    ``circle``) at angle θ_k. The two channels are independent, so the image
    metric is a product of two (nearly constant) circle metrics: flat, like
    the intrinsic one. The flat torus has no flat embedding in any R^l.
    """

    hand_radius: float = 0.25
    sigma_long: float = 0.12
    sigma_short: float = 0.05

    name = "torus"
    dim = 2
    point_dim = 2
    chart_dim = None
    diameter = float(np.pi * np.sqrt(2.0))
    volume = TWO_PI**2
    channels = 2
    colour_labels = ("first angle / 2π", "second angle / 2π")

    def random_unit_tangent(self, rng, p):
        angle = rng.uniform(0.0, TWO_PI, size=np.shape(p)[0])
        return np.stack([np.cos(angle), np.sin(angle)], axis=-1)

    def sample_uniform(self, rng, n):
        return rng.uniform(0.0, TWO_PI, size=(n, 2))

    def wrap(self, p):
        return wrap_angle(p)

    def _render_batch(self, p, xp=np):
        u, v = self.pixel_grid()
        hands = []
        for k in range(2):
            theta = p[:, k]
            cu = 0.5 + self.hand_radius * xp.cos(theta)
            cv = 0.5 + self.hand_radius * xp.sin(theta)
            hands.append(gaussian_blob(u, v, cu, cv, theta, self.sigma_long, self.sigma_short, xp))
        return xp.stack(hands, axis=-1)

    def colour_coordinates(self, p):
        return p / TWO_PI

    def grid_lines(self, n_lines=4, n_points=60):
        s = np.linspace(0.0, TWO_PI, n_points)
        lines = []
        for c in np.linspace(0.0, TWO_PI, n_lines, endpoint=False):
            lines.append(np.stack([s, np.full_like(s, c)], axis=-1))
            lines.append(np.stack([np.full_like(s, c), s], axis=-1))
        return lines
