"""Stop on convergence: the plateau rule for the learning rate and for stopping.

After each epoch the validation loss (at the full bending weight) is compared
with the best so far. An epoch improves when it lowers the best loss by more
than the relative ``tolerance``. The learning rate is cut by ``lr_factor``
after ``lr_patience`` epochs without improvement (never below
``final_learning_rate``); training stops after ``patience`` epochs without
improvement, at ``epochs`` at the latest, or when the wall-time budget is
spent. The caller then restores the weights of the best epoch.

The rule is a pure function of a small state, so a resumed run continues it
exactly (the state is saved with the checkpoint).
"""

from __future__ import annotations

import dataclasses
import math

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
      best_epoch: the epoch (1-based) that reached it; 0 before.
      epochs_without_improvement: epochs since the best one.
      epochs_since_cut: epochs without improvement since the last cut of the learning rate.
    """

    learning_rate: float
    best_loss: float = math.inf
    best_epoch: int = 0
    epochs_without_improvement: int = 0
    epochs_since_cut: int = 0


def initial_state(config: TrainingConfig) -> PlateauState:
    return PlateauState(learning_rate=config.learning_rate)


def improves(loss: float, best: float, tolerance: float) -> bool:
    """Whether ``loss`` beats ``best`` by more than the relative tolerance (losses are ≥ 0)."""
    return loss < best - tolerance * abs(best) if math.isfinite(best) else math.isfinite(loss)


def update(state: PlateauState, loss: float, epoch: int, config: TrainingConfig, counted: bool = True) -> PlateauState:
    """The state after ``epoch`` (1-based) ended with monitored ``loss``.

    ``counted``: False while the bending weight still warms up; such epochs
    neither set the best loss nor count towards a plateau, since their loss is
    not comparable with later ones.
    """
    if not counted:
        return state
    if improves(loss, state.best_loss, config.tolerance):
        return dataclasses.replace(
            state, best_loss=loss, best_epoch=epoch, epochs_without_improvement=0, epochs_since_cut=0
        )
    waited = state.epochs_since_cut + 1
    learning_rate = state.learning_rate
    if waited >= config.lr_patience and learning_rate > config.final_learning_rate:
        learning_rate = max(learning_rate * config.lr_factor, config.final_learning_rate)
        waited = 0
    return dataclasses.replace(
        state,
        learning_rate=learning_rate,
        epochs_without_improvement=state.epochs_without_improvement + 1,
        epochs_since_cut=waited,
    )


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
