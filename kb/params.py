"""`--param key=value` items (named queries, the export's filters) read into a dict."""

from __future__ import annotations

from terms.errors import OligokbError


class ParamError(OligokbError, ValueError):
    """An item that is not key=value (exit 2); the message names it."""

    exit_code = 2


def parse_params(items: list[str]) -> dict[str, str]:
    """--param key=value (repeatable) -> a dict; ParamError naming the item that is not key=value."""
    params = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ParamError(f"--param {item!r}: write key=value, e.g. histology=nsclc")
        params[key.strip()] = value.strip()
    return params
