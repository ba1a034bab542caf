"""Each device option runs on the CPU: MirroredStrategy over two logical CPUs, XLA, mixed precision.

Each case trains the tiny encoder in a fresh process (device set-up must
precede TensorFlow's initialisation) and compares with the plain run.
"""

import numpy as np
import pytest

from .test_resume import probe_latents, start

pytestmark = pytest.mark.slow  # whole trainings in fresh processes

EPOCHS = 2


def train(root, tmp_path, name, *options):
    # One start: the device options act on every model alike (tests/test_resume.py trains several starts).
    proc = start(root, tmp_path, name, "--epochs", str(EPOCHS), "--starts", "1", *options)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    return probe_latents(tmp_path / f"{name}.npz"), err


@pytest.fixture(scope="module")
def reference(root, tmp_path_factory):
    return train(root, tmp_path_factory.mktemp("reference"), "plain")[0]


def relative_difference(latents, reference_latents):
    """Largest latent difference on fixed probe images, up to a translation, relative to the latents' spread.

    (Weights are no good for this: Adam turns rounding-level gradient differences
    in near-zero components into O(learning rate) steps, with no effect on the map.
    Nor is a translation of the latents: the loss does not see it, so nothing holds
    it in place against rounding differences.)
    """
    spread = np.ptp(reference_latents, axis=0).max()
    centred = [z - z.mean(axis=0) for z in (latents, reference_latents)]
    return float(np.abs(centred[0] - centred[1]).max() / spread)


def test_mirrored_step_equals_the_single_device_step(root, tmp_path):
    """One SGD step on a batch split over two replicas moves the map exactly as on one device."""
    single, _ = train(root, tmp_path, "sgd-single", "--sgd-step")
    mirrored, log = train(
        root, tmp_path, "sgd-mirrored", "--sgd-step", "--logical-cpus", "2", "--distribute", "mirrored"
    )
    assert "MirroredStrategy over 2 replicas" in log
    with np.load(tmp_path / "sgd-single.npz") as f:
        moved = relative_difference(f["before"], single)
    assert moved > 1e-2  # the step is large enough for a wrong gradient scale to show
    assert relative_difference(mirrored, single) < 1e-4


def test_mirrored_training_matches_one_device(root, tmp_path, reference):
    mirrored, _ = train(root, tmp_path, "mirrored", "--logical-cpus", "2", "--distribute", "mirrored")
    # Reduction order differs, and Adam amplifies that in near-zero gradient components.
    assert relative_difference(mirrored, reference) < 2e-2


def test_xla_jit_compile_trains_the_same_model(root, tmp_path, reference):
    jitted, _ = train(root, tmp_path, "xla", "--jit", "true")
    assert relative_difference(jitted, reference) < 1e-3


@pytest.mark.parametrize("precision", ["mixed_bfloat16", "mixed_float16"])
def test_mixed_precision_trains_with_float32_latents(root, tmp_path, reference, precision):
    mixed, log = train(root, tmp_path, precision, "--precision", precision)
    assert mixed.dtype == np.float64 and mixed.shape == reference.shape
    ratio_error = float(log.split("final ratio_error ")[1].split()[0])
    assert ratio_error < 0.8  # it learns (float32: 0.23 here); half-precision noise in φ slows the bending term
    assert relative_difference(mixed, reference) > 1e-4  # and it really computed in lower precision
