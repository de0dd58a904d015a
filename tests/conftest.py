"""Shared fixtures: paths, a CLI runner that runs `oligokb` as a user would, the fixture sheets, and a
real SPARQL store (Oxigraph) served over HTTP."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
VALID_SHEETS = ROOT / "tests" / "data" / "valid"


def run_cli(*args: str, cwd: Path = ROOT, env: dict | None = None) -> subprocess.CompletedProcess:
    """`oligokb ARGS` in a subprocess (the console script's module), capturing output."""
    cmd = [sys.executable, "-c", "from cli import main; main()", *args]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env, timeout=300)


def run_python(code: str, timeout: float = 300) -> str:
    """`python -c CODE` in a fresh process in the project directory (what a new process imports, reads or
    compiles); fails the test with its stderr unless it exits 0; returns its stdout."""
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.fixture
def sheets(tmp_path: Path) -> Path:
    """A writable copy of the valid fixture sheets."""
    target = tmp_path / "extractions"
    shutil.copytree(VALID_SHEETS, target)
    return target


@pytest.fixture(scope="session")
def fixture_kb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture sheets built into a Turtle file."""
    out = tmp_path_factory.mktemp("kb") / "studies.ttl"
    result = run_cli("build", "--sheets", str(VALID_SHEETS), "--out", str(out))
    assert result.returncode == 0, result.stderr
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


# A SPARQL 1.1 Protocol endpoint over an in-memory Oxigraph store (pyoxigraph ships no server): loads the
# files given (N-Triples by extension, else Turtle), logs every query it receives, one per line.
OXIGRAPH_ENDPOINT = r"""
import sys
from urllib.parse import parse_qs

import pyoxigraph as ox
import uvicorn
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

store = ox.Store()
for path in sys.argv[3:]:
    fmt = ox.RdfFormat.N_TRIPLES if path.endswith(".nt") else ox.RdfFormat.TURTLE
    store.bulk_load(path=path, format=fmt)
log = open(sys.argv[2], "a", buffering=1)


async def sparql(request):
    if request.method == "POST":
        fields = parse_qs((await request.body()).decode("utf-8"))
    else:
        fields = parse_qs(request.url.query)
    query = fields["query"][0]
    log.write(query.replace("\n", " ") + "\n")
    try:
        result = store.query(query)
    except SyntaxError as exc:
        return PlainTextResponse(str(exc), status_code=400)
    if isinstance(result, ox.QueryTriples):
        return Response(result.serialize(format=ox.RdfFormat.N_TRIPLES), media_type="application/n-triples")
    return Response(result.serialize(format=ox.QueryResultsFormat.JSON), media_type="application/sparql-results+json")


app = Starlette(routes=[Route("/sparql", sparql, methods=["GET", "POST"]),
                        Route("/", lambda request: PlainTextResponse("ok"))])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""


@contextmanager
def oxigraph_server(files: list[Path], workdir: Path) -> Iterator[tuple[str, Path]]:
    """Oxigraph holding `files`, served over HTTP in a subprocess: yields (endpoint URL, the query log)."""
    script, received = workdir / "endpoint.py", workdir / "received.log"
    script.write_text(OXIGRAPH_ENDPOINT)
    received.write_text("")
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(script), str(port), str(received), *map(str, files)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=(workdir / "stderr.log").open("wb"),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(base + "/", timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None:
                    raise AssertionError((workdir / "stderr.log").read_text()) from None
                time.sleep(0.1)
        yield base + "/sparql", received
    finally:
        stop(proc)


@pytest.fixture
def no_tables_in_memory():  # type: ignore[no-untyped-def]
    """The test reads the table cache's files (or their absence), not what an earlier test left in memory."""
    from kb.materialise import forget

    forget()
    yield
    forget()
