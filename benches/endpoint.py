"""Where an endpoint client waits (issue 16): `oligokb serve` started on a knowledge base, then every named
query (CSV and JSON) and a typical ad-hoc query timed over HTTP, the way a client sees them.

    uv run python -m benches.endpoint                                        # the bundled KB, 2 workers
    uv run python -m benches.endpoint --kb /tmp/synth50k/studies.ttl --workers 1 --runs 30 --out F.json

Each case runs once untimed (a worker's first read of a table loads it from the table cache), then --runs
times, one request at a time from Python's urllib on 127.0.0.1; a time is the wall time of one request
including the transfer. p95 is the nearest-rank 95th percentile. Also recorded: the time from starting the
server to its first answer (the first worker's load), the resident memory of the server and its workers,
the machine (nproc, load average), and how soon a query is answered after a runaway one was stopped
and its worker killed (three rounds). The study and figure of the one-study cases are the synthetic KB's
(`meta.json` beside it, written by `oligokb synth`) or the first of the bundled KB.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

from benches.common import free_port, machine, wait_until_answers

ROOT = Path(__file__).resolve().parent.parent

#: The typical ad-hoc query of issue 16: an evidence filter by histology and outcome.
ADHOC = """PREFIX okb: <https://w3id.org/oligokb/ns#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX vh: <https://w3id.org/oligokb/vocab/histology/>
PREFIX vo: <https://w3id.org/oligokb/vocab/outcome/>
SELECT ?stat ?study ?statistic ?value WHERE {
  ?stat a okb:Statistic ; okb:outcome vo:overall_survival ; okb:group ?group ;
        okb:statisticType ?statistic ; okb:valueAsPublished ?value .
  ?group okb:inStudy ?study .
  ?study okb:histology ?h .
  ?h skos:broader* vh:nsclc .
}"""


@dataclass
class Case:
    label: str
    path: str  # URL path and query string
    accept: str
    body: bytes | None = None  # POST application/sparql-query


@dataclass
class Timing:
    label: str
    runs: int
    median_ms: float
    p95_ms: float
    first_ms: float
    rows: int
    truncated: bool
    status: int


def request(base: str, case: Case, timeout: float) -> tuple[int, bytes, dict[str, str]]:
    headers = {"Accept": case.accept}
    if case.body is not None:
        headers["Content-Type"] = "application/sparql-query"
    req = urllib.request.Request(base + case.path, data=case.body, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), dict(exc.headers)


def rows_of(body: bytes, accept: str) -> int:
    if "csv" in accept:
        return max(0, sum(1 for _ in csv.reader(io.StringIO(body.decode("utf-8")))) - 1)
    data = json.loads(body)
    if isinstance(data, list):
        return len(data)
    if "boolean" in data:
        return 1
    return len(data["results"]["bindings"])


def nearest_rank(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def memory_mb(pid: int) -> dict[str, float]:
    """Resident (RSS) and proportional (PSS: shared pages divided among the processes sharing them) memory:
    forked workers share the loaded store, so their RSS double-counts it and their PSS does not."""
    out = {"rss": 0.0, "pss": 0.0}
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            key = line.split(":")[0].lower()
            if key in out:
                out[key] = round(int(line.split()[1]) / 1024)
    except OSError:
        pass
    return out


def example_ids(kb: Path, base: str) -> tuple[str, str]:
    """A study IRI and a statistic IRI of this KB: the synthetic KB's meta.json, or the first found."""
    meta = kb.with_name("meta.json")
    if meta.exists():
        found = json.loads(meta.read_text())
        return found["a_study"], found["a_statistic"]
    _, body, _ = request(base, Case("", "/queries/studies", "text/csv"), 60)
    study = next(csv.DictReader(io.StringIO(body.decode())))["study"]
    _, body, _ = request(base, Case("", f"/queries/evidence?study={urllib.parse.quote(study)}", "text/csv"), 60)
    return study, next(csv.DictReader(io.StringIO(body.decode())))["stat"]


def cases(study: str, statistic: str) -> list[Case]:
    q = urllib.parse.quote
    named = [
        ("studies", "/queries/studies"),
        ("publications", "/queries/publications"),
        ("evidence nsclc + overall survival", "/queries/evidence?histology=nsclc&outcome=overall_survival"),
        ("evidence one study", f"/queries/evidence?study={q(study)}"),
        ("evidence all", "/queries/evidence"),
        ("publications one study", f"/queries/publications?study={q(study)}"),
        ("provenance one figure", f"/queries/provenance?statistic={q(statistic)}"),
    ]
    out = [
        Case(f"{label}, {kind}", path, accept)
        for kind, accept in [("CSV", "text/csv"), ("JSON", "application/json")]
        for label, path in named
    ]
    limited = ADHOC + " LIMIT 1000"
    out += [
        Case(
            "ad-hoc evidence filter, JSON",
            "/sparql?" + urllib.parse.urlencode({"query": limited}),
            "application/sparql-results+json",
        ),
        Case("ad-hoc evidence filter, CSV", "/sparql", "text/csv", limited.encode()),
        Case(
            "ad-hoc without LIMIT (cut at --max-rows), JSON",
            "/sparql?" + urllib.parse.urlencode({"query": ADHOC}),
            "application/sparql-results+json",
        ),
        Case(
            "ASK { ?s ?p ?o }",
            "/sparql?" + urllib.parse.urlencode({"query": "ASK { ?s ?p ?o }"}),
            "application/sparql-results+json",
        ),
    ]
    return out


def measure(base: str, case: Case, runs: int, timeout: float) -> Timing:
    started = time.monotonic()
    status, body, headers = request(base, case, timeout)  # untimed warm-up; its time is reported as "first"
    first = time.monotonic() - started
    times = []
    for _ in range(runs):
        started = time.monotonic()
        status, body, headers = request(base, case, timeout)
        times.append(time.monotonic() - started)
        if status != 200:
            break
    rows = rows_of(body, case.accept) if status == 200 else 0
    truncated = any(k.lower() == "x-oligokb-truncated" for k in headers)  # the server's row cap was hit
    return Timing(
        case.label,
        len(times),
        1000 * statistics.median(times),
        1000 * nearest_rank(times, 0.95),
        1000 * first,
        rows,
        truncated,
        status,
    )


#: A query no limit lets finish (the server's runaway test): it is stopped at --timeout.
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


def replacement(base: str, timeout: float, rounds: int = 3) -> list[dict[str, float | int]]:
    """A runaway query (stopped at the limit, its worker killed), then at once an ASK: how long the next
    client waits for a worker to take the killed one's place."""
    out = []
    for _ in range(rounds):
        started = time.monotonic()
        status, _, _ = request(
            base, Case("", "/sparql?" + urllib.parse.urlencode({"query": RUNAWAY}), "application/json"), timeout
        )
        stopped = time.monotonic()
        after, _, _ = request(
            base, Case("", "/sparql?" + urllib.parse.urlencode({"query": "ASK {}"}), "application/json"), timeout
        )
        out.append(
            {
                "runaway_status": status,
                "stopped_after_s": round(stopped - started, 2),
                "next_status": after,
                "next_ms": round(1000 * (time.monotonic() - stopped)),
            }
        )
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--kb", type=Path, default=ROOT / "data" / "studies.ttl", help="knowledge base file")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--runs", type=int, default=30, help="timed requests per case")
    parser.add_argument("--timeout", type=float, default=10.0, help="the server's --timeout per query, s")
    parser.add_argument("--start-limit", type=float, default=1800.0, help="seconds to wait for the server")
    parser.add_argument(
        "--serve-arg",
        action="append",
        default=[],
        help="more `oligokb serve` options, e.g. --serve-arg=--max-memory-mb=0",
    )
    parser.add_argument("--out", type=Path, help="write the figures as JSON here")
    args = parser.parse_args(argv)

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [str(ROOT / ".venv" / "bin" / "oligokb"), "serve", "--kb", str(args.kb), "--port", str(port)]
    command += ["--workers", str(args.workers), "--timeout", str(args.timeout), *args.serve_arg]
    log = (args.out.with_suffix(".log") if args.out else Path(os.devnull)).open("wb")
    before = machine()
    proc = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        startup = wait_until_answers(base + "/queries", proc, args.start_limit)
        print(f"serving after {startup:.1f} s: {' '.join(command[1:])}", file=sys.stderr)
        study, statistic = example_ids(args.kb, base)
        results = []
        for case in cases(study, statistic):
            timing = measure(base, case, args.runs, args.timeout * 3 + 60)
            results.append(timing)
            print(
                f"{timing.label}: median {timing.median_ms:.0f} ms, p95 {timing.p95_ms:.0f} ms, first {timing.first_ms:.0f} ms, "
                f"{timing.rows} rows, status {timing.status}",
                file=sys.stderr,
            )
        replaced = replacement(base, args.timeout * 3 + 60)
        for row in replaced:
            print(
                f"runaway: {row['runaway_status']} after {row['stopped_after_s']} s; next query {row['next_status']} after {row['next_ms']} ms",
                file=sys.stderr,
            )
        memory = {"server": memory_mb(proc.pid), **{f"process {pid}": memory_mb(pid) for pid in descendants(proc.pid)}}
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
    report = {
        "kb": str(args.kb),
        "kb_mb": round(args.kb.stat().st_size / 1e6, 1),
        "command": " ".join(command[1:]),
        "startup_s": round(startup, 1),
        "memory_mb": memory,
        "pss_total_mb": round(sum(m["pss"] for m in memory.values())),
        "machine_before": before,
        "machine_after": machine(),
        "python": platform.python_version(),
        "cases": [asdict(t) for t in results],
        "replacement": replaced,
    }
    print("| case | median / p95 (ms) | first (ms) | rows | status |\n|---|---|---|---|---|")
    for t in results:
        rows = f"{t.rows:,}" + (" (cap)" if t.truncated else "")
        print(f"| {t.label} | {t.median_ms:.0f} / {t.p95_ms:.0f} | {t.first_ms:.0f} | {rows} | {t.status} |")
    for row in replaced:
        print(
            f"runaway query: {row['runaway_status']} after {row['stopped_after_s']} s; the next query: {row['next_status']} after {row['next_ms']} ms"
        )
    print(f"\nstart-up {startup:.1f} s; memory MB {memory} (PSS total {report['pss_total_mb']:,} MB)")
    print(f"load average {before['load_average']} -> {report['machine_after']['load_average']}")
    if args.out:
        args.out.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
