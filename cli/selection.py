"""The selection options of `oligokb pool kb`, given once to every command that analyses a pool (`grade`,
`leave-one-out`, `cumulative`, `funnel`, `rob-sensitivity`): same options, same policy, same --param filters."""

# No `from __future__ import annotations`: typer reads these signatures, built at import time.
import functools
import inspect
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from cli.errors import ArgumentError
from cli.options import Method, Test, by_columns, policy_options
from cli.pool_commands import (
    ENDPOINT_OPT,
    EXCLUDE_FLAG_OPT,
    KB_FILE_OPT,
    LEVEL_OPT,
    METHOD_OPT,
    OUTCOME_HELP,
    PARAM_OPT,
    SECONDARY_OPT,
    STATISTIC_HELP,
    STRATUM_LEVEL_OPT,
    TEST_OPT,
    TIERS_OPT,
    TIMEPOINT_HELP,
    check_level,
    kb_evidence,
    pool_selection,
)
from kb.params import parse_params

PLOT_SUFFIXES = (".svg", ".png", ".pdf")

_P = inspect.Parameter
#: The selection options of `pool kb`, in its order: name, default (the typer option), type.
_SELECTION = (
    ("outcome", typer.Option(..., "--outcome", help=OUTCOME_HELP), str),
    ("statistic", typer.Option(..., "--statistic", help=STATISTIC_HELP), str),
    (
        "by",
        typer.Option(
            None,
            "--by",
            metavar="COLUMN[,COLUMN]",
            help="Evidence-table columns, comma-separated, e.g. histology,oligo_state.",
        ),
        str | None,
    ),
    ("timepoint", typer.Option(None, "--timepoint", help=TIMEPOINT_HELP), float | None),
    ("method", METHOD_OPT, Method),
    ("test", TEST_OPT, Test),
    ("level", LEVEL_OPT, float),
    ("tiers", TIERS_OPT, str | None),
    ("include_secondary", SECONDARY_OPT, bool),
    ("stratum_level", STRATUM_LEVEL_OPT, str | None),
    ("exclude_flag", EXCLUDE_FLAG_OPT, list[str] | None),
    ("param", PARAM_OPT, list[str]),
    ("kb_file", KB_FILE_OPT, Path),
    ("endpoint", ENDPOINT_OPT, str | None),
)


def selection_command(formats: tuple[str, ...]) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """A decorator giving `command(result, source, **own options)` the selection options of `pool kb`
    (--param included): the wrapper takes them, checks --level, --format (one of `formats`) and --plot,
    pools the selection (cli.pool_commands.pool_selection) and passes the KBPool on, with `source` = (the KB
    file, the endpoint or None) it was read from."""
    return functools.partial(_with_selection, formats=formats)


def _with_selection(command: Callable[..., None], formats: tuple[str, ...]) -> Callable[..., None]:
    own = list(inspect.signature(command).parameters.values())[2:]
    names = [name for name, _, _ in _SELECTION]

    @functools.wraps(command)
    def run(**kwargs: Any) -> None:
        s = {name: kwargs.pop(name) for name in names}
        check_level(s["level"])
        fmt = kwargs.get("output_format")
        if fmt is not None and fmt not in formats:
            raise ArgumentError(f"--format {fmt!r} is not one of {', '.join(formats)}")
        plot = kwargs.get("plot")
        if plot is not None and plot.suffix.lower() not in PLOT_SUFFIXES:
            raise ArgumentError(f"--plot {plot}: the file must end in .svg, .png or .pdf")
        result = pool_selection(
            s["kb_file"],
            s["outcome"],
            s["statistic"],
            by_columns(s["by"]),
            s["timepoint"],
            s["method"].value,
            s["test"].value,
            s["level"],
            policy_options(s["tiers"], s["include_secondary"], s["stratum_level"], s["exclude_flag"]),
            s["endpoint"],
            table=kb_evidence(s["kb_file"], s["endpoint"], parse_params(s["param"])),
        )
        if not result.pools:
            raise ArgumentError(
                "no estimate passes the pooling policy; `oligokb pool kb` with the same options lists why"
            )
        for message in result.warnings:
            print(f"warning: {message}", file=sys.stderr)
        command(result, (s["kb_file"], s["endpoint"]), **kwargs)

    params = [_P(name, _P.KEYWORD_ONLY, default=opt, annotation=kind) for name, opt, kind in _SELECTION]
    run.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        params + [p.replace(kind=_P.KEYWORD_ONLY) for p in own]
    )
    return run
