"""Typed errors and warnings of the analysis engine.

They descend from the project's error root (terms.errors.OligokbError), whose `exit_code` the CLI
maps to the process's exit status: `InputError`/`OptionError` 2 (bad input), `ConvergenceError` 3.

Warnings subclass `RuntimeWarning` and say what to check.
"""

from __future__ import annotations

from terms import errors as root


class AnalysisError(root.OligokbError):
    """Base class of every error raised by `analysis`."""


class InputError(AnalysisError, root.InputError, ValueError):
    """A data value cannot be used: names the file, row, column and the problem.

    `row` is 1-based for data rows of a file (the header is row 0) and 0-based for arrays
    passed to the API (`source` is then None); the message says which.
    """

    def __init__(self, problem: str, *, row: int | None = None, column: str | None = None, source: str | None = None):
        self.problem = problem
        self.row = row
        self.column = column
        self.source = source
        where = []
        if source is not None:
            where.append(f"{source}")
        if row is not None:
            where.append(f"row {row}" if source is not None else f"index {row}")
        if column is not None:
            where.append(f"column '{column}'")
        prefix = ", ".join(where)
        # One problem, in the shape every bad-input error has (terms.errors.Problem); the message
        # stays the short one-line form.
        self.problems = [root.Problem(source or "", ", ".join(where[1:] if source is not None else where), problem)]
        Exception.__init__(self, f"{prefix}: {problem}" if prefix else problem)


class OptionError(AnalysisError, ValueError):
    """An option has a value that is not allowed; names the argument, value and what is allowed."""

    exit_code = 2

    def __init__(self, argument: str, value: object, allowed: str):
        self.argument = argument
        self.value = value
        self.allowed = allowed
        super().__init__(f"{argument}={value!r} is not {allowed}")


class ConvergenceError(AnalysisError, RuntimeError):
    """An iterative estimator did not converge within `maxiter` iterations."""


class AnalysisWarning(RuntimeWarning):
    """Base class of the analysis engine's warnings."""


class MidpointWarning(AnalysisWarning):
    """A ratio estimate is far from the geometric midpoint of its CI.

    Check: the CI level (80/90/95 %), whether the estimate and CI come from the same model
    (univariable vs multivariable), typos in the bounds, and whether the CI is asymmetric by
    construction (profile likelihood, log-log).
    """


class SmallKWarning(AnalysisWarning):
    """The requested test was replaced because k is too small (metafor: test='z' when k = 1)."""


class ModelWarning(AnalysisWarning):
    """An option combination runs but is not meant to be used (e.g. Knapp-Hartung with FE)."""
