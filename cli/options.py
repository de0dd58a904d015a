"""Options shared by several commands, and the choices of --measure, --method and --test, generated from
where they are defined (analysis.options)."""

from __future__ import annotations

import sys
from enum import Enum
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from analysis.options import MEASURES, METHODS, TESTS

if TYPE_CHECKING:
    from rich.console import Console


class _Stderr:
    """rich's Console on stderr, made at the first message: importing rich.console would add to the start-up
    of every command, most of which print nothing through it (docs/performance.md)."""

    @cached_property
    def console(self) -> Console:
        from rich.console import Console

        return Console(stderr=True, highlight=False, width=None if sys.stderr.isatty() else 200)

    def print(self, *objects: Any, **kwargs: Any) -> None:
        self.console.print(*objects, **kwargs)


#: Messages and progress of the knowledge-base commands (stderr; 200 columns when not a terminal).
err = _Stderr()

SHEETS_OPT = typer.Option(
    Path("data/extractions"), "--sheets", help="Directory of extraction sheets (studies/, publications/)."
)
KB_OPT = typer.Option(Path("data/studies.ttl"), "--kb", help="The knowledge-base Turtle file.")


def _choices(name: str, values: tuple[str, ...]) -> Any:
    """A str Enum of `values` (typer shows and checks its members as the option's choices)."""
    return Enum(name, [(v, v) for v in values], type=str)


Measure = _choices("Measure", MEASURES)
Method = _choices("Method", METHODS)
Test = _choices("Test", TESTS)

#: Output formats of the commands that print a table.
TABLE_FORMATS = ("table", "csv", "json")

TIERS_HELP = (
    "Evidence tiers to pool: 'own' (the trials' own reports: 1 full report, 2 abstract), ranks like "
    "1,2,3 (3 conference abstract, 4 registry results, 5 review, 6 coverage page), names, or 'all' "
    "(the default: each study's latest data cut from the best tier available)."
)
STRATUM_LEVEL_HELP = (
    "Level of the --by vocabulary columns: histology=1 (the default: NSCLC with its narrower "
    "terms, prostate with both castration states, ...), histology=2 (finer), histology=term (as "
    "extracted); the same for oligo_state."
)


def by_columns(by: str | None) -> tuple[str, ...]:
    """--by histology,oligo_state -> ("histology", "oligo_state")."""
    return tuple(c.strip() for c in (by or "").split(",") if c.strip())


def policy_options(
    tiers: str | None, include_secondary: bool, stratum_level: str | None, exclude_flags: list[str] | None = None
) -> dict[str, Any]:
    """The pooling policy's choices as keyword arguments of analysis.kb_pool (checked there); a curation
    flag may be written by its label or in any case, like every term on the command line."""
    return {
        "tiers": "all" if include_secondary and tiers is None else tiers,
        "levels": stratum_level,
        "exclude_flags": tuple(_flag_id(f) for f in exclude_flags or ()),
    }


def _flag_id(text: str) -> str:
    from terms.errors import UnknownTermError
    from terms.vocabulary import term_id

    try:
        return term_id("curation_flag", text)
    except UnknownTermError:
        return text  # analysis.flag_rule refuses it, listing the flags
