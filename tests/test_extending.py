"""The README's "Extending" examples, run as written: each registration reaches the config and the code.

They run in a subprocess, so that the registrations do not leak into the other tests.
"""

import re
import subprocess
import sys
import textwrap

from .conftest import ROOT

CHECKS = """
import numpy as np

from isoflat_tf import baselines, manifolds, summary
from isoflat_tf.config import EncoderConfig, EvaluationConfig
from isoflat_tf.config_loader import load_config
from isoflat_tf.evaluation import evaluate_embedding
from isoflat_tf.sampling import sample_pairs
from isoflat_tf.stores import dataset_from_arrays

raw = {
    "datasets": {"square": {"manifold": "square", "image_size": 8}},
    "runs": {"r": {"dataset": "square", "pairs": {"strategy": "half_delta"}}},
}
cfg = load_config(raw)  # the schema allows the new strategy
assert cfg.runs["r"].pairs.strategy == "half_delta"
assert "random_projection" in cfg.baselines.methods  # a registered baseline runs by default

square = manifolds.get("square", image_size=8)
rng = np.random.default_rng(0)
pairs = sample_pairs(square, "half_delta", rng, 50, 0.2)
np.testing.assert_allclose(pairs.distance, 0.1)

points = square.sample_uniform(rng, 60)
images = square.render(points)
embedding = baselines.fit_baseline("random_projection", images, EncoderConfig(latent_dim=2), cfg.baselines, seed=0)
assert embedding.encode(images).shape == (60, 2)

test = dataset_from_arrays(images, points, square.chart(points), {"manifold": "square"})
config = EvaluationConfig(n_pairs=20, n_paths=4, distance_multiples=(1,), neighbourhood_points=30, far_pairs=20)
result, _ = evaluate_embedding(square, embedding.encode, test, 0.1, 0.25, config, seed=0)
assert result["latent_spread"] > 0 and list(result)[-1] == "latent_spread"  # computed after the others
assert "latent_spread" not in summary.HEADLINE
print("extended")
"""


def readme_examples() -> list[str]:
    """The Python blocks of the README's Extending section, in order."""
    section = ROOT.joinpath("README.md").read_text().split("## Extending", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def test_readme_extension_examples_register_and_run():
    blocks = readme_examples()
    assert len(blocks) == 3
    script = "\n".join(blocks) + textwrap.dedent(CHECKS)
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "extended" in proc.stdout
