"""Option values converted without pydantic where typer's conversion is plain.

typer (0.29) converts every option's value through a pydantic TypeAdapter, and importing pydantic's
adapter machinery (typer._adapters: pydantic.fields, types, json_schema) takes 0.05-0.1 s of every
command's start-up, more than the adapters then do for our options: str, int, float, bool, Path, a
str Enum (the choices) and list[str]. `PlainValue` gives the answer typer's adapter gives for the values
a command line and the options' defaults hold (a str, a number written in plain decimals, an Enum member
or its name, a Path) with typer's own functions for choices and paths; any other value, and every value
it cannot convert, goes to typer's adapter, so a wrong value gets typer's own message.
`tests/test_cli_coercion.py` checks both answers are equal for every option of every command.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, get_args

try:  # typer's internals: if a later typer moves them, every option keeps typer's own conversion
    from typer._coercion import RuntimeParam, TypeDescriptor, build_runtime_param
    from typer._param_types import coerce_cli_choice, coerce_cli_path, lenient_issubclass
    from typer.core import _TyperParameter
except ImportError:  # pragma: no cover - depends on the installed typer
    RuntimeParam = None  # type: ignore[assignment,misc]

#: A value `plain_value` leaves to typer's adapter.
UNDECIDED: Any = object()
_INTEGER = re.compile(r"[+-]?[0-9]{1,18}")
_DECIMAL = re.compile(r"[+-]?[0-9]{1,18}(?:\.[0-9]{1,18})?")


def plain_value(descriptor: Any, value: Any, ctx: Any = None) -> Any:
    """What typer's TypeAdapter for `descriptor` answers for `value`, or UNDECIDED (ask the adapter)."""
    info = descriptor.parameter_info
    if descriptor.file_annotation is not None or info.parser is not None or descriptor.is_tuple:
        return UNDECIDED
    if descriptor.is_list:
        (item_type,) = get_args(descriptor.annotation)
        if not isinstance(value, (list, tuple)):
            return UNDECIDED
        items = [_leaf(item_type, info, item, ctx) for item in value]
        return UNDECIDED if any(item is UNDECIDED for item in items) else items
    return _leaf(descriptor.annotation, info, value, ctx)


def _leaf(annotation: Any, info: Any, value: Any, ctx: Any) -> Any:
    """typer._adapters.build_leaf_adapter's cases, in its order, for the annotations our commands use."""
    if lenient_issubclass(annotation, Enum):
        try:
            return coerce_cli_choice(value, choices=list(annotation), case_sensitive=info.case_sensitive, ctx=ctx)
        except ValueError:
            return UNDECIDED
    if annotation in (int, float) and (info.min is not None or info.max is not None or info.clamp):
        return UNDECIDED
    if annotation is float:
        if type(value) is float:
            return value
        return float(value) if type(value) is str and _DECIMAL.fullmatch(value) else UNDECIDED
    if annotation is int:
        if type(value) is int:
            return value
        return int(value) if type(value) is str and _INTEGER.fullmatch(value) else UNDECIDED
    if annotation is bool:
        return value if type(value) is bool else UNDECIDED
    if annotation is str:
        return value if type(value) is str else UNDECIDED
    if lenient_issubclass(annotation, Path) and info.path_type is None:
        if type(value) is str:
            value = annotation(value)
        if not isinstance(value, annotation):
            return UNDECIDED
        try:
            return coerce_cli_path(value, info, path_type=annotation, ctx=ctx)
        except Exception:  # noqa: BLE001 - typer's adapter says what is wrong, in its words
            return UNDECIDED
    return UNDECIDED


if RuntimeParam is not None:

    @dataclass(frozen=True)
    class PlainValue(RuntimeParam):
        """typer's conversion of one option: plain values here, the rest by typer's adapter."""

        descriptor: TypeDescriptor

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            done = plain_value(self.descriptor, value, ctx)
            if done is not UNDECIDED:
                return done
            return build_runtime_param(self.descriptor)._coerce_value(value, param=param, ctx=ctx)


def install(command: Any, ctx: Any) -> Any:
    """Give every typer option and argument of `command` (and of its subcommands), its --help included,
    `PlainValue`; returns `command`. Call it on the click command typer built, before it parses; `ctx`: the
    context it parses in or its parent's (whose help option names it inherits: no command of ours sets
    its own; None: the options without --help)."""
    if RuntimeParam is None:  # pragma: no cover - depends on the installed typer
        return command
    for param in command.get_params(ctx) if ctx is not None else command.params:
        if isinstance(param, _TyperParameter) and param._runtime_param is None:
            descriptor = param.type_descriptor
            param._runtime_param = PlainValue(
                parameter_info=descriptor.parameter_info, annotation=descriptor.annotation, descriptor=descriptor
            )
    for sub in getattr(command, "commands", {}).values():
        install(sub, ctx)
    return command
