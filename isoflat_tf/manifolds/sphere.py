"""The round unit sphere S² ⊂ R³, encoded as a shaded ball whose texture axis is the point."""

from __future__ import annotations

import dataclasses

import numpy as np

from isoflat_tf.manifolds import register
from isoflat_tf.manifolds.base import Manifold, smooth_step


def _normalise(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


@register
@dataclasses.dataclass(frozen=True)
class Sphere(Manifold):
    """S² encoded as a textured ball seen from the front and from the back.

    The ball's surface point with normal n has brightness g(n·u) = exp(κ (n·u − 1))
    for the point u: a smooth spot centred on the axis u. Channel 0 shows the
    ball from +z, channel 1 from −z, so every normal is visible in one of the
    two. g is strictly increasing, so the images determine u everywhere (unlike
    one Lambertian view, which is black for every light behind the ball), and
    the two views keep the renderer's Jacobian well conditioned everywhere
    (the manifold tests bound the spread of its singular values).
    """

    ball_radius_px: float = 0.42  # ball radius, in units of the image width
    sharpness: float = 1.5  # κ: contrast of the texture
    edge_width: float = 1.0  # silhouette softness, in pixels

    name = "sphere"
    dim = 2
    point_dim = 3
    chart_dim = None  # S² has no isometric chart into R²
    diameter = float(np.pi)
    volume = float(4.0 * np.pi)
    channels = 2
    colour_labels = ("longitude / 2π", "colatitude / π")

    def distance(self, p, q):
        # atan2 form: accurate for nearby and for antipodal points alike.
        cross = np.linalg.norm(np.cross(p, q), axis=-1)
        return np.arctan2(cross, np.sum(p * q, axis=-1))

    def geodesic(self, p, q, t):
        p, q = np.asarray(p), np.asarray(q)
        theta = self.distance(p, q)[:, None, None]
        t = np.asarray(t, dtype=np.float64)[None, :, None]
        small = theta < 1e-9
        safe = np.where(small, 1.0, theta)
        a = np.where(small, 1.0 - t, np.sin((1.0 - t) * safe) / np.sin(safe))
        b = np.where(small, t, np.sin(t * safe) / np.sin(safe))
        return _normalise(a * p[:, None, :] + b * q[:, None, :])

    def midpoint(self, p, q):
        return _normalise(np.asarray(p) + np.asarray(q))

    def exp(self, p, v):
        r = np.linalg.norm(v, axis=-1, keepdims=True)
        direction = v / np.where(r > 0, r, 1.0)
        return _normalise(np.cos(r) * p + np.sin(r) * direction)

    def log(self, p, q):
        p, q = np.asarray(p), np.asarray(q)
        w = q - np.sum(p * q, axis=-1, keepdims=True) * p  # q's component tangent at p
        norm = np.linalg.norm(w, axis=-1, keepdims=True)
        return w * (self.distance(p, q)[:, None] / np.where(norm > 0, norm, 1.0))

    def neighbour_space(self, p):
        return np.asarray(p, dtype=np.float64), None  # chords grow with arcs

    def random_unit_tangent(self, rng, p):
        g = rng.normal(size=np.shape(p))
        g -= np.sum(g * p, axis=-1, keepdims=True) * p
        return _normalise(g)

    def sample_uniform(self, rng, n):
        return _normalise(rng.normal(size=(n, 3)))

    def ball_radius(self, rng, n, delta, inner=0.0):
        # Area of a geodesic cap of radius r is 2π(1 − cos r): invert its CDF.
        hi, lo = np.cos(inner), np.cos(delta)
        return np.arccos(hi - rng.uniform(size=n) * (hi - lo))

    def wrap(self, p):
        return _normalise(p)

    def tangent_basis(self, p):
        p = np.asarray(p, dtype=np.float64)
        # Gram-Schmidt from the coordinate axis least aligned with p: never degenerate.
        axis = np.eye(3)[np.argmin(np.abs(p), axis=-1)]
        e1 = _normalise(axis - np.sum(axis * p, axis=-1, keepdims=True) * p)
        return np.stack([e1, np.cross(p, e1)], axis=1)

    def retract(self, p, v, xp=np):
        w = p + v
        return w / xp.sqrt(xp.sum(w**2, axis=-1, keepdims=True))

    def _render_batch(self, p, xp=np):
        u, v = self.pixel_grid()
        nx = (u - 0.5) / self.ball_radius_px
        ny = (0.5 - v) / self.ball_radius_px
        rho2 = nx**2 + ny**2
        nz = np.sqrt(np.clip(1.0 - rho2, 0.0, None))
        edge = self.edge_width / (self.image_size * self.ball_radius_px)
        mask = smooth_step((1.0 - np.sqrt(rho2)) / edge)  # constant: NumPy even when xp is not
        views = []
        for side in (1.0, -1.0):  # channel 0: seen from +z, channel 1: from -z
            normals = np.stack([nx, ny, side * nz], axis=-1)  # (H, W, 3)
            cos = xp.einsum("hwk,nk->nhw", normals, p)
            views.append(mask[None] * xp.exp(self.sharpness * (cos - 1.0)))
        return xp.stack(views, axis=-1)

    def colour_coordinates(self, p):
        lon = (np.arctan2(p[:, 1], p[:, 0]) / (2 * np.pi)) % 1.0
        lat = np.arccos(np.clip(p[:, 2], -1.0, 1.0)) / np.pi
        return np.stack([lon, lat], axis=-1)

    def grid_lines(self, n_lines=6, n_points=60):
        lines = []
        theta = np.linspace(0.0, np.pi, n_points)
        for lon in np.linspace(0.0, 2 * np.pi, n_lines, endpoint=False):  # meridians
            lines.append(np.stack([np.sin(theta) * np.cos(lon), np.sin(theta) * np.sin(lon), np.cos(theta)], -1))
        phi = np.linspace(0.0, 2 * np.pi, n_points)
        for colat in np.linspace(0.0, np.pi, n_lines + 1)[1:-1]:  # parallels
            lines.append(
                np.stack(
                    [np.sin(colat) * np.cos(phi), np.sin(colat) * np.sin(phi), np.full_like(phi, np.cos(colat))], -1
                )
            )
        return lines
