"""No silent wrong results (issue 14): each bad input or fault gets a clear error or the correct result.

docs/robustness.md tables every case with the test that covers it. Start-up
checks run the real ``snakemake`` as dry runs (no job starts); faults inside
jobs are tested on the functions the jobs call, and through the workflow
where the workflow's own bookkeeping (checkpoints, staleness) is the point.
"""

import copy
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import time

import numpy as np
import pytest
import xarray as xr
import yaml

from isoflat_tf import metrics, stores, training
from isoflat_tf.config_loader import ConfigError, load_config, load_config_file
from isoflat_tf.params import to_params
from isoflat_tf.stages.train import warn_if_collapsed
from isoflat_tf.summary import markdown_table, summary_rows

from .conftest import ROOT, SNAKEMAKE, TINY_CONFIG, planned_jobs, run_snakemake
from .test_user_data import SIZE, stripe, user_config, user_pairs, write


def tiny_raw() -> dict:
    return yaml.safe_load(TINY_CONFIG.read_text())


def edited(raw: dict, *edits) -> dict:
    """``raw`` with each (dotted key, value) set; a value None deletes the key."""
    raw = copy.deepcopy(raw)
    for dotted, value in edits:
        node = raw
        *parents, last = dotted.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        if value is None:
            node.pop(last)
        else:
            node[last] = value
    return raw


def renamed_run(raw: dict, old: str, new: str) -> dict:
    raw = copy.deepcopy(raw)
    raw["runs"][new] = raw["runs"].pop(old)
    return raw


def store_with(n: int, **override) -> xr.Dataset:
    return user_pairs(n, 0, **override)


# ---- start-up failures, each through a real `snakemake -n` ----------------------------------------------------


def startup_cases(tmp_path):
    """(case, config file text, message patterns) of bad configs and stores refused before any job."""
    raw = tiny_raw()
    dump = yaml.safe_dump
    empty = write(
        store_with(SIZE)[{"pair": slice(0, 0)}].assign(x_point=(("pair", "coord"), np.zeros((0, 1), "U3"))),
        tmp_path / "empty.zarr",
    )
    good = write(user_pairs(40, 1), tmp_path / "good.zarr")
    big_images = store_with(
        20, **{k: (("pair", "h", "w", "channel"), np.zeros((20, 16, 16, 1), np.float32)) for k in "xyz"}
    )
    other_size = write(big_images, tmp_path / "other_size.zarr")
    sweep = {"datasets": ["square"], "bending_weight": [1.0]}
    return [
        (
            "duplicate_key",
            TINY_CONFIG.read_text().replace("seed: 0\n", "seed: 0\nseed: 1\n", 1),
            [r"duplicate_key\.yaml:3:1: duplicate key 'seed' \(first given on line 2\)"],
        ),
        (
            "unsafe_names",
            dump({**renamed_run(raw, "square", ".."), "sweeps": {"..": sweep, ".hidden": sweep}}),
            [r"name '\.\.' in runs", r"name '\.\.' in sweeps", r"name '\.hidden' in sweeps", "not starting with '.'"],
        ),
        (
            "non_finite",
            dump(
                edited(
                    raw,
                    ("runs.square.pairs", {"delta": float("nan")}),
                    ("runs.square.training", {"learning_rate": float("nan"), "validation_fraction": float("nan")}),
                    ("runs.sphere.loss.bending_weight", float("inf")),
                    ("evaluation.distance_multiples", [1, float("inf")]),
                )
            ),
            [
                r"runs\.square\.pairs\.delta is nan; every number must be finite",
                r"runs\.square\.training\.learning_rate is nan",
                r"runs\.square\.training\.validation_fraction is nan",
                r"runs\.sphere\.loss\.bending_weight is inf",
                r"evaluation\.distance_multiples\[1\] is inf",
            ],
        ),
        (
            "impossible_sizes",
            dump(
                edited(
                    raw,
                    ("datasets.square.image_size", 100000),
                    ("runs.sphere.pairs", {"n_pairs": 10**12, "delta": 0.1}),
                )
            ),
            [
                r"needs more memory than there is",
                r"synthesize square: 64 images of 100000²: at least 2\.33 TiB needed, more than the .* available",
                r"train sphere: 3 × 1000000000000 images of 16².*: at least 5\.46 PiB needed",
            ],
        ),
        (
            "too_few_test_points",
            dump(edited(raw, ("datasets.square.n_test", 15))),
            [r"datasets\.square\.n_test is 15 .*evaluation\.neighbours = 10 needs more than 20 test points"],
        ),
        (
            "empty_store_with_string_points",
            dump(user_config(empty)),
            [r"empty\.zarr: .*it has 0 pairs; at least 10 are needed", r"variable 'x_point' has dtype <U3"],
        ),
        (
            "test_store_of_other_image_size",
            dump(user_config(good, other_size)),
            [
                r"other_size\.zarr: images have shape \(16, 16, 1\), "
                r"but the training pairs store .*good\.zarr has \(12, 12, 1\)"
            ],
        ),
    ]


STARTUP_CASES = (
    "duplicate_key",
    "unsafe_names",
    "non_finite",
    "impossible_sizes",
    "too_few_test_points",
    "empty_store_with_string_points",
    "test_store_of_other_image_size",
)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:The data type")
@pytest.mark.parametrize("case", STARTUP_CASES)
def test_bad_configs_and_stores_stop_snakemake_at_start_up(tmp_path, case):
    cases = {name: (text, patterns) for name, text, patterns in startup_cases(tmp_path)}
    assert set(cases) == set(STARTUP_CASES)
    text, patterns = cases[case]
    config = tmp_path / f"{case}.yaml"
    config.write_text(text)
    proc = run_snakemake(tmp_path / "work", "-n", "--configfile", str(config), check=False)
    assert proc.returncode != 0
    assert "isoflat: " in proc.stderr, proc.stderr[-2000:]
    for pattern in patterns:
        assert re.search(pattern, proc.stderr), (pattern, proc.stderr[-2000:])
    assert not (tmp_path / "work" / "results").exists()


@pytest.mark.slow
def test_a_target_the_config_lacks_names_the_runs_it_has(tmp_path):
    proc = run_snakemake(
        tmp_path, "-n", "results/runs/roll/metrics.json", "--configfile", str(TINY_CONFIG), check=False
    )
    assert proc.returncode != 0
    assert "runs: the config has no 'roll'; it has: square, sphere" in proc.stderr + proc.stdout


@pytest.mark.slow
def test_the_default_config_file_is_read_strictly(tmp_path):
    """Without --configfile, Snakemake reads config/config.yaml: its errors name file:line:column."""
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "workflow", repo / "workflow")
    shutil.copytree(ROOT / "isoflat_tf", repo / "isoflat_tf", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "Snakefile", repo / "Snakefile")
    (repo / "config").mkdir()
    default = (ROOT / "config" / "config.yaml").read_text()
    for text, pattern in (
        (
            default.replace("  square: {manifold: square,", "  square: {manifold: square", 1),
            r"config\.yaml:\d+:\d+: invalid YAML",
        ),
        (default.replace("seed: 0\n", "seed: 0\nseed: 3\n", 1), r"config\.yaml:\d+:1: duplicate key 'seed'"),
    ):
        (repo / "config" / "config.yaml").write_text(text)
        proc = run_snakemake(tmp_path / "work", "-n", repo=repo, check=False)
        assert proc.returncode != 0 and re.search(pattern, proc.stderr), proc.stderr[-2000:]


def test_yaml_errors_name_file_line_and_column(tmp_path):
    """What Snakemake reports for a --configfile with a syntax error is its own message; our checker names the place."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("datasets:\n  sq: {manifold: square\nruns: [\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml:3:5: invalid YAML"):
        load_config_file(bad)
    dup = tmp_path / "dup.yaml"
    dup.write_text(TINY_CONFIG.read_text().replace("training: {epochs: 1,", "training: {epochs: 1, epochs: 40,"))
    with pytest.raises(ConfigError, match=r"dup\.yaml:\d+:\d+: duplicate key 'epochs'"):
        load_config_file(dup)
    proc = subprocess.run(
        [str(SNAKEMAKE.parent / "python"), "-m", "isoflat_tf.yaml_file", str(bad), str(TINY_CONFIG)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 1 and "bad.yaml:3:5: invalid YAML" in proc.stderr
    # `make run CONFIG=…` checks the file before Snakemake reads it (STAMP= : no install step here).
    venv = SNAKEMAKE.parent.parent
    proc = subprocess.run(
        ["make", "--no-print-directory", "run", f"CONFIG={bad}", f"VENV={venv}", "STAMP="],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode != 0 and "bad.yaml:3:5: invalid YAML" in proc.stderr
    assert "snakemake" not in proc.stdout.split("isoflat_tf.yaml_file")[-1]  # it stopped before Snakemake


# ---- stores: values and minimum size -------------------------------------------------------------------------


def test_degenerate_and_badly_scaled_stores_are_refused(tmp_path):
    n = 40
    black = np.zeros((n, SIZE, SIZE, 1), np.float32)
    dims = ("pair", "height", "width", "channel")
    ten_percent = stripe(np.linspace(0.1, 0.9, n))
    cases = {
        "black": (
            store_with(n, x=(dims, black), y=(dims, black), z=(dims, black)),
            r"identical images in 40 of 40 pairs",
        ),
        "ten_percent_same": (
            store_with(
                n,
                x=(dims, ten_percent),
                y=(
                    dims,
                    np.where(np.arange(n)[:, None, None, None] < 4, ten_percent, stripe(np.linspace(0.12, 0.92, n))),
                ),
            ),
            r"identical images in 4 of 40 pairs",
        ),
        "scaled": (
            store_with(n, x=(dims, 1e6 * stripe(np.linspace(0.1, 0.9, n)))),
            r"variable 'x' has pixels up to 99\d+; .*divide",
        ),
        "one_pair": (store_with(1), r"it has 1 pairs; at least 10 are needed"),
    }
    for name, (ds, pattern) in cases.items():
        path = write(ds, tmp_path / f"{name}.zarr")
        with pytest.raises(stores.StoreError, match=rf"{name}\.zarr: .*{pattern}"):
            stores.open_pairs(path)


def test_training_refuses_to_run_without_training_pairs():
    with pytest.raises(ValueError, match="leaves no training pairs out of 0"):
        training.split_pairs(0, 0.1, seed=0)


def test_a_killed_store_writer_leaves_no_temporaries_behind(tmp_path):
    target = tmp_path / "pairs.zarr"
    stale = [tmp_path / ".pairs.tmp-0badc0de.zarr", tmp_path / ".pairs.zarr.old-0badc0de"]
    for d in stale:
        d.mkdir()
        (d / "zarr.json").write_text("{}")
    other = tmp_path / ".other.tmp-0badc0de.zarr"
    other.mkdir()
    ds = stores.pairs_from_arrays(
        *(stripe(np.linspace(0.1, 0.9, 12)),) * 3,
        np.full(12, 0.01),
        {},
        {k: 0 for k in stores.PAIRS.attrs if k != "isoflat_version"},
    )
    stores.write_store(ds, target, stores.PAIRS)
    assert target.exists() and not any(d.exists() for d in stale) and other.exists()
    from isoflat_tf.files import write_text

    leftover = tmp_path / ".metrics.tmp-0badc0de.json"
    leftover.write_text("{")
    write_text("{}", tmp_path / "metrics.json")
    assert not leftover.exists() and (tmp_path / "metrics.json").read_text() == "{}"


# ---- checkpoints ---------------------------------------------------------------------------------------------


def small_checkpoint(directory, fingerprint):
    """A real checkpoint of a compiled model after 'epoch 3'."""
    import keras

    from isoflat_tf.encoder import build_encoder
    from isoflat_tf.model import IsometricEncoderModel

    from .test_training import TINY_ENCODER

    model = IsometricEncoderModel(build_encoder((8, 8, 1), TINY_ENCODER), "quadratic", 1.0)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    state = {"epoch": 3, "history": [{"epoch": e} for e in (1, 2, 3)], "elapsed_s": 1.0, "plateau": {}}
    training.Checkpoint(directory, fingerprint).save(model, model.encoder.get_weights(), state)


def test_a_checkpoint_resumes_only_the_run_that_wrote_it(tmp_path, caplog):
    import tensorflow as tf

    strategy = tf.distribute.get_strategy()
    small_checkpoint(tmp_path / "ckpt", "settings-A")
    restored = training.Checkpoint(tmp_path / "ckpt", "settings-A").load(strategy)
    assert restored is not None and restored[2]["epoch"] == 3
    with caplog.at_level(logging.WARNING):
        assert training.Checkpoint(tmp_path / "ckpt", "settings-B").load(strategy) is None
    assert "discarding checkpoint" in caplog.text and not (tmp_path / "ckpt").exists()


def test_an_unreadable_checkpoint_is_set_aside(tmp_path, caplog):
    import tensorflow as tf

    small_checkpoint(tmp_path / "ckpt", "A")
    model_file = next((tmp_path / "ckpt").glob("model-epoch*.keras"))
    model_file.write_bytes(model_file.read_bytes()[:100])  # truncated
    with caplog.at_level(logging.WARNING):
        assert training.Checkpoint(tmp_path / "ckpt", "A").load(tf.distribute.get_strategy()) is None
    assert "cannot be read" in caplog.text and "set aside as" in caplog.text
    assert not (tmp_path / "ckpt").exists() and (tmp_path / "ckpt.unreadable-1" / model_file.name).exists()


def test_the_training_fingerprint_covers_settings_and_data():
    from isoflat_tf.fingerprint import training_fingerprint

    cfg = load_config(tiny_raw())
    run = cfg.runs["square"]
    arrays = {"x": np.zeros((4, 2, 2, 1), np.float32), "distance": np.ones(4)}
    base = training_fingerprint(to_params(run), arrays)
    assert base == training_fingerprint(to_params(run), {k: v.copy() for k, v in arrays.items()})
    other_lambda = load_config(edited(tiny_raw(), ("runs.square.loss", {"bending_weight": 0.5}))).runs["square"]
    other_width = load_config(edited(tiny_raw(), ("runs.square.encoder", {"dense_units": [32]}))).runs["square"]
    changed = {**arrays, "distance": np.r_[np.ones(3), 2.0]}
    fingerprints = {
        base,
        training_fingerprint(to_params(other_lambda), arrays),
        training_fingerprint(to_params(other_width), arrays),
        training_fingerprint(to_params(run), changed),
    }
    assert len(fingerprints) == 4


# ---- the workflow: a changed config after a kill, a store edited in place ------------------------------------


def user_run_config(tmp_path, pairs, epochs, bending_weight):
    raw = user_config(pairs)
    raw["runs"]["mine"]["training"] = {"epochs": epochs, "starts": 1, "batch_size": 16}
    raw["runs"]["mine"]["loss"] = {"bending_weight": bending_weight}
    path = tmp_path / f"user-{epochs}-{bending_weight}.yaml"
    path.write_text(yaml.safe_dump(raw))
    return str(path)


@pytest.mark.slow
def test_after_a_kill_a_changed_config_trains_afresh_and_an_edited_store_reruns(tmp_path):
    pairs = write(user_pairs(120, 5), tmp_path / "pairs.zarr")
    work = tmp_path / "work"
    target = "results/runs/mine/encoder.keras"
    state = work / "results/runs/mine/checkpoint/state.json"
    # Settings A: kill the whole process group (Ctrl-C in a terminal) once epoch 2 is checkpointed.
    cmd = [str(SNAKEMAKE), "-s", str(ROOT / "Snakefile"), "-d", str(work), "--cores", "1"]
    proc = subprocess.Popen(
        [*cmd, target, "--configfile", user_run_config(tmp_path, pairs, 500, 1.0)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None:
        if state.exists() and json.loads(state.read_text())["epoch"] >= 2:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "training ended before it could be interrupted"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    assert state.exists()
    # A SIGKILL leaves Snakemake's lock: the one manual step left (docs/robustness.md).
    run_snakemake(work, "--unlock", "--configfile", user_run_config(tmp_path, pairs, 2, 0.5))
    # An output the killed job had begun to write (as a writer that is not atomic would leave it):
    # Snakemake marked it incomplete. Without the default profile that stops every plain rerun ...
    (work / "results/runs/mine/history.csv").write_text("epoch\n1\n")
    config_a = user_run_config(tmp_path, pairs, 500, 1.0)
    proc = run_snakemake(work, "-n", target, "--workflow-profile", "none", "--configfile", config_a, check=False)
    assert proc.returncode != 0 and "incomplete" in (proc.stdout + proc.stderr).lower()
    # ... with it (rerun-incomplete), a plain rerun redoes the job.
    assert planned_jobs(run_snakemake(work, "-n", target, "--configfile", config_a).stdout).get("train") == 1
    # Settings B (another λ): the stale checkpoint is discarded, training starts afresh.
    run_snakemake(work, "--cores", "1", target, "--configfile", user_run_config(tmp_path, pairs, 2, 0.5))
    log = (work / "results/logs/train/mine.log").read_text()
    assert "discarding checkpoint" in log and "resuming" not in log and "epoch 1/2" in log, log
    # The user's store edited in place: its jobs are stale.
    config_b = user_run_config(tmp_path, pairs, 2, 0.5)
    assert planned_jobs(run_snakemake(work, "-n", target, "--configfile", config_b).stdout) == {}
    ds = xr.open_zarr(pairs, consolidated=False)
    ds[["distance"]].assign(distance=ds["distance"] * 2).to_zarr(pairs, mode="r+", consolidated=False)
    assert planned_jobs(run_snakemake(work, "-n", target, "--configfile", config_b).stdout) == {"train": 1}


def test_store_fingerprint_changes_with_an_in_place_edit(tmp_path):
    from isoflat_tf.fingerprint import store_fingerprint

    path = write(user_pairs(30, 0), tmp_path / "s.zarr")
    before = store_fingerprint(path)
    assert store_fingerprint(path) == before
    ds = xr.open_zarr(path, consolidated=False)
    time.sleep(0.01)
    ds[["distance"]].assign(distance=ds["distance"] + 1).to_zarr(path, mode="r+", consolidated=False)
    assert store_fingerprint(path) != before


# ---- collapse ------------------------------------------------------------------------------------------------


def test_a_collapsed_embedding_is_flagged_in_training_metrics_and_summary(tmp_path, caplog):
    from isoflat_tf.evaluation import evaluate_pairs

    pairs = user_pairs(200, 3)

    def constant(images):
        return np.zeros((len(images), 2)) + 1e-7 * images.reshape(len(images), -1)[:, :2]

    def centroid(images):  # the stripe's position: an isometric embedding
        u = (np.arange(SIZE) + 0.5) / SIZE
        profile = images[:, 0, :, 0].astype(np.float64)
        return np.stack([(profile @ u) / profile.sum(axis=1) / 0.6, np.zeros(len(images))], axis=-1)

    arrays = {k: pairs[k].values for k in ("x", "y", "distance")}
    with caplog.at_level(logging.WARNING):
        assert warn_if_collapsed(constant, arrays, "mine")["collapsed"]
    assert "COLLAPSED" in caplog.text
    caplog.clear()
    assert not warn_if_collapsed(centroid, arrays, "mine")["collapsed"] and not caplog.text
    files = []
    for name, encode in (("constant", constant), ("centroid", centroid)):
        result, _ = evaluate_pairs(encode, pairs, 100, seed=0)
        assert result["collapsed"] is (name == "constant")
        assert (result["median_ratio"] < metrics.COLLAPSE_RATIO) is (name == "constant")
        files.append(tmp_path / f"{name}.json")
        files[-1].write_text(json.dumps({**result, "dataset": "mine", "method": name, "seed": 0, "run": name}))
    rows = summary_rows(files)
    assert rows["collapsed"].tolist() == [True, False]
    table = markdown_table(rows)
    assert (
        "| collapsed |" in table
        and "| mine | constant | 1 | **1** |" in table
        and "| mine | centroid | 1 | 0 |" in table
    )
