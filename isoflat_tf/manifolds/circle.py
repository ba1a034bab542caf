"""The circle S¹ of length 2π, encoded as a clock hand turning about the image centre."""

from __future__ import annotations

import dataclasses

import numpy as np

from isoflat_tf.manifolds import register
from isoflat_tf.manifolds.base import TWO_PI, FlatAngles, gaussian_blob, wrap_angle


@register
@dataclasses.dataclass(frozen=True)
class Circle(FlatAngles):
    """S¹ with points given by their angle θ ∈ [0, 2π).

    The image is an elongated Gaussian blob (a clock hand) centred at distance
    ``hand_radius`` from the image centre in direction θ, its long axis
    pointing along that direction. An elongated blob turned in place by π
    looks the same; placing it off-centre makes the encoding injective over the
    whole circle. Turning about the image centre keeps the image metric nearly
    constant. S¹ has no flat embedding: bending has a floor (curvature 1).
    """

    hand_radius: float = 0.25  # distance of the blob's centre from the image centre, in image widths
    sigma_long: float = 0.12  # blob widths, in image widths
    sigma_short: float = 0.05

    name = "circle"
    dim = 1
    point_dim = 1
    chart_dim = None
    diameter = float(np.pi)
    volume = TWO_PI
    colour_labels = ("angle / 2π", "(1 + cos angle) / 2")

    def random_unit_tangent(self, rng, p):
        return rng.choice([-1.0, 1.0], size=(np.shape(p)[0], 1))

    def sample_uniform(self, rng, n):
        return rng.uniform(0.0, TWO_PI, size=(n, 1))

    def wrap(self, p):
        return wrap_angle(p)

    def _render_batch(self, p, xp=np):
        u, v = self.pixel_grid()
        theta = p[:, 0]
        cu = 0.5 + self.hand_radius * xp.cos(theta)
        cv = 0.5 + self.hand_radius * xp.sin(theta)
        return gaussian_blob(u, v, cu, cv, theta, self.sigma_long, self.sigma_short, xp)[..., None]

    def colour_coordinates(self, p):
        return np.stack([p[:, 0] / TWO_PI, 0.5 * (1.0 + np.cos(p[:, 0]))], axis=-1)

    def grid_lines(self, n_lines=5, n_points=60):
        return [np.linspace(0.0, TWO_PI, n_points)[:, None]]
