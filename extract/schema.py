"""Typed schema of the extraction sheets (pydantic). Two kinds of sheet:

- `data/extractions/studies/<study>.yaml`: one study (design, histology, oligo-state mapping, arms);
- `data/extractions/publications/<publication>.yaml`: one publication and every figure it reports, per
  study it reports on (a review reports on many studies).

Every number carries a `source` (locator + verbatim quote containing the number). Numbers arrive as
strings (extract.yaml_io keeps the published lexical form) and become Decimals that remember it.
The same rules are enforced again on the graph by kb/shapes.ttl (SHACL). The value types and checks
(published numbers, p-values, identifier forms, vocabulary terms, numbers in quotes) live in
extract.schema_values and are re-exported here.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import PurePosixPath
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from extract.flags import Flag, Partition, check_group_flags, check_report_flag_targets, check_statistic_flags
from extract.schema_rob import RiskOfBias

# The value types and checks (extract.schema_values): every public name is importable from here as before;
# those the models do not use are re-exported with `as`.
from extract.schema_values import DOI_RE as DOI_RE
from extract.schema_values import (
    IDENTIFIER_FORMS,
    NCT_RE,
    NOT_REACHED,
    Design,
    Estimator,
    Histology,
    OligoState,
    Outcome,
    PublishedNumber,
    Slug,
    StatisticType,
    TimeOrigin,
    Treatment,
    Unit,
    UnitOfAnalysis,
    normalise_ws,
    p_value_number,
    quote_contains,
    words_number,
)
from extract.schema_values import PMID_RE as PMID_RE
from extract.schema_values import SEED_DOCUMENT_RE as SEED_DOCUMENT_RE
from extract.schema_values import SLUG as SLUG
from extract.schema_values import WORD_NUMBER_LANGUAGES as WORD_NUMBER_LANGUAGES
from extract.sources import ReadIn, check_url
from terms import namespaces as ns
from terms.tiers import KIND_ROLES, TIER_RANK, SourceKind, publication_tier
from terms.vocabulary import resolve, top_concept


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def check_number_source(source: Source, field: str, number: Decimal | int) -> None:
    """The quote holds the number: in digits, or in the words named by source.number_in_words."""
    lexical = format(number, "f") if isinstance(number, Decimal) else str(number)
    if source.number_in_words is None:
        if not quote_contains(source.quote, lexical):
            raise ValueError(f"source.quote does not contain {field} = {lexical} as printed")
        return
    words = normalise_ws(source.number_in_words)
    if words.lower() not in normalise_ws(source.quote).lower():
        raise ValueError(f"source.quote does not contain number_in_words {words!r}")
    spelled = words_number(words)
    if spelled is None or Decimal(spelled) != Decimal(number):
        shown = "no whole number" if spelled is None else spelled
        raise ValueError(f"number_in_words {words!r} reads as {shown}, not {field} = {lexical}")


class Source(Strict):
    """Where a figure was read: the locator and a verbatim quote that contains the number."""

    locator: str = Field(min_length=2, max_length=300, description="e.g. 'Table 2', 'Results, para 3', 'Abstract'")
    quote: str = Field(min_length=3, max_length=4000, description="verbatim text containing the number")
    publication: Slug | None = Field(None, description="only in study sheets: the publication the quote is from")
    number_in_words: str | None = Field(
        None,
        min_length=2,
        max_length=100,
        description="when the quote prints the figure's value (or a group's n) in words: those words as printed "
        "('Eighteen', 'trois'); they must be in the quote and read as the number",
    )
    read_in: ReadIn | None = Field(
        None,
        description="the page this figure was read in, when not the report itself (overrides the publication's read_in)",
    )


class StudySheetRef(Strict):
    term: Treatment
    as_published: str = Field(min_length=1, max_length=300)


class AssignmentInput(Strict):
    name: Literal[
        "history_of_polymetastatic_disease",
        "previous_omd_episode",
        "months_from_primary_dx_to_omd_dx",
        "active_systemic_therapy_at_omd_dx",
        "progression_on_current_imaging",
        "number_of_metastases",
        "synchronous_cutoff_months",
    ]
    answer: str = Field(min_length=1, max_length=300)
    source: Source

    @model_validator(mode="after")
    def _source_names_publication(self) -> AssignmentInput:
        if self.source.publication is None:
            raise ValueError("source.publication is required in a study sheet (which publication is the quote from?)")
        return self


# The oligo-states that name no single ESTRO-EORTC state: what a low-confidence mapping is mapped to.
NON_SPECIFIC_STATES = frozenset({"unresolved", "mixed", "unmappable", "not_assessed", "oligometastatic_disease"})


class OligoStateMapping(Strict):
    as_published: str = Field(min_length=1, max_length=300, description="the author's own label, verbatim")
    mapped: OligoState
    candidates: list[OligoState] = Field(default_factory=list)
    rationale: str = Field(min_length=10, max_length=3000)
    mapped_by: str = Field(min_length=2, max_length=200)
    confidence: Literal["low", "moderate", "high"]
    inputs: list[AssignmentInput] = Field(default_factory=list)

    @model_validator(mode="after")
    def _candidates_when_ambiguous(self) -> OligoStateMapping:
        if self.mapped in ("mixed", "unresolved") and len(self.candidates) < 2:
            raise ValueError(f"mapped: {self.mapped} needs at least two candidates (the states it may be or mixes)")
        # docs/curation-flags.md: a mapping of low confidence names no single state; its candidates do.
        if self.confidence == "low" and self.mapped not in NON_SPECIFIC_STATES:
            raise ValueError(
                f"confidence low with mapped: {self.mapped}: a low-confidence mapping is mapped to unresolved "
                f"(or mixed), with the states it may be as candidates (docs/curation-flags.md)"
            )
        return self


class Arm(Strict):
    id: Slug
    label: str = Field(min_length=1, max_length=300, description="the arm's name as published")
    role: Literal["experimental", "control", "single"]
    treatment: Treatment


class Composition(Strict):
    text: str = Field(min_length=3, max_length=1000)
    source: Source


class StudySheet(Strict):
    """data/extractions/studies/<id>.yaml"""

    kind: Literal["study"]
    id: Slug
    label: str = Field(min_length=1, max_length=200)
    design: Design
    histology: Histology
    histology_composition: Composition | None = None
    oligo_state: OligoStateMapping
    intervention: StudySheetRef
    comparator: StudySheetRef | None = None
    registry: list[str] = Field(default_factory=list)
    institution: str | None = Field(None, max_length=300)
    accrual: str | None = Field(None, max_length=100)
    overlaps_with: list[Slug] = Field(default_factory=list)
    arms: list[Arm] = Field(min_length=1)
    note: str | None = Field(None, max_length=3000)
    risk_of_bias: RiskOfBias = Field(default_factory=list, validate_default=True)  # extract.schema_rob

    @field_validator("registry")
    @classmethod
    def _registry_ids(cls, value: list[str]) -> list[str]:
        for rid in value:
            if not NCT_RE.match(rid):
                raise ValueError(f"{rid!r} is not a ClinicalTrials.gov id (NCT followed by 8 digits)")
        return value

    @model_validator(mode="after")
    def _arms(self) -> StudySheet:
        ids = [a.id for a in self.arms]
        if len(ids) != len(set(ids)):
            raise ValueError(f"arm ids must be unique, got {ids}")
        randomised = top_concept(resolve("design", self.design)) == ns.DESIGN.randomised
        roles = {a.role for a in self.arms}
        if randomised and not {"experimental", "control"} <= roles:
            raise ValueError("a randomised study needs an experimental and a control arm")
        if randomised and self.comparator is None:
            raise ValueError("a randomised study needs a comparator")
        return self


class Citation(Strict):
    first_author: str = Field(min_length=2, max_length=200)
    title: str = Field(min_length=3, max_length=500)
    venue: str = Field(min_length=2, max_length=300)
    year: int | None = Field(
        None, ge=1950, le=2100, description="required, except for a seed_document that prints none"
    )
    doi: str | None = None
    pmid: str | None = None
    pmcid: str | None = None
    seed_document: str | None = Field(
        None,
        description="the seed document's own identifier (its file stem in ../shared/seeds/); "
        "the only identifier allowed instead of a DOI or PMID, for a seed whose text prints neither and whose "
        "DOI/PMID could not be read on any page (say where the search is logged in the sheet's note)",
    )

    url: str | None = Field(
        None,
        max_length=1000,
        description="for a report with no DOI, PMID or seed document: the "
        "address of the page that identifies it (with date_read)",
    )
    date_read: dt.date | None = Field(None, description="with url: the date the page was read")
    congress: str | None = Field(None, min_length=3, max_length=300, description="conference abstracts: the meeting")
    abstract_number: str | None = Field(
        None, min_length=1, max_length=40, description="conference abstracts: as printed"
    )

    @field_validator("url")
    @classmethod
    def _url_form(cls, value: str | None) -> str | None:
        return None if value is None else check_url(value)

    @field_validator("doi", "pmid", "seed_document")
    @classmethod
    def _identifier_form(cls, value: str | None, info: ValidationInfo) -> str | None:
        pattern, problem = IDENTIFIER_FORMS[str(info.field_name)]
        if value is not None and not pattern.match(value):
            raise ValueError(f"{value!r} {problem}")
        return value

    @model_validator(mode="after")
    def _identifier(self) -> Citation:
        if self.url is not None and self.date_read is None:
            raise ValueError("url needs date_read: the date the page was read (YYYY-MM-DD)")
        if not self.doi and not self.pmid and not self.seed_document and not self.url:
            raise ValueError(
                "a publication needs a doi or a pmid (or, for a seed document whose text prints neither and "
                "whose identifier no page shows, seed_document: the seed file's stem; or, for a report no "
                "page gives a DOI or PMID for, url and date_read of the page that identifies it)"
            )
        if self.year is None and not self.seed_document:
            raise ValueError("year: Field required (only a seed_document whose text prints no year may leave it out)")
        return self


class Group(Strict):
    """A group as this publication reports it: an arm, the whole cohort, or a subgroup."""

    id: Slug
    label: str = Field(min_length=1, max_length=300)
    arm: Slug | None = Field(None, description="the study arm this group is (or is a subgroup of)")
    n: int | None = Field(None, ge=1, le=10_000_000)
    unit_of_analysis: UnitOfAnalysis = "patient"
    histology: Histology | None = None
    oligo_state: OligoState | None = None
    oligo_state_as_published: str | None = None
    definition: str | None = Field(None, max_length=1000)
    subgroup_by: list[Partition] = Field(
        default_factory=list,
        description="what else the group is a subgroup by: sex, "
        "dose, regimen, site, post_randomisation, ... (its own histology / oligo_state count)",
    )
    flags: list[Flag] = Field(default_factory=list, description="curation flags (extract/flags.py)")
    source: Source | None = None

    @model_validator(mode="after")
    def _flags(self) -> Group:
        check_group_flags(self)
        if (
            any(
                f.flag == "mapping_low_confidence" and (f.mapping or "oligo_state") == "oligo_state" for f in self.flags
            )
            and self.oligo_state not in NON_SPECIFIC_STATES
        ):
            raise ValueError(
                f"oligo_state {self.oligo_state} with a mapping_low_confidence flag: a low-confidence mapping is "
                "mapped to unresolved (or mixed), with the states it may be as the flag's alternatives"
            )
        return self

    @model_validator(mode="after")
    def _n_has_source(self) -> Group:
        if self.n is not None:
            if self.source is None:
                raise ValueError("n needs a source (locator and a quote containing the number)")
            check_number_source(self.source, "n", self.n)
        if self.oligo_state is not None and not self.oligo_state_as_published:
            raise ValueError("oligo_state needs oligo_state_as_published (the author's label for this group)")
        return self


COMPARATIVE = {"hazard_ratio", "subdistribution_hazard_ratio", "odds_ratio"}
TESTS = {"test_p_value"}
RATES = {"landmark_rate", "cumulative_incidence", "proportion"}


class CI(Strict):
    low: PublishedNumber
    high: PublishedNumber | None = Field(None, description="omit or write NR when not reached")
    level: PublishedNumber
    high_as_published: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _not_reached(cls, data: object) -> object:
        if isinstance(data, dict) and isinstance(data.get("high"), str) and data["high"].strip() in NOT_REACHED:
            data = dict(data)
            data["high_as_published"] = data.pop("high").strip()
        return data

    @field_validator("level")
    @classmethod
    def _level(cls, value: Decimal) -> Decimal:
        if value >= 1:
            raise ValueError(f"ci level {value} must be a fraction: write {value / 100} for a {value}% CI")
        if value <= 0:
            raise ValueError(f"ci level {value} must be between 0 and 1 (e.g. 0.95)")
        return value


class Statistic(Strict):
    id: Slug
    outcome: Outcome
    statistic: StatisticType
    group: Slug
    reference_group: Slug | None = None
    value: PublishedNumber
    unit: Unit | None = None
    ci: CI | None = None
    p_value: str | None = Field(None, max_length=20, description="as printed: 0.007, <0.001, 0,03")
    timepoint_months: PublishedNumber | None = None
    time_origin: TimeOrigin = "not_stated"
    unit_of_analysis: UnitOfAnalysis | None = Field(None, description="defaults to the group's")
    estimator: Estimator = "not_stated"
    adjusted: bool | None = None
    covariate: str | None = Field(None, max_length=300)
    adjusted_for: str | None = Field(None, max_length=1000)
    derivation: str = Field("reported", max_length=300)
    source: Source
    note: str | None = Field(None, max_length=2000)
    flags: list[Flag] = Field(default_factory=list, description="curation flags (extract/flags.py)")

    @model_validator(mode="after")
    def _flags(self) -> Statistic:
        check_statistic_flags(self)
        return self

    @field_validator("p_value", mode="before")
    @classmethod
    def _p_text(cls, value: object) -> object:
        return None if value is None else str(value).strip()

    @model_validator(mode="after")
    def _consistent(self) -> Statistic:
        s = self.statistic
        if s in COMPARATIVE:
            if self.reference_group is None:
                raise ValueError(f"a {s} needs reference_group (the arm or category in the denominator)")
            if self.value <= 0:
                raise ValueError(f"a {s} must be > 0, got {self.value}")
            if self.ci is not None and self.ci.low <= 0:
                raise ValueError(f"the CI of a {s} must be > 0, got lower bound {self.ci.low}")
            if self.adjusted is None:
                raise ValueError(f"a {s} needs adjusted: true or false (multivariable or univariable)")
        elif s in TESTS:
            if self.reference_group is None:
                raise ValueError(f"a {s} needs reference_group (the other group of the test)")
            if not (0 <= self.value <= 1):
                raise ValueError(f"a {s} is a p-value within 0-1, got {self.value}")
        elif self.reference_group is not None:
            raise ValueError(f"reference_group is only for comparative statistics, not {s}")
        if self.reference_group is not None and self.reference_group == self.group:
            raise ValueError("reference_group must differ from group")
        if s in RATES:
            if self.unit not in ("percent", None):
                raise ValueError(f"a {s} is in percent as published; unit must be percent")
            if not (0 <= self.value <= 100):
                raise ValueError(f"a rate in percent must be within 0-100, got {self.value}")
        if s in ("landmark_rate", "cumulative_incidence") and self.timepoint_months is None:
            raise ValueError(f"a {s} needs timepoint_months (e.g. 24 for a 2-year rate)")
        if s == "median" and self.unit not in ("months", "weeks", "years", "days"):
            raise ValueError("a median needs its unit as published: months, weeks, years or days")
        if self.ci is not None:
            if self.ci.low > self.value:
                raise ValueError(f"the CI lower bound {self.ci.low} is above the value {self.value}")
            if self.ci.high is not None and self.ci.high < self.value:
                raise ValueError(f"the CI upper bound {self.ci.high} is below the value {self.value}")
            if s in RATES and self.ci.high is not None and self.ci.high > 100:
                raise ValueError(f"the CI upper bound {self.ci.high} of a rate is above 100 %")
        if self.p_value is not None:
            exact = p_value_number(self.p_value)
            if exact is None and not re.fullmatch(r"[<>≤≥]=?\s*0?[.,]\d+|NS|ns", self.p_value):
                raise ValueError(f"p_value {self.p_value!r} is neither a number nor an inequality like <0.001")
            if exact is not None and not (0 <= exact <= 1):
                raise ValueError(f"p_value {self.p_value} must be within 0-1")
        # The quote must contain every number taken from it (the value may be printed in words).
        check_number_source(self.source, "value", self.value)
        if self.ci is not None:
            for field, bound in (("ci.low", self.ci.low), ("ci.high", self.ci.high)):
                if bound is not None and not quote_contains(self.source.quote, format(bound, "f")):
                    raise ValueError(f"source.quote does not contain {field} = {format(bound, 'f')} as printed")
        return self


class Quotes(Strict):
    """Which report of the study a secondary report's figures come from (its data cut): read in the
    secondary report's reference list (a source with the reference entry), or inferred (with the reason)."""

    publication: Slug = Field(description="the quoted publication's sheet id (a report of the same study)")
    basis: Literal["reference list", "inferred"]
    source: Source | None = Field(
        None, description="for basis 'reference list': the citation and reference entry, verbatim"
    )
    reason: str | None = Field(
        None, min_length=10, max_length=1000, description="for basis 'inferred': why this report"
    )

    @model_validator(mode="after")
    def _basis(self) -> Quotes:
        if self.basis == "reference list" and self.source is None:
            raise ValueError("basis 'reference list' needs source: the reference entry as printed (locator and quote)")
        if self.basis == "inferred" and not self.reason:
            raise ValueError("basis 'inferred' needs reason: what identifies the quoted report")
        return self


class Report(Strict):
    """The figures one publication reports about one study."""

    study: Slug
    role: Literal["secondary"] | None = Field(
        None,
        description="secondary: in a primary report, its claims about another study (a cohort paper's discussion "
        "quoting a trial); they are exported, tiered and pooled as a review's",
    )
    quotes: Quotes | None = Field(
        None, description="secondary reports only: the study's report these figures come from"
    )
    groups: list[Group] = Field(min_length=1)
    statistics: list[Statistic] = Field(default_factory=list)
    left_out: list[str] = Field(default_factory=list, description="figures deliberately not extracted, with the reason")

    @model_validator(mode="after")
    def _references(self) -> Report:
        group_ids = [g.id for g in self.groups]
        dupes = {g for g in group_ids if group_ids.count(g) > 1}
        if dupes:
            raise ValueError(f"duplicate group ids {sorted(dupes)}")
        stat_ids = [s.id for s in self.statistics]
        dupes = {s for s in stat_ids if stat_ids.count(s) > 1}
        if dupes:
            raise ValueError(f"duplicate statistic ids {sorted(dupes)}")
        for i, stat in enumerate(self.statistics):
            for field in ("group", "reference_group"):
                gid = getattr(stat, field)
                if gid is not None and gid not in group_ids:
                    raise ValueError(
                        f"statistics[{i}] ({stat.id}).{field}: {gid!r} is not a group of this report; groups: {group_ids}"
                    )
        check_report_flag_targets(self)
        return self


class PublicationSheet(Strict):
    """data/extractions/publications/<id>.yaml"""

    kind: Literal["publication"]
    id: Slug
    citation: Citation
    source_kind: SourceKind = Field(
        description="journal article | conference abstract | registry results | review | coverage page"
    )
    role: Literal["primary", "secondary"]
    source_scope: Literal["full text", "abstract", "full text, partly missing", "conference abstract", "news report"]
    source_text: str | None = Field(None, description="path of a plain-text copy the quotes can be checked against")
    supersedes: list[Slug] = Field(default_factory=list)
    duplicate_record_of: Slug | None = Field(
        None,
        description="the publication sheet this one shares its DOI or PMID with on purpose (the same record "
        "extracted twice, e.g. for two of its studies); without it two sheets of one DOI or PMID are refused",
    )
    read_in: ReadIn | None = Field(None, description="the page the figures were read in, when not the report itself")
    tier: str | None = Field(None, description="optional: the tier the kind gives (checked, never typed instead of it)")
    reports: list[Report] = Field(min_length=1)
    note: str | None = Field(None, max_length=3000)

    @model_validator(mode="after")
    def _kind_role_tier(self) -> PublicationSheet:
        role = KIND_ROLES[self.source_kind]
        if self.role != role:
            raise ValueError(
                f"source_kind {self.source_kind!r} is a {role} report, but role is {self.role!r} "
                "(a trial's own journal article, conference abstract or registry results is primary; "
                "a review or coverage page is secondary)"
            )
        if self.source_kind != "journal article" and self.source_scope in ("full text", "full text, partly missing"):
            if self.source_kind in ("conference abstract", "coverage page"):
                raise ValueError(f"source_scope {self.source_scope!r} does not fit source_kind {self.source_kind!r}")
        if self.tier is not None:
            tier = publication_tier(self.source_kind, self.source_scope)
            if self.tier not in TIER_RANK:
                raise ValueError(f"tier {self.tier!r} is not a tier; tiers: {', '.join(TIER_RANK)}")
            if self.tier != tier:
                raise ValueError(
                    f"tier {self.tier!r} contradicts source_kind {self.source_kind!r} "
                    f"(source_scope {self.source_scope!r}), whose tier is {tier!r}; "
                    "leave tier out: it follows from the kind"
                )
        return self

    @model_validator(mode="after")
    def _quotes_only_in_secondary(self) -> PublicationSheet:
        for r, report in enumerate(self.reports):
            if report.quotes is not None and self.role != "secondary" and report.role != "secondary":
                raise ValueError(
                    f"reports[{r}].quotes: only a secondary report quotes another report of the study "
                    "(in a primary publication, mark its claims about another study with role: secondary)"
                )
        return self

    @model_validator(mode="after")
    def _seed_text(self) -> PublicationSheet:
        # The seed identifier is only as good as the text the quotes are checked against: they must agree.
        seed = self.citation.seed_document
        if seed is not None and (self.source_text is None or PurePosixPath(self.source_text).name != f"{seed}.txt"):
            raise ValueError(
                f"citation.seed_document {seed!r} needs source_text naming that seed's file ({seed}.txt), "
                f"got {self.source_text!r}"
            )
        return self
