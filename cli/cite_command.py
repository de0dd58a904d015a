"""`oligokb cite`: citations of the reports behind a selection of figures, and of the knowledge base."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from cli.errors import ArgumentError, console_printer, reports_errors
from cli.options import KB_OPT, err

reported = reports_errors(console_printer())


@reported
def cite(
    fmt: str = typer.Option("ris", "--format", help="ris (reference managers: Zotero, EndNote, Mendeley) or bibtex."),
    param: list[str] = typer.Option(
        [],
        "--param",
        help="Cite only the reports with a figure that matches, as in export: histology=, oligo_state=, outcome=, "
        "statistic=, design=, study= (repeatable). Without it, every report in the knowledge base.",
    ),
    out: Path | None = typer.Option(None, "--out", help="Write here (whole or not at all) instead of standard output."),
    kb_file: Path = KB_OPT,
    endpoint: str | None = typer.Option(
        None,
        "--endpoint",
        help="Read the reports from this SPARQL 1.1 endpoint instead of --kb (the knowledge base itself is then not cited: it has no file to take a version from).",
    ),
) -> None:
    """Cite the reports the figures were read in (DOI, PMID, title, first author, journal, year, the URL and
    date of a page read on the web) and the knowledge base itself (its file's SHA-256 as the version), as
    RIS or BibTeX."""
    from kb.backend import open_kb
    from kb.cite import CITE_FORMATS, citations
    from kb.params import parse_params
    from terms.files import write_atomic

    if fmt not in CITE_FORMATS:
        raise ArgumentError(f"--format {fmt!r} is not one of {', '.join(CITE_FORMATS)}")
    params = parse_params(param)
    kb = open_kb(kb_file, endpoint)
    text, count = citations(kb, None if endpoint else kb_file, params, fmt)
    data = text.encode("utf-8")
    if out is None:
        sys.stdout.buffer.write(data)
    else:
        write_atomic(out, data)
        err.print(f"wrote {out}: {count} publications" + ("" if endpoint else " and the knowledge base"))
