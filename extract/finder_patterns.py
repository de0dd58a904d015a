"""The statistic finder's regular expressions and number parsing (used by extract.finder).

Everything here reads the text as printed: a number in digits or words (`NUM`, `WORDNUM`, `number`), a CI
with or without its level (`CI_RE`, `BARE_CI_RE`, `ci_bound`), a ratio's name and value (`RATIO_RE`), a p
as printed (`P_RE`), time points, units and the cues around a figure (counts, limits, medians, groups,
adjustment). extract.finder decides with them which figures are mentions; these patterns hold no rule
about that. Its public names are re-exported by extract.finder, where callers import them from.
"""

from __future__ import annotations

import re

# A number as printed: 8.4, 8·4, 0,57, .001, 12 (thousands separators are not decimals: see number).
NUM = r"(?:\d+(?:[.,·]\d+)?|[.,]\d+)"
_WORD_UNITS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|"
    "seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|"
    "un|une|deux|trois|quatre|cinq|sept|huit|neuf|dix|onze|douze|treize|quatorze|quinze|seize|vingt|"
    "trente|quarante|cinquante|soixante|cent"
)
WORDNUM = rf"(?:(?:{_WORD_UNITS})(?:(?:-|\s+|\s+and\s+|-et-|\s+et\s+)(?:{_WORD_UNITS}))*)"
NUMBER_RE = re.compile(rf"(?<![\w·])(?:{NUM})(?![\w·]|[.,]\d)|\b{WORDNUM}\b", re.IGNORECASE)
DASH = r"\s*(?:-|–|—|‒|−|\bto\b|\bà\b)\s*"
TIME_UNIT = r"(?:months?|mo\b|mos\b|years?|yrs?\b|weeks?|wks?\b|days?|mois|ans?\b|années?|semaines?|jours?)"
PCT = r"\s?(?:%|per\s?cent\b|pour\s?cent\b)"
NR = r"(?:not\s+reached|NR|non\s+atteinte?)"
LEVEL = r"(?P<level>\d{2}(?:[.,·]\d+)?)\s?%\s*(?:CI|C\.I\.|confidence\s+intervals?|IC|CrI|credible\s+interval)\b(?:\s*[\[(]\s*CI\s*[\])])?"
LEVEL_FR = r"IC\s*(?:à\s*)?(?P<level2>\d{2})\s?%"
BOUND = rf"(?:{NUM}|{NR})"
CI_RE = re.compile(
    rf"(?:{LEVEL}|{LEVEL_FR})\s*(?:[:=,]|of|was|were)?\s*[\[(]?\s*(?P<low>{BOUND})(?:{PCT})?\s*(?:{TIME_UNIT})?"
    rf"(?:{DASH}|\s*,\s*|\s*;\s*)(?P<high>{BOUND})(?:{PCT})?",
    re.IGNORECASE,
)
# Bounds printed without a level, right after a value: "21.8 months (16.1–27.6)", "HR 0.43, 0.23–0.83".
BARE_CI_RE = re.compile(rf"\s*(?:[(\[]|,|;)\s*(?P<low>{NUM}){DASH}(?P<high>{BOUND})\s*(?=[)\],;])", re.IGNORECASE)
RATIO_RE = re.compile(
    r"(?P<name>\b(?:(?:adjusted|pooled|univariable|multivariable)\s+)?(?:subdistribution\s+)?(?:hazard|odds|risk)\s+ratios?\b"
    r"|\brelative\s+risk\b|(?<![\w-])(?-i:[asS]?(?:HR|OR|RR))\b)(?!\s*[-/])"
    r"(?P<gap>(?:\s*[\[(]\s*(?-i:[asS]?(?:HR|OR|RR))\s*[\])])?[^\d.;!?<>≤≥⩽⩾]{0,45}?)"
    r"(?P<value>(?<![\w·])\d+(?:[.,·]\d+)?)(?![\w·%])",
    re.IGNORECASE,
)
P_RE = re.compile(
    rf"(?<![\w-])(?:(?:1|2|one|two)-sided\s+)?(?:(?:stratified\s+)?log-?rank\s+)?(?:(?:1|2|one|two)-sided\s+)?[Pp](?:\s*-?\s*values?)?\s*"
    rf"(?P<op>=|<|>|≤|≥|⩽|⩾|<=|>=|of)\s*(?P<num>{NUM})(?![\w·])"
)
P_THRESHOLD_BEFORE = re.compile(
    r"(?:α|alpha|𝝰|threshold|significance level|wherein|considered|defined)\W*(?:\w+\W+){0,3}$", re.IGNORECASE
)
P_THRESHOLD_AFTER = re.compile(
    r"^\W{0,3}(?:indicates?|was considered|were considered|deemed|is considered|denotes?)", re.IGNORECASE
)
TIMEPOINT_RE = re.compile(
    rf"\b(?P<n>{NUM}|{WORDNUM})(?:\s*(?:,\s*and|,|and|or|/|[-‐‑])\s*(?:{NUM}|{WORDNUM}))*\s*(?:[-‐‑]\s*(?P<u>years?|months?|yrs?|an|ans|mois)\b(?!\s*(?:follow|of follow))"
    rf"|\s(?P<ub>years?|yrs?)\s+(?=(?:OS|PFS|DFS|LC|overall|progression|local|disease|survival|rates?|cumulative|incidence)\b))"
    rf"|\b(?:at|after)\s+(?P<n2>{NUM}|{WORDNUM})(?:\s*(?:years?|months?))?(?:\s*(?:,\s*and|,|and|-|–)\s*(?:{NUM}|{WORDNUM})(?:\s*(?:years?|months?)(?=\s*(?:,|and)))?)*\s*(?P<u2>years?|months?|yrs?)\b"
    rf"|\b[àa]\s+(?P<n3>{NUM}|un|deux|trois|cinq)(?:\s+et\s+{NUM})?\s+(?P<u3>ans?|mois)\b",
    re.IGNORECASE,
)
COUNT_NOUN = (
    r"(?:patients?|participants?|men|women|subjects?|cases?|deaths?|events?|lesions?|metastases|instances|"
    r"persons?|individuals|children|adults|tumou?rs|nodules|males?|females?|procedures|operations|resections|hommes|femmes|patientes?|métastases|metastases|récidives|décès|cas|malades|sujets)"
)
COUNT_AFTER = re.compile(rf"^\s+(?:(?:[A-Z][\w’'-]*|[–-])\s+){{0,3}}(?:(?i:[a-zé’'-]+)\s+){{0,2}}?(?i:{COUNT_NOUN})\b")
COUNT_VERB = re.compile(
    r"^\s+(?:received|presented|underwent|developed|died|experienced|were\s+(?:randomi[sz]ed|treated|assigned|enrolled)|"
    r"randomi[sz]ed|traité(?:e)?s|traitees|with\s+(?:synchronous|metachronous)|(?:were|was)\s+(?:male|female|men|women))\b",
    re.IGNORECASE,
)
COUNT_BEFORE = re.compile(r"(?:\bn\s*=\s*|\bof\s+whom\s+|\bdont\s+|\bout\s+of\s+(?:the\s+)?)$", re.IGNORECASE)
_LIMITS = r"≤|<|>|≥|⩽|⩾|\bbeyond|\bau-delà\s+de|\bup\s+to|\bat\s+(?:least|most)|\bno\s+more\s+than|\bmore\s+than|\bfewer\s+than|\bless\s+than|\bover|\bwithin|\bevery"
COUNT_LIMIT_BEFORE = re.compile(rf"(?:{_LIMITS})\s*$", re.IGNORECASE)
LIMIT_BEFORE = re.compile(rf"(?:{_LIMITS}|\bafter|\bat|\bbefore|\bin|\bfor|\bpendant|\bdepuis)\s*$", re.IGNORECASE)
LIMIT_AFTER = re.compile(r"^\s*(?:or\s+(?:fewer|more|less)|ou\s+(?:moins|plus))\b", re.IGNORECASE)
MEDIAN_CUE = re.compile(
    r"\b(?:m[ée]dian[e]?s?|m(?:PFS|OS|DFS)|survivals?|surviv\w*|OS|PFS|DFS|RFS|MFS|EFS|CSS|follow[- ]?up|time|durations?|survie|suivi|"
    r"temps|délai|d[ée]lai|dur[ée]es?|interval)\b",
    re.IGNORECASE,
)
AGE_BEFORE = re.compile(r"\bage[ds]?\b[^.;]{0,25}$", re.IGNORECASE)
INCIDENCE_CUE = re.compile(r"\b(?:cumulative\s+incidences?|incidences?|risques?|risks?|taux\s+cumul)", re.IGNORECASE)
SCORE_BEFORE = re.compile(
    r"(?:score|KPS|Karnofsky|ECOG)(?:\s*\([A-Za-z]+\))?\s*(?:of|was|=|≥|>|<|≤)?\s*(?:\d+\s?%?\s*(?:or|vs\.?|to|-|–)\s*)?$",
    re.IGNORECASE,
)
GROUP_RE = re.compile(
    r"\b(?:in|for|with|among|dans)\s+(?:the\s+|le\s+|la\s+|those\s+|patients\s+)?(?P<g>(?:[\w+/-]+\s+){0,4}?(?:group|arm|cohort|groupe|bras)s?(?:\s+\d)?)\b"
    r"|\b(?P<g2>(?:arm|groupe?|bras)\s+\d)\b|\bwith\s+(?P<g3>[A-Z][\w/+-]*(?:\s+(?:plus|with|\+)\s+[\w/+-]+)?)\b"
    r"|\bfor\s+those\s+(?P<g4>[^,;.)]{3,50})"
)
ADJUSTED_CUE = re.compile(r"\b(?:adjusted|multivariate|multivariable|multivari[ée]e?)\b", re.IGNORECASE)
UNADJUSTED_CUE = re.compile(r"\b(?:unadjusted|univariate|univariable|crude)\b", re.IGNORECASE)


def number(printed: str) -> float | None:
    """The float a printed number means: '8·4' 8.4, '0,57' 0.57, '.001' 0.001, '12,384' 12384, 'five' 5."""
    s = printed.strip()
    if not s:
        return None
    if s[0].isalpha():
        from extract.schema_values import words_number

        n = words_number(s.replace("-et-", " et "))
        return None if n is None else float(n)
    s = s.replace("·", ".")
    if re.fullmatch(r"[1-9]\d{0,2},\d{3}", s):  # thousands separator, not a decimal comma
        s = s.replace(",", "")
    try:
        return float(s.replace(",", "."))
    except ValueError:
        return None


def ci_bound(printed: str) -> float | str | None:
    """A CI bound as printed: "NR" when not reached (also "not reached", "non atteinte"), else its number."""
    return "NR" if re.fullmatch(NR, printed.strip(), re.IGNORECASE) else number(printed)
