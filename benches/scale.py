"""Living-review scale: the whole pipeline on synthetic knowledge bases, back-ends side by side.

    uv run python -m benches.scale                          # 1,000, 10,000 and 50,000 studies
    uv run python -m benches.scale --studies 1000 --work /tmp/oligokb-bench

For each size it writes synthetic sheets (`oligokb synth`, seed 1), then runs every stage in a fresh
Python process, so each figure is that stage's own wall time and peak resident memory (ru_maxrss):

- build: sheets -> graph -> Turtle (what `oligokb build` does), beside the raw Turtle load of the same
  file by each store (the build target is 2x the fastest load);
- validate: SHACL on the whole graph (full), and `oligokb validate`'s incremental path after one sheet
  changed (only changed sheets are validated; the rest comes from the content-hash cache);
- load, named queries (p50 / p95 over every case and repetition) and the evidence-table export, for each
  back-end: rdflib's in-memory store, oxrdflib (rdflib's API on Oxigraph) and pyoxigraph directly. The
  answers must be the same: every case's rows are digested and the digests compared across back-ends;
- materialise: once per KB version, the table queries' answers and the export and conflicts tables are
  written beside the KB (kb.materialise); the queries, export, pool and explorer stages after it start
  from those files, as every later run of the product does (the store itself loads only for a query
  that needs the graph);
- pool: every histology x oligo-state stratum of every outcome and statistic, compared with one fit
  per stratum;
- explorer: the Streamlit app's first run (AppTest) up to the rendered evidence table.

Results go to docs/performance/results.json, docs/performance/table.md and docs/performance/scaling.png.
A stage that would not fit (rdflib above MAX_RDFLIB_TRIPLES) or runs past --stage-timeout is recorded
as skipped, with the reason, never silently dropped.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "docs" / "performance"
BACKENDS = ("rdflib", "oxrdflib", "pyoxigraph")
# What each back-end is run on, in triples: rdflib's memory store takes ~1.2 kB a triple (> 6 GB beyond
# 5M) and its queries and export already take minutes at 1,000 studies; oxrdflib loads through rdflib's
# parser (15 s at 1,000 studies). Beyond these sizes a stage is recorded as skipped, with the reason.
LIMITS = {
    ("rdflib", "raw_load"): 5_000_000,
    ("rdflib", "load"): 5_000_000,
    ("rdflib", "queries"): 1_000_000,
    ("rdflib", "export"): 1_000_000,
    ("oxrdflib", "raw_load"): 5_000_000,
    ("oxrdflib", "load"): 5_000_000,
    ("oxrdflib", "queries"): 5_000_000,
    ("oxrdflib", "export"): 5_000_000,
}
FULL_SHACL_MAX_TRIPLES = 1_000_000  # 150 s at 435k triples, linear: the incremental path is what scales
QUERY_REPS = 5


# --- stages (each runs in its own process) ------------------------------------------------------


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def _frame_digest(frame) -> str:  # type: ignore[no-untyped-def]
    """Order-free digest of a result frame; decimals compared by value (Oxigraph writes 0.70 as 0.7)."""

    def norm(v: object) -> str:
        if v is None or (isinstance(v, float) and v != v):
            return ""
        if isinstance(v, bool):  # a typed answer; the materialised (lexical) one says true/false
            return "true" if v else "false"
        if isinstance(v, str) and _NUMBER.fullmatch(v):  # a lexical decimal: Oxigraph writes 12 as 12.0
            return format(Decimal(v).normalize(), "f")
        if isinstance(v, Decimal):
            return format(v.normalize(), "f")
        if isinstance(v, float):  # an integer column with a gap comes back as floats (123.0)
            return format(Decimal(repr(v)).normalize(), "f")
        return str(v)

    rows = sorted("\x1f".join(norm(v) for v in row) for row in frame.itertuples(index=False))
    head = "\x1f".join(str(c) for c in frame.columns)
    return hashlib.sha256("\x1e".join([head, *rows]).encode()).hexdigest()[:16]


def _open(backend: str, kb: Path):  # type: ignore[no-untyped-def]
    if backend == "rdflib":
        from kb.query import load_kb

        return load_kb(kb)
    if backend == "oxrdflib":
        from rdflib import Graph

        from terms.vocabulary import vocabulary_graph

        graph = Graph(store="Oxigraph")
        graph.parse(kb, format="turtle")
        graph += vocabulary_graph()
        return graph
    from kb.store import OxigraphKB

    return OxigraphKB(kb)


def _query_cases(work: Path) -> list[tuple[str, dict[str, str]]]:
    meta = json.loads((work / "meta.json").read_text())
    return [
        ("studies", {}),
        ("publications", {}),
        ("publications", {"study": meta["a_study"]}),
        ("evidence", {"histology": "nsclc"}),
        ("evidence", {"outcome": "overall_survival", "statistic": "hazard_ratio"}),
        ("evidence", {"oligo_state": "induced", "design": "randomised"}),
        ("evidence", {"study": meta["a_study"]}),
        ("provenance", {"statistic": meta["a_statistic"]}),
    ]


def stage_build(work: Path, backend: str) -> dict:
    """What `oligokb build` does (kb.build.build_sheets: parse, check and write each sheet's Turtle, in
    worker processes when there are many sheets); backend "serial" runs it in one process."""
    from kb.build import build_sheets
    from terms.files import write_atomic

    jobs = 1 if backend == "serial" else None
    t0 = time.perf_counter()
    ex, data, triples = build_sheets(work / "sheets", jobs=jobs)
    write_atomic(work / "studies.ttl", data)
    t1 = time.perf_counter()
    a_pub = sorted(ex.publications)[0]
    report = ex.publications[a_pub].reports[0]
    from terms.iri import statistic_iri, study_iri
    from terms.namespaces import SYNTH_ID

    meta = {
        "a_study": str(study_iri(report.study, SYNTH_ID)),
        "a_statistic": str(statistic_iri(a_pub, report.study, report.statistics[0].id, SYNTH_ID)),
    }
    (work / "meta.json").write_text(json.dumps(meta))
    from kb.build import default_jobs

    return {
        "seconds": t1 - t0,
        "jobs": jobs or default_jobs(),
        "triples": triples,
        "studies": len(ex.studies),
        "publications": len(ex.publications),
        "figures": sum(len(r.statistics) for p in ex.publications.values() for r in p.reports),
        "turtle_mb": len(data) / 1e6,
        "sha256": hashlib.sha256(data).hexdigest(),
    }


def stage_raw_load(work: Path, backend: str) -> dict:
    """The store's own Turtle load of studies.ttl alone (no vocabularies): the build's yardstick."""
    t0 = time.perf_counter()
    if backend == "pyoxigraph":
        import pyoxigraph as ox

        store = ox.Store()
        store.bulk_load(path=str(work / "studies.ttl"), format=ox.RdfFormat.TURTLE)
        n = len(store)
    else:
        from rdflib import Graph

        graph = Graph(store="Oxigraph") if backend == "oxrdflib" else Graph()
        graph.parse(work / "studies.ttl", format="turtle")
        n = len(graph)
    return {"seconds": time.perf_counter() - t0, "triples": n}


def stage_load(work: Path, backend: str) -> dict:
    from kb.store import OxigraphKB

    t0 = time.perf_counter()
    kb = _open(backend, work / "studies.ttl")
    triples = kb.triples() if isinstance(kb, OxigraphKB) else len(kb)  # OxigraphKB loads here, on first use
    return {"seconds": time.perf_counter() - t0, "triples": triples}


def stage_materialise(work: Path, backend: str) -> dict:
    """Once per KB version (kb.materialise): answer the table queries and the study page's whole answers
    (one pass; on a large KB study chunk by study chunk, kb.chunked), derive the export and conflicts
    tables and write them beside the KB. Every later reader starts from these files."""
    import shutil

    import explorer.study
    from kb.chunked import chunk_studies
    from kb.conflicts import find_conflicts
    from kb.export import evidence_table
    from kb.materialise import cache_dir
    from kb.store import OxigraphKB

    shutil.rmtree(cache_dir(work / "studies.ttl") / "tables", ignore_errors=True)
    per_study = [v for v in vars(explorer.study).values() if isinstance(v, str) and "SELECT ?study " in v]
    t0 = time.perf_counter()
    kb = OxigraphKB(work / "studies.ttl")
    kb.materialise(per_study)  # the table queries and the study page's queries, one pass
    t1 = time.perf_counter()
    table = evidence_table(kb)
    kb.cached("conflicts", lambda: find_conflicts(table))
    t2 = time.perf_counter()
    from explorer.study import study_page

    if study_page(kb, str(table["study_id"].iat[0])) is None:  # read from the kept whole answers
        raise RuntimeError("the study page did not find the first study")
    t3 = time.perf_counter()
    size = sum(f.stat().st_size for f in (cache_dir(work / "studies.ttl") / "tables").glob("*.parquet"))
    return {
        "seconds": t3 - t0,
        "queries_s": t1 - t0,
        "export_conflicts_s": t2 - t1,
        "study_page_s": t3 - t2,
        "chunk_studies": chunk_studies(),
        "store_loaded": kb._store is not None,  # False: no whole-graph store (chunks, or the tables were kept)
        "rows": len(table),
        "cache_mb": size / 1e6,
    }


def stage_queries(work: Path, backend: str) -> dict:
    """Each case as `oligokb query --name` runs it (values as text): on pyoxigraph every case reads the
    materialised tables (stage materialise runs first; provenance is derived from them), so the store is
    never loaded (`store_loaded` records it)."""
    from kb.query import run_named

    kb = _open(backend, work / "studies.ttl")  # pyoxigraph: loads nothing; every case reads the tables
    times: dict[str, list[float]] = {}
    digests: dict[str, str] = {}
    rows: dict[str, int] = {}
    for name, params in _query_cases(work):
        case = name + "?" + "&".join(f"{k}={v}" for k, v in params.items())
        runs = []
        for _rep in range(QUERY_REPS):
            t0 = time.perf_counter()
            frame = run_named(kb, name, params, lexical=True)
            runs.append(time.perf_counter() - t0)
            if runs[-1] > 10:  # a slow back-end: one timed run is enough to place it
                break
        times[case], digests[case], rows[case] = runs, _frame_digest(frame), len(frame)
    every = sorted(t for runs in times.values() for t in runs)
    return {
        "seconds": sum(every),
        "p50_s": statistics.median(every),
        "p95_s": every[max(0, int(0.95 * len(every)) - 1)]
        if len(every) < 20
        else statistics.quantiles(every, n=20)[18],
        "max_s": every[-1],
        "per_case_p50_s": {c: statistics.median(t) for c, t in times.items()},
        "digests": digests,
        "rows": rows,
        "store_loaded": getattr(kb, "_store", None) is not None,
    }


def stage_export(work: Path, backend: str) -> dict:
    from kb.export import evidence_table

    kb = _open(backend, work / "studies.ttl")
    t0 = time.perf_counter()
    table = evidence_table(kb)
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "rows": len(table), "digest": _frame_digest(table.astype(str))}


def stage_pool(work: Path, backend: str) -> dict:
    """Every histology x oligo-state stratum of every outcome/statistic (and rate time point) pooled at once
    (analysis.kb_pool.pool_all: the policy on whole columns, one batched fit of all strata): that is the
    timed part. Then, untimed, every stratum with k >= 2 refitted one at a time (analysis.meta.meta_analysis,
    pinned to metafor) from its own rows; the largest relative difference over every reported number is
    recorded. At 1,000 studies the old path (pool_knowledge_base once per analysis) is timed too.

    The input is the evidence table as every reader gets it: from the tables materialised beside the KB
    (stage materialise; computed here if they are missing)."""
    from kb.export import evidence_table
    from kb.store import OxigraphKB

    return pool_timing(evidence_table(OxigraphKB(work / "studies.ttl")), "materialised")


def pool_timing(table, source: str) -> dict:  # type: ignore[no-untyped-def]
    """The pool stage on an evidence table (see stage_pool)."""
    import math

    import numpy as np

    from analysis.kb_pool import pool_all, pool_knowledge_base
    from analysis.meta import meta_analysis
    from analysis.policy_batch import poolable_combos

    by = ("histology", "oligo_state")
    combos = [c for c in poolable_combos(table) if c[1] in ("hazard ratio", "landmark rate", "cumulative incidence")]
    rss_table_mb = _peak_mb()
    runs = []
    for _ in range(3):  # the first run includes imports and first-call costs
        t0 = time.perf_counter()
        res = pool_all(table, combos=combos, by=by)
        runs.append(time.perf_counter() - t0)
    st, sel = res.strata, res.selection
    worst, worst_at, not_pooled = 0.0, "", []
    for j in np.flatnonzero(st["k"].to_numpy() >= 2):
        r = st.iloc[j]
        if str(r["note"]).startswith("not pooled"):  # tau2 did not converge: reported in its row, not compared
            not_pooled.append(f"{r['outcome']} / {r['statistic']} / {r['timepoint_months']} / {r['stratum']}")
            continue
        a, k = int(r["start"]), int(r["k"])
        one = meta_analysis(sel.yi[a : a + k], sel.vi[a : a + k], tau2_ci=False)
        show = math.exp if r["statistic"] == "hazard ratio" else (lambda y: 100 / (1 + math.exp(-y)))
        pairs = [
            (r["estimate"], show(one.estimate)),
            (r["ci_low"], show(one.ci_low)),
            (r["ci_high"], show(one.ci_high)),
            (r["p_value"], one.p_value),
            (r["tau2"], one.tau2),
            (r["i2"], one.i2),
            (r["q"], one.q),
            (r["q_p"], one.q_p),
            *zip(res.weights_pct[a : a + k], one.weights_pct, strict=False),
        ]
        if k >= 3:
            pairs += [(r["pi_low"], show(one.pi_low)), (r["pi_high"], show(one.pi_high))]
        for mine, theirs in pairs:
            d = abs(mine - theirs) / max(abs(theirs), 1e-12)
            if d > worst:
                worst, worst_at = d, f"{r['outcome']} / {r['statistic']} / {r['timepoint_months']} / {r['stratum']}"
    out = {
        "seconds": min(runs),
        "runs_s": runs,
        "not_pooled": not_pooled,
        "input": source,
        "rows": len(table),
        "analyses": len(combos),
        "strata": len(st),
        "pooled_strata": int((st["k"] >= 2).sum()),
        "estimates": int(st["k"].sum()),
        "max_rel_diff_vs_one_at_a_time": worst,
        "max_rel_diff_at": worst_at,
        "peak_mb_table_read": rss_table_mb,
        "peak_mb_after_pool": _peak_mb(),
    }
    if len(table) <= 20_000:  # the old path, one pool_knowledge_base per analysis (minutes at 10,000 studies)
        t0 = time.perf_counter()
        old = [pool_knowledge_base(table, outcome=o, statistic=s, by=by, timepoint_months=t) for o, s, t in combos]
        out["per_analysis_path_s"] = time.perf_counter() - t0
        out["per_analysis_path_strata"] = sum(len(r.pools) for r in old)
    return out


def stage_explorer(work: Path, backend: str) -> dict:
    from streamlit.testing.v1 import AppTest

    os.environ["OLIGOKB_KB"] = str(work / "studies.ttl")
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=1800)
    t0 = time.perf_counter()
    app.run()
    seconds = time.perf_counter() - t0
    if app.exception:
        raise RuntimeError(f"the explorer raised: {app.exception[0].value}")
    rows = max((len(df.value) for df in app.dataframe), default=0)
    # A study page in a new session (stage materialise kept its tables: no store load).
    page = AppTest.from_file(str(ROOT / "app.py"), default_timeout=1800)
    page.query_params["view"] = "Study"
    page.query_params["study"] = json.loads((work / "meta.json").read_text())["a_study"].rsplit("/", 1)[-1]
    t0 = time.perf_counter()
    page.run()
    study_s = time.perf_counter() - t0
    if page.exception:
        raise RuntimeError(f"the study page raised: {page.exception[0].value}")
    if page.error or not page.subheader:  # an unknown study shows an error, not the page
        raise RuntimeError(f"the study page did not show study {page.query_params['study']}")
    return {"seconds": seconds, "table_rows": rows, "study_page_s": study_s}


def stage_validate(work: Path, backend: str) -> dict:
    """Full SHACL of the whole graph (backend 'full') or the incremental path (backend 'incremental')."""
    from extract.sheets import load_extractions
    from kb.validate import validate_extractions

    ex = load_extractions(work / "sheets")
    cache = work / "validate-cache"
    if backend == "full":
        t0 = time.perf_counter()
        violations = validate_extractions(ex, cache=None)
        return {"seconds": time.perf_counter() - t0, "violations": len(violations)}
    validate_extractions(ex, cache=cache)  # warm the cache (not timed)
    changed = sorted((work / "sheets" / "publications").glob("*.yaml"))[0]
    text = changed.read_text()
    changed.write_text(text.replace("Synthetic report", "Synthetic report (edited)", 1))
    try:
        ex = load_extractions(work / "sheets")
        t0 = time.perf_counter()
        violations = validate_extractions(ex, cache=cache)
        return {"seconds": time.perf_counter() - t0, "violations": len(violations), "sheets": len(ex.files)}
    finally:
        changed.write_text(text)


STAGES = {name.removeprefix("stage_"): fn for name, fn in globals().items() if name.startswith("stage_")}


def _stage_main(name: str, work: Path, backend: str) -> None:
    out = STAGES[name](work, backend)
    out["peak_mb"] = _peak_mb()
    print(json.dumps(out))


# --- orchestration -----------------------------------------------------------------------------


def run_stage(name: str, work: Path, backend: str, timeout: float) -> dict:
    cmd = [sys.executable, "-m", "benches.scale", "--stage", name, "--work", str(work), "--backend", backend]
    label = f"{name} [{backend}]" if backend != "-" else name
    print(f"  {label} ...", end="", flush=True, file=sys.stderr)
    try:
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        print(f" skipped: over the {timeout:.0f} s stage limit", file=sys.stderr)
        return {"skipped": f"over the {timeout:.0f} s stage limit"}
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1:] or ["(no message)"]
        print(f" failed: {tail[0]}", file=sys.stderr)
        return {"failed": tail[0]}
    out = json.loads(done.stdout.strip().splitlines()[-1])
    print(f" {out['seconds']:.2f} s, {out['peak_mb']:.0f} MB", file=sys.stderr)
    return out


STAGE_ORDER = ("build", "raw_load", "load", "materialise", "queries", "export", "validate", "pool", "explorer")


def bench_size(
    n: int,
    work_root: Path,
    timeout: float,
    backends: tuple[str, ...] = BACKENDS,
    stages: tuple[str, ...] = STAGE_ORDER,
    before: dict | None = None,
) -> dict:
    """One size: every stage in `stages`; `before` (an earlier result of this size) supplies the rest."""
    from extract.synth import generate

    work = work_root / f"n{n}"
    print(f"{n:,} studies in {work}", file=sys.stderr)
    t0 = time.perf_counter()
    if (
        not (work / "sheets" / "SYNTHETIC").exists()
        or json.loads((work / "synth.json").read_text() or "{}").get("n") != n
    ):
        generate(n, work / "sheets", seed=1)
        (work / "synth.json").write_text(json.dumps({"n": n}))
    result: dict = json.loads(json.dumps(before)) if before else {"studies": n, "synth_s": time.perf_counter() - t0}
    if "build" in stages or "triples" not in result.get("build", {}):
        result["build"] = run_stage("build", work, "-", timeout)
    triples = result["build"].get("triples", 0)
    if "materialise" in stages:  # before the readers: they start from its tables, as every later run does
        result["materialise"] = run_stage("materialise", work, "pyoxigraph", timeout)
    for stage in ("raw_load", "load", "queries", "export"):
        if stage not in stages:
            continue
        result.setdefault(stage, {})
        for backend in backends:
            limit = LIMITS.get((backend, stage))
            if limit is not None and triples > limit:
                result[stage][backend] = {
                    "skipped": f"{triples:,} triples, above this back-end's {limit:,} (see LIMITS)"
                }
                continue
            result[stage][backend] = run_stage(stage, work, backend, timeout)
    # Both SHACL stages validate every sheet once (the incremental one to warm its cache): linear, and
    # about 150 s per 1,000 studies, so they run at the smallest sizes only.
    if "validate" in stages:
        result["validate"] = {
            mode: run_stage("validate", work, mode, timeout)
            if triples <= FULL_SHACL_MAX_TRIPLES
            else {
                "skipped": f"{triples:,} triples: a full validation (also needed to warm the cache) "
                f"is linear, ~150 s per 1,000 studies"
            }
            for mode in ("incremental", "full")
        }
    for stage in ("pool", "explorer"):
        if stage in stages:
            result[stage] = run_stage(stage, work, "-", timeout)
    result["same_answers"] = _same_answers(result)
    return result


def _same_answers(result: dict) -> dict:
    """Digests of every query case and of the export, compared across the back-ends that ran."""
    out = {}
    for stage, key in (("queries", "digests"), ("export", "digest")):
        ran = {b: r[key] for b, r in result.get(stage, {}).items() if key in r}
        out[stage] = {"backends": sorted(ran), "equal": len({json.dumps(v, sort_keys=True) for v in ran.values()}) <= 1}
    return out


def machine() -> dict:
    from importlib.metadata import version

    import pyoxigraph
    import pyshacl
    import rdflib

    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "rdflib": rdflib.__version__,
        "oxrdflib": version("oxrdflib"),
        "pyoxigraph": pyoxigraph.__version__,
        "pyshacl": pyshacl.__version__,
        "streamlit": version("streamlit"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--studies", type=int, nargs="+", default=[1000, 10000, 50000])
    parser.add_argument("--work", type=Path, default=Path("/tmp/oligokb-bench"), help="Where the synthetic KBs go.")
    parser.add_argument("--stage-timeout", type=float, default=3600)
    parser.add_argument(
        "--backends", default=",".join(BACKENDS), help="Comma-separated subset of: " + ", ".join(BACKENDS)
    )
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    parser.add_argument(
        "--stages", default=",".join(STAGE_ORDER), help="Comma-separated subset of: " + ", ".join(STAGE_ORDER)
    )
    parser.add_argument(
        "--update",
        action="store_true",
        help="Keep OUT/results.json and replace only the sizes, stages and back-ends run now.",
    )
    parser.add_argument(
        "--pool-table",
        type=Path,
        help="Only the pool stage, on this evidence table (a Parquet file, e.g. the export table kb.materialise "
        "kept beside a KB), read as it is: nothing is built or written. Prints the stage's JSON.",
    )
    parser.add_argument("--stage", choices=sorted(STAGES), help=argparse.SUPPRESS)
    parser.add_argument("--backend", default="-", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.pool_table:  # e.g. a KB whose table cache another checkout's code wrote: its key differs from ours
        import pandas as pd

        out = pool_timing(pd.read_parquet(args.pool_table), str(args.pool_table))
        print(json.dumps(out | {"peak_mb": _peak_mb()}))
        return 0
    if args.stage:
        _stage_main(args.stage, args.work, args.backend)
        return 0
    backends = tuple(b for b in args.backends.split(",") if b in BACKENDS)
    stages = tuple(s for s in args.stages.split(",") if s in STAGE_ORDER)
    results = {"machine": machine(), "sizes": []}
    if args.update and (args.out / "results.json").exists():
        results["sizes"] = json.loads((args.out / "results.json").read_text())["sizes"]
    for n in args.studies:
        before = next((s for s in results["sizes"] if s["studies"] == n), None)
        size = bench_size(n, args.work, args.stage_timeout, backends, stages, before)
        results["sizes"] = sorted(
            [s for s in results["sizes"] if s["studies"] != n] + [size], key=lambda s: s["studies"]
        )
        write_report(results, args.out)  # after every size: a long run leaves its figures so far
    return 0


def write_report(results: dict, out: Path) -> None:
    from benches.scale_report import write_all

    write_all(results, out)


if __name__ == "__main__":
    raise SystemExit(main())
