"""Loading an experiment config: schema validation, clear messages, resolution into dataclasses.

``load_config`` checks a config dict against the JSON schema in
``workflow/schemas/config.schema.yaml`` (whose enums of open sets are filled
in from the registries when it is loaded) and against the facts the schema
cannot express (known manifolds, latent dimension ≥ the data's dimension,
runs naming existing datasets). Each failure raises ``ConfigError`` naming
the key and the allowed values.

This module imports neither TensorFlow nor Keras: the Snakefile uses it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import yaml

from isoflat_tf import baselines, distortions, pair_sources, sampling
from isoflat_tf.config import (
    BaselineConfig,
    DatasetConfig,
    DecoderConfig,
    EncoderConfig,
    EvaluationConfig,
    ExperimentConfig,
    GammaLimitConfig,
    LossConfig,
    PairsConfig,
    ResourcesConfig,
    RunConfig,
    SweepConfig,
    TrainingConfig,
)
from isoflat_tf.config_checks import neighbourhood_problems, non_finite_numbers, training_problems
from isoflat_tf.params import merge, tuples
from isoflat_tf.sweeps import expand_sweep, sweep_problems
from isoflat_tf.yaml_file import YamlFileError, load_yaml

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "workflow" / "schemas" / "config.schema.yaml"

# Keys that were renamed: (section, old key) -> new key.
RENAMED = {("baselines", "n_neighbors"): "neighbours"}


class ConfigError(ValueError):
    """The experiment config is invalid."""


def registry_enums() -> dict[str, tuple[str, ...]]:
    """The schema's enums that the registries define, by the ``$defs`` name the schema refers to."""
    return {
        "distortion_name": distortions.available(),
        "strategy_name": sampling.STRATEGIES.names(),
        "baseline_name": baselines.available(),
    }


def _path(parts) -> str:
    return ".".join(str(p) for p in parts) or "<top level>"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


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
        message = f"{where} is {err.instance!r} ({type(err.instance).__name__}); expected type {err.validator_value}"
        if isinstance(err.instance, str) and "number" in err.validator_value and _is_number(err.instance):
            # YAML 1.1, which PyYAML and Snakemake read, takes 1e-3 for text: it wants a dot, 1.0e-3.
            message += f" (YAML reads {err.instance} as text; write it with a decimal point, e.g. 1.0e-3)"
        return message
    bounds = {"minimum": "≥", "maximum": "≤", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}
    if v in bounds:
        return f"{where} is {err.instance!r}; it must be {bounds[v]} {err.validator_value}"
    if v in ("propertyNames", "pattern"):  # the schema's patterns are those of names
        return (
            f"name {err.instance!r} in {where}: use letters, digits, '_', '.' and '-' only, "
            "not starting with '.' (names become folder names)"
        )
    return f"{where}: {err.message}"


def load_schema(path: Path = SCHEMA_PATH) -> dict:
    """The config schema, with the allowed names of each registry filled in."""
    with open(path) as f:
        schema = yaml.safe_load(f)
    for name, values in registry_enums().items():
        schema["$defs"][name]["enum"] = list(values)
    return schema


def validate_schema(raw: dict, schema: dict | None = None, what: str = "config") -> None:
    """Raise ``ConfigError`` listing every schema violation of ``raw`` (``what``: the name the message gives it)."""
    schema = schema or load_schema()
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(raw), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        # allOf wraps run errors; report the innermost ones.
        leaves = []
        for err in errors:
            leaves.extend(_leaf_errors(err))
        raise ConfigError(f"invalid {what}:\n  " + "\n  ".join(dict.fromkeys(_schema_message(e) for e in leaves)))


def _leaf_errors(err: jsonschema.ValidationError) -> list[jsonschema.ValidationError]:
    if err.context:
        return [leaf for sub in err.context for leaf in _leaf_errors(sub)]
    return [err]


def renamed_keys(raw: dict) -> list[str]:
    """Messages for keys the config no longer accepts under their old name."""
    return [
        f"{section}.{old} was renamed: use {section}.{new}"
        for (section, old), new in RENAMED.items()
        if isinstance(raw.get(section), dict) and old in raw[section]
    ]


def load_config(raw: dict[str, Any]) -> ExperimentConfig:
    """Validate a raw config dict and resolve it into an ``ExperimentConfig``.

    Raises:
      ConfigError: naming each offending key and its allowed values.
    """
    renamed = renamed_keys(raw) + non_finite_numbers(raw)
    if renamed:
        raise ConfigError("invalid config:\n  " + "\n  ".join(renamed))
    validate_schema(raw)
    problems = []
    datasets = {}
    for name, d in raw["datasets"].items():
        found = pair_sources.dataset_problems(name, d)
        if found:
            problems += found
            continue
        datasets[name] = DatasetConfig(name=name, **d)

    seed = raw.get("seed", 0)
    if not raw.get("runs") and not raw.get("sweeps"):
        raise ConfigError("invalid config:\n  <top level>: 'runs' is a required property (or 'sweeps', or both)")
    entries = [(f"runs.{name}", name, run) for name, run in raw.get("runs", {}).items()]
    sweeps = {}
    for sweep_name, sweep in raw.get("sweeps", {}).items():
        problems += sweep_problems(sweep_name, sweep, raw["datasets"])
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
        r = merge(raw.get("run_defaults", {}), overrides)
        if r["dataset"] not in raw["datasets"]:
            problems.append(f"{where}.dataset is {r['dataset']!r}; allowed values: {', '.join(raw['datasets'])}")
            continue
        dataset = datasets.get(r["dataset"])
        source = pair_sources.of_dataset(dataset) if dataset is not None else None
        run = RunConfig(
            name=name,
            dataset=r["dataset"],
            seed=r.get("seed", seed),
            pairs=PairsConfig(**{**dict(source.pairs_defaults if source else ()), **r.get("pairs", {})}),
            loss=LossConfig(**r.get("loss", {})),
            encoder=EncoderConfig(**tuples(r.get("encoder", {}))),
            training=TrainingConfig(**r.get("training", {})),
        )
        known = source.dimension(dataset) if source is not None else None
        if known is not None and run.encoder.latent_dim < known[0]:
            problems.append(
                f"{where}.encoder.latent_dim is {run.encoder.latent_dim}; it must be ≥ {known[0]}, {known[1]}"
            )
        if source is not None:
            problems += source.run_problems(where, dataset, run)
        problems += training_problems(f"{where}.training", run.training)
        runs[name] = run
    problems += warm_start_problems(runs, datasets)
    if problems:
        raise ConfigError("invalid config:\n  " + "\n  ".join(problems))
    experiment = ExperimentConfig(
        seed=seed,
        datasets=datasets,
        runs=runs,
        evaluation=EvaluationConfig(**tuples(raw.get("evaluation", {}))),
        decoder=DecoderConfig(**tuples(raw.get("decoder", {}))),
        baselines=BaselineConfig(**{"methods": baselines.defaults(), **tuples(raw.get("baselines", {}))}),
        gamma_limit=GammaLimitConfig(**tuples(raw.get("gamma_limit", {}))),
        resources=ResourcesConfig(**raw.get("resources", {})),
        sweeps=sweeps,
    )
    problems = neighbourhood_problems(experiment)
    if problems:
        raise ConfigError("invalid config:\n  " + "\n  ".join(problems))
    return experiment


def warm_start_problems(runs: dict[str, RunConfig], datasets: dict[str, DatasetConfig]) -> list[str]:
    """What ``training.init_from`` gets wrong: an unknown run, the run itself, a cycle, another architecture."""
    problems = []
    for name, run in runs.items():
        source = run.training.init_from
        if source is None:
            continue
        key = f"runs.{name}.training.init_from"
        if source == name:
            problems.append(f"{key} names the run itself; name another run")
        elif source not in runs:
            problems.append(f"{key} is {source!r}; allowed values: {', '.join(r for r in runs if r != name)}")
        elif runs[source].encoder != run.encoder:
            problems.append(f"{key}: run {source!r} has other encoder settings; a warm start needs the same ones")
        elif datasets.get(runs[source].dataset, None) and datasets.get(run.dataset, None):
            sizes = {datasets[r.dataset].image_size for r in (run, runs[source])}
            if len(sizes) > 1 and all(datasets[r.dataset].manifold for r in (run, runs[source])):
                problems.append(f"{key}: run {source!r} trained on images of another size")
    for name in runs:  # a chain of warm starts must end
        seen, current = [name], runs[name].training.init_from
        while current in runs and current not in seen:
            seen.append(current)
            current = runs[current].training.init_from
        if current == name and len(seen) > 1:
            problems.append(
                f"runs.{name}.training.init_from: the warm starts form a cycle: {' → '.join([*seen, name])}"
            )
    return problems


def load_config_file(path: str | Path) -> ExperimentConfig:
    """Read a YAML config file and resolve it (see ``load_config``)."""
    try:
        raw = load_yaml(path)
    except YamlFileError as err:
        raise ConfigError(str(err)) from err
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the config must be a YAML mapping")
    return load_config(raw)
