"""Synthetic extraction sheets for benchmarks: `oligokb synth --studies N --out DIR`.

Same format as data/extractions/ (so the same loader, schema, build and SHACL run on them), with
distributions shaped like the real evidence: histologies, ESTRO-EORTC oligo-states, designs (about a
fifth randomised), 2-4 reports per study (a first primary report, primary updates that supersede it,
and sometimes a secondary review that re-quotes figures and now and then disagrees), 10-20 figures per
study, hazard-ratio CIs at 80, 90 or 95 %.

Synthetic data never mixes with the real knowledge base: the output directory carries a SYNTHETIC
marker, the build then mints IRIs under terms.namespaces.SYNTH_ID (not ID), every quote starts with
"[synthetic]", DOIs use the 10.5555 test prefix, and the real data directory is refused as a target.
Seeded: the same seed and N give the same bytes.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable
from pathlib import Path

import yaml

from terms.errors import InputError, Problem

MARKER = "SYNTHETIC"
MARKER_TEXT = (
    "Synthetic extraction sheets made by `oligokb synth` for benchmarks. Every number here is invented.\n"
    "Never copy these sheets into data/extractions/; the build mints their IRIs under a separate namespace.\n"
)
REAL_ROOT = Path("data/extractions")

HISTOLOGY = {
    "nsclc": 12,
    "nsclc_egfr": 6,
    "nsclc_alk": 2,
    "lung_adenocarcinoma": 3,
    "colorectal": 12,
    "prostate_castration_sensitive": 12,
    "prostate_castration_resistant": 4,
    "breast": 10,
    "renal_cell": 6,
    "melanoma": 4,
    "sarcoma": 4,
    "gastric": 3,
    "mixed": 14,
    "other": 3,
}
OLIGO_STATE = {
    "synchronous": 15,
    "metachronous_oligorecurrence": 25,
    "metachronous_oligoprogression": 8,
    "repeat_oligorecurrence": 8,
    "repeat_oligoprogression": 5,
    "induced_oligoprogression": 12,
    "induced_oligopersistence": 5,
    "induced_oligorecurrence": 4,
    "mixed": 12,
    "unresolved": 4,
    "not_assessed": 2,
}
DESIGN = {
    "rct_phase_2": 15,
    "rct_phase_3": 5,
    "rct_phase_2_3": 2,
    "retrospective_cohort": 45,
    "prospective_cohort": 13,
    "single_arm_trial": 15,
}
INTERVENTION = {
    "sabr": 50,
    "metastasis_directed_therapy": 20,
    "local_consolidative_therapy": 15,
    "metastasis_directed_radiotherapy": 15,
}
COMPARATOR = {"standard_of_care": 60, "observation": 20, "maintenance_therapy": 20}
CI_LEVEL = {"0.95": 80, "0.90": 12, "0.80": 8}
# (median months of the control arm or cohort, rate-curve scale) per time-to-event outcome.
TIME_TO_EVENT = {"overall_survival": 30.0, "progression_free_survival": 10.0, "local_control": 60.0}


def _pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _fmt(value: float, places: int) -> str:
    return f"{value:.{places}f}"


def _z(level: str) -> float:
    return {"0.95": 1.959964, "0.90": 1.644854, "0.80": 1.281552}[level]


def _p_text(p: float) -> str:
    return "<0.001" if p < 0.001 else _fmt(p, 3)


class _Study:
    """Draws one study's sheets; every figure is consistent with its CI and quote."""

    def __init__(self, rng: random.Random, index: int):
        self.rng = rng
        self.id = f"syn-{index:06d}"
        self.design = _pick(rng, DESIGN)
        self.randomised = self.design.startswith("rct")
        self.histology = _pick(rng, HISTOLOGY)
        self.oligo_state = _pick(rng, OLIGO_STATE)
        self.year = rng.randint(2005, 2022)
        self.reports = rng.choices([2, 3, 4], weights=[45, 35, 20])[0]
        self.has_secondary = rng.random() < 0.35
        if self.randomised:
            self.arms = [("exp", "experimental"), ("ctl", "control")]
            n_exp = rng.randint(30, 200)
            self.n = {"exp": n_exp, "ctl": max(20, int(n_exp * rng.uniform(0.5, 1.0)))}
        else:
            self.arms = [("cohort", "single")]
            self.n = {"cohort": rng.randint(25, 600)}
        self.log_hr = {o: rng.gauss(-0.3, 0.3) for o in TIME_TO_EVENT}

    # --- figures ---------------------------------------------------------------------------------

    def _source(self, locator: str, sentence: str) -> dict:
        return {"locator": locator, "quote": f"[synthetic] {sentence}"}

    def hazard_ratio(self, sid: str, outcome: str, shift: float = 0.0) -> dict:
        rng = self.rng
        level = _pick(rng, CI_LEVEL)
        n_total = sum(self.n.values())
        se = 2.0 / math.sqrt(max(8.0, n_total * rng.uniform(0.25, 0.6)))  # ~2/sqrt(events)
        log_hr = self.log_hr[outcome] + shift
        value, low, high = (_fmt(math.exp(log_hr + k * _z(level) * se), 2) for k in (0, -1, 1))
        low = low if float(low) > 0 else "0.01"
        p = math.erfc(abs(log_hr / se) / math.sqrt(2))
        pct = int(round(float(level) * 100))
        label = outcome.replace("_", " ")
        return {
            "id": sid,
            "outcome": outcome,
            "statistic": "hazard_ratio",
            "group": "exp",
            "reference_group": "ctl",
            "value": value,
            "unit": "ratio",
            "ci": {"low": low, "high": high, "level": level},
            "p_value": _p_text(p),
            "adjusted": False,
            "time_origin": "randomisation",
            "source": self._source(
                "Results, Table 2",
                f"The hazard ratio for {label} was {value} ({pct}% CI, {low} to {high}; P = {_p_text(p)}).",
            ),
        }

    def median(self, sid: str, outcome: str, group: str, shift: float = 0.0) -> dict:
        rng = self.rng
        base = TIME_TO_EVENT[outcome] * math.exp(rng.gauss(0, 0.3) + shift)
        if group == "exp":
            base *= math.exp(-self.log_hr[outcome])
        value = _fmt(base, 1)
        stat: dict[str, object] = {
            "id": sid,
            "outcome": outcome,
            "statistic": "median",
            "group": group,
            "value": value,
            "unit": "months",
            "estimator": "kaplan_meier",
        }
        label = outcome.replace("_", " ")
        if rng.random() < 0.85:
            low = _fmt(base * rng.uniform(0.6, 0.9), 1)
            high = "NR" if rng.random() < 0.1 else _fmt(base * rng.uniform(1.1, 1.6), 1)
            stat["ci"] = {"low": low, "high": high, "level": "0.95"}
            sentence = f"Median {label} was {value} months (95% CI, {low} to {high}) in the {group} group."
        else:
            sentence = f"Median {label} was {value} months in the {group} group."
        stat["source"] = self._source("Results, para 2", sentence)
        return stat

    def landmark(self, sid: str, outcome: str, group: str, months: int, shift: float = 0.0) -> dict:
        rng = self.rng
        scale = TIME_TO_EVENT[outcome] / math.log(2)
        if group == "exp":
            scale *= math.exp(-self.log_hr[outcome])
        rate = 100 * math.exp(-months / (scale * math.exp(rng.gauss(0, 0.2) + shift)))
        rate = min(98.0, max(2.0, rate))
        n = self.n[group]
        half = 1.959964 * math.sqrt(rate * (100 - rate) / n)
        value, low, high = _fmt(rate, 1), _fmt(max(0.0, rate - half), 1), _fmt(min(100.0, rate + half), 1)
        label = outcome.replace("_", " ")
        statistic = "landmark_rate"
        return {
            "id": sid,
            "outcome": outcome,
            "statistic": statistic,
            "group": group,
            "value": value,
            "unit": "percent",
            "ci": {"low": low, "high": high, "level": "0.95"},
            "timepoint_months": str(months),
            "time_origin": "randomisation" if self.randomised else "start_of_radiotherapy",
            "estimator": "kaplan_meier",
            "source": self._source(
                "Results, Table 3",
                f"The {months}-month {label} rate was {value}% (95% CI, {low}-{high}) in the {group} group.",
            ),
        }

    def toxicity(self, sid: str, group: str) -> dict:
        events = self.rng.randint(0, max(1, self.n[group] // 6))
        rate = _fmt(100 * events / self.n[group], 1)
        return {
            "id": sid,
            "outcome": "toxicity_grade_3_plus",
            "statistic": "proportion",
            "group": group,
            "value": rate,
            "unit": "percent",
            "source": self._source(
                "Results, Toxicity", f"Grade 3 or worse toxicity occurred in {rate}% of the {group} group."
            ),
        }

    def figures(self, k: int) -> list[dict]:
        """k figures of the first report, drawn from everything the study could report."""
        pool: list[dict] = []
        groups = [g for g, _ in self.arms]
        for outcome in ("overall_survival", "progression_free_survival"):
            if self.randomised:
                pool.append(self.hazard_ratio(f"{outcome[:2]}-hr", outcome))
            for g in groups:
                pool.append(self.median(f"{outcome[:2]}-median-{g}", outcome, g))
        for g in groups:
            for outcome, prefix, times in (
                ("overall_survival", "os", (12, 24, 36, 60)),
                ("progression_free_survival", "pfs", (12, 24)),
                ("local_control", "lc", (12, 24)),
            ):
                pool.extend(self.landmark(f"{prefix}-{m}m-{g}", outcome, g, m) for m in times)
            pool.append(self.toxicity(f"tox-g3-{g}", g))
        self.rng.shuffle(pool)
        return pool[:k]

    # --- sheets ----------------------------------------------------------------------------------

    def groups(self, locator: str) -> list[dict]:
        out = []
        for arm, role in self.arms:
            label = {"experimental": "SABR arm", "control": "standard-of-care arm", "single": "whole cohort"}[role]
            n = self.n[arm]
            out.append(
                {
                    "id": arm,
                    "label": label,
                    "arm": arm,
                    "n": n,
                    "source": self._source(locator, f"The {label} comprised {n} patients."),
                }
            )
        return out

    def study_sheet(self) -> dict:
        rng = self.rng
        candidates = rng.sample(
            ["synchronous", "metachronous_oligorecurrence", "induced_oligoprogression", "repeat_oligorecurrence"], k=2
        )
        mapping: dict = {
            "as_published": rng.choice(
                ["oligometastatic", "oligorecurrent", "oligoprogressive", "oligometastatic disease"]
            ),
            "mapped": self.oligo_state,
            "rationale": "Synthetic study: the state was drawn by oligokb synth, not read from a source.",
            "mapped_by": "oligokb synth",
            "confidence": rng.choice(["low", "moderate", "high"]),
        }
        if self.oligo_state in ("mixed", "unresolved"):
            mapping["candidates"] = candidates
        elif mapping["confidence"] == "low":  # a low-confidence mapping names no single state (docs/curation-flags.md)
            mapping["confidence"] = "moderate"
        arms = [
            {
                "id": arm,
                "label": {"experimental": "SABR", "control": "standard of care", "single": "SABR"}[role],
                "role": role,
                "treatment": "sabr" if role != "control" else "standard_of_care",
            }
            for arm, role in self.arms
        ]
        sheet: dict = {
            "kind": "study",
            "id": self.id,
            "label": f"Synthetic study {self.id}",
            "design": self.design,
            "histology": self.histology,
            "oligo_state": mapping,
            "intervention": {"term": _pick(rng, INTERVENTION), "as_published": "stereotactic ablative radiotherapy"},
        }
        if self.randomised:
            sheet["comparator"] = {"term": _pick(rng, COMPARATOR), "as_published": "standard of care"}
        sheet["arms"] = arms
        if self.randomised:  # a randomised study carries RoB 2 (extract.schema_rob); made up, like its figures
            why = {"judgement": "some_concerns", "reason": "Synthetic: made-up judgement, not evidence."}
            domains = ("randomisation", "deviations", "missing_data", "measurement", "reported_result", "overall")
            sheet["risk_of_bias"] = [
                {
                    "outcome": "progression_free_survival",
                    "tool": "rob2",
                    "assessed_by": "oligokb synth",
                    "domains": {d: dict(why) for d in domains},
                }
            ]
        return sheet

    def publication_sheets(self) -> list[dict]:
        """A first primary report, primary updates (each superseding the one before) and perhaps a
        secondary review; 10-20 figures in all."""
        rng = self.rng
        n_updates = self.reports - 1 - int(self.has_secondary)
        update_sizes = [rng.randint(2, 3) for _ in range(n_updates)]
        review_size = rng.randint(2, 4) if self.has_secondary else 0
        extras = sum(update_sizes) + review_size
        first = self.figures(rng.randint(max(8, 10 - extras), 20 - extras))
        latest = {f["id"]: f for f in first}
        year = self.year
        sheets = [self._publication(f"{self.id}-r1", "primary", year, first)]
        for k, size in enumerate(update_sizes, start=2):  # longer follow-up: some figures re-estimated
            year += rng.randint(1, 4)
            stats = [self._again(f) for f in rng.sample(first, k=min(len(first), size))]
            latest.update((f["id"], f) for f in stats)
            sheets.append(
                self._publication(f"{self.id}-r{k}", "primary", year, stats, supersedes=[f"{self.id}-r{k - 1}"])
            )
        if review_size:
            year += rng.randint(0, 3)
            quoted = rng.sample(list(latest.values()), k=min(len(latest), review_size))
            sheets.append(self._publication(f"{self.id}-rev", "secondary", year, [self._requote(f) for f in quoted]))
        return sheets

    def _again(self, figure: dict) -> dict:
        """The same figure re-estimated at a later update (a new draw near the old one)."""
        kind, outcome, group = figure["statistic"], figure["outcome"], figure["group"]
        shift = self.rng.gauss(0, 0.05)
        if kind == "hazard_ratio":
            return self.hazard_ratio(figure["id"], outcome, shift)
        if kind == "median":
            return self.median(figure["id"], outcome, group, shift)
        if kind == "landmark_rate":
            return self.landmark(figure["id"], outcome, group, int(figure["timepoint_months"]), shift)
        return self.toxicity(figure["id"], group)

    def _requote(self, figure: dict) -> dict:
        """A review quoting a figure: usually verbatim, about one in four times with another value."""
        if self.rng.random() < 0.25:
            return self._again(figure)
        copy = dict(figure)
        copy["source"] = {"locator": "Table 1 (review)", "quote": figure["source"]["quote"]}
        return copy

    def _publication(
        self, pub_id: str, role: str, year: int, stats: list[dict], supersedes: list[str] | None = None
    ) -> dict:
        sheet: dict = {
            "kind": "publication",
            "id": pub_id,
            "citation": {
                "first_author": f"Synth {pub_id[-6:]}",
                "title": f"Synthetic report {pub_id}",
                "venue": "Synthetic Journal of Radiation Oncology",
                "year": year,
                "doi": f"10.5555/oligokb-synth.{pub_id}",
            },
            "source_kind": "journal article" if role == "primary" else "review",
            "role": role,
            "source_scope": "full text",
        }
        if supersedes:
            sheet["supersedes"] = supersedes
        groups = [
            g
            for g in self.groups("Results, para 1")
            if g["id"] in {s["group"] for s in stats} | {s.get("reference_group") for s in stats}
        ]
        sheet["reports"] = [{"study": self.id, "groups": groups or self.groups("Results, para 1"), "statistics": stats}]
        return sheet


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    pass


def _yaml(data: dict) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=140)


def check_target(out: Path) -> None:
    """Refuse to write synthetic sheets where real ones live, or into a directory of real sheets."""
    real = REAL_ROOT.resolve()
    target = out.resolve()
    if target == real or real in target.parents or target in real.parents:
        raise InputError(
            Problem(
                str(out),
                "--out",
                "synthetic sheets may not be written in or around data/extractions/",
                "choose a separate directory, e.g. --out /tmp/synth-1k",
            )
        )
    if out.exists() and any(out.iterdir()) and not (out / MARKER).exists():
        raise InputError(
            Problem(
                str(out),
                "--out",
                "the directory is not empty and holds no synthetic sheets",
                "choose an empty directory (synthetic sheets never mix with real ones)",
            )
        )


def generate(
    n_studies: int, out: Path, seed: int = 1, progress: Callable[[Iterable], Iterable] | None = None
) -> dict[str, int]:
    """Write n_studies study sheets and their publication sheets under out/. Returns counts."""
    if n_studies < 1:
        raise InputError(Problem("--studies", "", f"must be at least 1, got {n_studies}"))
    check_target(out)
    for sub in ("studies", "publications"):
        folder = out / sub
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.yaml"):  # a re-run replaces the previous synthetic set
            old.unlink()
    (out / MARKER).write_text(MARKER_TEXT, encoding="utf-8")
    rng = random.Random(seed)
    counts = {"studies": 0, "publications": 0, "figures": 0}
    wrap = progress or (lambda items: items)
    for index in wrap(range(1, n_studies + 1)):
        study = _Study(rng, index)
        (out / "studies" / f"{study.id}.yaml").write_text(_yaml(study.study_sheet()), encoding="utf-8")
        for pub in study.publication_sheets():
            (out / "publications" / f"{pub['id']}.yaml").write_text(_yaml(pub), encoding="utf-8")
            counts["publications"] += 1
            counts["figures"] += len(pub["reports"][0]["statistics"])
        counts["studies"] += 1
    return counts
