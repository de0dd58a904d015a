"""`oligokb serve`: a read-only SPARQL 1.1 Protocol endpoint over the knowledge base, and the named
queries as simple URLs.

    GET/POST /sparql            query= (GET query string or POST form) or an application/sparql-query body
    GET      /queries           the named queries and their parameters (JSON)
    GET      /queries/{name}    a named query, parameters from the query string (?histology=nsclc)

Closed: every query passes kb.sparql_guard.check_query (updates, SERVICE anywhere, FROM, FROM NAMED
refused) inside the worker, before evaluation; default-graph-uri / named-graph-uri are refused too.
Bounded: evaluation happens in kb.limits worker processes, killed at the per-query time limit (or
after a query exhausts the worker's memory cap) and replaced; SELECT rows and CONSTRUCT/DESCRIBE triples are capped (the X-Oligokb-Truncated header says
so); request bodies and query strings are limited in size; at most `max_concurrent` queries are admitted
at once (running or waiting for a worker), the rest get 503 with Retry-After.

Status codes: 400 refused or malformed (the guard's or the parser's message), 404 unknown named query,
406 no acceptable result format, 413 too large, 415 unsupported body type, 500 evaluation error,
503 busy (Retry-After), stopped at the time limit, or stopped at the memory limit.
"""

import json
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from urllib.parse import parse_qs

from kb.errors import InputError, QueryRefused
from kb.limits import MEMORY_MB, Busy, QueryFailed, QueryOutOfMemory, QueryTimeout, WorkerPool
from kb.sparql_guard import FORBIDDEN, check_query

SELECT_FORMATS = {  # media type -> rdflib result serializer ("tsv" is ours: rdflib has none)
    "application/sparql-results+json": "json",
    "application/json": "json",
    "application/sparql-results+xml": "xml",
    "application/xml": "xml",
    "text/xml": "xml",
    "text/csv": "csv",
    "text/tab-separated-values": "tsv",
}
ASK_FORMATS = {k: v for k, v in SELECT_FORMATS.items() if v in ("json", "xml")}
GRAPH_FORMATS = {  # CONSTRUCT / DESCRIBE
    "text/turtle": "turtle",
    "application/ld+json": "json-ld",
    "application/n-triples": "nt",
    "application/rdf+xml": "xml",
}
TABLE_FORMATS = {"application/json": "json", "text/csv": "csv", "text/tab-separated-values": "tsv"}  # named queries
CHARSET = {"json": "", "json-ld": ""}


@dataclass(frozen=True)
class Limits:
    timeout: float = 10.0
    max_rows: int = 10_000
    max_request_bytes: int = 100_000
    max_concurrent: int = 32
    workers: int = 2
    max_memory_mb: int = MEMORY_MB  # per worker (RLIMIT_AS); 0 = no cap


def negotiate(accept: str | None, offers: dict[str, str]) -> str | None:
    """The offered media type the Accept header prefers (q-values, type/* and */*); the first offer
    when there is no header; None when nothing offered is acceptable."""
    if not accept or not accept.strip():
        return next(iter(offers))
    ranges = []
    for position, item in enumerate(accept.split(",")):
        media, *params = [part.strip() for part in item.split(";")]
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if media and q > 0:
            ranges.append((-q, position, media.lower()))
    for _, _, media in sorted(ranges):
        if media in offers:
            return media
        if media == "*/*":
            return next(iter(offers))
        if media.endswith("/*"):
            match = next((m for m in offers if m.startswith(media[:-1])), None)
            if match:
                return match
    return None


def _tsv(variables, rows) -> bytes:  # type: ignore[no-untyped-def]
    """SPARQL 1.1 TSV: ?var headers, terms in Turtle syntax, empty for unbound."""
    lines = ["\t".join(f"?{v}" for v in variables)]
    for row in rows:
        lines.append("\t".join("" if row.get(v) is None else row[v].n3() for v in variables))
    return ("\n".join(lines) + "\n").encode("utf-8")


def _media(media: str, fmt: str) -> str:
    return media if fmt in CHARSET or media.endswith("json") else f"{media}; charset=utf-8"


def sparql_job(graph, text: str, accept: str | None, max_rows: int):  # type: ignore[no-untyped-def]
    """Runs in a worker: guard, evaluate, cap, serialize. -> (media type, body, truncated, count)."""
    from rdflib import Graph
    from rdflib.query import Result

    checked = check_query(text)  # before evaluation; raises QueryRefused with what to change
    offers = {"SELECT": SELECT_FORMATS, "ASK": ASK_FORMATS}.get(checked.form, GRAPH_FORMATS)
    media = negotiate(accept, offers)
    if media is None:  # a value, not an exception: the worker reports exceptions as 400/500
        return None, f"a {checked.form} result is available as: {', '.join(offers)}", False, 0
    fmt = offers[media]
    result = graph.query(checked.text)
    if result.type == "ASK":
        return _media(media, fmt), result.serialize(format=fmt), False, 1
    if result.type == "SELECT":
        pending = getattr(result, "_genbindings", None)  # unevaluated solutions: take only what the cap needs
        rows = list(islice(pending if pending is not None else result.bindings, max_rows + 1))
        truncated = len(rows) > max_rows
        rows = rows[:max_rows]
        if fmt == "tsv":
            return _media(media, fmt), _tsv(result.vars, rows), truncated, len(rows)
        capped = Result("SELECT")
        capped.vars = result.vars
        capped.bindings = rows
        return _media(media, fmt), capped.serialize(format=fmt, encoding="utf-8"), truncated, len(rows)
    triples = list(islice(iter(result.graph), max_rows + 1))
    out = Graph()
    for prefix, namespace in graph.namespaces():
        out.bind(prefix, namespace, override=True)
    for triple in triples[:max_rows]:
        out.add(triple)
    return _media(media, fmt), out.serialize(format=fmt, encoding="utf-8"), len(triples) > max_rows, len(out)


def frame_body(frame, fmt: str) -> bytes:  # type: ignore[no-untyped-def]
    """A named query's table as `oligokb query --format json|csv` writes it (tsv: tab-separated)."""
    if fmt == "json":
        records = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
        return json.dumps(records, ensure_ascii=False, default=str).encode("utf-8")
    return frame.to_csv(index=False, lineterminator="\n", sep="\t" if fmt == "tsv" else ",").encode("utf-8")


def named_job(graph, name: str, params: dict[str, str], fmt: str, max_rows: int):  # type: ignore[no-untyped-def]
    """Runs in a worker: kb.query.run_named (parameters bound by the engine, never written into text)."""
    from kb.query import run_named

    frame = run_named(graph, name, params)
    return frame_body(frame.head(max_rows), fmt), len(frame) > max_rows, min(len(frame), max_rows)


class TooLarge(Exception):
    pass


def create_app(kb_path: Path, limits: Limits, pool: WorkerPool | None = None):  # type: ignore[no-untyped-def]
    """The ASGI application. Starts the worker pool (which loads the KB) unless one is given."""
    from contextlib import asynccontextmanager

    import anyio
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse, PlainTextResponse, Response

    from kb.query import NAMED_QUERIES

    pool = pool or start_pool(kb_path, limits)
    limiter = anyio.CapacityLimiter(limits.max_concurrent)
    state = {"inflight": 0}

    @asynccontextmanager
    async def lifespan(_app):  # type: ignore[no-untyped-def]
        yield
        pool.close()

    app = FastAPI(title="oligokb SPARQL endpoint", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)

    def error(status: int, message: str, **headers: str) -> PlainTextResponse:
        return PlainTextResponse(message.rstrip() + "\n", status_code=status, headers=headers or None)

    async def run(target: str, args: tuple):  # type: ignore[no-untyped-def]
        """Admission (503 when full), then the job in a worker thread -> pool -> process."""
        if state["inflight"] >= limits.max_concurrent:
            raise Busy(f"{limits.max_concurrent} queries are already running or waiting; try again shortly")
        state["inflight"] += 1
        try:
            return await anyio.to_thread.run_sync(pool.call, target, args, limiter=limiter)
        finally:
            state["inflight"] -= 1

    def failure(exc: Exception) -> PlainTextResponse:
        if isinstance(exc, InputError):
            return error(400, "\n".join(str(problem) for problem in exc.problems))
        if isinstance(exc, QueryRefused):
            return error(400, str(exc))
        if isinstance(exc, Busy):
            return error(503, str(exc), **{"Retry-After": "1"})
        if isinstance(exc, (QueryTimeout, QueryOutOfMemory)):
            return error(503, str(exc))
        if isinstance(exc, QueryFailed):
            return error(500, str(exc))
        raise exc

    async def body_of(request: Request) -> bytes:
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limits.max_request_bytes:
            raise TooLarge()
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limits.max_request_bytes:
                raise TooLarge()
            chunks.append(chunk)
        return b"".join(chunks)

    @app.api_route("/sparql", methods=["GET", "POST"])
    async def sparql(request: Request) -> Response:
        fields: dict[str, list[str]] = {}
        for key, value in request.query_params.multi_items():
            fields.setdefault(key, []).append(value)
        if len(str(request.url.query)) > limits.max_request_bytes:
            return error(413, f"the request is larger than the {limits.max_request_bytes:,}-byte limit")
        direct: str | None = None
        if request.method == "POST":
            media = request.headers.get("content-type", "").split(";")[0].strip().lower()
            try:
                body = await body_of(request)
            except TooLarge:
                return error(413, f"the request is larger than the {limits.max_request_bytes:,}-byte limit")
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                return error(400, "the request body is not UTF-8")
            if media == "application/x-www-form-urlencoded":
                for key, values in parse_qs(text, keep_blank_values=True).items():
                    fields.setdefault(key, []).extend(values)
            elif media == "application/sparql-query":
                direct = text
            elif media == "application/sparql-update":
                fields.setdefault("update", []).append(text)
            else:
                return error(415, "POST a form (application/x-www-form-urlencoded, query=...) or a query "
                                  "(application/sparql-query)")
        if fields.get("default-graph-uri") or fields.get("named-graph-uri"):
            return error(400, FORBIDDEN["DatasetClause"].replace("the FROM clause", "default-graph-uri and named-graph-uri"))
        if "update" in fields:
            text = fields["update"][0]  # the guard says why: "SPARQL Update ... is refused: ... read-only"
            try:
                check_query(text)
            except QueryRefused as exc:
                return error(400, str(exc))
            return error(400, "this endpoint is read-only: send a query (query=...), not an update")
        queries = fields.get("query", []) + ([direct] if direct is not None else [])
        if len(queries) != 1:
            return error(400, "give exactly one query: ?query=... (GET), a form field query=... or an "
                              "application/sparql-query body (POST)")
        text = queries[0]
        if not text.strip():
            return error(400, "the query is empty")
        try:
            media, data, truncated, count = await run("kb.server:sparql_job", (text, request.headers.get("accept"), limits.max_rows))
        except Exception as exc:  # noqa: BLE001 - mapped to a status by failure()
            return failure(exc)
        if media is None:
            return error(406, data)
        headers = {"Vary": "Accept", "X-Oligokb-Rows": str(count)}
        if truncated:
            headers["X-Oligokb-Truncated"] = f"only the first {limits.max_rows:,} rows or triples"
        return Response(data, media_type=media, headers=headers)

    @app.get("/queries")
    async def named_list() -> Response:
        return JSONResponse({name: {key: p.help for key, p in params.items()} for name, params in NAMED_QUERIES.items()})

    @app.get("/queries/{name}")
    async def named(name: str, request: Request) -> Response:
        if name not in NAMED_QUERIES:
            return error(404, f"{name!r} is not a named query; named queries: {', '.join(NAMED_QUERIES)}")
        params: dict[str, str] = {}
        for key, value in request.query_params.multi_items():
            if key in params:
                return error(400, f"parameter {key!r} given twice")
            params[key] = value
        media = negotiate(request.headers.get("accept"), TABLE_FORMATS)
        if media is None:
            return error(406, f"a named query's table is available as: {', '.join(TABLE_FORMATS)}")
        fmt = TABLE_FORMATS[media]
        try:
            data, truncated, count = await run("kb.server:named_job", (name, params, fmt, limits.max_rows))
        except Exception as exc:  # noqa: BLE001
            return failure(exc)
        headers = {"Vary": "Accept", "X-Oligokb-Rows": str(count)}
        if truncated:
            headers["X-Oligokb-Truncated"] = f"only the first {limits.max_rows:,} rows"
        return Response(data, media_type=_media(media, fmt), headers=headers)

    @app.get("/")
    async def root() -> Response:
        return PlainTextResponse(
            "oligokb SPARQL endpoint (read-only).\n"
            "  GET/POST /sparql          SPARQL 1.1 Protocol: query=..., or an application/sparql-query body\n"
            "  GET      /queries         the named queries and their parameters\n"
            "  GET      /queries/NAME    a named query, e.g. /queries/evidence?histology=nsclc\n"
            f"Limits: {limits.timeout:g} s per query, {limits.max_rows:,} rows, {limits.max_request_bytes:,}-byte "
            f"requests, {limits.max_concurrent} queries at once, {memory_text(limits)} per query worker.\n")

    return app


def start_pool(kb_path: Path, limits: Limits) -> WorkerPool:
    return WorkerPool(kb_path, limits.workers, limits.timeout, queue_wait=max(30.0, 3 * limits.timeout),
                      memory_mb=limits.max_memory_mb)


def memory_text(limits: Limits) -> str:
    return f"{limits.max_memory_mb:,} MB" if limits.max_memory_mb > 0 else "no memory cap"


def serve(kb_path: Path, host: str, port: int, limits: Limits, echo=print) -> None:  # type: ignore[no-untyped-def]
    """Load the workers (errors before binding the port), then run uvicorn until interrupted."""
    import uvicorn

    pool = start_pool(kb_path, limits)
    app = create_app(kb_path, limits, pool)
    echo(f"oligokb SPARQL endpoint: http://{host}:{port}/sparql ({kb_path}, {limits.workers} worker(s), "
         f"{limits.timeout:g} s per query, {limits.max_rows:,} rows, {limits.max_concurrent} queries at once, "
         f"{memory_text(limits)} per worker)")
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False, server_header=False,
                    h11_max_incomplete_event_size=limits.max_request_bytes + 16_384)
    finally:
        pool.close()
