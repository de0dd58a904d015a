"""Bounded evaluation: the one mechanism every SPARQL surface (endpoint, explorer console) uses to run a
query under a wall-clock limit.

Oxigraph has no timeout of its own, so a query runs in a worker process that holds the knowledge base (an
Oxigraph store, kb.store.OxigraphKB); when the limit passes, the worker is killed (SIGKILL) and a fresh one
takes its place. The KB is loaded once, by a Zygote process (started from a "forkserver", a clean process,
so this is safe from a threaded server), which forks the workers: a replacement starts in milliseconds and
the workers share the loaded store's memory (copy-on-write).

Each worker's address space is capped once its knowledge base is loaded (RLIMIT_AS: what the loaded
worker holds plus, by default, 2048 MB for its queries), so a knowledge base of any size loads and a query that
needs more gets a MemoryError inside the worker, which reports it and exits, and a fresh worker takes its place.

A job is a function named by "module:function" that the worker calls as ``function(kb, *args)``;
it returns a picklable value. Errors come back as a kind and a message, never as a traceback:
``QueryRefused`` (the guard), ``InputError`` (bad parameters), or ``QueryFailed`` (evaluation, time,
memory).
"""

from __future__ import annotations

import importlib
import multiprocessing as mp
import os
import queue
import resource
import signal
import socket
import threading
import time
from multiprocessing import reduction
from multiprocessing.connection import Connection
from pathlib import Path

from terms.errors import InputError, OligokbError, QueryRefused

LOAD_LIMIT_S = 120.0  # loading a small knowledge base into a new worker (not counted against a query)
LOAD_S_PER_MB = 0.4  # and this much more per MB of the KB file (Oxigraph loads ~8 MB/s of Turtle here; x3 margin)
MEMORY_MB = 2048  # what a worker's queries may allocate beyond the loaded knowledge base; 0 = no cap
_CTX = mp.get_context("forkserver")
_CTX.set_forkserver_preload(["kb.query", "kb.store", "kb.sparql_guard", "server.limits", "server.endpoint"])


class QueryFailed(OligokbError):
    """The query passed the guard but did not finish: time limit, or an error while evaluating."""

    exit_code = 2


class QueryTimeout(QueryFailed):
    """The query ran past its wall-clock limit; its worker was killed."""


class QueryOutOfMemory(QueryFailed):
    """The query needed more memory than the worker's cap; the worker was replaced."""


def memory_message(memory_mb: int) -> str:
    return (
        f"the query hit the {memory_mb:,} MB memory limit and was stopped: narrow it (fewer rows, a LIMIT, "
        "no large string functions); an operator can raise the limit with --max-memory-mb"
    )


def load_limit(kb_path: Path | None) -> float:
    """Seconds a new worker may take to load kb_path: grows with the file (a 50,000-study KB, 1.2 GB of
    Turtle, takes minutes), so a large KB serves without flags; `serve --load-timeout` overrides it."""
    try:
        megabytes = kb_path.stat().st_size / 1e6 if kb_path else 0.0
    except OSError:
        megabytes = 0.0  # the worker reports the missing file itself
    return LOAD_LIMIT_S + LOAD_S_PER_MB * megabytes


def address_space() -> int:
    """This process's virtual memory size in bytes (what RLIMIT_AS limits); 0 where /proc is missing."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0
    return pages * resource.getpagesize()


def cap_memory(memory_mb: int) -> None:
    """Let this process allocate at most memory_mb megabytes more than it holds now (RLIMIT_AS); 0 leaves
    it alone. Called once the knowledge base is loaded: the cap bounds a query, not the KB's size."""
    if memory_mb <= 0:
        return
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = address_space() + memory_mb * 1024 * 1024
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))


class Busy(OligokbError):
    """Every worker stayed busy for longer than the caller was willing to wait."""

    exit_code = 3


def load_worker_kb(kb_path: str, vocabularies: bool = True):
    """What a worker holds: the knowledge base in an Oxigraph store (kb.store.OxigraphKB), loaded now so
    that no query pays the load, with the table cache's tables that exist read into memory; None for a
    worker that only runs the guard (kb_path "")."""
    if not kb_path:
        return None
    from kb.materialise import MATERIALISED, compact_held_tables
    from kb.query import kb_file_version
    from kb.store import OxigraphKB

    kb = OxigraphKB(Path(kb_file_version(Path(kb_path))[0]), vocabularies)
    kb.triples()
    cache = kb.table_cache
    for name in MATERIALISED:  # read once here, shared by every worker forked after (never computed here)
        if cache is not None and cache.has(f"{name}-lexical"):
            kb.select_named_lexical(name, {})
    compact_held_tables()
    return kb


def _zygote(kb_path: str, conn, vocabularies: bool) -> None:  # the process that holds the loaded KB
    """Load the knowledge base once, then fork a worker for each ("spawn", memory_mb) request: the worker
    starts with the loaded store (copy-on-write, shared until written) and serves jobs on its own socket,
    whose file descriptor goes back to the requester. Single-threaded, so forking is safe."""
    try:
        graph = load_worker_kb(kb_path, vocabularies)
    except MemoryError:
        conn.send(("error", f"loading {kb_path} needs more memory than this machine gives the worker"))
        return
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which decides
        conn.send(("error", f"cannot load {kb_path}: {exc}"))
        return
    conn.send(("ready", 0 if graph is None else graph.triples()))
    while True:
        _reap()
        try:
            if not conn.poll(0.5):
                continue
            request = conn.recv()
        except (EOFError, OSError):
            return
        if request is None:
            return
        ours, theirs = socket.socketpair()
        pid = os.fork()
        if pid == 0:  # the worker
            conn.close()
            ours.close()
            try:
                cap_memory(request[1])
                _serve(graph, Connection(theirs.detach()))
            finally:
                os._exit(0)
        theirs.close()
        conn.send(("spawned", pid))
        reduction.send_handle(conn, ours.fileno(), 0)
        ours.close()


def _reap() -> None:
    """Collect the exit status of finished workers (no zombies)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _serve(graph, conn) -> None:  # a worker: one job at a time until told to stop or out of memory
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        target, args = job
        try:
            module, _, name = target.partition(":")
            value = getattr(importlib.import_module(module), name)(graph, *args)
            reply = ("ok", value)
        except QueryRefused as exc:
            reply = ("refused", str(exc))
        except InputError as exc:
            reply = ("input", exc.problems)
        except MemoryError:
            reply = ("memory", None)
        except Exception as exc:  # noqa: BLE001 - a message for the user, never a trace
            reply = ("error", f"{type(exc).__name__}: {exc}")
        try:
            conn.send(reply)
        except MemoryError:  # e.g. pickling a large result
            reply = ("memory", None)
            conn.send(reply)
        except Exception as exc:  # noqa: BLE001 - e.g. an unpicklable value
            conn.send(("error", f"the result could not be sent back: {type(exc).__name__}: {exc}"))
        if reply[0] == "memory":
            return  # a fresh worker takes this one's place: no half-freed heap serves the next query


class Zygote:
    """The knowledge base loaded once, in its own process, which forks the workers: a new worker (after a
    query was killed at its limit) starts in milliseconds instead of reloading the KB (minutes at 50,000
    studies), and the workers share the loaded store's memory."""

    def __init__(self, kb_path: Path | None, load_seconds: float | None = None, vocabularies: bool = True):
        self.kb_path = Path(kb_path) if kb_path else None
        self.conn, child = _CTX.Pipe(duplex=True)
        self.process = _CTX.Process(target=_zygote, args=(str(self.kb_path or ""), child, vocabularies), daemon=True)
        self.process.start()
        child.close()
        self._lock = threading.Lock()
        limit = load_seconds if load_seconds is not None else load_limit(self.kb_path)
        if not self.conn.poll(limit):
            self.close()
            raise QueryFailed(
                f"the query worker did not load {self.kb_path} within {limit:g} s: "
                "on a slow or busy machine raise `serve --load-timeout`"
            )
        try:
            status, payload = self.conn.recv()
        except EOFError:
            self.close()
            raise QueryFailed(f"the query worker stopped while loading {self.kb_path}") from None
        if status != "ready":
            self.close()
            raise QueryFailed(str(payload))
        self.triples = payload

    @property
    def alive(self) -> bool:
        return self.process.is_alive()

    def spawn(self, memory_mb: int) -> tuple[int, Connection]:
        """A new worker: its process id and the connection to it."""
        with self._lock:
            try:
                self.conn.send(("spawn", memory_mb))
                if not self.conn.poll(30):
                    raise QueryFailed("the process holding the knowledge base did not start a worker")
                _, pid = self.conn.recv()
                fd = reduction.recv_handle(self.conn)
            except (EOFError, OSError):
                raise QueryFailed("the process holding the knowledge base has stopped") from None
        return pid, Connection(fd)

    def close(self) -> None:
        try:
            self.conn.send(None)
        except OSError:
            pass
        self.process.join(2)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)
        self.conn.close()


class Worker:
    """One evaluation process, forked from a Zygote; answers one job at a time."""

    def __init__(self, zygote: Zygote, memory_mb: int = MEMORY_MB):
        self.memory_mb, self.triples = memory_mb, zygote.triples
        self.pid, self.conn = zygote.spawn(memory_mb)
        self._stopped = False

    @property
    def alive(self) -> bool:
        return not self._stopped

    def call(self, target: str, args: tuple, time_limit: float):
        """Run one job; at the time limit kill this worker and raise QueryTimeout."""
        try:
            self.conn.send((target, args))
        except OSError:
            self.kill()
            raise QueryFailed("the query worker had stopped; try again") from None
        if not self.conn.poll(time_limit):
            self.kill()
            raise QueryTimeout(
                f"the query ran longer than the {time_limit:g} s limit and was stopped: "
                "narrow it (more specific patterns, a LIMIT, fewer OPTIONALs)"
            )
        try:
            status, payload = self.conn.recv()
        except (EOFError, OSError):
            self.kill()
            if self.memory_mb > 0:
                raise QueryOutOfMemory(
                    memory_message(self.memory_mb).replace("hit", "probably hit", 1)
                ) from None  # an allocation Oxigraph cannot make ends the process
            raise QueryFailed("the query worker stopped without an answer (out of memory?): narrow the query") from None
        if status == "ok":
            return payload
        if status == "memory":
            self.kill()
            raise QueryOutOfMemory(memory_message(self.memory_mb))
        if status == "refused":
            raise QueryRefused(payload)
        if status == "input":
            raise InputError(payload)
        raise QueryFailed(f"the query failed while running ({payload}); check the functions and literals it uses")

    def kill(self) -> None:
        """Stop the process now (its zygote collects it) and close the connection."""
        self._stopped = True
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.conn.close()

    def close(self) -> None:
        """Ask the worker to stop; kill it if it does not."""
        try:
            self.conn.send(None)
        except OSError:
            pass
        self.kill()


_ZYGOTES: dict[tuple[str, int, bool], Zygote] = {}
_ZYGOTES_LOCK = threading.Lock()


def zygote_for(kb_path: Path | None, vocabularies: bool = True) -> Zygote:
    """The Zygote of this KB file version, started on first use and kept (the two newest) for later calls:
    the explorer console's queries after the first start without reloading the knowledge base."""
    key = (
        str(Path(kb_path).resolve()) if kb_path else "",
        Path(kb_path).stat().st_mtime_ns if kb_path else 0,
        vocabularies,
    )
    with _ZYGOTES_LOCK:
        found = _ZYGOTES.get(key)
        if found is not None and found.alive:
            return found
        found = _ZYGOTES[key] = Zygote(kb_path, vocabularies=vocabularies)
        while len(_ZYGOTES) > 2:
            _ZYGOTES.pop(next(iter(_ZYGOTES))).close()
        return found


def run_once(kb_path: Path | None, target: str, args: tuple, time_limit: float, memory_mb: int = MEMORY_MB):
    """One job in a fresh worker (the explorer console), forked from the KB's Zygote: run under the limits,
    stop. kb_path None: a worker that holds no knowledge base (the guard alone, before a query goes to an
    endpoint)."""
    worker = Worker(zygote_for(kb_path), memory_mb)
    try:
        return worker.call(target, args, time_limit)
    finally:
        worker.close()


class WorkerPool:
    """A fixed number of workers forked from one Zygote (one load of the KB); each call borrows one, and a
    killed worker is replaced by a fresh fork, so the pool keeps answering after a query runs past its
    limit. If the Zygote itself is gone (the system killed it), a new one loads in the background."""

    def __init__(
        self,
        kb_path: Path,
        size: int,
        time_limit: float,
        queue_wait: float,
        memory_mb: int = MEMORY_MB,
        vocabularies: bool = True,
        load_seconds: float | None = None,
    ):
        self.kb_path, self.size, self.time_limit, self.queue_wait = Path(kb_path), size, time_limit, queue_wait
        self.memory_mb, self.vocabularies, self.load_seconds = memory_mb, vocabularies, load_seconds
        self._idle: queue.Queue[Worker] = queue.Queue()
        self._all: set[Worker] = set()
        self._lock, self._reload_lock = threading.Lock(), threading.Lock()
        self._closed = False
        # fails loudly (missing or unreadable KB, load limit) before serving anything
        self.zygote = Zygote(self.kb_path, load_seconds, vocabularies)
        for _ in range(size):
            self._adopt(Worker(self.zygote, memory_mb))

    def _adopt(self, worker: Worker) -> None:
        with self._lock:
            if self._closed:
                worker.close()
                return
            self._all.add(worker)
        self._idle.put(worker)

    def _replace(self) -> None:
        try:
            self._adopt(Worker(self.zygote, self.memory_mb))
            return
        except QueryFailed:
            pass

        def reload() -> None:  # the Zygote is gone: load the KB again, then fork the missing worker
            for attempt in range(5):
                if self._closed:
                    return
                try:
                    with self._reload_lock:  # one reload at a time, however many workers died
                        if not self.zygote.alive:
                            self.zygote = Zygote(self.kb_path, self.load_seconds, self.vocabularies)
                    self._adopt(Worker(self.zygote, self.memory_mb))
                    return
                except QueryFailed:
                    time.sleep(1 + attempt)

        threading.Thread(target=reload, name="oligokb-worker-start", daemon=True).start()

    def call(self, target: str, args: tuple):
        try:
            worker = self._idle.get(timeout=self.queue_wait)
        except queue.Empty:
            raise Busy(f"every query worker stayed busy for {self.queue_wait:g} s; try again shortly") from None
        try:
            return worker.call(target, args, self.time_limit)
        finally:
            if worker.alive:
                self._idle.put(worker)
            else:
                with self._lock:
                    self._all.discard(worker)
                self._replace()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            workers = list(self._all)
        for worker in workers:
            worker.kill()
        self.zygote.close()
