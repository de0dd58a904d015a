"""The evidence-table export contract.

`oligokb export --format csv` writes one row per statistic with these columns, first and in this
order; the analysis layer, other tools and acceptance tests read it. Columns after
EVIDENCE_COLUMNS are extras (stable names, may grow at the end).

Conventions: labels are vocabulary prefLabels in lower case ("hazard ratio", "overall survival");
`ci_level` is a fraction (0.95); rates are in percent as published; times in months; `value`,
`ci_low`, `ci_high` keep the published lexical form ("0.70" stays "0.70").
"""

EVIDENCE_COLUMNS: tuple[str, ...] = (
    "study_id",
    "study_label",
    "design",
    "histology",
    "oligo_state",
    "oligo_state_as_published",
    "intervention",
    "comparator",
    "publication_id",
    "publication_role",  # "primary" | "secondary"
    "supersedes",  # publication ids this report supersedes, ";"-separated
    "outcome",
    "outcome_time_origin",
    "statistic",
    "group",  # the group the figure describes (for a comparison: the non-reference group)
    "comparison",  # "<group> vs <reference>" for comparative statistics (hazard ratios), else empty
    "n",
    "timepoint_months",
    "value",
    "unit",
    "ci_low",
    "ci_high",
    "ci_level",
    "p_value",
    "adjusted",  # "true" | "false" | empty when not applicable
    "source_locator",
    "source_quote",
)

EXTRA_COLUMNS: tuple[str, ...] = (
    "statistic_id",  # stable id of the figure (IRI local name)
    "reference_group",  # the reference arm of a comparison (denominator of an HR)
    "unit_of_analysis",  # "patient" | "lesion" | "unknown"
    "estimator",  # e.g. "kaplan-meier", "cumulative incidence function", "cox model", "crude proportion"
    "design_class",  # "randomised" | "observational" | "pooled analysis"
    "publication_year",
    "doi",
    "pmid",
    "source_scope",  # "full text" | "abstract" | ...
    "derivation",  # e.g. "reported"
    "p_value_as_published",  # e.g. "<0.001"
    "covariate",  # for regression coefficients: the covariate, e.g. "per additional lesion"
    "overlaps_with",  # study ids whose patients this study contains (pooled analyses), ";"-separated
    "histology_id",
    "oligo_state_id",
    "outcome_id",
    "statistic_type_id",
    "group_arm_role",  # role of the group's study arm: "experimental" | "control" | "single" | "" (not an arm)
    "reference_arm_role",  # same for the reference group of a comparison
    "group_is_subgroup",  # "true" for every subgroup (its own histology or oligo-state, or a subgroup_by in the sheet)
    "group_subgroup_by",  # what it partitions by, sorted, ";"-separated: histology, oligo_state, sex, age, dose, regimen, site, ...
    "group_arm_id",  # the study arm the group is (or is a subgroup of): matches groups across reports
    "reference_arm_id",  # same for the reference group
    "reference_n",  # n of the reference group as that publication reports it
    "seed_document",  # a seed document's own identifier where no DOI or PMID could be read (see publication notes)
    "quotes_publication",  # secondary reports: the study's report these figures come from (their data cut)
    "quotes_basis",  # "reference list" (read there) | "inferred" (see the sheet's reason) | empty
    "quotes_publication_year",  # the year of that report: the data cut's year
    "source_kind",  # "journal article" | "conference abstract" | "registry results" | "review or meta-analysis" | "coverage page"
    "evidence_tier",  # where the figure was read, best first: "trial's own full report", "trial's own abstract",
    #                   "conference abstract", "registry results", "review or meta-analysis", "coverage page"
    "evidence_tier_id",  # its notation: trial_full_report ... coverage_page
    "tier_rank",  # 1 (the trial's own full report) ... 6 (a coverage page)
    "read_in_url",  # the page the figure was read in, when not the report itself
    "read_in_site",
    "read_in_title",
    "read_in_date",  # YYYY-MM-DD, the date the page was read
    "publication_url",  # a report no DOI, PMID or seed document was read for: the page that identifies it
    "publication_date_read",  # and the date that page was read
    "flags",  # curation flags (docs/curation-flags.md): notation codes, sorted, ";"-separated, e.g. "direction_doubtful"
    "flag_reasons",  # each flag's "code: reason [other: <statistic_id>]", sorted, " | "-separated
)

ALL_COLUMNS: tuple[str, ...] = EVIDENCE_COLUMNS + EXTRA_COLUMNS
