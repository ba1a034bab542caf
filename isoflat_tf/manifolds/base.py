"""The manifold interface: closed-form intrinsic geometry plus a renderer.

Points are arrays of shape (n, point_dim) in the manifold's own coordinates
(for the sphere: unit vectors in R^3). Tangent vectors at a point use the same
ambient coordinates. All methods are vectorised over the leading axis and pure:
randomness comes in as a ``numpy.random.Generator``.

Renderers and ``retract`` take an array namespace ``xp``: NumPy, or
``tensorflow.experimental.numpy`` so that the image-metric oracle
(``isoflat_tf.geometry``) gets Jacobians by autodiff from the same code.
They must therefore use only ``xp`` functions on point-dependent values
(NumPy constants such as the pixel grid may mix in).
"""

from __future__ import annotations

import abc
import dataclasses
from types import ModuleType
from typing import ClassVar

import numpy as np

RENDER_BATCH = 4096


@dataclasses.dataclass(frozen=True)
class Manifold(abc.ABC):
    """An m-dimensional Riemannian manifold encoded as images.

    Attributes:
      image_size: height and width of rendered images in pixels.
    """

    image_size: int = 32

    name: ClassVar[str]
    dim: ClassVar[int]  # intrinsic dimension m
    point_dim: ClassVar[int]  # coordinates per point
    chart_dim: ClassVar[int | None] = None  # dimension of an isometric chart, if known
    diameter: ClassVar[float]  # intrinsic diameter, for relative errors
    volume: ClassVar[float]  # Riemannian volume (length for m = 1), for the knn graph scale
    channels: ClassVar[int] = 1
    colour_labels: ClassVar[tuple[str, str]] = ("first coordinate", "second coordinate")

    # --- geometry -----------------------------------------------------------
    @abc.abstractmethod
    def distance(self, p: np.ndarray, q: np.ndarray) -> np.ndarray:
        """Geodesic distance d(p, q), shape (n,)."""

    @abc.abstractmethod
    def geodesic(self, p: np.ndarray, q: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Points γ(t) on the minimising geodesic from p to q, shape (n, len(t), point_dim)."""

    def midpoint(self, p: np.ndarray, q: np.ndarray) -> np.ndarray:
        """Riemannian average argmin_w d(p,w)² + d(w,q)², shape (n, point_dim)."""
        return self.geodesic(p, q, np.array([0.5]))[:, 0]

    @abc.abstractmethod
    def exp(self, p: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Exponential map exp_p(v) for tangent vectors v at p."""

    def log(self, p: np.ndarray, q: np.ndarray) -> np.ndarray:
        """Logarithm map: the tangent vector v at p of the shortest geodesic, exp_p(v) = q."""
        raise NotImplementedError(f"manifold {self.name!r} defines no logarithm map")

    def tangent_norm(self, p: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Riemannian length of tangent vectors v at p, (n,). The default suits coordinates
        in which the metric is the Euclidean one of the ambient space."""
        return np.linalg.norm(v, axis=-1)

    @abc.abstractmethod
    def random_unit_tangent(self, rng: np.random.Generator, p: np.ndarray) -> np.ndarray:
        """Unit tangent vectors at p, uniform on the unit sphere of T_pM."""

    @abc.abstractmethod
    def sample_uniform(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """n points i.i.d. uniform with respect to the Riemannian volume."""

    def contains(self, p: np.ndarray) -> np.ndarray:
        """Whether points lie on the manifold (False outside a boundary)."""
        return np.ones(p.shape[0], dtype=bool)

    def ball_radius(self, rng: np.random.Generator, n: int, delta: float, inner: float = 0.0) -> np.ndarray:
        """Geodesic radii r so that exp_x(r v) is volume-uniform in the annulus inner ≤ r ≤ δ.

        This is the flat law (volume ∝ r^m); curved manifolds override it.
        """
        lo = (inner / delta) ** self.dim
        return delta * (lo + rng.uniform(size=n) * (1.0 - lo)) ** (1.0 / self.dim)

    def tangent_basis(self, p: np.ndarray) -> np.ndarray:
        """A basis of T_pM, orthonormal in the Riemannian metric, shape (n, dim, point_dim).

        The default suits manifolds whose coordinates are flat (the metric is
        the identity in them): the coordinate axes.
        """
        eye = np.eye(self.dim, self.point_dim)
        return np.broadcast_to(eye, (np.shape(p)[0], self.dim, self.point_dim)).copy()

    def retract(self, p, v, xp: ModuleType = np):
        """A smooth local chart around p: v ↦ a point near exp_p(v), first-order equal to it.

        Written with ``xp`` so the image oracle differentiates through it. The
        default p + v is the exponential map of flat coordinates; periodic
        coordinates need no wrapping because renderers are periodic in them.
        """
        return p + v

    def neighbour_space(self, p: np.ndarray) -> tuple[np.ndarray, np.ndarray | None] | None:
        """Coordinates (and a periodic box size, as for ``scipy.spatial.cKDTree``) in which
        Euclidean distance increases with the geodesic one, for fast neighbour search;
        None where there are none (searches then compare all pairs)."""
        return None

    def chart(self, p: np.ndarray) -> np.ndarray | None:
        """An isometric chart of the points, or None where none exists."""
        return None

    def wrap(self, p: np.ndarray) -> np.ndarray:
        """Canonical coordinates (periodic coordinates wrapped, projections applied)."""
        return p

    # --- encoding ---------------------------------------------------------
    @abc.abstractmethod
    def _render_batch(self, p, xp: ModuleType = np):
        """Images of shape (n, H, W, C), float64, for one batch of points, computed with ``xp``."""

    def render(self, p: np.ndarray) -> np.ndarray:
        """Images of the points, float32 (n, image_size, image_size, channels)."""
        p = np.asarray(p, dtype=np.float64)
        out = np.empty((p.shape[0], self.image_size, self.image_size, self.channels), np.float32)
        for start in range(0, p.shape[0], RENDER_BATCH):
            out[start : start + RENDER_BATCH] = self._render_batch(p[start : start + RENDER_BATCH])
        return out

    def render_tf(self, p):
        """Images of float64 TensorFlow points, differentiable in them (for the image oracle)."""
        import tensorflow.experimental.numpy as tnp

        return self._render_batch(p, tnp)

    def pixel_grid(self) -> tuple[np.ndarray, np.ndarray]:
        """Pixel-centre coordinates (u, v) in [0, 1], each (H, W); u runs along columns."""
        c = (np.arange(self.image_size) + 0.5) / self.image_size
        u, v = np.meshgrid(c, c)
        return u, v

    # --- figures ------------------------------------------------------------
    @abc.abstractmethod
    def grid_lines(self, n_lines: int = 5, n_points: int = 60) -> list[np.ndarray]:
        """Parameter grid lines, each an array (n_points, point_dim), for figures."""

    def colour_coordinates(self, p: np.ndarray) -> np.ndarray:
        """Two scalar coordinates per point in [0, 1] for colouring figures, (n, 2)."""
        c = self.chart(p)
        return c if c is not None else p[:, :2]

    def settings(self) -> dict:
        """Generator settings recorded in store attributes."""
        return dataclasses.asdict(self)


def smooth_step(x, xp: ModuleType = np):
    """Logistic sigmoid, numerically safe: a smooth (C^∞) edge profile."""
    return 0.5 * (1.0 + xp.tanh(0.5 * x))


def smooth_norm(dx, dy, xp: ModuleType = np):
    """sqrt(dx² + dy²) made differentiable at 0 (autodiff of a plain norm gives NaN there);
    the offset of 1e-12 changes values by at most 1e-6 of a pixel unit."""
    return xp.sqrt(dx**2 + dy**2 + 1e-12)


def gaussian_blob(u, v, centre_u, centre_v, angle, sigma_long: float, sigma_short: float, xp: ModuleType = np):
    """An anisotropic Gaussian blob, long axis at ``angle``, on the pixel grid (u, v).

    ``centre_*`` and ``angle`` have shape (n,); the result is (n, H, W). Its
    L2 norm and the norms of its derivatives in position and angle do not
    depend on position or angle (up to pixel sampling): the image metric of
    a moving or turning blob is nearly constant.
    """
    du = u[None] - centre_u[:, None, None]
    dv = v[None] - centre_v[:, None, None]
    c, s = xp.cos(angle)[:, None, None], xp.sin(angle)[:, None, None]
    along = c * du + s * dv
    across = -s * du + c * dv
    return xp.exp(-0.5 * ((along / sigma_long) ** 2 + (across / sigma_short) ** 2))


TWO_PI = 2.0 * np.pi


def wrap_angle(a: np.ndarray) -> np.ndarray:
    """Angles in [0, 2π)."""
    return np.mod(a, TWO_PI)


def angle_difference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The signed shortest turn from a to b, in [−π, π): the step across the seam at 0 ≡ 2π."""
    return np.mod(np.asarray(b) - np.asarray(a) + np.pi, TWO_PI) - np.pi


class EuclideanRegion(Manifold):
    """A region of the Euclidean plane in its own coordinates: straight geodesics, exp is addition."""

    def distance(self, p, q):
        return np.linalg.norm(np.asarray(q) - np.asarray(p), axis=-1)

    def geodesic(self, p, q, t):
        t = np.asarray(t, dtype=np.float64)[None, :, None]
        return (1.0 - t) * np.asarray(p)[:, None, :] + t * np.asarray(q)[:, None, :]

    def midpoint(self, p, q):
        return 0.5 * (np.asarray(p) + np.asarray(q))

    def exp(self, p, v):
        return np.asarray(p) + np.asarray(v)

    def log(self, p, q):
        return np.asarray(q, dtype=np.float64) - np.asarray(p)

    def neighbour_space(self, p):
        return np.asarray(p, dtype=np.float64), None


class UnitSquare(EuclideanRegion):
    """The unit square [0, 1]² in its own coordinates, which are an isometric chart."""

    dim = 2
    point_dim = 2
    chart_dim = 2
    diameter = float(np.sqrt(2.0))
    volume = 1.0

    def random_unit_tangent(self, rng, p):
        angle = rng.uniform(0.0, 2.0 * np.pi, size=np.shape(p)[0])
        return np.stack([np.cos(angle), np.sin(angle)], axis=-1)

    def sample_uniform(self, rng, n):
        return rng.uniform(size=(n, 2))

    def contains(self, p):
        return np.all((p >= 0.0) & (p <= 1.0), axis=-1)

    def chart(self, p):
        return np.asarray(p, dtype=np.float64)

    def grid_lines(self, n_lines=5, n_points=60):
        s = np.linspace(0.0, 1.0, n_points)
        lines = []
        for c in np.linspace(0.0, 1.0, n_lines):
            lines.append(np.stack([s, np.full_like(s, c)], axis=-1))
            lines.append(np.stack([np.full_like(s, c), s], axis=-1))
        return lines


class FlatAngles(Manifold):
    """Angles with the flat metric (circle, flat torus): geodesics are wrapped straight lines."""

    def distance(self, p, q):
        return np.linalg.norm(angle_difference(p, q), axis=-1)

    def geodesic(self, p, q, t):
        step = angle_difference(p, q)[:, None, :]
        t = np.asarray(t, dtype=np.float64)[None, :, None]
        return wrap_angle(np.asarray(p)[:, None, :] + t * step)

    def midpoint(self, p, q):
        return wrap_angle(p + 0.5 * angle_difference(p, q))

    def exp(self, p, v):
        return wrap_angle(np.asarray(p) + np.asarray(v))

    def log(self, p, q):
        return angle_difference(p, q)

    def neighbour_space(self, p):
        return np.asarray(p, dtype=np.float64), np.full(self.point_dim, TWO_PI)
