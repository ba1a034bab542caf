"""Config validation: every bad key or value names itself and the allowed values."""

import copy
import shutil

import pytest
import yaml

from isoflat_tf.config_loader import ConfigError, load_config, load_config_file
from isoflat_tf.seeds import derive_seed

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
        ("evaluations", {}, r"unknown key 'evaluations' in <top level>; allowed keys: .*datasets"),
        (
            "datasets.square.manifold",
            "klein",
            r"datasets\.square\.manifold is 'klein'; allowed values: .*sphere.*square",
        ),
        ("runs.sphere.encoder.latent_dim", 1, r"runs\.sphere\.encoder\.latent_dim is 1; it must be ≥ 2.*'sphere'"),
        ("runs.square.dataset", "torus", r"runs\.square\.dataset is 'torus'; allowed values: square, sphere"),
        ("runs.square.training.final_learning_rate", 1.0, r"final_learning_rate \(1\) must be ≤ learning_rate"),
        ("runs.square.training.bending_warmup_epochs", 100, r"bending_warmup_epochs \(100\) must be ≤ epochs"),
        ("runs.square.training.start_epochs", 2, r"start_epochs \(2\) must be ≤ epochs \(1\)"),
        ("runs.square.training.patience", 0, r"runs\.square\.training\.patience is 0; it must be ≥ 1"),
        ("runs.square.training.tolerance", -0.1, r"runs\.square\.training\.tolerance is -0\.1; it must be ≥ 0"),
        ("runs.square.training.lr_factor", 1.5, r"runs\.square\.training\.lr_factor is 1\.5; it must be < 1"),
        ("runs.square.training.decay_epochs", -1, r"runs\.square\.training\.decay_epochs is -1; it must be ≥ 0"),
        (
            "runs.square.training.learning_rate",
            "1e-3",
            r"learning_rate is '1e-3' \(str\); expected type number \(YAML reads 1e-3 as text; .*1\.0e-3\)",
        ),
        ("runs.square.training.max_minutes", 0, r"runs\.square\.training\.max_minutes is 0; it must be > 0"),
        ("runs.square.training.spectral_epochs", 0, r"runs\.square\.training\.spectral_epochs is 0; it must be ≥ 1"),
        ("runs.square.training.length_unit", "big", r"runs\.square\.training\.length_unit"),
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


def with_sweep(raw, **sweep):
    cfg = copy.deepcopy(raw)
    cfg["sweeps"] = {"grid": sweep}
    return cfg


def test_sweep_expands_into_named_runs(raw):
    cfg = load_config(with_sweep(raw, datasets=["square", "sphere"], bending_weight=[0.1, 1], seeds=[0, 3]))
    names = cfg.sweeps["grid"].runs
    assert len(names) == 8 and set(names) <= set(cfg.runs)
    assert "grid-sphere-quadratic-lam0.1-delta0.05-seed3" in names
    run = cfg.runs["grid-sphere-quadratic-lam0.1-delta0.05-seed3"]
    assert (run.dataset, run.seed, run.loss.bending_weight, run.pairs.delta) == ("sphere", 3, 0.1, 0.05)
    assert run.encoder.conv_filters == (8, 8)  # run_defaults still apply
    assert {"square", "sphere"} <= set(cfg.runs)  # beside the explicit runs


def test_sweep_axes_and_settings(raw):
    sweep = {"datasets": ["sphere"], "delta": [0.05, 0.2], "distortion": ["linear", "elastic"]}
    sweep["settings"] = {"loss": {"bending_weight": 0.3}, "encoder": {"latent_dim": 3}, "training": {"epochs": 2}}
    cfg = load_config(with_sweep(raw, **sweep))
    runs = [cfg.runs[name] for name in cfg.sweeps["grid"].runs]
    assert sorted((r.loss.distortion, r.pairs.delta) for r in runs) == [
        ("elastic", 0.05),
        ("elastic", 0.2),
        ("linear", 0.05),
        ("linear", 0.2),
    ]
    assert {(r.loss.bending_weight, r.encoder.latent_dim, r.training.epochs, r.seed) for r in runs} == {(0.3, 3, 2, 0)}
    assert runs[0].name == "grid-sphere-linear-lam0.3-delta0.05-seed0"


def test_adding_a_value_keeps_existing_run_names(raw):
    before = load_config(with_sweep(raw, datasets=["square"], bending_weight=[1.0])).sweeps["grid"].runs
    after = load_config(with_sweep(raw, datasets=["square"], bending_weight=[1.0, 3.0], seeds=[0, 1])).sweeps["grid"]
    assert set(before) < set(after.runs)


def test_sweep_without_explicit_runs(raw):
    del raw["runs"]
    cfg = load_config(with_sweep(raw, datasets=["square"]))
    assert list(cfg.runs) == ["grid-square-quadratic-lam1-delta0.05-seed0"]


@pytest.mark.parametrize(
    ("sweep", "message"),
    [
        ({"datasets": ["torus"]}, r"sweeps\.grid\.datasets lists 'torus'; allowed values: square, sphere"),
        ({"datasets": ["square"], "bending_weight": [1, 1.0]}, r"sweeps\.grid\.bending_weight: .*non-unique"),
        ({"datasets": ["square"], "delta": [0.1, -1]}, r"sweeps\.grid\.delta\.1 is -1; it must be > 0"),
        ({"datasets": ["square"], "distortion": ["cubic"]}, r"sweeps\.grid\.distortion\.0 is 'cubic'; allowed"),
        ({"datasets": ["square"], "lambda": [1]}, r"unknown key 'lambda' in sweeps\.grid; allowed keys: "),
        ({"datasets": ["square"], "settings": {"seed": 1}}, r"sweeps\.grid\.settings\.seed: list seeds in"),
        ({"datasets": []}, r"sweeps\.grid\.datasets: \[\] should be non-empty"),
        ({"seeds": [0]}, r"sweeps\.grid: 'datasets' is a required property"),
    ],
)
def test_sweep_errors_name_the_key(raw, sweep, message):
    with pytest.raises(ConfigError, match=message):
        load_config(with_sweep(raw, **sweep))


def test_sweep_run_clashing_with_a_run_is_an_error(raw):
    raw["runs"]["grid-square-quadratic-lam1-delta0.05-seed0"] = {"dataset": "square"}
    with pytest.raises(ConfigError, match=r"a run named 'grid-square-quadratic-lam1-delta0\.05-seed0' is defined"):
        load_config(with_sweep(raw, datasets=["square"]))


def test_runs_or_sweeps_required(raw):
    del raw["runs"]
    with pytest.raises(ConfigError, match="'runs' is a required property \\(or 'sweeps'"):
        load_config(raw)


def test_tiny_sweep_adds_to_the_tiny_runs_unchanged(raw):
    """tiny-sweep.yaml on top of tiny.yaml (as the SLURM test runs them) changes no tiny run."""
    from snakemake.utils import update_config  # how Snakemake merges several --configfile

    both = copy.deepcopy(raw)
    update_config(both, yaml.safe_load((ROOT / "config" / "experiments" / "tiny-sweep.yaml").read_text()))
    both = load_config(both)
    tiny = load_config(raw)
    assert all(both.runs[name] == run for name, run in tiny.runs.items())
    assert both.datasets == tiny.datasets and len(both.sweeps["lam"].runs) == 4


@pytest.mark.parametrize("path", sorted((ROOT / "config").rglob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_experiment_is_valid(path):
    experiment = load_config_file(path)
    assert experiment.runs


def test_zoo_and_paper_cover_every_registered_manifold():
    from isoflat_tf import manifolds

    for name in ("zoo.yaml", "paper.yaml"):
        experiment = load_config_file(ROOT / "config" / "experiments" / name)
        used = {experiment.datasets[run.dataset].manifold for run in experiment.runs.values()}
        assert used == set(manifolds.available()), name
        assert {"parametric_umap", "irvae"} <= set(experiment.baselines.methods), name  # the nearest peers
