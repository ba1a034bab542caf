"""Stop on convergence: the plateau rule for the learning rate and for stopping.

After each epoch the validation loss (at the full bending weight) and its
terms (distortion, bending) are compared with their best so far. An epoch
makes progress when it lowers the loss or one of its terms by more than the
relative ``tolerance``: a term is watched on its own because where one term
has a floor (the bending of a curved manifold) the other's progress is too
small a share of the loss to show in it. The learning rate is cut by
``lr_factor`` after ``lr_patience`` epochs without progress (never below
``final_learning_rate``). Once it has reached that floor only the loss
counts: the schedule has no cut left to make, and the relative jitter of a
term that has become a tiny share of the loss (the square's distortion at
10⁻⁶ under a bending of 10⁻⁴) would otherwise count as progress for ever.
Training stops after ``patience`` epochs without progress, at ``epochs`` at
the latest, or when the wall-time budget is spent.
The caller then restores the weights of the epoch with the lowest loss.

A run still improving when it nears ``epochs`` ends at its peak learning
rate. ``decay_epochs`` (off by default) cuts its last epochs by
``lr_factor`` each, whatever the rule says (``epoch_learning_rate``): a
warmup-stable-decay schedule whose stable phase ends on a plateau or at the
cap. With averaged weights it gained nothing measurable (docs/results.md,
"A decay before the cap"): the mean over an epoch's steps already sits
where a smaller rate would lead.

The rule is a pure function of a small state, so a resumed run continues it
exactly (the state is saved with the checkpoint).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping

from isoflat_tf.config import TrainingConfig

# Why training stopped, as written into history.csv and the log.
PLATEAU = "plateau"
MAX_EPOCHS = "max_epochs"
TIME_BUDGET = "time_budget"


@dataclasses.dataclass(frozen=True)
class PlateauState:
    """Where the rule stands after some epochs.

    Attributes:
      learning_rate: the learning rate of the next epoch.
      best_loss: the lowest monitored loss so far (inf before the first epoch counted).
      best_epoch: the epoch (1-based) that reached it, the one whose weights are kept; 0 before.
      best_terms: the lowest value so far of each monitored term.
      epochs_without_improvement: epochs since the last one that made progress.
      epochs_since_cut: epochs without progress since the last cut of the learning rate.
    """

    learning_rate: float
    best_loss: float = math.inf
    best_epoch: int = 0
    best_terms: dict[str, float] = dataclasses.field(default_factory=dict)
    epochs_without_improvement: int = 0
    epochs_since_cut: int = 0


def initial_state(config: TrainingConfig) -> PlateauState:
    return PlateauState(learning_rate=config.learning_rate)


def improves(loss: float, best: float, tolerance: float) -> bool:
    """Whether ``loss`` beats ``best`` by more than the relative tolerance (losses are ≥ 0)."""
    return loss < best - tolerance * abs(best) if math.isfinite(best) else math.isfinite(loss)


def update(
    state: PlateauState,
    loss: float,
    epoch: int,
    config: TrainingConfig,
    terms: Mapping[str, float] | None = None,
    counted: bool = True,
) -> PlateauState:
    """The state after ``epoch`` (1-based) ended with monitored ``loss`` and loss ``terms``.

    ``counted``: False while the bending weight still warms up; such epochs
    neither set the best loss nor count towards a plateau, since their loss is
    not comparable with later ones.
    """
    if not counted:
        return state
    at_floor = state.learning_rate <= config.final_learning_rate
    terms = {} if at_floor else dict(terms or {})
    progress = improves(loss, state.best_loss, config.tolerance) or any(
        improves(value, state.best_terms.get(name, math.inf), config.tolerance) for name, value in terms.items()
    )
    best_terms = dict(state.best_terms)
    best_terms.update({name: min(value, best_terms.get(name, math.inf)) for name, value in terms.items()})
    if loss < state.best_loss:  # the weights to keep: the lowest loss, however small the gain
        state = dataclasses.replace(state, best_loss=loss, best_epoch=epoch)
    if progress:
        return dataclasses.replace(state, best_terms=best_terms, epochs_without_improvement=0, epochs_since_cut=0)
    waited = state.epochs_since_cut + 1
    learning_rate = state.learning_rate
    if waited >= config.lr_patience and learning_rate > config.final_learning_rate:
        learning_rate = max(learning_rate * config.lr_factor, config.final_learning_rate)
        waited = 0
    return dataclasses.replace(
        state,
        learning_rate=learning_rate,
        best_terms=best_terms,
        epochs_without_improvement=state.epochs_without_improvement + 1,
        epochs_since_cut=waited,
    )


def epoch_learning_rate(state: PlateauState, epoch: int, config: TrainingConfig) -> float:
    """The learning rate of ``epoch`` (1-based): the rule's, or lower in the final decay.

    The last ``decay_epochs`` epochs before ``epochs`` get ``lr_factor``,
    ``lr_factor``², … of the peak rate, never below ``final_learning_rate``.
    The first epoch is never cut: a run shorter than its decay still starts
    at the peak rate.
    """
    cuts = epoch - max(config.epochs - config.decay_epochs, 1)
    if cuts <= 0:
        return state.learning_rate
    decayed = max(config.learning_rate * config.lr_factor**cuts, config.final_learning_rate)
    return min(state.learning_rate, decayed)


def stop_reason(state: PlateauState, epoch: int, projected_s: float, config: TrainingConfig) -> str | None:
    """Why training should stop after ``epoch``, or None to go on.

    ``projected_s``: the wall time the loop would have taken after one more epoch.
    """
    if state.epochs_without_improvement >= config.patience:
        return PLATEAU
    if epoch >= config.epochs:
        return MAX_EPOCHS
    if config.max_minutes is not None and projected_s > 60.0 * config.max_minutes:
        return TIME_BUDGET
    return None
