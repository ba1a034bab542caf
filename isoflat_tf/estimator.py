"""``IsoFlat``: a scikit-learn estimator that embeds a user's own samples, running the workflow's code.

``fit(X)`` does, in memory, what the workflow does for samples with ``pairs.geometry: data``:

1. ``neighbour_graph.estimate_pairs`` finds pairs of samples with a sample at
   their midpoint, and their distances, from the samples alone (docs/design.md §3.3);
2. ``training.train`` trains the encoder on them (its checkpoints go to a
   temporary folder, removed afterwards);
3. with ``decoder``, ``decoder.fit_decoder`` fits a decoder on the frozen encoder.

The settings are checked against the workflow's config schema, so they take
the same values as the config's keys and fail with the same messages. Seeds
come from ``random_state`` the way the workflow's jobs derive theirs from a
run's seed (``isoflat_tf.seeds``).

TensorFlow is imported when fitting or transforming, not with this module.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import numbers
import random
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from isoflat_tf import config_loader, neighbour_graph
from isoflat_tf.config import DecoderConfig, EncoderConfig, LossConfig, PairsConfig, TrainingConfig
from isoflat_tf.config_checks import non_finite_numbers, training_problems
from isoflat_tf.params import tuples
from isoflat_tf.seeds import derive_seed

# The defaults of the estimator's parameters are those of the workflow's config.
PAIRS, LOSS, ENCODER = PairsConfig(), LossConfig(), EncoderConfig()
# The fewest samples that hold a pair and a sample at its midpoint.
MIN_SAMPLES = 3
# The pair settings that are parameters of the estimator, by their config key.
PAIR_KEYS = ("n_pairs", "neighbours", "candidates", "midpoint_tolerance", "radius", "min_distance_fraction")
# Training settings of a workflow run that name other runs: none exist here.
WORKFLOW_ONLY = ("init_from",)
# The package's loggers (stages log as "isoflat", modules by module name).
LOGGERS = ("isoflat", "isoflat_tf")


@dataclasses.dataclass(frozen=True)
class Settings:
    """The estimator's parameters, checked and resolved into the workflow's config dataclasses."""

    encoder: EncoderConfig
    loss: LossConfig
    training: TrainingConfig
    decoder: DecoderConfig | None


def settings_schema() -> dict:
    """The JSON schema of the estimator's settings: the workflow's, keyed by the estimator's parameter names."""
    full = config_loader.load_schema()
    run = full["$defs"]["run_settings"]["properties"]
    encoder = {k: v for k, v in run["encoder"]["properties"].items() if k != "latent_dim"}
    training = {k: v for k, v in run["training"]["properties"].items() if k not in WORKFLOW_ONLY}
    dimension = full["$defs"]["dataset"]["properties"]["dimension"]
    properties = {
        **{k: run["pairs"]["properties"][k] for k in PAIR_KEYS},
        **run["loss"]["properties"],
        "latent_dim": run["encoder"]["properties"]["latent_dim"],
        "dimension": {**dimension, "type": ["integer", "null"]},
        "encoder": {**run["encoder"], "properties": encoder},
        "training": {**run["training"], "properties": training},
        "decoder": full["properties"]["decoder"],
    }
    return {"$defs": full["$defs"], "type": "object", "additionalProperties": False, "properties": properties}


def plain(value: Any) -> Any:
    """A parameter as the builtin values the schema checks: NumPy scalars as numbers, tuples as lists."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


@contextlib.contextmanager
def seeded_tensorflow(seed: int, device: str):
    """``runtime.configure_tensorflow`` for one fit, without its lasting effects on the caller's process.

    It seeds Python's, NumPy's and TensorFlow's global generators and turns on
    op determinism: Python's and NumPy's generators and op determinism are put
    back afterwards (a scikit-learn estimator leaves the global generators
    alone). Threads are left as they are: TensorFlow fixes them at its first op.
    Yields the device (``cpu`` or ``gpu``).
    """
    from isoflat_tf import runtime

    try:  # TensorFlow exports no way to turn op determinism off again
        from tensorflow.python.framework import config as framework

        determinism = framework.is_op_determinism_enabled()
    except (ImportError, AttributeError):
        framework, determinism = None, True
    numpy_state, python_state = np.random.get_state(), random.getstate()
    try:
        yield runtime.configure_tensorflow(seed, None, device)
    finally:
        np.random.set_state(numpy_state)
        random.setstate(python_state)
        if not determinism:
            framework.disable_op_determinism()


@contextlib.contextmanager
def package_logging(verbose: int):
    """The package's log lines while fitting: warnings only (``verbose`` 0), or progress too, on stderr if
    nothing else shows them."""
    loggers = [logging.getLogger(name) for name in LOGGERS]
    levels = [logger.level for logger in loggers]
    handler = None
    if verbose and not logging.getLogger().handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s"))
    for logger in loggers:
        logger.setLevel(logging.INFO if verbose else logging.WARNING)
        if handler is not None:
            logger.addHandler(handler)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
            if handler is not None:
                logger.removeHandler(handler)


def _decoder_requested(estimator: IsoFlat) -> bool:
    """``inverse_transform`` exists only where a decoder is fitted (scikit-learn's ``available_if``)."""
    if not estimator.decoder:
        raise AttributeError(
            "inverse_transform needs a decoder: fit IsoFlat(decoder=True), or decoder={...} with DecoderConfig settings"
        )
    return True


class IsoFlat(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """An isometric, extrinsically flat embedding of samples, learnt from the samples alone.

    Fits an encoder φ: X → R^latent_dim with the loss mean(W(s) + λ b) on
    pairs of nearby samples whose distance and midpoint are estimated from
    the samples (``isoflat_tf.neighbour_graph``), as the workflow does with
    ``pairs.geometry: data``. Parameters with a config key of the workflow
    take the same values; their defaults are the config's.

    Parameters:
      latent_dim: l, the dimension of the embedding (``encoder.latent_dim``).
      n_pairs, neighbours, candidates, midpoint_tolerance, radius, min_distance_fraction:
        the pairs (``pairs.*``): how many, the neighbour graph's k, the
        neighbours searched for midpoints, the midpoint residual bound, the
        largest pair distance in X's units (``"auto"``: chosen from the
        data), the shortest pair as a fraction of it. ``neighbours`` and
        ``candidates`` are capped at n_samples − 1; fewer pairs than
        ``n_pairs`` are used, with a logged warning, where X holds fewer.
      dimension: the intrinsic dimension of the data, if known (None: estimated).
      bending_weight, distortion: λ and W of the loss (``loss.*``).
      encoder: ``EncoderConfig`` settings other than latent_dim (None: the
        defaults). Images get the conv encoder, feature vectors a dense one.
      training: ``TrainingConfig`` settings (None: the defaults), e.g.
        ``{"epochs": 10, "starts": 1}``; ``tensorboard`` writes nothing here.
      decoder: fit a decoder on the frozen encoder, so that
        ``inverse_transform`` exists: False, True, or ``DecoderConfig`` settings.
      random_state: None (a seed drawn from NumPy's global generator), an int
        (on the CPU, the same X and seed give identical results) or a RandomState.
      verbose: 0 logs warnings only; 1 logs progress too.

    Attributes:
      encoder_: the trained Keras encoder. It maps into units of ``diameter_``, like the workflow's
        ``data`` geometry: latent distances times ``diameter_`` estimate distances in X's units.
      decoder_: the fitted Keras decoder, or None.
      pairs_: the training pairs (``neighbour_graph.DataPairs``: indices into X, distances, residuals).
      n_pairs_, radius_, dimension_: how many pairs, their radius (in X's units), the intrinsic dimension used.
      diameter_: ℓ, the data's geodesic diameter estimated on the neighbour graph, in X's units.
      neighbours_, candidates_: the graph settings used (capped at n_samples − 1).
      history_: one dict per training epoch (losses, learning rate, ...).
      seed_: the seed of the fit: ``random_state=seed_`` repeats it.
      sample_shape_: the shape of one sample of X; n_features_in_: its size.
    """

    def __init__(
        self,
        latent_dim: int = ENCODER.latent_dim,
        *,
        n_pairs: int = PAIRS.n_pairs,
        neighbours: int = PAIRS.neighbours,
        candidates: int = PAIRS.candidates,
        midpoint_tolerance: float = PAIRS.midpoint_tolerance,
        radius: float | str = PAIRS.radius,
        min_distance_fraction: float = PAIRS.min_distance_fraction,
        dimension: int | None = None,
        bending_weight: float = LOSS.bending_weight,
        distortion: str = LOSS.distortion,
        encoder: dict | None = None,
        training: dict | None = None,
        decoder: bool | dict = False,
        random_state=None,
        verbose: int = 0,
    ):
        self.latent_dim = latent_dim
        self.n_pairs = n_pairs
        self.neighbours = neighbours
        self.candidates = candidates
        self.midpoint_tolerance = midpoint_tolerance
        self.radius = radius
        self.min_distance_fraction = min_distance_fraction
        self.dimension = dimension
        self.bending_weight = bending_weight
        self.distortion = distortion
        self.encoder = encoder
        self.training = training
        self.decoder = decoder
        self.random_state = random_state
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True  # grey images
        return tags

    def fit(self, X, y=None):
        """Estimate pairs of the samples X and train the encoder (and the decoder) on them.

        X: feature vectors (n_samples, n_features), images (n_samples, height,
        width, channels) or grey images (n_samples, height, width). y is ignored.
        """
        from isoflat_tf import runtime, training
        from isoflat_tf.stages.train import warn_if_collapsed

        settings = self._settings()
        # A refit starts unfitted: a failed one leaves no mix of an earlier fit's attributes and its own.
        for name in [name for name in vars(self) if name.endswith("_") and not name.startswith("_")]:
            delattr(self, name)
        X = self._validate(X, reset=True)
        n = X.shape[0]
        seed = self._seed()
        neighbours, candidates = min(self.neighbours, n - 1), min(self.candidates, n - 1)
        seeded = seeded_tensorflow(derive_seed(seed, "train"), settings.training.device)
        with package_logging(self.verbose), seeded as device:
            pairs = neighbour_graph.estimate_pairs(
                X,
                self.n_pairs,
                np.random.default_rng(derive_seed(seed, "pairs")),
                neighbours=neighbours,
                candidates=candidates,
                midpoint_tolerance=self.midpoint_tolerance,
                min_distance_fraction=self.min_distance_fraction,
                radius=None if self.radius == "auto" else float(self.radius),
                dimension=self.dimension,
                name="X",
            )
            # Distances in units of the data's graph diameter, as the workflow trains on them: λ then
            # means the same whatever X's units.
            arrays = pairs.arrays(X)
            with tempfile.TemporaryDirectory(prefix="isoflat-") as tmp:
                encoder, history = training.train(
                    arrays,
                    settings.encoder,
                    settings.loss.distortion,
                    settings.loss.bending_weight,
                    settings.training,
                    seed=derive_seed(seed, "shuffle"),
                    checkpoint_dir=Path(tmp) / "checkpoint",
                    device=device,
                )
            encode = runtime.predictor(encoder)
            warn_if_collapsed(encode, arrays, type(self).__name__)
            decoder = None
            if settings.decoder is not None:
                from isoflat_tf.decoder import fit_decoder

                decoder, _ = fit_decoder(encode(X), X, settings.decoder, derive_seed(seed, "decoder"))
        self.encoder_, self.decoder_, self.history_, self.pairs_ = encoder, decoder, history, pairs
        self.n_pairs_, self.radius_, self.diameter_ = len(pairs.triples), pairs.radius, pairs.diameter
        self.dimension_ = pairs.dimension
        self.neighbours_, self.candidates_, self.seed_ = neighbours, candidates, seed
        self._n_features_out = settings.encoder.latent_dim
        return self

    def transform(self, X) -> np.ndarray:
        """The embedding φ(X): (n_samples, latent_dim) float64, in units of ``diameter_``."""
        from isoflat_tf import runtime

        check_is_fitted(self, "encoder_")
        return runtime.predictor(self.encoder_)(self._validate(X, reset=False))

    @available_if(_decoder_requested)
    def inverse_transform(self, Z) -> np.ndarray:
        """The decoder's samples of latents Z (n_samples, latent_dim), shaped like the samples of X in ``fit``."""
        from isoflat_tf import runtime

        check_is_fitted(self, "encoder_")
        if self.decoder_ is None:
            raise AttributeError("this IsoFlat was fitted without a decoder: fit it again with decoder=True")
        Z = check_array(Z, dtype=np.float32, input_name="Z", estimator=self)
        if Z.shape[1] != self._n_features_out:
            raise ValueError(f"Z has {Z.shape[1]} columns, but IsoFlat embeds into {self._n_features_out} dimensions")
        return runtime.predictor(self.decoder_)(Z).reshape(len(Z), *self.sample_shape_)

    def _settings(self) -> Settings:
        """The parameters, checked with the workflow's schema and checks, as config dataclasses.

        Raises:
          ValueError: naming each parameter that is wrong and what it must be.
        """
        if self.decoder is not None and not isinstance(self.decoder, bool | np.bool_ | dict):
            raise ValueError(f"decoder is {self.decoder!r}; expected False, True or a dict of decoder settings")
        for name in ("encoder", "training"):
            if isinstance(getattr(self, name), dict) and "latent_dim" in getattr(self, name):
                raise ValueError(f"{name} holds 'latent_dim': set it with IsoFlat(latent_dim=...)")
        raw = plain(
            {
                **{k: getattr(self, k) for k in PAIR_KEYS},
                "distortion": self.distortion,
                "bending_weight": self.bending_weight,
                "latent_dim": self.latent_dim,
                "dimension": self.dimension,
                "encoder": {} if self.encoder is None else self.encoder,
                "training": {} if self.training is None else self.training,
                "decoder": self.decoder if isinstance(self.decoder, dict) else {},
            }
        )
        problems = non_finite_numbers(raw)
        if not problems:
            try:
                config_loader.validate_schema(raw, settings_schema(), what="IsoFlat parameters")
            except config_loader.ConfigError as err:
                raise ValueError(str(err)) from None
        if not problems:
            settings = Settings(
                encoder=EncoderConfig(**tuples({**raw["encoder"], "latent_dim": raw["latent_dim"]})),
                loss=LossConfig(distortion=raw["distortion"], bending_weight=raw["bending_weight"]),
                training=TrainingConfig(**raw["training"]),
                decoder=DecoderConfig(**tuples(raw["decoder"])) if self.decoder else None,
            )
            problems += training_problems("training", settings.training)
            if raw["dimension"] is not None and raw["latent_dim"] < raw["dimension"]:
                problems.append(f"latent_dim is {raw['latent_dim']}; it must be ≥ dimension ({raw['dimension']})")
        if problems:
            raise ValueError("invalid IsoFlat parameters:\n  " + "\n  ".join(problems))
        return settings

    def _seed(self) -> int:
        """The fit's seed: ``random_state`` itself when an int, else drawn from it (None: NumPy's global generator)."""
        state = check_random_state(self.random_state)  # also rejects what is no seed
        if isinstance(self.random_state, numbers.Integral):
            return int(self.random_state)
        return int(state.randint(np.iinfo(np.int32).max))

    def _validate(self, X, *, reset: bool) -> np.ndarray:
        """X as float32 samples of the encoder's input shape; grey images get a channel axis.

        ``reset``: in ``fit``, record the samples' shape (and, of vectors, the
        feature names); else check X against it.
        """
        shape = X.shape if hasattr(X, "shape") else np.shape(np.asarray(X))  # lists, and what has only __array__
        ndim = len(shape)
        if ndim not in (2, 3, 4):
            reshape = (
                ". Reshape your data: X.reshape(-1, 1) if it has a single feature, X.reshape(1, -1) if it is one sample"
                if ndim == 1
                else ""
            )
            raise ValueError(
                f"X has {ndim} dimension{'s' * (ndim != 1)} (shape {shape}); IsoFlat takes feature vectors "
                "(n_samples, n_features), images (n_samples, height, width, channels) or grey images "
                f"(n_samples, height, width){reshape}"
            )
        if not reset and (ndim == 2) != (len(self.sample_shape_) == 1):
            raise ValueError(
                f"X has samples of shape {shape[1:]}, but IsoFlat was fitted on samples of shape {self.sample_shape_}"
            )
        min_samples = MIN_SAMPLES if reset else 1
        if ndim == 2:  # feature vectors: scikit-learn's checks, n_features_in_ and feature names included
            X = validate_data(self, X, reset=reset, dtype=np.float32, ensure_min_samples=min_samples)
        else:
            X = check_array(
                X, allow_nd=True, dtype=np.float32, ensure_min_samples=min_samples, input_name="X", estimator=self
            )
            if reset:
                self.n_features_in_ = math.prod(X.shape[1:])
                if hasattr(self, "feature_names_in_"):
                    del self.feature_names_in_
        if reset:
            self.sample_shape_ = tuple(X.shape[1:])
        elif encoder_shape(X.shape[1:]) != encoder_shape(self.sample_shape_):
            raise ValueError(
                f"X has samples of shape {X.shape[1:]}, but IsoFlat was fitted on samples of shape {self.sample_shape_}"
            )
        return X.reshape(len(X), *encoder_shape(X.shape[1:]))


def encoder_shape(sample_shape: tuple[int, ...]) -> tuple[int, ...]:
    """The encoder's input shape for samples of ``sample_shape``: grey images (h, w) get a channel axis."""
    return (*sample_shape, 1) if len(sample_shape) == 2 else tuple(sample_shape)
