"""Curation flags in the sheets (issue 20): the curator's warnings as structured fields.

A flag names its kind (a term of terms/vocab/curation_flag.ttl), a short reason and, where it applies, the
other statistic it points to (`other`) or a mapping's alternatives (`alternatives`). Statistics and groups
carry `flags:`; a study's oligo-state mapping of confidence low carries mapping_low_confidence by itself
(kb.build writes it, with the mapping's candidates as alternatives). Groups state the variables they are a
subgroup by (`subgroup_by:`); their own histology and oligo-state count without being listed.
The rules here are checked again on the graph by kb/shapes.ttl. docs/curation-flags.md says what each
flag means and what the pooling does with it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from terms.errors import UnknownTermError
from terms.vocabulary import resolve

# What a subgroup partitions its study's patients (or lesions) by. histology and oligo_state also come
# from the group's own histology / oligo_state fields.
Partition = Literal[
    "histology",
    "oligo_state",
    "sex",
    "age",
    "dose",
    "regimen",
    "site",
    "response",
    "post_randomisation",
    "performance_status",
    "tumour_burden",
    "biomarker",
    "prior_therapy",
    "interval",
    "treatment_extent",
]

FlagKind = Literal[
    "direction_doubtful",
    "ci_level_doubtful",
    "value_doubtful",
    "duplicate_of",
    "do_not_pool",
    "mapping_low_confidence",
    "post_randomisation_subgroup",
    "derived_value",
]

# Where each kind may be put (a study's oligo-state mapping gets mapping_low_confidence from its confidence).
STATISTIC_KINDS = frozenset(FlagKind.__args__)  # type: ignore[attr-defined]
GROUP_KINDS = frozenset({"value_doubtful", "do_not_pool", "mapping_low_confidence", "post_randomisation_subgroup"})
# The pooling leaves these out by default (analysis.policy rule 0); the others only with --exclude-flag.
EXCLUDED_BY_DEFAULT = ("direction_doubtful", "do_not_pool", "duplicate_of", "post_randomisation_subgroup")
COMPARATIVE_STATISTICS = {"hazard_ratio", "subdistribution_hazard_ratio", "odds_ratio"}


class Flag(BaseModel):
    """One curation flag: `{flag: direction_doubtful, reason: "...", other: <statistic>}`."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    flag: FlagKind
    reason: str = Field(min_length=10, max_length=1000, description="why, in a sentence (the notes keep the detail)")
    other: str | None = Field(
        None,
        min_length=1,
        max_length=300,
        description="the statistic the flag points to: an id of this report, or <publication>/<study>/stat/<id>; "
        "for duplicate_of, the preferred figure",
    )
    mapping: Literal["oligo_state", "histology", "outcome"] | None = Field(
        None,
        description="for mapping_low_confidence: which mapping (a statistic's: outcome; a group's: its oligo_state, "
        "else its histology)",
    )
    alternatives: list[str] = Field(
        default_factory=list, description="mapping_low_confidence: the terms it may be instead"
    )

    @model_validator(mode="after")
    def _fields_of_kind(self) -> Flag:
        if self.flag == "duplicate_of" and self.other is None:
            raise ValueError(
                "a duplicate_of flag needs other: the preferred statistic (this flag sits on the one not preferred)"
            )
        if self.other is not None and "/" in self.other:
            parts = self.other.split("/")
            if len(parts) != 4 or parts[2] != "stat" or not all(parts):
                raise ValueError(
                    f"other {self.other!r}: write a statistic id of this report or <publication>/<study>/stat/<id>"
                )
        if self.flag != "mapping_low_confidence" and (self.alternatives or self.mapping):
            raise ValueError("alternatives and mapping are only for a mapping_low_confidence flag")
        return self

    def check_alternatives(self, scheme: str) -> None:
        for term in self.alternatives:
            try:
                resolve(scheme, term)
            except UnknownTermError as exc:
                raise ValueError(f"flags: alternatives: {exc}") from None


def _duplicates(flags: list[Flag]) -> None:
    kinds = [f.flag for f in flags]
    if len(kinds) != len(set(kinds)):
        raise ValueError(f"flags: each kind at most once per figure or group, got {kinds}")


def check_statistic_flags(stat) -> None:
    """The flags of one statistic (extract.schema.Statistic) fit it."""
    _duplicates(stat.flags)
    kinds = {f.flag for f in stat.flags}
    for f in stat.flags:
        if f.flag == "direction_doubtful" and stat.statistic not in COMPARATIVE_STATISTICS:
            raise ValueError(
                f"flags: direction_doubtful is only for comparative statistics "
                f"({', '.join(sorted(COMPARATIVE_STATISTICS))}), not {stat.statistic}"
            )
        if f.flag == "ci_level_doubtful" and stat.ci is None:
            raise ValueError("flags: ci_level_doubtful needs a ci on the statistic")
        if f.flag == "mapping_low_confidence":
            if f.mapping not in (None, "outcome"):
                raise ValueError(
                    "flags: on a statistic, mapping_low_confidence is about its outcome (mapping: outcome)"
                )
            f.check_alternatives("outcome")
        if f.other is not None and f.other == stat.id:
            raise ValueError("flags: other names the statistic itself")
    if stat.derivation != "reported" and "derived_value" not in kinds:
        raise ValueError(
            f"derivation {stat.derivation!r}: a value derived rather than printed needs a derived_value flag"
        )


def check_group_flags(group) -> None:
    """The flags and subgroup_by of one group (extract.schema.Group) fit it."""
    _duplicates(group.flags)
    kinds = {f.flag for f in group.flags}
    for f in group.flags:
        if f.flag not in GROUP_KINDS:
            raise ValueError(
                f"flags: {f.flag} is a flag of a statistic, not of a group (groups: {', '.join(sorted(GROUP_KINDS))})"
            )
        if f.other is not None:
            raise ValueError("flags: other is only for a statistic's flag")
        if f.flag == "mapping_low_confidence":
            mapping = f.mapping or ("oligo_state" if group.oligo_state else "histology")
            if mapping == "outcome" or getattr(group, mapping) is None:
                raise ValueError(
                    f"flags: mapping_low_confidence on a group is about its {mapping}, which the group does not state"
                )
            if not f.alternatives:
                raise ValueError(
                    f"flags: mapping_low_confidence needs alternatives (the {mapping.replace('_', '-')} terms it may be)"
                )
            f.check_alternatives(mapping)
    post = "post_randomisation" in group.subgroup_by
    if post != ("post_randomisation_subgroup" in kinds):
        raise ValueError(
            "a post-randomisation subgroup states both subgroup_by: [post_randomisation] and a "
            "post_randomisation_subgroup flag (with the reason)"
        )
    if len(group.subgroup_by) != len(set(group.subgroup_by)):
        raise ValueError(f"subgroup_by lists a variable twice: {group.subgroup_by}")


def check_report_flag_targets(report) -> None:
    """A flag's `other` names a statistic of this report (or, with slashes, another report's: checked
    across sheets by extract.sheets.cross_check)."""
    ids = {s.id for s in report.statistics}
    for i, stat in enumerate(report.statistics):
        for f in stat.flags:
            if f.other is not None and "/" not in f.other and f.other not in ids:
                raise ValueError(
                    f"statistics[{i}] ({stat.id}).flags: other {f.other!r} is not a statistic of this report"
                )


def group_partitions(group) -> list[str]:
    """What a group is a subgroup by, sorted: its own histology / oligo-state and its subgroup_by."""
    found = set(group.subgroup_by)
    if group.histology:
        found.add("histology")
    if group.oligo_state:
        found.add("oligo_state")
    return sorted(found)
