"""Curation flags in the sheets (issue 20): every caveat a note states has its flag, the known cases carry
theirs, and the schema refuses a flag that does not fit what it is on."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from extract.schema import Group, OligoStateMapping, Statistic
from extract.sheets import load_extractions

ROOT = Path(__file__).resolve().parents[1]
EXTRACTIONS = ROOT / "data" / "extractions"

# Words that mark a caveat in a note. A bare "as printed" also says where a benign figure was read ("in years as
# printed"): the caveat is a figure kept although doubtful, "kept / entered / recorded as printed".
CAVEATS = [
    r"cannot be right",
    r"do not pool",
    r"low confidence",
    r"low-confidence",
    r"\bprobabl[ey]\b",
    r"\b(kept|entered|recorded) as printed",
    r"direction (doubtful|unverified)",
    r"misprint is likely",
    r"\bflagged\b",
    r"post-randomi[sz]ation",
    r"known disagreement",
    r"mislabelled by",
    r"\bprefer\b",
]
CAVEAT_RE = re.compile("|".join(CAVEATS), re.IGNORECASE)


def unflagged_caveats(ex) -> list[str]:  # type: ignore[no-untyped-def]
    """Notes and group definitions that state a caveat while the figure (its group, or its study's oligo-state
    mapping) carries no flag."""
    missing = []
    for pid, pub in sorted(ex.publications.items()):
        for report in pub.reports:
            study = ex.studies[report.study]
            mapping_flagged = study.oligo_state.confidence == "low"  # the build flags it (kb.build)
            groups = {g.id: g for g in report.groups}
            # the preferred figure of a duplicate shares its caveat (the flag sits on the other one)
            named = {f.other for s in report.statistics for f in s.flags if f.other}
            for g in report.groups:
                if g.definition and CAVEAT_RE.search(g.definition) and not g.flags:
                    missing.append(f"{pid}/{report.study}/group/{g.id}: {CAVEAT_RE.search(g.definition).group(0)!r}")
            for s in report.statistics:
                if not s.note or not CAVEAT_RE.search(s.note):
                    continue
                flagged = (
                    bool(s.flags)
                    or s.id in named
                    or bool(groups[s.group].flags)
                    or (s.reference_group is not None and bool(groups[s.reference_group].flags))
                )
                words = CAVEAT_RE.search(s.note).group(0)
                if not flagged and not (mapping_flagged and words.lower().startswith("low")):
                    missing.append(f"{pid}/{report.study}/stat/{s.id}: {words!r}")
    return missing


@pytest.fixture(scope="module")
def ex():
    return load_extractions(EXTRACTIONS)


def test_no_caveat_in_a_note_lacks_its_flag(ex):
    assert unflagged_caveats(ex) == []


def test_the_check_fails_when_a_flag_is_removed(ex):
    pub = ex.publications["bourgier2019-canrad"]
    report = next(r for r in pub.reports if r.study == "fode-hoyer2015-sbrt")
    at = [s.id for s in report.statistics].index("os-hr-ps")
    stat = report.statistics[at]
    report.statistics[at] = stat.model_copy(update={"flags": []})
    try:
        assert unflagged_caveats(ex) == ["bourgier2019-canrad/fode-hoyer2015-sbrt/stat/os-hr-ps: 'CANNOT BE RIGHT'"]
    finally:
        report.statistics[at] = stat


def _flags(ex, kind):  # type: ignore[no-untyped-def]
    out = []
    for pid, pub in sorted(ex.publications.items()):
        for report in pub.reports:
            for s in report.statistics:
                out += [(pid, report.study, s.id, f) for f in s.flags if f.flag == kind]
            for g in report.groups:
                out += [(pid, report.study, g.id, f) for f in g.flags if f.flag == kind]
    return out


def test_the_known_cases_carry_their_flags(ex):
    direction = [(p, st, s) for p, st, s, _ in _flags(ex, "direction_doubtful")]
    assert direction == [
        ("bourgier2019-canrad", "fode-hoyer2015-sbrt", s) for s in ("os-hr-ps", "os-hr-number", "os-hr-size")
    ] + [
        ("bourgier2019-canrad", "pembroke2018-omd-opd", s)
        for s in ("os-hr-ps", "pfs-hr-ps", "os-hr-lesions", "pfs-hr-lesions")
    ]
    assert ("tlcr2024-review-table2", "gomez-lct-nsclc", "pfs-hr") in [
        (p, st, s) for p, st, s, _ in _flags(ex, "ci_level_doubtful")
    ]
    (dup,) = _flags(ex, "duplicate_of")
    assert (
        dup[:3] == ("lee2021-clcc", "lee2021-mcrc-mrt", "nes-median-mrt-from-mrt")
        and dup[3].other == "nes-median-mrt-from-chemo"
    )
    post = {(p, s) for p, _, s, _ in _flags(ex, "post_randomisation_subgroup")}
    assert ("gomez2019-jco", "mto-progressed-salvage-lct") in post


def test_every_low_confidence_mapping_names_no_single_state(ex):
    for sid, study in ex.studies.items():
        if study.oligo_state.confidence == "low":
            assert study.oligo_state.mapped in ("unresolved", "mixed"), sid
    for pid, _, gid, flag in _flags(ex, "mapping_low_confidence"):
        if flag.mapping == "outcome":  # a statistic's outcome mapping
            continue
        group = next(g for pub in [ex.publications[pid]] for r in pub.reports for g in r.groups if g.id == gid)
        if (flag.mapping or "oligo_state") == "oligo_state" and group.oligo_state:
            assert group.oligo_state in ("unresolved", "mixed"), (pid, gid)
            assert len(flag.alternatives) >= 2


# --- the schema's rules ---------------------------------------------------------------------------

SOURCE = {"locator": "Table 2", "quote": "median 9.5 months; HR 0.70 (95% CI 0.50-0.98)"}
MEDIAN = {
    "id": "m",
    "outcome": "overall_survival",
    "statistic": "median",
    "group": "g",
    "value": "9.5",
    "unit": "months",
    "source": SOURCE,
}
HR = {
    "id": "h",
    "outcome": "overall_survival",
    "statistic": "hazard_ratio",
    "group": "g",
    "reference_group": "r",
    "value": "0.70",
    "adjusted": False,
    "ci": {"low": "0.50", "high": "0.98", "level": "0.95"},
    "source": SOURCE,
}


def _flag(kind, **extra):  # type: ignore[no-untyped-def]
    return {"flag": kind, "reason": "a reason long enough", **extra}


@pytest.mark.parametrize(
    "stat,flags,message",
    [
        (MEDIAN, [_flag("direction_doubtful")], "only for comparative statistics"),
        (MEDIAN, [_flag("ci_level_doubtful")], "needs a ci"),
        (MEDIAN, [_flag("duplicate_of")], "needs other"),
        (MEDIAN, [_flag("do_not_pool"), _flag("do_not_pool")], "each kind at most once"),
        (MEDIAN, [_flag("do_not_pool", reason="short")], "at least 10 characters"),
        (MEDIAN, [_flag("whatever")], "direction_doubtful"),
        (MEDIAN, [_flag("do_not_pool", alternatives=["synchronous"])], "only for a mapping_low_confidence"),
        (
            MEDIAN,
            [_flag("mapping_low_confidence", alternatives=["no_such_outcome"])],
            "not a term of the outcome vocabulary",
        ),
        (MEDIAN, [_flag("duplicate_of", other="pub/study/x/y")], "<publication>/<study>/stat/<id>"),
        ({**MEDIAN, "derivation": "computed from the Table 2 counts"}, [], "needs a derived_value flag"),
    ],
)
def test_a_flag_that_does_not_fit_is_refused(stat, flags, message):
    with pytest.raises(ValidationError, match=re.escape(message)):
        Statistic.model_validate({**stat, "flags": flags})


def test_flags_that_fit_are_accepted():
    assert Statistic.model_validate({**HR, "flags": [_flag("direction_doubtful"), _flag("ci_level_doubtful")]}).flags
    assert Statistic.model_validate({**MEDIAN, "derivation": "computed", "flags": [_flag("derived_value")]}).flags


GROUP = {"id": "g", "label": "subgroup", "oligo_state": "unresolved", "oligo_state_as_published": "oligo-recurrence"}


@pytest.mark.parametrize(
    "group,message",
    [
        ({**GROUP, "flags": [_flag("direction_doubtful")]}, "a flag of a statistic, not of a group"),
        ({**GROUP, "flags": [_flag("mapping_low_confidence")]}, "needs alternatives"),
        (
            {
                **GROUP,
                "oligo_state": "synchronous",
                "flags": [_flag("mapping_low_confidence", alternatives=["synchronous", "repeat"])],
            },
            "mapped to unresolved",
        ),
        ({**GROUP, "subgroup_by": ["post_randomisation"]}, "post_randomisation_subgroup flag"),
        ({**GROUP, "flags": [_flag("post_randomisation_subgroup")]}, "post_randomisation_subgroup flag"),
        ({**GROUP, "subgroup_by": ["shoe_size"]}, "subgroup_by"),
    ],
)
def test_a_group_flag_that_does_not_fit_is_refused(group, message):
    with pytest.raises(ValidationError, match=re.escape(message)):
        Group.model_validate(group)


def test_a_low_confidence_study_mapping_is_unresolved():
    mapping = {
        "as_published": "x",
        "mapped": "synchronous",
        "rationale": "a rationale here",
        "mapped_by": "test",
        "confidence": "low",
    }
    with pytest.raises(ValidationError, match="mapped to unresolved"):
        OligoStateMapping.model_validate(mapping)
    assert OligoStateMapping.model_validate(
        {**mapping, "mapped": "unresolved", "candidates": ["synchronous", "repeat"]}
    )


def test_cross_sheet_rules(sheets):
    """A flag's other statistic in another publication must exist; a post-randomisation subgroup is no randomised arm."""
    from terms.errors import InputError

    pub = next((sheets / "publications").glob("*.yaml"))
    text = pub.read_text()
    assert "statistics:" in text
    bad = text.replace("statistics:\n", "statistics:\n", 1)
    stat_at = re.search(r"\n(\s*)- id: ([a-z0-9-]+)\n(\s*)outcome:", bad)
    assert stat_at, "a statistic in the fixture sheet"
    indent = stat_at.group(3)
    bad = (
        bad[: stat_at.end(2)]
        + (
            f"\n{indent}flags:\n{indent}  - flag: do_not_pool\n{indent}    reason: a reason long enough\n"
            f"{indent}    other: nowhere/none/stat/x"
        )
        + bad[stat_at.end(2) :]
    )
    pub.write_text(bad)
    with pytest.raises(InputError, match=r"other 'nowhere/none/stat/x' is not a statistic of the knowledge base"):
        load_extractions(sheets)


# --- the export -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def exported():
    import io

    import pandas as pd

    from tests.conftest import run_cli

    out = run_cli("export", "--format", "csv")
    assert out.returncode == 0, out.stderr
    return pd.read_csv(io.StringIO(out.stdout), dtype=str, keep_default_na=False)


def test_the_csv_export_shows_the_flags(exported):
    row = exported[exported["statistic_id"] == "bourgier2019-canrad/fode-hoyer2015-sbrt/stat/os-hr-ps"].iloc[0]
    assert row["flags"] == "direction_doubtful;mapping_low_confidence"  # its own, and its study's mapping (mixed, low)
    assert row["flag_reasons"].startswith("direction_doubtful: HR 0.49 for PS 2-3 vs 0-1")
    assert " | mapping_low_confidence: oligo-state mapping of low confidence (mixed)" in row["flag_reasons"]
    dup = exported[exported["flags"].str.contains("duplicate_of")]
    assert list(dup["statistic_id"]) == ["lee2021-clcc/lee2021-mcrc-mrt/stat/nes-median-mrt-from-mrt"]
    assert "[other: lee2021-clcc/lee2021-mcrc-mrt/stat/nes-median-mrt-from-chemo]" in dup["flag_reasons"].iat[0]
    for flags in exported["flags"]:
        assert flags.split(";") == sorted(set(flags.split(";")))
    gomez = exported[exported["publication_id"] == "tlcr2024-review-table2"]
    assert (
        gomez.loc[gomez["statistic_id"].str.endswith("gomez-lct-nsclc/stat/pfs-hr"), "flags"]
        .iat[0]
        .startswith("ci_level_doubtful")
    )


def test_subgroups_are_marked_and_post_randomisation_ones_are_no_arm(exported):
    subgroup = exported[exported["group_is_subgroup"] == "true"]
    by = {p for text in subgroup["group_subgroup_by"] for p in text.split(";")}
    assert {"sex", "dose", "regimen", "site", "post_randomisation", "histology", "oligo_state"} <= by
    assert (exported.loc[exported["group_is_subgroup"] == "false", "group_subgroup_by"] == "").all()
    post = exported[exported["group_subgroup_by"].str.contains("post_randomisation")]
    assert len(post) == 1 and not post["group_arm_role"].isin(["experimental", "control"]).any()
    male = exported[exported["group"] == "patients, male"]
    assert set(male["group_subgroup_by"]) == {"sex"}


def test_json_ld_carries_the_flags():
    import json

    from tests.conftest import run_cli

    out = run_cli("export", "--format", "jsonld")
    assert out.returncode == 0, out.stderr
    nodes = json.loads(out.stdout)
    nodes = nodes.get("@graph", nodes) if isinstance(nodes, dict) else nodes
    flags = [n for n in nodes if "https://w3id.org/oligokb/ns#CurationFlag" in n.get("@type", [])]
    assert any(n["@id"].endswith("/stat/os-hr-ps/flag/direction_doubtful") for n in flags)
