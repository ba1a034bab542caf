"""Figures of one run: the embedding with mapped grid lines, training curves, interpolation error.

Pure matplotlib over the run's outputs (latent store, history, metrics):
no TensorFlow needed.
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import xarray as xr  # noqa: E402


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
        fig, ax = plt.subplots(figsize=(4.5, 3.5))
        reason = metrics.get("skipped", {}).get("interpolation_error", "not computed")
        ax.text(0.5, 0.5, f"interpolation error not computed:\n{reason}", ha="center", va="center", wrap=True)
        ax.set_axis_off()
        ax.set_title(f"{title}: latent-linear vs geodesic")
        return fig
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
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
