"""The swiss roll: a flat rectangle whose images wind along a spiral (channel 0) times a slider (channel 1)."""

from __future__ import annotations

import dataclasses

import numpy as np

from isoflat_tf.manifolds import register
from isoflat_tf.manifolds.base import TWO_PI, EuclideanRegion, gaussian_blob

LENGTH = TWO_PI  # intrinsic length of the rolled-up side
WIDTH = 1.0


@register
@dataclasses.dataclass(frozen=True)
class SwissRoll(EuclideanRegion):
    """The rectangle [0, 2π] × [0, 1] with the Euclidean metric; points (s, t).

    Channel 0 shows a round Gaussian blob on an Archimedean spiral r = bφ
    winding nearly three times round the image centre, s proportional to the
    arc length; channel 1 shows a blob sliding horizontally with t. Images
    of nearby s on neighbouring windings are close in the image plane but
    far along the roll, so the encoder has to unroll it. The arc length of
    r = bφ is b(φ² − φ₀²)/2 up to a relative error below 1/(2φ₀²) ≈ 1 %,
    which gives the closed-form φ(s) that keeps the blob's speed nearly
    constant. With the default sizes the image metric is nearly isotropic
    in (s, t). The point itself is an isometric chart.
    """

    inner_radius: float = 0.1  # spiral radius at s = 0, in image widths
    outer_radius: float = 0.38  # spiral radius at s = 2π
    winding_gap: float = 0.1  # radial distance between windings, 2πb
    blob_sigma: float = 0.045
    slider_range: float = 0.7  # the slider's centre moves over this share of the image width

    name = "swiss_roll"
    dim = 2
    point_dim = 2
    chart_dim = 2
    diameter = float(np.hypot(LENGTH, WIDTH))
    volume = LENGTH * WIDTH
    channels = 2
    colour_labels = ("position along the roll / length", "position across / width")

    def random_unit_tangent(self, rng, p):
        angle = rng.uniform(0.0, TWO_PI, size=np.shape(p)[0])
        return np.stack([np.cos(angle), np.sin(angle)], axis=-1)

    def sample_uniform(self, rng, n):
        return np.stack([rng.uniform(0.0, LENGTH, size=n), rng.uniform(0.0, WIDTH, size=n)], axis=-1)

    def contains(self, p):
        return (p[..., 0] >= 0.0) & (p[..., 0] <= LENGTH) & (p[..., 1] >= 0.0) & (p[..., 1] <= WIDTH)

    def chart(self, p):
        return np.asarray(p, dtype=np.float64)

    def _render_batch(self, p, xp=np):
        u, v = self.pixel_grid()
        b = self.winding_gap / TWO_PI
        phi0, phi1 = self.inner_radius / b, self.outer_radius / b
        arc = p[:, 0] / LENGTH * (b * (phi1**2 - phi0**2) / 2.0)
        phi = xp.sqrt(phi0**2 + 2.0 * arc / b)
        r = b * phi
        zero = 0.0 * phi
        roll = gaussian_blob(
            u, v, 0.5 + r * xp.cos(phi), 0.5 + r * xp.sin(phi), zero, self.blob_sigma, self.blob_sigma, xp
        )
        su = 0.5 + self.slider_range * (p[:, 1] / WIDTH - 0.5)
        slider = gaussian_blob(u, v, su, zero + 0.5, zero, self.blob_sigma, self.blob_sigma, xp)
        return xp.stack([roll, slider], axis=-1)

    def colour_coordinates(self, p):
        return np.stack([p[:, 0] / LENGTH, p[:, 1] / WIDTH], axis=-1)

    def grid_lines(self, n_lines=5, n_points=120):
        s = np.linspace(0.0, LENGTH, n_points)
        w = np.linspace(0.0, WIDTH, n_points)
        lines = [np.stack([s, np.full_like(s, c)], axis=-1) for c in np.linspace(0.0, WIDTH, n_lines)]
        lines += [np.stack([np.full_like(w, c), w], axis=-1) for c in np.linspace(0.0, LENGTH, 2 * n_lines)]
        return lines
