"""The workflow's figures, as functions from results to matplotlib figures.

- one run (rule ``figures``): the embedding with mapped grid lines, the
  training curves, the interpolation error against distance;
- one dataset, all methods side by side (rule ``comparison_figures``):
  embeddings, decoded interpolation strips, interpolation error, headline bars;
- the Γ-limit check (rule ``gamma_limit``, docs/design.md §8): error against δ and N.

Pure matplotlib over the stages' outputs (latent stores, histories, metrics,
tables): no TensorFlow needed. The sweep figure is in ``isoflat_tf.aggregate``.
"""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import xarray as xr  # noqa: E402

from isoflat_tf.evaluation import columns  # noqa: E402
from isoflat_tf.files import atomic_path  # noqa: E402
from isoflat_tf.summary import over_seeds  # noqa: E402


def _project(latent: np.ndarray, centre: np.ndarray, basis: np.ndarray) -> np.ndarray:
    return (latent - centre) @ basis


def principal_axes(latent: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Centre and the top-k principal axes (latent_dim, k) of a point cloud: a rigid view of it."""
    centre = latent.mean(axis=0)
    _, _, vt = np.linalg.svd(latent - centre, full_matrices=False)
    return centre, vt[:k].T


def embedding_figure(latent: xr.Dataset, title: str) -> plt.Figure:
    """Test latents coloured by two manifold coordinates, with parameter grid lines mapped to latent space.

    Latent spaces of dimension > 3 are shown in their top principal axes
    (a rotation, so distances within the view are not distorted).
    """
    z = latent["latent"].values.astype(np.float64)
    colour = latent["colour"].values
    grid = latent["grid_line"].values.astype(np.float64)
    dim = min(z.shape[1], 3)
    centre, basis = principal_axes(z, dim)
    zp = _project(z, centre, basis)
    fig = plt.figure(figsize=(10, 4.8))
    labels = latent.attrs.get("colour_labels", ["first coordinate", "second coordinate"])
    for i, label in enumerate(labels):
        if dim == 3:
            ax = fig.add_subplot(1, 2, i + 1, projection="3d")
        else:
            ax = fig.add_subplot(1, 2, i + 1)
        pts = [zp[:, j] for j in range(dim)] if dim > 1 else [zp[:, 0], np.zeros(len(zp))]
        sc = ax.scatter(*pts, c=colour[:, i], s=4, cmap="viridis", alpha=0.6)
        for line in grid:
            lp = _project(line, centre, basis)
            lp = [lp[:, j] for j in range(dim)] if dim > 1 else [lp[:, 0], np.zeros(len(lp))]
            ax.plot(*lp, color="black", lw=0.8)
        fig.colorbar(sc, ax=ax, shrink=0.7, label=label)
        if dim == 2:
            ax.set_aspect("equal")
        ax.set_title(f"coloured by {label}")
    fig.suptitle(f"{title}: latent embedding with mapped grid lines")
    fig.tight_layout()
    return fig


def training_figure(history: pd.DataFrame, title: str) -> plt.Figure:
    """Loss terms per epoch, training and validation, on a log scale."""
    terms = [t for t in ("loss", "distortion", "bending", "ratio_error") if t in history]
    fig, axes = plt.subplots(1, len(terms), figsize=(3.2 * len(terms), 3.2))
    for ax, term in zip(axes, terms, strict=True):
        ax.semilogy(history["epoch"], history[term], label="train")
        if f"val_{term}" in history:
            ax.semilogy(history["epoch"], history[f"val_{term}"], label="validation")
        ax.set_xlabel("epoch")
        ax.set_title(term)
    axes[0].legend()
    fig.suptitle(f"{title}: training curves")
    fig.tight_layout()
    return fig


def interpolation_figure(metrics: dict, title: str) -> plt.Figure:
    """Interpolation error (mean and 95th percentile) against geodesic distance.

    Users' own data have no geodesic paths: the figure then says so.
    """
    if "interpolation_error" not in metrics:
        return _not_computed(metrics, f"{title}: latent-linear vs geodesic")
    entries = sorted(metrics["interpolation_error"].values(), key=lambda e: e["distance"])
    d = [e["distance"] for e in entries]
    fig, ax = plt.subplots(figsize=(4.5, 3.5))
    ax.loglog(d, [e["mean"] for e in entries], "o-", label="mean")
    ax.loglog(d, [e["p95"] for e in entries], "s--", label="95th percentile")
    ax.set_xlabel("geodesic distance of the pair")
    ax.set_ylabel("max deviation / |φ(x) − φ(y)|")
    ax.set_title(f"{title}: latent-linear vs geodesic")
    ax.legend()
    fig.tight_layout()
    return fig


def save(fig: plt.Figure, path: str | os.PathLike) -> None:
    """Write a figure atomically (its format from the suffix) and close it."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)


def gamma_limit_figure(bias: pd.DataFrame, noise: pd.DataFrame) -> plt.Figure:
    """Sampled loss against its Γ-limit: total error and interior bias against δ, noise against N."""
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2))
    for name, rows in bias.groupby("map", sort=False):
        axes[0].loglog(rows["delta"], rows["total_error"], "o-", label=name)
        positive = rows[rows["interior_bias"] > 1e-12 * rows["functional"]]  # 0 up to rounding for a linear map
        axes[1].loglog(positive["delta"], positive["interior_bias"], "o-", label=name)
    d = np.array(sorted(bias["delta"].unique()))
    for ax, order in ((axes[0], 1), (axes[1], 2)):
        ref = bias.loc[bias["delta"] == d.max(), "total_error" if ax is axes[0] else "interior_bias"].max()
        ax.loglog(d, ref * (d / d.max()) ** order, "k--", lw=1, label=f"slope {order}")
        ax.set_xlabel("δ")
    axes[0].loglog(d, np.full_like(d, bias["noise"].max()), ":", color="grey", label="noise σ/√N")
    axes[0].set_title("|L_N(δ) − F|  (square: O(δ) boundary layer)")
    axes[1].set_title("interior bias |L_N(δ) − G_N|: O(δ²)")
    axes[0].legend(fontsize=8)
    for name, rows in noise.groupby("map", sort=False):
        axes[2].loglog(rows["n"], rows["rms_error"], "o-", label=name)
    n = np.array(sorted(noise["n"].unique()), float)
    axes[2].loglog(n, noise["rms_error"].max() * (n / n.min()) ** -0.5, "k--", lw=1, label="slope −1/2")
    axes[2].set_xlabel("pairs N")
    axes[2].set_title("sampling noise RMS(G_N − F)")
    axes[2].legend(fontsize=8)
    for ax in axes:
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    fig.suptitle(f"Γ-limit check: sampled loss (N = {int(bias['n'].iloc[0]):,} pairs) vs the continuum functional F")
    fig.tight_layout()
    return fig


def _view(latent: xr.Dataset, dim: int):
    z = latent["latent"].values.astype(np.float64)
    centre, basis = principal_axes(z, dim)
    return _project(z, centre, basis), [
        _project(line.astype(np.float64), centre, basis) for line in latent["grid_line"].values
    ]


def embeddings_figure(latents: dict[str, xr.Dataset], title: str) -> plt.Figure:
    """All methods' test embeddings side by side (top principal axes), coloured, with mapped grid lines."""
    n = len(latents)
    dim = min(3, min(ds.sizes["latent_dim"] for ds in latents.values()))
    fig = plt.figure(figsize=(3.6 * n, 3.8))
    for i, (method, ds) in enumerate(latents.items()):
        ax = fig.add_subplot(1, n, i + 1, projection="3d" if dim == 3 else None)
        z, lines = _view(ds, dim)
        ax.scatter(*z.T[:dim], c=ds["colour"].values[:, 0], s=3, cmap="viridis", alpha=0.6)
        for line in lines:
            ax.plot(*line.T[:dim], color="black", lw=0.6)
        if dim == 2:
            ax.set_aspect("equal")
        ax.set_title(method, fontsize=10)
    fig.suptitle(f"{title}: embeddings of the test points (colour: {ds.attrs.get('colour_labels', ['x'])[0]})")
    fig.tight_layout()
    return fig


def strips_figure(latents: dict[str, xr.Dataset], title: str, example: int = 0) -> plt.Figure:
    """Decoded latent-linear paths of each method with a decoder, under the rendered geodesic."""
    with_strips = {m: ds for m, ds in latents.items() if "strip_decoded" in ds}
    if not with_strips:
        fig, ax = plt.subplots(figsize=(6, 1))
        ax.text(0.5, 0.5, "no method with a decoder", ha="center", va="center")
        ax.axis("off")
        return fig
    rendered = next(iter(with_strips.values()))["strip_rendered"].values[example]
    rows = [("geodesic (rendered)", rendered)] + [
        (m, ds["strip_decoded"].values[example]) for m, ds in with_strips.items()
    ]
    n_t = rendered.shape[0]
    fig, axes = plt.subplots(len(rows), n_t, figsize=(1.1 * n_t, 1.2 * len(rows)), squeeze=False)
    for r, (label, images) in enumerate(rows):
        for t in range(n_t):
            axes[r, t].imshow(images[t, :, :, 0], cmap="gray", vmin=0, vmax=1)
            axes[r, t].set_xticks([])
            axes[r, t].set_yticks([])
        axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
    fig.suptitle(f"{title}: decoded latent-linear interpolation vs the rendered geodesic (channel 0)")
    fig.tight_layout()
    return fig


def _not_computed(metrics: dict, title: str) -> plt.Figure:
    """A panel saying why the interpolation error was not computed (users' data have no geodesics)."""
    fig, ax = plt.subplots(figsize=(4.5, 3.5))
    reason = metrics.get("skipped", {}).get("interpolation_error", "not computed")
    ax.text(0.5, 0.5, f"interpolation error not computed:\n{reason}", ha="center", va="center", wrap=True)
    ax.set_axis_off()
    ax.set_title(title)
    return fig


def interpolation_comparison_figure(metrics: dict[str, dict], title: str) -> plt.Figure:
    """Interpolation error against pair distance, one line per method (that has it)."""
    computed = {method: m for method, m in metrics.items() if "interpolation_error" in m}
    if not computed:
        return _not_computed(next(iter(metrics.values()), {}), f"{title}: latent-linear vs geodesic")
    fig, ax = plt.subplots(figsize=(5.5, 4))
    for method, m in computed.items():
        entries = sorted(m["interpolation_error"].values(), key=lambda e: e["distance"])
        ax.loglog([e["distance"] for e in entries], [e["mean"] for e in entries], "o-", label=method)
    ax.set_xlabel("geodesic distance of the pair")
    ax.set_ylabel("mean interpolation error")
    ax.set_title(f"{title}: latent-linear vs geodesic")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


# The registered columns with a title in the bars figure.
BAR_METRICS = tuple(c for c in columns() if c.bars)


def bars_figure(rows: pd.DataFrame, title: str) -> plt.Figure:
    """Headline metrics per method (mean over seeds, std as error bars); metrics no method has are left out."""
    shown = [c for c in BAR_METRICS if c.name in rows and rows[c.name].notna().any()]
    fig, axes = plt.subplots(1, len(shown), figsize=(4 * len(shown), 3.6), squeeze=False)
    stats = over_seeds(rows, ["method"], [c.name for c in shown])
    for ax, column in zip(axes[0], shown, strict=True):
        std = stats[f"{column.name}_std"].fillna(0.0)  # no error bar for a single seed
        ax.bar(range(len(stats)), stats[f"{column.name}_mean"].values, yerr=std.values, color="tab:blue", alpha=0.8)
        ax.set_xticks(range(len(stats)), stats["method"], rotation=45, ha="right", fontsize=8)
        if column.log_scale:
            ax.set_yscale("log")
        ax.set_title(column.bars, fontsize=10)
    fig.suptitle(title)
    fig.tight_layout()
    return fig
