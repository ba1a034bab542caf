"""Config validation: every bad key or value names itself and the allowed values."""

import copy
import shutil

import pytest
import yaml

from isoflat_tf.config import ConfigError, derive_seed, load_config, load_config_file

from .conftest import ROOT, TINY_CONFIG, run_snakemake


@pytest.fixture
def raw():
    return yaml.safe_load(TINY_CONFIG.read_text())


def test_shipped_configs_load():
    for path in [ROOT / "config" / "config.yaml", *(ROOT / "config" / "experiments").glob("*.yaml")]:
        cfg = load_config_file(path)
        assert cfg.runs, path


def test_run_defaults_merge_key_by_key(raw):
    cfg = load_config(raw)
    sphere = cfg.runs["sphere"]
    assert sphere.pairs.delta == 0.1 and sphere.pairs.n_pairs == raw["run_defaults"]["pairs"]["n_pairs"]
    assert sphere.encoder.latent_dim == 3 and sphere.encoder.conv_filters == (8, 8)
    assert cfg.runs["square"].loss.bending_weight == 1.0  # dataclass default


def set_key(raw, dotted, value):
    cfg = copy.deepcopy(raw)
    node = cfg
    *parents, last = dotted.split(".")
    for p in parents:
        node = node.setdefault(p, {})
    node[last] = value
    return cfg


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("runs.square.pairs.delta", 0.0, r"runs\.square\.pairs\.delta is 0\.0; it must be > 0"),
        ("runs.square.pairs.delta", -0.1, r"runs\.square\.pairs\.delta is -0\.1; it must be > 0"),
        ("runs.square.loss.bending_weight", -1, r"runs\.square\.loss\.bending_weight is -1; it must be ≥ 0"),
        ("datasets.square.image_size", 4, r"datasets\.square\.image_size is 4; it must be ≥ 8"),
        ("datasets.square.image_size", "big", r"datasets\.square\.image_size is 'big' \(str\); expected type integer"),
        (
            "runs.square.loss.distortion",
            "cubic",
            r"runs\.square\.loss\.distortion is 'cubic'; allowed values: quadratic",
        ),
        ("runs.square.loss.lambda", 1.0, r"unknown key 'lambda' in runs\.square\.loss; allowed keys: bending_weight"),
        ("evaluations", {}, r"unknown key 'evaluations' in <top level>; allowed keys: datasets"),
        (
            "datasets.square.manifold",
            "klein",
            r"datasets\.square\.manifold is 'klein'; allowed values: .*sphere.*square",
        ),
        ("runs.sphere.encoder.latent_dim", 1, r"runs\.sphere\.encoder\.latent_dim is 1; it must be ≥ 2.*'sphere'"),
        ("runs.square.dataset", "torus", r"runs\.square\.dataset is 'torus'; allowed values: square, sphere"),
        ("runs.square.training.final_learning_rate", 1.0, r"final_learning_rate \(1\) must be ≤ learning_rate"),
    ],
)
def test_each_error_names_key_and_allowed_values(raw, key, value, message):
    with pytest.raises(ConfigError, match=message):
        load_config(set_key(raw, key, value))


def test_missing_required_section(raw):
    del raw["runs"]
    with pytest.raises(ConfigError, match="'runs' is a required property"):
        load_config(raw)


def test_derived_seeds_are_stable_and_distinct():
    assert derive_seed(0, "square", "train") == derive_seed(0, "square", "train")
    assert len({derive_seed(s, "square", split) for s in (0, 1) for split in ("train", "test")}) == 4


def test_snakemake_stops_before_any_job_on_a_bad_config(tmp_path, raw):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(set_key(raw, "runs.square.pairs.delta", -1)))
    proc = run_snakemake(tmp_path, "--cores", "1", "--configfile", str(bad), check=False)
    assert proc.returncode != 0
    assert "runs.square.pairs.delta is -1; it must be > 0" in proc.stdout + proc.stderr
    assert not (tmp_path / "results").exists()
    shutil.rmtree(tmp_path / ".snakemake", ignore_errors=True)
