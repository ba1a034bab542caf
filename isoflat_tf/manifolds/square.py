"""The unit square [0, 1]² with the Euclidean metric, encoded as a translated disk."""

from __future__ import annotations

import dataclasses

import numpy as np

from isoflat_tf.manifolds import register
from isoflat_tf.manifolds.base import UnitSquare, smooth_norm, smooth_step


@register
@dataclasses.dataclass(frozen=True)
class Square(UnitSquare):
    """[0,1]² encoded as images of a smooth-edged disk centred at the point.

    The disk centre moves over [margin, 1 - margin]² of the image so the disk
    stays inside it; the edge is a logistic profile ``edge_width`` pixels wide,
    which makes the images a smooth function of the point. The point itself is
    an isometric chart.
    """

    radius: float = 0.15  # disk radius, in units of the image width
    margin: float = 0.2  # centre range is [margin, 1 - margin]
    edge_width: float = 1.0  # edge softness, in pixels

    name = "square"

    def _render_batch(self, p, xp=np):
        u, v = self.pixel_grid()
        centre = self.margin + (1.0 - 2.0 * self.margin) * p  # (n, 2)
        dist = smooth_norm(u[None] - centre[:, 0, None, None], v[None] - centre[:, 1, None, None], xp)
        edge = self.edge_width / self.image_size
        return smooth_step((self.radius - dist) / edge, xp)[..., None]
