"""The training model: an encoder with the geometric loss in a custom ``train_step``."""

from __future__ import annotations

import keras
import tensorflow as tf

from isoflat_tf import distortions, losses

TERMS = ("loss", "distortion", "bending", "ratio_error")
TRAIN_ONLY = ("grad_norm",)


@keras.saving.register_keras_serializable(package="isoflat")
class IsometricEncoderModel(keras.Model):
    """Trains ``encoder`` with loss mean(W(s) + λ b) over batches of pairs.

    A batch is a dict with images ``x``, ``y``, ``z`` (batch, H, W, C) and
    ``distance`` (batch,). The encoder runs once on the concatenation
    [x; y; z] and its output is split, so every layer sees one large batch.

    With ``average_weights`` the model also keeps the running mean of the
    encoder's trainable weights over the steps since ``reset_average``
    (Polyak–Ruppert averaging); ``swap_average`` exchanges it with the weights.
    """

    def __init__(
        self,
        encoder: keras.Model,
        distortion: str = "quadratic",
        bending_weight: float = 1.0,
        bending_warmup_steps: int = 0,
        average_weights: bool = False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        distortions.DISTORTIONS.get(distortion)  # an unknown name raises, listing the known ones
        self.encoder = encoder
        self.distortion = distortion
        self.bending_weight = float(bending_weight)
        self.bending_warmup_steps = int(bending_warmup_steps)
        self.trackers = {name: keras.metrics.Mean(name=name) for name in TERMS + TRAIN_ONLY}
        self.average_weights = bool(average_weights)
        self.average = []
        if self.average_weights:
            # Replicas apply identical updates, so the first replica's mean is everyone's.
            self.average = [
                self.add_weight(
                    shape=v.shape,
                    initializer="zeros",
                    trainable=False,
                    name=f"average_{i}",
                    aggregation="only_first_replica",
                )
                for i, v in enumerate(encoder.trainable_variables)
            ]
            self.averaged_steps = self.add_weight(
                shape=(), initializer="zeros", trainable=False, name="averaged_steps", aggregation="only_first_replica"
            )
        # Build now, so that optimizer state can be saved and restored with the model.
        self.build(encoder.input_shape)

    def build(self, input_shape):
        self.encoder.build(input_shape)
        super().build(input_shape)

    def call(self, images, training=False):
        return self.encoder(images, training=training)

    def current_bending_weight(self) -> tf.Tensor:
        """λ at the optimizer's current step: it grows linearly from 0 over the warm-up steps.

        Derived from ``optimizer.iterations`` (saved with the optimizer), so a
        resumed run continues the same schedule.
        """
        if self.bending_warmup_steps <= 0:
            return tf.constant(self.bending_weight)
        step = tf.cast(self.optimizer.iterations, tf.float32)
        return self.bending_weight * tf.minimum(1.0, (step + 1.0) / self.bending_warmup_steps)

    def reset_average(self) -> None:
        """Start a new mean: the next step's weights replace it."""
        if self.average_weights:
            self.averaged_steps.assign(0.0)

    def swap_average(self) -> None:
        """Exchange the encoder's trainable weights with their mean (its own inverse; without averaging a no-op)."""
        if not self.average_weights:
            return
        for variable, mean in zip(self.encoder.trainable_variables, self.average, strict=True):
            weights = variable.numpy()
            variable.assign(mean.numpy())
            mean.assign(weights)

    def _accumulate_average(self) -> None:
        count = self.averaged_steps + 1.0
        self.averaged_steps.assign(count)
        for variable, mean in zip(self.encoder.trainable_variables, self.average, strict=True):
            mean.assign(mean + (tf.cast(variable, mean.dtype) - mean) / count)

    def _terms(self, batch, training: bool, bending_weight) -> dict[str, tf.Tensor]:
        n = tf.shape(batch["x"])[0]
        latent = self.encoder(tf.concat([batch["x"], batch["y"], batch["z"]], axis=0), training=training)
        phi_x, phi_y, phi_z = latent[:n], latent[n : 2 * n], latent[2 * n :]
        distance = tf.cast(batch["distance"], latent.dtype)
        weight = tf.cast(bending_weight, latent.dtype)
        return losses.pair_loss_terms(phi_x, phi_y, phi_z, distance, self.distortion, weight)

    def _update(self, terms: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        for name in terms:
            self.trackers[name].update_state(terms[name])
        return {name: self.trackers[name].result() for name in terms}

    def train_step(self, batch):
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        with tf.GradientTape() as tape:
            terms = self._terms(batch, training=True, bending_weight=self.current_bending_weight())
            # Replica gradients are summed, so each replica contributes its share of the
            # mean; scale_loss applies the dynamic loss scale under mixed_float16.
            scaled = self.optimizer.scale_loss(terms["loss"] / replicas)
        variables = self.encoder.trainable_variables
        grads = tape.gradient(scaled, variables)
        self.optimizer.apply_gradients(zip(grads, variables, strict=True))
        if self.average_weights:
            self._accumulate_average()
        if not isinstance(self.optimizer, keras.optimizers.LossScaleOptimizer):
            # (Under loss scaling, overflowing steps are expected and skipped: no check then.)
            terms["grad_norm"] = tf.linalg.global_norm([tf.cast(g, tf.float32) for g in grads])
        return self._update(terms)

    def test_step(self, batch):
        # At the full λ, warm-up or not: validation losses of all epochs stay comparable
        # (the plateau rule compares them).
        return self._update(self._terms(batch, training=False, bending_weight=self.bending_weight))

    @property
    def metrics(self):
        return list(self.trackers.values())

    def get_config(self):
        return {
            **super().get_config(),
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "distortion": self.distortion,
            "bending_weight": self.bending_weight,
            "bending_warmup_steps": self.bending_warmup_steps,
            "average_weights": self.average_weights,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        encoder = keras.saving.deserialize_keras_object(config.pop("encoder"))
        return cls(encoder, **config)
