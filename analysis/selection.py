"""A knowledge-base selection named as a person writes it: `--outcome`/`--statistic` as vocabulary ids
(overall_survival, as in `oligokb query --param`) or as the export's labels (overall survival)."""

from __future__ import annotations

from typing import Any

from analysis.errors import InputError


def selection_labels(table: Any, outcome: str, statistic: str) -> tuple[str, str]:
    """The labels of `outcome` and `statistic` in the evidence table `table` (ids become their preferred
    labels); InputError naming the option and the labels the knowledge base has when one is not there."""
    from terms.vocabulary import pref_label, resolve, term_id

    labels = tuple(
        pref_label(resolve(column, term_id(column, text)))
        for text, column in ((outcome, "outcome"), (statistic, "statistic"))
    )
    for label, column in zip(labels, ("outcome", "statistic"), strict=True):
        known = sorted(set(table[column]))
        if label not in known:
            raise InputError(f"--{column} {label!r} is not in the knowledge base; known: {', '.join(known)}")
    return labels[0], labels[1]
