"""A knowledge-base selection named as a person writes it: `--outcome`/`--statistic` as vocabulary ids
(overall_survival, as in `oligokb query --param`) or as the export's labels (overall survival)."""

from __future__ import annotations

from typing import Any

from analysis.errors import InputError


def selection_labels(table: Any, outcome: str, statistic: str) -> tuple[str, str]:
    """The labels of `outcome` and `statistic` in the evidence table `table` (ids become their preferred
    labels); InputError naming the option and the labels the knowledge base has when one is not there."""
    from terms.errors import UnknownTermError
    from terms.vocabulary import near_terms, pref_label, resolve, term_id

    labels, hints = [], []
    for text, column in ((outcome, "outcome"), (statistic, "statistic")):
        try:
            labels.append(pref_label(resolve(column, term_id(column, text))))
            hints.append("")
        except UnknownTermError:
            labels.append(text)
            near = ", ".join(repr(pref_label(resolve(column, t))) for t in near_terms(column, text))
            hints.append(f". Did you mean {near}?" if near else "")
    for label, column, hint in zip(labels, ("outcome", "statistic"), hints, strict=True):
        known = sorted(set(table[column]))
        if label not in known:
            raise InputError(f"--{column} {label!r} is not in the knowledge base; known: {', '.join(known)}{hint}")
    return labels[0], labels[1]
