"""Distances and midpoints estimated from samples alone: the ``data`` geometry (docs/design.md §3, the data geometry).

Given samples x_1, …, x_N of a manifold (flattened images or feature
vectors) and nothing else, this module builds training pairs (x, y), their
distance d and their midpoint z, where z is itself one of the samples:

1. A k-nearest-neighbour graph, by exact brute force in chunks (no N × N
   matrix): duplicates, disconnected components and the intrinsic dimension
   are read off it.
2. A tangent basis at every sample, from a local PCA of its nearest
   neighbours.
3. **Mirror triples.** For each sample z, pairs (x, y) of its neighbours that
   lie on opposite sides of z: in z's tangent coordinates u, the midpoint
   residual ρ = |u(x) + u(y)| / 2 is how far z is from the midpoint of x and
   y. d is the length of the two-edge graph path x – z – y.

Why a residual bound and not the nearest sample to the midpoint: the bending
term divides by d⁴, so a midpoint off by ε adds about 4|Dφ ε|²/d⁴ to b. With
sample spacing h the nearest sample is off by ε ~ h, a bias of h²/d⁴ that
swamps the true bending. Keeping only triples with ρ ≤ c · d² / ℓ bounds the
bias by 4c²/ℓ² (ℓ: the data's geodesic diameter, estimated on the graph; c:
``midpoint_tolerance``), independently of how densely the data is sampled;
denser data only yields more triples at shorter distances. The pair radius
is the smallest one that yields the pairs asked for. Distances are handed
on in units of ℓ (``DataPairs.distance``).

Everything is NumPy, SciPy and scikit-learn; nothing here imports TensorFlow.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import logging
import math
import os
import time
from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

if TYPE_CHECKING:
    from isoflat_tf.config import PairsConfig

log = logging.getLogger("isoflat")

# Samples whose nearest neighbour is closer than this fraction of the median
# nearest-neighbour distance count as duplicates (zero distances make the
# graph and the distances meaningless).
DUPLICATE_FRACTION = 1e-6
# Below this share of samples whose candidate neighbourhood reaches half the
# pair radius, the pairs come mostly from where the data is sparse: a warning.
MIN_COVERAGE = 0.5


class SamplesError(ValueError):
    """Samples that no neighbour graph can be built on (names the problem)."""


@dataclasses.dataclass(frozen=True)
class Graph:
    """The k-nearest-neighbour graph of the samples.

    Attributes:
      indices: (N, k) neighbours of each sample, nearest first.
      distances: (N, k) their distances.
    """

    indices: np.ndarray
    distances: np.ndarray

    @property
    def k(self) -> int:
        return self.indices.shape[1]

    def adjacency(self, k: int | None = None) -> sparse.csr_matrix:
        """The symmetric graph of each sample's ``k`` nearest neighbours, weighted by distance."""
        k = self.k if k is None else min(k, self.k)
        n = self.indices.shape[0]
        rows = np.repeat(np.arange(n), k)
        a = sparse.csr_matrix((self.distances[:, :k].ravel(), (rows, self.indices[:, :k].ravel())), shape=(n, n))
        return a.maximum(a.T)


@dataclasses.dataclass(frozen=True)
class Triples:
    """Mirror triples: samples ``x`` and ``y`` with the sample ``z`` near their midpoint.

    Attributes:
      x, y, z: (n,) sample indices.
      distance: (n,) d = |x − z| + |z − y|, the graph path through z.
      residual: (n,) ρ, z's distance from the midpoint of x and y in z's tangent coordinates.
    """

    x: np.ndarray
    y: np.ndarray
    z: np.ndarray
    distance: np.ndarray
    residual: np.ndarray

    def __len__(self) -> int:
        return self.x.size

    def take(self, which: np.ndarray) -> Triples:
        return Triples(*(getattr(self, f.name)[which] for f in dataclasses.fields(self)))


@dataclasses.dataclass(frozen=True)
class DataPairs:
    """Pairs estimated from samples, and what was learnt about the samples on the way.

    Attributes:
      triples: the chosen pairs (indices into the samples).
      radius: the pair radius R: every distance lies in [min_distance_fraction · R, R].
      dimension: the intrinsic dimension used for the tangent spaces.
      diameter: ℓ, the graph's estimate of the data's geodesic diameter.
      residual_bias: 4 mean(ρ²/d⁴) over the chosen pairs: what the measured
        midpoint residuals add to b for an encoder with |Dφ| = 1 (the tangent
        estimate misses part of the true offset: measure against an oracle,
        ``benchmarks/data_geometry.py``).
      candidates: how many triples passed the residual bound at any distance.
    """

    triples: Triples
    radius: float
    dimension: int
    diameter: float
    residual_bias: float
    candidates: int

    @property
    def distance(self) -> np.ndarray:
        """The pairs' distances in units of the data's diameter ℓ: what training and evaluation use.

        The loss weighs bending, which has units of 1/length², by λ: measured
        in diameters, λ means the same for any data, whatever its own units
        (image distances of one dataset can be 30 times another's).
        """
        return self.triples.distance / self.diameter

    def arrays(self, samples: np.ndarray) -> dict[str, np.ndarray]:
        """The training arrays of the pairs: samples ``x``, ``y``, ``z`` and ``distance`` in diameters."""
        t = self.triples
        return {"x": samples[t.x], "y": samples[t.y], "z": samples[t.z], "distance": self.distance}


def flatten(samples: np.ndarray) -> np.ndarray:
    """Samples as float32 row vectors (images (n, h, w, c) or features (n, f))."""
    return np.ascontiguousarray(np.asarray(samples, dtype=np.float32).reshape(len(samples), -1))


def nearest_neighbours(
    x: np.ndarray, k: int, name: str = "samples", chunk: int | None = None, allow_duplicates: bool = False
) -> Graph:
    """The exact k-nearest-neighbour graph of the rows of ``x``, computed in chunks of rows.

    Memory stays at ``chunk`` × N distances (by default about 2²⁵ of them, 256 MB). Distances come from the expansion
    |a|² + |b|² − 2a·b in float64 on centred data: in float32 it would lose
    the small distances of densely sampled, high-dimensional data (on the
    circle's 18 000 inputs, whose nearest neighbours lie 2 × 10⁻⁷ of their
    squared norm apart, float32 set many edges to length 0, and Isomap of
    that graph tore the circle open).

    Raises:
      SamplesError: too few samples for k, or duplicate samples (unless ``allow_duplicates``).
    """
    n = x.shape[0]
    if n <= k:
        raise SamplesError(f"{name}: {n} samples are too few for a graph of {k} neighbours; need more than {k}")
    chunk = chunk or max(16, min(1024, 2**25 // n))
    x = np.asarray(x, np.float64)
    x = x - x.mean(axis=0)
    squared = np.einsum("nd,nd->n", x, x)
    indices = np.empty((n, k), np.int64)
    distances = np.empty((n, k), np.float64)
    workers = available_cores()
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        for start in range(0, n, chunk):
            rows = np.arange(start, min(start + chunk, n))
            d2 = x[rows] @ x.T
            d2 *= -2.0  # in place: the chunk is the largest array here
            d2 += squared[rows, None]
            d2 += squared[None, :]
            d2[np.arange(rows.size), rows] = np.inf  # not its own neighbour
            near = smallest_in_rows(d2, k, pool, workers)
            near_d2 = np.take_along_axis(d2, near, axis=1)
            order = np.lexsort((near, near_d2), axis=1)  # by distance, ties by index: deterministic
            indices[rows] = np.take_along_axis(near, order, axis=1)
            distances[rows] = np.sqrt(np.maximum(np.take_along_axis(near_d2, order, axis=1), 0.0))
    if not allow_duplicates:
        check_duplicates(distances, indices, name)
    return Graph(indices, distances)


def smallest_in_rows(values: np.ndarray, k: int, pool: concurrent.futures.Executor, parts: int) -> np.ndarray:
    """The column indices of the ``k`` smallest entries of each row, unordered; ``parts`` runs of rows on ``pool``.

    NumPy's partition runs on one core but releases the GIL, so threads run it
    on several cores at once: 2× on two cores for 1 024 rows of 19 000 random
    distances, less in the graph, where BLAS's threads compete for the cores.
    """
    found = pool.map(lambda run: np.argpartition(run, k - 1, axis=1)[:, :k], np.array_split(values, parts))
    return np.concatenate(list(found))


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity where the OS has one, e.g. under SLURM)."""
    if hasattr(os, "sched_getaffinity"):  # Linux; not macOS or Windows
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def check_duplicates(distances: np.ndarray, indices: np.ndarray, name: str) -> None:
    """Raise if some samples coincide with their nearest neighbour."""
    nearest = distances[:, 0]
    scale = float(np.median(nearest))
    duplicate = nearest <= DUPLICATE_FRACTION * scale if scale > 0 else np.ones_like(nearest, dtype=bool)
    if duplicate.any():
        first = int(np.argmax(duplicate))
        raise SamplesError(
            f"{name}: {int(duplicate.sum())} of {nearest.size} samples coincide with another sample "
            f"(zero distance; e.g. samples {first} and {int(indices[first, 0])}): remove duplicates, "
            "they give pairs of distance 0"
        )


def components(graph: Graph, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Connected components of the symmetric ``k``-neighbour graph: labels (N,) and sizes, largest first."""
    _, labels = csgraph.connected_components(graph.adjacency(k), directed=False)
    sizes = np.bincount(labels)
    order = np.argsort(-sizes, kind="stable")
    relabel = np.empty_like(order)
    relabel[order] = np.arange(order.size)
    return relabel[labels], sizes[order]


def intrinsic_dimension(graph: Graph, k: int = 10) -> float:
    """The Levina–Bickel maximum-likelihood estimate of the intrinsic dimension, from k neighbour distances."""
    k = min(k, graph.k)
    t = graph.distances[:, :k]
    logs = np.log(t[:, -1:] / t[:, :-1])
    per_sample = (k - 2) / np.maximum(logs.sum(axis=1), 1e-12)  # the bias-corrected estimator
    return float(np.mean(per_sample))


def geodesic_diameter(graph: Graph, k: int, seed: int = 0) -> float:
    """ℓ: the largest shortest-path distance in the ``k``-neighbour graph, by a double sweep."""
    a = graph.adjacency(k)
    start = int(np.random.default_rng(seed).integers(a.shape[0]))
    far = start
    for _ in range(2):
        d = csgraph.dijkstra(a, directed=False, indices=far)
        d[~np.isfinite(d)] = -1
        far = int(np.argmax(d))
    return float(d.max())


def tangent_bases(x: np.ndarray, graph: Graph, dimension: int, k: int, chunk: int = 512) -> np.ndarray:
    """(N, dimension, D) orthonormal tangent bases from a PCA of each sample's ``k`` nearest neighbours."""
    k = min(k, graph.k)
    n, width = x.shape
    bases = np.empty((n, dimension, width), np.float32)
    for start in range(0, n, chunk):
        rows = slice(start, min(start + chunk, n))
        patch = np.concatenate([x[rows, None], x[graph.indices[rows, :k]]], axis=1)  # (b, k+1, D)
        patch = patch - patch.mean(axis=1, keepdims=True)
        # The leading right singular vectors, through the small (k+1)² Gram matrix.
        gram = np.einsum("bkd,bjd->bkj", patch, patch)
        values, vectors = np.linalg.eigh(gram.astype(np.float64))
        top = vectors[:, :, ::-1][:, :, :dimension]
        scale = np.sqrt(np.maximum(values[:, ::-1][:, :dimension], 1e-30))
        basis = np.einsum("bkd,bkn->bnd", patch, top.astype(np.float32)) / scale[:, :, None].astype(np.float32)
        bases[rows] = basis
    return bases


def mirror_triples(
    x: np.ndarray, graph: Graph, bases: np.ndarray, max_residual_per_d2: float, chunk: int = 256
) -> Triples:
    """For each sample z and each neighbour x_i, the neighbour x_j nearest to x_i's mirror image through z.

    Kept where the midpoint residual ρ = |u_i + u_j| / 2 ≤ (c / ℓ) · d², with
    ``max_residual_per_d2`` = c / ℓ. A pair found through several z keeps the
    z with the smallest residual.
    """
    from scipy.spatial import cKDTree

    n, k = graph.indices.shape
    found = []
    for start in range(0, n, chunk):
        rows = np.arange(start, min(start + chunk, n))
        neighbours = graph.indices[rows]  # (b, k)
        u = np.einsum("bkd,bnd->bkn", x[neighbours] - x[rows, None], bases[rows])  # tangent coordinates
        for b, z in enumerate(rows):
            _, j = cKDTree(u[b]).query(-u[b], k=1)
            i = np.arange(k)
            keep = i < j  # each unordered pair once, and never a sample with itself
            i, j = i[keep], j[keep]
            residual = 0.5 * np.linalg.norm(u[b, i] + u[b, j], axis=-1)
            d = graph.distances[z, i] + graph.distances[z, j]
            ok = residual <= max_residual_per_d2 * d * d
            found.append((neighbours[b, i[ok]], neighbours[b, j[ok]], np.full(ok.sum(), z), d[ok], residual[ok]))
    xs, ys, zs, ds, rs = (np.concatenate(parts) for parts in zip(*found, strict=True))
    lo, hi = np.minimum(xs, ys), np.maximum(xs, ys)
    order = np.lexsort((rs, hi, lo))
    first = np.ones(order.size, bool)
    first[1:] = (lo[order][1:] != lo[order][:-1]) | (hi[order][1:] != hi[order][:-1])
    best = order[first]
    lo, hi, zs = lo[best], hi[best], zs[best]
    distance = arc_length(ds[best].astype(np.float64), chord_lengths(x, lo, hi))
    return Triples(lo, hi, zs, distance, rs[best].astype(np.float64))


def chord_lengths(x: np.ndarray, i: np.ndarray, j: np.ndarray, chunk: int = 65536) -> np.ndarray:
    """|x_i − x_j| for index arrays ``i`` and ``j``, in chunks."""
    return np.concatenate(
        [np.linalg.norm(x[i[s : s + chunk]] - x[j[s : s + chunk]], axis=1) for s in range(0, i.size, chunk)]
        or [np.empty(0)]
    ).astype(np.float64)


def arc_length(path: np.ndarray, chord: np.ndarray) -> np.ndarray:
    """The length of the circular arc through x, z, y, from the two-edge path |x − z| + |z − y| and the chord |x − y|.

    A geodesic of the data manifold is, to second order, a circular arc in the
    ambient space; the two-edge path alone falls short of it by a relative
    κ²d²/96. For an arc of central angle 4α with z at its middle,
    chord / path = cos α and arc / path = α / sin α.
    """
    alpha = np.arccos(np.clip(chord / path, 0.0, 1.0))
    return path / np.sinc(alpha / np.pi)


def settings_of(pairs: PairsConfig) -> dict:
    """The keyword arguments of ``estimate_pairs`` that a run's pair settings give."""
    return {
        "neighbours": pairs.neighbours,
        "candidates": pairs.candidates,
        "midpoint_tolerance": pairs.midpoint_tolerance,
        "min_distance_fraction": pairs.min_distance_fraction,
        "radius": None if pairs.radius == "auto" else float(pairs.radius),
    }


def smallest_radius(distance: np.ndarray, n_pairs: int, min_fraction: float, reach: float) -> float:
    """The smallest R ≤ reach with at least ``n_pairs`` distances in [min_fraction · R, R] (else ``reach``,
    the longest distance a triple can have)."""
    d = np.sort(distance)
    candidates = d[(d <= reach) & (np.arange(d.size) + 1 >= n_pairs)]
    for radius in candidates:
        if np.searchsorted(d, radius, "right") - np.searchsorted(d, min_fraction * radius, "left") >= n_pairs:
            return float(radius)
    return float(reach)


def estimate_pairs(
    samples: np.ndarray,
    n_pairs: int,
    rng: np.random.Generator,
    *,
    neighbours: int,
    candidates: int,
    midpoint_tolerance: float,
    min_distance_fraction: float,
    radius: float | None = None,
    dimension: int | None = None,
    largest_component: bool = False,
    name: str = "samples",
) -> DataPairs:
    """Pairs, distances and midpoints of ``samples`` from the samples alone (see the module docstring).

    Args:
      samples: (N, …) images or feature vectors.
      n_pairs: pairs wanted; fewer are returned (with a warning) where the data holds fewer.
      neighbours: the nearest neighbours of each sample its tangent space is fitted to.
      candidates: how many nearest neighbours of each sample are searched for mirror pairs.
      midpoint_tolerance: c of the residual bound ρ ≤ c d² / ℓ.
      min_distance_fraction: pairs shorter than this fraction of the radius are left out.
      radius: the pair radius in the samples' units; None chooses it from the data.
      dimension: the intrinsic dimension; None estimates it.
      largest_component: where the graph falls apart, pair the samples of its
        largest component only (the indices returned still index ``samples``);
        otherwise that is an error.

    Raises:
      SamplesError: too few samples, duplicates, a disconnected graph, or no pairs.
    """
    start = time.perf_counter()
    x = flatten(samples)
    if x.shape[0] <= neighbours:
        raise SamplesError(
            f"{name}: {x.shape[0]} samples are too few for a graph of {neighbours} neighbours (pairs.neighbours); "
            f"need more than {neighbours}"
        )
    # Fewer samples than candidates: every other sample is a candidate.
    candidates = min(candidates, x.shape[0] - 1)
    graph = nearest_neighbours(x, max(neighbours, candidates), name)
    # Components and diameter on a graph of at least 3 ln N neighbours: the random gaps of
    # a densely sampled curve are about ln N spacings wide, and fewer neighbours cut it there.
    k_graph = min(graph.k, max(neighbours, math.ceil(3 * math.log(x.shape[0]))))
    labels, sizes = components(graph, k_graph)
    if sizes.size > 1:
        described = (
            f"{sizes.size} components of {', '.join(str(s) for s in sizes[:5])}{', …' if sizes.size > 5 else ''}"
        )
        if not largest_component:
            raise SamplesError(
                f"{name}: the {k_graph}-neighbour graph has {described} samples: pairs cannot connect them. "
                "Use more samples or neighbours, or embed only the largest component (largest_component: true)"
            )
        log.warning("%s: the neighbour graph has %s samples; pairing the largest only", name, described)
        kept = np.nonzero(labels == 0)[0]
        pairs = estimate_pairs(
            samples[kept],
            n_pairs,
            rng,
            neighbours=neighbours,
            candidates=candidates,
            midpoint_tolerance=midpoint_tolerance,
            min_distance_fraction=min_distance_fraction,
            radius=radius,
            dimension=dimension,
            name=name,
        )
        t = pairs.triples
        return dataclasses.replace(pairs, triples=Triples(kept[t.x], kept[t.y], kept[t.z], t.distance, t.residual))
    estimated = intrinsic_dimension(graph)
    dimension = dimension or max(1, round(estimated))
    diameter = geodesic_diameter(graph, k_graph)
    log.info(
        "%s: %d samples, %d-neighbour graph in %.1fs; intrinsic dimension %.2f (using %d), graph diameter %.4g",
        name,
        x.shape[0],
        graph.k,
        time.perf_counter() - start,
        estimated,
        dimension,
        diameter,
    )
    bases = tangent_bases(x, graph, dimension, k=max(neighbours, 2 * dimension + 2))
    search = Graph(graph.indices[:, :candidates], graph.distances[:, :candidates])
    triples = mirror_triples(x, search, bases, midpoint_tolerance / diameter)
    reach = 2.0 * float(search.distances[:, -1].max())  # no triple is longer
    if radius is None:
        radius = smallest_radius(triples.distance, n_pairs, min_distance_fraction, reach)
    inside = np.nonzero((triples.distance <= radius) & (triples.distance >= min_distance_fraction * radius))[0]
    if inside.size == 0:
        raise SamplesError(
            f"{name}: no pair of samples within radius {radius:.4g} has a sample at its midpoint "
            f"(tolerance {midpoint_tolerance:g}); use more samples, more candidates or a larger radius"
        )
    if inside.size < n_pairs:
        log.warning(
            "%s: only %d pairs within radius %.4g have a sample at their midpoint, fewer than the %d asked for; "
            "more samples (or a larger pairs.candidates or pairs.midpoint_tolerance) give more",
            name,
            inside.size,
            radius,
            n_pairs,
        )
    coverage = float(np.mean(2.0 * search.distances[:, -1] >= radius))
    if coverage < MIN_COVERAGE:
        log.warning(
            "%s: the candidate neighbourhoods of only %.0f%% of the samples reach half the radius %.4g: "
            "pairs come mostly from where the samples are sparse (a larger pairs.candidates evens this out)",
            name,
            100 * coverage,
            radius,
        )
    chosen = triples.take(np.sort(rng.choice(inside, min(n_pairs, inside.size), replace=False)))
    bias = 4.0 * float(np.mean(chosen.residual**2 / chosen.distance**4))
    log.info(
        "%s: %d of %d mirror triples at radius %.4g (reach %.4g) in %.1fs; residual bias on b %.3g",
        name,
        len(chosen),
        len(triples),
        radius,
        reach,
        time.perf_counter() - start,
        bias,
    )
    return DataPairs(chosen, float(radius), dimension, diameter, bias, len(triples))
