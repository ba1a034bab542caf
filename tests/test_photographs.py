"""The photograph samples datasets: a window translated over a photo (the square), a photo turned about its centre
(the circle)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import skimage.data
import xarray as xr
from scipy import ndimage

from isoflat_tf import manifolds, photographs, stores


def pixel_radius(image_size: int) -> np.ndarray:
    """Distance of each pixel centre from the image centre, in image widths."""
    c = (np.arange(image_size) + 0.5) / image_size - 0.5
    u, v = np.meshgrid(c, c)
    return np.hypot(u, v)


def test_window_samples_are_the_photograph_manifolds_renders_at_the_stored_points():
    images, points = photographs.window_samples(50, seed=3)
    assert images.shape == (50, 32, 32, 1) and images.dtype == np.float32
    assert points.shape == (50, 2) and points.dtype == np.float64
    assert 0.0 <= images.min() and images.max() <= 1.0 and images.std() > 0.05
    assert np.all((points >= 0.0) & (points <= 1.0))
    np.testing.assert_array_equal(images, manifolds.get("photograph", image_size=32).render(points))
    small, _ = photographs.window_samples(5, seed=3, image_size=16)
    assert small.shape == (5, 16, 16, 1)


@pytest.mark.parametrize("samples", [photographs.window_samples, photographs.rotation_samples])
def test_samples_are_deterministic_for_a_seed(samples):
    a_images, a_points = samples(20, seed=1)
    b_images, b_points = samples(20, seed=1)
    np.testing.assert_array_equal(a_images, b_images)
    np.testing.assert_array_equal(a_points, b_points)
    c_images, c_points = samples(20, seed=2)
    assert not np.array_equal(a_points, c_points) and not np.array_equal(a_images, c_images)


def test_rotation_samples_store_angles_on_the_unit_circle_no_two_closer_than_half_the_spacing():
    n = 400
    images, points = photographs.rotation_samples(n, seed=0)
    assert images.shape == (n, 32, 32, 1) and images.dtype == np.float32
    assert 0.0 <= images.min() and images.max() <= 1.0 and images.max() > 0.9
    assert points.shape == (n, 2) and points.dtype == np.float64
    np.testing.assert_allclose(np.hypot(points[:, 0], points[:, 1]), 1.0, rtol=1e-12)
    theta = np.sort(np.mod(np.arctan2(points[:, 1], points[:, 0]), 2 * np.pi))
    gaps = np.diff(np.append(theta, theta[0] + 2 * np.pi))
    assert gaps.min() >= np.pi / n * (1 - 1e-9)
    # The images are those of the stored angles.
    np.testing.assert_array_equal(images[:7], photographs.rotation_images(np.arctan2(points[:7, 1], points[:7, 0])))


def test_rotation_is_periodic_and_a_quarter_turn_turns_the_image_anticlockwise():
    theta = np.array([0.3, 0.3 + 2 * np.pi, 0.3 + np.pi / 2, 0.3 - 4 * np.pi])
    images = photographs.rotation_images(theta)[..., 0]
    np.testing.assert_allclose(images[1], images[0], atol=1e-6)
    np.testing.assert_allclose(images[3], images[0], atol=1e-6)
    # A quarter turn maps the pixel grid onto itself; np.rot90 turns anticlockwise as displayed.
    np.testing.assert_allclose(images[2], np.rot90(images[0]), atol=1e-6)
    assert np.abs(images[2] - images[0]).max() > 0.3


def test_rotation_is_the_photos_cubic_spline_at_the_turned_pixel_centres():
    """An independent evaluation: scipy's order-3 spline of the low-passed photo at the turned coordinates."""
    theta = 0.7
    image = photographs.rotation_images(np.array([theta]))[0, ..., 0].astype(np.float64)
    size, diameter = 32, photographs.ROTATION_DIAMETER
    row, col = photographs.ROTATION_CENTRE
    c = (np.arange(size) + 0.5) / size - 0.5
    u, v = np.meshgrid(c, c)
    rows = row + diameter * (np.sin(theta) * u + np.cos(theta) * v)
    cols = col + diameter * (np.cos(theta) * u - np.sin(theta) * v)
    photo = ndimage.gaussian_filter(skimage.data.camera() / 255.0, (diameter / size - 1) / 2, mode="mirror")
    expected = ndimage.map_coordinates(photo, [rows, cols], order=3, mode="mirror")
    inner = pixel_radius(size) <= 0.5 - photographs.ROTATION_EDGE  # where the mask is 1
    # Equal up to the affine map onto [0, 1] (photo_coefficients).
    design = np.stack([np.ones(inner.sum()), expected[inner]], axis=1)
    coef, *_ = np.linalg.lstsq(design, image[inner], rcond=None)
    assert coef[1] > 0.5
    np.testing.assert_allclose(design @ coef, image[inner], atol=1e-5)  # float32 images


def test_rotation_is_masked_to_the_disc_with_a_smooth_edge():
    images = photographs.rotation_images(np.linspace(0, 2 * np.pi, 48, endpoint=False))[..., 0]
    r = pixel_radius(32)
    assert np.all(images[:, r >= 0.5] == 0.0)  # corners stay black at every angle: nothing flickers there
    inner = r <= 0.5 - photographs.ROTATION_EDGE
    assert images[:, inner].mean() > 0.3
    # In the soft edge, every pixel is damped relative to what the spline shows just inside it.
    edge = (r > 0.5 - photographs.ROTATION_EDGE) & (r < 0.5)
    assert edge.any() and images[:, edge].mean() < 0.6 * images[:, inner].mean()


def test_rotation_images_trace_a_circle_nearby_angles_close_far_angles_far():
    n = 128
    theta = 2 * np.pi * np.arange(n) / n
    x = photographs.rotation_images(theta).reshape(n, -1).astype(np.float64)
    d = np.linalg.norm(x[:, None] - x[None], axis=2)
    np.fill_diagonal(d, np.inf)
    nearest = np.argmin(d, axis=1)
    steps = np.mod(nearest - np.arange(n), n)
    assert set(steps) <= {1, n - 1}  # each image's nearest is the next or previous angle: the graph is the cycle
    step = np.diag(np.roll(d, -1, axis=1))  # distance to the next angle
    far = d[np.arange(n), (np.arange(n) + n // 2) % n]  # half a turn away
    assert far.min() > 3 * step.max()
    # Smooth in θ: the image moves twice as far in twice the (small) angle.
    base = np.array([0.0, 1.0, 2.5, 4.0])
    x0, x1, x2 = (photographs.rotation_images(base + h).reshape(4, -1).astype(np.float64) for h in (0.0, 2e-3, 4e-3))
    ratio = np.linalg.norm(x2 - x0, axis=1) / np.linalg.norm(x1 - x0, axis=1)
    np.testing.assert_allclose(ratio, 2.0, rtol=0.02)


def test_photographs_reject_a_bad_photo_count_or_region():
    with pytest.raises(ValueError, match="photo 'lena' is not one of the bundled photographs"):
        photographs.rotation_samples(4, seed=0, photo="lena")
    with pytest.raises(ValueError, match="leaves the photo 'camera'"):
        photographs.rotation_samples(4, seed=0, centre=(20, 260))
    with pytest.raises(ValueError, match="number of samples must be ≥ 1, not 0"):
        photographs.window_samples(0, seed=0)
    with pytest.raises(ValueError, match="unknown photograph dataset 'zoom'"):
        photographs.build("zoom", 4, 0, 32)


def test_cli_writes_samples_stores_that_plain_xarray_reads_back(tmp_path):
    out = tmp_path / "photos"
    result = subprocess.run(
        [sys.executable, "-m", "isoflat_tf.photographs", str(out), "--n", "30", "--image-size", "16", "--seed", "4"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "window: wrote" in result.stderr and "rotation: wrote" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["rotation.zarr", "window.zarr"]  # no temporary leftovers
    for name, samples in (("window", photographs.window_samples), ("rotation", photographs.rotation_samples)):
        path = out / f"{name}.zarr"
        ds = xr.open_zarr(path, consolidated=False)
        assert ds["image"].dims == ("sample", "height", "width", "channel") and ds["image"].dtype == np.float32
        assert ds["point"].dims == ("sample", "coord") and ds["point"].dtype == np.float64
        assert ds["image"].shape == (30, 16, 16, 1) and ds["point"].shape == (30, 2)
        assert ds.attrs["dataset"] == name and ds.attrs["seed"] == 4
        images, points = samples(30, seed=4, image_size=16)
        np.testing.assert_array_equal(ds["image"].values, images)
        np.testing.assert_array_equal(ds["point"].values, points)
        assert stores.check_samples_structure(path) == (16, 16, 1)  # what the workflow checks at start-up


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--n", "0"], "argument --n: must be ≥ 1, not 0"),
        (["--image-size", "4"], "argument --image-size: must be ≥ 8 pixels, not 4"),
        (["--seed", "-1"], "argument --seed: must be ≥ 0, not -1"),
        (["--n", "many"], "argument --n: invalid _positive value: 'many'"),
    ],
)
def test_cli_rejects_a_bad_argument_by_name(tmp_path, capsys, argv, message):
    with pytest.raises(SystemExit) as exit_info:
        photographs.main([str(tmp_path / "out"), *argv])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_cli_rejects_an_outdir_that_is_a_file(tmp_path, capsys):
    target = tmp_path / "file"
    target.write_text("")
    with pytest.raises(SystemExit):
        photographs.main([str(target), "--n", "2"])
    assert f"OUTDIR {target} exists and is not a folder" in capsys.readouterr().err


def test_a_failed_write_leaves_the_previous_store_and_nothing_else(tmp_path):
    path = tmp_path / "window.zarr"
    images, points = photographs.window_samples(6, seed=0, image_size=8)
    photographs.write_samples(photographs.samples_dataset(images, points, {"dataset": "window"}), path)
    broken = photographs.samples_dataset(images[:3] * 0, None, {"dataset": "broken"})
    broken["label"] = ("sample", np.array([object(), 1, "a"], dtype=object))  # xarray cannot encode this
    with pytest.raises(ValueError):
        photographs.write_samples(broken, path)
    assert [p.name for p in tmp_path.iterdir()] == ["window.zarr"]
    ds = xr.open_zarr(path, consolidated=False)
    assert ds.attrs["dataset"] == "window"
    np.testing.assert_array_equal(ds["image"].values, images)
