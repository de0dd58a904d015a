"""cli.coercion converts option values without pydantic: for every option of every command it must answer
what typer's own pydantic adapter answers, and leave to the adapter (UNDECIDED) what it cannot convert, so a
wrong value still gets typer's message. The expectations are typer's adapters' answers, computed here."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer._adapters import try_build_adapter
from typer.core import _TyperParameter
from typer.testing import CliRunner

from cli import full_app
from cli.coercion import UNDECIDED, PlainValue, install, plain_value
from cli.pool_commands import _legacy_app


def every_parameter() -> list[tuple[str, Any]]:
    """(command path, typer parameter) of every option and argument, today's `pool` spelling included."""
    found: list[tuple[str, Any]] = []

    def walk(command: Any, path: str) -> None:
        found.extend((f"{path} {p.name}", p) for p in command.params if isinstance(p, _TyperParameter))
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, f"{path} {name}")

    walk(typer.main.get_command(full_app()), "oligokb")
    walk(typer.main.get_command(_legacy_app), "oligokb pool (today's spelling)")
    return found


PARAMETERS = every_parameter()

#: What a command line or a default can hold, the awkward ones included.
TEXTS = ["", "0", "1", "-1", "+2", "007", "95", "95.0", "1.5", "-0.25", ".5", "5.", "1e3", "1_000", " 3", "3 ", "nan"]
TEXTS += ["inf", "true", "no", "REML", "reml", "DL", "knha", "GEN", "overall survival", "data/studies.ttl", "-", "é"]
VALUES: list[Any] = [*TEXTS, 0, 7, -3, 2.5, 95.0, True, False, Path("data/studies.ttl"), Path("no/such/file")]


def adapter_answer(descriptor: Any, value: Any) -> tuple[str, Any]:
    adapter = try_build_adapter(descriptor.annotation, descriptor.parameter_info)
    assert adapter is not None
    try:
        return "value", adapter.validate_python(value)
    except Exception as exc:  # noqa: BLE001 - any refusal: ours must then be UNDECIDED
        return "refused", type(exc).__name__


def test_the_walk_finds_every_kind_of_option_we_declare() -> None:
    kinds = {
        getattr(p.type_descriptor.annotation, "__name__", str(p.type_descriptor.annotation)) for _, p in PARAMETERS
    }
    assert {"str", "float", "int", "bool", "Path", "Method", "Test", "Measure", "list"} <= kinds
    assert len(PARAMETERS) > 100


@pytest.mark.parametrize("where,param", PARAMETERS, ids=[w for w, _ in PARAMETERS])
def test_each_option_converts_as_typer_converts_it(where: str, param: Any) -> None:
    descriptor = param.type_descriptor
    values = VALUES if not descriptor.is_list else [[], ["a"], ["a", "b"], ("x=1", "y"), [1], "a", ["007", ""]]
    converted = 0
    for value in values:
        ours = plain_value(descriptor, value)
        expected = adapter_answer(descriptor, value)
        if ours is UNDECIDED:
            continue
        converted += 1
        assert expected == ("value", ours), f"{where}: {value!r}"
        assert type(ours) is type(expected[1]), f"{where}: {value!r}"
        if isinstance(ours, list):
            assert [type(x) for x in ours] == [type(x) for x in expected[1]]
    if descriptor.annotation in (str, float, bool, Path) or isinstance(descriptor.annotation, type(Enum)):
        assert converted > 0, f"{where}: nothing converted without the adapter"


def test_a_refused_value_gets_typers_own_message() -> None:
    from cli import command_app
    from cli.pool_commands import pool_app

    typer_own = typer.Typer(add_completion=False, rich_markup_mode=None)  # no cli.coercion: typer's adapters
    typer_own.callback()(lambda: None)
    typer_own.add_typer(pool_app, name="pool")
    runner = CliRunner()
    for args in (
        ["pool", "kb", "--outcome", "x", "--statistic", "y", "--level", "abc"],
        ["pool", "kb", "--outcome", "x", "--statistic", "y", "--method", "XX"],
        ["pool", "--outcome", "x", "--statistic", "y", "--timepoint", "1e"],
    ):
        plain, own = runner.invoke(command_app(("pool",)), args), runner.invoke(typer_own, args)
        assert plain.exit_code == own.exit_code == 2
        assert "Invalid value" in plain.output
        assert plain.output == own.output


def test_install_gives_every_parameter_and_help_the_plain_conversion() -> None:
    command = typer.main.get_command(full_app())
    ctx = command.make_context("oligokb", ["pool", "kb", "--help"], resilient_parsing=True)
    pool = command.get_command(ctx, "pool")
    install(command, ctx)
    kb = pool.commands["kb"]
    params = [p for p in kb.get_params(ctx) if isinstance(p, _TyperParameter)]
    assert any(p.name == "help" for p in params)
    assert all(isinstance(p._runtime_param, PlainValue) for p in params)
