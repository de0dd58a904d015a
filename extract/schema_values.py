"""The value types and value checks of the extraction sheets' schema (used by extract.schema).

What one field may hold, apart from the models that hold it: slugs and the forms of identifiers (DOI,
PMID, seed document, NCT); published numbers, which arrive as strings and become Decimals keeping the
lexical form (a French decimal comma too), and p-values as printed; the vocabulary-checked term types
(outcome, statistic, histology, ...); and the checks that a quote holds a number as printed, in digits
or in words (`quote_contains`, `words_number`). extract.schema builds the sheet models on them and
re-exports every public name here, so callers keep importing from extract.schema.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Annotated

from pydantic import BeforeValidator, Field

from terms.errors import UnknownTermError
from terms.vocabulary import resolve

SLUG = r"^[a-z0-9][a-z0-9-]*[a-z0-9]$|^[a-z0-9]$"
DOI_RE = re.compile(r"^10\.\d{4,9}/\S+$")
PMID_RE = re.compile(r"^\d{1,9}$")
# A seed document's own identifier: the stem of its file in ../shared/seeds/ ("001_288005adcd70e9e4").
SEED_DOCUMENT_RE = re.compile(r"^\d{3}_[0-9a-f]{16}$")
NCT_RE = re.compile(r"^NCT\d{8}$")
# Each publication identifier's form and how to write it (Citation's doi, pmid and seed_document).
IDENTIFIER_FORMS = {
    "doi": (DOI_RE, "is not a DOI; write it bare, like 10.3857/roj.2017.00024 (no https://doi.org/)"),
    "pmid": (PMID_RE, "is not a PMID (digits only)"),
    "seed_document": (
        SEED_DOCUMENT_RE,
        "is not a seed document identifier; write the seed file's stem, like 001_288005adcd70e9e4",
    ),
}
NOT_REACHED = {"NR", "not reached"}
_DECIMAL_COMMA = re.compile(r"-?\d+,\d+")


def _published_decimal(value: object) -> object:
    """'0.70' -> Decimal('0.70'); the French decimal comma '0,57' is accepted as 0.57."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return Decimal(str(value))
    if isinstance(value, str):
        text = value.strip().replace(",", ".") if _DECIMAL_COMMA.fullmatch(value.strip()) else value.strip()
        try:
            return Decimal(text)
        except InvalidOperation:
            raise ValueError(f"{value!r} is not a number; write it as printed, e.g. 0.57 or 12.5") from None
    return value


PublishedNumber = Annotated[Decimal, BeforeValidator(_published_decimal)]


@lru_cache(maxsize=8192)  # only known terms are cached (an unknown one raises): a large build asks per figure
def _check_term(scheme: str, value: str) -> None:
    try:
        resolve(scheme, value)
    except UnknownTermError as exc:
        raise ValueError(str(exc)) from None


def _term_validator(scheme: str):
    def check(value: object) -> object:
        if isinstance(value, str):
            _check_term(scheme, value)
        return value

    return BeforeValidator(check)


Outcome = Annotated[str, _term_validator("outcome")]
StatisticType = Annotated[str, _term_validator("statistic")]
Histology = Annotated[str, _term_validator("histology")]
OligoState = Annotated[str, _term_validator("oligo_state")]
Design = Annotated[str, _term_validator("design")]
TimeOrigin = Annotated[str, _term_validator("time_origin")]
Treatment = Annotated[str, _term_validator("treatment")]
UnitOfAnalysis = Annotated[str, _term_validator("unit_of_analysis")]
Estimator = Annotated[str, _term_validator("estimator")]
Unit = Annotated[str, _term_validator("unit")]
Slug = Annotated[str, Field(pattern=SLUG, max_length=80)]


def normalise_ws(text: str) -> str:
    return " ".join(text.split())


def quote_contains(quote: str, lexical: str) -> bool:
    """Does the quote contain the number as printed (also with a French decimal comma)?

    Matched as a whole number: "8" is not found inside "18" or "0.8"; "0.155" also matches ".155".
    """
    quote = normalise_ws(quote)
    forms = {lexical, lexical.replace(".", ",")}
    if lexical.startswith("0."):  # p-values are often printed without the leading zero: ".155"
        forms |= {lexical[1:], lexical[1:].replace(".", ",")}
    for form in forms:
        # str.find rather than a regex per number: the patterns would not stay in re's cache at scale.
        start = quote.find(form)
        while start != -1:
            end = start + len(form)
            before_ok = start == 0 or quote[start - 1] not in _NUMBER_CHARS
            after = quote[end : end + 2]
            after_ok = not after or not (after[0].isdigit() or (after[0] in ".," and after[1:2].isdigit()))
            if before_ok and after_ok:
                return True
            start = quote.find(form, start + 1)
    return False


_NUMBER_CHARS = frozenset("0123456789.,")
WORD_NUMBER_LANGUAGES = ("en", "fr")  # the languages of the sources: English papers, French reviews


def words_number(words: str) -> int | None:
    """The whole number that words spell ("Eighteen", "one hundred and sixty-five", "trois"), else None."""
    from text_to_num import text2num  # imported here: only sheets with a number in words need it

    for language in WORD_NUMBER_LANGUAGES:
        try:
            return text2num(normalise_ws(words).lower(), language)
        except ValueError:
            continue
    return None


def p_value_number(text: str) -> Decimal | None:
    """The p-value as a number when printed exactly ('0.007', '0,03'), else None ('<0.001', 'NS')."""
    try:
        return _published_decimal(text)  # type: ignore[return-value]
    except ValueError:
        return None
