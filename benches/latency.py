"""Where a person waits: each CLI command's whole-process wall time on the bundled knowledge base, beside the
time to import the libraries that command needs.

    uv run python -m benches.latency                      # median of 5, every command
    uv run python -m benches.latency --repeat 1 --only summary --out /tmp/latency.json

Each command runs `--repeat` times as a fresh process, started two ways: the installed entry point
(`.venv/bin/oligokb`, what the targets use: the time a person waits for the tool itself) and `uv run oligokb`
(the same plus uv's own start-up and lock check). The third-party libraries' bytecode is compiled at set-up
(`uv sync --compile-bytecode`, README); the project's own is written by the first run (unless --keep-env
keeps a PYTHONDONTWRITEBYTECODE of the caller's). Before the timed runs each command runs once untimed, so the
figures are every later run's, after the once-per-version materialised tables exist (kb.materialise).

Beside each command: the import baseline, `python -c "import <the libraries it needs>"` timed the same way,
the ratio command / baseline, and the target (docs/performance.md, issue 17): 1.5x for one command, 2x for
`pool all`, none for the commands measured for information. The machine (nproc, load average before and after)
is recorded: on a shared machine the ratio is the figure to compare, the seconds move with the load.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: The libraries every knowledge-base command loads: the CLI (typer, rich, and the option conversion typer 0.29
#: imports to read any option: typer._adapters with pydantic's fields and JSON-schema modules, which `import
#: pydantic` alone does not load), the tables (pandas, pyarrow), the store and the terms (pyoxigraph, rdflib).
#: `import rich` alone is under 1 ms (rich.console loads when a command prints).
KB_LIBRARIES = ("typer", "typer._adapters", "rich", "pandas", "pyarrow", "pyoxigraph", "rdflib")
#: A pooling command also needs the numeric core's numpy and scipy.special (its normal, t, chi2 and F
#: probabilities: analysis.distributions). scipy.stats and scipy.optimize were in this baseline until
#: issue 17: the default pooling commands import neither now (scipy.optimize loads for --method PM or a tau2 CI).
POOL_LIBRARIES = (*KB_LIBRARIES, "numpy", "scipy.special")
OS_HR = ("--outcome", "overall survival", "--statistic", "hazard ratio")


@dataclass(frozen=True)
class Command:
    name: str
    args: tuple[str, ...]
    libraries: tuple[str, ...]
    target: float | None  #: at most this many times the import baseline; None: measured for information


COMMANDS = (
    Command("summary", ("summary",), KB_LIBRARIES, 1.5),
    Command("query --name studies", ("query", "--name", "studies"), KB_LIBRARIES, 1.5),
    Command("export", ("export",), KB_LIBRARIES, 1.5),
    Command("conflicts", ("conflicts",), KB_LIBRARIES, 1.5),
    Command("pool kb (one analysis)", ("pool", "kb", *OS_HR, "--json"), POOL_LIBRARIES, 1.5),
    Command("pool all", ("pool", "all"), POOL_LIBRARIES, 2.0),
    Command("grade", ("grade", *OS_HR), POOL_LIBRARIES, None),
    Command("funnel", ("funnel", *OS_HR), POOL_LIBRARIES, None),
    Command("cite", ("cite",), KB_LIBRARIES, None),
    Command("export --format rob", ("export", "--format", "rob"), KB_LIBRARIES, None),
)


#: The environment of every timed process (see `main`: --keep-env).
ENV = dict(os.environ)


def wall_time(argv: list[str]) -> float:
    """Seconds of one whole-process run of argv in the repository (output discarded; a failure stops the bench
    with the command's own message, since a timing of an error is no timing of the command)."""
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.decode()[-2000:]}")
    return seconds


def interleaved(runs: dict[str, list[str]], repeat: int) -> dict[str, list[float]]:
    """`repeat` rounds of every argv in `runs`, one after the other in each round: on a shared machine a
    command and its baseline then see the same load, so their ratio holds where the seconds do not."""
    times: dict[str, list[float]] = {key: [] for key in runs}
    for _ in range(repeat):
        for key, argv in runs.items():
            times[key].append(wall_time(argv))
    return times


def round_ratios(seconds: dict[str, list[float]]) -> list[float]:
    """command / baseline in each round (the lists of `interleaved`, in round order)."""
    return [c / b for c, b in zip(seconds["direct"], seconds["import_baseline"], strict=True)]


def spread(times: list[float]) -> dict[str, float]:
    """Median, min and max in seconds (rounded to the millisecond: finer is noise on a shared machine)."""
    return {
        "median_s": round(statistics.median(times), 3),
        "min_s": round(min(times), 3),
        "max_s": round(max(times), 3),
    }


def machine() -> dict[str, object]:
    return {
        "nproc": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "platform": platform.platform(),
        # the project's own modules are compiled on every run when Python may not write their bytecode
        "bytecode_written": not ENV.get("PYTHONDONTWRITEBYTECODE"),
    }


def measure(commands: tuple[Command, ...], repeat: int, uv: bool, before_tree: Path | None = None) -> dict[str, object]:
    """Each command's rounds; with `before_tree` (another checkout of the project, e.g. `git archive REV`
    unpacked) also that tree's code run in each round ("before": the same entry point and libraries, its
    modules first on PYTHONPATH), for before/after figures under one load."""
    python = str(Path(sys.executable))
    entry = str(Path(sys.executable).with_name("oligokb"))
    rows = []
    before = machine()
    for command in commands:
        runs = {
            "direct": [entry, *command.args],
            "import_baseline": [python, "-c", "import " + ", ".join(command.libraries)],
        }
        if before_tree is not None:
            runs["before"] = ["env", f"PYTHONPATH={before_tree.resolve()}", entry, *command.args]
            wall_time(runs["before"])  # untimed, as below
        wall_time([entry, *command.args])  # untimed: the materialised tables exist for the timed runs
        if uv:
            runs["uv_run"] = ["uv", "run", "oligokb", *command.args]
        seconds = interleaved(runs, repeat)
        times = {key: spread(values) for key, values in seconds.items()}
        ratio = round(times["direct"]["median_s"] / times["import_baseline"]["median_s"], 2)
        rows.append(
            {
                "command": command.name,
                "argv": ["oligokb", *command.args],
                "libraries": list(command.libraries),
                **times,
                "ratio": ratio,
                # the same within each round (a command and its baseline run back to back, under one load),
                # then the median: steadier than the ratio of medians while other work comes and goes
                "ratio_of_rounds": round(statistics.median(round_ratios(seconds)), 2),
                "target_ratio": command.target,
                "met": None if command.target is None else ratio <= command.target,
            }
        )
        if before_tree is not None:
            before_seconds = {"direct": seconds["before"], "import_baseline": seconds["import_baseline"]}
            rows[-1]["before_ratio_of_rounds"] = round(statistics.median(round_ratios(before_seconds)), 2)
    return {
        "repeat": repeat,
        "targets_use": "direct (.venv/bin/oligokb)",
        "machine_before": before,
        "machine_after": machine(),
        "commands": rows,
    }


def table(result: dict[str, object]) -> str:
    """The results as a Markdown table (docs/performance.md quotes it)."""
    lines = [
        "| command | median s (min-max) | `uv run` median s | import baseline s | ratio | ratio of rounds | target | met |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in result["commands"]:  # type: ignore[attr-defined]
        d, b = row["direct"], row["import_baseline"]
        uv = f"{row['uv_run']['median_s']:.2f}" if "uv_run" in row else "-"
        target = f"{row['target_ratio']:g}x" if row["target_ratio"] else "(information)"
        met = {True: "yes", False: "no", None: "-"}[row["met"]]
        lines.append(
            f"| `{' '.join(row['argv'])}` | {d['median_s']:.2f} ({d['min_s']:.2f}-{d['max_s']:.2f}) | {uv} "
            f"| {b['median_s']:.2f} | {row['ratio']:.2f} | {row['ratio_of_rounds']:.2f} | {target} | {met} |"
        )
    compared = [row for row in result["commands"] if "before" in row]  # type: ignore[attr-defined]
    if compared:
        lines += ["", "| command | before median s (min) | after median s (min) | before ratio of rounds | after |"]
        lines.append("| --- | --- | --- | --- | --- |")
        for row in compared:
            x, d = row["before"], row["direct"]
            lines.append(
                f"| `{' '.join(row['argv'])}` | {x['median_s']:.2f} ({x['min_s']:.2f}) | {d['median_s']:.2f} "
                f"({d['min_s']:.2f}) | {row['before_ratio_of_rounds']:.2f} | {row['ratio_of_rounds']:.2f} |"
            )
    m = result["machine_before"]
    lines.append(
        f"\nnproc {m['nproc']}, load average {m['load_average']} before, "  # type: ignore[index]
        f"{result['machine_after']['load_average']} after; median of {result['repeat']} runs."  # type: ignore[index]
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="Timed runs per command (default 5).")
    parser.add_argument("--out", type=Path, help="Also write the results here as JSON.")
    parser.add_argument("--only", action="append", help="Only this command (by its name in the table; repeatable).")
    parser.add_argument("--no-uv", action="store_true", help="Skip the `uv run oligokb` timings.")
    parser.add_argument(
        "--keep-env",
        action="store_true",
        help="Keep PYTHONDONTWRITEBYTECODE if set (every run then compiles the project's modules again); by "
        "default it is removed, so the untimed first run writes their bytecode, as a user's Python does.",
    )
    parser.add_argument(
        "--before-tree",
        type=Path,
        help="Another checkout of the project (e.g. `git archive REV | tar -x -C DIR`): its code is timed in "
        "each round too, as `before`, against the same baseline.",
    )
    args = parser.parse_args(argv)
    if not args.keep_env:
        ENV.pop("PYTHONDONTWRITEBYTECODE", None)
    commands = tuple(c for c in COMMANDS if not args.only or c.name in args.only)
    if not commands:
        parser.error("--only matches none of: " + ", ".join(c.name for c in COMMANDS))
    result = measure(commands, max(1, args.repeat), uv=not args.no_uv, before_tree=args.before_tree)
    print(table(result))
    if args.out:
        from terms.files import write_atomic

        write_atomic(args.out, (json.dumps(result, indent=2) + "\n").encode("utf-8"))


if __name__ == "__main__":
    main()
