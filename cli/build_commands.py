"""Commands that write or check the knowledge base: build, synth, validate."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import typer

from cli.errors import ArgumentError, console_printer, reports_errors
from cli.options import SHEETS_OPT, err
from terms.errors import InputError, Problem

reported = reports_errors(console_printer())


def _progress(description: str = "building") -> Callable[[Iterable[Any]], Iterable[Any]]:
    # Progress bars only when the work is big enough to take seconds and a person is watching.
    def wrap(items: Iterable[Any]) -> Iterable[Any]:
        items = list(items)
        if len(items) > 500 and sys.stderr.isatty():
            from rich.progress import track

            return track(items, description=description, console=err.console, transient=True)
        return items

    return wrap


class _build_progress:
    """progress(done, total) for build_sheets: a bar on a terminal once a build has over 500 sheets,
    started at the first report (after the worker processes are forked, so they inherit no thread)."""

    def __init__(self) -> None:
        self.bar: Any = None
        self.task: Any = None

    def __enter__(self) -> _build_progress:
        return self

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            if total <= 500 or not sys.stderr.isatty():
                return
            from rich.progress import Progress

            self.bar = Progress(console=err.console, transient=True)
            self.bar.start()
            self.task = self.bar.add_task("building", total=total)
        self.bar.update(self.task, completed=done)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None

    def __exit__(self, *exc: object) -> None:
        self.close()


@reported
def build(
    sheets: Path = SHEETS_OPT,
    out: Path = typer.Option(Path("data/studies.ttl"), "--out", help="Where to write the Turtle."),
    check: bool = typer.Option(
        False, "--check", help="Write nothing; exit 1 if OUT differs from what the sheets build."
    ),
    ntriples: Path | None = typer.Option(
        None, "--ntriples", help="Also write N-Triples (sorted) here, for bulk loading into a triple store."
    ),
    jobs: int | None = typer.Option(
        None,
        "--jobs",
        min=1,
        help="Worker processes for large builds (default: the usable CPUs; 1 for none). The output does not depend on it.",
    ),
) -> None:
    """Build data/studies.ttl from the extraction sheets (deterministic, atomic)."""
    from extract.sheets import is_synthetic
    from kb.build import build_sheets, iter_triples, serialize_ntriples
    from terms.files import sha256, write_atomic

    started = time.perf_counter()
    if is_synthetic(sheets) and out.resolve() == Path("data/studies.ttl").resolve():
        raise InputError(
            Problem(
                str(sheets),
                "--out",
                "synthetic sheets (oligokb synth) never go into data/studies.ttl",
                "pass --out, e.g. --out /tmp/synth.ttl",
            )
        )
    with _build_progress() as progress:
        ex, data, count = build_sheets(sheets, jobs=jobs, progress=progress)
    if check:
        current = out.read_bytes() if out.exists() else b""
        if current != data:
            err.print(
                f"{out} is stale: it differs from what {sheets} builds. Run `oligokb build` and commit the result."
            )
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


@reported
def synth(
    studies: int = typer.Option(..., "--studies", min=1, help="How many synthetic studies to write."),
    out: Path = typer.Option(
        ..., "--out", help="An empty (or earlier synthetic) directory, outside data/extractions/."
    ),
    seed: int = typer.Option(1, "--seed", help="Random seed: the same seed and --studies give the same sheets."),
) -> None:
    """Write a synthetic knowledge base's extraction sheets (for benchmarks; every number is invented)."""
    from extract.synth import generate

    started = time.perf_counter()
    counts = generate(studies, out, seed, progress=_progress("writing sheets"))
    err.print(
        f"wrote {out}: {counts['studies']} studies, {counts['publications']} publications, "
        f"{counts['figures']} figures in {time.perf_counter() - started:.1f} s (seed {seed}). "
        f"Build it with `oligokb build --sheets {out} --out {out}/studies.ttl`."
    )


@reported
def validate(
    sheets: Path = SHEETS_OPT,
    ttl: Path | None = typer.Option(
        None, "--ttl", help="Validate this Turtle file instead of the graph built from the sheets."
    ),
    cache: Path = typer.Option(
        Path(".oligokb-cache"),
        "--cache",
        help="Where results per sheet are kept, by content hash: only changed sheets are validated again.",
    ),
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
            raise ArgumentError(f"{ttl}: the file does not exist") from None
        except Exception as exc:  # rdflib raises several parser error types
            raise ArgumentError(f"{ttl}: not readable Turtle: {exc}") from None
        violations = validate_graph(graph)
        what = f"{len(graph)} triples"
    else:
        ex = load_extractions(sheets)
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
