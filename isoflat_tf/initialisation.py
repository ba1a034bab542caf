"""Where training starts: a spectral initialisation of the encoder (docs/design.md §5).

The loss sees only pairs at the scale δ, so it cannot tell a closed or wound
manifold embedded once round from one pressed flat or folded: both are locally
near-isometric, and gradient descent from a random encoder often settles in
the fold (the cylinder and the torus did on most seeds). Isomap sees the
whole neighbour graph of the inputs, so it gets the global arrangement right
wherever that graph is faithful. The encoder is first regressed onto an
Isomap embedding of some training inputs, scaled to the units of d, and the
geometric loss then refines that map locally.

The inputs' graph is in the input metric (pixels, features), which can be
short-circuited where the inputs are sparse: at 2 000 inputs the
``swiss_roll``'s neighbouring windings are linked in pixel space and Isomap
returns the image-plane spiral. Above ``DENSE_LIMIT`` inputs the embedding is
landmark Isomap, whose denser graph unrolls it (``training.spectral_points``).
"""

from __future__ import annotations

import logging
import math
import time

import numpy as np

from isoflat_tf.config import TrainingConfig

log = logging.getLogger(__name__)


class SpectralStartError(ValueError):
    """The inputs cannot be embedded (too few, or all alike): training starts at random instead."""


# Above this many inputs the embedding is landmark Isomap: dense Isomap's N × N geodesic
# matrix and eigensolver grow quadratically and cubically.
DENSE_LIMIT = 4000
LANDMARKS = 300
# Partners y placed in a landmark embedding to find its scale in the units of d.
SCALE_PAIRS = 1000
# Landmark Isomap's graph takes k, 2k, … neighbours, up to this many doublings, until it is in one piece.
GRAPH_DOUBLINGS = 3
# A regression left this far from its targets (relative rms error) did not learn the embedding:
# 0.004–0.10 on the zoo's manifolds, 0.90–0.94 on ``photograph``, whose inputs Isomap cannot order.
UNFIT_ERROR = 0.5
# The regression takes at least this many steps, whatever its passes: 6 passes over the 400 inputs of
# a small test are 42 steps of 64, too few to fit (median |Y(x) − Y(y)| / d 0.28 after them); 15 passes,
# 105 steps, fitted.
MIN_REGRESSION_STEPS = 150


def distinct_inputs(x: np.ndarray, candidates: np.ndarray, count: int, seed: int) -> np.ndarray:
    """Up to ``count`` of the pair indices ``candidates`` with distinct inputs ``x``, drawn at random.

    Pairs estimated from samples share their ends and are stored grouped by
    them, so the first pairs would cover a patch of the manifold (115 distinct
    inputs among the first 2 000 of 20 000 pairs on 2 000 samples); a random
    draw over all of them covers it whole.
    """
    seen: set[bytes] = set()
    chosen = []
    for index in np.random.default_rng(seed).permutation(candidates):
        key = np.asarray(x[index]).tobytes()
        if key not in seen:
            seen.add(key)
            chosen.append(index)
            if len(chosen) == count:
                break
    return np.asarray(chosen, dtype=np.int64)


def spectral_targets(
    x: np.ndarray,
    y: np.ndarray,
    distance: np.ndarray,
    latent_dim: int,
    neighbours: int = 10,
    seed: int = 0,
) -> tuple[np.ndarray, float]:
    """Isomap coordinates of the inputs ``x``, in the units of ``distance``.

    ``x``, ``y``: (n, ...) the two ends of n pairs whose distance is ``distance``.
    Up to ``DENSE_LIMIT`` inputs, Isomap is fitted on ``x`` and ``y`` is placed
    into its embedding; above it, landmark Isomap (landmarks drawn with
    ``seed``) embeds ``x`` and the first ``SCALE_PAIRS`` partners together.
    The coordinates are scaled so that the median |Y(x) − Y(y)| / d is 1.
    Returns the targets (n, latent_dim) as float32 and that scale factor.
    """
    from sklearn.manifold import Isomap

    n = len(x)
    if n <= neighbours + latent_dim:
        raise SpectralStartError(
            f"the spectral initialisation needs more than {neighbours + latent_dim} pairs, got {n}"
        )
    flat_x = np.asarray(x, np.float64).reshape(n, -1)
    if n > DENSE_LIMIT:
        # Some partners y are inputs too (pairs estimated from samples share ends): one graph node each.
        m = min(n, SCALE_PAIRS)
        flat_y = np.asarray(y[:m], np.float64).reshape(m, -1)
        rows = np.concatenate([flat_x, flat_y])
        first, node_of = unique_rows(rows)
        coords = landmark_isomap(rows[first], latent_dim, neighbours, LANDMARKS, seed)[node_of]
        scale = units_per_distance(coords[:m], coords[n:], distance[:m])
        return (coords[:n] / scale).astype(np.float32), scale
    flat_y = np.asarray(y, np.float64).reshape(n, -1)
    # The dense eigensolver is deterministic and fast at the few thousand points used here.
    isomap = Isomap(n_neighbors=neighbours, n_components=latent_dim, eigen_solver="dense")
    coords = isomap.fit_transform(flat_x)
    scale = units_per_distance(coords, isomap.transform(flat_y), distance)
    return (coords / scale).astype(np.float32), scale


def unique_rows(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The index of each distinct row's first occurrence, in order, and each row's number among them.

    Like ``np.unique(rows, axis=0, return_index=True, return_inverse=True)``
    but in order of appearance and by hashing the rows' bytes: 0.2 s against
    3 s for ``np.unique``'s lexicographic sort of 19 000 rows of 2 048 values.
    """
    number: dict[bytes, int] = {}
    first, inverse = [], np.empty(len(rows), np.int64)
    # + 0.0 turns -0.0 into 0.0, which compare equal but differ in bytes.
    for i, row in enumerate(np.ascontiguousarray(rows).reshape(len(rows), -1) + 0.0):
        key = row.tobytes()
        if key not in number:
            number[key] = len(first)
            first.append(i)
        inverse[i] = number[key]
    return np.asarray(first, np.int64), inverse


def landmark_isomap(
    x: np.ndarray, latent_dim: int, neighbours: int, landmarks: int, seed: int, graph=None
) -> np.ndarray:
    """Landmark Isomap coordinates (n, latent_dim) of the rows of ``x`` (de Silva & Tenenbaum).

    Classical MDS of the geodesic distances between ``landmarks`` rows drawn
    at random, every row then placed by distance-based triangulation from its
    geodesic distances to them. Memory O(landmarks · n): no n × n matrix.
    ``graph``: the rows' ``neighbour_graph.nearest_neighbours`` if already
    found (it bounds the neighbours the doublings can take).
    """
    from scipy.sparse.csgraph import connected_components, dijkstra

    from isoflat_tf import neighbour_graph

    n = len(x)
    landmarks = min(landmarks, n)
    # Float32 images of nearby points can coincide (2 of 19 000 on the circle). Isomap does not mind,
    # but a zero weight would be no edge to csgraph: such edges get a length far below any other.
    if graph is None:
        graph = neighbour_graph.nearest_neighbours(
            x, min(neighbours * 2 ** (GRAPH_DOUBLINGS - 1), n - 1), name="inputs", allow_duplicates=True
        )
    floor = 1e-9 * float(np.median(graph.distances[:, 0]))
    graph = neighbour_graph.Graph(graph.indices, np.maximum(graph.distances, floor))
    # Random samples leave gaps: on a curve the largest of N spacings grows like log N, so a graph
    # of k neighbours that links 2 000 samples can fall apart at 20 000 (the circle did, cut open
    # into two arcs). The first of k, 2k, 4k that is in one piece keeps the manifold whole.
    for k in [min(neighbours * 2**i, graph.k) for i in range(GRAPH_DOUBLINGS)]:
        adjacency = graph.adjacency(k)
        if connected_components(adjacency, directed=False)[0] == 1:
            break
    else:
        raise SpectralStartError(f"the {k}-neighbour graph of the {n} inputs falls apart into pieces")
    if k > neighbours:
        log.info("spectral start: the %d-neighbour graph of the inputs fell apart; it takes %d", neighbours, k)
    chosen = np.random.default_rng(seed).choice(n, landmarks, replace=False)
    geodesic = dijkstra(adjacency, directed=False, indices=chosen)  # (landmarks, n)
    squared = geodesic[:, chosen] ** 2
    centring = np.eye(landmarks) - 1.0 / landmarks
    values, vectors = np.linalg.eigh(-0.5 * centring @ squared @ centring)
    values, vectors = values[::-1][:latent_dim], vectors[:, ::-1][:, :latent_dim]
    if not values[-1] > 0.0:
        raise SpectralStartError(f"the landmarks' geodesic distances span fewer than {latent_dim} dimensions")
    return -0.5 * (geodesic.T**2 - squared.mean(axis=0)) @ (vectors / np.sqrt(values))


def units_per_distance(coords_x: np.ndarray, coords_y: np.ndarray, distance: np.ndarray) -> float:
    """The median |Y(x) − Y(y)| / d over pairs embedded at ``coords_x`` and ``coords_y``: dividing
    the coordinates by it puts them into the units of d."""
    ratio = np.linalg.norm(coords_x - coords_y, axis=1) / np.asarray(distance, np.float64)
    scale = float(np.median(ratio))
    if not np.isfinite(scale) or scale <= 0.0:
        raise SpectralStartError(
            "the spectral initialisation found no scale: the Isomap embedding does not separate the pairs' "
            "ends (are the inputs constant?)"
        )
    return scale


def pretrain(
    encoder, images: np.ndarray, targets: np.ndarray, epochs: int, batch_size: int, seed: int, learning_rate=1e-3
) -> float:
    """Regress ``encoder`` onto ``targets`` (mean squared error, Adam at ``learning_rate``, a number or
    a Keras schedule); returns the relative rms error.

    The relative rms error is the final rms residual over the rms norm of the
    centred targets: near 0 when the encoder reproduces the embedding.
    """
    import keras
    import tensorflow as tf

    order = np.random.default_rng(seed).permutation(len(images))
    data = tf.data.Dataset.from_tensor_slices((images[order], targets[order])).batch(batch_size)
    optimizer = keras.optimizers.Adam(learning_rate)

    @tf.function
    def step(batch_images, batch_targets):
        with tf.GradientTape() as tape:
            residual = encoder(batch_images, training=True) - batch_targets
            loss = tf.reduce_mean(tf.reduce_sum(residual * residual, axis=-1))
        grads = tape.gradient(loss, encoder.trainable_variables)
        optimizer.apply_gradients(zip(grads, encoder.trainable_variables, strict=True))

    for _ in range(epochs):
        for batch_images, batch_targets in data:
            step(batch_images, batch_targets)
    residual = encoder.predict(images, batch_size=1024, verbose=0) - targets
    centred = targets - targets.mean(axis=0)
    return float(np.sqrt((residual**2).sum(1).mean() / (centred**2).sum(1).mean()))


def spectral_start(
    encoder,
    pairs: dict[str, np.ndarray],
    latent_dim: int,
    seed: int,
    epochs: int = TrainingConfig.spectral_epochs,
    learning_rate=1e-3,
    batch_size: int = 64,
) -> None:
    """Set ``encoder`` to a regression (``epochs`` passes, at least ``MIN_REGRESSION_STEPS`` steps) of the
    Isomap embedding of the pairs' ``x``.

    ``pairs`` holds ``x``, ``y`` and ``distance`` (some training pairs).
    """
    started = time.perf_counter()
    # Pairs estimated from samples share ends; a repeated input would be a zero-length edge of the graph.
    first, _ = unique_rows(np.asarray(pairs["x"]))
    x = np.asarray(pairs["x"][first], np.float32)
    n = len(x)
    method = "landmark Isomap" if n > DENSE_LIMIT else "Isomap"
    log.info("spectral start: embedding %d inputs by %s", n, method)
    targets, scale = spectral_targets(x, pairs["y"][first], pairs["distance"][first], latent_dim, seed=seed)
    # Small trainings get more passes: a fit needs steps, not passes.
    epochs = max(epochs, math.ceil(MIN_REGRESSION_STEPS / math.ceil(n / batch_size)))
    log.info("spectral start: regressing the encoder onto the embedding, %d passes", epochs)
    error = pretrain(encoder, x, targets, epochs, batch_size, seed=seed, learning_rate=learning_rate)
    log.info(
        "spectral start: %s of %d inputs (%.3g input units per unit of d), regressed to relative rms %.3g in %.1fs",
        method,
        n,
        scale,
        error,
        time.perf_counter() - started,
    )
    if error > UNFIT_ERROR:
        log.warning(
            "spectral start: the encoder did not learn the Isomap embedding of its inputs (relative rms error "
            "%.2f): either their neighbour graph does not follow the manifold (inputs too sparse for how fast "
            "they change along it) or the encoder cannot fit it. Training goes on from this start, and the "
            "embedding is likely to be poor or to collapse; sample more densely or smooth the inputs "
            "(docs/results.md, 'A manifold the start does not fix').",
            error,
        )
