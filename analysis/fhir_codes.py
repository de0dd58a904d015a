"""The code systems of the FHIR R5 Evidence export (analysis.fhir_export), and small builders of Codings.

Codes are those of HL7 terminology (terminology.hl7.org) that the Evidence-Based Medicine on FHIR
implementation guide (build.fhir.org/ig/HL7/ebm) uses in its Evidence examples: statistic-type (NCI
thesaurus codes), attribute-estimate-type, statistic-model-code, synthesis-type and variable-role. Our own
terms are Codings whose system is the vocabulary's namespace (terms.namespaces) and whose code is the
term's notation, so system + code is the concept's IRI.
"""

from __future__ import annotations

import hashlib
import math
import re
import uuid
from functools import cache
from typing import Any

from analysis.policy_rules import RATIO_STATISTICS
from terms.namespaces import BASE
from terms.vocabulary import SCHEMES, pref_label, resolve, terms

THO = "http://terminology.hl7.org/CodeSystem/"
STATISTIC_TYPE = THO + "statistic-type"
ATTRIBUTE_ESTIMATE_TYPE = THO + "attribute-estimate-type"
STATISTIC_MODEL_CODE = THO + "statistic-model-code"
SYNTHESIS_TYPE = THO + "synthesis-type"
VARIABLE_ROLE = THO + "variable-role"
UCUM = "http://unitsofmeasure.org"
DOI_SYSTEM = "https://doi.org"
PMID_SYSTEM = "https://pubmed.ncbi.nlm.nih.gov"
PUBLICATION_SYSTEM = BASE + "id/pub/"
STATISTIC_SYSTEM = BASE + "id/pub/"  # a figure's statistic_id is a local name under the publication IRIs

#: Our statistic -> (statistic-type code, display). Hazard ratio is comparative; rates are proportions.
STATISTIC_TYPES = {
    "hazard ratio": ("C93150", "Hazard Ratio"),
    "landmark rate": ("C44256", "Proportion"),
    "cumulative incidence": ("C44256", "Proportion"),
    "proportion": ("C44256", "Proportion"),
}

CONFIDENCE_INTERVAL = ("C53324", "Confidence interval")
P_VALUE = ("C44185", "P-value")
COCHRANS_Q = ("0000419", "Cochran's Q statistic")
I_SQUARED = ("0000420", "I-squared")
TAU_SQUARED = ("0000421", "Tau squared")

#: Our tau2 estimators (analysis.tau2.METHODS) -> statistic-model-code.
TAU2_MODEL_CODES = {
    "DL": ("tauDersimonianLaird", "Dersimonian-Laird method"),
    "REML": ("tauRestrictedMaximumLikelihood", "Restricted Maximum Likelihood method"),
    "PM": ("tauPauleMandel", "Paule-Mandel method"),
    "ML": ("tauMaximumLikelihood", "Maximum Likelihood method"),
    "HE": ("tauHedges", "Hedges method"),
    "SJ": ("tauSidikJonkman", "Sidik-Jonkman method"),
    "EB": ("tauEmpiricalBayes", "Empirical Bayes method"),
}
#: Our tests of the pooled estimate -> statistic-model-code.
TEST_MODEL_CODES = {
    "z": ("zTest", "Z-test"),
    "knha": ("hartungKnapp", "Hartung-Knapp adjustment"),
    "adhoc": ("modifiedHartungKnapp", "Modified Hartung-Knapp adjustment"),
}


def coding(system: str, code: str, display: str = "") -> dict[str, str]:
    out = {"system": system, "code": code}
    if display:
        out["display"] = display
    return out


def concept(system: str, code: str, display: str, text: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {"coding": [coding(system, code, display)]}
    if text:
        out["text"] = text
    return out


@cache
def _by_label(scheme: str) -> dict[str, str]:
    """An export label (the prefLabel in lower case) -> the term's notation, for one scheme."""
    return {pref_label(resolve(scheme, term)): term for term in terms(scheme)}


def term_coding(scheme: str, value: str) -> dict[str, str] | None:
    """Our vocabulary term (its notation or its export label) as a Coding: system the scheme's namespace,
    code the notation, display the label. None for an empty value or one the scheme does not hold."""
    if not value:
        return None
    notation = value if value in terms(scheme) else _by_label(scheme).get(value.lower())
    if notation is None:
        return None
    return coding(str(SCHEMES[scheme]._NS), notation, pref_label(resolve(scheme, notation)))


def statistic_type(statistic: str) -> dict[str, Any]:
    """The statistic-type CodeableConcept of our statistic, with our own term beside it."""
    code, display = STATISTIC_TYPES.get(statistic, ("", ""))
    codings = [coding(STATISTIC_TYPE, code, display)] if code else []
    own = term_coding("statistic", statistic)
    codings += [own] if own else []
    return {"coding": codings, "text": statistic}


def is_ratio(statistic: str) -> bool:
    return statistic in RATIO_STATISTICS


def number(value: object) -> float | None:
    """A finite float, or None (NaN, None, '', text that is not a number)."""
    if value is None or value == "":
        return None
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def quantity(value: float, statistic: str) -> dict[str, Any]:
    """A statistic's value: a hazard ratio has no unit; a rate is in percent (UCUM '%')."""
    if is_ratio(statistic):
        return {"value": value}
    return {"value": value, "unit": "%", "system": UCUM, "code": "%"}


_ID_CHARS = re.compile(r"[^A-Za-z0-9\-.]+")


def fhir_id(prefix: str, text: str) -> str:
    """A FHIR id ([A-Za-z0-9-.]{1,64}) from `text`: readable when it fits, else a digest."""
    slug = f"{prefix}-{_ID_CHARS.sub('-', text).strip('-')}"
    if len(slug) <= 64:
        return slug
    return f"{prefix}-{hashlib.sha1(text.encode('utf-8')).hexdigest()[:20]}"


def full_url(resource_type: str, resource_id: str) -> str:
    """A collection Bundle's fullUrl: a urn:uuid, derived from the type and id so that it is stable."""
    return "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"{BASE}fhir/{resource_type}/{resource_id}"))


def reference(resource_type: str, resource_id: str, display: str = "") -> dict[str, str]:
    out = {"reference": full_url(resource_type, resource_id), "type": resource_type}
    if display:
        out["display"] = display
    return out
