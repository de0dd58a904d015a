"""The page a figure was read in, as the sheets write it (the tier rule itself is terms.tiers)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field, field_validator

from terms.tiers import HTTP_URL, PageKind


class ReadIn(BaseModel):
    """The page a figure was read in when it was not read in the report itself."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    url: str = Field(max_length=1000, description="the page's address (http or https)")
    site: str = Field(min_length=2, max_length=200, description="e.g. UroToday, ASCO Post, ESMO news")
    title: str = Field(min_length=3, max_length=500, description="the page's title as shown")
    date_read: dt.date = Field(description="the date the page was read (YYYY-MM-DD)")
    page_kind: PageKind = "coverage page"

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        return check_url(value)


def check_url(value: str) -> str:
    if not HTTP_URL.match(value):
        raise ValueError(
            f"{value!r} is not an http(s) URL; write the page's address, like https://www.example.org/page"
        )
    return value
