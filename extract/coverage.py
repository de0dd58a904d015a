"""Which statistic mentions of a source text are in the knowledge base for that publication.

The mentions come from the statistic finder (extract.finder, docs/finder.md): ratios, medians, rates and
p-values with their CI bounds and p as separate mentions; a CI level ("95% CI") is never a mention. Counts
are left out of the check (group sizes are checked by the sheets' own quotes). A mention is *covered* when a quote of
one of the publication's figures spans it and that figure carries the number; *left out* when a
`left_out` entry of the publication's sheet names the number; otherwise it is a *miss*. A quoted sentence
that restates a number another figure of the publication carries ("restated in Results") is covered too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_LEGACY_KINDS = {
    "hazard_ratio": "hazard ratio",
    "odds_ratio": "odds ratio",
    "risk_ratio": "risk ratio",
    "median": "median",
    "landmark_rate": "percentage",
    "cumulative_incidence": "percentage",
    "proportion": "percentage",
    "count": "count",
    "p_value": "p-value",
}
# Kinds coverage checks: a count ("62 patients") is checked only where a sheet gives a group size, so
# counts are left to the curator (oligokb find lists them); every other kind must be covered or left out.
CHECKED = {"hazard ratio", "odds ratio", "risk ratio", "median", "percentage", "p-value", "confidence interval"}


@dataclass(frozen=True)
class Mention:
    kind: str
    numbers: tuple[str, ...]  # as printed
    start: int
    end: int
    context: str


def normalise(text: str) -> str:
    return " ".join(text.split())


def find_mentions(text: str) -> list[Mention]:
    """Statistic mentions in a (whitespace-normalised) text, in order, from the finder (extract.finder):
    each figure's value, its CI bounds and its p-value as separate mentions, as coverage has always listed them."""
    from extract.finder import CI_RE, find

    text = normalise(text)

    def context(a: int, b: int) -> str:
        return text[max(0, a - 60) : min(len(text), b + 60)]

    out = []
    for m in find(text):
        kind = _LEGACY_KINDS[m.kind]
        if kind not in CHECKED:
            continue
        at = text.find(m.as_printed, m.start, m.end + 1)  # a ratio's span starts at its name ("hazard ratio, 0.60")
        at = m.start if at < 0 else at
        out.append(Mention(kind, (m.as_printed,), at, at + len(m.as_printed), context(m.start, m.end)))
        if m.ci_low is not None:
            bounds = tuple(n for n in m.numbers[1:3] if re.fullmatch(r"[\d.,·]+", n))
            out.append(Mention("confidence interval", bounds, m.start, m.end, context(m.start, m.end)))
        if m.p_value is not None and kind != "p-value":
            out.append(
                Mention("p-value", (re.sub(r"^[<>=≤≥⩽⩾]+\s*", "", m.p_value),), m.start, m.end, context(m.start, m.end))
            )
    spans = [(m.start, m.end) for m in out]
    for ci in CI_RE.finditer(text):  # a CI that follows no figure of its own
        if not any(a <= ci.start() < b for a, b in spans):
            bounds = tuple(
                n for n in (ci.group("low").strip(), ci.group("high").strip()) if re.fullmatch(r"[\d.,·]+", n)
            )
            out.append(Mention("confidence interval", bounds, ci.start(), ci.end(), context(ci.start(), ci.end())))
    return sorted(out, key=lambda x: (x.start, x.kind))


def _as_number(text: str) -> float | None:
    try:
        return float(text.replace(",", ".").replace("·", ".").lstrip("."))
    except ValueError:
        return None


@dataclass(frozen=True)
class Covered:
    start: int
    end: int
    numbers: frozenset[float]


def coverage(text: str, figures: list[tuple[str, list[str]]], left_out: list[str]) -> list[tuple[Mention, str]]:
    """Each mention with its status: "covered", "left out" or "MISSING".

    `figures`: (quote, numbers as printed) of the publication's statistics and group sizes.
    """
    norm = normalise(text)
    spans = []
    for quote, numbers in figures:
        q = normalise(quote)
        start = norm.find(q)
        while start != -1:
            spans.append(
                Covered(start, start + len(q), frozenset(n for n in map(_as_number, numbers) if n is not None))
            )
            start = norm.find(q, start + 1)
    every = frozenset().union(*(s.numbers for s in spans)) if spans else frozenset()
    left_numbers = [normalise(entry) for entry in left_out]
    results = []
    for mention in find_mentions(text):
        values = [n for n in map(_as_number, mention.numbers) if n is not None]
        inside = [s for s in spans if s.start <= mention.start and mention.end <= s.end + 1]
        # covered: a quote holds the mention and its figure carries the numbers, or the quote restates numbers
        # that figures of the publication carry ("restated in Results: 12.3 and 4.0 months")
        covered = (
            any(all(v in s.numbers for v in values) for s in inside) or bool(inside) and all(v in every for v in values)
        )
        if covered:
            results.append((mention, "covered"))
            continue
        explained = any(
            all(re.search(rf"(?<![\d.,]){re.escape(n)}(?![\d])", entry) for n in mention.numbers)
            for entry in left_numbers
        )
        results.append((mention, "left out" if explained else "MISSING"))
    return results
