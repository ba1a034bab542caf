"""Pair sampling: (x, y) nearby points with their distance d and midpoint z.

docs/design.md §4. The strategies place the points x and y; the distance and the
midpoint then come from an oracle (``isoflat_tf.geometry``): the closed-form
intrinsic geometry by default, or the image metric.

- ``ball``: ``x`` volume-uniform on M, ``y`` volume-uniform in the geodesic
  ball B_δ(x): a geodesic radius drawn from the ball's radial law and a
  direction uniform in T_xM.
- ``sphere``: ``x`` volume-uniform, ``y`` on the geodesic sphere ∂B_δ(x),
  y = exp_x(δ v) with v uniform on the unit sphere of T_xM (d = δ for every
  pair in the intrinsic geometry; ``min_distance_fraction`` plays no part).
- ``knn``: batches of N i.i.d. volume-uniform points; every point is paired
  with its k = ``neighbours`` nearest others (intrinsic distance), each
  unordered pair once. N = k·vol(M)/(ω_m δ^m), so that a point has on average
  k others within δ: the graph scale is δ, but a pair may be longer (its
  k-th neighbour lies beyond δ for about half the points). Batches are drawn
  until there are enough pairs, then n are kept at random.

Boundary handling. ``ball`` and ``sphere``: a pair whose ``y`` leaves a
manifold with boundary is redrawn (both x and y). This rejection makes x
slightly less likely near the boundary: within δ of an edge the acceptance
probability falls to about 1/2 at the edge itself (1/4 at a corner of the
square), so pairs there are under-represented by at most that factor (for
``sphere`` it is exactly 1/2 at an edge). ``knn`` rejects nothing: both
points are inside by construction, but near an edge all neighbours lie on
one side, so pairs there point inwards and are longer (the k nearest
neighbours of a point at an edge lie up to √2 times further away).
Periodic coordinates wrap: no strategy sees a seam.

``min_distance_fraction`` ρ conditions y on d ≥ ρδ (volume-uniform in the
annulus ρδ ≤ d ≤ δ). The encoder runs in float32, whose rounding noise of
about 1e-7 in φ enters the bending b = |second difference|²/d⁴ as
~1e-14/d⁴: for pairs with d ≈ 1e-4 that is ~100, larger than the signal.
Both loss terms are scale-free in d, so the Γ-limit does not depend on the
radial law of the pairs, and excluding the tiny ones costs nothing.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.spatial import cKDTree

from isoflat_tf.geometry import IntrinsicOracle
from isoflat_tf.manifolds import Manifold
from isoflat_tf.registry import Registry

# A strategy places the points of n pairs: (manifold, rng, n, delta, min_distance_fraction, neighbours) -> (x, y).
# Register a new one with ``@STRATEGIES.register("<name>")``: ``pairs.strategy`` accepts it from then on.
STRATEGIES: Registry = Registry("sampling strategy")
MAX_REJECTION_ROUNDS = 1000
MAX_KNN_POINTS = 50_000  # a batch's all-pairs distances cost N²; beyond this δ is too small for knn
UNIT_BALL_VOLUME = {1: 2.0, 2: np.pi, 3: 4.0 * np.pi / 3.0}


@dataclasses.dataclass(frozen=True)
class PointPairs:
    """Pairs of manifold points: x, y, their midpoint z and distance d."""

    x: np.ndarray
    y: np.ndarray
    z: np.ndarray
    distance: np.ndarray


def pairs_at_radius(
    manifold: Manifold, rng: np.random.Generator, x: np.ndarray, radius_fn
) -> tuple[np.ndarray, np.ndarray]:
    """For given x, draw y = exp_x(r v) with r = radius_fn(n) and v uniform unit tangent.

    Pairs with y outside M are redrawn with a fresh x from the same law as the
    rows given (volume-uniform), so the result keeps len(x) rows.
    Returns (x, y).
    """
    x = np.array(x, dtype=np.float64)
    y = np.empty_like(x)
    todo = np.arange(x.shape[0])
    for _ in range(MAX_REJECTION_ROUNDS):
        r = radius_fn(todo.size)
        v = manifold.random_unit_tangent(rng, x[todo]) * r[:, None]
        y[todo] = manifold.wrap(manifold.exp(x[todo], v))
        bad = todo[~manifold.contains(y[todo])]
        if bad.size == 0:
            return x, y
        x[bad] = manifold.sample_uniform(rng, bad.size)
        todo = bad
    raise RuntimeError(f"{manifold.name}: could not place pairs inside the manifold; is δ far too large?")


def ball_points(
    manifold: Manifold, rng: np.random.Generator, n: int, delta: float, min_distance_fraction: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """``ball`` strategy: x volume-uniform, y volume-uniform in B_δ(x) minus B_ρδ(x)."""
    x = manifold.sample_uniform(rng, n)
    inner = min_distance_fraction * delta
    return pairs_at_radius(manifold, rng, x, lambda k: manifold.ball_radius(rng, k, delta, inner))


def sphere_points(manifold: Manifold, rng: np.random.Generator, n: int, delta: float) -> tuple[np.ndarray, np.ndarray]:
    """``sphere`` strategy: x volume-uniform, y = exp_x(δ v), v a uniform unit tangent."""
    return pairs_at_distance(manifold, rng, manifold.sample_uniform(rng, n), delta)


def knn_batch_size(manifold: Manifold, delta: float, neighbours: int) -> int:
    """N such that a point has on average ``neighbours`` others within δ (flat ball volume)."""
    return int(np.ceil(neighbours * manifold.volume / (UNIT_BALL_VOLUME[manifold.dim] * delta**manifold.dim))) + 1


def nearest_neighbours(manifold: Manifold, points: np.ndarray, k: int) -> np.ndarray:
    """Indices (N, k) of each point's k nearest other points, by intrinsic distance.

    A k-d tree in the manifold's ``neighbour_space`` where it has one, else all pairs blockwise (N²).
    """
    n = points.shape[0]
    if k >= n:
        raise ValueError(f"cannot take {k} neighbours among {n} points")
    space = manifold.neighbour_space(points)
    if space is not None:
        coords, box = space
        _, idx = cKDTree(coords, boxsize=box).query(coords, k + 1)
        return _drop_self(idx, k)
    return brute_force_neighbours(manifold, points, k)


def _drop_self(idx: np.ndarray, k: int) -> np.ndarray:
    """From k + 1 nearest (including the point itself, usually first), the k others."""
    own = np.arange(idx.shape[0])[:, None]
    others = idx != own
    # Keep the first k non-self entries of each row (a duplicate point may precede oneself).
    order = np.argsort(~others, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(idx, order, axis=1)


def brute_force_neighbours(manifold: Manifold, points: np.ndarray, k: int) -> np.ndarray:
    """Indices (N, k) of each point's k nearest other points, comparing all pairs blockwise."""
    n = points.shape[0]
    block = max(1, 2_000_000 // n)
    out = np.empty((n, k), dtype=np.int64)
    for start in range(0, n, block):
        rows = points[start : start + block]
        d = manifold.distance(np.repeat(rows, n, axis=0), np.tile(points, (rows.shape[0], 1))).reshape(-1, n)
        d[np.arange(rows.shape[0]), np.arange(start, start + rows.shape[0])] = np.inf  # not oneself
        nearest = np.argpartition(d, k - 1, axis=1)[:, :k]
        out[start : start + rows.shape[0]] = nearest
    return out


def knn_points(
    manifold: Manifold,
    rng: np.random.Generator,
    n: int,
    delta: float,
    neighbours: int,
    min_distance_fraction: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """``knn`` strategy: unordered neighbour pairs among batches of i.i.d. points (see module doc).

    Pairs closer than ρδ are dropped, as for ``ball``.
    """
    size = knn_batch_size(manifold, delta, neighbours)
    if size > MAX_KNN_POINTS:
        raise ValueError(
            f"knn pairs at δ={delta:g} on {manifold.name} need batches of {size} points (> {MAX_KNN_POINTS}); "
            "increase δ or lower pairs.neighbours"
        )
    xs, ys, have = [], [], 0
    while have < n:
        points = manifold.sample_uniform(rng, size)
        nn = nearest_neighbours(manifold, points, neighbours)
        i = np.repeat(np.arange(size), neighbours)
        j = nn.ravel()
        pairs = np.unique(np.stack([np.minimum(i, j), np.maximum(i, j)], axis=1), axis=0)
        d = manifold.distance(points[pairs[:, 0]], points[pairs[:, 1]])
        pairs = pairs[d >= min_distance_fraction * delta]
        if pairs.shape[0] == 0:
            raise ValueError(f"knn on {manifold.name}: no neighbour pair is ≥ ρδ; lower min_distance_fraction")
        xs.append(points[pairs[:, 0]])
        ys.append(points[pairs[:, 1]])
        have += pairs.shape[0]
    x, y = np.concatenate(xs), np.concatenate(ys)
    keep = rng.permutation(x.shape[0])[:n]
    # Random orientation: otherwise x would be the lower-indexed point of every pair.
    swap = rng.uniform(size=n) < 0.5
    x, y = x[keep], y[keep]
    x[swap], y[swap] = y[swap], x[swap].copy()
    return x, y


@STRATEGIES.register("ball")
def _ball(manifold, rng, n, delta, min_distance_fraction, neighbours):
    return ball_points(manifold, rng, n, delta, min_distance_fraction)


@STRATEGIES.register("sphere")
def _sphere(manifold, rng, n, delta, min_distance_fraction, neighbours):
    return sphere_points(manifold, rng, n, delta)


@STRATEGIES.register("knn")
def _knn(manifold, rng, n, delta, min_distance_fraction, neighbours):
    return knn_points(manifold, rng, n, delta, neighbours, min_distance_fraction)


def sample_pairs(
    manifold: Manifold,
    strategy: str,
    rng: np.random.Generator,
    n: int,
    delta: float,
    min_distance_fraction: float = 0.0,
    neighbours: int = 8,
    oracle=None,
) -> PointPairs:
    """Sample n pairs with the registered strategy at scale δ; d and z from ``oracle`` (intrinsic by default)."""
    x, y = STRATEGIES.get(strategy)(manifold, rng, n, delta, min_distance_fraction, neighbours)
    distance, z = (oracle or IntrinsicOracle(manifold)).distance_midpoint(x, y)
    return PointPairs(x=x, y=y, z=z, distance=distance)


def pairs_at_distance(
    manifold: Manifold, rng: np.random.Generator, x: np.ndarray, distance: float
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (x, y) at exactly the given geodesic distance, y in a uniform direction."""
    return pairs_at_radius(manifold, rng, x, lambda k: np.full(k, distance))
