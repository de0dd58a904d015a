"""Knowledge-base commands: build, validate, summary, query, export."""
from __future__ import annotations

import re
import sys
import time
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.progress import track

from terms.errors import InputError, OligokbError, Problem

err = Console(stderr=True, highlight=False, width=None if sys.stderr.isatty() else 200)

SHEETS_OPT = typer.Option(Path("data/extractions"), "--sheets", help="Directory of extraction sheets (studies/, publications/).")
KB_OPT = typer.Option(Path("data/studies.ttl"), "--kb", help="The knowledge-base Turtle file.")


def fail(exc: OligokbError) -> None:
    err.print(str(exc), markup=False)
    raise typer.Exit(exc.exit_code)


def _progress(description: str = "building"):
    # Progress bars only when the work is big enough to take seconds and a person is watching.
    def wrap(items):
        items = list(items)
        if len(items) > 500 and sys.stderr.isatty():
            return track(items, description=description, console=err, transient=True)
        return items

    return wrap


class _build_progress:
    """progress(done, total) for build_sheets: a bar on a terminal once a build has over 500 sheets,
    started at the first report (after the worker processes are forked, so they inherit no thread)."""

    def __init__(self) -> None:
        self.bar = None
        self.task = None

    def __enter__(self):  # type: ignore[no-untyped-def]
        return self

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            if total <= 500 or not sys.stderr.isatty():
                return
            from rich.progress import Progress

            self.bar = Progress(console=err, transient=True)
            self.bar.start()
            self.task = self.bar.add_task("building", total=total)
        self.bar.update(self.task, completed=done)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None

    def __exit__(self, *exc) -> None:  # type: ignore[no-untyped-def]
        self.close()


def register(app: typer.Typer) -> None:
    @app.command()
    def build(
        sheets: Path = SHEETS_OPT,
        out: Path = typer.Option(Path("data/studies.ttl"), "--out", help="Where to write the Turtle."),
        check: bool = typer.Option(False, "--check", help="Write nothing; exit 1 if OUT differs from what the sheets build."),
        ntriples: Optional[Path] = typer.Option(None, "--ntriples", help="Also write N-Triples (sorted) here, for bulk loading into a triple store."),
        jobs: Optional[int] = typer.Option(None, "--jobs", min=1, help="Worker processes for large builds (default: the usable CPUs; 1 for none). The output does not depend on it."),
    ) -> None:
        """Build data/studies.ttl from the extraction sheets (deterministic, atomic)."""
        from extract.sheets import is_synthetic
        from kb.build import build_sheets, iter_triples, serialize_ntriples
        from terms.files import sha256, write_atomic

        started = time.perf_counter()
        if is_synthetic(sheets) and out.resolve() == Path("data/studies.ttl").resolve():
            fail(InputError(Problem(str(sheets), "--out", "synthetic sheets (oligokb synth) never go into data/studies.ttl",
                                    "pass --out, e.g. --out /tmp/synth.ttl")))
        with _build_progress() as progress:
            try:
                ex, data, count = build_sheets(sheets, jobs=jobs, progress=progress)
            except OligokbError as exc:
                progress.close()
                fail(exc)
        if check:
            current = out.read_bytes() if out.exists() else b""
            if current != data:
                err.print(f"{out} is stale: it differs from what {sheets} builds. Run `oligokb build` and commit the result.")
                raise typer.Exit(1)
            err.print(f"{out} is up to date ({count} triples, sha256 {sha256(data)[:12]}).")
            return
        write_atomic(out, data)
        if ntriples is not None:
            write_atomic(ntriples, serialize_ntriples(iter_triples(ex)))
        elapsed = time.perf_counter() - started
        err.print(
            f"wrote {out}: {len(ex.studies)} studies, {len(ex.publications)} publications, {count} triples "
            f"in {elapsed:.2f} s (sha256 {sha256(data)[:12]})"
        )

    @app.command()
    def synth(
        studies: int = typer.Option(..., "--studies", min=1, help="How many synthetic studies to write."),
        out: Path = typer.Option(..., "--out", help="An empty (or earlier synthetic) directory, outside data/extractions/."),
        seed: int = typer.Option(1, "--seed", help="Random seed: the same seed and --studies give the same sheets."),
    ) -> None:
        """Write a synthetic knowledge base's extraction sheets (for benchmarks; every number is invented)."""
        from extract.synth import generate

        started = time.perf_counter()
        try:
            counts = generate(studies, out, seed, progress=_progress("writing sheets"))
        except OligokbError as exc:
            fail(exc)
        err.print(f"wrote {out}: {counts['studies']} studies, {counts['publications']} publications, "
                  f"{counts['figures']} figures in {time.perf_counter() - started:.1f} s (seed {seed}). "
                  f"Build it with `oligokb build --sheets {out} --out {out}/studies.ttl`.")

    @app.command()
    def validate(
        sheets: Path = SHEETS_OPT,
        ttl: Optional[Path] = typer.Option(None, "--ttl", help="Validate this Turtle file instead of the graph built from the sheets."),
        cache: Path = typer.Option(Path(".oligokb-cache"), "--cache", help="Where results per sheet are kept, by content hash: only changed sheets are validated again."),
        no_cache: bool = typer.Option(False, "--no-cache", help="Validate every sheet, and keep no results."),
    ) -> None:
        """Check the sheets (schema) and the graph (SHACL shapes). Exit 0 conformant, 1 not, 2 unreadable."""
        from rdflib import Graph

        from extract.sheets import load_extractions
        from kb.validate import report_lines, sheet_files, validate_extractions, validate_graph

        files: dict[str, str] = {}
        if ttl is not None:
            try:
                graph = Graph().parse(ttl, format="turtle")
            except FileNotFoundError:
                err.print(f"{ttl}: the file does not exist")
                raise typer.Exit(2)
            except Exception as exc:  # rdflib raises several parser error types
                err.print(f"{ttl}: not readable Turtle: {exc}")
                raise typer.Exit(2)
            violations = validate_graph(graph)
            what = f"{len(graph)} triples"
        else:
            try:
                ex = load_extractions(sheets)
            except OligokbError as exc:
                fail(exc)
            violations = validate_extractions(ex, cache=None if no_cache else cache, progress=_progress("validating"))
            files = sheet_files(ex)
            what = f"{len(ex.files)} sheets"
        if not violations:
            err.print(f"conformant: {what} satisfy kb/shapes.ttl")
            return
        err.print(f"{len(violations)} SHACL violation(s):")
        for line in report_lines(violations, files):
            err.print(line, markup=False)
        err.print("fix: edit the sheet named on each line, then run `oligokb validate` again")
        raise typer.Exit(1)

    @app.command()
    def summary(kb_file: Path = KB_OPT) -> None:
        """Print studies, publications and figures by histology and oligo-state."""
        from kb.export import evidence_table
        from kb.query import run_named
        from kb.store import load_store

        try:
            graph = load_store(kb_file)  # tables come from the Oxigraph copy (same rows, tests/test_store.py)
        except OligokbError as exc:
            fail(exc)
        table = evidence_table(graph)
        studies = run_named(graph, "studies")
        pubs = run_named(graph, "publications")
        out = Console(highlight=False, width=None if sys.stdout.isatty() else 160)
        out.print(f"oligokb knowledge base {kb_file}: {len(studies)} studies, {pubs['publication_id'].nunique()} publications, {len(table)} figures")
        if table.empty:
            return
        from rich.table import Table

        grid = Table(title="Figures by histology and oligo-state")
        for col in ("histology", "oligo-state", "studies", "publications", "figures", "primary", "secondary"):
            grid.add_column(col, justify="right" if col not in ("histology", "oligo-state") else "left")
        for (hist, state), part in table.groupby(["histology", "oligo_state"], sort=True):
            grid.add_row(hist, state, str(part["study_id"].nunique()), str(part["publication_id"].nunique()), str(len(part)),
                         str((part["publication_role"] == "primary").sum()), str((part["publication_role"] == "secondary").sum()))
        out.print(grid)

    @app.command()
    def query(
        file: Optional[Path] = typer.Argument(None, help="A .rq file with a SELECT, ASK, CONSTRUCT or DESCRIBE query."),
        name: Optional[str] = typer.Option(None, "--name", help="A named query: studies, evidence, publications, provenance."),
        param: list[str] = typer.Option([], "--param", help="key=value for a named query, e.g. histology=nsclc (repeatable)."),
        fmt: str = typer.Option("table", "--format", help="table, csv or json (CONSTRUCT/DESCRIBE: turtle)."),
        kb_file: Path = KB_OPT,
        endpoint: Optional[str] = typer.Option(None, "--endpoint", help="Query this SPARQL 1.1 endpoint (Oxigraph, Virtuoso, Fuseki, oligokb serve) instead of --kb."),
    ) -> None:
        """Run a read-only SPARQL query on the knowledge base. SERVICE, FROM and updates are refused."""
        from kb.query import NAMED_QUERIES, run_named, run_query, solutions_frame
        from kb.store import load_store

        if fmt not in ("table", "csv", "json"):
            err.print(f"--format {fmt!r} is not one of table, csv, json")
            raise typer.Exit(2)
        if (file is None) == (name is None):
            err.print("give either a query FILE or --name NAME (named queries: " + ", ".join(NAMED_QUERIES) + ")")
            raise typer.Exit(2)
        params = parse_params(param)
        try:
            if endpoint is not None:
                from kb.remote import SparqlEndpoint

                graph = SparqlEndpoint(endpoint)  # run_named binds parameters with a checked VALUES block
            else:
                graph = load_store(kb_file)  # Oxigraph: named queries and ad-hoc queries on one engine
            if name is not None:  # as text for table and csv: the materialised tables answer at once (kb.materialise)
                frame = run_named(graph, name, params, lexical=fmt != "json")
            else:
                if params:
                    err.print("--param applies to named queries only")
                    raise typer.Exit(2)
                try:
                    text = file.read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError) as exc:
                    err.print(f"{file}: cannot read the query: {exc}")
                    raise typer.Exit(2)
                if endpoint is not None:
                    form, answer = graph.query(text)  # the guard first; nothing is sent when it refuses
                    if form == "ASK":
                        typer.echo("true" if answer else "false")
                    elif form in ("CONSTRUCT", "DESCRIBE"):
                        typer.echo(answer.serialize(format="turtle"))
                    else:
                        _print_frame(answer, fmt)
                    return
                checked, result = run_query(graph, text)
                if checked.form == "ASK":
                    typer.echo("true" if result else "false")
                    return
                if checked.form in ("CONSTRUCT", "DESCRIBE"):
                    from server.endpoint import distinct_triples, write_triples

                    triples, _ = distinct_triples(result, sys.maxsize)
                    typer.echo(write_triples(triples, "TURTLE").decode("utf-8"))
                    return
                frame = solutions_frame(result, text)
        except OligokbError as exc:
            fail(exc)
        _print_frame(frame, fmt)

    @app.command()
    def serve(
        host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on (0.0.0.0 for every interface)."),
        port: int = typer.Option(7878, "--port", help="TCP port."),
        kb_file: Path = KB_OPT,
        timeout: float = typer.Option(10.0, "--timeout", help="Wall-clock limit per query, seconds; the worker is killed at the limit."),
        max_rows: int = typer.Option(10_000, "--max-rows", help="At most this many result rows (or triples) per answer."),
        workers: int = typer.Option(2, "--workers", help="Worker processes evaluating queries in parallel (each holds the KB)."),
        max_concurrent: int = typer.Option(32, "--max-concurrent", help="Queries admitted at once (running or waiting); more get HTTP 503."),
        max_request_bytes: int = typer.Option(100_000, "--max-request-bytes", help="Largest request body or query string."),
        max_memory_mb: int = typer.Option(2048, "--max-memory-mb", help="Address-space cap of each worker (RLIMIT_AS), MB; a query that needs more gets HTTP 503 and its worker is replaced. 0: no cap."),
        no_vocabularies: bool = typer.Option(False, "--no-vocabularies", help="Serve the --kb file alone (Turtle, N-Triples or RDF/XML), without the bundled vocabularies and ontology: any data can be served (the named queries need the vocabularies)."),
    ) -> None:
        """Serve a read-only SPARQL 1.1 Protocol endpoint (/sparql) and the named queries (/queries/NAME).

        SERVICE, FROM and updates are refused (HTTP 400); each query runs in a worker killed at --timeout
        and capped at --max-memory-mb.
        """
        from kb.query import load_kb
        from server.endpoint import Limits
        from server.endpoint import serve as run_server

        if min(timeout, max_rows, workers, max_concurrent, max_request_bytes) <= 0 or max_memory_mb < 0:
            err.print("--timeout, --max-rows, --workers, --max-concurrent and --max-request-bytes must be positive, "
                      "--max-memory-mb 0 or more")
            raise typer.Exit(2)
        try:
            if not kb_file.exists():
                load_kb(kb_file)  # raises the friendly error
            run_server(kb_file, host, port, Limits(timeout=timeout, max_rows=max_rows, max_request_bytes=max_request_bytes,
                                                   max_concurrent=max_concurrent, workers=workers, max_memory_mb=max_memory_mb,
                                                   vocabularies=not no_vocabularies),
                       echo=lambda line: err.print(line, markup=False))
        except OligokbError as exc:
            fail(exc)

    @app.command()
    def export(
        fmt: str = typer.Option("csv", "--format", help="csv (the evidence table), ttl or jsonld (the graph)."),
        out: Optional[Path] = typer.Option(None, "--out", help="Write here (atomically) instead of standard output."),
        param: list[str] = typer.Option([], "--param", help="Filter the evidence table: histology=, oligo_state=, outcome=, statistic=, design=, study=."),
        kb_file: Path = KB_OPT,
        endpoint: Optional[str] = typer.Option(None, "--endpoint", help="Read the evidence table from this SPARQL 1.1 endpoint (a store holding the KB and the vocabularies) instead of --kb."),
    ) -> None:
        """Export the evidence table (one row per figure, docs/export-contract.md) or the graph."""
        from kb.turtle import bind_prefixes
        from terms.files import write_atomic
        from kb.export import evidence_table
        from kb.query import load_kb
        from kb.store import load_store

        if fmt not in ("csv", "ttl", "jsonld"):
            err.print(f"--format {fmt!r} is not one of csv, ttl, jsonld")
            raise typer.Exit(2)
        params = parse_params(param)
        try:
            if fmt == "csv":
                if endpoint is not None:
                    from kb.remote import SparqlEndpoint

                    source = SparqlEndpoint(endpoint)
                else:
                    source = load_store(kb_file)
                data = evidence_table(source, params).to_csv(index=False, lineterminator="\n").encode("utf-8")
            else:
                if params:
                    err.print("--param filters the csv evidence table only")
                    raise typer.Exit(2)
                from rdflib import Graph

                if not kb_file.exists():
                    load_kb(kb_file)  # raises the friendly error
                graph = bind_prefixes(Graph()).parse(kb_file, format="turtle")
                data = graph.serialize(format="json-ld" if fmt == "jsonld" else "turtle", encoding="utf-8")
        except OligokbError as exc:
            fail(exc)
        if out is None:
            sys.stdout.buffer.write(data)
        else:
            write_atomic(out, data)
            err.print(f"wrote {out}")


def parse_params(items: list[str]) -> dict[str, str]:
    """--param key=value (repeatable) -> a dict; exit 2 naming the item that is not key=value."""
    params = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            err.print(f"--param {item!r}: write key=value, e.g. histology=nsclc")
            raise typer.Exit(2)
        params[key.strip()] = value.strip()
    return params


def _print_frame(frame, fmt: str) -> None:  # type: ignore[no-untyped-def]
    if fmt == "csv":
        sys.stdout.write(frame.to_csv(index=False, lineterminator="\n"))
    elif fmt == "json":
        import json

        records = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
        sys.stdout.write(json.dumps(records, ensure_ascii=False, indent=1, default=str) + "\n")
    else:
        import pandas as pd

        with pd.option_context("display.max_rows", 500, "display.max_columns", 50, "display.width", 200, "display.max_colwidth", 60):
            typer.echo(frame.to_string(index=False) if not frame.empty else "(no rows)")


def register_curation(app: typer.Typer) -> None:
    @app.command()
    def conflicts(
        fmt: str = typer.Option("md", "--format", help="md (a readable report) or csv."),
        kind: str = typer.Option("all", "--kind", help="all, disagreement (no later report explains it) or "
                                 "'later data cut' (a later report supersedes the one quoted)."),
        kb_file: Path = KB_OPT,
    ) -> None:
        """List every figure on which two reports of one study disagree (value, CI, n), with both quotes.

        Each pair is a disagreement or a later data cut: a secondary report is compared through the report it
        quotes (`quotes` in its sheet), and a report superseded by a later one explains a difference."""
        from kb.conflicts import KINDS, conflicts_markdown, find_conflicts
        from kb.export import evidence_table
        from kb.store import load_store

        if fmt not in ("md", "csv"):
            err.print(f"--format {fmt!r} is not one of md, csv")
            raise typer.Exit(2)
        if kind != "all" and kind not in KINDS:
            err.print(f"--kind {kind!r} is not one of all, " + ", ".join(repr(k) for k in KINDS))
            raise typer.Exit(2)
        try:
            store = load_store(kb_file)  # conflicts are kept once per KB version (kb.materialise)
            found = store.cached("conflicts", lambda: find_conflicts(evidence_table(store)))
        except OligokbError as exc:
            fail(exc)
        if kind != "all":
            found = found[found["kind"] == kind].reset_index(drop=True)
        if fmt == "csv":
            sys.stdout.write(found.to_csv(index=False, lineterminator="\n"))
        else:
            sys.stdout.write(conflicts_markdown(found))

    @app.command()
    def coverage(
        source: Path = typer.Argument(..., help="Plain text of the publication (e.g. ../shared/seeds/004_....txt)."),
        publication: str = typer.Option(..., "--publication", help="The publication id whose sheet is checked."),
        sheets: Path = SHEETS_OPT,
        show: str = typer.Option("missing", "--show", help="missing (default), all, or none: which mentions to list."),
    ) -> None:
        """Find the statistic mentions in a text and say which are in the sheet of that publication.

        Exit 0 when every mention is covered or listed in the sheet's left_out, 1 when some are missing.
        """
        from extract.coverage import coverage as find_coverage
        from extract.sheets import load_extractions

        try:
            text = source.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            err.print(f"{source}: cannot read the text: {exc}")
            raise typer.Exit(2)
        try:
            ex = load_extractions(sheets)
        except OligokbError as exc:
            fail(exc)
        pub = ex.publications.get(publication)
        if pub is None:
            err.print(f"--publication {publication!r} has no sheet in {sheets}/publications; known: {', '.join(sorted(ex.publications))}")
            raise typer.Exit(2)
        figures: list[tuple[str, list[str]]] = []
        left_out: list[str] = []
        for report in pub.reports:
            left_out.extend(report.left_out)
            for group in report.groups:
                if group.source is not None and group.n is not None:
                    figures.append((group.source.quote, [str(group.n)]))
            for stat in report.statistics:
                numbers = [format(stat.value, "f")]
                if stat.ci is not None:
                    numbers += [format(stat.ci.low, "f"), format(stat.ci.level * 100, "f")]
                    if stat.ci.high is not None:
                        numbers.append(format(stat.ci.high, "f"))
                if stat.p_value:
                    numbers.append(stat.p_value.lstrip("<>=≤≥ "))
                if stat.timepoint_months is not None:
                    numbers.append(format(stat.timepoint_months, "f"))
                figures.append((stat.source.quote, numbers))
        for study in ex.studies.values():
            for src in [i.source for i in study.oligo_state.inputs] + ([study.histology_composition.source] if study.histology_composition else []):
                if src.publication == publication:
                    figures.append((src.quote, re.findall(r"\d+(?:[.,]\d+)?", src.quote)))
        results = find_coverage(text, figures, left_out)
        counts = {status: sum(1 for _, s in results if s == status) for status in ("covered", "left out", "MISSING")}
        out = Console(highlight=False, width=None if sys.stdout.isatty() else 160)
        for mention, status in results:
            if show == "all" or (show == "missing" and status == "MISSING"):
                out.print(f"[{status}] {mention.kind} {', '.join(mention.numbers)}: …{mention.context}…", markup=False)
        out.print(f"{publication}: {len(results)} statistic mentions: {counts['covered']} covered, "
                  f"{counts['left out']} left out with a reason, {counts['MISSING']} missing", markup=False)
        if counts["MISSING"]:
            raise typer.Exit(1)
