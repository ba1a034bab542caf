"""Stage of rule ``summary``: every evaluation's headline metrics in one table."""

from __future__ import annotations

import logging
import os

from isoflat_tf.files import write_text
from isoflat_tf.summary import markdown_table, summary_rows

log = logging.getLogger("isoflat")


def experiment_summary(*, metrics: list[str], table: str | os.PathLike, markdown: str | os.PathLike) -> None:
    """Gather every run's and baseline's ``metrics`` into the summary ``table`` and its ``markdown`` version."""
    rows = summary_rows(metrics)
    write_text(rows.to_csv(index=False), table)
    write_text(markdown_table(rows), markdown)
    log.info("summary of %d evaluations written to %s", len(rows), table)
