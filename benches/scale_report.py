"""Write benches/scale.py's results: results.json, table.md (pasted into docs/performance.md) and the
scaling curve scaling.png (time against studies, log-log, one line per stage and back-end)."""

from __future__ import annotations

import json
from pathlib import Path

from terms.files import write_atomic

ROWS = [  # (label, path into a size's results)
    ("build: sheets -> Turtle", ("build",)),
    ("raw Turtle load: pyoxigraph", ("raw_load", "pyoxigraph")),
    ("raw Turtle load: oxrdflib", ("raw_load", "oxrdflib")),
    ("raw Turtle load: rdflib", ("raw_load", "rdflib")),
    ("SHACL, one sheet changed (cached)", ("validate", "incremental")),
    ("SHACL, every sheet", ("validate", "full")),
    ("load KB + vocabularies: pyoxigraph", ("load", "pyoxigraph")),
    ("load KB + vocabularies: oxrdflib", ("load", "oxrdflib")),
    ("load KB + vocabularies: rdflib", ("load", "rdflib")),
    ("materialise tables, once per KB version: pyoxigraph", ("materialise",)),
    ("named queries p95: pyoxigraph", ("queries", "pyoxigraph")),
    ("named queries p95: oxrdflib", ("queries", "oxrdflib")),
    ("named queries p95: rdflib", ("queries", "rdflib")),
    ("evidence export: pyoxigraph", ("export", "pyoxigraph")),
    ("evidence export: oxrdflib", ("export", "oxrdflib")),
    ("evidence export: rdflib", ("export", "rdflib")),
    ("pool every histology x oligo-state stratum", ("pool",)),
    ("explorer: first table (AppTest)", ("explorer",)),
]


def _get(size: dict, path: tuple[str, ...]) -> dict:
    node = size
    for key in path:
        node = node.get(key, {}) if isinstance(node, dict) else {}
    return node


def _seconds(entry: dict, path: tuple[str, ...]) -> float | None:
    if "seconds" not in entry:
        return None
    return entry["p95_s"] if path[0] == "queries" else entry["seconds"]


def _cell(entry: dict, path: tuple[str, ...]) -> str:
    if "skipped" in entry:
        return "skipped"
    if "failed" in entry:
        return "failed"
    seconds = _seconds(entry, path)
    if seconds is None:
        return ""
    return f"{seconds:,.2f} s / {entry['peak_mb']:,.0f} MB"


def table(results: dict) -> str:
    sizes = results["sizes"]
    head = "| stage | " + " | ".join(f"{s['studies']:,} studies" for s in sizes) + " |"
    lines = [head, "|---|" + "---|" * len(sizes)]
    counts = []
    for s in sizes:
        b = s.get("build", {})
        counts.append(f"{b.get('triples', 0):,} triples, {b.get('figures', 0):,} figures" if "triples" in b else "")
    lines.append("| knowledge base | " + " | ".join(counts) + " |")
    for label, path in ROWS:
        lines.append(f"| {label} | " + " | ".join(_cell(_get(s, path), path) for s in sizes) + " |")
    lines.append(
        "| same answers across back-ends (queries, export) | "
        + " | ".join("yes" if all(v["equal"] for v in s.get("same_answers", {}).values()) else "NO" for s in sizes)
        + " |"
    )
    notes = []
    for s in sizes:
        for label, path in ROWS:
            entry = _get(s, path)
            for key in ("skipped", "failed"):
                if key in entry:
                    notes.append(f"- {s['studies']:,} studies, {label}: {key}: {entry[key]}")
    return "\n".join(lines) + ("\n\n" + "\n".join(notes) if notes else "") + "\n"


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8.5, 5.5), dpi=110)
    studies = [s["studies"] for s in results["sizes"]]
    for label, key in ROWS:
        points = [(s["studies"], _seconds(_get(s, key), key)) for s in results["sizes"]]
        points = [(x, y) for x, y in points if y]
        if len(points) >= 2:
            ax.plot(*zip(*points, strict=False), marker="o", label=label)
    if studies:
        lo, hi = min(studies), max(studies)
        ax.plot([lo, hi], [1, hi / lo], color="grey", linestyle=":", label="linear (slope 1), for reference")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("studies in the knowledge base")
    ax.set_ylabel("seconds (queries: p95)")
    ax.set_title("oligokb at living-review scale (2 cores)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def write_all(results: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / "results.json", (json.dumps(results, indent=1, sort_keys=True) + "\n").encode("utf-8"))
    write_atomic(out / "table.md", table(results).encode("utf-8"))
    plot(results, out / "scaling.png")
