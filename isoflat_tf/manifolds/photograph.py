"""A window translated over a photograph: the flat square [0, 1]² encoded by real image content."""

from __future__ import annotations

import dataclasses
import functools
from types import ModuleType

import numpy as np

from isoflat_tf.manifolds import register
from isoflat_tf.manifolds.base import UnitSquare

# Photographs whose files ship inside the scikit-image wheel (no download at run time).
BUNDLED_PHOTOS = ("gravel", "grass", "camera", "brick", "moon", "coins", "text", "page", "clock", "cell")


@functools.cache
def photo_coefficients(photo: str, top: int, left: int, height: int, width: int, blur: float = 0.0) -> np.ndarray:
    """Cubic B-spline coefficients of a block of a bundled greyscale photograph, scaled to [0, 1].

    The spline interpolates the photo's pixels (prefiltered once, over the
    whole photo, so the block's coefficients do not feel the photo's edges).
    The affine scaling maps the block's smallest and largest coefficient to 0
    and 1. It commutes with interpolation, and a B-spline is a convex
    combination of its coefficients, so every value of the spline in the
    block lies in [0, 1] too (the interpolated pixel values themselves may
    stay a little inside it).

    ``blur`` > 0 low-passes the photo first with a Gaussian of that standard
    deviation (photo pixels): an anti-aliasing filter for images that sample
    the photo more coarsely than one pixel per photo pixel.
    """
    import skimage.data
    from scipy import ndimage

    if photo not in BUNDLED_PHOTOS:
        raise ValueError(f"photo {photo!r} is not one of the bundled photographs {', '.join(BUNDLED_PHOTOS)}")
    image = np.asarray(getattr(skimage.data, photo)(), dtype=np.float64) / 255.0
    if image.ndim != 2:
        raise ValueError(f"photo {photo!r} is not greyscale (shape {image.shape})")
    if not blur >= 0.0:
        raise ValueError(f"the blur of photo {photo!r} must be ≥ 0 photo pixels, not {blur}")
    if top < 0 or left < 0 or top + height > image.shape[0] or left + width > image.shape[1]:
        raise ValueError(
            f"the block rows {top}..{top + height}, columns {left}..{left + width} (with the spline's support) "
            f"leaves the photo {photo!r} of shape {image.shape}"
        )
    if blur > 0.0:
        image = ndimage.gaussian_filter(image, blur, mode="mirror")
    coefficients = ndimage.spline_filter(image, order=3, mode="mirror")[top : top + height, left : left + width]
    low, high = coefficients.min(), coefficients.max()
    return (coefficients - low) / (high - low)


def cubic_bspline_weights(f, xp: ModuleType = np):
    """The four cubic B-spline weights of the knots floor(t) − 1 … floor(t) + 2, for f = t − floor(t).

    Polynomials in f, so the interpolant is C² and autodiff differentiates it exactly.
    """
    g = 1.0 - f
    return (
        g**3 / 6.0,
        (3.0 * f**3 - 6.0 * f**2 + 4.0) / 6.0,
        (3.0 * g**3 - 6.0 * g**2 + 4.0) / 6.0,
        f**3 / 6.0,
    )


@register
@dataclasses.dataclass(frozen=True)
class Photograph(UnitSquare):
    """[0, 1]² encoded as a window translated over a photograph; points (x, y).

    The window is ``window`` photo pixels wide and sampled at ``image_size``
    pixel centres (one photo pixel per image pixel at image_size 32). The
    point moves its top-left corner by ``span`` photo pixels per unit length,
    x along the photo's columns and y along its rows, starting at (``left``,
    ``top``). Sub-pixel positions come from the cubic B-spline interpolant
    of the photo, so the images are a smooth (C²) function of the point,
    written with ``xp`` for the image oracle. The point itself is an
    isometric chart.

    The default region of scikit-image's ``gravel`` photograph is textured
    everywhere: at 32 pixels the Jacobian's singular values (image units per
    unit length) lie between about 210 and 400 over the chart, within a
    factor 1.9 of each other. That is about ten times faster than the drawn
    manifolds' images change: a photo has detail at every pixel. Its
    discrete geodesics in the image metric need segments shorter than a
    photo pixel (1/span) to converge, as the metric varies at that scale.
    """

    photo: str = "gravel"
    top: int = 226  # photo row of the window's top edge at y = 0
    left: int = 322  # photo column of the window's left edge at x = 0
    span: float = 128.0  # photo pixels the window moves per unit length
    window: float = 32.0  # photo pixels the window covers

    name = "photograph"
    colour_labels = ("x (along the photo's columns)", "y (along its rows)")

    def __post_init__(self):
        if not (self.span > 0 and self.window > 0):
            raise ValueError(f"the photograph's span and window must be positive, not {self.span} and {self.window}")
        self._block()  # loads the photo: an unknown photo or a region outside it fails here

    def _block(self) -> tuple[np.ndarray, int, int]:
        """The spline coefficients the window can reach, and the photo row and column of their corner.

        Points a little outside [0, 1]² (the oracle's paths, finite
        differences) stay inside: the block has a margin of 4 pixels beyond
        the spline's support of one knot before and two after.
        """
        margin = 5
        top, left = self.top - margin, self.left - margin
        size = int(np.ceil(self.span + self.window)) + 2 * margin
        return photo_coefficients(self.photo, top, left, size, size), top, left

    def _render_batch(self, p, xp=np):
        coefficients, top, left = self._block()
        size = coefficients.shape[1]
        flat = coefficients.ravel()
        # Photo coordinates (pixel centres at integers) of the image's pixel centres, relative to the block.
        offsets = (np.arange(self.image_size) + 0.5) * (self.window / self.image_size) - 0.5
        rows = (self.top - top + offsets)[None, :] + self.span * p[:, 1:2]  # (n, H)
        cols = (self.left - left + offsets)[None, :] + self.span * p[:, 0:1]  # (n, W)
        row_knot, col_knot = xp.floor(rows), xp.floor(cols)
        row_w = cubic_bspline_weights(rows - row_knot, xp)
        col_w = cubic_bspline_weights(cols - col_knot, xp)
        row_index = xp.asarray(row_knot, dtype=xp.int64) - 1
        col_index = xp.asarray(col_knot, dtype=xp.int64) - 1
        image = 0.0
        for i in range(4):
            start = (row_index + i)[:, :, None] * size + col_index[:, None, :]  # flat index of knot row i, (n, H, W)
            line = 0.0
            for j in range(4):
                line = line + col_w[j][:, None, :] * xp.take(flat, start + j)
            image = image + row_w[i][:, :, None] * line
        return image[..., None]
