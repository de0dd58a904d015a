"""Which statistic mentions of a source text are in the knowledge base for that publication.

The finder reads the forms papers use: "HR 0.57, 95% CI 0.30-1.10", "(95% CI, 8.5–10.5)", en and em
dashes, "to", French decimal commas ("0,57"), percentages ("68%", "85,5 %"), p-values ("p = 0.007",
"P<0.001"), and medians with a unit ("median OS of 40 months"). A mention is *covered* when a quote of
one of the publication's figures spans it and that figure carries the number; *left out* when a
`left_out` entry of the publication's sheet names the number; otherwise it is a *miss*.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

NUM = r"\d+(?:[.,]\d+)?"
DASH = r"\s*(?:-|–|—|to|à)\s*"
PATTERNS: dict[str, re.Pattern[str]] = {
    "hazard ratio": re.compile(rf"\b(?:HR|hazard ratio|aHR|sHR)\b\s*(?:[:=,]|of|was|\()?\s*({NUM})", re.IGNORECASE),
    "confidence interval": re.compile(rf"(\d{{2}})\s*%\s*(?:CI|confidence interval|IC)\s*[,:=]?\s*\(?\s*({NUM}){DASH}({NUM})", re.IGNORECASE),
    "p-value": re.compile(rf"\b[pP]\s*(?:-?value)?\s*(=|<|>|≤|≥)\s*({NUM}|[.,]\d+)"),
    "percentage": re.compile(rf"(?<![\d.,])({NUM})\s*%"),
    "median": re.compile(rf"\bm[ée]dian[e]?\b[^.;]{{0,80}}?({NUM})\s*(months?|mo\b|mois|weeks?|semaines|years?|ans|days?|jours)", re.IGNORECASE),
}


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
    """Statistic mentions in a (whitespace-normalised) text, in order."""
    text = normalise(text)
    out = []
    for kind, pattern in PATTERNS.items():
        for m in pattern.finditer(text):
            groups = [g for g in m.groups() if g and re.fullmatch(rf"{NUM}|[.,]\d+", g)]
            if kind == "confidence interval":
                groups = groups[1:]  # the level is not a figure of its own
            if not groups:
                continue
            lo, hi = max(0, m.start() - 60), min(len(text), m.end() + 60)
            out.append(Mention(kind, tuple(groups), m.start(), m.end(), text[lo:hi]))
    return sorted(out, key=lambda x: (x.start, x.kind))


def _as_number(text: str) -> float | None:
    try:
        return float(text.replace(",", ".").lstrip("."))
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
            spans.append(Covered(start, start + len(q), frozenset(n for n in map(_as_number, numbers) if n is not None)))
            start = norm.find(q, start + 1)
    left_numbers = [normalise(entry) for entry in left_out]
    results = []
    for mention in find_mentions(text):
        values = [n for n in map(_as_number, mention.numbers) if n is not None]
        covered = any(s.start <= mention.start and mention.end <= s.end + 1 and all(v in s.numbers for v in values)
                      for s in spans)
        if covered:
            results.append((mention, "covered"))
            continue
        explained = any(all(re.search(rf"(?<![\d.,]){re.escape(n)}(?![\d])", entry) for n in mention.numbers) for entry in left_numbers)
        results.append((mention, "left out" if explained else "MISSING"))
    return results
