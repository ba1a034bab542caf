"""Closed-form geometry, volume-uniform sampling and renderers of every registered manifold."""

import numpy as np
import pytest
from scipy import stats

from isoflat_tf import manifolds, sampling

NAMES = manifolds.available()
DELTA = 0.05


@pytest.fixture(params=NAMES)
def manifold(request):
    return manifolds.get(request.param, image_size=16)


def nearby_pairs(m, n=200, delta=DELTA, seed=0):
    return sampling.sample_pairs(m, "ball", np.random.default_rng(seed), n, delta)


def test_registry_lists_both_foundation_manifolds():
    assert {"square", "sphere"} <= set(NAMES)
    with pytest.raises(KeyError, match="available: .*square"):
        manifolds.get("klein_bottle")


def test_each_manifold_lives_in_its_own_module(root):
    """The workflow declares manifolds/<name>.py as an input of a manifold's jobs; register() enforces it."""
    for name in NAMES:
        assert (root / "isoflat_tf" / "manifolds" / f"{name}.py").is_file()

    class Stray(manifolds.Manifold):
        name = "stray"

    with pytest.raises(ValueError, match="must be defined in module stray.py"):
        manifolds.register(Stray)
    assert "stray" not in manifolds.available()


def test_midpoint_is_equidistant_and_halves_the_distance(manifold):
    p = nearby_pairs(manifold)
    d_xz = manifold.distance(p.x, p.z)
    d_zy = manifold.distance(p.z, p.y)
    np.testing.assert_allclose(d_xz, d_zy, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(d_xz + d_zy, p.distance, rtol=1e-9)


def test_midpoint_lies_on_the_geodesic(manifold):
    p = nearby_pairs(manifold)
    t = np.linspace(0.0, 1.0, 5)
    path = manifold.geodesic(p.x, p.y, t)
    np.testing.assert_allclose(path[:, 2], p.z, atol=1e-12)
    np.testing.assert_allclose(path[:, 0], p.x, atol=1e-12)
    np.testing.assert_allclose(path[:, -1], p.y, atol=1e-12)
    for i, ti in enumerate(t):  # constant speed: d(x, γ(t)) = t d(x, y)
        np.testing.assert_allclose(manifold.distance(p.x, path[:, i]), ti * p.distance, atol=1e-12)


def test_distance_and_midpoint_are_symmetric(manifold):
    p = nearby_pairs(manifold)
    np.testing.assert_allclose(manifold.distance(p.y, p.x), p.distance, rtol=1e-12)
    np.testing.assert_allclose(manifold.midpoint(p.y, p.x), p.z, atol=1e-12)


def test_exponential_map_agrees_with_distance(manifold):
    rng = np.random.default_rng(1)
    x = manifold.sample_uniform(rng, 300)
    v = manifold.random_unit_tangent(rng, x)
    np.testing.assert_allclose(manifold.tangent_norm(x, v), 1.0, rtol=1e-12)
    for r in (1e-3, DELTA, 0.3):
        np.testing.assert_allclose(manifold.distance(x, manifold.exp(x, r * v)), r, rtol=1e-9)


def test_log_inverts_exp(manifold):
    p = nearby_pairs(manifold, delta=0.3)
    v = manifold.log(p.x, p.y)
    np.testing.assert_allclose(manifold.tangent_norm(p.x, v), p.distance, rtol=1e-9)
    np.testing.assert_allclose(manifold.distance(manifold.exp(p.x, v), p.y), 0.0, atol=1e-9)


def test_sphere_great_circle_formulas():
    s = manifolds.get("sphere")
    e1, e2 = np.array([[1.0, 0.0, 0.0]]), np.array([[0.0, 1.0, 0.0]])
    np.testing.assert_allclose(s.distance(e1, e2), [np.pi / 2])
    np.testing.assert_allclose(s.midpoint(e1, e2), [[2**-0.5, 2**-0.5, 0.0]])
    np.testing.assert_allclose(s.distance(e1, -e1), [np.pi])
    tiny = s.exp(e1, np.array([[0.0, 1e-9, 0.0]]))  # atan2 form stays accurate at tiny distances
    np.testing.assert_allclose(s.distance(e1, tiny), [1e-9], rtol=1e-6)
    np.testing.assert_allclose(s.geodesic(e1, e2, np.array([1 / 3]))[0, 0], [np.cos(np.pi / 6), np.sin(np.pi / 6), 0])


BOXES = {  # coordinate ranges of the volume-uniform law on the flat manifolds
    "square": [(0.0, 1.0), (0.0, 1.0)],
    "photograph": [(0.0, 1.0), (0.0, 1.0)],
    "circle": [(0.0, 2 * np.pi)],
    "torus": [(0.0, 2 * np.pi), (0.0, 2 * np.pi)],
    "cylinder": [(0.0, 2 * np.pi), (0.0, 2.0)],
    "swiss_roll": [(0.0, 2 * np.pi), (0.0, 1.0)],
}


def uniformity_pvalues(name, points):
    """p-values of KS tests of the uniform law's marginals (Archimedes: z is uniform on the sphere).

    On the flat manifolds the coordinates are independent and uniform; the
    2-D ones also test the sum of the scaled coordinates (triangular law),
    which catches dependence between them.
    """
    if name in BOXES:
        box = BOXES[name]
        unit = np.stack([(points[:, i] - lo) / (hi - lo) for i, (lo, hi) in enumerate(box)], axis=-1)
        pvalues = [stats.kstest(unit[:, i], "uniform").pvalue for i in range(len(box))]
        if len(box) == 2:
            pvalues.append(stats.kstest(unit.sum(axis=1), "triang", args=(0.5, 0.0, 2.0)).pvalue)
        return pvalues
    if name == "gaussians":  # area element √2 dμ dσ / σ²: μ and 1/σ independent and uniform
        mu = (points[:, 0] + 1.0) / 2.0
        inverse = (1.0 / points[:, 1] - 1.0) / (2.0 - 1.0)
        return [
            stats.kstest(mu, "uniform").pvalue,
            stats.kstest(inverse, "uniform").pvalue,
            stats.kstest(mu + inverse, "triang", args=(0.5, 0.0, 2.0)).pvalue,
        ]
    if name == "sphere":
        lon = (np.arctan2(points[:, 1], points[:, 0]) + np.pi) / (2 * np.pi)
        return [stats.kstest(points[:, 2], "uniform", args=(-1, 2)).pvalue, stats.kstest(lon, "uniform").pvalue]
    pytest.skip(f"no uniformity law written for {name}")


def test_volume_uniform_sampling_passes_ks(manifold):
    points = manifold.sample_uniform(np.random.default_rng(2), 5000)
    assert min(uniformity_pvalues(manifold.name, points)) > 1e-3


def test_uniformity_test_rejects_biased_samplers():
    rng = np.random.default_rng(3)
    cube = rng.uniform(-1, 1, size=(5000, 3))  # normalised cube samples crowd towards the corners
    sphere_biased = cube / np.linalg.norm(cube, axis=1, keepdims=True)
    assert min(uniformity_pvalues("sphere", sphere_biased)) < 1e-3
    square_biased = rng.uniform(size=(5000, 2)) ** 1.1
    assert min(uniformity_pvalues("square", square_biased)) < 1e-3
    u = rng.uniform(size=5000)
    dependent = np.stack([u, (u + 0.3 * rng.uniform(size=5000)) % 1.0], axis=-1)  # uniform marginals, not independent
    assert min(uniformity_pvalues("square", dependent)) < 1e-3


def test_every_manifold_has_a_uniformity_law():
    assert set(NAMES) <= set(BOXES) | {"sphere", "gaussians"}


def test_periodic_coordinates_wrap_across_the_seam(manifold):
    """Points just either side of the seam 0 ≡ 2π are close; midpoint, geodesic and exp cross it."""
    if manifold.name not in ("circle", "torus", "cylinder"):
        pytest.skip(f"{manifold.name} has no periodic coordinate")
    eps = 0.01
    p = np.zeros((1, manifold.point_dim)) + (0.5 if manifold.point_dim > 1 else 0.0)
    q = p.copy()
    p[0, 0], q[0, 0] = 2 * np.pi - eps, eps
    np.testing.assert_allclose(manifold.distance(p, q), [2 * eps], atol=1e-12)
    z = manifold.midpoint(p, q)
    assert manifold.distance(z, np.where(np.arange(manifold.point_dim) == 0, 0.0, p))[0] < 1e-12
    assert 0.0 <= z[0, 0] < 2 * np.pi
    path = manifold.geodesic(p, q, np.linspace(0, 1, 5))[0]
    assert np.all((path[:, 0] >= 0) & (path[:, 0] < 2 * np.pi))
    np.testing.assert_allclose(np.diff(manifold.distance(path[:1].repeat(5, 0), path)), eps / 2, atol=1e-12)
    step = np.zeros_like(p)
    step[0, 0] = 2 * eps
    np.testing.assert_allclose(manifold.exp(p, step), q, atol=1e-12)
    np.testing.assert_allclose(
        manifold.render(p + [[2 * np.pi] + [0] * (manifold.point_dim - 1)]), manifold.render(p), atol=1e-6
    )


def test_ball_pairs_follow_the_radial_law():
    # Square: d²/δ² is uniform on [ρ², 1]. Sphere: cos d is uniform on [cos δ, cos ρδ].
    rho = 0.25
    square = manifolds.get("square")
    d = sampling.sample_pairs(square, "ball", np.random.default_rng(4), 5000, DELTA, rho).distance
    assert stats.kstest((d / DELTA) ** 2, "uniform", args=(rho**2, 1 - rho**2)).pvalue > 1e-3
    sphere = manifolds.get("sphere")
    delta = 0.3
    d = sampling.sample_pairs(sphere, "ball", np.random.default_rng(5), 5000, delta, rho).distance
    lo, hi = np.cos(delta), np.cos(rho * delta)
    assert stats.kstest(np.cos(d), "uniform", args=(lo, hi - lo)).pvalue > 1e-3
    assert d.min() >= rho * delta - 1e-12 and d.max() <= delta + 1e-12


def test_ball_pairs_stay_inside_a_boundary():
    square = manifolds.get("square")
    p = sampling.sample_pairs(square, "ball", np.random.default_rng(6), 4000, 0.2)
    assert square.contains(p.x).all() and square.contains(p.y).all()


def test_renders_have_the_configured_shape(manifold):
    for size in (8, 24):
        m = manifolds.get(manifold.name, image_size=size)
        images = m.render(m.sample_uniform(np.random.default_rng(0), 3))
        assert images.shape == (3, size, size, m.channels) and images.dtype == np.float32
        assert images.min() >= 0.0 and images.max() <= 1.0


def finite_difference_step(m):
    """The largest step of the smoothness check: short against the length over which the images'
    second derivative changes, so that the forward difference is in its first-order regime.

    For the drawn manifolds 0.01 moves the image by a tenth of a pixel or less. The photograph's
    cubic spline has a third derivative that jumps at every photo pixel, 1/span apart (1.3 pixels
    at 0.01): a quarter of a photo pixel there.
    """
    if m.name == "photograph":
        return 0.25 / m.span
    return 1e-2


def test_renderer_is_smooth_first_order_finite_differences(manifold):
    """Forward differences converge to the derivative at first order: halving h halves the error."""
    rng = np.random.default_rng(7)
    x = manifold.sample_uniform(rng, 20)
    if manifold.name == "square":
        x = 0.1 + 0.8 * x
    v = manifold.random_unit_tangent(rng, x)

    def img(p):
        return manifold.render(p).astype(np.float64)  # float32 storage bounds h from below

    h0 = finite_difference_step(manifold)
    deriv = (img(manifold.exp(x, 1e-4 * v)) - img(manifold.exp(x, -1e-4 * v))) / 2e-4
    errors = []
    for h in (h0, h0 / 2, h0 / 4):
        forward = (img(manifold.exp(x, h * v)) - img(x)) / h
        errors.append(np.linalg.norm(forward - deriv))
    ratios = np.array(errors[:-1]) / np.array(errors[1:])
    assert np.all((ratios > 1.7) & (ratios < 2.3)), ratios


def test_renderer_is_injective_on_separated_points(manifold):
    rng = np.random.default_rng(8)
    x = manifold.sample_uniform(rng, 300)
    y = manifold.sample_uniform(rng, 300)
    far = manifold.distance(x, y) > 0.1
    gap = np.linalg.norm((manifold.render(x[far]) - manifold.render(y[far])).reshape(far.sum(), -1), axis=1)
    assert gap.min() > 0.2  # image units at 16 px; a fold or a symmetry would give about 0


def test_autodiff_renderer_agrees_with_numpy_and_finite_differences(manifold):
    """The image oracle's contract (base.py): ``render_tf`` is the NumPy renderer, and forward-mode
    autodiff through it gives the renderer's derivative (checked by NumPy central differences)."""
    import tensorflow as tf

    rng = np.random.default_rng(14)
    x = manifold.sample_uniform(rng, 6)
    v = manifold.random_unit_tangent(rng, x)
    p = tf.constant(x)
    with tf.autodiff.ForwardAccumulator(p, tf.constant(v)) as acc:
        images = manifold.render_tf(p)
    np.testing.assert_allclose(images.numpy(), manifold._render_batch(x), atol=1e-12)
    h = 1e-6
    difference = (manifold._render_batch(x + h * v) - manifold._render_batch(x - h * v)) / (2 * h)
    jvp = acc.jvp(images).numpy()
    assert np.linalg.norm(jvp - difference) < 1e-5 * np.linalg.norm(difference)


def jacobian_singular_values(m, x, h=1e-5):
    """Singular values of the renderer's Jacobian in an orthonormal tangent basis, per point (n, dim)."""
    out = []
    for p in x:
        basis = m.tangent_basis(p[None])[0]
        cols = [
            (m._render_batch(m.exp(p[None], h * e[None])) - m._render_batch(m.exp(p[None], -h * e[None]))).ravel()
            / (2 * h)
            for e in basis
        ]
        out.append(np.linalg.svd(np.stack(cols, axis=1), compute_uv=False))
    return np.array(out)


def test_tangent_basis_is_orthonormal_and_tangent(manifold):
    x = manifold.sample_uniform(np.random.default_rng(10), 50)
    basis = manifold.tangent_basis(x)
    assert basis.shape == (50, manifold.dim, manifold.point_dim)
    # The Riemannian Gram matrix, by polarisation: ⟨u, v⟩ = (|u + v|² − |u − v|²) / 4.
    gram = np.array(
        [
            [
                (manifold.tangent_norm(x, u + v) ** 2 - manifold.tangent_norm(x, u - v) ** 2) / 4.0
                for v in basis.transpose(1, 0, 2)
            ]
            for u in basis.transpose(1, 0, 2)
        ]
    ).transpose(2, 0, 1)
    np.testing.assert_allclose(
        gram, np.broadcast_to(np.eye(manifold.dim), (50, manifold.dim, manifold.dim)), atol=1e-12
    )
    for i in range(manifold.dim):  # a step along a basis vector moves by its length, to first order
        h = 1e-4
        np.testing.assert_allclose(manifold.distance(x, manifold.retract(x, h * basis[:, i])), h, rtol=10 * h)


def test_every_encoding_is_well_conditioned():
    """At 32 pixels, the renderer's Jacobian (per unit of intrinsic length) has singular values
    within a factor 2.5 of each other over the whole manifold: no direction is nearly invisible."""
    for name in NAMES:
        m = manifolds.get(name, image_size=32)
        sv = jacobian_singular_values(m, m.sample_uniform(np.random.default_rng(11), 60))
        assert sv.min() > 1.0, (name, sv.min())
        assert sv.max() / sv.min() < 2.5, (name, sv.max() / sv.min())


def test_sphere_encoding_is_well_conditioned_everywhere():
    """The smallest singular value of the renderer's Jacobian varies little over S², poles included."""
    s = manifolds.get("sphere")
    x = np.vstack([s.sample_uniform(np.random.default_rng(9), 200), [[0, 0, 1.0], [0, 0, -1.0]]])
    sv = jacobian_singular_values(s, x)
    smallest = sv[:, -1]
    assert smallest.min() > 3.0
    assert smallest.max() / smallest.min() < 2.0


def test_gaussians_ball_radius_follows_the_hyperbolic_area_law():
    """A geodesic disk of radius r at curvature −1/2 has area 4π (cosh(r/√2) − 1); the flat law r² fails."""
    m = manifolds.get("gaussians")
    delta, inner = 3.0, 0.5  # large, so that the curved and the flat law differ clearly
    r = m.ball_radius(np.random.default_rng(12), 5000, delta, inner)
    area = np.cosh(r / np.sqrt(2)) - 1
    lo, hi = np.cosh(inner / np.sqrt(2)) - 1, np.cosh(delta / np.sqrt(2)) - 1
    assert stats.kstest(area, "uniform", args=(lo, hi - lo)).pvalue > 1e-3
    assert stats.kstest(r**2, "uniform", args=(inner**2, delta**2 - inner**2)).pvalue < 1e-3
    # Exponential map and distance agree out to these radii.
    x = np.tile([[0.0, 0.7]], (50, 1))
    v = m.random_unit_tangent(np.random.default_rng(13), x)
    np.testing.assert_allclose(m.distance(x, m.exp(x, r[:50, None] * v)), r[:50], rtol=1e-9)


def test_photograph_is_the_cubic_spline_interpolant_of_the_bundled_photo():
    """Against SciPy's own cubic spline of the raw photo: one affine map of pixel values (the
    normalisation to [0, 1]) takes it to the rendered windows, at whole and sub-pixel shifts."""
    from pathlib import Path

    import skimage.data
    from scipy import ndimage

    m = manifolds.get("photograph", image_size=32)
    assert (Path(skimage.data.__file__).parent / f"{m.photo}.png").is_file()  # in the wheel: no download
    photo = np.asarray(getattr(skimage.data, m.photo)(), dtype=np.float64) / 255.0
    points = np.array([[0.0, 0.0], [1.0, 1.0], [3 / m.span, 7 / m.span], [0.3137, 0.7071], [0.9, 0.05]])
    offsets = np.arange(32.0)
    expected = []
    for x, y in points:
        rows, cols = np.meshgrid(m.top + offsets + m.span * y, m.left + offsets + m.span * x, indexing="ij")
        expected.append(ndimage.map_coordinates(photo, [rows, cols], order=3, mode="mirror"))
    expected = np.array(expected).ravel()
    rendered = m._render_batch(points)[..., 0].ravel()
    scale, shift = np.polyfit(expected, rendered, 1)
    assert scale > 0.5
    np.testing.assert_allclose(scale * expected + shift, rendered, atol=1e-9)
    # At whole-pixel shifts the spline goes through the photo's pixels.
    np.testing.assert_allclose(expected[: 3 * 32 * 32], photo_windows(photo, m, points[:3]), atol=1e-9)


def photo_windows(photo, m, points):
    """The photo's 32×32 pixel blocks at whole-pixel window positions, flattened."""
    out = []
    for x, y in points:
        r, c = m.top + round(m.span * y), m.left + round(m.span * x)
        out.append(photo[r : r + 32, c : c + 32])
    return np.array(out).ravel()


def test_photograph_rejects_an_unknown_photo_or_a_region_outside_it():
    with pytest.raises(ValueError, match="photo 'lena' is not one of the bundled photographs"):
        manifolds.get("photograph", photo="lena")
    with pytest.raises(ValueError, match="leaves the photo 'gravel'"):
        manifolds.get("photograph", top=400)
    with pytest.raises(ValueError, match="span and window must be positive"):
        manifolds.get("photograph", span=0.0)
