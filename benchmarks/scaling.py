"""How isoflat's cost grows with the number of samples N, where Isomap's grows quadratically.

For each N, N volume-uniform samples of a manifold (``square`` at 16 px by
default) are rendered, and each method embeds them:

- ``isoflat``: the neighbour graph and pairs from the samples alone
  (``isoflat_tf.neighbour_graph.estimate_pairs``, the ``data`` geometry, with
  the ``PairsConfig`` defaults and a fixed number of pairs), then training at
  that fixed number of pairs for a fixed number of epochs (one start, no
  plateau stop), so that the training time is comparable across N;
- ``isomap`` and ``umap``: the registered baselines, fitted on all N samples
  (after an untimed fit on 300 of them: a process's first UMAP fit compiles
  numba kernels for minutes, whatever N; the CSV has it as ``warmup_s``).

Each is scored on the same held-out test points by the workflow's evaluation
(``isoflat_tf.evaluation.evaluate_embedding``, intrinsic geometry at δ):
scale-free mean |s − 1|, trustworthiness, interpolation error at 4δ and the
Procrustes error.

Each (method, N) runs in a fresh subprocess (this script with ``--one``), so
that measurements do not contaminate each other. ``total s`` is the graph,
pairs and training of isoflat, or a baseline's fit: it leaves out rendering
the samples, the warm-up and the evaluation (``data_s``, ``warmup_s`` and
``evaluate_s`` in the CSV). ``peak GB`` is the child's peak resident set size
(``ru_maxrss`` from ``os.wait4``), in GB (10⁹ bytes): it includes the Python,
NumPy (and for isoflat TensorFlow) runtime and the evaluation (Isomap's
out-of-sample transform holds a test-points × N matrix); ``peak GB before
evaluation`` is the child's own high-water mark after the fit. A child whose resident set passes ``--memory-gb``
or whose wall time passes ``--time-limit`` is stopped and recorded as
``exceeded`` with what it had used; the method is then not run at larger N.
A size whose estimated memory (``memory_estimate``: a lower bound, e.g.
Isomap's dense N × N geodesic matrix, its kernel and KernelPCA's copy of it,
3 · 8 N² bytes) exceeds the limit is ``refused`` before it starts, with the
estimate in the table.

    .venv/bin/python benchmarks/scaling.py --out /tmp/scaling
    .venv/bin/python benchmarks/scaling.py --sizes 600 1200 --image-size 12 --epochs 1 --n-pairs 500 --out /tmp/s

Writes ``scaling.csv``, ``scaling.md`` (the Markdown table, also printed) and
``scaling.png`` (log-log wall time and peak memory against N) into ``--out``,
and each child's log into ``--out``/logs.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from isoflat_tf import manifolds, stores  # noqa: E402
from isoflat_tf.config import BaselineConfig, EncoderConfig, EvaluationConfig, PairsConfig  # noqa: E402
from isoflat_tf.seeds import derive_seed  # noqa: E402

log = logging.getLogger("isoflat")

GB = 1e9  # peak memory and limits are in GB of 10⁹ bytes
METHODS = ("isoflat", "isomap", "umap")
SIZES = (2000, 4000, 8000, 16000, 32000, 64000, 128000)
QUALITY = ("scale_free_mean_abs_ratio_error", "trustworthiness", "interpolation_error_4", "procrustes_error")
# The Markdown table's columns and their headers (the CSV has these and more).
HEADERS = {
    "N": "N",
    "method": "method",
    "status": "status",
    "graph_pairs_s": "graph+pairs s",
    "train_s": "train (fit) s",
    "total_s": "total s",
    "peak_gb": "peak GB",
    "peak_fit_gb": "peak GB before evaluation",
    "scale_free_mean_abs_ratio_error": "scale-free mean abs(s−1)",
    "trustworthiness": "trustworthiness",
    "interpolation_error_4": "interpolation error 4δ",
    "procrustes_error": "Procrustes",
    "note": "note",
}
OK, EXCEEDED_MEMORY, EXCEEDED_TIME, REFUSED, SKIPPED, FAILED = (
    "ok",
    "exceeded memory",
    "exceeded time",
    "refused",
    "skipped",
    "failed",
)
FLOAT64, FLOAT32 = 8, 4
# isoflat's graph holds this many rows of the N distances at once (neighbour_graph.nearest_neighbours).
GRAPH_CHUNK = 1024
POLL_S = 0.1


@dataclasses.dataclass(frozen=True)
class Settings:
    """What every (method, N) shares: the data, isoflat's fixed budget and the evaluation.

    Attributes:
      manifold, image_size: the samples.
      n_pairs: isoflat's training pairs, the same at every N.
      epochs: isoflat's epochs, all of them run (no plateau stop).
      n_test: held-out test points, the same for every method and N.
      delta: the scale of the evaluation pairs and paths (intrinsic units).
      neighbours: Isomap's and UMAP's neighbourhood size.
      warmup_samples: a baseline is first fitted on this many samples, untimed
        (its compilation, ``fit_baseline``).
      seed: the base seed.
      threads: TensorFlow's threads (None: its default).
      device: isoflat's training device (``auto``, ``cpu``, ``gpu``).
      evaluation: the evaluation's settings (the workflow's defaults).
    """

    manifold: str = "square"
    image_size: int = 16
    n_pairs: int = 20000
    epochs: int = 8
    n_test: int = 2000
    delta: float = 0.05
    neighbours: int = BaselineConfig.neighbours
    warmup_samples: int = 300
    seed: int = 0
    threads: int | None = None
    device: str = "auto"
    evaluation: EvaluationConfig = EvaluationConfig()


@dataclasses.dataclass(frozen=True)
class Limits:
    """When a child is stopped (memory, bytes; wall time, s) and a size refused (memory)."""

    memory: float = 8 * GB
    seconds: float = 3600.0


def memory_estimate(method: str, n: int, settings: Settings) -> float:
    """A lower bound of the bytes ``method`` holds at once to embed ``n`` samples.

    Counts only the large arrays the method cannot do without: the images
    (float32) and their float64 copy, plus for Isomap its dense N × N geodesic
    matrix, the kernel computed from it and KernelPCA's copy of that kernel,
    alive together (scikit-learn's ``Isomap._fit_transform``; the dense
    eigensolver copies once more), and for isoflat the chunk of N distances
    and the product it is computed from (``neighbour_graph.nearest_neighbours``).
    """
    m = manifolds.get(settings.manifold, image_size=settings.image_size)
    features = m.render(m.sample_uniform(np.random.default_rng(0), 1)).size
    samples = n * features * (FLOAT32 + FLOAT64)
    if method == "isomap":
        return samples + 3 * FLOAT64 * n * n
    if method == "isoflat":
        return samples + 2 * FLOAT64 * min(GRAPH_CHUNK, n) * n
    if method == "umap":
        return samples
    raise ValueError(f"unknown method {method!r}; available: {', '.join(METHODS)}")


def refusal(method: str, n: int, settings: Settings, limits: Limits) -> str | None:
    """Why ``method`` at ``n`` would clearly not fit into ``limits.memory``, or None when it may."""
    estimate = memory_estimate(method, n, settings)
    if estimate > limits.memory:
        return f"needs at least {estimate / GB:.3g} GB (estimate), more than the {limits.memory / GB:.3g} GB limit"
    return None


def samples(settings: Settings, n: int, split: str):
    """``n`` volume-uniform points of the manifold, their images and chart coordinates.

    The training samples of different N share a seed, so smaller sets are prefixes of larger ones.
    """
    m = manifolds.get(settings.manifold, image_size=settings.image_size)
    points = m.sample_uniform(np.random.default_rng(derive_seed(settings.seed, "scaling", m.name, split)), n)
    return m, points, m.render(points)


def peak_rss() -> float:
    """This process's peak resident set size so far, in bytes."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024.0


def measure(method: str, n: int, settings: Settings, workdir: str | os.PathLike) -> dict:
    """One (method, N) in this process: phase times, the peak memory so far and the quality on the test points.

    ``workdir``: where isoflat's training checkpoints go (removed when it completes).
    """
    from isoflat_tf.evaluation import evaluate_embedding
    from isoflat_tf.summary import flatten_metrics

    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; available: {', '.join(METHODS)}")
    start = time.perf_counter()
    m, _, images = samples(settings, n, "train")
    _, test_points, test_images = samples(settings, settings.n_test, "test")
    test = stores.dataset_from_arrays(test_images, test_points, m.chart(test_points), {"manifold": m.name})
    row = {"N": n, "method": method, "data_s": time.perf_counter() - start}
    if method == "isoflat":
        encode, phases = fit_isoflat(m, images, settings, workdir)
    else:
        encode, phases = fit_baseline(method, m, images, settings)
    row.update(phases)
    row["total_s"] = row.get("graph_pairs_s", 0.0) + row["train_s"]
    row["peak_fit_gb"] = peak_rss() / GB
    start = time.perf_counter()
    metrics, _ = evaluate_embedding(
        m,
        encode,
        test,
        settings.delta,
        PairsConfig.min_distance_fraction,
        settings.evaluation,
        seed=derive_seed(settings.seed, "scaling", "evaluation"),
        geometry="intrinsic",
    )
    row["evaluate_s"] = time.perf_counter() - start
    flat = flatten_metrics(metrics)
    row.update({k: flat.get(k, math.nan) for k in QUALITY})
    row["collapsed"] = bool(metrics.get("collapsed", False))
    row["peak_gb"] = peak_rss() / GB
    return row


def fit_isoflat(m, images: np.ndarray, settings: Settings, workdir) -> tuple:
    """isoflat on the samples: the graph and pairs (timed), then training for a fixed number of epochs (timed)."""
    from isoflat_tf import neighbour_graph, runtime, training
    from isoflat_tf.config import LossConfig, TrainingConfig

    device = runtime.configure_tensorflow(
        derive_seed(settings.seed, "scaling", "train"), settings.threads, settings.device
    )
    p = PairsConfig(geometry="data", n_pairs=settings.n_pairs)
    start = time.perf_counter()
    estimated = neighbour_graph.estimate_pairs(
        images,
        p.n_pairs,
        np.random.default_rng(derive_seed(settings.seed, "scaling", "pairs")),
        **neighbour_graph.settings_of(p),
        dimension=m.dim,
        name=f"{m.name} N={len(images)}",
    )
    # In diameters, as the workflow trains on them (in image units λ would barely act).
    pairs = estimated.arrays(images)
    phases = {"graph_pairs_s": time.perf_counter() - start, "pairs": len(estimated.triples), "radius": estimated.radius}
    phases["peak_pairs_gb"] = peak_rss() / GB
    # Every epoch runs (patience = epochs): the training time depends on the pairs and epochs only.
    config = TrainingConfig(epochs=settings.epochs, patience=settings.epochs, starts=1, tensorboard=False)
    loss = LossConfig()
    start = time.perf_counter()
    encoder, _ = training.train(
        pairs,
        EncoderConfig(latent_dim=m.dim),
        loss.distortion,
        loss.bending_weight,
        config,
        seed=derive_seed(settings.seed, "scaling", "shuffle"),
        checkpoint_dir=Path(workdir) / "checkpoint",
        device=device,
    )
    phases["train_s"] = time.perf_counter() - start
    return runtime.predictor(encoder), phases


def fit_baseline(method: str, m, images: np.ndarray, settings: Settings) -> tuple:
    """A registered baseline fitted on all the samples (timed as its ``train_s``), after an untimed warm-up fit."""
    from isoflat_tf.baselines import fit_baseline as fit

    config = BaselineConfig(methods=(method,), neighbours=settings.neighbours, max_fit_points=len(images))
    encoder, seed = EncoderConfig(latent_dim=m.dim), derive_seed(settings.seed, method, "fit")
    # A process's first UMAP fit and transform compile numba kernels (minutes, whatever
    # N): a fit on a few samples first keeps that constant out of the fit time.
    start = time.perf_counter()
    fit(method, images[: settings.warmup_samples], encoder, config, seed).encode(images[: settings.warmup_samples])
    phases = {"warmup_s": time.perf_counter() - start}
    start = time.perf_counter()
    embedding = fit(method, images, encoder, config, seed)
    phases["train_s"] = time.perf_counter() - start
    return embedding.encode, phases


def child_command(method: str, n: int, settings: Settings, result: Path, workdir: Path) -> list[str]:
    """The command line that runs ``measure`` for (method, N) in a fresh process."""
    return [
        sys.executable,
        str(Path(__file__).resolve()),
        "--one",
        method,
        str(n),
        "--result",
        str(result),
        "--workdir",
        str(workdir),
        "--settings",
        json.dumps(dataclasses.asdict(settings)),
    ]


def settings_from_json(text: str) -> Settings:
    """The ``Settings`` of ``child_command``'s ``--settings``."""
    values = json.loads(text)
    evaluation = values.pop("evaluation")
    evaluation["distance_multiples"] = tuple(evaluation["distance_multiples"])
    return Settings(**values, evaluation=EvaluationConfig(**evaluation))


def resident(pid: int) -> float:
    """The high-water mark of a live process's resident set (VmHWM), in bytes (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return float(line.split()[1]) * 1024.0
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0.0


def run_one(method: str, n: int, settings: Settings, limits: Limits, out: Path) -> dict:
    """Measure (method, N) in a fresh process, stopped past the memory or time limit; one table row.

    Its status is ``ok``, ``exceeded memory``, ``exceeded time`` (with what it
    had used when stopped) or ``failed`` (with the end of its log).
    """
    logs = out / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log_path = logs / f"{method}-{n}.log"
    with tempfile.TemporaryDirectory(dir=out, prefix=f".{method}-{n}-") as tmp:
        result = Path(tmp) / "result.json"
        command = child_command(method, n, settings, result, Path(tmp))
        start = time.perf_counter()
        with open(log_path, "w") as log_file:
            proc = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT)
        status, seen = None, 0.0
        while True:
            pid, wait_status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            seen = max(seen, resident(proc.pid))
            wall = time.perf_counter() - start
            if seen > limits.memory or wall > limits.seconds:
                status = EXCEEDED_MEMORY if seen > limits.memory else EXCEEDED_TIME
                proc.kill()
                _, wait_status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(POLL_S)
        proc.returncode = os.waitstatus_to_exitcode(wait_status)  # reaped here, not by Popen
        wall = time.perf_counter() - start
        peak = max(seen, usage.ru_maxrss * 1024.0)
        row = {"N": n, "method": method, "wall_s": wall, "peak_gb": peak / GB}
        if status is None and proc.returncode == 0 and result.exists():
            measured = json.loads(result.read_text())
            return {**measured, **row, "status": OK, "note": ""}
    if status is None:
        status = FAILED
        tail = log_path.read_text().strip().splitlines()[-1:] or [""]
        note = f"exit {proc.returncode}: {tail[0][:200]} (see {log_path})"
    elif status == EXCEEDED_MEMORY:
        note = f"stopped after {wall:.0f} s at {peak / GB:.3g} GB, past the {limits.memory / GB:.3g} GB limit"
    else:
        note = f"stopped after {wall:.0f} s (limit {limits.seconds:.0f} s) at {peak / GB:.3g} GB"
    return {**row, "total_s": wall, "status": status, "note": note}


def run_all(methods, sizes, settings: Settings, limits: Limits, out: str | os.PathLike) -> pd.DataFrame:
    """Every (method, N), smallest N first; a method that exceeded a limit is not run at larger N."""
    out = Path(out)
    rows = []
    for method in methods:
        stopped_at = None
        for n in sorted(sizes):
            estimate = memory_estimate(method, n, settings) / GB
            reason = refusal(method, n, settings, limits)
            if stopped_at is not None:
                row = {"N": n, "method": method, "status": SKIPPED, "note": f"exceeded a limit at N = {stopped_at}"}
            elif reason:
                row = {"N": n, "method": method, "status": REFUSED, "note": reason}
            else:
                log.info("measuring %s at N = %d", method, n)
                row = run_one(method, n, settings, limits, out)
                if row["status"] in (EXCEEDED_MEMORY, EXCEEDED_TIME):
                    stopped_at = n
            rows.append({**row, "estimate_gb": estimate})
            log.info("%s", {k: row.get(k) for k in HEADERS if k in row})
    return table_frame(rows)


def table_frame(rows: list[dict]) -> pd.DataFrame:
    """The rows as a table: the Markdown columns first, then the rest."""
    table = pd.DataFrame(rows)
    for column in HEADERS:
        if column not in table:
            table[column] = math.nan
    return table[list(HEADERS) + [c for c in table.columns if c not in HEADERS]]


def markdown(table: pd.DataFrame) -> str:
    """The table's headline columns as Markdown, times in s and memory in GB (a dash: not applicable or not run)."""
    shown = table[list(HEADERS)].rename(columns=HEADERS)
    shown = shown.astype(object).where(shown.notna(), None)  # not applicable, not measured: a dash
    return shown.to_markdown(index=False, floatfmt=".4g", missingval="–")


def figure(table: pd.DataFrame, limits: Limits, path: str | os.PathLike) -> None:
    """Log-log wall time and peak memory against N, one line per method.

    Points stopped at a limit are crosses (at what they had used: a lower
    bound); refused sizes are hollow circles at their memory estimate.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for i, method in enumerate(dict.fromkeys(table["method"])):
        colour = f"C{i}"
        rows = table[table["method"] == method]
        done = rows[rows["status"] == OK]
        stopped = rows[rows["status"].isin([EXCEEDED_MEMORY, EXCEEDED_TIME])]
        refused = rows[rows["status"] == REFUSED]
        for ax, column in zip(axes, ("total_s", "peak_gb"), strict=True):
            ax.plot(done["N"], done[column], "o-", color=colour, label=method)
            ax.plot(stopped["N"], stopped[column], "x", color=colour, markersize=10, mew=2)
        axes[1].plot(refused["N"], refused["estimate_gb"], "o:", color=colour, mfc="none")
    axes[0].axhline(limits.seconds, color="grey", ls="--", lw=1, label=f"time limit {limits.seconds:.0f} s")
    axes[1].axhline(limits.memory / GB, color="grey", ls="--", lw=1, label=f"memory limit {limits.memory / GB:g} GB")
    axes[0].set_ylabel("wall time (graph, pairs and training, or fit), s")
    axes[1].set_ylabel("peak resident memory, GB")
    for ax in axes:
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(table["N"].min() / 1.3, table["N"].max() * 1.3)  # also where nothing ran
        ax.set_xlabel("N samples")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    axes[1].set_title("× stopped at a limit, ○ refused (estimate)", fontsize=9)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=130)
    plt.close(fig)


def write_outputs(table: pd.DataFrame, limits: Limits, out: str | os.PathLike) -> str:
    """``scaling.csv``, ``scaling.md`` and ``scaling.png`` in ``out``; returns the Markdown table."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "scaling.csv", index=False)
    text = markdown(table)
    (out / "scaling.md").write_text(text + "\n")
    figure(table, limits, out / "scaling.png")
    return text


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    p.add_argument("--sizes", nargs="+", type=int, default=list(SIZES), help="numbers of samples N")
    p.add_argument("--manifold", default=Settings.manifold)
    p.add_argument("--image-size", type=int, default=Settings.image_size)
    p.add_argument("--n-pairs", type=int, default=Settings.n_pairs, help="isoflat's training pairs, at every N")
    p.add_argument("--epochs", type=int, default=Settings.epochs, help="isoflat's epochs, all run")
    p.add_argument("--n-test", type=int, default=Settings.n_test, help="held-out test points")
    p.add_argument("--delta", type=float, default=Settings.delta, help="scale of the evaluation pairs")
    p.add_argument("--neighbours", type=int, default=Settings.neighbours, help="Isomap's and UMAP's")
    p.add_argument("--seed", type=int, default=Settings.seed)
    p.add_argument("--threads", type=int, default=None, help="TensorFlow's threads (default: its own)")
    p.add_argument("--device", default=Settings.device, choices=("auto", "cpu", "gpu"))
    p.add_argument("--memory-gb", type=float, default=Limits.memory / GB, help="stop or refuse past this, GB")
    p.add_argument("--time-limit", type=float, default=Limits.seconds, help="stop a child after this many s")
    p.add_argument("--out", default="scaling", help="folder of scaling.csv, .md, .png and the logs")
    # Internal: one (method, N) in this process (what run_one starts).
    p.add_argument("--one", nargs=2, metavar=("METHOD", "N"), help=argparse.SUPPRESS)
    p.add_argument("--result", help=argparse.SUPPRESS)
    p.add_argument("--workdir", help=argparse.SUPPRESS)
    p.add_argument("--settings", help=argparse.SUPPRESS)
    return p


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if args.one:
        method, n = args.one[0], int(args.one[1])
        row = measure(method, n, settings_from_json(args.settings), args.workdir)
        Path(args.result).write_text(json.dumps(row))
        return
    settings = Settings(
        manifold=args.manifold,
        image_size=args.image_size,
        n_pairs=args.n_pairs,
        epochs=args.epochs,
        n_test=args.n_test,
        delta=args.delta,
        neighbours=args.neighbours,
        seed=args.seed,
        threads=args.threads,
        device=args.device,
    )
    limits = Limits(memory=args.memory_gb * GB, seconds=args.time_limit)
    table = run_all(args.methods, args.sizes, settings, limits, args.out)
    print(write_outputs(table, limits, args.out))


if __name__ == "__main__":
    main()
