"""Safe loading of hand-edited YAML sheets.

- Numbers stay strings: "0.70" keeps its published lexical form (YAML would make it the float 0.7), and
  the schema parses it into a Decimal that remembers the trailing zero.
- Anchors and aliases are refused (a "billion laughs" sheet cannot expand), duplicate keys are refused
  (YAML would keep the last silently), files over MAX_SHEET_BYTES are refused before parsing, and bytes
  that are not UTF-8 are reported with their offset.
- Every mapping key remembers its line, so schema errors can name the line of the field.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from terms.errors import InputError, Problem

MAX_SHEET_BYTES = 1_000_000  # far above any real extraction sheet (the largest is ~40 kB)


class _SheetLoader(yaml.SafeLoader):
    """SafeLoader without implicit int/float resolution, anchors, aliases or duplicate keys."""


# Keep only the implicit resolvers for bool and null: ints and floats stay strings.
_SheetLoader.yaml_implicit_resolvers = {
    first: [
        (tag, rx)
        for tag, rx in resolvers
        if tag not in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:timestamp")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class LineDict(dict):
    """A dict that remembers the line (1-based) of each key."""

    lines: dict[str, int]


def _compose_node(self, parent, index):
    event = self.peek_event()
    if isinstance(event, yaml.AliasEvent):
        raise yaml.constructor.ConstructorError(
            None, None, "YAML aliases (*name) are not allowed in sheets; write the value out", event.start_mark
        )
    if getattr(event, "anchor", None):
        raise yaml.constructor.ConstructorError(
            None, None, "YAML anchors (&name) are not allowed in sheets; write the value out", event.start_mark
        )
    return yaml.SafeLoader.compose_node(self, parent, index)


def _construct_mapping(loader, node, deep=False):
    loader.flatten_mapping(node)
    result = LineDict()
    result.lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            key = str(key)
        if key in result:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (YAML would silently keep the last one)", key_node.start_mark
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.lines[key] = key_node.start_mark.line + 1
    return result


_SheetLoader.compose_node = _compose_node  # type: ignore[method-assign]
_SheetLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


class _FastSheetLoader(getattr(yaml, "CSafeLoader", _SheetLoader)):  # type: ignore[misc]
    """The same rules on libyaml's C parser (faster: docs/performance.md), for sheets with no '&' or '*' at all:
    without those characters a document can hold no anchor and no alias. Anything else, and every
    error, goes through _SheetLoader so the messages stay the same."""


_FastSheetLoader.yaml_implicit_resolvers = _SheetLoader.yaml_implicit_resolvers
_FastSheetLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)

_STR = yaml.resolver.BaseResolver.DEFAULT_SCALAR_TAG
_MAP = yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG
_SEQ = yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG
_NULL, _BOOL = "tag:yaml.org,2002:null", "tag:yaml.org,2002:bool"
_BOOL_VALUES = yaml.constructor.SafeConstructor.bool_values
_ScalarNode, _MappingNode, _SequenceNode = yaml.ScalarNode, yaml.MappingNode, yaml.SequenceNode


def _resolve_scalar_first(self, kind, value, implicit):
    """Resolver.resolve for scalars without its per-call overhead (libyaml calls it for every scalar):
    the same implicit resolvers, looked up by first character; there are no path resolvers."""
    if kind is _ScalarNode:
        if not implicit[0]:
            return _STR
        for tag, regexp in self.yaml_implicit_resolvers.get(value[0] if value else "", ()):
            if regexp.match(value):
                return tag
        return _STR
    return yaml.resolver.BaseResolver.resolve(self, kind, value, implicit)


_FastSheetLoader.resolve = _resolve_scalar_first


class _Unusual(Exception):
    """A node the direct construction does not handle (a tag, merge key or complex key): use the loader."""


def _construct_plain(node):
    """What _FastSheetLoader's constructors make of a node tree, built directly (about twice as fast):
    mappings (LineDict with lines), sequences, and str/null/bool scalars. Anything else raises _Unusual."""
    cls = node.__class__
    if cls is _ScalarNode:
        tag = node.tag
        if tag == _STR:
            return node.value
        if tag == _NULL:
            return None
        if tag == _BOOL:
            return _BOOL_VALUES[node.value.lower()]
        raise _Unusual
    if cls is _MappingNode and node.tag == _MAP:
        result = LineDict()
        lines = result.lines = {}
        for key_node, value_node in node.value:
            if key_node.__class__ is not _ScalarNode:
                raise _Unusual
            key = _construct_plain(key_node)
            if not isinstance(key, str):
                key = str(key)
            if key in result:
                raise _Unusual  # the loader reports the duplicate key, with its line
            result[key] = _construct_plain(value_node)
            lines[key] = key_node.start_mark.line + 1
        return result
    if cls is _SequenceNode and node.tag == _SEQ:
        return [_construct_plain(item) for item in node.value]
    raise _Unusual


def _load_fast(text: str) -> Any:
    """Parse with libyaml, construct directly; _Unusual or yaml.YAMLError when the full loader is needed."""
    loader = _FastSheetLoader(text)
    try:
        node = loader.get_single_node()
        return None if node is None else _construct_plain(node)
    finally:
        loader.dispose()


def load_sheet(path: Path, display: str | None = None) -> Any:
    """Parse one sheet, or raise InputError naming the file, the line and what to fix."""
    name = display or str(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(Problem(name, "", f"cannot read the file: {exc.strerror}")) from None
    if size > MAX_SHEET_BYTES:
        raise InputError(
            Problem(
                name,
                "",
                f"the file is {size:,} bytes; sheets are limited to {MAX_SHEET_BYTES:,}",
                "split it into one sheet per publication, or remove pasted full text",
            )
        )
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line: int | None = raw[: exc.start].count(b"\n") + 1
        raise InputError(
            Problem(
                name,
                "",
                f"byte {exc.start} ({raw[exc.start : exc.start + 1]!r}) is not UTF-8",
                "save the sheet as UTF-8 (quotes pasted from PDFs are often Latin-1 or Windows-1252)",
                line,
            )
        ) from None
    if "&" not in text and "*" not in text:
        try:
            return _load_fast(text)
        except (yaml.YAMLError, _Unusual):
            pass  # loaded (or reported, with its message and line) by _SheetLoader below
    try:
        return yaml.load(text, Loader=_SheetLoader)  # noqa: S506 - _SheetLoader is a SafeLoader subclass
    except yaml.YAMLError as exc:
        line, said, fix = syntax_problem(exc, text)
        raise InputError(Problem(name, "", f"not valid YAML: {said}", fix, line)) from None


def _line(mark: Any) -> int | None:
    return mark.line + 1 if mark is not None else None


_OPENING_QUOTE = re.compile(r"""(?:^|[:\[{,-])\s*(["'])""")


def _unclosed_quote(text: str, before: int) -> int | None:
    """The first line before line `before` that opens a quoted value and does not close it: YAML reads a
    quoted value on over the following lines, so the parser stops far from the missing quote mark."""
    for number, line in enumerate(text.splitlines()[: before - 1], 1):
        code = line.replace("\\\\", "").replace('\\"', "").replace("''", "")
        opening = _OPENING_QUOTE.search(code)
        if opening and code.count(opening[1], opening.start(1)) % 2:
            return number
    return None


def syntax_problem(exc: yaml.YAMLError, text: str = "") -> tuple[int | None, str, str]:
    """PyYAML's error -> (the line where the problem is, what is wrong in plain words, how to fix it).
    The line is where the mistake was made (an unclosed quote: where it opened), not where the parser
    gave up; an error this does not recognise keeps PyYAML's own words."""
    problem = str(getattr(exc, "problem", None) or exc)
    context = str(getattr(exc, "context", None) or "")
    at, opened = _line(getattr(exc, "problem_mark", None)), _line(getattr(exc, "context_mark", None))
    at = at or opened
    quote = _unclosed_quote(text, at) if at and "'\\t'" not in problem else None
    if quote is not None:
        opened, context = quote, "quoted scalar"
    if "'\\t'" in problem:
        return at, f"line {at} has a tab character; YAML indents with spaces", "replace the tab with spaces"
    if "quoted scalar" in context:
        return (
            opened,
            f"the quote opened on line {opened} is not closed on that line",
            'close it with the same quote mark; write a quote mark inside "..." as \\" (or use \'...\')',
        )
    if "flow sequence" in context or "flow mapping" in context:
        bracket = "[ ... ]" if "sequence" in context else "{ ... }"
        return (
            opened,
            f"the {bracket} opened on line {opened} is not closed before line {at}",
            f"close it on line {opened}, or separate its items with commas",
        )
    if "mapping values are not allowed" in problem:
        return (
            at,
            f"line {at} has a second ': ' after a value, or is indented deeper than the field above it",
            'put a value that holds ": " in quotes, or indent the line like the fields of its block',
        )
    if "expected <block end>" in problem or "did not find expected" in problem:
        return (
            at,
            f"line {at} is indented differently from the lines of its block (which starts on line {opened})",
            "indent every field of a block by the same number of spaces, and every list item ('- ') alike",
        )
    if "cannot start any token" in problem:
        char = problem.split("'")[1] if "'" in problem else "this character"
        return at, f"a value on line {at} starts with {char!r}, which YAML reserves", "put the value in quotes"
    if "could not determine a constructor" in problem:
        return at, f"line {at} has a YAML tag (!...): {problem}", "remove the tag; sheets hold plain values"
    said = problem + (f" ({context})" if context else "")
    return at, said, "fix the YAML syntax at that line"


def line_of(data: Any, loc: tuple[Any, ...]) -> int | None:
    """The line of the deepest part of `loc` found in the loaded data: a key's own line, or for a list
    item (a statistic, a group) the line of its first field."""
    line = None
    node = data
    for part in loc:
        if isinstance(node, LineDict) and isinstance(part, str) and part in node:
            line = node.lines.get(part, line)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
            if isinstance(node, LineDict) and node.lines:
                line = min(node.lines.values())
        else:
            break
    return line
