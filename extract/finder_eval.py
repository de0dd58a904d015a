"""Precision and recall of the statistic finder on the hand-marked texts of tests/data/finder/.

    uv run python -m extract.finder_eval                 # the finder, per split
    uv run python -m extract.finder_eval --baseline      # the coverage finder as it was before issue 19
    uv run python -m extract.finder_eval --split tune --show   # list misses and extra mentions (tune set only)

A marked figure is found when a mention has its kind and value and, exactly, its CI: bounds and level
(a figure printed without a CI is matched only by a mention without one). Each mention matches at most
one figure. Recall = found / marked; precision = matching mentions / mentions.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "finder"


@dataclass
class Score:
    marked: int = 0
    found: int = 0
    mentions: int = 0
    matching: int = 0
    level_as_percent: int = 0  # a CI level given as 95 rather than 0.95
    level_as_mention: int = 0  # a CI level ("95% CI") reported as a percentage mention
    p_right: int = 0
    p_marked: int = 0

    @property
    def recall(self) -> float:
        return self.found / self.marked if self.marked else 1.0

    @property
    def precision(self) -> float:
        return self.matching / self.mentions if self.mentions else 1.0


def load(split: str = "all") -> list[dict]:
    manifest = yaml.safe_load((DATA / "manifest.yaml").read_text(encoding="utf-8"))["texts"]
    out = []
    for entry in manifest:
        if split != "all" and entry["split"] != split:
            continue
        doc = yaml.safe_load((DATA / f"{entry['id']}.yaml").read_text(encoding="utf-8"))
        doc["split"] = entry["split"]
        out.append(doc)
    return out


def _same(a: float | str | None, b: float | str | None) -> bool:
    if a is None or b is None or isinstance(a, str) or isinstance(b, str):
        return a == b
    return abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(b)))


def matches(mention: dict, figure: dict) -> bool:
    return (
        mention["kind"] == figure["kind"]
        and _same(mention["value"], figure["value"])
        and _same(mention.get("ci_low"), figure.get("ci_low"))
        and _same(mention.get("ci_high"), figure.get("ci_high"))
        and _same(mention.get("ci_level"), figure.get("ci_level"))
    )


def _p_number(printed: str | None) -> float | None:
    if not printed:
        return None
    m = re.search(r"\d*[.,·]?\d+", printed)
    return float(m.group(0).replace(",", ".").replace("·", ".")) if m else None


def score_text(mentions: list[dict], figures: list[dict], score: Score) -> tuple[list[dict], list[dict]]:
    """Add one text to the score; return (figures not found, mentions matching nothing)."""
    unused = list(mentions)
    missed = []
    for fig in figures:
        hit = next((m for m in unused if matches(m, fig)), None)
        if hit is None:
            missed.append(fig)
            continue
        unused.remove(hit)
        score.found += 1
        if fig.get("p_value") is not None and fig["kind"] != "p_value":
            score.p_marked += 1
            score.p_right += _p_number(hit.get("p_value")) == _p_number(fig["p_value"])
    score.marked += len(figures)
    score.mentions += len(mentions)
    score.matching += len(mentions) - len(unused)
    score.level_as_percent += sum(1 for m in mentions if (m.get("ci_level") or 0) > 1)
    score.level_as_mention += sum(1 for m in mentions if m.get("is_ci_level"))
    return missed, unused


def finder_mentions(text: str) -> list[dict]:
    from extract.finder import find

    ci_after = re.compile(r"\s?%?\s*(?:CI|C\.I\.|confidence|IC)\b")
    return [
        dict(m.as_dict(), is_ci_level=m.unit == "percent" and bool(ci_after.match(text, m.end))) for m in find(text)
    ]


_OLD_KINDS = {"hazard ratio": "hazard_ratio", "percentage": "proportion", "median": "median", "p-value": "p_value"}


def baseline_mentions(text: str) -> list[dict]:
    """The coverage finder as it was before issue 19 (extract/coverage.py PATTERNS, kept here verbatim),
    adapted to mentions: a CI goes to the mention just before it, its level read as a fraction."""
    num = r"\d+(?:[.,]\d+)?"
    dash = r"\s*(?:-|–|—|to|à)\s*"
    patterns = {
        "hazard ratio": re.compile(rf"\b(?:HR|hazard ratio|aHR|sHR)\b\s*(?:[:=,]|of|was|\()?\s*({num})", re.IGNORECASE),
        "confidence interval": re.compile(
            rf"(\d{{2}})\s*%\s*(?:CI|confidence interval|IC)\s*[,:=]?\s*\(?\s*({num}){dash}({num})", re.IGNORECASE
        ),
        "p-value": re.compile(rf"\b[pP]\s*(?:-?value)?\s*(=|<|>|≤|≥)\s*({num}|[.,]\d+)"),
        "percentage": re.compile(rf"(?<![\d.,])({num})\s*%"),
        "median": re.compile(
            rf"\bm[ée]dian[e]?\b[^.;]{{0,80}}?({num})\s*(months?|mo\b|mois|weeks?|semaines|years?|ans|days?|jours)",
            re.IGNORECASE,
        ),
    }
    text = " ".join(text.split())

    def val(s: str) -> float:
        return float(s.replace(",", ".").lstrip("."))

    found = []
    for kind, pattern in patterns.items():
        for m in pattern.finditer(text):
            found.append((m.start(), kind, m))
    found.sort(key=lambda x: x[0])
    out: list[dict] = []
    for start, kind, m in found:
        if kind == "confidence interval":
            if out and start - out[-1]["end"] < 40 and out[-1].get("ci_low") is None:
                out[-1].update(ci_low=val(m.group(2)), ci_high=val(m.group(3)), ci_level=val(m.group(1)) / 100)
            continue
        number = m.group(2) if kind == "p-value" else m.group(1)
        out.append(
            {
                "kind": _OLD_KINDS[kind],
                "value": val(number),
                "end": m.end(),
                "p_value": number if kind == "p-value" else None,
                "is_ci_level": kind == "percentage" and bool(re.match(r"\s*(?:CI|confidence|IC)\b", text[m.end() :])),
            }
        )
    return out


def evaluate(split: str = "all", baseline: bool = False, show: bool = False, out=sys.stdout) -> Score:
    score = Score()
    for doc in load(split):
        mentions = baseline_mentions(doc["text"]) if baseline else finder_mentions(doc["text"])
        missed, extra = score_text(mentions, doc["figures"], score)
        if show and (missed or extra):
            print(f"== {doc['id']} ({doc['split']})", file=out)
            for f in missed:
                print(f"   missed {f}", file=out)
            for m in extra:
                print(
                    f"   extra  {{kind: {m['kind']}, value: {m['value']}, ci: {m.get('ci_low')}-{m.get('ci_high')} "
                    f"level {m.get('ci_level')}, p {m.get('p_value')}}}",
                    file=out,
                )
    return score


def report(score: Score, label: str) -> str:
    return (
        f"{label}: recall {score.recall:.1%} ({score.found}/{score.marked}), precision {score.precision:.1%} "
        f"({score.matching}/{score.mentions}), CI levels reported as percentage mentions: {score.level_as_mention}, "
        f"as levels > 1: {score.level_as_percent}, "
        f"ratio p-values right: {score.p_right}/{score.p_marked}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--split", choices=("tune", "heldout", "fresh", "fresh2", "fresh3", "fresh4", "all"), default=None
    )
    parser.add_argument("--baseline", action="store_true", help="score the pre-issue-19 coverage finder")
    parser.add_argument("--show", action="store_true", help="list what was missed and what matched nothing")
    args = parser.parse_args(argv)
    splits = [args.split] if args.split else ["tune", "heldout", "fresh", "fresh2", "fresh3", "fresh4", "all"]
    for split in splits:
        score = evaluate(split, args.baseline, args.show)
        print(report(score, f"{'baseline' if args.baseline else 'finder'} {split} ({len(load(split))} texts)"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
