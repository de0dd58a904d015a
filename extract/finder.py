"""The statistic finder: every figure a reviewer would extract from a text, with its CI, level and p.

`find(text)` returns `Mention`s in text order. Kinds: hazard_ratio, odds_ratio, risk_ratio, median,
landmark_rate, cumulative_incidence, proportion, count, p_value (rules and examples: docs/finder.md).

- Values are floats whatever the text printed: "8·4" (Lancet middle dot), "0,57" (French decimal comma),
  ".001", "five" (numbers in words, read by extract.schema_values.words_number); `as_printed` keeps the text.
- A CI is an attribute of the figure it follows, never a mention: ci_low, ci_high ("NR" for a bound not
  reached) and ci_level as a FRACTION (0.95, 0.9, 0.8), like the sheets' ci.level; None when the text
  prints bounds without a level ("21.8 months (16.1–27.6)").
- p_value is the p as printed without "P =" (".004", "<.001", "0,03"): an attribute of the ratio whose
  brackets or clause hold it, otherwise a p_value mention of its own (the p of a comparison of medians or rates).
- CI levels, ranges, IQRs, eligibility limits ("1 to 5 metastases", "three or fewer"), doses, grades,
  years, time points ("5-year", "at 6 months") and significance thresholds ("P < .20 indicates") are not mentions.
- Offsets (start, end) are into the text as given; `quote` is the sentence (or sentences) holding the mention.

The regular expressions and number parsing live in extract.finder_patterns (re-exported here).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from extract.finder_patterns import (
    ADJUSTED_CUE,
    AGE_BEFORE,
    BARE_CI_RE,
    CI_RE,
    COUNT_AFTER,
    COUNT_BEFORE,
    COUNT_LIMIT_BEFORE,
    COUNT_NOUN,
    COUNT_VERB,
    DASH,
    GROUP_RE,
    INCIDENCE_CUE,
    LIMIT_AFTER,
    LIMIT_BEFORE,
    MEDIAN_CUE,
    NUM,
    NUMBER_RE,
    P_RE,
    P_THRESHOLD_AFTER,
    P_THRESHOLD_BEFORE,
    PCT,
    RATIO_RE,
    SCORE_BEFORE,
    TIME_UNIT,
    TIMEPOINT_RE,
    UNADJUSTED_CUE,
    WORDNUM,
    ci_bound,
    number,
)

# Re-exported: the patterns the finder uses only inside CI_RE, importable from extract.finder as before.
from extract.finder_patterns import BOUND as BOUND
from extract.finder_patterns import LEVEL as LEVEL
from extract.finder_patterns import LEVEL_FR as LEVEL_FR
from extract.finder_patterns import NR as NR

RATIOS = ("hazard_ratio", "odds_ratio", "risk_ratio")
RATES = ("landmark_rate", "cumulative_incidence", "proportion")
KINDS = RATIOS + ("median",) + RATES + ("count", "p_value")


@dataclass
class Mention:
    kind: str
    value: float
    start: int
    end: int
    quote: str
    as_printed: str
    ci_low: float | str | None = None  # "NR" for a bound not reached
    ci_high: float | str | None = None
    ci_level: float | None = None  # a fraction: 0.95
    p_value: str | None = None
    unit: str | None = None
    timepoint: float | None = None  # months
    group: str | None = None
    adjusted: bool | None = None
    label: str | None = None  # a ratio's name as printed ("hazard ratio", "SHR", "OR")
    numbers: list[str] = field(default_factory=list)  # every number of the mention as printed (value, bounds, p)

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "value": self.value,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "ci_level": self.ci_level,
            "p_value": self.p_value,
            "unit": self.unit,
            "timepoint": self.timepoint,
            "group": self.group,
            "as_printed": self.as_printed,
            "start": self.start,
            "end": self.end,
            "quote": self.quote,
        }


def sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans: a stop followed by space and a capital (or a new line); decimals never split."""
    spans, start = [], 0
    for m in re.finditer(r"(?<=[.!?])\s+(?=[A-Z“\"(À-Ý0-9])|\n\s*", text):
        before = text[max(0, m.start() - 4) : m.start()]
        if re.search(r"\b(?:vs|al|Dr|Fig|No|approx|e\.g|i\.e)\.$", before):
            continue
        if "\n" in m.group(0) and "\n\n" not in m.group(0):
            line = text[text.rfind("\n", 0, m.start()) + 1 : m.start()]
            nxt = text[m.end() : m.end() + 1]
            # a hard-wrapped line goes on; a heading or a line ending a sentence stops
            if not (line.rstrip().endswith((".", "!", "?", ":")) or len(line) < 40) or not (
                nxt.isupper() or nxt.isdigit()
            ):
                continue
        if m.start() > start:
            spans.append((start, m.start()))
        start = m.end()
    if start < len(text):
        spans.append((start, len(text)))
    return spans


class _Finder:
    def __init__(self, text: str) -> None:
        self.text = text
        self.taken: list[tuple[int, int]] = []  # spans whose numbers are used (CI bounds, ranges, p, time points)
        self.mentions: list[Mention] = []
        self.sents = sentences(text)
        self.ci_spans = [(c.start(), c.end()) for c in CI_RE.finditer(text)]

    def in_ci(self, pos: int) -> bool:
        return any(s <= pos < e for s, e in self.ci_spans)

    # -- helpers ---------------------------------------------------------------------------------
    def free(self, start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e in self.taken)

    def take(self, start: int, end: int) -> None:
        self.taken.append((start, end))

    def sentence(self, pos: int) -> tuple[int, int]:
        for s, e in self.sents:
            if s <= pos < e:
                return s, e
        return 0, len(self.text)

    def quote(self, start: int, end: int) -> str:
        s, _ = self.sentence(start)
        _, e = self.sentence(max(start, end - 1))
        return self.text[s:e].strip()

    def add(self, kind: str, start: int, end: int, printed: str, **attrs: object) -> Mention | None:
        value = number(printed)
        if value is None:
            return None
        m = Mention(kind, value, start, end, self.quote(start, end), printed.strip(), **attrs)  # type: ignore[arg-type]
        m.numbers = [printed.strip()]
        self.mentions.append(m)
        self.take(start, end)
        return m

    def attach_ci(self, m: Mention, pos: int, ratio: bool = False) -> int:
        """A CI right after position pos (skipping a unit, a % and a short gap): set it on m; the CI's end."""
        window = self.text[pos : pos + 160]
        lead = re.match(rf"\s*(?:{TIME_UNIT})?\s*(?:{PCT})?", window, re.IGNORECASE)
        skip = lead.end() if lead else 0
        gap = re.match(
            r"(?:[^\d.]|\b(?:arm|group|groupe|bras)\s+\d+\b){0,40}?(?=\d{2}(?:[.,·]\d+)?\s?%\s*(?:CI|C\.I\.|conf|IC|CrI|cred)|IC\s*(?:à\s*)?\d{2}\s?%)",
            window[skip:],
            re.IGNORECASE,
        )
        if gap and not re.search(r"\b(?:versus|vs|v|compared|contre)\b", gap.group(0)):
            ci = CI_RE.match(window, skip + gap.end())
            if ci and self.free(pos + ci.start(), pos + ci.end()):
                self._set_ci(m, ci, ci.group("level") or ci.group("level2"))
                self.take(pos + ci.start(), pos + ci.end())
                return pos + ci.end()
        bare = BARE_CI_RE.match(window, skip)
        follow_up = m.kind == "median" and re.search(r"follow", self.text[self.sentence(pos)[0] : pos], re.IGNORECASE)
        if (
            bare
            and not follow_up
            and (ratio or bare.group(0).lstrip()[:1] in "([")
            and not re.match(r"\s*[(\[]\s*(?:range|IQR)", window[skip:], re.IGNORECASE)
        ):
            low, high = number(bare.group("low")), ci_bound(bare.group("high"))
            if low is not None and low <= m.value and (high == "NR" or (isinstance(high, float) and high >= m.value)):
                self._set_ci(m, bare, self._sentence_level(pos))
                self.take(pos + bare.start(), pos + bare.end())
                return pos + bare.end()
        return pos

    def _sentence_level(self, pos: int) -> str | None:
        s, _ = self.sentence(pos)
        head = re.search(r"\(\s*(\d{2})\s?%\s*CI\s*\)", self.text[s:pos])
        return head.group(1) if head else None

    def _set_ci(self, m: Mention, ci: re.Match, level: str | None) -> None:
        m.ci_low, m.ci_high = ci_bound(ci.group("low")), ci_bound(ci.group("high"))
        lv = number(level) if level else None
        m.ci_level = round(lv / 100, 6) if lv is not None else None
        m.numbers += [ci.group("low").strip(), ci.group("high").strip()] + ([level] if level else [])

    # -- passes ----------------------------------------------------------------------------------
    def ranges_before_ci(self) -> None:
        # IQRs and ranges in brackets first, so a "range, 28.3 to 61.4 months" is never a CI or two medians.
        for r in re.finditer(
            r"[(\[]\s*(?:range|IQR|interquartile\s+range)[^)\];]*[)\];]|\b(?:range|interquartile\s+range)\s*[,:=]?\s*[\d.,·]+\s*(?:\w+\s*)?(?:-|–|—|to)\s*[\d.,·]+",
            self.text,
            re.IGNORECASE,
        ):
            self.take(r.start(), r.end())

    def ratios(self) -> None:
        for r in RATIO_RE.finditer(self.text):
            name = r.group("name").lower()
            if re.search(
                r"(?:less|greater|more|lower|higher)\s+than|below|above|\b(?:of|at)\s+least",
                r.group("gap"),
                re.IGNORECASE,
            ):
                continue
            if re.search(r"[.!?]\s+[A-Z]", r.group("gap")):
                continue
            kind = (
                "odds_ratio"
                if "odds" in name or re.fullmatch(r"[as]?or", name)
                else "risk_ratio"
                if "risk" in name or re.fullmatch(r"[as]?rr", name)
                else "hazard_ratio"
            )
            if not self.free(r.start("value"), r.end("value")):
                continue
            m = self.add(kind, r.start("name"), r.end("value"), r.group("value"))
            if m is None:
                continue
            m.label = r.group("name")
            sent = self.text[slice(*self.sentence(r.start()))]
            m.adjusted = True if ADJUSTED_CUE.search(sent) else False if UNADJUSTED_CUE.search(sent) else None
            end = self.attach_ci(m, r.end("value"), ratio=True)
            m.end = end
            # "the adjusted HR ... on PFS was 0.30 (0.19–0.47) and on OS, 0.11 (0.04–0.30)": a second ratio.
            more = re.match(
                rf"(?:\s*[;,]\s*[Pp]\s*(?:=|<|>|≤|≥)\s*{NUM})?\s*[)\]]?\s*(?:and|,|;)\s+(?:(?:on|for|in)\s+[^\d;.]{{1,30}}?,?\s*)?(?P<v>{NUM})(?=\s*[(\[])",
                self.text[end : end + 80],
            )
            if more and m.ci_low is not None:
                m2 = self.add(
                    kind,
                    end + more.start("v"),
                    end + more.end("v"),
                    more.group("v"),
                    adjusted=m.adjusted,
                    label=m.label,
                )
                if m2 is not None:
                    m2.end = self.attach_ci(m2, m2.end, ratio=True)

    def cis_alone(self) -> None:
        """CIs that follow no value still use their numbers (they are not percentages or medians)."""
        for ci in CI_RE.finditer(self.text):
            if self.free(ci.start(), ci.end()):
                self.take(ci.start(), ci.end())

    def p_values(self) -> None:
        for p in P_RE.finditer(self.text):
            if not self.free(p.start("num"), p.end("num")):
                continue
            before, after = self.text[max(0, p.start() - 60) : p.start()], self.text[p.end() : p.end() + 30]
            if P_THRESHOLD_BEFORE.search(before) or P_THRESHOLD_AFTER.search(after):
                self.take(p.start(), p.end())
                continue
            op = p.group("op")
            printed = ("" if op in ("=", "of") else op) + p.group("num")
            self.take(p.start(), p.end())
            owner = self._p_owner(p.start())
            if owner is not None:
                owner.p_value = printed
                owner.numbers.append(p.group("num"))
                continue
            m = self.add("p_value", p.start(), p.end(), p.group("num"))
            if m is not None:
                m.p_value = printed

    def _p_owner(self, pos: int) -> Mention | None:
        s, _ = self.sentence(pos)
        before = [m for m in self.mentions if s <= m.start < pos and m.kind != "p_value"]
        if not before:
            return None
        last = max(before, key=lambda m: m.end)
        gap = self.text[last.end : pos]
        if last.kind in RATIOS and last.p_value is None and len(gap) < 60 and not re.search(r"\d", gap):
            return last
        return None

    def ranges(self) -> None:
        """Ranges, doses, grades, years, ratios (1:2) and labels (phase 2, arm 1) use their numbers: no counts."""
        t = self.text
        for r in re.finditer(
            rf"[(\[]\s*(?:range|IQR|interquartile\s+range|min[–-]max)[^)\]]*[)\]]|\b(?:range|IQR|interquartile\s+range)\s*[,:=]?\s*{NUM}\s*(?:{TIME_UNIT})?{DASH}{NUM}\s*(?:{TIME_UNIT})?",
            t,
            re.IGNORECASE,
        ):
            self.take(r.start(), r.end())
        for r in re.finditer(rf"(?<![\w·.,])(?:\d+(?:[.,·]\d+)?){DASH}(?:\d+(?:[.,·]\d+)?)(?![\w·]|[.,]\d)", t):
            if self.free(r.start(), r.end()) and not re.search(
                r"\bfrom\s*$", t[max(0, r.start() - 8) : r.start()], re.IGNORECASE
            ):
                self.take(r.start(), r.end())
        for r in re.finditer(
            r"\b\d+\s*:\s*\d+\b|\b(?:19|20)\d{2}\b|(?<![\w.])\d+(?:[.,]\d+)?\s*(?:Gy|mg|ng|mL|dl|cGy|fractions?|cycles?|centers|centres|institutions|sites)\b"
            r"|\bgrade\s*[≥>]?\s*\d|\b(?:phase|stage|type|arm|figure|table|ECOG|M)\s*\(?\d+\b|[A-Za-z]\d+|\d+[A-Za-z]{1,3}\d",
            t,
            re.IGNORECASE,
        ):
            self.take(r.start(), r.end())

    def timepoints(self) -> None:
        """'5-year', '6-month', 'at 6 months', 'à 1 et 2 ans': time points, not values."""
        for r in TIMEPOINT_RE.finditer(self.text):
            if re.search(r"[-‐‑]", r.group(0)) or re.match(r"(?i)(?:at|after)\b|[àa]\s", r.group(0)):
                self.take(r.start(), r.end())

    def time_values(self) -> None:
        """Medians: every time value ('41 months', 'six months', '2.4years') in a sentence about a duration,
        including each value of a comparison or list ('37 and 15 months versus 21.7 and 6.4 months')."""
        item = rf"(?P<v>{NUM}|{WORDNUM})"
        pat = re.compile(
            rf"(?<![\w·.,-]){item}(?![\d·%]|[.,]\d)(?P<tail>(?:\s*\((?:[^()]|\([^()]*\))*?\))?(?:\s*(?:,|and|et|vs\.?|versus|v|to|or|/)\s*(?:{NUM}|{WORDNUM})(?:\s*\((?:[^()]|\([^()]*\))*?\))?)*)\s*(?P<u>{TIME_UNIT})",
            re.IGNORECASE,
        )
        for m in pat.finditer(self.text):
            unit = _unit(m.group("u"))
            whole = m.group(0)
            s, e = self.sentence(m.start())
            if not MEDIAN_CUE.search(self.text[s:e]):
                continue
            # every value of the list, with its own bracket
            for v in re.finditer(rf"(?<![\w·.,-])(?:{NUM}|{WORDNUM}\b)(?![\d·%]|[.,]\d)", whole, re.IGNORECASE):
                a, b = m.start() + v.start(), m.start() + v.end()
                if not self.free(a, b) or self.in_ci(a) or _inside_brackets(whole, v.start()):
                    continue
                before = self.text[max(0, a - 40) : a]
                if LIMIT_BEFORE.search(before) or AGE_BEFORE.search(before) or LIMIT_AFTER.match(self.text[b : b + 20]):
                    continue
                if re.match(
                    rf"\s*(?:{TIME_UNIT})?\s*(?:after|later|post|après|from|since|depuis)\b",
                    self.text[m.end() : m.end() + 20],
                    re.IGNORECASE,
                ):
                    continue  # "deux mois après la radiothérapie": a time point
                if re.search(
                    r"\b(?:rang\w*|var\w*|between)\s+(?:from\s+)?(?:\S+\s+(?:to|and)\s+)?$", before, re.IGNORECASE
                ):
                    continue  # "ranging from 12.1 to 22.1 months"
                if re.search(r"[\d·]\s*(?:\bto|-|–|—)\s*$", before) and not re.search(r"\bfrom\s+\S+\s+to\s*$", before):
                    continue
                mm = self.add("median", a, b, v.group(0), unit=unit)
                if mm is not None:
                    mm.end = self.attach_ci(mm, b)

    def percents(self) -> None:
        pat = re.compile(
            rf"(?:(?<![\w·.,])|(?<=%,))(?P<v>\d+(?:[.,·]\d+)?)(?![\w·])\s?(?:%|per\s?cent\b|pour\s?cent\b)"
            rf"|\b(?P<w>{WORDNUM})\s+(?:per\s?cent|percent|pour\s?cent)\b",
            re.IGNORECASE,
        )
        for p in pat.finditer(self.text):
            g = "v" if p.group("v") else "w"
            a = p.start(g)
            if not self.free(a, p.end()) or self.in_ci(a):
                continue
            after = self.text[p.end() : p.end() + 30]
            before = self.text[max(0, a - 60) : a]
            if re.match(r"\s*(?:CI|C\.I\.|confidence|CrI|credible)", after, re.IGNORECASE) or re.search(
                r"IC\s*(?:à\s*)?$", before
            ):
                continue
            if SCORE_BEFORE.search(before) or re.match(
                r"\s*(?:accrual|of the (?:planned|target))", after, re.IGNORECASE
            ):
                continue
            if re.match(r"\s*(?:isodose|of\s+the\s+(?:prescri\w+|planned)\s+dose|dose\s+level)", after, re.IGNORECASE):
                continue  # "prescribed at 80% isodose": a dose level
            if re.search(r"(?:<|>|≤|≥|⩽|⩾)\s*$", before):
                continue  # "(< 10%)": a threshold
            if re.search(r"\b(?:mean|average|median)\b,?[^.;%,]{0,30}$", before, re.IGNORECASE):
                continue  # "a mean PSA response of 69% (median, 74.5%)": a summary of a percentage, not a rate
            if re.search(r"\d\s?%?\s*(?:-|–|—)\s*$", before) or re.match(rf"\s*(?:-|–|—)\s*{NUM}\s?%", after):
                continue  # a range of rates ("62–91%", "15%-20%") is not a figure
            if re.match(
                r"\s*(?:relative\s+)?(?:decreased?|reduc\w*|lower|higher|increased?|improvement|gain)\b",
                after,
                re.IGNORECASE,
            ):
                continue  # "a 43% decreased risk": a relative effect, not a rate
            kind, tp = self._rate_kind(a, p.end())
            m = self.add(kind, a, p.end(), p.group(g), unit="percent", timepoint=tp)
            if m is not None:
                m.end = self.attach_ci(m, p.end())
            # "from 24 to 46%", "45.1 and 36.1%", "32, 25 and 19%": the values before are percentages too
            lead = re.search(
                rf"(?:\bfrom\s+(?:{NUM})\s+to|(?<![\w·.,])(?:{NUM})(?:\s*,\s*(?:{NUM}))*\s*(?:,\s*)?(?:and|or|vs\.?|versus))\s+$",
                self.text[max(0, a - 60) : a],
            )
            if lead and not re.search(r"[-–—]\s*$", self.text[: max(0, a - 60) + lead.start()]):
                for v in re.finditer(rf"(?<![\w·.,]){NUM}(?![\w·]|[.,]\d)", lead.group(0)):
                    fa, fb = max(0, a - 60) + lead.start() + v.start(), max(0, a - 60) + lead.start() + v.end()
                    if self.free(fa, fb) and not self.in_ci(fa):
                        self.add(kind, fa, fb, v.group(0), unit="percent", timepoint=tp)

    def _rate_kind(self, a: int, b: int) -> tuple[str, float | None]:
        s, e = self.sentence(a)
        sent = self.text[s:e]
        if re.search(
            rf"(?<!arm )(?<!group )(?<![\w·.,])(?:\d+|{WORDNUM})(?:\s+(?!(?:{TIME_UNIT}))[^\W\d]+){{0,2}}\s*\($",
            self.text[max(s, a - 40) : a],
            re.IGNORECASE,
        ) or re.search(r"\b(?:occurred|occurring)\s+in\s*$", self.text[max(s, a - 20) : a]):
            return "proportion", None  # "39 (43%)", "occurred in 19%"
        cs = max([s] + [s + x.end() for x in re.finditer(r";|,?\s+(?:while|whereas|but)\s+", self.text[s:a])])
        ce = min([e] + [a + x.start() for x in re.finditer(r";|,?\s+(?:while|whereas|but)\s+", self.text[a:e])])
        clause = self.text[cs:ce]
        tp = _timepoint(clause)
        if tp is None or re.search(r"\bcrude\b", clause, re.IGNORECASE):
            return "proportion", None
        if INCIDENCE_CUE.search(clause):
            return "cumulative_incidence", tp
        if re.search(r"\b(?:occurred|progressed|had\s+progressed)\b", sent):
            return "proportion", tp
        return "landmark_rate", tp

    def counts(self) -> None:
        for n in re.finditer(r"(?<![\d.,])\d{1,3}(?:[\u00a0\u2009\u202f ]\d{3})+(?![\d.,])", self.text):
            if self.free(n.start(), n.end()) and COUNT_AFTER.match(self.text[n.end() : n.end() + 60]):
                m = self.add("count", n.start(), n.end(), re.sub(r"\D", "", n.group(0)))  # "129 000 recorded cases"
                if m is not None:
                    m.as_printed = n.group(0)
        for n in NUMBER_RE.finditer(self.text):
            a, b = n.start(), n.end()
            printed = n.group(0)
            if (
                not self.free(a, b)
                or self.in_ci(a)
                or re.fullmatch(r"0+", printed)
                or ("," in printed and not re.fullmatch(r"[1-9]\d{0,2},\d{3}", printed))
            ):
                continue
            if re.search(r"[.,·]", printed) and not re.fullmatch(r"[1-9]\d{0,2},\d{3}", printed):
                continue  # a count is a whole number
            before, after = self.text[max(0, a - 30) : a], self.text[b : b + 60]
            if (
                COUNT_LIMIT_BEFORE.search(before)
                or LIMIT_AFTER.match(after)
                or re.search(rf"(?:\d|\b(?:{WORDNUM}))\s*(?:[-/–]|\bto|\bor|\bà|\ba)\s*$", before, re.IGNORECASE)
            ):
                if not COUNT_BEFORE.search(before):
                    continue
            if re.search(r"\(\s*$", before) and re.match(r"\s*/\s*\d+\s*\)", after):
                self.add("count", a, b, printed)  # "(13/78)": 13 of 78
                continue
            if re.match(rf"\s*(?:-|–|/|\bto\b|\bà\b|\bor\b|\ba\b)\s*(?:\d|{WORDNUM}\b)", after, re.IGNORECASE):
                continue
            word = printed[0].isalpha()
            ok = bool(COUNT_AFTER.match(after)) or bool(COUNT_BEFORE.search(before)) and not word
            ok = (
                ok
                or bool(COUNT_VERB.match(after))
                or bool(re.match(r"\s+in\s+the\s+[\w+/-]+\s+(?:group|arm)\b", after))
            )
            ok = ok or bool(re.match(rf"\s*\(\s*{NUM}\s?%\s*\)", after))
            ok = (
                ok
                or bool(re.match(rf"\s+(?:out\s+)?of\s+(?:the\s+|these\s+|those\s+)?{NUM}\s+", after))
                and bool(re.search(COUNT_NOUN, after[:40], re.IGNORECASE))
            )
            ok = ok or bool(
                re.match(
                    rf"(?:\s*,\s*(?:{NUM}\s*,\s*)*(?:and\s+)?|\s+and\s+){NUM}\s+{COUNT_NOUN}", after, re.IGNORECASE
                )
            )
            # "lesions (106 OM and 57 OP)"; "59 randomized to SABR and 31 to SOC"
            ok = (
                ok
                or bool(re.search(rf"{COUNT_NOUN}\s*\(\s*(?:{NUM}\s+[^\W\d]+\s+and\s+)?$", before, re.IGNORECASE))
                and bool(re.match(r"\s+[^\W\d]+\s*(?:and|\))", after))
            )
            s0, _ = self.sentence(a)
            ok = (
                ok
                or bool(re.search(r"\band\s*$", before))
                and bool(re.match(r"\s+to\s", after))
                and bool(re.search(r"\d+\s+(?:randomi[sz]ed|assigned)\s+to\b", self.text[s0:a]))
            )
            if not ok:
                continue
            self.add("count", a, b, printed)

    def groups(self) -> None:
        ordered = sorted(self.mentions, key=lambda m: m.start)
        for i, m in enumerate(ordered):
            s, e = self.sentence(m.start)
            nxt = ordered[i + 1].start if i + 1 < len(ordered) and ordered[i + 1].start < e else e
            g = GROUP_RE.search(self.text, m.end, nxt)
            if g is None:
                prev = ordered[i - 1].end if i > 0 and ordered[i - 1].end > s else s
                g = GROUP_RE.search(self.text, prev, m.start)
                if g is not None and re.search(
                    r"\b(?:compared|versus|vs|v|than|contre)\b", self.text[g.end() : m.start]
                ):
                    g = None  # "8.4 months with SABR compared to five months": SABR is the first value's group
            if g is not None:
                m.group = " ".join(next(x for x in g.groups() if x).split())

    def run(self) -> list[Mention]:
        self.ranges_before_ci()
        self.ratios()
        self.p_values()
        self.timepoints()
        self.time_values()
        self.percents()
        self.cis_alone()
        self.ranges()
        self.counts()
        self.groups()
        return sorted(self.mentions, key=lambda m: (m.start, m.kind))


def _inside_brackets(s: str, pos: int) -> bool:
    depth = 0
    for ch in s[:pos]:
        depth += ch in "(["
        depth -= ch in ")]"
    return depth > 0


def _unit(printed: str) -> str:
    p = printed.lower()
    if p.startswith(("mo", "mois")):
        return "months"
    if p.startswith(("y", "an", "ann")):
        return "years"
    if p.startswith(("w", "sem")):
        return "weeks"
    return "days"


def _timepoint(sentence: str) -> float | None:
    t = TIMEPOINT_RE.search(sentence)
    if t is None:
        return None
    n = t.group("n") or t.group("n2") or t.group("n3")
    u = (t.group("u") or t.group("ub") or t.group("u2") or t.group("u3")).lower()
    value = number(n)
    if value is None:  # "two and three years": the first of them
        value = number(re.split(r"\s+|-(?=[a-z])", n.strip())[0])
    if value is None:
        return None
    return value if u.startswith(("mo", "mois")) else value * 12


def find(text: str) -> list[Mention]:
    """Every statistic mention of the text, in order (see the module docstring)."""
    return _Finder(text).run()
