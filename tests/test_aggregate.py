"""Sweep summaries: flattening metrics, mean ± std across seeds, the figure and the files."""

import json
import math

import pandas as pd
import pytest

from isoflat_tf import aggregate, summary


def fake_metrics(error: float, bending: float) -> dict:
    return {
        "run": "r",
        "manifold": "square",
        "delta": 0.05,
        "n_test_points": 64,
        "mean_abs_ratio_error": error,
        "scale_free_mean_abs_ratio_error": error / 2,
        "rms_sqrt_bending": bending,
        "interpolation_error": {
            "2": {"distance": 0.1, "mean": 0.1, "p95": 0.2},
            "10": {"distance": 0.5, "mean": error * 10, "p95": 1.0},
        },
    }


def fake_run(name: str, lam: float, delta: float, seed: int) -> dict:
    return {
        "name": name,
        "dataset": "square",
        "seed": seed,
        "loss": {"distortion": "quadratic", "bending_weight": lam},
        "pairs": {"delta": delta},
    }


def test_flatten_keeps_measures_only():
    flat = summary.flatten_metrics(fake_metrics(0.5, 0.2))
    assert flat == {
        "mean_abs_ratio_error": 0.5,
        "scale_free_mean_abs_ratio_error": 0.25,
        "rms_sqrt_bending": 0.2,
        "interpolation_error_2": 0.1,
        "interpolation_error_10": 5.0,
        "interpolation_error_max": 5.0,  # the largest multiple, compared as numbers ("10" < "2" as text)
    }


def test_summary_is_mean_and_sample_std_across_seeds():
    settings = [
        aggregate.run_settings(fake_run(f"r{i}", lam, 0.05, seed))
        for i, (lam, seed) in enumerate([(0.1, 0), (0.1, 1), (1.0, 0)])
    ]
    table = aggregate.runs_table(settings, [fake_metrics(e, 0.1) for e in (1.0, 3.0, 7.0)])
    summary = aggregate.summarise(table).set_index("bending_weight")
    assert summary.loc[0.1, "n_seeds"] == 2 and summary.loc[1.0, "n_seeds"] == 1
    assert summary.loc[0.1, "mean_abs_ratio_error_mean"] == 2.0
    assert summary.loc[0.1, "mean_abs_ratio_error_std"] == pytest.approx(math.sqrt(2))
    assert math.isnan(summary.loc[1.0, "mean_abs_ratio_error_std"])
    assert "seed" not in summary and "run" not in summary


def test_mismatched_inputs_are_an_error():
    with pytest.raises(ValueError, match="2 runs but 1 metrics files"):
        aggregate.runs_table([{}, {}], [{}])


@pytest.mark.parametrize(("deltas", "columns"), [((0.05,), 1), ((0.05, 0.1), 2)])
def test_figure_has_a_column_per_varied_setting(deltas, columns):
    runs = [(lam, d, s) for lam in (0.1, 1.0) for d in deltas for s in (0, 1)]
    settings = [aggregate.run_settings(fake_run(f"r{i}", *r)) for i, r in enumerate(runs)]
    table = aggregate.runs_table(settings, [fake_metrics(0.1 + i, 0.2) for i in range(len(runs))])
    fig = aggregate.sweep_figure(aggregate.summarise(table), "test")
    assert len(fig.axes) == 4 * columns
    assert fig.axes[0].get_xlabel().startswith("λ")


def test_write_sweep_summary(tmp_path):
    runs = [fake_run(f"r{seed}", 0.3, 0.05, seed) for seed in (0, 1)]
    paths = []
    for run, error in zip(runs, (0.2, 0.4), strict=True):
        path = tmp_path / f"{run['name']}.json"
        path.write_text(json.dumps(fake_metrics(error, 0.1)))
        paths.append(str(path))
    out = tmp_path / "out"
    aggregate.write_sweep_summary("s", runs, paths, out / "runs.csv", out / "summary.csv", out / "metrics.png")
    assert list(pd.read_csv(out / "runs.csv")["run"]) == ["r0", "r1"]
    summary = pd.read_csv(out / "summary.csv")
    assert summary["mean_abs_ratio_error_mean"].item() == pytest.approx(0.3)
    assert (out / "metrics.png").stat().st_size > 10_000
