"""What `oligokb pool` prints as a text table: a CSV pool's result rows and a knowledge-base pool's inputs."""

from __future__ import annotations

from typing import Any


def input_lines(pool: Any, scale: str) -> list[str]:
    """One line per input of a stratum: study, report and tier, the figure, what entered the model, its
    weight and how its SE was obtained."""
    lines = []
    for name, item in zip(pool.studies, pool.inputs(), strict=True):
        unit = " %" if scale == "%" else ""
        lines.append(
            f"{name} · {item['publication_id']} [tier {item['tier_rank']}] · {'HR ' if scale == 'HR' else ''}"
            f"{item['value']}{unit} · yi {item['yi']:.4f}, SE {item['sei']:.4f} · weight "
            f"{item['weight_pct']:.1f}% · {item['derivation_route']}"
        )
    return lines


def fmt(x: float | None, digits: int = 4) -> str:
    return "NA" if x is None else f"{x:.{digits}f}"


def print_table(out: dict[str, Any]) -> None:
    rows = (
        [("overall", out)]
        if "overall" not in out
        else ([("overall", out["overall"])] + [(s["group"], s) for s in out["subgroups"]])
    )
    print(f"{'group':<16}{'k':>4}{'estimate':>11}{'ci_low':>10}{'ci_high':>10}{'p':>9}{'tau2':>9}{'I2 %':>7}")
    for name, r in rows:
        print(
            f"{name[:15]:<16}{r['k']:>4}{fmt(r['estimate']):>11}{fmt(r['ci_low']):>10}"
            f"{fmt(r['ci_high']):>10}{fmt(r['p_value']):>9}{fmt(r['tau2']):>9}"
            f"{fmt(r['i2'], 1):>7}"
        )
    if "q_between" in out:
        qb = out["q_between"]
        print(f"Q-between = {fmt(qb['q'])} (df = {qb['df']}, p = {fmt(qb['p'])})")
