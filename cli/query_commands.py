"""Commands that read the knowledge base: summary, query, serve, export."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from cli.errors import ArgumentError, console_printer, reports_errors
from cli.options import KB_OPT, TABLE_FORMATS, err

reported = reports_errors(console_printer())
EXPORT_FORMATS = ("csv", "ttl", "jsonld", "rob", "fhir", "metafor", "revman")


@reported
def summary(kb_file: Path = KB_OPT) -> None:
    """Print studies, publications and figures by histology and oligo-state."""
    from rich.console import Console

    from kb.export import evidence_table
    from kb.query import run_named
    from kb.store import load_store
    from kb.summary import kb_counts

    graph: Any = load_store(kb_file)  # tables come from the Oxigraph copy (same rows, tests/test_store.py)
    table = evidence_table(graph)
    # as text: the materialised tables answer, and the store is never loaded
    studies, publications = (run_named(graph, name, lexical=True) for name in ("studies", "publications"))
    counts = kb_counts(table, studies, publications)
    out = Console(highlight=False, width=None if sys.stdout.isatty() else 160)
    out.print(
        f"oligokb knowledge base {kb_file}: {counts.studies} studies, {counts.publications} publications, {counts.figures} figures"
    )
    if table.empty:
        return
    from rich.table import Table

    grid = Table(title="Figures by histology and oligo-state")
    for col in ("histology", "oligo-state", "studies", "publications", "figures", "primary", "secondary"):
        grid.add_column(col, justify="right" if col not in ("histology", "oligo-state") else "left")
    for (hist, state), part in table.groupby(["histology", "oligo_state"], sort=True):
        grid.add_row(
            str(hist),
            str(state),
            str(part["study_id"].nunique()),
            str(part["publication_id"].nunique()),
            str(len(part)),
            str((part["publication_role"] == "primary").sum()),
            str((part["publication_role"] == "secondary").sum()),
        )
    out.print(grid)


@reported
def query(
    file: Path | None = typer.Argument(None, help="A .rq file with a SELECT, ASK, CONSTRUCT or DESCRIBE query."),
    name: str | None = typer.Option(None, "--name", help="A named query: studies, evidence, publications, provenance."),
    param: list[str] = typer.Option(
        [], "--param", help="key=value for a named query, e.g. histology=nsclc (repeatable)."
    ),
    fmt: str = typer.Option("table", "--format", help="table, csv or json (CONSTRUCT/DESCRIBE: turtle)."),
    kb_file: Path = KB_OPT,
    endpoint: str | None = typer.Option(
        None,
        "--endpoint",
        help="Query this SPARQL 1.1 endpoint (Oxigraph, Virtuoso, Fuseki, oligokb serve) instead of --kb.",
    ),
) -> None:
    """Run a read-only SPARQL query on the knowledge base. SERVICE, FROM and updates are refused."""
    from kb.params import parse_params
    from kb.query import NAMED_QUERIES, run_named, run_query, solutions_frame
    from kb.store import load_store

    if fmt not in TABLE_FORMATS:
        raise ArgumentError(f"--format {fmt!r} is not one of {', '.join(TABLE_FORMATS)}")
    if (file is None) == (name is None):
        raise ArgumentError("give either a query FILE or --name NAME (named queries: " + ", ".join(NAMED_QUERIES) + ")")
    params = parse_params(param)
    graph: Any
    if endpoint is not None:
        from kb.remote import SparqlEndpoint

        graph = SparqlEndpoint(endpoint)  # run_named binds parameters with a checked VALUES block
    else:
        graph = load_store(kb_file)  # Oxigraph: named queries and ad-hoc queries on one engine
    if name is not None:  # as text for table and csv: the materialised tables answer at once (kb.materialise)
        frame = run_named(graph, name, params, lexical=fmt != "json")
    else:
        assert file is not None
        if params:
            raise ArgumentError("--param applies to named queries only")
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ArgumentError(f"{file}: cannot read the query: {exc}") from None
        if endpoint is not None:
            form, answer = graph.query(text)  # the guard first; nothing is sent when it refuses
            if form == "ASK":
                typer.echo("true" if answer else "false")
            elif form in ("CONSTRUCT", "DESCRIBE"):
                typer.echo(answer.serialize(format="turtle"))
            else:
                print_frame(answer, fmt)
            return
        import pyoxigraph as ox

        _, result = run_query(graph, text)
        if isinstance(result, ox.QueryBoolean):  # ASK
            typer.echo("true" if result else "false")
            return
        if isinstance(result, ox.QueryTriples):  # CONSTRUCT, DESCRIBE
            from server.endpoint import distinct_triples, write_triples

            triples, _ = distinct_triples(result, sys.maxsize)
            typer.echo(write_triples(triples, "TURTLE").decode("utf-8"))
            return
        frame = solutions_frame(result, text)
    print_frame(frame, fmt)


@reported
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on (0.0.0.0 for every interface)."),
    port: int = typer.Option(7878, "--port", help="TCP port."),
    kb_file: Path = KB_OPT,
    timeout: float = typer.Option(
        10.0, "--timeout", help="Wall-clock limit per query, seconds; the worker is killed at the limit."
    ),
    max_rows: int = typer.Option(10_000, "--max-rows", help="At most this many result rows (or triples) per answer."),
    workers: int = typer.Option(
        2, "--workers", help="Worker processes evaluating queries in parallel (each holds the KB)."
    ),
    max_concurrent: int = typer.Option(
        32, "--max-concurrent", help="Queries admitted at once (running or waiting); more get HTTP 503."
    ),
    max_request_bytes: int = typer.Option(100_000, "--max-request-bytes", help="Largest request body or query string."),
    max_memory_mb: int = typer.Option(
        2048,
        "--max-memory-mb",
        help="Memory each worker's queries may take beyond the loaded knowledge base (RLIMIT_AS), MB; a query that needs more gets HTTP 503 and its worker is replaced. 0: no cap.",
    ),
    load_timeout: float | None = typer.Option(
        None,
        "--load-timeout",
        help="Seconds a worker may take to load the knowledge base before the server gives up. Default: 120 plus "
        "0.4 per MB of the --kb file (a 50,000-study KB, 1.2 GB, takes 2-3 minutes to load).",
    ),
    no_vocabularies: bool = typer.Option(
        False,
        "--no-vocabularies",
        help="Serve the --kb file alone (Turtle, N-Triples or RDF/XML), without the bundled vocabularies and ontology: any data can be served (the named queries need the vocabularies).",
    ),
) -> None:
    """Serve a read-only SPARQL 1.1 Protocol endpoint (/sparql) and the named queries (/queries/NAME).

    SERVICE, FROM and updates are refused (HTTP 400); each query runs in a worker killed at --timeout
    and capped at --max-memory-mb.
    """
    from kb.query import load_kb
    from server.endpoint import Limits
    from server.endpoint import serve as run_server

    if min(timeout, max_rows, workers, max_concurrent, max_request_bytes) <= 0 or max_memory_mb < 0:
        raise ArgumentError(
            "--timeout, --max-rows, --workers, --max-concurrent and --max-request-bytes must be positive, "
            "--max-memory-mb 0 or more"
        )
    if load_timeout is not None and load_timeout <= 0:
        raise ArgumentError("--load-timeout must be positive (seconds)")
    if not kb_file.exists():
        load_kb(kb_file)  # raises the friendly error
    run_server(
        kb_file,
        host,
        port,
        Limits(
            timeout=timeout,
            max_rows=max_rows,
            max_request_bytes=max_request_bytes,
            max_concurrent=max_concurrent,
            workers=workers,
            max_memory_mb=max_memory_mb,
            vocabularies=not no_vocabularies,
            load_timeout=load_timeout,
        ),
        echo=lambda line: err.print(line, markup=False),
    )


@reported
def export(
    fmt: str = typer.Option(
        "csv",
        "--format",
        help="csv (the evidence table), ttl or jsonld (the graph), rob (the risk-of-bias judgements, one row per "
        "study, outcome and domain), fhir (--out DIR: every pooled analysis as FHIR R5 Evidence), metafor (--out "
        "DIR: every pool's inputs and an R script that re-runs them with metafor) or revman (--out FILE: "
        "hazard-ratio inputs as RevMan generic inverse-variance rows).",
    ),
    out: Path | None = typer.Option(None, "--out", help="Write here (atomically) instead of standard output."),
    param: list[str] = typer.Option(
        [],
        "--param",
        help="Filter the evidence table: histology=, oligo_state=, outcome=, statistic=, design=, study=.",
    ),
    kb_file: Path = KB_OPT,
    endpoint: str | None = typer.Option(
        None,
        "--endpoint",
        help="Read the evidence table from this SPARQL 1.1 endpoint (a store holding the KB and the vocabularies) instead of --kb.",
    ),
) -> None:
    """Export the evidence table (one row per figure, docs/export-contract.md), the graph, the risk-of-bias
    table, or every pooled analysis: FHIR R5 Evidence (docs/exports.md), its inputs for metafor (with an R
    script that re-runs them) or RevMan (docs/analysis.md)."""
    from kb.export import evidence_table
    from kb.params import parse_params
    from kb.query import load_kb
    from kb.turtle import bind_prefixes
    from terms.files import write_atomic

    if fmt not in EXPORT_FORMATS:
        raise ArgumentError(f"--format {fmt!r} is not one of {', '.join(EXPORT_FORMATS)}")
    params = parse_params(param)
    if fmt == "fhir":  # a directory with one JSON Bundle (analysis.fhir_export, docs/exports.md)
        from analysis.fhir_export import export_fhir

        return err.print(f"wrote {export_fhir(kb_file, endpoint, out, params)}")
    if fmt in ("metafor", "revman"):  # every pool's inputs, as `oligokb pool all` pools them
        from analysis.export_metafor import write_metafor_bundle, write_revman
        from analysis.kb_pool import pool_all
        from kb.backend import open_kb

        if out is None:
            raise ArgumentError(f"--format {fmt} writes files: give --out {'DIR' if fmt == 'metafor' else 'FILE'}")
        pools = pool_all(evidence_table(open_kb(kb_file, endpoint), params))
        written = write_metafor_bundle(pools, out) if fmt == "metafor" else [out]
        if fmt == "revman":
            write_revman(pools, out)
        err.print("wrote " + ", ".join(str(p) for p in written))
        return
    if fmt == "csv":
        from kb.backend import open_kb

        data = (
            evidence_table(open_kb(kb_file, endpoint), params).to_csv(index=False, lineterminator="\n").encode("utf-8")
        )
    elif fmt == "rob" and not params:  # the risk-of-bias table (kb.rob); with --param, refused below
        from kb.backend import open_kb
        from kb.rob import rob_csv

        data = rob_csv(open_kb(kb_file, endpoint))
    else:
        if params:
            raise ArgumentError("--param filters the csv evidence table only")
        from rdflib import Graph

        if not kb_file.exists():
            load_kb(kb_file)  # raises the friendly error
        graph = bind_prefixes(Graph()).parse(kb_file, format="turtle")
        data = graph.serialize(format="json-ld" if fmt == "jsonld" else "turtle", encoding="utf-8")
    if out is None:
        sys.stdout.buffer.write(data)
    else:
        write_atomic(out, data)
        err.print(f"wrote {out}")


def print_frame(frame: Any, fmt: str) -> None:
    """A result table on stdout: csv, json records, or a text table."""
    if fmt == "csv":
        sys.stdout.write(frame.to_csv(index=False, lineterminator="\n"))
    elif fmt == "json":
        import json

        records = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
        sys.stdout.write(json.dumps(records, ensure_ascii=False, indent=1, default=str) + "\n")
    else:
        import pandas as pd

        with pd.option_context(
            "display.max_rows", 500, "display.max_columns", 50, "display.width", 200, "display.max_colwidth", 60
        ):
            typer.echo(frame.to_string(index=False) if not frame.empty else "(no rows)")
