"""A study sheet's risk-of-bias block -> rows of the graph (called from kb.build's study rows).

IRIs from sheet ids only, so the output is deterministic: `<study>/rob/<outcome>-<tool>` for an
assessment (outcome `all` for one that covers every outcome) and `<assessment>/domain/<domain>` for a
domain judgement. A quote is a prov:qualifiedDerivation like every figure's (kb.build's source rows).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from extract.schema import Source, StudySheet
from extract.schema_rob import ALL_OUTCOMES
from terms.namespaces import OKB
from terms.vocabulary import resolve

_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"

#: kb.build's source rows: (rows, node, publication IRI, source) -> the node's derivation triples.
SourceRows = Callable[[Any, str, str, Source], None]


def rob_rows(t: Any, study: StudySheet, s: str, base: str, source_rows: SourceRows) -> None:
    """The study's assessments on `t` (kb.build's rows: .iri, .plain, .opt), from study node `s`."""
    for assessment in study.risk_of_bias:
        a = f"{s}/rob/{assessment.outcome}-{assessment.tool}"
        t.iri(s, str(OKB.riskOfBias), a)
        t.iri(a, _TYPE, str(OKB.RiskOfBiasAssessment))
        t.iri(a, str(OKB.robTool), str(resolve("rob_tool", assessment.tool)))
        if assessment.outcome != ALL_OUTCOMES:
            t.iri(a, str(OKB.assessedOutcome), str(resolve("outcome", assessment.outcome)))
        t.opt(a, str(OKB.assessedBy), assessment.assessed_by)
        t.opt(a, str(OKB.notAssessed), assessment.not_assessed)
        if assessment.domains is None:
            continue
        for domain, judged in assessment.domains.items():
            d = f"{a}/domain/{domain}"
            t.iri(a, str(OKB.hasDomainJudgement), d)
            t.iri(d, _TYPE, str(OKB.DomainJudgement))
            t.iri(d, str(OKB.robDomain), str(resolve("rob_domain", domain)))
            t.iri(d, str(OKB.judgement), str(resolve("rob_judgement", judged.judgement)))
            t.opt(d, str(OKB.rationale), judged.reason)
            source = judged.source()
            if source is not None:
                source_rows(t, d, f"{base}pub/{source.publication}", source)
