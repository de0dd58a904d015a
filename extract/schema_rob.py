"""The risk-of-bias block of a study sheet (`risk_of_bias:`, docs/extraction-sheets.md "Risk of bias").

One assessment per outcome: Cochrane RoB 2 for a randomised trial (five domains and the overall, each a
judgement resting on a verbatim quote from a report of the trial or on the curators' stated reason), or,
for a non-randomised study, ROBINS-I marked not assessed with the reason. extract.schema adds the field to
StudySheet; extract.sheets checks that a quoted publication exists (rob_sources).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from extract.schema_values import Slug, _check_term
from terms import namespaces as ns
from terms.vocabulary import resolve, top_concept

if TYPE_CHECKING:
    from extract.schema import Source, StudySheet

#: The RoB 2 domains a sheet judges, in the tool's order (kb.rob.ROB2_DOMAINS without "overall").
ROB2_JUDGED = ("randomisation", "deviations", "missing_data", "measurement", "reported_result")
#: Worst first: the overall judgement is the worst domain judgement (RoB 2's rule).
SEVERITY = {"low": 0, "some_concerns": 1, "high": 2}
#: The outcome of an assessment that covers every outcome (a ROBINS-I not assessed).
ALL_OUTCOMES = "all"

Judgement = Literal["low", "some_concerns", "high"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class DomainJudgement(_Strict):
    """One domain: the judgement and what it rests on (a verbatim quote with its report and locator, a
    stated reason, or both)."""

    judgement: Judgement
    quote: str | None = Field(None, min_length=3, max_length=4000, description="verbatim, from the report")
    publication: Slug | None = Field(None, description="the publication sheet the quote was read in")
    locator: str | None = Field(None, min_length=2, max_length=300, description="where in that report")
    reason: str | None = Field(None, min_length=10, max_length=2000, description="the curators' stated reason")

    @model_validator(mode="after")
    def _support(self) -> DomainJudgement:
        quoted = [f for f in ("quote", "publication", "locator") if getattr(self, f) is not None]
        if quoted and len(quoted) < 3:
            missing = sorted({"quote", "publication", "locator"} - set(quoted))
            raise ValueError(f"a quote needs quote, publication and locator together; missing {', '.join(missing)}")
        if not quoted and self.reason is None:
            raise ValueError(
                "a judgement rests on a verbatim quote (quote, publication, locator) or a stated reason: add one"
            )
        return self

    def source(self) -> Source | None:
        """The quote as a figure's Source (the same checks and graph shape as every other quote)."""
        if self.quote is None:
            return None
        from extract.schema import Source  # extract.schema imports this module

        return Source.model_validate({"locator": self.locator, "quote": self.quote, "publication": self.publication})


class RoB2Domains(_Strict):
    randomisation: DomainJudgement
    deviations: DomainJudgement
    missing_data: DomainJudgement
    measurement: DomainJudgement
    reported_result: DomainJudgement
    overall: DomainJudgement

    @model_validator(mode="before")
    @classmethod
    def _known_domains(cls, data: object) -> object:
        # One error for a misnamed domain (not "field required" plus "extra input").
        unknown = sorted(set(data) - {*ROB2_JUDGED, "overall"}) if isinstance(data, dict) else []
        if unknown:
            raise ValueError(
                f"{', '.join(map(str, unknown))}: not a RoB 2 domain; the domains are "
                f"{', '.join(ROB2_JUDGED)} and overall (terms/vocab/risk_of_bias.ttl)"
            )
        return data

    @model_validator(mode="after")
    def _overall_is_worst(self) -> RoB2Domains:
        judged = {d: getattr(self, d).judgement for d in ROB2_JUDGED}
        worst = max(judged.values(), key=SEVERITY.__getitem__)
        if self.overall.judgement != worst:
            shown = ", ".join(f"{d} {j}" for d, j in judged.items())
            raise ValueError(
                f"overall.judgement {self.overall.judgement} contradicts the domains ({shown}): RoB 2's overall is "
                f"low only if every domain is low, high if any is high, else some_concerns; write {worst}"
            )
        return self

    def items(self) -> list[tuple[str, DomainJudgement]]:
        """(domain, judgement) in the tool's order, overall last."""
        return [(d, getattr(self, d)) for d in (*ROB2_JUDGED, "overall")]


class RiskOfBiasAssessment(_Strict):
    """RoB 2 of one outcome, or a ROBINS-I not assessed (outcome: all)."""

    outcome: str = Field(description="an outcome notation (terms/vocab/outcome.ttl), or all")
    tool: Literal["rob2", "robins_i"]
    assessed_by: str | None = Field(None, min_length=2, max_length=200)
    domains: RoB2Domains | None = None
    not_assessed: str | None = Field(None, min_length=10, max_length=2000, description="why no domain was judged")

    @field_validator("outcome")
    @classmethod
    def _outcome(cls, value: str) -> str:
        if value != ALL_OUTCOMES:
            _check_term("outcome", value)
        return value

    @model_validator(mode="after")
    def _tool(self) -> RiskOfBiasAssessment:
        if self.tool == "rob2":
            if self.domains is None:
                raise ValueError(
                    "tool rob2 needs domains: randomisation, deviations, missing_data, measurement, "
                    "reported_result and overall"
                )
            if self.outcome == ALL_OUTCOMES:
                raise ValueError("RoB 2 judges one outcome: write its notation (overall_survival, ...), not all")
            if self.not_assessed is not None:
                raise ValueError("not_assessed is for an assessment without domains; remove it or the domains")
            if self.assessed_by is None:
                raise ValueError("tool rob2 needs assessed_by: who made the judgements")
        elif self.domains is not None or self.not_assessed is None:
            raise ValueError(
                'tool robins_i: ROBINS-I domains are not supported yet; write not_assessed: "ROBINS-I not assessed: '
                '<reason>" and no domains'
            )
        return self


def _check_assessments(value: list[RiskOfBiasAssessment], info: ValidationInfo) -> list[RiskOfBiasAssessment]:
    outcomes = [(a.outcome, a.tool) for a in value]
    dupes = sorted({f"{o} ({t})" for o, t in outcomes if outcomes.count((o, t)) > 1})
    if dupes:
        raise ValueError(f"one assessment per outcome and tool; twice: {', '.join(dupes)}")
    design = info.data.get("design")
    if design is None:  # the design itself failed validation, and says so
        return value
    randomised = top_concept(resolve("design", design)) == ns.DESIGN.randomised
    tools = {a.tool for a in value}
    if randomised and "rob2" not in tools:
        raise ValueError(
            f"a randomised study (design {design}) needs risk_of_bias: a RoB 2 assessment (tool: rob2) of each "
            "outcome it has figures on (docs/extraction-sheets.md, Risk of bias)"
        )
    if not randomised and "rob2" in tools:
        raise ValueError(f"RoB 2 is for randomised trials; a {design} study takes tool: robins_i")
    return value


#: The StudySheet field's type: the assessments, checked against the sheet's design (declared before it).
RiskOfBias = Annotated[list[RiskOfBiasAssessment], AfterValidator(_check_assessments)]


def rob_sources(study: StudySheet) -> list[tuple[str, Source]]:
    """Every quote of the study's risk-of-bias block, with its field path (for the cross-sheet checks)."""
    out = []
    for a, assessment in enumerate(study.risk_of_bias):
        if assessment.domains is None:
            continue
        for domain, judged in assessment.domains.items():
            source = judged.source()
            if source is not None:
                out.append((f"risk_of_bias[{a}].domains.{domain}", source))
    return out
