"""The one guard in front of every SPARQL surface (CLI, library, explorer, endpoint).

Read-only and closed: updates are refused; SERVICE (anywhere: nested in OPTIONAL, UNION, MINUS,
subqueries, FILTER EXISTS, GRAPH) is refused before evaluation, because Oxigraph would otherwise call the
remote endpoint; FROM and FROM NAMED are refused (the dataset is the knowledge base).

The verdict is the parser's: the query is parsed by Oxigraph (the engine that evaluates it), so what the
SPARQL 1.1 grammar forbids is refused with Oxigraph's message. Parsing goes through `Store.query` on an
empty store: it never touches data, but Oxigraph evaluates some operators (ASK, ORDER BY) when the query
is prepared, so call check_query where evaluation is bounded (a server.limits worker) or where the query is
evaluated next anyway (the CLI).

SERVICE is found without letting Oxigraph prepare a query that holds one: every "service" in the text
(any case, anywhere) gets an "é" appended, which keeps it valid inside strings, IRIs, comments, variable
and prefixed names, and turns the keyword into a word the grammar has no place for. If that text
parses, the query has no SERVICE; if not, the query is refused, never prepared (a probe with GRAPH in
place of SERVICE only words the refusal). FROM is found the same way, after the query itself has
parsed. Oxigraph reads \\u escapes only inside strings and IRIs, so an escaped keyword (SERVIC\\u0045)
does not parse either way; its keywords are ASCII, matched in any case, as the marking is.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import pyoxigraph as ox

from terms.errors import QueryRefused

FORBIDDEN = {
    "ServiceGraphPattern": "SERVICE is refused: queries run on the bundled knowledge base only and make no outbound calls",
    "DatasetClause": "FROM and FROM NAMED are refused: the dataset is the bundled knowledge base; remove the FROM clause",
}
UPDATE_REFUSED = (
    "SPARQL Update (INSERT, DELETE, LOAD, CLEAR, DROP, CREATE, ...) is refused: the knowledge base is read-only"
)
MAX_QUERY_CHARS = 100_000
FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
UPDATE_KEYWORDS = ("INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH")
_WORD = re.compile(r"[A-Za-z]+")
_MARK = "\u00e9"  # é: a name character (PN_CHARS_BASE), allowed in IRIs and strings, never a keyword's


@dataclass(frozen=True)
class CheckedQuery:
    text: str
    form: str  # "SELECT" | "ASK" | "CONSTRUCT" | "DESCRIBE"


# The patterns below are compiled at their first use, not at import: every command that reads the knowledge
# base imports this module (through kb.query), and compiling them held up each start-up (docs/performance.md).
@cache
def _prologue() -> re.Pattern[str]:
    return re.compile(
        r"(?:[ \t\r\n]+|#[^\r\n]*|BASE[ \t\r\n]*<[^>]*>|PREFIX[ \t\r\n]*[^ \t\r\n:]*:[ \t\r\n]*<[^>]*>)", re.IGNORECASE
    )


def _after_prologue(text: str) -> int:
    position = 0
    prologue = _prologue()
    while True:
        match = prologue.match(text, position)
        if match is None or match.end() == position:
            return position
        position = match.end()


def first_keyword(text: str) -> str:
    """The first word after the prologue (BASE, PREFIX, comments), upper-cased; "" if there is none."""
    word = _WORD.match(text, _after_prologue(text))
    return word.group(0).upper() if word else ""


def is_update(text: str) -> bool:
    return first_keyword(text) in UPDATE_KEYWORDS


_EMPTY: ox.Store | None = None
MAX_UNKNOWN_FUNCTIONS = 64


QueryAnswer = ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples


@cache
def _unknown_function() -> re.Pattern[str]:
    return re.compile(r"The custom function <([^>]*)> is not supported")


def _unbound(*_args: object) -> None:
    return None


def prepare(store: ox.Store, text: str) -> QueryAnswer:
    """store.query(text), with every extension function Oxigraph does not know evaluated as SPARQL says
    an unknown function is: an error, so the expression is unbound (Oxigraph would refuse the query).
    Raises SyntaxError when the text does not parse."""
    functions: dict[ox.NamedNode, Callable[..., ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple | None]] = {}
    while True:
        try:
            return store.query(text, custom_functions=functions or None)
        except SyntaxError:
            raise
        except RuntimeError as exc:
            unknown = _unknown_function().search(str(exc))
            if unknown is None or len(functions) >= MAX_UNKNOWN_FUNCTIONS:
                raise
            functions[ox.NamedNode(unknown.group(1))] = _unbound
        except (UnicodeError, ValueError, TypeError) as exc:  # e.g. a lone surrogate the text cannot carry
            raise SyntaxError(f"the text cannot be read: {exc}") from None


def _prepare(text: str) -> QueryAnswer:
    """Oxigraph's parse of `text` against an empty store: the prepared result, or SyntaxError."""
    global _EMPTY
    if _EMPTY is None:
        _EMPTY = ox.Store()
    return prepare(_EMPTY, text)


def _marked(text: str, word: str) -> str:
    """`text` with _MARK after every `word` (any case)."""
    return re.sub(re.escape(word), lambda match: match.group(0) + _MARK, text, flags=re.IGNORECASE)


@cache
def _service_word() -> re.Pattern[str]:
    return re.compile(
        r"(?<![\w:?$\u00b7\u00c0-\U000effff])SERVICE(?:[ \t\r\n]+SILENT)?(?![\w:\-\u00b7\u00c0-\U000effff])",
        re.IGNORECASE,
    )


def _service_verdict(text: str) -> str:
    """The refusal for a query whose text has a SERVICE keyword or does not parse: SERVICE's message when
    the query parses with GRAPH in place of each SERVICE [SILENT] word (GRAPH takes the same IRI or
    variable and group; the probe reaches no endpoint), the parser's message otherwise."""
    try:  # any "service" the substitution left (a keyword it missed too) is marked: the probe has none
        _prepare(_marked(_service_word().sub("GRAPH", text), "service"))
    except SyntaxError as error:
        return _message(error) + " (a SERVICE would be refused too)"
    return FORBIDDEN["ServiceGraphPattern"]


def _message(error: SyntaxError) -> str:
    return f"the query does not parse: {str(error).strip()}"


def check_query(text: str) -> CheckedQuery:
    """Parse and vet a query; raise QueryRefused with a message that says what to change. Never raises
    anything else for any input text."""
    if not isinstance(text, str):
        raise QueryRefused("the query must be text")
    if len(text) > MAX_QUERY_CHARS:
        raise QueryRefused(f"the query is {len(text):,} characters; the limit is {MAX_QUERY_CHARS:,}")
    if not text.strip():
        raise QueryRefused("the query is empty")
    keyword = first_keyword(text)
    if keyword in UPDATE_KEYWORDS:
        raise QueryRefused(UPDATE_REFUSED)
    if not text[_after_prologue(text) :].strip():
        raise QueryRefused(
            "there is no SELECT, ASK, CONSTRUCT or DESCRIBE after the prologue (an empty SPARQL Update, "
            "and updates are refused: the knowledge base is read-only)"
        )
    try:
        if "service" in text.lower():
            try:
                _prepare(_marked(text, "service"))
            except SyntaxError:  # never prepare the query itself: it may call the endpoint
                raise QueryRefused(_service_verdict(text)) from None
        try:
            prepared = _prepare(text)
        except SyntaxError as error:
            raise QueryRefused(_message(error)) from None
        if "from" in text.lower():
            try:
                _prepare(_marked(text, "from"))
            except SyntaxError:
                raise QueryRefused(FORBIDDEN["DatasetClause"]) from None
    except QueryRefused:
        raise
    except Exception as exc:  # noqa: BLE001 - the guard never crashes: anything unexpected is a refusal
        raise QueryRefused(f"the query could not be checked: {type(exc).__name__}: {exc}") from None
    if keyword in FORMS:
        form = keyword
    elif isinstance(prepared, ox.QueryBoolean):
        form = "ASK"
    elif isinstance(prepared, ox.QueryTriples):
        form = "CONSTRUCT"
    else:
        form = "SELECT"
    return CheckedQuery(text=text, form=form)
