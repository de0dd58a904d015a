"""Every pooled analysis as FHIR R5 Evidence (`oligokb export --format fhir`): one collection Bundle.

Shaped after the HL7 Evidence-Based Medicine on FHIR implementation guide (build.fhir.org/ig/HL7/ebm):
per stratum of `analysis.kb_pool.pool_all`, one Evidence (the pooled statistic with its confidence
interval, p-value, tau2, I2 and Cochran's Q as attribute estimates, the number of studies as sample size,
the model as model characteristics, as its ComparativeEvidence and StatisticModel profiles do), one
Evidence per input figure (what entered the pool, with the quote it was read in), EvidenceVariables for the
population (histology, oligo-state), the intervention and comparator and the outcome, and a Citation per
input report (DOI and PMID identifiers) that each Evidence lists in relatedArtifact (derived-from).
Every resource is built with the fhir.resources R5 models, which validate it on construction.
docs/exports.md says which parts of the guide are followed.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from analysis.fhir_codes import (
    ATTRIBUTE_ESTIMATE_TYPE,
    COCHRANS_Q,
    CONFIDENCE_INTERVAL,
    DOI_SYSTEM,
    I_SQUARED,
    P_VALUE,
    PMID_SYSTEM,
    PUBLICATION_SYSTEM,
    STATISTIC_MODEL_CODE,
    STATISTIC_SYSTEM,
    SYNTHESIS_TYPE,
    TAU2_MODEL_CODES,
    TAU_SQUARED,
    TEST_MODEL_CODES,
    VARIABLE_ROLE,
    concept,
    fhir_id,
    full_url,
    is_ratio,
    number,
    quantity,
    reference,
    statistic_type,
    term_coding,
)
from kb.export import cell_text
from terms.namespaces import BASE

if TYPE_CHECKING:
    from fhir.resources.bundle import Bundle

    from analysis.kb_pool import AllPools, KBPool, StratumPool

BUNDLE_FILE = "evidence-bundle.json"
POOLED_SYSTEM = BASE + "fhir/pooled-analysis"
STATUS = "active"


def _text(value: object) -> str:
    return cell_text(value).strip()


def _attribute(code: tuple[str, str], **fields: Any) -> dict[str, Any]:
    return {"type": concept(ATTRIBUTE_ESTIMATE_TYPE, *code), **fields}


def _interval(low: float | None, high: float | None, level: float | None, statistic: str) -> dict[str, Any] | None:
    if low is None or high is None:
        return None
    out = _attribute(CONFIDENCE_INTERVAL, range={"low": quantity(low, statistic), "high": quantity(high, statistic)})
    if level is not None:
        out["level"] = level
    return out


# --- EvidenceVariables ------------------------------------------------------------------------------


def _any_of(codings: list[dict[str, str]], description: str) -> dict[str, Any]:
    """One characteristic: the term itself, or any of several terms (R5 definitionByCombination)."""
    if len(codings) == 1:
        return {"description": description, "definitionCodeableConcept": {"coding": codings}}
    return {
        "description": description,
        "definitionByCombination": {
            "code": "any-of",
            "characteristic": [{"definitionCodeableConcept": {"coding": [c]}} for c in codings],
        },
    }


def _codings(scheme: str, values: list[str]) -> list[dict[str, str]]:
    seen = []
    for value in sorted(set(v for v in values if v)):
        c = term_coding(scheme, value)
        if c is not None and c not in seen:
            seen.append(c)
    return seen


def _variable(kind: str, title: str, characteristics: list[dict[str, Any]]) -> dict[str, Any]:
    key = title + "|" + repr(characteristics)
    resource_id = f"{kind}-{hashlib.sha1(key.encode('utf-8')).hexdigest()[:16]}"
    out: dict[str, Any] = {"resourceType": "EvidenceVariable", "id": resource_id, "status": STATUS, "title": title}
    if characteristics:
        out["characteristic"] = characteristics
    return out


def population_variable(rows: pd.DataFrame) -> dict[str, Any]:
    """The population of a set of figures: any of their histologies and any of their oligo-states."""
    histologies = _codings("histology", rows["histology_id"].tolist())
    states = _codings("oligo_state", rows["oligo_state_id"].tolist())
    parts = []
    if histologies:
        parts.append(_any_of(histologies, "histology"))
    if states:
        parts.append(_any_of(states, "oligo-state"))
    title = "; ".join(
        "/".join(c["display"] for c in group) for group in (histologies, states) if group
    )  # e.g. "non-small cell lung cancer; synchronous oligometastatic disease"
    return _variable("population", f"Patients: {title}" if title else "Patients", parts)


def treatment_variable(labels: list[str]) -> dict[str, Any]:
    codings = _codings("treatment", labels)
    names = sorted(set(v for v in labels if v))
    parts = [_any_of(codings, "treatment")] if codings else []
    return _variable("treatment", " or ".join(names) or "not stated", parts)


def outcome_variable(outcome: str) -> dict[str, Any]:
    codings = _codings("outcome", [outcome])
    return _variable("outcome", outcome, [_any_of(codings, "outcome")] if codings else [])


def _role(code: str, display: str, variable: dict[str, Any]) -> dict[str, Any]:
    return {
        "variableRole": concept(VARIABLE_ROLE, code, display),
        "observed": reference("EvidenceVariable", variable["id"], variable["title"]),
    }


def _variables(rows: pd.DataFrame, statistic: str, outcome: str) -> list[dict[str, Any]]:
    """The EvidenceVariables of a set of figures, in the order population, exposure(s), outcome."""
    out = [population_variable(rows)]
    if is_ratio(statistic):  # comparative: the intervention against its comparator
        out += [treatment_variable(rows["intervention"].tolist()), treatment_variable(rows["comparator"].tolist())]
    else:  # a rate describes one arm: the treatment that arm received
        arm = [
            r["comparator"] if r.get("group_arm_role") == "control" else r["intervention"]
            for r in rows.to_dict("records")
        ]
        out.append(treatment_variable(arm))
    out.append(outcome_variable(outcome))
    return out


def _definitions(variables: list[dict[str, Any]], statistic: str) -> list[dict[str, Any]]:
    roles = [("population", "population"), ("exposure", "exposure")]
    if is_ratio(statistic):
        roles.append(("referenceExposure", "reference exposure"))
    roles.append(("measuredVariable", "measured variable"))
    return [_role(code, display, v) for (code, display), v in zip(roles, variables, strict=True)]


# --- Citations ------------------------------------------------------------------------------------


def citation_resource(pub: dict[Any, Any]) -> dict[str, Any]:
    """A report as a Citation: DOI, PMID and our publication id as identifiers, title, venue, year, the
    page it was identified by (with the date read) and its first author."""
    pub_id = _text(pub.get("publication_id"))
    identifiers = [{"system": PUBLICATION_SYSTEM, "value": pub_id}]
    if _text(pub.get("doi")):
        identifiers.append({"system": DOI_SYSTEM, "value": _text(pub["doi"])})
    if _text(pub.get("pmid")):
        identifiers.append({"system": PMID_SYSTEM, "value": _text(pub["pmid"])})
    artifact: dict[str, Any] = {"identifier": identifiers}
    if _text(pub.get("title")):
        artifact["title"] = [{"text": _text(pub["title"])}]
    form: dict[str, Any] = {}
    if _text(pub.get("venue")):
        form["publishedIn"] = {"title": _text(pub["venue"])}
    year = _text(pub.get("year") or pub.get("publication_year"))
    if year:
        form["publicationDateText"] = year
    if form:
        artifact["publicationForm"] = [form]
    if _text(pub.get("url")):
        artifact["webLocation"] = [{"url": _text(pub["url"])}]
    if _text(pub.get("date_read")):
        artifact["dateAccessed"] = _text(pub["date_read"]) + "T00:00:00Z"
    if _text(pub.get("first_author")):
        artifact["contributorship"] = {
            "complete": False,  # the sheets hold the first author only
            "entry": [{"contributor": {"display": _text(pub["first_author"])}, "rankingOrder": 1}],
        }
    title = _text(pub.get("title")) or pub_id
    return {
        "resourceType": "Citation",
        "id": fhir_id("citation", pub_id),
        "status": STATUS,
        "title": title,
        "citedArtifact": artifact,
    }


def _cites(pub_ids: list[str]) -> list[dict[str, Any]]:
    return [
        {"type": "derived-from", "resourceReference": reference("Citation", fhir_id("citation", p), p)}
        for p in dict.fromkeys(pub_ids)
    ]


# --- Evidence ---------------------------------------------------------------------------------------


_BOUND = re.compile(r"^\s*([<>]=?)\s*(\d*\.?\d+)\s*$")


def _p_value(row: dict[Any, Any]) -> dict[str, Any] | None:
    """The figure's p-value as a Quantity; a published bound ("<0.001") keeps its comparator."""
    exact = number(row.get("p_value"))
    if exact is not None:
        return {"value": exact}
    bound = _BOUND.match(_text(row.get("p_value_as_published")))
    return {"comparator": bound[1], "value": float(bound[2])} if bound else None


def input_evidence(row: dict[Any, Any], pool: KBPool, variables: list[dict[str, Any]]) -> dict[str, Any]:
    """One figure that entered a pool: the value and CI as published, the quote it was read in, and
    what entered the model (yi, its SE and how that SE was obtained)."""
    stat = pool.statistic
    value = number(row.get("value"))
    statistic: dict[str, Any] = {
        "description": (
            f"{_text(row.get('study_label'))}: {stat} {_text(row.get('value'))} as published; entered the pool as "
            f"yi = {float(row['yi']):.6g}, sei = {float(row['vi']) ** 0.5:.6g} "
            f"({'log hazard ratio' if is_ratio(stat) else 'logit of the proportion'}; "
            f"{_text(row.get('derivation_route')) or 'SE as derived by the pooling policy'})"
        ),
        "statisticType": statistic_type(stat),
    }
    if value is not None:
        statistic["quantity"] = quantity(value, stat)
    ci = _interval(number(row.get("ci_low")), number(row.get("ci_high")), number(row.get("ci_level")), stat)
    estimates = [ci] if ci else []
    p_value = _p_value(row)
    if p_value is not None:
        estimates.append(_attribute(P_VALUE, quantity=p_value))
    if estimates:
        statistic["attributeEstimate"] = estimates
    size: dict[str, Any] = {"numberOfStudies": 1}
    if not is_ratio(stat) and number(row.get("n")) is not None:  # a rate's n is its arm's; an HR's n is one arm's only
        size["numberOfParticipants"] = int(float(row["n"]))
    statistic["sampleSize"] = size
    out: dict[str, Any] = {
        "resourceType": "Evidence",
        "id": fhir_id("input", _text(row["statistic_id"])),
        "identifier": [{"system": STATISTIC_SYSTEM, "value": _text(row["statistic_id"])}],
        "status": STATUS,
        "title": f"{_text(row.get('study_label'))}: {pool.outcome}, {stat}",
        "variableDefinition": _definitions(variables, stat),
        "statistic": [statistic],
        "relatedArtifact": _cites([_text(row["publication_id"])]),
    }
    if _text(row.get("source_quote")):
        out["note"] = [{"text": f'{_text(row.get("source_locator"))}: "{_text(row["source_quote"])}"'}]
    design = term_coding("design", _text(row.get("design_class")))
    if design:
        out["studyDesign"] = [{"coding": [design]}]
    return out


def _model(method: str, test: str) -> list[dict[str, Any]]:
    codes = [("metaAnalysis", "Meta-analysis"), ("poolInverseVariance", "Inverse variance method for pooling")]
    if method == "FE":
        codes.append(("effectsFixed", "Fixed-effects"))
    else:
        codes += [("effectsRandom", "Random-effects"), TAU2_MODEL_CODES[method]]
    codes.append(TEST_MODEL_CODES[test])
    return [{"code": concept(STATISTIC_MODEL_CODE, code, display)} for code, display in codes]


def _timepoint(pool: KBPool) -> str:
    return f" at {pool.timepoint_months:g} months" if pool.timepoint_months is not None else ""


def pooled_evidence(
    pool: KBPool, stratum: StratumPool, variables: list[dict[str, Any]], inputs: list[tuple[str, str]]
) -> dict[str, Any]:
    """One stratum's pooled result (the display scale of `oligokb pool`: HR, or percent for a rate)."""
    stat = pool.statistic
    scale = "log hazard ratio" if is_ratio(stat) else "logit"
    pooled = stratum.k >= 2
    estimates = []
    ci = _interval(stratum.ci_low, stratum.ci_high, pool.level, stat)
    if ci:
        estimates.append(ci)
    if pooled:
        if stratum.p_value is not None:
            estimates.append(_attribute(P_VALUE, quantity={"value": stratum.p_value}))
        if stratum.tau2 is not None:
            estimates.append(
                _attribute(TAU_SQUARED, quantity={"value": stratum.tau2}, description=f"on the {scale} scale")
            )
        if stratum.i2 is not None:
            estimates.append(
                _attribute(
                    I_SQUARED,
                    quantity={"value": stratum.i2, "unit": "%", "system": "http://unitsofmeasure.org", "code": "%"},
                )
            )
        if stratum.q is not None:
            q: dict[str, Any] = _attribute(COCHRANS_Q, quantity={"value": stratum.q})
            q["description"] = f"Cochran's Q on {stratum.q_df} degrees of freedom"
            if stratum.q_p is not None:
                q["attributeEstimate"] = [_attribute(P_VALUE, quantity={"value": stratum.q_p})]
            estimates.append(q)
        if stratum.pi_low is not None and stratum.pi_high is not None:
            estimates.append(
                {
                    "type": {"text": "Prediction interval"},
                    "level": pool.level,
                    "range": {"low": quantity(stratum.pi_low, stat), "high": quantity(stratum.pi_high, stat)},
                }
            )
    label = "pooled" if pooled else "single study (not pooled)"
    ci_text = (
        f" ({pool.level:.0%} CI {stratum.ci_low:.4g} to {stratum.ci_high:.4g})"
        if stratum.ci_low is not None and stratum.ci_high is not None
        else ""
    )
    statistic: dict[str, Any] = {
        "description": f"{label} {stat}{_timepoint(pool)} "
        + (f"{stratum.estimate:.4g}" if stratum.estimate is not None else "not pooled")
        + f"{ci_text}, k = {stratum.k}"
        + (f"; {stratum.note}" if stratum.note else ""),
        "statisticType": statistic_type(stat),
        "quantity": quantity(float(stratum.estimate), stat) if stratum.estimate is not None else None,
        "sampleSize": {"numberOfStudies": stratum.k},
        "attributeEstimate": estimates or None,
        "modelCharacteristic": _model(pool.method, pool.test) if pooled else None,
    }
    designs = [c for c in {_text(v) for v in stratum.rows["design_class"]} if c]
    key = f"{pool.outcome} | {stat} | {pool.timepoint_months if pool.timepoint_months is not None else ''} | {stratum.stratum}"
    out: dict[str, Any] = {
        "resourceType": "Evidence",
        "id": fhir_id("pooled", key),
        "identifier": [{"system": POOLED_SYSTEM, "value": key}],
        "status": STATUS,
        "title": f"{pool.outcome}, {stat}{_timepoint(pool)}, {stratum.stratum}: {label} (k = {stratum.k})",
        "description": statistic["description"],
        "synthesisType": concept(
            SYNTHESIS_TYPE,
            *(("std-MA", "summary data meta-analysis") if pooled else ("NotApplicable", "not applicable")),
        ),
        "variableDefinition": _definitions(variables, stat),
        "statistic": [{k: v for k, v in statistic.items() if v is not None}],
        "relatedArtifact": _cites(list(stratum.rows["publication_id"].astype(str)))
        + [
            {"type": "composed-of", "resourceReference": reference("Evidence", i, title)}
            for i, title in dict.fromkeys(inputs)
        ],
    }
    codings = [c for c in (term_coding("design", d) for d in sorted(designs)) if c]
    if codings:
        out["studyDesign"] = [{"coding": [c]} for c in codings]
    return out


# --- the Bundle ------------------------------------------------------------------------------------


def evidence_resources(pools: AllPools, publications: pd.DataFrame) -> list[dict[str, Any]]:
    """Every resource of the export as a dict, each once, in a stable order: per analysis and stratum the
    pooled Evidence, then its inputs' Evidence, then the EvidenceVariables and Citations they use."""
    pubs = {_text(p["publication_id"]): p for p in publications.to_dict("records")}
    evidence: dict[str, dict[str, Any]] = {}
    variables: dict[str, dict[str, Any]] = {}
    citations: dict[str, dict[str, Any]] = {}
    for pool in pools.kb_pools():
        for stratum in pool.pools:
            rows = stratum.rows
            inputs = []
            for row in rows.to_dict("records"):
                one = _variables(pd.DataFrame([row]), pool.statistic, pool.outcome)
                resource = input_evidence(row, pool, one)
                inputs.append((resource["id"], resource["title"]))
                evidence.setdefault(resource["id"], resource)
                variables.update({v["id"]: v for v in one})
                pub_id = _text(row["publication_id"])
                citations.setdefault(pub_id, citation_resource(pubs.get(pub_id, row)))
            mine = _variables(rows, pool.statistic, pool.outcome)
            variables.update({v["id"]: v for v in mine})
            pooled = pooled_evidence(pool, stratum, mine, inputs)
            evidence[pooled["id"]] = pooled
    return [*evidence.values(), *variables.values(), *citations.values()]


def evidence_bundle(pools: AllPools, publications: pd.DataFrame, kb_digest: str = "") -> Bundle:
    """The collection Bundle, every resource validated by its fhir.resources R5 model."""
    from fhir.resources import get_fhir_model_class
    from fhir.resources.bundle import Bundle

    entries = []
    for resource in evidence_resources(pools, publications):
        kind = resource["resourceType"]
        model = get_fhir_model_class(kind).model_validate(resource)  # raises on a resource R5 refuses
        entries.append({"fullUrl": full_url(kind, resource["id"]), "resource": model})
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "collection", "entry": entries}
    if kb_digest:
        bundle["identifier"] = {"system": "urn:ietf:rfc:3986", "value": f"urn:oligokb:kb-sha256:{kb_digest}"}
    return Bundle.model_validate(bundle)


def write_bundle(bundle: Bundle, out_dir: Path) -> Path:
    """DIR/evidence-bundle.json, written whole or not at all."""
    from terms.files import write_atomic

    path = Path(out_dir) / BUNDLE_FILE
    write_atomic(path, bundle.model_dump_json(indent=1, exclude_none=True).encode("utf-8") + b"\n")
    return path


def export_fhir(kb_file: Path, endpoint: str | None, out_dir: Path | None, params: dict[str, str]) -> Path:
    """`oligokb export --format fhir --out DIR`: pool every analysis as `oligokb pool all` does (its
    defaults: REML, z test, 95 %), then write DIR/evidence-bundle.json. Returns the file written."""
    from analysis.errors import InputError
    from analysis.kb_pool import pool_all
    from kb.backend import open_kb
    from kb.cite import selected_publications
    from kb.export import evidence_table

    if out_dir is None:
        raise InputError("the FHIR export is a directory: give --out DIR (it writes DIR/evidence-bundle.json)")
    if params:
        raise InputError("--param filters the csv evidence table only; the FHIR export holds every pooled analysis")
    kb = open_kb(kb_file, endpoint)
    digest = "" if endpoint else hashlib.sha256(Path(kb_file).read_bytes()).hexdigest()
    bundle = evidence_bundle(pool_all(evidence_table(kb)), selected_publications(kb), digest)
    return write_bundle(bundle, out_dir)
