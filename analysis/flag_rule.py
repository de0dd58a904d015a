"""The pooling policy's rule 0: curation flags (issue 20; docs/curation-flags.md).

The evidence table's `flags` column holds a row's flag codes (";"-separated) and `flag_reasons` their
"code: reason" texts (" | "-separated). A row whose flags meet the excluded set is left out, with the
flags' own reasons. Left out by default: direction_doubtful (the direction cannot be right as printed),
do_not_pool (the curators advise against it), duplicate_of (the same figure entered twice: the preferred one,
which carries no such flag, is used) and post_randomisation_subgroup (not the randomised population).
Any other kind can be excluded as well for a sensitivity analysis (`oligokb pool --exclude-flag
mapping_low_confidence`). The policy (analysis.policy_batch) applies them; analysis.policy_rules writes
the reason with `reason`.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from typing import Any

from analysis.errors import InputError

# The notations of terms/vocab/curation_flag.ttl (tests/analysis/test_flag_rule.py compares them).
FLAG_KINDS = (
    "ci_level_doubtful",
    "derived_value",
    "direction_doubtful",
    "do_not_pool",
    "duplicate_of",
    "mapping_low_confidence",
    "post_randomisation_subgroup",
    "value_doubtful",
)
DEFAULT_EXCLUDED = ("direction_doubtful", "do_not_pool", "duplicate_of", "post_randomisation_subgroup")


def excluded_flags(extra: Iterable[str] = ()) -> frozenset[str]:
    """The flags that leave a row out: the defaults and `extra` (checked against the vocabulary)."""
    extra = tuple(extra)
    unknown = [f for f in extra if f not in FLAG_KINDS]
    if unknown:
        raise InputError(
            f"--exclude-flag {', '.join(unknown)}: not a curation flag; flags: {', '.join(FLAG_KINDS)}",
            column="exclude_flag",
        )
    return frozenset(DEFAULT_EXCLUDED) | frozenset(extra)


def is_excluded(flags: object, excluded: frozenset[str]) -> bool:
    return isinstance(flags, str) and bool(flags) and not excluded.isdisjoint(flags.split(";"))


def reason(row: Mapping[Hashable, Any], excluded: frozenset[str]) -> str:
    """The left-out reason of a flagged row: each excluded flag with the curators' reason."""
    codes = [c for c in str(row.get("flags", "")).split(";") if c in excluded]
    texts = [t for t in str(row.get("flag_reasons", "")).split(" | ") if t.split(":", 1)[0] in excluded]
    shown = "; ".join(texts) if texts else ", ".join(codes)
    tail = " (the preferred figure is used)" if "duplicate_of" in codes else ""
    return f"curation flag {shown}{tail}"
