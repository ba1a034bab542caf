"""The experiment's typed, resolved settings: one frozen dataclass per config section.

Settings missing from the config take the defaults of these dataclasses: they
are the single source of defaults. A closed set of allowed values is a
``Literal`` type here (a test keeps the schema's enums equal to them); an
open set is a registry (distortions, pair strategies, baselines, manifolds),
whose names the schema reads when it is loaded. Loading and validation live
in ``isoflat_tf.config_loader``, sweeps in ``isoflat_tf.sweeps``.

This module imports neither TensorFlow nor Keras: the Snakefile uses it.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

Geometry = Literal["intrinsic", "image", "data"]
Activation = Literal["elu", "softplus", "gelu", "tanh", "swish", "silu", "selu"]
DecoderActivation = Literal["elu", "softplus", "gelu", "tanh", "swish", "silu", "selu", "relu"]
Device = Literal["auto", "cpu", "gpu"]
Precision = Literal["float32", "mixed_float16", "mixed_bfloat16"]
JitCompile = Literal["auto", True, False]
Distribute = Literal["none", "mirrored"]
Initialisation = Literal["spectral", "random"]


@dataclasses.dataclass(frozen=True)
class DatasetConfig:
    """A manifold rendered as images, a user's own samples, or a user's own pairs.

    Attributes:
      manifold: a registered manifold; None for user data.
      samples_store: user data: a samples store (images, optionally their
        points), split into training and test samples; its pairs come from the
        ``data`` geometry.
      test_fraction: samples store: the share of the samples held out for evaluation.
      largest_component: samples store: embed the largest component of the
        neighbour graph when it falls apart (else that is an error).
      pairs_store: user data: a pairs store in the documented contract, used
        for training instead of sampled pairs (path relative to the working directory).
      test_store: user data: held-out pairs, same contract, for evaluation;
        without it, evaluation uses the training pairs store.
      dimension: user data: the manifold's dimension, if known (checked against
        latent_dim; for samples, estimated from them when not given).
    """

    name: str
    manifold: str | None = None
    image_size: int = 32
    n_train: int = 4000
    n_test: int = 2000
    samples_store: str | None = None
    test_fraction: float = 0.2
    largest_component: bool = False
    pairs_store: str | None = None
    test_store: str | None = None
    dimension: int | None = None


@dataclasses.dataclass(frozen=True)
class PairsConfig:
    """Pair sampling (docs/design.md §4); see ``isoflat_tf.sampling`` and ``isoflat_tf.geometry``.

    Attributes:
      strategy: a registered strategy (``isoflat_tf.sampling.STRATEGIES``): ``ball``, ``sphere``, ``knn``.
      geometry: where d and z come from: ``intrinsic`` (closed form),
        ``image`` (discrete geodesics of the image metric) or ``data``
        (estimated from the dataset's training samples alone, ``isoflat_tf.neighbour_graph``).
      neighbours: k of the ``knn`` strategy; for ``data``, the neighbours each tangent space is fitted to.
      candidates: ``data``: the nearest neighbours of each sample searched for pairs it is the midpoint of.
      midpoint_tolerance: ``data``: c of the midpoint residual bound ρ ≤ c d² / ℓ.
      radius: ``data``: the largest pair distance, in the samples' units, or
        ``auto``: the smallest radius that yields ``n_pairs`` pairs.
    """

    strategy: str = "ball"
    delta: float = 0.05
    n_pairs: int = 20000
    min_distance_fraction: float = 0.25
    geometry: Geometry = "intrinsic"
    neighbours: int = 8
    candidates: int = 256
    midpoint_tolerance: float = 0.05
    radius: float | str = "auto"


@dataclasses.dataclass(frozen=True)
class LossConfig:
    """The loss mean(W(s) + λ b): W is ``distortion`` (``isoflat_tf.distortions``), λ is ``bending_weight``."""

    distortion: str = "quadratic"
    bending_weight: float = 1.0


@dataclasses.dataclass(frozen=True)
class EncoderConfig:
    """Architecture of the encoder (see ``isoflat_tf.encoder``): convolutional for images, dense for vectors.

    Attributes:
      latent_dim: l, the latent dimension (≥ the manifold's dimension).
      conv_filters: filters of each stride-2 convolution (images only).
      kernel_size: convolution kernel size (images only).
      dense_units: widths of the dense layers after flattening (or on the feature vector).
      activation: activation of the convolutions (a smooth one).
      dense_activation: activation of the dense layers.
    """

    latent_dim: int = 2
    conv_filters: tuple[int, ...] = (32, 64, 64)
    kernel_size: int = 3
    dense_units: tuple[int, ...] = (256,)
    activation: Activation = "elu"
    dense_activation: Activation = "softplus"


@dataclasses.dataclass(frozen=True)
class TrainingConfig:
    """Optimisation settings.

    Attributes:
      epochs: the most passes over the training pairs; training stops earlier on
        a plateau of the validation loss (``isoflat_tf.plateau``) and keeps the
        weights of its best epoch. A cap for the runs still improving: on the
        swiss roll 16 epochs left the scale-free distortion at 0.010–0.013 and
        24 at 0.007–0.008, three seeds each (about 6 s an epoch of 20 000 pairs at
        32 px on two CPU cores; docs/results.md).
      patience: epochs without improvement of the validation loss before stopping.
      tolerance: relative decrease of the validation loss, or of one of its terms
        above the learning rate's floor, that counts as improvement.
      lr_patience: epochs without improvement before the learning rate is cut.
      lr_factor: factor of each cut of the learning rate.
      decay_epochs: the last epochs before ``epochs``, whose learning rate is cut
        by ``lr_factor`` each (0: none), so that a run still improving at the
        cap ends annealed rather than at its peak rate. Off by default: with
        averaged weights it changed nothing measurable (the swiss roll at 24
        epochs, three seeds: scale-free distortion 0.0059–0.0076 with it,
        0.0058–0.0072 without), and a cap of 18 with it lost to 24 without
        (0.0078–0.0102; docs/results.md, "A decay before the cap").
      max_minutes: wall-time budget of the training loop (None: no budget); training
        stops after the last epoch that fits (a stop on time is not reproducible).
      initialisation: ``spectral`` (the encoder first regresses an Isomap embedding of
        ``spectral_points`` distinct training inputs drawn at random, in the units of d; one start) or
        ``random`` (``starts`` random initialisations). ``isoflat_tf.initialisation``.
      spectral_points: training inputs the spectral initialisation embeds: by dense
        Isomap up to 4 000, by landmark Isomap above. 20 000 (all of a default
        training's) makes the graph dense enough not to link the windings of
        ``swiss_roll``, which 2 000 inputs link.
      spectral_epochs: passes of the start's regression over its inputs (at least 150
        steps of 64: more passes over few inputs). At the refinement's former
        peak learning rate of 10⁻³ the swiss roll kept its unrolled start after
        40 passes on three seeds and folded it after 3 or 10; at 3 × 10⁻⁴, 6
        passes held on every seed (docs/results.md, "With a cheaper start").
      starts: independent random initialisations trained for ``start_epochs`` each;
        the one with the lowest monitored loss goes on (1: a single start).
      start_epochs: epochs of each start.
      batch_size: pairs per step, over all replicas (the encoder sees 3× as many images).
      learning_rate: Adam's peak learning rate. 3 × 10⁻⁴: from the spectral start,
        10⁻³ tore the unrolled swiss roll into a fold on two seeds of three, and
        3 × 10⁻⁴ kept it on all three (docs/results.md, "Convergence with the
        default settings"). Random starts were tuned at 10⁻³ (before the
        spectral start was the default).
      final_learning_rate: the floor of the learning rate's cuts.
      average_weights: validate, keep and export the mean of the encoder's
        weights over each epoch's steps (Polyak–Ruppert averaging) instead of
        the weights after its last step. The mean averages out the steps' noise
        without lowering the learning rate.
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
      learning_rate_warmup_epochs: from a spectral or warm start, the learning
        rate rises linearly from 0 to ``learning_rate`` over this many epochs
        (0: none). Adam's first steps move every weight by about the learning
        rate whatever its gradient, which can tear a start that is already
        close (docs/results.md, "Where training starts"); random starts have
        nothing to keep and get no warm-up.
      init_from: a run whose trained encoder starts this one (a warm start, e.g.
        a continuation in δ or λ); the encoder settings must be the same. It
        makes one start, in that run's length unit.
    """

    epochs: int = 24
    patience: int = 3
    tolerance: float = 0.05
    lr_patience: int = 1
    lr_factor: float = 0.3
    decay_epochs: int = 0
    max_minutes: float | None = None
    initialisation: Initialisation = "spectral"
    spectral_points: int = 20000
    spectral_epochs: int = 6
    starts: int = 3
    start_epochs: int = 1
    batch_size: int = 128
    learning_rate: float = 3e-4
    final_learning_rate: float = 1e-5
    average_weights: bool = True
    length_unit: float | str = "auto"
    tensorboard: bool = True
    snapshot_every: int = 5
    validation_fraction: float = 0.1
    device: Device = "auto"
    precision: Precision = "float32"
    jit_compile: JitCompile = "auto"
    distribute: Distribute = "none"
    bending_warmup_epochs: float = 0.0
    learning_rate_warmup_epochs: float = 1.0
    init_from: str | None = None


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
      conv_filters: filters of each stride-2 transposed convolution (coarse to fine; images only).
      activation: activation of the hidden layers.
      epochs, batch_size, learning_rate: Adam fitting with cosine decay.
    """

    dense_units: tuple[int, ...] = (256,)
    conv_filters: tuple[int, ...] = (64, 32)
    activation: DecoderActivation = "elu"
    epochs: int = 30
    batch_size: int = 128
    learning_rate: float = 2e-3


@dataclasses.dataclass(frozen=True)
class BaselineConfig:
    """Baseline embeddings scored like isoflat (``isoflat_tf.baselines``).

    Attributes:
    methods: baselines to run (registered in ``isoflat_tf.baselines``; default: all but the opt-in
      ones, i.e. pca, isomap, umap, autoencoder; parametric_umap and irvae run when named).
    neighbours: neighbourhood size of Isomap, UMAP and Parametric UMAP.
    max_fit_points: training images used to fit Isomap, UMAP and Parametric UMAP (their cost grows quickly).
    autoencoder_epochs, autoencoder_batch_size, autoencoder_learning_rate: the plain autoencoder's fit.
    parametric_umap_epochs: UMAP's ``n_epochs`` for Parametric UMAP: an edge of the neighbour graph
      with membership weight w is trained on ⌊n_epochs·w⌋ times.
    irvae_epochs, irvae_batch_size, irvae_learning_rate: the IRVAE's fit (Adam, cosine decay).
    irvae_weight: λ of the IRVAE, the weight of its relaxed distortion measure.
    """

    methods: tuple[str, ...] = ()  # none given: the default baselines (the loader fills them in)
    neighbours: int = 10
    max_fit_points: int = 4000
    autoencoder_epochs: int = 40
    autoencoder_batch_size: int = 128
    autoencoder_learning_rate: float = 1e-3
    # umap-learn uses 200 (500 below 10 000 points); with isoflat's convolutional encoder each
    # epoch costs seconds per thousand images, so the default is a quarter of that.
    parametric_umap_epochs: int = 50
    irvae_epochs: int = 20
    irvae_batch_size: int = 128
    irvae_learning_rate: float = 1e-3
    irvae_weight: float = 100.0


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
        if self.pairs.geometry == "data":  # δ is the evaluation's scale, not the training pairs'
            radius = "" if self.pairs.radius == "auto" else f", R={self.pairs.radius:g}"
            return f"isoflat(λ={self.loss.bending_weight:g}{radius}{details})"
        return f"isoflat(λ={self.loss.bending_weight:g}, δ={self.pairs.delta:g}{details})"

    @property
    def sampling(self) -> str:
        """A readable name of the pair set: runs sharing it share the pairs store."""
        p = self.pairs
        if p.geometry == "data":
            radius = p.radius if p.radius == "auto" else f"{p.radius:g}"
            return (
                f"data-n{p.n_pairs}-r{p.min_distance_fraction:g}-k{p.neighbours}-c{p.candidates}"
                f"-t{p.midpoint_tolerance:g}-R{radius}-s{self.seed}"
            )
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
