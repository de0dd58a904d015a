"""RDF namespaces of oligokb, as rdflib DefinedNamespaces with `_fail = True`: a typo is an error.

The vocabulary classes mirror the SKOS concept schemes in terms/vocab/*.ttl (a test asserts they list the
same terms). The ontology namespace OKB mirrors terms/ontology.ttl the same way.
"""

from rdflib import Namespace, URIRef
from rdflib.namespace import DefinedNamespace

BASE = "https://w3id.org/oligokb/"
VOCAB = BASE + "vocab/"
ID = Namespace(BASE + "id/")  # instance data: studies, publications, groups, statistics
SYNTH_ID = Namespace(BASE + "synthetic/id/")  # instance data of `oligokb synth` sheets: never mixed with ID
BIBO = Namespace("http://purl.org/ontology/bibo/")


class CURATION_FLAG(DefinedNamespace):
    """Curation flags (terms/vocab)."""

    _NS = Namespace(VOCAB + "curation-flag/")
    _fail = True

    ci_level_doubtful: URIRef
    derived_value: URIRef
    direction_doubtful: URIRef
    do_not_pool: URIRef
    duplicate_of: URIRef
    mapping_low_confidence: URIRef
    post_randomisation_subgroup: URIRef
    value_doubtful: URIRef


class DESIGN(DefinedNamespace):
    """Study designs (terms/vocab)."""

    _NS = Namespace(VOCAB + "design/")
    _fail = True

    observational: URIRef
    pooled_analysis: URIRef
    prospective_cohort: URIRef
    randomised: URIRef
    rct_phase_2: URIRef
    rct_phase_2_3: URIRef
    rct_phase_3: URIRef
    retrospective_cohort: URIRef
    single_arm_trial: URIRef


class ESTIMATOR(DefinedNamespace):
    """Estimators (terms/vocab)."""

    _NS = Namespace(VOCAB + "estimator/")
    _fail = True

    cox_model: URIRef
    crude: URIRef
    cumulative_incidence_function: URIRef
    fine_gray: URIRef
    kaplan_meier: URIRef
    not_stated: URIRef
    one_minus_kaplan_meier: URIRef


class HISTOLOGY(DefinedNamespace):
    """Histologies (terms/vocab)."""

    _NS = Namespace(VOCAB + "histology/")
    _fail = True

    breast: URIRef
    colorectal: URIRef
    gastric: URIRef
    lung: URIRef
    lung_adenocarcinoma: URIRef
    melanoma: URIRef
    mixed: URIRef
    nsclc: URIRef
    nsclc_alk: URIRef
    nsclc_driver_negative: URIRef
    nsclc_egfr: URIRef
    oesophageal: URIRef
    other: URIRef
    prostate: URIRef
    prostate_castration_resistant: URIRef
    prostate_castration_sensitive: URIRef
    renal_cell: URIRef
    sarcoma: URIRef
    sclc: URIRef
    solid_tumour: URIRef


class OLIGO_STATE(DefinedNamespace):
    """Oligo-states (ESTRO-EORTC 2020) (terms/vocab)."""

    _NS = Namespace(VOCAB + "oligo-state/")
    _fail = True

    de_novo: URIRef
    genuine: URIRef
    induced: URIRef
    induced_oligopersistence: URIRef
    induced_oligoprogression: URIRef
    induced_oligorecurrence: URIRef
    metachronous: URIRef
    metachronous_oligoprogression: URIRef
    metachronous_oligorecurrence: URIRef
    mixed: URIRef
    not_assessed: URIRef
    not_oligometastatic: URIRef
    oligometastatic_disease: URIRef
    repeat: URIRef
    repeat_oligopersistence: URIRef
    repeat_oligoprogression: URIRef
    repeat_oligorecurrence: URIRef
    synchronous: URIRef
    unmappable: URIRef
    unresolved: URIRef


class OUTCOME(DefinedNamespace):
    """Outcomes (terms/vocab)."""

    _NS = Namespace(VOCAB + "outcome/")
    _fail = True

    adt_free_survival: URIRef
    change_of_systemic_therapy: URIRef
    crpc_free_survival: URIRef
    extra_hepatic_recurrence: URIRef
    follow_up: URIRef
    in_field_control: URIRef
    local_control: URIRef
    local_failure: URIRef
    local_failure_free_survival: URIRef
    new_metastasis_free_survival: URIRef
    overall_survival: URIRef
    post_progression_survival: URIRef
    progression: URIRef
    progression_free_survival: URIRef
    response: URIRef
    systemic_treatment_free_survival: URIRef
    time_to_event: URIRef
    time_to_next_line_therapy: URIRef
    toxicity: URIRef
    toxicity_grade_1_2: URIRef
    toxicity_grade_2_plus: URIRef
    toxicity_grade_3_plus: URIRef
    treatment_related_death: URIRef


class PUBLICATION_ROLE(DefinedNamespace):
    """Publication roles (terms/vocab)."""

    _NS = Namespace(VOCAB + "publication-role/")
    _fail = True

    primary: URIRef
    secondary: URIRef


class SOURCE_KIND(DefinedNamespace):
    """Source kinds: what kind of document a report is (terms/vocab/source.ttl)."""

    _NS = Namespace(VOCAB + "source-kind/")
    _fail = True

    conference_abstract: URIRef
    coverage_page: URIRef
    journal_article: URIRef
    registry_results: URIRef
    review: URIRef


class EVIDENCE_TIER(DefinedNamespace):
    """Evidence tiers, best first (terms/vocab/source.ttl)."""

    _NS = Namespace(VOCAB + "evidence-tier/")
    _fail = True

    conference_abstract: URIRef
    coverage_page: URIRef
    registry_results: URIRef
    review: URIRef
    trial_abstract: URIRef
    trial_full_report: URIRef


class STATISTIC(DefinedNamespace):
    """Statistic types (terms/vocab)."""

    _NS = Namespace(VOCAB + "statistic/")
    _fail = True

    comparative: URIRef
    count: URIRef
    cumulative_incidence: URIRef
    descriptive: URIRef
    hazard_ratio: URIRef
    landmark_rate: URIRef
    median: URIRef
    odds_ratio: URIRef
    proportion: URIRef
    subdistribution_hazard_ratio: URIRef
    test_p_value: URIRef


class TIME_ORIGIN(DefinedNamespace):
    """Time origins (terms/vocab)."""

    _NS = Namespace(VOCAB + "time-origin/")
    _fail = True

    diagnosis_of_metastatic_disease: URIRef
    diagnosis_of_oligometastatic_disease: URIRef
    diagnosis_of_primary: URIRef
    disease_progression: URIRef
    end_of_radiotherapy: URIRef
    enrolment: URIRef
    not_stated: URIRef
    randomisation: URIRef
    start_of_current_systemic_therapy: URIRef
    start_of_radiotherapy: URIRef
    start_of_treatment: URIRef


class TREATMENT(DefinedNamespace):
    """Treatments (terms/vocab)."""

    _NS = Namespace(VOCAB + "treatment/")
    _fail = True

    chemotherapy: URIRef
    hormone_therapy: URIRef
    immunotherapy: URIRef
    local_ablative_radiotherapy: URIRef
    local_consolidative_therapy: URIRef
    maintenance_therapy: URIRef
    metastasectomy: URIRef
    metastasis_directed_radiotherapy: URIRef
    metastasis_directed_therapy: URIRef
    observation: URIRef
    sabr: URIRef
    srs: URIRef
    standard_of_care: URIRef
    systemic_therapy: URIRef
    targeted_therapy: URIRef
    thermal_ablation: URIRef


class UNIT_OF_ANALYSIS(DefinedNamespace):
    """Units of analysis (terms/vocab)."""

    _NS = Namespace(VOCAB + "unit-of-analysis/")
    _fail = True

    lesion: URIRef
    patient: URIRef
    unknown: URIRef


class UNIT(DefinedNamespace):
    """Units (terms/vocab)."""

    _NS = Namespace(VOCAB + "unit/")
    _fail = True

    days: URIRef
    months: URIRef
    patients: URIRef
    percent: URIRef
    ratio: URIRef
    weeks: URIRef
    years: URIRef


class ROB_TOOL(DefinedNamespace):
    """Risk-of-bias tools (terms/vocab)."""

    _NS = Namespace(VOCAB + "rob-tool/")
    _fail = True

    rob2: URIRef
    robins_i: URIRef


class ROB_DOMAIN(DefinedNamespace):
    """RoB 2 domains (terms/vocab)."""

    _NS = Namespace(VOCAB + "rob-domain/")
    _fail = True

    deviations: URIRef
    measurement: URIRef
    missing_data: URIRef
    overall: URIRef
    randomisation: URIRef
    reported_result: URIRef


class ROB_JUDGEMENT(DefinedNamespace):
    """Risk-of-bias judgements (terms/vocab)."""

    _NS = Namespace(VOCAB + "rob-judgement/")
    _fail = True

    high: URIRef
    low: URIRef
    not_assessed: URIRef
    some_concerns: URIRef


class OKB(DefinedNamespace):
    """The oligokb ontology (terms/ontology.ttl)."""

    _NS = Namespace(BASE + "ns#")
    _fail = True

    Arm: URIRef
    DomainJudgement: URIRef
    RiskOfBiasAssessment: URIRef
    AssignmentInput: URIRef
    CurationFlag: URIRef
    Group: URIRef
    WebPage: URIRef
    OligoStateAssignment: URIRef
    Publication: URIRef
    Quotation: URIRef
    Statistic: URIRef
    Study: URIRef
    aboutStudy: URIRef
    abstractNumber: URIRef
    alternative: URIRef
    accrualPeriod: URIRef
    adjusted: URIRef
    adjustedFor: URIRef
    answer: URIRef
    assessedBy: URIRef
    assessedOutcome: URIRef
    armRole: URIRef
    basis: URIRef
    candidateState: URIRef
    ciHigh: URIRef
    ciHighAsPublished: URIRef
    ciLevel: URIRef
    ciLow: URIRef
    ciLowAsPublished: URIRef
    comparator: URIRef
    comparatorAsPublished: URIRef
    confidence: URIRef
    congress: URIRef
    covariate: URIRef
    dateRead: URIRef
    derivationMethod: URIRef
    design: URIRef
    estimator: URIRef
    evidenceTier: URIRef
    firstAuthor: URIRef
    flagKind: URIRef
    flagReason: URIRef
    hasFlag: URIRef
    group: URIRef
    hasArm: URIRef
    hasGroup: URIRef
    hasInput: URIRef
    hasDomainJudgement: URIRef
    judgement: URIRef
    notAssessed: URIRef
    riskOfBias: URIRef
    robDomain: URIRef
    robTool: URIRef
    histology: URIRef
    histologyComposition: URIRef
    inStudy: URIRef
    inputName: URIRef
    institution: URIRef
    intervention: URIRef
    interventionAsPublished: URIRef
    locator: URIRef
    mappedBy: URIRef
    n: URIRef
    note: URIRef
    numberInWords: URIRef
    ofArm: URIRef
    oligoState: URIRef
    oligoStateAsPublished: URIRef
    oligoStateAssignment: URIRef
    outcome: URIRef
    otherStatistic: URIRef
    overlapsWith: URIRef
    pValue: URIRef
    pValueAsPublished: URIRef
    pageKind: URIRef
    quote: URIRef
    quotedPublication: URIRef
    quotes: URIRef
    rationale: URIRef
    readIn: URIRef
    referenceGroup: URIRef
    registryId: URIRef
    reportsStudy: URIRef
    role: URIRef
    sourceScope: URIRef
    seedDocument: URIRef
    site: URIRef
    sourceKind: URIRef
    sourceText: URIRef
    statisticType: URIRef
    stratumLevel: URIRef
    subgroupBy: URIRef
    tierRank: URIRef
    timeOrigin: URIRef
    timepointMonths: URIRef
    treatment: URIRef
    treatmentAsPublished: URIRef
    unit: URIRef
    unitOfAnalysis: URIRef
    url: URIRef
    value: URIRef
    valueAsPublished: URIRef
    venue: URIRef
