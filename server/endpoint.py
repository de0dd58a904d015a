"""`oligokb serve`: a read-only SPARQL 1.1 Protocol endpoint over the knowledge base, and the named
queries as simple URLs.

    GET/POST /sparql            query= (GET query string or POST form) or an application/sparql-query body
    GET      /queries           the named queries and their parameters (JSON)
    GET      /queries/{name}    a named query, parameters from the query string (?histology=nsclc)

Correct: queries are evaluated by Oxigraph (pyoxigraph), which implements SPARQL 1.1 to the W3C tests
(tests/test_w3c.py runs them through this module), on the knowledge base as the default graph (no named
graphs: GRAPH matches nothing); answers are written by Oxigraph's own results and RDF writers.

Closed: every query passes kb.sparql_guard.check_query (updates, SERVICE anywhere, FROM, FROM NAMED
refused) inside the worker, before evaluation; default-graph-uri / named-graph-uri are refused too.
Bounded: evaluation happens in server.limits worker processes, killed at the per-query time limit (or
after a query exhausts the worker's memory cap) and replaced; SELECT rows and CONSTRUCT/DESCRIBE triples are capped (the X-Oligokb-Truncated header says
so); request bodies and query strings are limited in size; at most `max_concurrent` queries are admitted
at once (running or waiting for a worker), the rest get 503 with Retry-After.

Status codes: 400 refused or malformed (the guard's or the parser's message), 404 unknown named query,
406 no acceptable result format, 413 too large, 415 unsupported body type, 500 evaluation error,
503 busy (Retry-After), stopped at the time limit, or stopped at the memory limit.
"""

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs

from kb.sparql_guard import FORBIDDEN, UPDATE_REFUSED, is_update
from server.limits import MEMORY_MB, Busy, QueryFailed, QueryOutOfMemory, QueryTimeout, WorkerPool
from terms.errors import InputError, QueryRefused

SELECT_FORMATS = {  # media type -> Oxigraph's SPARQL results writer
    "application/sparql-results+json": "JSON",
    "application/json": "JSON",
    "application/sparql-results+xml": "XML",
    "application/xml": "XML",
    "text/xml": "XML",
    "text/csv": "CSV",
    "text/tab-separated-values": "TSV",
}
ASK_FORMATS = {k: v for k, v in SELECT_FORMATS.items() if v in ("JSON", "XML")}
GRAPH_FORMATS = {  # CONSTRUCT / DESCRIBE -> Oxigraph's RDF writer
    "text/turtle": "TURTLE",
    "application/ld+json": "JSON_LD",
    "application/n-triples": "N_TRIPLES",
    "application/rdf+xml": "RDF_XML",
}
TABLE_FORMATS = {"application/json": "json", "text/csv": "csv", "text/tab-separated-values": "tsv"}  # named queries


@dataclass(frozen=True)
class Limits:
    timeout: float = 10.0
    max_rows: int = 10_000
    max_request_bytes: int = 100_000
    max_concurrent: int = 32
    workers: int = 2
    max_memory_mb: int = MEMORY_MB  # per worker, beyond the loaded KB (RLIMIT_AS); 0 = no cap
    load_timeout: float | None = None  # seconds for a worker to load the KB; None: by the file's size (load_limit)
    vocabularies: bool = True  # load the bundled vocabularies and ontology next to the KB file


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


def _media(media: str) -> str:
    return media if media.endswith("json") else f"{media}; charset=utf-8"


def capped_solutions(solutions, max_rows: int, text: str = ""):
    """The first max_rows solutions as a pyoxigraph QuerySolutions, and whether there were more. The
    solutions are read one by one (no more than the cap needs), written as SPARQL TSV (each term in its
    N-Triples form, which escapes tabs and newlines: one solution per line) and read back by Oxigraph's
    TSV parser, so Oxigraph's own writers write the answer. -> (solutions, truncated, count)"""
    import pyoxigraph as ox

    from kb.query import columns

    variables = columns(text, solutions.variables)  # SELECT *: as the variables appear in the query
    lines = ["\t".join(str(v) for v in variables)]
    count, truncated = 0, False
    for solution in solutions:
        if count == max_rows:
            truncated = True
            break
        lines.append("\t".join("" if solution[v] is None else str(solution[v]) for v in variables))
        count += 1
    text = "\n".join(lines) + "\n"
    return ox.parse_query_results(text, ox.QueryResultsFormat.TSV), truncated, count


def kb_prefixes() -> dict[str, str]:
    """The knowledge base's prefixes, for Turtle answers."""
    from rdflib import Graph

    from kb.turtle import bind_prefixes

    return {prefix: str(namespace) for prefix, namespace in bind_prefixes(Graph()).namespaces() if prefix}


def write_triples(triples, fmt: str) -> bytes:
    import pyoxigraph as ox

    rdf_format = getattr(ox.RdfFormat, fmt)
    prefixes = kb_prefixes() if rdf_format in (ox.RdfFormat.TURTLE, ox.RdfFormat.RDF_XML) else None
    return ox.serialize(triples, format=rdf_format, prefixes=prefixes) or b""  # None only when given a file


def distinct_triples(iterator, max_rows: int) -> tuple[list, bool]:
    """At most max_rows distinct triples of a CONSTRUCT/DESCRIBE answer (an RDF graph is a set), and
    whether there were more."""
    seen: dict = {}
    for triple in iterator:
        if triple in seen:
            continue
        if len(seen) == max_rows:
            return list(seen), True
        seen[triple] = None
    return list(seen), False


def xml_safe(body: bytes) -> bytes:
    """A carriage return inside a literal, written as a character reference: XML parsers turn a raw CR
    (and CR LF) into LF, so "x\r\ny" would come back as "x\ny". Oxigraph's XML writers write CR raw,
    and only inside text and attribute values, where &#13; means the same character."""
    return body.replace(b"\r", b"&#13;")


def sparql_job(kb, text: str, accept: str | None, max_rows: int):
    """Runs in a worker: guard, evaluate with Oxigraph, cap, write with Oxigraph's writers.
    -> (media type, body, truncated, count)"""
    import pyoxigraph as ox

    from kb.query import run_query
    from kb.sparql_guard import check_query

    checked = check_query(text)  # before evaluation; raises QueryRefused with what to change
    offers = {"SELECT": SELECT_FORMATS, "ASK": ASK_FORMATS}.get(checked.form, GRAPH_FORMATS)
    media = negotiate(accept, offers)
    if media is None:  # a value, not an exception: the worker reports exceptions as 400/500
        return None, f"a {checked.form} result is available as: {', '.join(offers)}", False, 0
    fmt = offers[media]
    _, result = run_query(kb, checked.text, checked)
    if isinstance(result, ox.QueryBoolean):
        return _media(media), result.serialize(format=getattr(ox.QueryResultsFormat, fmt)), False, 1
    if isinstance(result, ox.QuerySolutions):
        capped, truncated, count = capped_solutions(result, max_rows, checked.text)
        body = capped.serialize(format=getattr(ox.QueryResultsFormat, fmt))
        return _media(media), xml_safe(body) if fmt == "XML" else body, truncated, count
    triples, truncated = distinct_triples(result, max_rows)
    body = write_triples(triples, fmt)
    return _media(media), xml_safe(body) if fmt == "RDF_XML" else body, truncated, len(triples)


def frame_body(frame, fmt: str) -> bytes:
    """A named query's table as `oligokb query --format json|csv` writes it (tsv: tab-separated). Written
    from the columns' Python values, not row by row through pandas: the same text (pandas writes CSV with
    Python's csv module too; tests/test_server_large.py compares), several times faster on 10,000 rows."""
    from kb.store import cells

    names = [str(c) for c in frame.columns]
    columns = [cells(frame[c]) for c in frame.columns]
    if fmt == "json":
        records = [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]
        return json.dumps(records, ensure_ascii=False, default=str).encode("utf-8")
    out = io.StringIO()
    writer = csv.writer(out, delimiter="\t" if fmt == "tsv" else ",", lineterminator="\n")
    writer.writerow(names)
    writer.writerows(zip(*columns, strict=True))
    return out.getvalue().encode("utf-8")


def named_job(kb, name: str, params: dict[str, str], fmt: str, max_rows: int):
    """Runs in a worker: kb.query.run_named on the worker's knowledge base (parameters bound by the engine,
    never written into text), at most max_rows + 1 rows (one more says the answer was cut). From the table
    cache (kb.materialise) as text, as `oligokb query --format csv` does; JSON typed (kb.store.typed_frame)."""
    from kb.query import run_named

    frame = run_named(kb, name, params, lexical=fmt != "json", limit=max_rows + 1)
    head = frame.head(max_rows)
    return frame_body(head, fmt), len(frame) > max_rows, len(head)


class TooLarge(Exception):
    pass


def create_app(kb_path: Path, limits: Limits, pool: WorkerPool | None = None):
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
    async def lifespan(_app):
        yield
        pool.close()

    app = FastAPI(title="oligokb SPARQL endpoint", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)

    def error(status: int, message: str, **headers: str) -> PlainTextResponse:
        return PlainTextResponse(message.rstrip() + "\n", status_code=status, headers=headers or None)

    async def run(target: str, args: tuple):
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
                return error(
                    415,
                    "POST a form (application/x-www-form-urlencoded, query=...) or a query (application/sparql-query)",
                )
        if fields.get("default-graph-uri") or fields.get("named-graph-uri"):
            return error(
                400, FORBIDDEN["DatasetClause"].replace("the FROM clause", "default-graph-uri and named-graph-uri")
            )
        if "update" in fields:
            if is_update(fields["update"][0]):  # a look at the first keyword only: nothing is parsed or run
                return error(400, UPDATE_REFUSED)
            return error(400, "this endpoint is read-only: send a query (query=...), not an update")
        queries = fields.get("query", []) + ([direct] if direct is not None else [])
        if len(queries) != 1:
            return error(
                400,
                "give exactly one query: ?query=... (GET), a form field query=... or an "
                "application/sparql-query body (POST)",
            )
        text = queries[0]
        if not text.strip():
            return error(400, "the query is empty")
        try:
            media, data, truncated, count = await run(
                "server.endpoint:sparql_job", (text, request.headers.get("accept"), limits.max_rows)
            )
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
        return JSONResponse(
            {name: {key: p.help for key, p in params.items()} for name, params in NAMED_QUERIES.items()}
        )

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
            data, truncated, count = await run("server.endpoint:named_job", (name, params, fmt, limits.max_rows))
        except Exception as exc:  # noqa: BLE001
            return failure(exc)
        headers = {"Vary": "Accept", "X-Oligokb-Rows": str(count)}
        if truncated:
            headers["X-Oligokb-Truncated"] = f"only the first {limits.max_rows:,} rows"
        return Response(data, media_type=_media(media), headers=headers)

    @app.get("/")
    async def root() -> Response:
        return PlainTextResponse(
            "oligokb SPARQL endpoint (read-only).\n"
            "  GET/POST /sparql          SPARQL 1.1 Protocol: query=..., or an application/sparql-query body\n"
            "  GET      /queries         the named queries and their parameters\n"
            "  GET      /queries/NAME    a named query, e.g. /queries/evidence?histology=nsclc\n"
            f"Limits: {limits.timeout:g} s per query, {limits.max_rows:,} rows, {limits.max_request_bytes:,}-byte "
            f"requests, {limits.max_concurrent} queries at once, {memory_text(limits)} per query worker.\n"
        )

    return app


def start_pool(kb_path: Path, limits: Limits) -> WorkerPool:
    return WorkerPool(
        kb_path,
        limits.workers,
        limits.timeout,
        queue_wait=max(30.0, 3 * limits.timeout),
        memory_mb=limits.max_memory_mb,
        vocabularies=limits.vocabularies,
        load_seconds=limits.load_timeout,
    )


def memory_text(limits: Limits) -> str:
    return f"{limits.max_memory_mb:,} MB beyond the KB" if limits.max_memory_mb > 0 else "no memory cap"


def serve(kb_path: Path, host: str, port: int, limits: Limits, echo=print) -> None:
    """Load the workers (errors before binding the port), then run uvicorn until interrupted."""
    import uvicorn

    pool = start_pool(kb_path, limits)
    app = create_app(kb_path, limits, pool)
    what = kb_path if limits.vocabularies else f"{kb_path} alone, without the vocabularies"
    echo(
        f"oligokb SPARQL endpoint: http://{host}:{port}/sparql ({what}, {limits.workers} worker(s), "
        f"{limits.timeout:g} s per query, {limits.max_rows:,} rows, {limits.max_concurrent} queries at once, "
        f"{memory_text(limits)} per worker)"
    )
    try:
        uvicorn.run(
            app,
            host=host,
            port=port,
            log_level="warning",
            access_log=False,
            server_header=False,
            h11_max_incomplete_event_size=limits.max_request_bytes + 16_384,
        )
    finally:
        pool.close()
