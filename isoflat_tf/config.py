"""Experiment configuration: schema validation and typed, resolved settings.

``load_config`` checks a config dict against the JSON schema in
``workflow/schemas/config.schema.yaml`` and against the facts the schema
cannot express (known manifolds, latent dimension ≥ manifold dimension,
runs naming existing datasets). Each failure raises ``ConfigError`` naming
the key and the allowed values. Settings missing from the config take the
defaults of the dataclasses below: they are the single source of defaults.

This module imports neither TensorFlow nor Keras: the Snakefile uses it.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import typing
import zlib
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import yaml

from isoflat_tf import manifolds

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "workflow" / "schemas" / "config.schema.yaml"


BASELINE_METHODS = ("pca", "isomap", "umap", "autoencoder")


class ConfigError(ValueError):
    """The experiment config is invalid."""


@dataclasses.dataclass(frozen=True)
class DatasetConfig:
    """A manifold rendered as images (train and test point sets), or a user's own pairs.

    Attributes:
      manifold: a registered manifold; None for user data.
      pairs_store: user data: a pairs store in the documented contract, used
        for training instead of sampled pairs (path relative to the working directory).
      test_store: user data: held-out pairs, same contract, for evaluation;
        without it, evaluation uses the training pairs store.
      dimension: user data: the manifold's dimension, if known (checked against latent_dim).
    """

    name: str
    manifold: str | None = None
    image_size: int = 32
    n_train: int = 4000
    n_test: int = 2000
    pairs_store: str | None = None
    test_store: str | None = None
    dimension: int | None = None

    @property
    def user_data(self) -> bool:
        """Whether the pairs come from the user's own store instead of a manifold."""
        return self.pairs_store is not None


@dataclasses.dataclass(frozen=True)
class PairsConfig:
    """Pair sampling (DESIGN §3); see ``isoflat_tf.sampling`` and ``isoflat_tf.geometry``.

    Attributes:
      strategy: ``ball``, ``sphere`` or ``knn``.
      geometry: where d and z come from: ``intrinsic`` (closed form) or
        ``image`` (discrete geodesics of the image metric).
      neighbours: k of the ``knn`` strategy.
    """

    strategy: str = "ball"
    delta: float = 0.05
    n_pairs: int = 20000
    min_distance_fraction: float = 0.25
    geometry: str = "intrinsic"
    neighbours: int = 8


@dataclasses.dataclass(frozen=True)
class LossConfig:
    """The loss mean(W(s) + λ b): W is ``distortion``, λ is ``bending_weight``."""

    distortion: str = "quadratic"
    bending_weight: float = 1.0


@dataclasses.dataclass(frozen=True)
class EncoderConfig:
    """Architecture of the conv encoder (see ``isoflat_tf.encoder``).

    Attributes:
      latent_dim: l, the latent dimension (≥ the manifold's dimension).
      conv_filters: filters of each stride-2 convolution.
      kernel_size: convolution kernel size.
      dense_units: widths of the dense layers after flattening.
      activation: activation of the convolutions (a smooth one).
      dense_activation: activation of the dense layers.
    """

    latent_dim: int = 2
    conv_filters: tuple[int, ...] = (32, 64, 64)
    kernel_size: int = 3
    dense_units: tuple[int, ...] = (256,)
    activation: str = "elu"
    dense_activation: str = "softplus"


@dataclasses.dataclass(frozen=True)
class TrainingConfig:
    """Optimisation settings.

    Attributes:
      epochs: the most passes over the training pairs; training stops earlier on
        a plateau of the validation loss (``isoflat_tf.plateau``) and keeps the
        weights of its best epoch.
      patience: epochs without improvement of the validation loss before stopping.
      tolerance: relative decrease of the validation loss that counts as improvement.
      lr_patience: epochs without improvement before the learning rate is cut.
      lr_factor: factor of each cut of the learning rate.
      max_minutes: wall-time budget of the training loop (None: no budget); training
        stops after the last epoch that fits (a stop on time is not reproducible).
      starts: independent initialisations trained for ``start_epochs`` each; the
        one with the lowest monitored loss goes on (1: a single start).
      start_epochs: epochs of each start.
      batch_size: pairs per step, over all replicas (the encoder sees 3× as many images).
      learning_rate: initial Adam learning rate.
      final_learning_rate: the floor of the learning rate's cuts.
      length_unit: the encoder's output unit in units of the pair distances:
        ``auto`` takes ``UNIT_PER_MEDIAN_DISTANCE`` median training distances, so
        that the trainable network's outputs are of order one whatever the units
        of d (intrinsic, image or the user's own); a number sets it. The exported
        encoder maps into the units of d.
      tensorboard: write TensorBoard logs into the run's ``tensorboard/`` folder.
      snapshot_every: epochs between embedding snapshots in TensorBoard.
      validation_fraction: share of the pairs held out for validation.
      device: ``auto`` (a GPU when TensorFlow sees one), ``cpu`` or ``gpu``.
      precision: ``float32``, or ``mixed_float16`` / ``mixed_bfloat16`` (low-precision
        compute, float32 latents and loss, loss scaling for float16). The bending
        term divides by d⁴, so half-precision rounding in φ limits its accuracy.
      jit_compile: XLA compilation of the step: ``auto`` (on for GPU, off on the
        CPU, where it is slower), ``true`` or ``false``.
      distribute: ``none`` or ``mirrored`` (``tf.distribute.MirroredStrategy`` over
        all visible GPUs, or CPUs when there are none; the batch is split).
      bending_warmup_epochs: λ grows linearly from 0 to ``loss.bending_weight``
        over this many epochs (0: constant λ). A continuation: where bending is
        expensive at the start (a winding encoding such as ``swiss_roll``), a
        constant λ can collapse a direction of the manifold before the encoder
        has learnt to resolve it.
    """

    epochs: int = 30
    patience: int = 3
    tolerance: float = 0.01
    lr_patience: int = 1
    lr_factor: float = 0.3
    max_minutes: float | None = None
    starts: int = 3
    start_epochs: int = 1
    batch_size: int = 128
    learning_rate: float = 1e-3
    final_learning_rate: float = 1e-5
    length_unit: float | str = "auto"
    tensorboard: bool = True
    snapshot_every: int = 5
    validation_fraction: float = 0.1
    device: str = "auto"
    precision: str = "float32"
    jit_compile: bool | str = "auto"
    distribute: str = "none"
    bending_warmup_epochs: float = 0.0


@dataclasses.dataclass(frozen=True)
class EvaluationConfig:
    """Attributes:
    n_pairs: test pairs at scale δ for distortion and bending.
    n_paths: geodesic paths per distance for the interpolation error.
    distance_multiples: path lengths, as multiples of δ.
    path_points: points per path, including both ends.
    neighbourhood_points: test points (a subsample) for trustworthiness and continuity.
    neighbours: k of trustworthiness and continuity.
    far_pairs: random pairs of test points for global distance preservation.
    strips: example interpolation strips kept for figures (with a decoder).
    """

    n_pairs: int = 4000
    n_paths: int = 500
    distance_multiples: tuple[float, ...] = (1, 2, 4, 8)
    path_points: int = 9
    neighbourhood_points: int = 1000
    neighbours: int = 10
    far_pairs: int = 2000
    strips: int = 4


@dataclasses.dataclass(frozen=True)
class DecoderConfig:
    """Architecture and fitting of the decoder.

    Attributes:
      dense_units: widths of the dense layers from the latent.
      conv_filters: filters of each stride-2 transposed convolution (coarse to fine).
      activation: activation of the hidden layers.
      epochs, batch_size, learning_rate: Adam fitting with cosine decay.
    """

    dense_units: tuple[int, ...] = (256,)
    conv_filters: tuple[int, ...] = (64, 32)
    activation: str = "elu"
    epochs: int = 30
    batch_size: int = 128
    learning_rate: float = 2e-3


@dataclasses.dataclass(frozen=True)
class BaselineConfig:
    """Baseline embeddings scored like isoflat (``isoflat_tf.baselines``).

    Attributes:
    methods: baselines to run (pca, isomap, umap, autoencoder).
    n_neighbors: neighbourhood size of Isomap and UMAP.
    max_fit_points: training images used to fit Isomap and UMAP (their cost grows quickly).
    autoencoder_epochs, autoencoder_batch_size, autoencoder_learning_rate: the plain autoencoder's fit.
    """

    methods: tuple[str, ...] = BASELINE_METHODS
    n_neighbors: int = 10
    max_fit_points: int = 4000
    autoencoder_epochs: int = 40
    autoencoder_batch_size: int = 128
    autoencoder_learning_rate: float = 1e-3


@dataclasses.dataclass(frozen=True)
class GammaLimitConfig:
    """The Γ-limit check of the loss on analytic maps (``isoflat_tf.theory``).

    Attributes:
      n_pairs: pairs per sampled loss in the bias study.
      deltas: scales δ of the bias study.
      noise_pairs: sample sizes N of the noise study.
      repeats: repetitions per N in the noise study.
    """

    n_pairs: int = 400_000
    deltas: tuple[float, ...] = (0.4, 0.2, 0.1, 0.05, 0.025, 0.0125)
    noise_pairs: tuple[int, ...] = (100, 1000, 10_000, 100_000)
    repeats: int = 24


@dataclasses.dataclass(frozen=True)
class ResourcesConfig:
    """What jobs ask for: threads, and for training memory (MB), runtime (min) and GPUs."""

    threads: int = 2
    train_mem_mb: int = 4000
    train_runtime: int = 60
    train_gpus: int = 0


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """One training run: a dataset, its pairs, the loss, the encoder and the optimiser."""

    name: str
    dataset: str
    seed: int
    pairs: PairsConfig
    loss: LossConfig
    encoder: EncoderConfig
    training: TrainingConfig

    @property
    def method_label(self) -> str:
        """The method's name in summaries and figures: runs differing only in seed share it."""
        extra = [
            f"W={self.loss.distortion}" if self.loss.distortion != "quadratic" else "",
            f"{self.pairs.strategy} pairs" if self.pairs.strategy != "ball" else "",
            f"{self.pairs.geometry} metric" if self.pairs.geometry != "intrinsic" else "",
        ]
        details = "".join(f", {e}" for e in extra if e)
        return f"isoflat(λ={self.loss.bending_weight:g}, δ={self.pairs.delta:g}{details})"

    @property
    def sampling(self) -> str:
        """A readable name of the pair set: runs sharing it share the pairs store."""
        p = self.pairs
        name = f"{p.strategy}-d{p.delta:g}-n{p.n_pairs}-r{p.min_distance_fraction:g}-s{self.seed}"
        if p.strategy == "knn":
            name += f"-k{p.neighbours}"
        if p.geometry != "intrinsic":
            name += f"-{p.geometry}"
        return name


@dataclasses.dataclass(frozen=True)
class SweepConfig:
    """A grid of runs: every combination of its datasets, W, λ, δ and seeds.

    Attributes:
      name: the sweep's name, the prefix of its runs' names.
      runs: names of its runs (also in ``ExperimentConfig.runs``), in grid order.
    """

    name: str
    runs: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class ExperimentConfig:
    """The whole resolved experiment; ``runs`` includes the runs of every sweep."""

    seed: int
    datasets: dict[str, DatasetConfig]
    runs: dict[str, RunConfig]
    evaluation: EvaluationConfig
    decoder: DecoderConfig
    baselines: BaselineConfig
    gamma_limit: GammaLimitConfig
    resources: ResourcesConfig
    sweeps: dict[str, SweepConfig] = dataclasses.field(default_factory=dict)


def to_params(obj) -> dict:
    """A config dataclass as a plain dict: Snakemake's params must be builtin types
    for a changed value to rerun the job (it ignores other objects)."""
    return dataclasses.asdict(obj)


def from_params(cls, params: dict):
    """Rebuild a config dataclass (nested ones included) from ``to_params`` output."""
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for field in dataclasses.fields(cls):
        value = params[field.name]
        if dataclasses.is_dataclass(hints[field.name]):
            value = from_params(hints[field.name], value)
        elif isinstance(value, list):
            value = tuple(value)
        kwargs[field.name] = value
    return cls(**kwargs)


def derive_seed(base: int, *names: str) -> int:
    """A stable 31-bit seed for a purpose (e.g. ``derive_seed(0, "square", "test")``)."""
    key = zlib.crc32("/".join(names).encode())
    return int(np.random.SeedSequence([base, key]).generate_state(1)[0] & 0x7FFFFFFF)


def _path(parts) -> str:
    return ".".join(str(p) for p in parts) or "<top level>"


def _schema_message(err: jsonschema.ValidationError) -> str:
    where = _path(err.absolute_path)
    v = err.validator
    if v == "additionalProperties":
        allowed = sorted(err.schema.get("properties", {}))
        extra = sorted(set(err.instance) - set(allowed))
        return f"unknown key {', '.join(map(repr, extra))} in {where}; allowed keys: {', '.join(allowed)}"
    if v == "required":
        return f"{where}: {err.message}"
    if v == "enum":
        return f"{where} is {err.instance!r}; allowed values: {', '.join(map(str, err.validator_value))}"
    if v == "type":
        return f"{where} is {err.instance!r} ({type(err.instance).__name__}); expected type {err.validator_value}"
    bounds = {"minimum": "≥", "maximum": "≤", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}
    if v in bounds:
        return f"{where} is {err.instance!r}; it must be {bounds[v]} {err.validator_value}"
    if v == "propertyNames":
        return f"name {err.instance!r} in {where}: use letters, digits, '_', '.' and '-' only"
    return f"{where}: {err.message}"


def load_schema(path: Path = SCHEMA_PATH) -> dict:
    with open(path) as f:
        return yaml.safe_load(f)


def validate_schema(raw: dict, schema: dict | None = None) -> None:
    """Raise ``ConfigError`` listing every schema violation of ``raw``."""
    schema = schema or load_schema()
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(raw), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        # allOf wraps run errors; report the innermost ones.
        leaves = []
        for err in errors:
            leaves.extend(_leaf_errors(err))
        raise ConfigError("invalid config:\n  " + "\n  ".join(dict.fromkeys(_schema_message(e) for e in leaves)))


def _leaf_errors(err: jsonschema.ValidationError) -> list[jsonschema.ValidationError]:
    if err.context:
        return [leaf for sub in err.context for leaf in _leaf_errors(sub)]
    return [err]


def _merge(base: dict, override: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _tuples(d: dict) -> dict:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}


# Sweep axes: the sweep's list key and where each value goes in a run's settings.
SWEEP_AXES = {
    "distortion": ("loss", "distortion"),
    "bending_weight": ("loss", "bending_weight"),
    "delta": ("pairs", "delta"),
}


def sweep_run_name(sweep: str, dataset: str, distortion: str, bending_weight: float, delta: float, seed: int) -> str:
    """A readable run name that holds every axis value, so that adding a value to a sweep
    adds runs without renaming (and so rerunning) the existing ones."""
    return f"{sweep}-{dataset}-{distortion}-lam{bending_weight:g}-delta{delta:g}-seed{seed}"


def expand_sweep(name: str, sweep: dict, run_defaults: dict, seed: int) -> dict[str, dict]:
    """The runs of one sweep, as run entries like those of ``runs`` (name -> settings).

    An axis the sweep does not list takes its single value from the sweep's
    ``settings``, else ``run_defaults``, else the dataclass default.
    """
    base = _merge(run_defaults, sweep.get("settings", {}))
    defaults = {
        "distortion": LossConfig.distortion,
        "bending_weight": LossConfig.bending_weight,
        "delta": PairsConfig.delta,
    }
    axes = {
        key: sweep.get(key, [base.get(section, {}).get(field, defaults[key])])
        for key, (section, field) in SWEEP_AXES.items()
    }
    runs = {}
    grid = itertools.product(sweep["datasets"], axes["distortion"], axes["bending_weight"], axes["delta"])
    for (dataset, distortion, lam, delta), run_seed in itertools.product(grid, sweep.get("seeds", [seed])):
        run = _merge(
            sweep.get("settings", {}),
            {"dataset": dataset, "seed": run_seed, "loss": {"distortion": distortion, "bending_weight": lam}},
        )
        run = _merge(run, {"pairs": {"delta": delta}})
        runs[sweep_run_name(name, dataset, distortion, lam, delta, run_seed)] = run
    return runs


def _sweep_problems(name: str, sweep: dict, datasets: dict) -> list[str]:
    """What a sweep gets wrong beyond the schema: unknown datasets, a dataset or seed in its settings."""
    problems = [
        f"sweeps.{name}.settings.{key}: list {key}s in sweeps.{name}.{key}s instead"
        for key in ("dataset", "seed")
        if key in sweep.get("settings", {})
    ]
    unknown = [d for d in sweep["datasets"] if d not in datasets]
    if unknown:
        problems.append(
            f"sweeps.{name}.datasets lists {', '.join(map(repr, unknown))}; allowed values: {', '.join(datasets)}"
        )
    return problems


def load_config(raw: dict[str, Any]) -> ExperimentConfig:
    """Validate a raw config dict and resolve it into an ``ExperimentConfig``.

    Raises:
      ConfigError: naming each offending key and its allowed values.
    """
    validate_schema(raw)
    problems = []
    known = manifolds.available()
    datasets = {}
    for name, d in raw["datasets"].items():
        if ("manifold" in d) == ("pairs_store" in d):
            problems.append(
                f"datasets.{name}: give either 'manifold' (synthetic data) or 'pairs_store' (your own pairs)"
            )
            continue
        if "pairs_store" in d:
            synthetic_only = sorted({"image_size", "n_train", "n_test"} & set(d))
            if synthetic_only:
                problems.append(f"datasets.{name}: {', '.join(synthetic_only)} apply to synthetic data only")
                continue
            datasets[name] = DatasetConfig(name=name, **d)
            continue
        user_only = sorted({"test_store", "dimension"} & set(d))
        if user_only:
            problems.append(f"datasets.{name}: {', '.join(user_only)} apply to a user's pairs_store only")
            continue
        if d["manifold"] not in known:
            problems.append(f"datasets.{name}.manifold is {d['manifold']!r}; allowed values: {', '.join(known)}")
            continue
        datasets[name] = DatasetConfig(name=name, **d)

    seed = raw.get("seed", 0)
    if not raw.get("runs") and not raw.get("sweeps"):
        raise ConfigError("invalid config:\n  <top level>: 'runs' is a required property (or 'sweeps', or both)")
    entries = [(f"runs.{name}", name, run) for name, run in raw.get("runs", {}).items()]
    sweeps = {}
    for sweep_name, sweep in raw.get("sweeps", {}).items():
        problems += _sweep_problems(sweep_name, sweep, raw["datasets"])
        expanded = expand_sweep(sweep_name, sweep, raw.get("run_defaults", {}), seed)
        sweeps[sweep_name] = SweepConfig(name=sweep_name, runs=tuple(expanded))
        entries += [
            (f"sweeps.{sweep_name} (run {name})", name, run)
            for name, run in expanded.items()
            if run["dataset"] in raw["datasets"]  # unknown ones are reported once, above
        ]
    runs = {}
    for where, name, overrides in entries:
        if name in runs:
            problems.append(f"{where}: a run named {name!r} is defined twice; rename the run or the sweep")
            continue
        r = _merge(raw.get("run_defaults", {}), overrides)
        if r["dataset"] not in raw["datasets"]:
            problems.append(f"{where}.dataset is {r['dataset']!r}; allowed values: {', '.join(raw['datasets'])}")
            continue
        run = RunConfig(
            name=name,
            dataset=r["dataset"],
            seed=r.get("seed", seed),
            pairs=PairsConfig(**r.get("pairs", {})),
            loss=LossConfig(**r.get("loss", {})),
            encoder=EncoderConfig(**_tuples(r.get("encoder", {}))),
            training=TrainingConfig(**r.get("training", {})),
        )
        dataset = datasets.get(run.dataset)
        if dataset is not None and dataset.user_data:
            if dataset.dimension is not None and run.encoder.latent_dim < dataset.dimension:
                problems.append(
                    f"runs.{name}.encoder.latent_dim is {run.encoder.latent_dim}; it must be ≥ {dataset.dimension}, "
                    f"the dimension given for dataset {dataset.name!r}"
                )
        elif dataset is not None:
            m = manifolds.manifold_class(dataset.manifold)
            if run.encoder.latent_dim < m.dim:
                problems.append(
                    f"{where}.encoder.latent_dim is {run.encoder.latent_dim}; it must be ≥ {m.dim}, "
                    f"the dimension of manifold {m.name!r}"
                )
        if run.training.final_learning_rate > run.training.learning_rate:
            problems.append(
                f"{where}.training.final_learning_rate ({run.training.final_learning_rate:g}) must be ≤ "
                f"learning_rate ({run.training.learning_rate:g})"
            )
        if run.training.start_epochs > run.training.epochs:
            problems.append(
                f"{where}.training.start_epochs ({run.training.start_epochs}) must be ≤ epochs ({run.training.epochs})"
            )
        if run.training.bending_warmup_epochs > run.training.epochs:
            problems.append(
                f"{where}.training.bending_warmup_epochs ({run.training.bending_warmup_epochs:g}) must be ≤ "
                f"epochs ({run.training.epochs}): λ would never reach loss.bending_weight"
            )
        runs[name] = run
    if problems:
        raise ConfigError("invalid config:\n  " + "\n  ".join(problems))
    return ExperimentConfig(
        seed=seed,
        datasets=datasets,
        runs=runs,
        evaluation=EvaluationConfig(**_tuples(raw.get("evaluation", {}))),
        decoder=DecoderConfig(**_tuples(raw.get("decoder", {}))),
        baselines=BaselineConfig(**_tuples(raw.get("baselines", {}))),
        gamma_limit=GammaLimitConfig(**_tuples(raw.get("gamma_limit", {}))),
        resources=ResourcesConfig(**raw.get("resources", {})),
        sweeps=sweeps,
    )


def load_config_file(path: str | Path) -> ExperimentConfig:
    """Read a YAML config file and resolve it (see ``load_config``)."""
    with open(path) as f:
        raw = yaml.safe_load(f)
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the config must be a YAML mapping")
    return load_config(raw)
