"""Example samples datasets from photographs bundled with scikit-image (no download).

Two manifolds of real image content, handed to isoflat as samples only:

- ``window``: a window translated over a photograph, the 2-D square [0, 1]²
  (the ``photograph`` manifold's renderer, reused as it is);
- ``rotation``: a disc of a photograph turned about its centre, the circle.

Each comes as a samples store (``write_samples``): a Zarr store written with
plain xarray, holding ``image`` float32 (sample, height, width, channel) in
[0, 1] and ``point`` float64 (sample, coord), the known translation or
angle. The point is there to evaluate and to colour figures only; training
sees the images alone. Build both with::

    python -m isoflat_tf.photographs examples/photographs --n 16000

Pure NumPy and SciPy: nothing here imports TensorFlow.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

import numpy as np
import xarray as xr

import isoflat_tf
from isoflat_tf import manifolds
from isoflat_tf.files import atomic_path
from isoflat_tf.manifolds.photograph import cubic_bspline_weights, photo_coefficients

log = logging.getLogger("isoflat")

# The window: the photograph manifold's default region of `gravel`, textured
# everywhere, so that every translation changes the image.
WINDOW_PHOTO = "gravel"

# The rotation: the cameraman's head, hand and camera in scikit-image's
# `camera` photo. Unlike a texture it has structure at every scale, so the
# image distance keeps growing with the angle up to a half turn (see
# `rotation_samples`).
ROTATION_PHOTO = "camera"
ROTATION_CENTRE = (130, 260)  # photo row and column (pixel centres at integers) of the centre of rotation
ROTATION_DIAMETER = 128.0  # photo pixels across the disc
ROTATION_EDGE = 1.0 / 16.0  # width of the disc's soft edge, in image widths (2 pixels at 32)

RENDER_BATCH = 4096
STORE_CHUNK = 1024  # samples per Zarr chunk
BUILDERS = ("window", "rotation")


def window_samples(n: int, seed: int, image_size: int = 32, photo: str = WINDOW_PHOTO) -> tuple[np.ndarray, np.ndarray]:
    """n windows at uniform random translations over ``photo``: images (n, S, S, 1) float32 and points (n, 2).

    The ``photograph`` manifold renders them: a 32-photo-pixel window whose
    top-left corner moves 128 photo pixels per unit of the point (x, y) ∈
    [0, 1]², x along the photo's columns and y along its rows, sampled at
    ``image_size`` pixel centres from the photo's cubic B-spline. The point
    is the translation in those units. The image metric stretches it by a
    factor that varies over the square: the Jacobian's singular values lie
    between 204 and 366 image units per unit at 32 px, 16 000 samples lie a
    median 1.06 apart (``benchmarks/photographs.py``).
    """
    _check_count(n, seed, image_size)
    m = manifolds.get("photograph", image_size=image_size, photo=photo)
    points = m.sample_uniform(np.random.default_rng(seed), n)
    return m.render(points), points


def rotation_samples(
    n: int,
    seed: int,
    image_size: int = 32,
    photo: str = ROTATION_PHOTO,
    centre: tuple[int, int] = ROTATION_CENTRE,
    diameter: float = ROTATION_DIAMETER,
) -> tuple[np.ndarray, np.ndarray]:
    """n turns of a disc of ``photo`` by random angles θ: images (n, S, S, 1) float32 and points (n, 2).

    The angles are a jittered grid, in random order: θ_i = 2π (i + ½ + j_i) / n
    with j_i uniform in [−¼, ¼], so no two lie closer than half the spacing
    π / n. Independent uniform angles would not do on a circle: the closest
    two of 16 000 lie about 2π / n² ≈ 2.5e-8 rad apart, where their float32
    images differ by rounding only and look like duplicate samples.

    The point stored is (cos θ, sin θ), not θ. It is continuous on the
    circle, where θ jumps from 2π to 0 (figures coloured by it would show a
    seam, and nearby samples across it would look far apart). Euclidean
    distance between stored points is the chord 2 sin(Δθ / 2), which
    increases with the angle between them, so neighbour-rank evaluations
    (trustworthiness, nearest neighbours) are exact with plain Euclidean
    distances; θ = arctan2(sin, cos) and Δθ = 2 arcsin(chord / 2) recover the
    rest. The angle is nearly an arc length of the image metric: turning the
    disc changes the image at a speed |∂image/∂θ| that varies by about ±5 %
    over the circle (see ``benchmarks/photographs.py``).

    The images are ``rotation_images`` of the angles.
    """
    _check_count(n, seed, image_size)
    rng = np.random.default_rng(seed)
    slot = rng.permutation(n) + 0.5 + rng.uniform(-0.25, 0.25, size=n)
    theta = 2.0 * np.pi * slot / n
    images = rotation_images(theta, image_size, photo, centre, diameter)
    return images, np.stack([np.cos(theta), np.sin(theta)], axis=1)


def rotation_images(
    theta: np.ndarray,
    image_size: int = 32,
    photo: str = ROTATION_PHOTO,
    centre: tuple[int, int] = ROTATION_CENTRE,
    diameter: float = ROTATION_DIAMETER,
    edge: float = ROTATION_EDGE,
) -> np.ndarray:
    """Images (n, S, S, 1) float32 in [0, 1] of a disc of ``photo`` turned by the angles θ (radians).

    The disc is ``diameter`` photo pixels across, centred on ``centre``
    (photo row, column), and fills the image's inscribed circle. θ turns it
    anticlockwise as displayed (row 0 at the top); the images are 2π-periodic
    in θ, and a quarter turn is ``np.rot90`` of the image (it maps the pixel grid onto itself).

    Every pixel evaluates the photo's cubic B-spline (``photo_coefficients``)
    at the rotated position of its centre, so the images are a smooth (C²)
    function of θ. When a pixel spans more than one photo pixel, the photo is
    low-passed first, as ``skimage.transform.resize`` does against aliasing
    (Gaussian σ = (zoom − 1) / 2 photo pixels). A smooth mask, 1 inside and
    falling to 0 over the outer ``edge`` image widths of the inscribed
    circle, blacks out the corners: without it, content would enter and
    leave the square image as it turns. The spline lies in [0, 1] (see
    ``photo_coefficients``) and the mask too, so the images do.
    """
    theta = np.asarray(theta, dtype=np.float64).reshape(-1)
    if not (diameter > 0 and 0 < edge <= 0.5):
        raise ValueError(f"the rotation's diameter must be > 0 and its edge in (0, 0.5], not {diameter} and {edge}")
    zoom = diameter / image_size
    coefficients, half = _disc_block(photo, centre, diameter, blur=max(0.0, (zoom - 1.0) / 2.0))
    u, v, mask = _disc_grid(image_size, edge)
    out = np.empty((theta.size, image_size, image_size, 1), np.float32)
    for start in range(0, theta.size, RENDER_BATCH):
        batch = theta[start : start + RENDER_BATCH, None, None]
        cos, sin = np.cos(batch), np.sin(batch)
        # Anticlockwise as displayed: the image point (u, v) (v down) shows the photo at its
        # clockwise turn. Units: photo pixels from the centre.
        rows = half + diameter * (sin * u + cos * v)
        cols = half + diameter * (cos * u - sin * v)
        out[start : start + RENDER_BATCH, ..., 0] = mask * _spline_at(coefficients, rows, cols)
    return out


def _disc_block(photo: str, centre: tuple[int, int], diameter: float, blur: float) -> tuple[np.ndarray, int]:
    """The spline coefficients around the disc and the block index of its centre.

    The block reaches 4 photo pixels beyond the disc, past the spline's
    support of one knot before and two after.
    """
    half = int(np.ceil(diameter / 2.0)) + 4
    row, col = centre
    return photo_coefficients(photo, row - half, col - half, 2 * half, 2 * half, blur), half


def _disc_grid(image_size: int, edge: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pixel-centre offsets (u along columns, v along rows) from the image centre, in image widths, and the disc mask.

    Offsets outside the inscribed circle are pulled onto it: the mask is 0
    there, so their value does not matter, and the photo then need not
    extend past the disc.
    """
    c = (np.arange(image_size) + 0.5) / image_size - 0.5
    u, v = np.meshgrid(c, c)
    r = np.hypot(u, v)
    inside = np.minimum(1.0, 0.5 / r)
    t = np.clip((0.5 - r) / edge, 0.0, 1.0)
    mask = t * t * (3.0 - 2.0 * t)  # smoothstep: C¹ from 0 outside to 1 inside
    return u * inside, v * inside, mask


def _spline_at(coefficients: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """The cubic B-spline with these coefficients at block coordinates (rows, cols), any equal shapes."""
    size = coefficients.shape[1]
    flat = coefficients.ravel()
    row_knot, col_knot = np.floor(rows), np.floor(cols)
    row_w = cubic_bspline_weights(rows - row_knot)
    col_w = cubic_bspline_weights(cols - col_knot)
    start = (row_knot.astype(np.int64) - 1) * size + col_knot.astype(np.int64) - 1
    value = 0.0
    for i in range(4):
        line = 0.0
        for j in range(4):
            line = line + col_w[j] * np.take(flat, start + i * size + j)
        value = value + row_w[i] * line
    return value


def samples_dataset(images: np.ndarray, points: np.ndarray | None, attrs: dict) -> xr.Dataset:
    """A samples store's dataset: ``image`` float32 (sample, height, width, channel) and, when given,
    ``point`` float64 (sample, coord)."""
    data = {"image": (("sample", "height", "width", "channel"), np.asarray(images, np.float32))}
    if points is not None:
        data["point"] = (("sample", "coord"), np.asarray(points, np.float64))
    ds = xr.Dataset(data, attrs={**attrs, "isoflat_version": isoflat_tf.__version__})
    for var in ds.data_vars.values():
        var.encoding["chunks"] = (min(STORE_CHUNK, var.shape[0]), *var.shape[1:])
    return ds


def write_samples(ds: xr.Dataset, path: str | os.PathLike) -> Path:
    """Write a samples dataset to the Zarr store ``path``, atomically: a killed write leaves nothing there."""
    path = Path(path)
    with atomic_path(path) as tmp:
        ds.to_zarr(tmp, mode="w", consolidated=False)
    return path


def build(name: str, n: int, seed: int, image_size: int) -> xr.Dataset:
    """The samples dataset ``name`` (``window`` or ``rotation``), with attributes saying what the point is."""
    if name == "window":
        images, points = window_samples(n, seed, image_size)
        attrs = {
            "parameter": "translation (x, y) in [0, 1]^2 of a 32-photo-pixel window, 128 photo pixels per unit, "
            "x along the photo's columns, y along its rows",
            "photo": WINDOW_PHOTO,
            "point_coords": ["x", "y"],
        }
    elif name == "rotation":
        images, points = rotation_samples(n, seed, image_size)
        attrs = {
            "parameter": "angle θ of a disc turned anticlockwise about its centre, stored as (cos θ, sin θ)",
            "photo": ROTATION_PHOTO,
            "centre": list(ROTATION_CENTRE),
            "diameter": ROTATION_DIAMETER,
            "point_coords": ["cos θ", "sin θ"],
        }
    else:
        raise ValueError(f"unknown photograph dataset {name!r}; available: {', '.join(BUILDERS)}")
    return samples_dataset(images, points, {"dataset": name, "seed": seed, **attrs})


def _check_count(n: int, seed: int, image_size: int) -> None:
    if n < 1:
        raise ValueError(f"the number of samples must be ≥ 1, not {n}")
    if seed < 0:
        raise ValueError(f"the seed must be ≥ 0, not {seed}")
    if image_size < 8:
        raise ValueError(f"the image size must be ≥ 8 pixels, not {image_size}")


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be ≥ 1, not {value}")
    return value


def _image_size(text: str) -> int:
    value = int(text)
    if value < 8:
        raise argparse.ArgumentTypeError(f"must be ≥ 8 pixels, not {value}")
    return value


def _seed(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be ≥ 0, not {value}")
    return value


def main(argv: list[str] | None = None) -> int:
    """Write OUTDIR/window.zarr and OUTDIR/rotation.zarr."""
    parser = argparse.ArgumentParser(
        prog="python -m isoflat_tf.photographs",
        description="Write the photograph samples stores OUTDIR/window.zarr and OUTDIR/rotation.zarr.",
    )
    parser.add_argument("outdir", type=Path, help="folder for the stores (created when missing)")
    parser.add_argument("--n", type=_positive, default=16000, help="samples per store (default 16000)")
    parser.add_argument("--image-size", type=_image_size, default=32, help="image height and width (default 32)")
    parser.add_argument("--seed", type=_seed, default=0, help="seed of the random translations and angles")
    parser.add_argument("--only", choices=BUILDERS, action="append", help="write only this store (repeatable)")
    args = parser.parse_args(argv)
    if args.outdir.exists() and not args.outdir.is_dir():
        parser.error(f"OUTDIR {args.outdir} exists and is not a folder")

    from isoflat_tf.runtime import setup_logging

    setup_logging()
    for name in args.only or BUILDERS:
        path = args.outdir / f"{name}.zarr"
        log.info("%s: rendering %d samples at %d px (seed %d)", name, args.n, args.image_size, args.seed)
        start = time.perf_counter()
        ds = build(name, args.n, args.seed, args.image_size)
        rendered = time.perf_counter()
        write_samples(ds, path)
        log.info(
            "%s: wrote %s (render %.1f s, write %.1f s)",
            name,
            path,
            rendered - start,
            time.perf_counter() - rendered,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
