"""Options of the analysis engine and their declarative checks.

Every public entry point validates its options here on entry; a failure raises
`OptionError` whose message names the argument, the value and what is allowed, e.g.
``method='XYZ' is not one of FE, DL, REML, PM, ML, HE, SJ, EB``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

from analysis.errors import OptionError

# The estimator names are the registry's; the convergence constants are the estimators' own.
from analysis.tau2 import MAXITER, METHODS, ROOT_XTOL, THRESHOLD  # noqa: F401 - re-exported

TESTS = ("z", "knha", "adhoc")
MEASURES = ("GEN", "PLO", "PFT")
EGGER_MODELS = ("rma", "lm")


@dataclass(frozen=True)
class Choice:
    allowed: tuple[str, ...]

    def check(self, name: str, value: object) -> None:
        if value not in self.allowed:
            raise OptionError(name, value, "one of " + ", ".join(self.allowed))


@dataclass(frozen=True)
class OpenInterval:
    low: float
    high: float
    hint: str = ""

    def check(self, name: str, value: object) -> None:
        if (
            not isinstance(value, (int, float))
            or isinstance(value, bool)
            or not math.isfinite(value)
            or not (self.low < value < self.high)
        ):
            raise OptionError(name, value, f"a number in ({self.low:g}, {self.high:g}){self.hint}")


@dataclass(frozen=True)
class PositiveInt:
    def check(self, name: str, value: object) -> None:
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise OptionError(name, value, "a positive integer")


class Constraint(Protocol):
    def check(self, name: str, value: object) -> None: ...


CONSTRAINTS: dict[str, Constraint] = {
    "method": Choice(METHODS),
    "test": Choice(TESTS),
    "measure": Choice(MEASURES),
    "model": Choice(EGGER_MODELS),
    "level": OpenInterval(0.0, 1.0, " (a fraction: 0.95 for a 95 % interval)"),
    "ci_level": OpenInterval(0.0, 1.0, " (a fraction: 0.80 for an 80 % CI)"),
    "threshold": OpenInterval(0.0, 1.0),
    "maxiter": PositiveInt(),
}


def check_options(**options: object) -> None:
    """Check each keyword against its constraint in `CONSTRAINTS` (unknown names are a bug)."""
    for name, value in options.items():
        CONSTRAINTS[name].check(name, value)
