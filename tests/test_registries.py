"""One list of allowed values: the schema's enums equal the config's Literal types and the registries."""

import dataclasses
import typing

import numpy as np
import pandas as pd
import pytest
import yaml

from isoflat_tf import baselines, config, distortions, sampling
from isoflat_tf.config_loader import SCHEMA_PATH, ConfigError, load_config, load_schema
from isoflat_tf.summary import markdown_table, over_seeds

# Where each config dataclass sits in the schema.
SECTIONS = {
    config.PairsConfig: ("$defs", "run_settings", "properties", "pairs"),
    config.LossConfig: ("$defs", "run_settings", "properties", "loss"),
    config.EncoderConfig: ("$defs", "run_settings", "properties", "encoder"),
    config.TrainingConfig: ("$defs", "run_settings", "properties", "training"),
    config.EvaluationConfig: ("properties", "evaluation"),
    config.DecoderConfig: ("properties", "decoder"),
    config.BaselineConfig: ("properties", "baselines"),
    config.GammaLimitConfig: ("properties", "gamma_limit"),
    config.ResourcesConfig: ("properties", "resources"),
}


def literal_values(hint) -> list | None:
    """The allowed values of a Literal type (None if the field is not one)."""
    if typing.get_origin(hint) is typing.Literal:
        return list(typing.get_args(hint))
    return None


def schema_section(schema: dict, path: tuple[str, ...]) -> dict:
    node = schema
    for key in path:
        node = node[key]
    return node


@pytest.mark.parametrize("cls", list(SECTIONS), ids=lambda c: c.__name__)
def test_schema_enums_equal_the_literal_types(cls):
    schema = yaml.safe_load(SCHEMA_PATH.read_text())  # as written, before the registries fill it in
    properties = schema_section(schema, SECTIONS[cls])["properties"]
    hints = typing.get_type_hints(cls)
    assert set(properties) == {f.name for f in dataclasses.fields(cls)}, "schema keys and dataclass fields differ"
    for field in dataclasses.fields(cls):
        values = literal_values(hints[field.name])
        enum = properties[field.name].get("enum")
        assert values == enum, f"{cls.__name__}.{field.name}: Literal {values} but schema enum {enum}"


def test_schema_reads_the_registries():
    defs = load_schema()["$defs"]
    assert defs["distortion_name"]["enum"] == list(distortions.available())
    assert defs["strategy_name"]["enum"] == list(sampling.STRATEGIES.names())
    assert defs["baseline_name"]["enum"] == list(baselines.available())


def test_unknown_baseline_lists_the_registered_ones():
    raw = {
        "datasets": {"s": {"manifold": "square"}},
        "runs": {"r": {"dataset": "s"}},
        "baselines": {"methods": ["tsne"]},
    }
    with pytest.raises(ConfigError, match=r"baselines\.methods\.0 is 'tsne'; allowed values: pca, isomap, umap"):
        load_config(raw)


def test_the_peers_are_opt_in():
    """Parametric UMAP and IRVAE run only when named: the default experiment keeps its four baselines."""
    assert baselines.defaults() == ("pca", "isomap", "umap", "autoencoder")
    assert set(baselines.available()) - set(baselines.defaults()) == {"parametric_umap", "irvae"}
    raw = {"datasets": {"s": {"manifold": "square"}}, "runs": {"r": {"dataset": "s"}}}
    assert load_config(raw).baselines.methods == baselines.defaults()
    raw["baselines"] = {"methods": ["irvae", "parametric_umap"], "irvae_weight": 10, "parametric_umap_epochs": 5}
    cfg = load_config(raw).baselines
    assert (cfg.methods, cfg.irvae_weight, cfg.parametric_umap_epochs) == (("irvae", "parametric_umap"), 10, 5)


def test_an_unknown_peer_option_is_named():
    raw = {"datasets": {"s": {"manifold": "square"}}, "runs": {"r": {"dataset": "s"}}, "baselines": {"irvae_epoch": 3}}
    with pytest.raises(ConfigError, match=r"unknown key 'irvae_epoch' in baselines; allowed keys: .*irvae_epochs"):
        load_config(raw)


def test_parametric_umap_needs_more_training_points_than_neighbours():
    raw = {
        "datasets": {"s": {"manifold": "square", "n_train": 8}},
        "runs": {"r": {"dataset": "s"}},
        "baselines": {"methods": ["parametric_umap"], "neighbours": 8},
    }
    with pytest.raises(ConfigError, match=r"baselines parametric_umap with baselines\.neighbours = 8 need more"):
        load_config(raw)


# The rows of the README's configuration table, by the dataclass they document.
README_ROWS = {
    "runs.<name>.pairs": config.PairsConfig,
    "runs.<name>.loss": config.LossConfig,
    "runs.<name>.encoder": config.EncoderConfig,
    "runs.<name>.training": config.TrainingConfig,
    "evaluation": config.EvaluationConfig,
    "decoder": config.DecoderConfig,
    "baselines": config.BaselineConfig,
    "gamma_limit": config.GammaLimitConfig,
    "resources": config.ResourcesConfig,
}


@pytest.mark.parametrize("row", list(README_ROWS))
def test_the_readme_table_names_every_key(row, root):
    lines = (root / "README.md").read_text().splitlines()
    line = next(text for text in lines if text.startswith(f"| `{row}` |"))
    missing = [f.name for f in dataclasses.fields(README_ROWS[row]) if f"`{f.name}`" not in line]
    if row == "baselines":
        missing += [name for name in baselines.available() if f"`{name}`" not in line]
    assert not missing, f"README's configuration row {row} lacks {missing}"


def test_the_old_neighbours_key_names_the_new_one():
    raw = {"datasets": {"s": {"manifold": "square"}}, "runs": {"r": {"dataset": "s"}}, "baselines": {"n_neighbors": 5}}
    with pytest.raises(ConfigError, match=r"baselines\.n_neighbors was renamed: use baselines\.neighbours"):
        load_config(raw)
    raw["baselines"] = {"neighbours": 5}
    assert load_config(raw).baselines.neighbours == 5


def test_one_seed_has_no_standard_deviation():
    # The experiment's summary and the sweep summaries share over_seeds: the sample std of one seed is NaN.
    rows = pd.DataFrame({"method": ["a", "a", "b"], "seed": [0, 1, 0], "x": [1.0, 3.0, 5.0]})
    stats = over_seeds(rows, ["method"], ["x"])
    assert list(stats.columns) == ["method", "n_seeds", "x_mean", "x_std"]
    assert stats["n_seeds"].tolist() == [2, 1]
    assert stats["x_mean"].tolist() == [2.0, 5.0]
    assert stats["x_std"].iloc[0] == pytest.approx(np.sqrt(2.0)) and np.isnan(stats["x_std"].iloc[1])


def test_markdown_shows_no_spread_for_one_seed():
    rows = pd.DataFrame(
        {
            "dataset": ["d"] * 3,
            "manifold": ["m"] * 3,
            "method": ["a", "a", "b"],
            "seed": [0, 1, 0],
            "x": [1.0, 3.0, 5.0],
        }
    )
    table = markdown_table(rows, ["x"])
    assert "| d | a | 2 | 0 | 2 ± 1.4 |" in table and "| d | b | 1 | 0 | 5 |" in table
