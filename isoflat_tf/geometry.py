"""Where distances and midpoints come from: the oracle (docs/design.md §3).

- ``intrinsic``: the manifold's own closed-form geometry.
- ``image``: the metric the rendered images inherit from the L2 distance
  (the pull-back of the Euclidean metric through the renderer). Its geodesics
  are approximated by discrete geodesics: paths p_0 = x, p_1, …, p_K = y in
  parameter space minimising the discrete energy E = Σ_k |I(p_k) − I(p_{k+1})|².
  The minimiser has equal chords, so the path length Σ_k |I(p_k) − I(p_{k+1})|
  is the discrete distance and p_{K/2} the midpoint. As K grows, they converge
  to the Riemannian distance and midpoint of the image metric.

The image oracle solves for the interior points in a local chart around the
intrinsic midpoint c (``Manifold.retract`` with an orthonormal tangent basis
at c), warm-started on the intrinsic geodesic, by Levenberg–Marquardt-damped
Gauss–Newton. The Jacobians of the renderer come from forward-mode autodiff
through ``Manifold.render_tf``, in float64. The Gauss–Newton normal matrix is
(SᵀS ⊗ 1) ∘ (J_aᵀ J_b) over interior points a, b, with S the K × (K−1)
difference operator mapping interior points to chords.

Distances are in image units: the L2 norm of image differences over all
pixels and channels, with pixel values in [0, 1].
"""

from __future__ import annotations

import dataclasses

import numpy as np

from isoflat_tf.manifolds import Manifold

GEOMETRIES = ("intrinsic", "image")


@dataclasses.dataclass(frozen=True)
class IntrinsicOracle:
    """Closed-form distances, midpoints and geodesics of the manifold itself."""

    manifold: Manifold
    name = "intrinsic"

    def distance_midpoint(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Distances (n,) and midpoints (n, point_dim) of the pairs (x, y)."""
        return self.manifold.distance(x, y), self.manifold.midpoint(x, y)

    def path(self, x: np.ndarray, y: np.ndarray, n_points: int) -> np.ndarray:
        """n_points equally spaced points of the geodesic from x to y, (n, n_points, point_dim)."""
        return self.manifold.geodesic(x, y, np.linspace(0.0, 1.0, n_points))


@dataclasses.dataclass(frozen=True)
class ImageOracle:
    """Discrete geodesics of the image metric (see the module docstring).

    Attributes:
      segments: K for distances and midpoints (even; K = 2 is the plain
        midpoint problem). Larger K approximates the Riemannian length better.
      max_iterations: Gauss–Newton iterations at most.
      tolerance: stop when no pair's energy fell by more than this fraction.
      batch_size: pairs solved together (memory grows with batch · K · pixels).
    """

    manifold: Manifold
    segments: int = 8
    max_iterations: int = 30
    tolerance: float = 1e-12
    batch_size: int = 256
    name = "image"

    def distance_midpoint(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Discrete-geodesic distances (n,) and midpoints (n, point_dim) with ``segments`` segments."""
        if self.segments % 2:
            raise ValueError(f"the image oracle needs an even number of segments for a midpoint, not {self.segments}")
        path, length = self.solve(x, y, self.segments)
        return length, path[:, self.segments // 2]

    def path(self, x: np.ndarray, y: np.ndarray, n_points: int) -> np.ndarray:
        """The discrete geodesic from x to y with n_points points (n_points − 1 segments)."""
        return self.solve(x, y, n_points - 1)[0]

    def solve(self, x: np.ndarray, y: np.ndarray, segments: int) -> tuple[np.ndarray, np.ndarray]:
        """Discrete geodesics with K = ``segments``: points (n, K+1, point_dim) and lengths (n,)."""
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        if segments < 1:
            raise ValueError(f"a path needs at least one segment, not {segments}")
        paths, lengths = [], []
        for start in range(0, x.shape[0], self.batch_size):
            p, length = self._solve_batch(
                x[start : start + self.batch_size], y[start : start + self.batch_size], segments
            )
            paths.append(p)
            lengths.append(length)
        if not paths:
            return np.empty((0, segments + 1, self.manifold.point_dim)), np.empty(0)
        return np.concatenate(paths), np.concatenate(lengths)

    def _solve_batch(self, x: np.ndarray, y: np.ndarray, segments: int) -> tuple[np.ndarray, np.ndarray]:
        import tensorflow as tf

        m = self.manifold
        n = x.shape[0]
        # Pad to a power of two (at most the batch size): the compiled step is traced for few shapes.
        pad = min(self.batch_size, 1 << (n - 1).bit_length()) - n
        if pad:
            x = np.concatenate([x, np.repeat(x[-1:], pad, axis=0)])
            y = np.concatenate([y, np.repeat(y[-1:], pad, axis=0)])
        centre = m.midpoint(x, y)
        basis = m.tangent_basis(centre)  # (n, dim, point_dim)
        # Coordinates of the log vectors in the basis (a transpose where the basis is Euclidean-orthonormal).
        dual = np.linalg.pinv(basis)  # (n, point_dim, dim)
        ax = np.einsum("np,npi->ni", m.log(centre, x), dual)
        ay = np.einsum("np,npi->ni", m.log(centre, y), dual)
        t = (np.arange(1, segments) / segments)[None, :, None]
        a = (1.0 - t) * ax[:, None, :] + t * ay[:, None, :]  # (n, K-1, dim): the geodesic, in the chart
        step = _compiled_step(m, segments)
        ends = (tf.constant(x), tf.constant(y), tf.constant(centre), tf.constant(basis))
        a = tf.constant(a)
        energy = _compiled_energy(m, segments)(a, *ends)
        damping = tf.fill([a.shape[0]], tf.constant(1e-3, tf.float64))
        for _ in range(self.max_iterations if segments > 1 else 0):
            a, new_energy, damping = step(a, energy, damping, *ends)
            if float(tf.reduce_max((energy - new_energy) / tf.maximum(energy, 1e-300))) < self.tolerance:
                energy = new_energy
                break
            energy = new_energy
        a = a.numpy()
        interior = _points(m, a, centre, basis, np)
        path = np.concatenate([x[:, None], interior, y[:, None]], axis=1)
        path = m.wrap(path.reshape(-1, m.point_dim)).reshape(path.shape)
        length = _compiled_length(m, segments)(tf.constant(a), *ends).numpy()
        return path[:n], length[:n]


def _points(m: Manifold, a, centre, basis, xp):
    """Chart coordinates a (n, K-1, dim) around ``centre`` to points (n, K-1, point_dim)."""
    v = xp.einsum("nki,nip->nkp", a, basis)
    return m.retract(centre[:, None, :], v, xp)


def _images(m: Manifold, a, x, y, centre, basis):
    """Flattened images of the whole path, (n, K+1, pixels), in TensorFlow."""
    import tensorflow as tf
    import tensorflow.experimental.numpy as tnp

    n, k1 = tf.shape(a)[0], a.shape[1]
    pts = _points(m, a, centre, basis, tnp)
    flat = tf.reshape(pts, [-1, m.point_dim])
    interior = tf.reshape(m.render_tf(flat), [n, k1, -1])
    ix = tf.reshape(m.render_tf(x), [n, 1, -1])
    iy = tf.reshape(m.render_tf(y), [n, 1, -1])
    return tf.concat([ix, interior, iy], axis=1)


def _chords(m: Manifold, a, x, y, centre, basis):
    images = _images(m, a, x, y, centre, basis)
    return images[:, :-1] - images[:, 1:]  # r_k = I(p_k) − I(p_{k+1}), (n, K, pixels)


_CACHE: dict = {}


def _cached(kind: str, m: Manifold, segments: int, build):
    key = (kind, m, segments)
    if key not in _CACHE:
        _CACHE[key] = build()
    return _CACHE[key]


def _compiled_energy(m: Manifold, segments: int):
    import tensorflow as tf

    def build():
        @tf.function
        def energy(a, x, y, centre, basis):
            return tf.reduce_sum(_chords(m, a, x, y, centre, basis) ** 2, axis=[1, 2])

        return energy

    return _cached("energy", m, segments, build)


def _compiled_length(m: Manifold, segments: int):
    import tensorflow as tf

    def build():
        @tf.function
        def length(a, x, y, centre, basis):
            return tf.reduce_sum(tf.norm(_chords(m, a, x, y, centre, basis), axis=2), axis=1)

        return length

    return _cached("length", m, segments, build)


def _compiled_step(m: Manifold, segments: int):
    """One damped Gauss–Newton step for all pairs; a pair keeps its old points if its energy rose."""
    import tensorflow as tf

    k1, dim = segments - 1, m.dim
    # S: chords from interior points, r_k depends on interior point j (path index j+1) with sign S[k, j].
    s = np.zeros((segments, k1))
    s[np.arange(k1) + 1, np.arange(k1)] = 1.0
    s[np.arange(k1), np.arange(k1)] = -1.0
    sts = tf.constant(s.T @ s)
    s_t = tf.constant(s.T)
    energy_fn = _compiled_energy(m, segments)

    def build():
        @tf.function
        def step(a, energy, damping, x, y, centre, basis):
            jac = []
            for i in range(dim):  # forward mode: one pass per tangent direction, dim ≤ 3
                tangent = tf.one_hot(tf.fill(tf.shape(a)[:2], i), dim, dtype=a.dtype)
                with tf.autodiff.ForwardAccumulator(a, tangent) as acc:
                    images = _images(m, a, x, y, centre, basis)
                jac.append(acc.jvp(images)[:, 1:-1])  # (n, K-1, pixels)
            jac = tf.stack(jac, axis=-1)  # (n, K-1, pixels, dim)
            chords = images[:, :-1] - images[:, 1:]
            n = tf.shape(a)[0]
            gram = tf.einsum("napi,nbpj->naibj", jac, jac)
            normal = gram * tf.reshape(sts, [1, k1, 1, k1, 1])
            normal = tf.reshape(normal, [n, k1 * dim, k1 * dim])
            grad = tf.einsum("nkpi,nkp->nki", jac, tf.einsum("jk,nkp->njp", s_t, chords))
            grad = tf.reshape(grad, [n, k1 * dim, 1])
            scale = tf.reduce_mean(tf.linalg.diag_part(normal), axis=1) + 1e-300
            eye = tf.eye(k1 * dim, dtype=a.dtype)[None]
            lhs = normal + (damping * scale)[:, None, None] * eye
            delta = -tf.reshape(tf.linalg.solve(lhs, grad), [n, k1, dim])
            trial = a + delta
            trial_energy = energy_fn(trial, x, y, centre, basis)
            better = trial_energy < energy
            a = tf.where(better[:, None, None], trial, a)
            energy = tf.where(better, trial_energy, energy)
            damping = tf.where(better, tf.maximum(damping / 3.0, 1e-9), damping * 4.0)
            return a, energy, damping

        return step

    return _cached("step", m, segments, build)


def oracle(manifold: Manifold, geometry: str, **settings):
    """The oracle of the named geometry for ``manifold`` (settings go to the image oracle)."""
    if geometry == "intrinsic":
        return IntrinsicOracle(manifold)
    if geometry == "image":
        return ImageOracle(manifold, **settings)
    raise ValueError(f"unknown geometry {geometry!r}; available: {', '.join(GEOMETRIES)}")


def compare_with_oracle(
    manifold: Manifold, oracle, x: np.ndarray, y: np.ndarray, z: np.ndarray, distance: np.ndarray
) -> dict[str, float]:
    """How far estimated distances and midpoints are from an oracle's (docs/design.md §3, the data geometry).

    ``x``, ``y`` are points of pairs, ``z`` the points taken as their midpoints
    and ``distance`` the estimated distances. The midpoint error ε is measured
    where the oracle measures distance (in image units for the image oracle,
    on the manifold for the intrinsic one), so that ε / d² and 4ε²/d⁴ (what
    ε adds to b for an encoder with |Dφ| = 1) are in the units of the loss.
    """
    true_distance, true_midpoint = oracle.distance_midpoint(x, y)
    if oracle.name == "image":
        flat = lambda p: manifold.render(p).reshape(len(p), -1).astype(np.float64)  # noqa: E731
        error = np.linalg.norm(flat(z) - flat(true_midpoint), axis=1)
        # b of the identity on the images, with the estimated and with the exact midpoints and distances.
        second = flat(x) + flat(y)
        b_estimated = np.sum((second - 2 * flat(z)) ** 2, axis=1) / distance**4
        b_exact = np.sum((second - 2 * flat(true_midpoint)) ** 2, axis=1) / true_distance**4
    else:
        error = manifold.distance(z, true_midpoint)
        b_estimated = b_exact = np.full(len(x), np.nan)
    relative = distance / true_distance - 1.0
    return {
        "pairs": int(len(x)),
        "mean_abs_relative_distance_error": float(np.mean(np.abs(relative))),
        "mean_relative_distance_error": float(np.mean(relative)),
        "mean_midpoint_error_per_d2": float(np.mean(error / true_distance**2)),
        "midpoint_bias_on_b": float(np.mean(4.0 * error**2 / true_distance**4)),
        "b_identity_estimated": float(np.mean(b_estimated)),
        "b_identity_exact": float(np.mean(b_exact)),
    }
