"""Knowledge-base commands: build, validate, summary, query, export."""
from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.progress import track

from kb.errors import OligokbError

err = Console(stderr=True, highlight=False)

SHEETS_OPT = typer.Option(Path("data/extractions"), "--sheets", help="Directory of extraction sheets (studies/, publications/).")
KB_OPT = typer.Option(Path("data/studies.ttl"), "--kb", help="The knowledge-base Turtle file.")


def fail(exc: OligokbError) -> None:
    err.print(str(exc), markup=False)
    raise typer.Exit(exc.exit_code)


def _progress(total_hint: int):
    # Progress bars only when the build is big enough to take seconds and a person is watching.
    def wrap(items):
        items = list(items)
        if len(items) > 500 and sys.stderr.isatty():
            return track(items, description="building", console=err, transient=True)
        return items

    return wrap


def register(app: typer.Typer) -> None:
    @app.command()
    def build(
        sheets: Path = SHEETS_OPT,
        out: Path = typer.Option(Path("data/studies.ttl"), "--out", help="Where to write the Turtle."),
        check: bool = typer.Option(False, "--check", help="Write nothing; exit 1 if OUT differs from what the sheets build."),
        ntriples: Optional[Path] = typer.Option(None, "--ntriples", help="Also write N-Triples (sorted) here, for bulk loading into a triple store."),
    ) -> None:
        """Build data/studies.ttl from the extraction sheets (deterministic, atomic)."""
        from extract.sheets import load_extractions
        from kb.build import build_graph, serialize, sha256, write_atomic

        started = time.perf_counter()
        try:
            ex = load_extractions(sheets)
        except OligokbError as exc:
            fail(exc)
        graph = build_graph(ex, progress=_progress(len(ex.publications)))
        data = serialize(graph)
        if check:
            current = out.read_bytes() if out.exists() else b""
            if current != data:
                err.print(f"{out} is stale: it differs from what {sheets} builds. Run `oligokb build` and commit the result.")
                raise typer.Exit(1)
            err.print(f"{out} is up to date ({len(graph)} triples, sha256 {sha256(data)[:12]}).")
            return
        write_atomic(out, data)
        if ntriples is not None:
            lines = sorted(set(graph.serialize(format="nt", encoding="utf-8").decode("utf-8").splitlines()))
            write_atomic(ntriples, ("\n".join(line for line in lines if line) + "\n").encode("utf-8"))
        elapsed = time.perf_counter() - started
        err.print(
            f"wrote {out}: {len(ex.studies)} studies, {len(ex.publications)} publications, {len(graph)} triples "
            f"in {elapsed:.2f} s (sha256 {sha256(data)[:12]})"
        )
